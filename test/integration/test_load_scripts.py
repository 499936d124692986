"""The load runs in bench/load/ on small sizes: scale.py --quick (legs and
transports) on our worker, fanout.py --compare --json, and
chart.py drawing what fanout.py saved. These check that the runs complete
and report what they claim (every transport created is closed, the legs
delivered media, the fds come back after churn, the chart is a PNG), never
how fast anything is."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import harness

LOAD_DIR = os.path.join(harness.REPO_ROOT, "bench", "load")
sys.path.insert(0, LOAD_DIR)
import fanout  # noqa: E402
PYTHON = sys.executable or "/usr/bin/python3"
# Generous: the runs take 10-40 s on a loaded 2-core machine.
RUN_TIMEOUT = 300


def run_script(name, *args):
    """Runs bench/load/NAME with ARGS and our worker; returns its stdout."""
    env = dict(os.environ, SFU_WORKER_BIN=harness.worker_bin())
    result = subprocess.run([PYTHON, os.path.join(LOAD_DIR, name)] + list(args), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=RUN_TIMEOUT * harness.timeout_scale())
    if result.returncode != 0:
        raise AssertionError("%s %s exited %d:\n%s" % (name, " ".join(args), result.returncode,
                                                       result.stdout[-4000:]))
    return result.stdout


class ScaleQuickTest(unittest.TestCase):
    """scale.py --quick: 4 producers x 5 consumers, 500 WebRtcTransports and
    3 waves of 100."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "scale.json")
        cls.output = run_script("scale.py", "--quick", "--no-reference", "--json", path)
        with open(path) as f:
            cls.results = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_legs_delivered_media_and_report_cpu_rss_loss(self):
        legs = self.results["legs"]
        self.assertEqual(legs["settings"]["producers"], 4)
        self.assertEqual(legs["settings"]["consumers"], 5)
        (row,) = legs["runs"]
        self.assertEqual(row["label"], "ours")
        self.assertEqual(row["n"], 20)
        self.assertIn(row["exit_code"], (0, None))
        # Half the producers audio (50 pps), half video (100 pps).
        self.assertEqual(row["rate"], 2 * 50 + 2 * 100)
        self.assertGreater(row["producer_packets"], 0)
        self.assertGreater(row["sample_consumer_packets"], 0)
        self.assertGreater(row["out_pps"], 0)
        # CPU time comes in clock ticks (10 ms): a short run may read none.
        self.assertGreaterEqual(row["worker_cpu_pct"], 0)
        self.assertGreaterEqual(row["us_per_pkt"], 0)
        self.assertGreaterEqual(row["loss_pct"], 0)
        self.assertLessEqual(row["loss_pct"], 100)
        # The audio consumers' first packets are not VP8, and not counted
        # as a video consumer starting off a key frame.
        self.assertEqual(row["bad_start"], 0)
        self.assertGreater(row["rss_start_mb"], 0)
        self.assertGreater(row["rss_mb"], row["rss_start_mb"])
        self.assertGreater(row["rss_created_mb"], row["rss_start_mb"])
        self.assertAlmostEqual(row["rss_per_leg_kb"],
                               1024 * (row["rss_mb"] - row["rss_start_mb"]) / 20)
        self.assertIn("KB per leg", self.output)

    def test_every_transport_created_is_closed(self):
        transports = self.results["transports"]
        (row,) = transports["runs"]
        self.assertEqual(row["label"], "ours")
        self.assertEqual(row["transports"], 500)
        self.assertEqual(row["created"], 500 + 3 * 100)
        self.assertEqual(row["closed"], row["created"])
        self.assertEqual(row["live_at_peak"], 500)
        self.assertEqual(row["live_after_close"], 0)
        self.assertEqual(row["live_after_churn"], 0)
        self.assertEqual(row["exit_code"], 0)
        for phase in ("create", "close"):
            figures = row[phase]
            self.assertEqual(figures["count"], 500)
            self.assertGreater(figures["median_ms"], 0)
            self.assertGreaterEqual(figures["p99_ms"], figures["median_ms"])
            self.assertGreaterEqual(figures["max_ms"], figures["p99_ms"])
            self.assertGreater(figures["per_second"], 0)

    def test_transport_memory_and_sockets(self):
        row = self.results["transports"]["runs"][0]
        for key in ("rss_base_mb", "rss_alive_mb", "rss_after_close_mb", "rss_before_churn_mb",
                    "rss_after_churn_mb"):
            self.assertGreater(row[key], 0, key)
        self.assertGreater(row["rss_per_transport_kb"], 0)
        self.assertEqual(len(row["rss_per_wave_mb"]), 3)
        # One UDP socket per live transport (enableTcp false), all of them
        # closed again after the churn.
        self.assertGreaterEqual(row["fds_alive"], row["fds_base"] + 500)
        self.assertEqual(row["fds_after_churn"], row["fds_base"])


class FanoutChartTest(unittest.TestCase):
    """fanout.py --compare --json at one small load, our worker twice over
    (as "ours" and "again": the raw forwarder is not built beside every
    worker, the sanitizer build's for one), two runs each, then chart.py on
    what it saved."""

    def test_results_saved_and_drawn(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fanout.json")
            run_script("fanout.py", "--compare", "--no-reference", "--no-floor",
                       "--worker", "again=" + harness.worker_bin(), "--loads", "2x300",
                       "--repeat", "2", "--duration", "1", "--warmup", "0.5", "--burst-ms", "5",
                       "--json", path)
            with open(path) as f:
                results = json.load(f)
            self.assertEqual(results["settings"]["loads"], ["2x300"])
            self.assertEqual(results["settings"]["burstMs"], 5)
            self.assertEqual([s["label"] for s in results["systems"]], ["ours", "again"])
            self.assertEqual(len(results["runs"]), 4)
            self.assertEqual(sorted(m["label"] for m in results["medians"]), ["again", "ours"])
            for m in results["medians"]:
                self.assertEqual(m["load"], "2x300")
                self.assertEqual(m["runs"], 2)
                self.assertGreaterEqual(m["us_per_pkt"], 0)
                self.assertLessEqual(m["us_min"], m["us_per_pkt"])
                self.assertLessEqual(m["us_per_pkt"], m["us_max"])
                self.assertGreaterEqual(m["loss_pct"], 0)
                self.assertGreater(m["out_pps"], 0)
            self.assertGreater(results["host"]["cores"], 0)
            self.assertEqual(len(results["loadavg_start"]), 3)

            png = os.path.join(tmp, "chart.png")
            output = run_script("chart.py", path, "-o", png)
            self.assertIn(png, output)
            with open(png, "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(b"\x89PNG\r\n\x1a\n"), data[:8])
            self.assertGreater(len(data), 10000)


class PacedSenderTest(unittest.TestCase):
    """When fanout.py's sender sends: each packet when it is due, or with
    --burst-ms what is due at the next burst."""

    def next_due(self, burst_ms, sent):
        stream = fanout.Stream("video", 10000, 1100, 30, burst_ms=burst_ms)
        sender = fanout.StreamSender(9, stream, 100.0)
        self.addCleanup(sender.sock.close)
        sender.k = sent
        return sender.next_due()

    def test_each_packet_when_due(self):
        self.assertAlmostEqual(self.next_due(0, 1), 100.0001)
        self.assertAlmostEqual(self.next_due(0, 51), 100.0051)

    def test_in_bursts_what_is_due_by_the_next_one(self):
        self.assertAlmostEqual(self.next_due(5, 0), 100.0)
        # Packets 1-50 are due within the first 5 ms: they leave together.
        self.assertAlmostEqual(self.next_due(5, 1), 100.005)
        self.assertAlmostEqual(self.next_due(5, 49), 100.005)
        self.assertAlmostEqual(self.next_due(5, 51), 100.010)


if __name__ == "__main__":
    unittest.main()
