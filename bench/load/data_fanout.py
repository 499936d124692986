"""Data fan-out load run: one DataProducer forwarded to N DataConsumers over
SCTP on PlainTransports, our worker and mediasoup 3.8.4's side by side.

For each input rate and each worker binary the run spawns a fresh worker,
creates a router, one producer PlainTransport (comedia, enableSctp) with a
DataProducer (type sctp) and N consumer PlainTransports (comedia,
enableSctp), each with a DataConsumer of that DataProducer. SCTP peers
(build/sfu-sctp_peer: one sender process with one association, one
receiver process with N associations, SCTP over UDP with ports 5000/5000)
connect to them; after a warm-up the sender's rate, the messages the
receivers get and the worker's CPU time and RSS are sampled around a
measured window. Workers alternate per rate (ours, then the reference) so
that noise on the machine hits both.

    /usr/bin/python3 bench/load/data_fanout.py --rates 1000 5000 20000
    /usr/bin/python3 bench/load/data_fanout.py --reference PATH --duration 8

The reference worker is --reference, else the cache of
/work/shared/tools/build-reference-worker.sh
(~/.cache/mediasoup-3.8.4-worker/mediasoup-worker) when it exists; without
one only our worker runs. It is a measurement, not a test: it prints
tables and exits 0 unless the setup itself fails. Python 3 standard library
only.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import harness  # noqa: E402

LOCALHOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_REFERENCE = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
    "mediasoup-3.8.4-worker", "mediasoup-worker")
PPID_BINARY = 53


# --------------------------------------------------------------------------
# SCTP peers (build/sfu-sctp_peer)
# --------------------------------------------------------------------------

class PeerProcess:
    """One sfu-sctp_peer process, driven by one-line commands on its stdin,
    each answered with one JSON line of counters."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen([binary] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self._stderr = []
        self._thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._thread.start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def ask(self, command="snap"):
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            raise RuntimeError("sctp peer exited (code %s): %s"
                               % (self.proc.poll(), "".join(self._stderr[-5:]).strip()))
        return json.loads(line)

    def stop(self):
        if self.proc.poll() is None:
            try:
                return self.ask("stop")
            except RuntimeError:
                pass
            finally:
                try:
                    self.proc.wait(3)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        return None


# --------------------------------------------------------------------------
# Worker setup (requests shaped as mediasoup 3.8.4's host sends them)
# --------------------------------------------------------------------------

def plain_transport_data(streams, send_buffer):
    # Router.createPlainTransport(): every field the host sends, defaults
    # included, with enableSctp and comedia set. No "port": the host's
    # JSON.stringify() leaves an undefined one out, and mediasoup's worker
    # refuses a null one ("wrong port").
    return {
        "listenIp": {"ip": LOCALHOST},
        "rtcpMux": True,
        "comedia": True,
        "enableSctp": True,
        "numSctpStreams": {"OS": streams, "MIS": streams},
        "maxSctpMessageSize": 262144,
        "sctpSendBufferSize": send_buffer,
        "isDataChannel": False,
        "enableSrtp": False,
        "srtpCryptoSuite": "AES_CM_128_HMAC_SHA1_80",
    }


class Topology:
    """Ids and requests for one router, one DataProducer, N DataConsumers."""

    def __init__(self, worker, args):
        self.worker = worker
        self.args = args
        self.router = {"routerId": "data-load-router"}
        self.producer_transport = dict(self.router, transportId="data-load-producer-transport")
        self.producer = dict(self.producer_transport, dataProducerId="data-load-producer")
        self.consumers = []         # internal of each DataConsumer
        self.producer_port = None
        self.consumer_ports = []

    def create(self, n):
        w, a = self.worker, self.args
        w.request_ok("worker.createRouter", self.router)
        data = w.request_ok("router.createPlainTransport", self.producer_transport,
                            plain_transport_data(a.streams, a.sctp_send_buffer))
        self.producer_port = data["tuple"]["localPort"]
        # Transport.produceData(): the app's sctpStreamParameters after
        # ortc.validateSctpStreamParameters() (ordered defaults to true).
        w.request_ok("transport.produceData", self.producer, {
            "type": "sctp",
            "sctpStreamParameters": {"streamId": a.stream, "ordered": True},
            "label": "data-load",
            "protocol": "",
        })
        for i in range(n):
            transport = dict(self.router, transportId="data-load-consumer-transport-%d" % i)
            data = w.request_ok("router.createPlainTransport", transport,
                                plain_transport_data(a.streams, a.sctp_send_buffer))
            self.consumer_ports.append(data["tuple"]["localPort"])
            # Transport.consumeData(): the DataProducer's parameters with the
            # first free stream id of this transport (0).
            internal = dict(transport, dataProducerId=self.producer["dataProducerId"],
                            dataConsumerId="data-load-consumer-%d" % i)
            w.request_ok("transport.consumeData", internal, {
                "type": "sctp",
                "sctpStreamParameters": {"streamId": 0, "ordered": True},
                "label": "data-load",
                "protocol": "",
            })
            self.consumers.append(internal)

    def worker_view(self):
        """The worker's own counters: messages and bytes in at the
        DataProducer, out at the first DataConsumer."""
        w = self.worker
        producer = w.request_ok("dataProducer.getStats", self.producer)
        consumer = w.request_ok("dataConsumer.getStats", self.consumers[0])
        return {"producer_messages": producer[0].get("messagesReceived", 0),
                "consumer_messages": consumer[0].get("messagesSent", 0)}


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------

def proc_stat(pid):
    """(utime + stime seconds, RSS bytes) from /proc/<pid>/stat, all
    threads of the process included."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[21]) * PAGE_SIZE


def proc_threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def process_runqueue_wait(pid):
    """Seconds a process spent runnable but waiting for a CPU."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[1]) / 1e9


def host_cpu_seconds():
    """(busy, total) CPU seconds of the whole host, all cores (/proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def mark(pid, sender, receivers):
    cpu, rss = proc_stat(pid)
    return {"time": time.monotonic(), "worker_cpu": cpu, "rss": rss,
            "worker_wait": process_runqueue_wait(pid), "host_cpu": host_cpu_seconds(),
            "tx": sender.ask(), "rx": receivers.ask()}


def wait_until(what, check, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for %s" % what)
        time.sleep(0.05)


def measure(label, binary, rate, args):
    """One full run on a fresh worker; returns the row for the tables."""
    os.environ["SFU_WORKER_BIN"] = binary
    worker = harness.WorkerProcess(["--logLevel=warn"])
    sender = receivers = None
    try:
        pid = int(worker.wait_running()["targetId"])
        topology = Topology(worker, args)
        topology.create(args.consumers)
        rss_idle = proc_stat(pid)[1]
        if args.nice:
            os.setpriority(os.PRIO_PROCESS, pid, args.nice)
        receivers = PeerProcess(args.peer, [
            "--mode=recv",
            "--remote-ports=" + ",".join(str(p) for p in topology.consumer_ports)])
        sender = PeerProcess(args.peer, [
            "--mode=send", "--remote-port=%d" % topology.producer_port, "--rate=%d" % rate,
            "--size=%d" % args.size, "--stream=%d" % args.stream, "--ppid=%d" % PPID_BINARY])
        if args.nice:
            for peer in (sender, receivers):
                os.setpriority(os.PRIO_PROCESS, peer.proc.pid, args.nice)
        wait_until("the SCTP associations", lambda: (
            sender.ask()["connected"] == 1
            and receivers.ask()["connected"] == args.consumers), 10)
        # DataConsumers start once the worker sees their association up.
        time.sleep(0.2)
        sender.ask("start")
        time.sleep(args.warmup)
        a = mark(pid, sender, receivers)
        time.sleep(args.duration)
        b = mark(pid, sender, receivers)
        # Drain: the sender sends no more, what it queued reaches the worker
        # and what the worker queued reaches the receivers.
        tx_final = sender.ask("pause")
        deadline = time.monotonic() + 5
        while tx_final["buffered_amount"] > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            tx_final = sender.ask()
        rx_final = receivers.ask()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            again = receivers.ask()
            if again["messages"] == rx_final["messages"]:
                break
            rx_final = again
        view = topology.worker_view()
        threads = proc_threads(pid)
        logs = [text for level, text in worker.logs if level in "EW"]
        exit_code = worker.close()
    finally:
        for peer in (sender, receivers):
            if peer is not None:
                peer.stop()
        worker.terminate()
    row = summarize(a, b, tx_final, rx_final, args.consumers)
    row.update(worker=label, rate=rate, rss_idle=rss_idle, threads=threads, view=view,
               worker_logs=logs, exit_code=exit_code)
    return row


def summarize(a, b, tx_final, rx_final, n):
    wall = b["time"] - a["time"]
    worker_cpu = b["worker_cpu"] - a["worker_cpu"]
    delivered = b["rx"]["messages"] - a["rx"]["messages"]
    sent = b["tx"]["sent"] - a["tx"]["sent"]
    host_busy = b["host_cpu"][0] - a["host_cpu"][0]
    peers_cpu = (b["tx"]["cpu"] - a["tx"]["cpu"]) + (b["rx"]["cpu"] - a["rx"]["cpu"])
    # Over the whole run, after the drain: every message the sender got
    # into its association should reach each of the N receivers.
    total_sent = tx_final["sent"]
    total_expected = n * total_sent
    total_delivered = rx_final["messages"]
    return {
        "wall": wall,
        "in_mps": sent / wall,
        "out_mps": delivered / wall,
        "out_mbps": (b["rx"]["bytes"] - a["rx"]["bytes"]) * 8 / wall / 1e6,
        "worker_cpu_pct": 100.0 * worker_cpu / wall,
        "worker_wait_pct": 100.0 * (b["worker_wait"] - a["worker_wait"]) / wall,
        "us_per_msg": 1e6 * worker_cpu / delivered if delivered else 0.0,
        "rss_mb": b["rss"] / 1e6,
        "peers_cpu_pct": 100.0 * peers_cpu / wall,
        "others_pct": 100.0 * (host_busy - worker_cpu - peers_cpu) / wall,
        "skipped": b["tx"]["skipped"] - a["tx"]["skipped"],
        "buffer_full": b["tx"]["buffer_full"] - a["tx"]["buffer_full"],
        "total_sent": total_sent,
        "total_expected": total_expected,
        "total_delivered": total_delivered,
        "lost": total_expected - total_delivered,
        "loss_pct": 100.0 * (total_expected - total_delivered) / total_expected
        if total_expected else 0.0,
        "gaps": rx_final["gaps"],
        "out_of_order": rx_final["out_of_order"],
        "per_association": rx_final["per_association"],
        "peer_failures": rx_final["failures"] + tx_final["failures"],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

RUN_COLUMNS = (
    ("rate", "rate", "%d"),
    ("worker", "worker", "%s"),
    ("in msg/s", "in_mps", "%.0f"),
    ("out msg/s", "out_mps", "%.0f"),
    ("out Mbit/s", "out_mbps", "%.1f"),
    ("loss %", "loss_pct", "%.3f"),
    ("worker CPU %", "worker_cpu_pct", "%.1f"),
    ("runq wait %", "worker_wait_pct", "%.1f"),
    ("us CPU/msg out", "us_per_msg", "%.2f"),
    ("RSS MB", "rss_mb", "%.1f"),
    ("threads", "threads", "%d"),
    ("peers CPU %", "peers_cpu_pct", "%.1f"),
    ("rest of host %", "others_pct", "%.1f"),
)


def print_run(row):
    print("%s at %d msg/s: %.1f s measured, exit code %s; sent %d (skipped %d, send buffer full "
          "%d times in the window), delivered %d of %d after the drain (%d gaps, %d out of "
          "order, per consumer %s); worker view: DataProducer messagesReceived=%s, first "
          "DataConsumer messagesSent=%s; RSS idle %.1f MB"
          % (row["worker"], row["rate"], row["wall"], row["exit_code"], row["total_sent"],
             row["skipped"], row["buffer_full"], row["total_delivered"], row["total_expected"],
             row["gaps"], row["out_of_order"], row["per_association"],
             row["view"]["producer_messages"], row["view"]["consumer_messages"],
             row["rss_idle"] / 1e6))
    if row["peer_failures"]:
        print("  %d SCTP association(s) of the peers failed" % row["peer_failures"])
    if row["others_pct"] > 20:
        print("  other processes used %.0f%% of a core meanwhile: CPU figures are pessimistic"
              % row["others_pct"])
    for text in row["worker_logs"][:5]:
        print("  worker log: %s" % text.strip())
    sys.stdout.flush()


def print_table(title, columns, rows):
    cells = [[fmt % row[key] for _, key, fmt in columns] for row in rows]
    widths = [max(len(name), *(len(r[i]) for r in cells)) for i, (name, _, _) in
              enumerate(columns)]
    header = "  ".join(name.rjust(w) for (name, _, _), w in zip(columns, widths))
    print()
    print(title)
    print(header)
    print("-" * len(header))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def ratio_rows(rows):
    """Ours / reference per rate, medians over the repeats."""
    out = []
    for rate in sorted({r["rate"] for r in rows}):
        ours = [r for r in rows if r["rate"] == rate and r["worker"] == "ours"]
        ref = [r for r in rows if r["rate"] == rate and r["worker"] == "mediasoup"]
        if not ours or not ref:
            continue
        row = {"rate": rate}
        for key in ("out_mps", "us_per_msg", "rss_mb", "worker_cpu_pct"):
            o, m = median([r[key] for r in ours]), median([r[key] for r in ref])
            row[key + "_ours"], row[key + "_ref"] = o, m
            row[key + "_ratio"] = o / m if m else float("nan")
        row["loss_ours"] = median([r["loss_pct"] for r in ours])
        row["loss_ref"] = median([r["loss_pct"] for r in ref])
        out.append(row)
    return out


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


RATIO_COLUMNS = (
    ("rate", "rate", "%d"),
    ("out msg/s ours", "out_mps_ours", "%.0f"),
    ("mediasoup", "out_mps_ref", "%.0f"),
    ("us/msg ours", "us_per_msg_ours", "%.2f"),
    ("mediasoup", "us_per_msg_ref", "%.2f"),
    ("us/msg ratio", "us_per_msg_ratio", "%.2f"),
    ("RSS MB ours", "rss_mb_ours", "%.1f"),
    ("mediasoup", "rss_mb_ref", "%.1f"),
    ("loss % ours", "loss_ours", "%.3f"),
    ("mediasoup", "loss_ref", "%.3f"),
)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", type=int, nargs="+", default=[1000, 5000, 20000],
                   help="input messages/s to run (default: 1000 5000 20000)")
    p.add_argument("--consumers", type=int, default=10, help="DataConsumers (default 10)")
    p.add_argument("--size", type=int, default=1024, help="message size in bytes (1024)")
    p.add_argument("--stream", type=int, default=1, help="the DataProducer's SCTP stream id")
    p.add_argument("--streams", type=int, default=1024, help="numSctpStreams OS and MIS")
    p.add_argument("--sctp-send-buffer", type=int, default=262144,
                   help="sctpSendBufferSize of every transport (the host's default, 262144): "
                        "a DataConsumer drops what does not fit")
    p.add_argument("--duration", type=float, default=8.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per run")
    p.add_argument("--repeat", type=int, default=1, help="runs per worker and rate")
    p.add_argument("--nice", type=int, default=0,
                   help="nice value for the workers and the peers, e.g. -10 on a machine busy "
                        "with other work (negative needs root)")
    p.add_argument("--ours", default=harness.worker_bin(),
                   help="our worker (default: $SFU_WORKER_BIN or build/sfu-worker)")
    p.add_argument("--reference", default=None,
                   help="mediasoup 3.8.4's worker (default: %s when it exists)"
                        % DEFAULT_REFERENCE)
    p.add_argument("--no-reference", action="store_true", help="run our worker only")
    p.add_argument("--peer", default=os.path.join(REPO, "build", "sfu-sctp_peer"),
                   help="the SCTP load peer (default: build/sfu-sctp_peer)")
    args = p.parse_args(argv)
    if args.reference is None and not args.no_reference and os.access(DEFAULT_REFERENCE,
                                                                      os.X_OK):
        args.reference = DEFAULT_REFERENCE
    if args.no_reference:
        args.reference = None
    for path in [args.ours, args.peer] + ([args.reference] if args.reference else []):
        if not os.access(path, os.X_OK):
            p.error("%s is not an executable (build it first)" % path)
    return args


def main(argv):
    args = parse_args(argv)
    workers = [("ours", os.path.abspath(args.ours))]
    if args.reference:
        workers.append(("mediasoup", os.path.abspath(args.reference)))
    print("workers: %s; 1 DataProducer -> %d DataConsumers, %d-byte messages (PPID %d, "
          "reliable ordered), SCTP over UDP on PlainTransports; host: %d CPUs%s"
          % (", ".join("%s=%s" % w for w in workers), args.consumers, args.size, PPID_BINARY,
             os.cpu_count(), "; nice %d" % args.nice if args.nice else ""))
    if not args.reference:
        print("no reference worker: build it with /work/shared/tools/build-reference-worker.sh "
              "or pass --reference PATH")
    rows = []
    for rate in args.rates:
        for _ in range(args.repeat):
            for label, binary in workers:
                row = measure(label, binary, rate, args)
                print_run(row)
                rows.append(row)
    print_table("Runs (out: messages received by all %d consumers; loss: over the whole run, "
                "after the drain; us CPU/msg out: worker utime+stime per delivered message)"
                % args.consumers, RUN_COLUMNS, rows)
    ratios = ratio_rows(rows)
    if ratios:
        print_table("Ours vs mediasoup 3.8.4 (medians; us/msg ratio < 1: ours cheaper)",
                    RATIO_COLUMNS, ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
