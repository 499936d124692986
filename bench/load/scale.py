"""Scale runs: a thousand consumer legs, ten thousand WebRtcTransports.

Two runs, each on our worker and then on mediasoup 3.8.4's (when built),
in one command:

- legs: 50 producers x 20 consumers = 1,000 consumer legs, every producer
  and every consumer on a PlainTransport of its own (the fan-out of
  fanout.py, several producers at once). Half the producers send
  Opus-shaped audio (50 packets/s of 120 bytes, one 20 ms frame each), half
  VP8-shaped video (100 packets/s of 1,100 bytes at 30 frames/s, about
  0.9 Mbit/s, a key frame every second); the audio and video producers
  alternate. Reports the worker's CPU (% of one core and us per forwarded
  packet, by the worker's own count), its RSS (total, and what the router
  and its 1,000 legs added, per leg) and the loss in the consumers'
  sequences, as fanout.py measures them.
- transports: 10,000 WebRtcTransports (UDP only, enableTcp false: each
  holds one UDP port of the worker's --rtcMinPort..--rtcMaxPort range,
  10000-59999 here) created one request at a time and held, then closed;
  then churn, 10 waves of 1,000 created and closed. Reports the request
  round trips (median, p99) and throughput of create and close, the
  worker's CPU per create, the RSS each live transport adds (RSS with all
  of them alive minus the RSS before, divided), and the RSS and open fds
  before and after the churn. Round trips include this script's own
  request handling (a few tens of us), the same for both workers.

    /usr/bin/python3 bench/load/scale.py                    # both runs
    /usr/bin/python3 bench/load/scale.py --only transports --json out.json
    /usr/bin/python3 bench/load/scale.py --quick            # 4 x 5 legs, 500 transports

It is a measurement, not a test: it prints the figures and exits 0 unless
the setup itself fails (a worker refusing a request, a transport left open
after its close). Python 3 standard library only.
"""

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time

import fanout
from fanout import Stream, WorkerProcess, process_cpu_seconds, process_rss_mb, worker_bin
from webrtc_util import webrtc_transport_options

# Ids of the transports run.
ROUTER = {"routerId": "scale-router"}

QUICK = {"producers": 4, "consumers": 5, "duration": 2.0, "warmup": 1.0, "transports": 500,
         "wave": 100, "waves": 3}


# --------------------------------------------------------------------------
# 1,000 consumer legs
# --------------------------------------------------------------------------

def legs_layout(args):
    """The producers (audio at even indices, video at odd ones), each with
    args.consumers consumers."""
    layout = []
    for i in range(args.producers):
        if i % 2 == 0:
            stream = Stream("audio", args.audio_rate, args.audio_size, index=i)
        else:
            stream = Stream("video", args.video_rate, args.video_size, args.fps, index=i)
        layout.append((stream, args.consumers))
    return layout


LEGS_COLUMNS = (
    ("worker", "label", "%s"),
    ("legs", "n", "%d"),
    ("in pps", "in_pps", "%.0f"),
    ("out pps", "out_pps", "%.0f"),
    ("loss %", "loss_pct", "%.2f"),
    ("CPU %", "worker_cpu_pct", "%.1f"),
    ("us CPU/pkt out", "us_per_pkt", "%.3f"),
    ("runq wait %", "worker_wait_pct", "%.1f"),
    ("RSS MB", "rss_mb", "%.1f"),
    ("RSS at start MB", "rss_start_mb", "%.1f"),
    ("KB per leg", "rss_per_leg_kb", "%.1f"),
    ("before media", "rss_per_idle_leg_kb", "%.1f"),
    ("host busy %", "host_busy_pct", "%.0f"),
)


def run_legs(args, systems, ctx):
    layout = legs_layout(args)
    n = sum(count for _, count in layout)
    audio = [s for s, _ in layout if not s.video]
    video = [s for s, _ in layout if s.video]
    print("legs: %d producers x %d consumers = %d consumer legs on PlainTransports; %d audio "
          "producers (%d pps x %d B), %d video (%d pps x %d B, %d fps); in %d pps, %.1f Mbit/s; "
          "out %d pps expected; %.0f s measured after a %.0f s warm-up, %d run(s) each"
          % (len(layout), args.consumers, n, len(audio), args.audio_rate, args.audio_size,
             len(video), args.video_rate, args.video_size, args.fps,
             sum(s.rate for s, _ in layout), sum(s.mbps() for s, _ in layout),
             sum(s.rate * c for s, c in layout), args.duration, args.warmup, args.repeat))
    rows = []
    for _ in range(args.repeat):
        for label, path in systems:
            row = fanout.measure_layout(layout, args, ctx, (label, "worker", path))
            row["rss_per_leg_kb"] = 1024.0 * (row["rss_mb"] - row["rss_start_mb"]) / n
            row["rss_per_idle_leg_kb"] = 1024.0 * (row["rss_created_mb"] - row["rss_start_mb"]) / n
            print("  %-10s in %5.0f pps  out %6.0f pps (loss %5.2f%%)  CPU %5.1f%% "
                  "(runq wait %4.1f%%)  %6.3f us/pkt  RSS %5.1f MB (%.1f at start, %.1f KB "
                  "per leg; %.1f KB before any media)  host busy %.0f%%  load avg %.2f%s"
                  % (label, row["in_pps"], row["out_pps"], row["loss_pct"],
                     row["worker_cpu_pct"], row["worker_wait_pct"], row["us_per_pkt"],
                     row["rss_mb"], row["rss_start_mb"], row["rss_per_leg_kb"],
                     row["rss_per_idle_leg_kb"],
                     row["host_busy_pct"], row["loadavg"],
                     "" if row["exit_code"] in (0, None) else "  exit code %s"
                     % row["exit_code"]))
            for note in fanout.diagnose(row):
                print("    limit: %s" % note)
            for text in row["worker_logs"][:5]:
                print("    worker log: %s" % text.strip())
            sys.stdout.flush()
            rows.append(row)
    fanout.print_table("Consumer legs (CPU: the worker, utime + stime, % of one core; us per "
                       "packet the worker sent; KB per leg: (RSS - RSS at start) / legs, at the "
                       "end of the window and once the legs were created, before any media)",
                       LEGS_COLUMNS, rows)
    return {"settings": {"producers": args.producers, "consumers": args.consumers,
                         "audio": {"rate": args.audio_rate, "size": args.audio_size},
                         "video": {"rate": args.video_rate, "size": args.video_size,
                                   "fps": args.fps},
                         "duration": args.duration, "warmup": args.warmup},
            "runs": rows}


# --------------------------------------------------------------------------
# 10,000 WebRtcTransports
# --------------------------------------------------------------------------

def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class TransportChurn:
    """One worker with one router, creating and closing WebRtcTransports
    one request at a time and timing every round trip."""

    def __init__(self, path, args):
        os.environ["SFU_WORKER_BIN"] = path
        self.worker = WorkerProcess(["--logLevel=warn", "--rtcMinPort=%d" % args.rtc_min_port,
                                     "--rtcMaxPort=%d" % args.rtc_max_port])
        self.pid = int(self.worker.wait_running()["targetId"])
        if args.nice:
            os.setpriority(os.PRIO_PROCESS, self.pid, args.nice)
        self.worker.request_ok("worker.createRouter", ROUTER)
        self.options = webrtc_transport_options(enable_udp=True, enable_tcp=False)
        self.next_id = 0
        self.created = 0
        self.closed = 0

    def create(self, count):
        """Creates `count` transports; returns their internals and the round
        trips in seconds."""
        internals, times = [], []
        for _ in range(count):
            internal = dict(ROUTER, transportId="scale-transport-%d" % self.next_id)
            self.next_id += 1
            start = time.perf_counter()
            self.worker.request_ok("router.createWebRtcTransport", internal, self.options)
            times.append(time.perf_counter() - start)
            internals.append(internal)
            self.created += 1
        return internals, times

    def close(self, internals):
        times = []
        for internal in internals:
            start = time.perf_counter()
            self.worker.request_ok("transport.close", internal)
            times.append(time.perf_counter() - start)
            self.closed += 1
        return times

    def live_transports(self):
        return len(self.worker.request_ok("router.dump", ROUTER)["transportIds"])

    def snapshot(self):
        return {"rss_mb": process_rss_mb(self.pid), "fds": open_fds(self.pid),
                "cpu": process_cpu_seconds(self.pid), "time": time.monotonic()}

    def stop(self):
        return self.worker.close()


def round_trips(times):
    """Median, p99 and max in ms of a list of round trips in seconds."""
    ordered = sorted(times)
    return {"median_ms": 1e3 * statistics.median(ordered),
            "p99_ms": 1e3 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max_ms": 1e3 * ordered[-1]}


def phase(times, a, b):
    """Figures of one create or close phase between snapshots a and b."""
    wall = b["time"] - a["time"]
    return dict(round_trips(times), count=len(times), seconds=wall,
                per_second=len(times) / wall,
                worker_us_cpu_each=1e6 * (b["cpu"] - a["cpu"]) / len(times))


def measure_transports(label, path, args):
    churn = TransportChurn(path, args)
    try:
        base = churn.snapshot()
        internals, create_times = churn.create(args.transports)
        alive = churn.snapshot()
        live = churn.live_transports()
        close_times = churn.close(internals)
        closed = churn.snapshot()
        live_after_close = churn.live_transports()
        before_churn = closed
        wave_rss = []
        for _ in range(args.waves):
            internals, _ = churn.create(args.wave)
            churn.close(internals)
            wave_rss.append(process_rss_mb(churn.pid))
        after_churn = churn.snapshot()
        live_after_churn = churn.live_transports()
    finally:
        exit_code = churn.stop()
    return {
        "label": label,
        "transports": args.transports,
        "created": churn.created,
        "closed": churn.closed,
        "live_at_peak": live,
        "live_after_close": live_after_close,
        "live_after_churn": live_after_churn,
        "create": phase(create_times, base, alive),
        "close": phase(close_times, alive, closed),
        "rss_base_mb": base["rss_mb"],
        "rss_alive_mb": alive["rss_mb"],
        "rss_per_transport_kb": 1024.0 * (alive["rss_mb"] - base["rss_mb"]) / args.transports,
        "rss_after_close_mb": closed["rss_mb"],
        "rss_before_churn_mb": before_churn["rss_mb"],
        "rss_after_churn_mb": after_churn["rss_mb"],
        "rss_churn_growth_mb": after_churn["rss_mb"] - before_churn["rss_mb"],
        "rss_per_wave_mb": wave_rss,
        "fds_base": base["fds"],
        "fds_alive": alive["fds"],
        "fds_after_churn": after_churn["fds"],
        "waves": args.waves,
        "wave": args.wave,
        "exit_code": exit_code,
        "loadavg": os.getloadavg()[0],
    }


def print_transports(row):
    c, d = row["create"], row["close"]
    print("  %s: %d created, %d closed (live at the peak %d, after closing %d, after the churn "
          "%d); worker exit code %s"
          % (row["label"], row["created"], row["closed"], row["live_at_peak"],
             row["live_after_close"], row["live_after_churn"], row["exit_code"]))
    for name, p in (("create", c), ("close", d)):
        print("    %-6s %5d in %5.2f s (%5.0f/s): round trip median %.3f ms, p99 %.3f ms, max "
              "%.1f ms; worker CPU %.1f us each"
              % (name, p["count"], p["seconds"], p["per_second"], p["median_ms"], p["p99_ms"],
                 p["max_ms"], p["worker_us_cpu_each"]))
    print("    RSS %.1f MB before, %.1f MB with %d alive (%.1f KB per transport), %.1f MB after "
          "closing them; open fds %d before, %d alive"
          % (row["rss_base_mb"], row["rss_alive_mb"], row["transports"],
             row["rss_per_transport_kb"], row["rss_after_close_mb"], row["fds_base"],
             row["fds_alive"]))
    print("    churn: %d waves of %d created and closed: RSS %.1f MB before, %.1f MB after "
          "(%+.2f MB; after each wave: %s); open fds after %d; load avg %.2f"
          % (row["waves"], row["wave"], row["rss_before_churn_mb"], row["rss_after_churn_mb"],
             row["rss_churn_growth_mb"], " ".join("%.1f" % v for v in row["rss_per_wave_mb"]),
             row["fds_after_churn"], row["loadavg"]))
    sys.stdout.flush()


def raise_fd_limit(needed):
    """Raises this process's open-file limit (the worker inherits it) to
    its hard limit; fails early if that cannot hold `needed` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit("the open-file limit (%d) cannot hold %d transports' sockets: raise "
                         "it (ulimit -Hn)" % (hard, needed))
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_transports(args, systems):
    ports = args.rtc_max_port - args.rtc_min_port + 1
    if max(args.transports, args.wave) > ports:
        raise SystemExit("%d transports need as many UDP ports; --rtcMinPort..--rtcMaxPort "
                         "holds %d" % (max(args.transports, args.wave), ports))
    raise_fd_limit(max(args.transports, args.wave) + 1024)
    print("transports: %d WebRtcTransports (UDP only, ports %d-%d) created one request at a "
          "time, held, closed; then %d waves of %d created and closed"
          % (args.transports, args.rtc_min_port, args.rtc_max_port, args.waves, args.wave))
    rows = []
    for label, path in systems:
        row = measure_transports(label, path, args)
        print_transports(row)
        rows.append(row)
        if row["created"] != row["closed"] or row["live_after_churn"] != 0:
            raise SystemExit("%s left transports open" % label)
    return {"settings": {"transports": args.transports, "wave": args.wave,
                         "waves": args.waves, "rtc_min_port": args.rtc_min_port,
                         "rtc_max_port": args.rtc_max_port},
            "runs": rows}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def systems_to_run(args):
    systems = [("ours", worker_bin())]
    reference = args.reference or fanout.REFERENCE_WORKER
    if not args.no_reference and os.path.exists(reference):
        systems.append(("reference", reference))
    elif not args.no_reference:
        print("reference worker %s not built: running without it (see "
              "tools/build-reference-worker.sh)" % reference)
    return systems


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("legs", "transports"), help="run only one of the two")
    p.add_argument("--quick", action="store_true",
                   help="a small run to check the set-up: %s" % ", ".join(
                       "%s %s" % item for item in QUICK.items()))
    p.add_argument("--producers", type=int, default=50)
    p.add_argument("--consumers", type=int, default=20, help="consumers per producer")
    p.add_argument("--audio-rate", type=int, default=50, help="audio packets/s per producer")
    p.add_argument("--audio-size", type=int, default=120, help="audio RTP packet bytes")
    p.add_argument("--video-rate", type=int, default=100, help="video packets/s per producer")
    p.add_argument("--video-size", type=int, default=1100, help="video RTP packet bytes")
    p.add_argument("--fps", type=int, default=30, help="video frames/s")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds (legs)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (legs)")
    p.add_argument("--repeat", type=int, default=1, help="legs runs per worker, alternating")
    p.add_argument("--receivers", type=int, default=2, help="receiver processes (legs)")
    p.add_argument("--nice", type=int, default=0,
                   help="nice value for the workers, and the sender and receivers of the "
                        "legs, e.g. -10 on a machine busy with other work (negative needs "
                        "root)")
    p.add_argument("--transports", type=int, default=10000,
                   help="WebRtcTransports alive at once")
    p.add_argument("--wave", type=int, default=1000, help="transports per churn wave")
    p.add_argument("--waves", type=int, default=10, help="churn waves")
    p.add_argument("--rtc-min-port", type=int, default=10000)
    p.add_argument("--rtc-max-port", type=int, default=59999)
    p.add_argument("--reference", default="",
                   help="mediasoup 3.8.4's worker (default: %s)" % fanout.REFERENCE_WORKER)
    p.add_argument("--no-reference", action="store_true", help="run without the reference")
    p.add_argument("--json", default="", metavar="FILE", help="also write the figures to FILE")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    # What fanout.measure_layout reads besides.
    args.single_receiver_pps = 0
    if min(args.audio_rate, args.video_rate) < 1 or args.video_rate < args.fps:
        p.error("need rates >= 1 and video rate >= fps")
    if min(args.producers, args.consumers, args.transports, args.wave) < 1:
        p.error("need at least one producer, consumer and transport")
    return args


def main(argv):
    args = parse_args(argv)
    systems = systems_to_run(args)
    print("workers: %s; load average at start %.2f %.2f %.2f"
          % (", ".join("%s=%s" % system for system in systems), *os.getloadavg()))
    document = {"systems": [{"label": label, "path": path} for label, path in systems],
                "loadavg_start": os.getloadavg(), "quick": args.quick}
    if args.only in (None, "legs"):
        # "spawn": the children must not inherit the harness's reader threads.
        document["legs"] = run_legs(args, systems, multiprocessing.get_context("spawn"))
        print()
    if args.only in (None, "transports"):
        document["transports"] = run_transports(args, systems)
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    if args.json:
        fanout.write_json(args.json, document)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
