"""Draws a fan-out comparison saved by `fanout.py --compare --json FILE`.

One panel per figure, loads along the x axis (consumers x input packets/s,
with the packets/s the consumers should receive), one bar per forwarder at
each load (ours, any other worker, the reference, the floor), the median of
the runs with their spread as an error bar:

- the forwarder's CPU per packet it sent, in us;
- the loss in the consumers' sequences, in %, input loss included;
- how long the forwarder waited runnable for a CPU, in % of the window:
  high where other work on the host starved it, which makes the two
  panels before it measure the host more than the forwarder.

    /usr/bin/python3 bench/load/chart.py bench/load/results/fanout.json   # writes fanout.png
    /usr/bin/python3 bench/load/chart.py results.json -o chart.png

Needs matplotlib (Debian: apt-get install -y python3-matplotlib).
"""

import argparse
import json
import os
import sys

PANELS = (
    ("us_per_pkt", "CPU per forwarded packet (us)"),
    ("loss_pct", "loss in the consumers' sequences (%)"),
    ("worker_wait_pct", "runnable, waiting for a CPU (% of the window)"),
)
COLOURS = {"ours": "#1f77b4", "reference": "#ff7f0e", "floor": "#7f7f7f"}
OTHER_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def load_pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("chart.py needs matplotlib: apt-get install -y python3-matplotlib "
                         "(Debian), or pip install matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def load_label(load):
    n, rate = (int(v) for v in load.split("x"))
    return "%d x %s pps\n(%s pps out)" % (n, format(rate, ","), format(n * rate, ","))


def spread(results, load, label, key):
    """(min, max) of a figure over the runs of one forwarder at one load."""
    values = [r[key] for r in results["runs"]
              if r["label"] == label and "%dx%d" % (r["n"], r["rate"]) == load]
    return (min(values), max(values)) if values else (0.0, 0.0)


def draw(results, out):
    plt = load_pyplot()
    loads = results["settings"]["loads"]
    labels = [s["label"] for s in results["systems"]]
    medians = {(m["load"], m["label"]): m for m in results["medians"]}
    colours = dict(COLOURS)
    for label in labels:
        if label not in colours:
            colours[label] = OTHER_COLOURS[len(colours) % len(OTHER_COLOURS)]

    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.2 * len(PANELS), 4.6))
    width = 0.8 / len(labels)
    for ax, (key, title) in zip(axes, PANELS):
        for i, label in enumerate(labels):
            xs, heights, low, high = [], [], [], []
            for j, load in enumerate(loads):
                m = medians.get((load, label))
                if m is None:
                    continue
                lo, hi = spread(results, load, label, key)
                xs.append(j + (i - (len(labels) - 1) / 2) * width)
                heights.append(m[key])
                low.append(max(0.0, m[key] - lo))
                high.append(max(0.0, hi - m[key]))
            ax.bar(xs, heights, width, label=label, color=colours[label],
                   yerr=[low, high] if results["settings"]["repeat"] > 1 else None, capsize=3)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(loads)))
        ax.set_xticklabels([load_label(load) for load in loads], fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[0].legend(fontsize=8)
    host = results.get("host", {})
    burst = results["settings"].get("burstMs", 0)
    fig.suptitle("Fan-out, one VP8 producer to N consumers%s: %d run(s) per bar, %s s each; "
                 "%s cores (%s); load average %.1f at start, %.1f at the end (%s)"
                 % (", sent in %d ms bursts" % burst if burst else "",
                    results["settings"]["repeat"], results["settings"]["duration"],
                    host.get("cores", "?"), host.get("cpu", "unknown CPU"),
                    results["loadavg_start"][0], results["loadavg_end"][0],
                    results.get("date", "")), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="JSON written by fanout.py --compare --json")
    p.add_argument("-o", "--output", default="",
                   help="PNG to write (default: the results file's name, .png)")
    args = p.parse_args(argv)
    with open(args.results) as f:
        results = json.load(f)
    out = args.output or os.path.splitext(args.results)[0] + ".png"
    draw(results, out)
    print("chart written to %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
