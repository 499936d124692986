"""Pipe transports driven by the mediasoup 3.8.4 Node host, with our worker:

- `host/pipe-workers.js`: router.pipeToRouter() between two workers (with
  and without enableRtx) carrying ffmpeg's VP8 and Opus, pause and resume,
  key frame requests back to the sender, stats and scores, and a
  DataProducer piped over SCTP from one DirectTransport to another;
- `host/pipe-cascade.js`: a cascade between two network namespaces joined
  by a veth pair, a worker in each, ffmpeg sending in one and decoding in the
  other, with nftables dropping a share of the pipe's datagrams both ways:
  NACK and RTX across the pipe keep the decoded frames, and a key frame
  requested on the far side reaches the sender. Needs root (ip netns, nft);
  skipped otherwise.

Each script prints one JSON summary line, held here against its exit code;
SFU_TEST_VERBOSE=1 prints it. The host package comes from
host/install-host.sh (npm, once, into .cache/).
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

HOST_DIR = os.path.join(HERE, "host")
NETNS_SKIP_REASON = "network namespaces need root"


def verbose():
    return os.environ.get("SFU_TEST_VERBOSE") == "1"


def host_package():
    """The mediasoup 3.8.4 package directory (installed on first use)."""
    result = subprocess.run([os.path.join(HOST_DIR, "install-host.sh")], capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError("install-host.sh failed: %s" % result.stderr[-1500:])
    return result.stdout.strip().splitlines()[-1]


def run_node_script(test, script, timeout, env_extra=None):
    """Runs a host/ script with node; returns its JSON summary, failing the
    test with the summary and stderr when it did not exit 0, or when a
    worker's stderr (which the host prints with DEBUG=mediasoup:ERROR:Worker)
    holds a sanitizer report."""
    node = shutil.which("node")
    test.assertIsNotNone(node, "node (Node.js 20 or newer) is not installed")
    test.assertIsNotNone(shutil.which("ffmpeg"), "ffmpeg is not installed")
    env = dict(os.environ)
    env["SFU_WORKER_BIN"] = harness.worker_bin()
    env["SFU_MEDIASOUP_DIR"] = host_package()
    # The host would run the worker under valgrind itself: not these tests.
    env.pop("MEDIASOUP_USE_VALGRIND", None)
    env["DEBUG"] = "mediasoup:ERROR:Worker"
    env.update(env_extra or {})
    timeout *= harness.timeout_scale()
    try:
        result = subprocess.run([node, os.path.join(HOST_DIR, script)], capture_output=True,
                                text=True, timeout=timeout, env=env, cwd=HOST_DIR)
    except subprocess.TimeoutExpired as exc:
        test.fail("%s ran longer than %d s: %s" % (script, timeout, (exc.stderr or "")[-1500:]))
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    summary = json.loads(lines[-1]) if lines else None
    if verbose():
        print("\n%s: %s" % (script, json.dumps(summary, indent=1)))
    # The host prefixes each worker stderr line with its logger's and "(stderr) ".
    worker_stderr = "\n".join(line.split("(stderr) ", 1)[1] for line in result.stderr.splitlines()
                              if "(stderr) " in line)
    report = harness.checker_report(worker_stderr)
    if report:
        test.fail("%s: a worker's sanitizer report:\n%s" % (script, report))
    if result.returncode != 0 or not summary or not summary.get("ok"):
        test.fail("%s exited %d\nsummary: %s\nstderr: %s" % (
            script, result.returncode, json.dumps(summary), result.stderr[-3000:]))
    return summary


class PipeToRouterTest(unittest.TestCase):
    def test_pipe_to_router_between_two_workers(self):
        summary = run_node_script(self, "pipe-workers.js", 90)
        self.assertEqual(summary["pause"]["videoPacketsWhilePaused"], 0)
        self.assertEqual(summary["data"]["received"], summary["data"]["sent"])
        self.assertGreater(summary["stats"]["pipeProducerPackets"], 100)


def netns_problem():
    """Why the namespace test cannot run, or None."""
    if os.geteuid() != 0:
        return NETNS_SKIP_REASON + " (ip netns add, veth, nftables): not running as root"
    return None


class PipeCascadeTest(unittest.TestCase):
    NS_A = "sfupipeA%d" % os.getpid()
    NS_B = "sfupipeB%d" % os.getpid()
    VETH = "sfv%d" % (os.getpid() % 100000)

    def setUp(self):
        problem = netns_problem()
        if problem:
            self.skipTest(problem)
        for tool in ("ip", "nft"):
            self.assertIsNotNone(shutil.which(tool), "%s is not installed (iproute2, nftables)"
                                 % tool)

    def tearDown(self):
        # The script removes its namespaces itself; this is for a script
        # that was killed.
        for ns in (self.NS_A, self.NS_B):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.VETH + "a"], capture_output=True)

    def test_cascade_across_namespaces_with_loss(self):
        summary = run_node_script(self, "pipe-cascade.js", 120, {
            "SFU_CASCADE_NS_A": self.NS_A, "SFU_CASCADE_NS_B": self.NS_B,
            "SFU_CASCADE_VETH": self.VETH})
        frames = summary["frames"]
        self.assertGreaterEqual(frames["decodedVideo"], 0.95 * frames["sent"], frames)
        self.assertGreater(summary["nft"]["B"]["dropped"], 0)
        self.assertGreater(summary["nft"]["B"]["rtx_in"], 0)
        self.assertGreater(summary["keyFrameRequest"]["wirePliToSender"], 0)
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertNotIn(self.NS_A, listed, "namespace left behind")
        self.assertNotIn(self.NS_B, listed, "namespace left behind")


if __name__ == "__main__":
    unittest.main()
