"""The fan-out load run's encrypted legs (bench/load/fanout.py --legs) at a
tiny load against our worker: the load peer (build/sfu-load_peer) keys
every leg, SDES on SRTP PlainTransports or ICE and DTLS on WebRtcTransports,
the worker decrypts the producer's stream and forwards it to every consumer
without a gap, the peer decrypts samples of what it receives with the keys
the worker announced or exported, and the worker's transports say they are
secured. A smoke test of the benchmark's machinery: no figure of speed is
asserted.
"""

import multiprocessing
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "load"))

import fanout  # noqa: E402
from harness import worker_bin  # noqa: E402
from loss_util import free_udp_port  # noqa: E402

CONSUMERS = 2
RATE = 200
# The release build's peer, whichever worker is under test (an instrumented
# build has no load peer of its own); SFU_LOAD_PEER_BIN overrides.
LOAD_PEER_BIN = os.environ.get(
    "SFU_LOAD_PEER_BIN", os.path.join(HERE, "..", "..", "build", "sfu-load_peer"))


class LoadLegsTest(unittest.TestCase):

    def setUp(self):
        # The run names the worker it spawns in SFU_WORKER_BIN.
        previous = os.environ.get("SFU_WORKER_BIN")
        self.addCleanup(self._restore_worker_bin, previous)

    @staticmethod
    def _restore_worker_bin(previous):
        if previous is None:
            os.environ.pop("SFU_WORKER_BIN", None)
        else:
            os.environ["SFU_WORKER_BIN"] = previous

    def run_legs(self, legs, extra=()):
        args = fanout.parse_args([str(CONSUMERS), "--rate", str(RATE), "--duration", "1",
                                  "--warmup", "0.5", "--legs", legs,
                                  "--load-peer", LOAD_PEER_BIN] + list(extra))
        ctx = multiprocessing.get_context("spawn")
        row = fanout.measure(CONSUMERS, RATE, args, ctx, ("ours", "worker", worker_bin()))
        self.assertEqual(row["exit_code"], 0, row["worker_logs"])
        # Every consumer started at a key frame and got every packet of the
        # window: the worker decrypted the producer's stream and protected
        # each consumer's.
        self.assertEqual(row["never_started"], 0)
        self.assertEqual(row["bad_start"], 0)
        self.assertEqual(row["lost"], 0, row)
        self.assertGreater(row["producer_packets"], 0)
        # A loose floor (a quarter of the nominal count), so that a starved
        # CI machine does not fail it: packets kept flowing to every leg.
        self.assertGreaterEqual(row["expected"], CONSUMERS * RATE * row["wall"] / 4, row)
        for name, legs_count in (("peer_sender", 1), ("peer_receivers", CONSUMERS)):
            peer = row[name]
            self.assertIsNotNone(peer, name)
            self.assertEqual(peer["keyed"], legs_count, (name, peer))
            self.assertGreater(peer["decrypted"], 0, (name, peer))
            self.assertEqual(peer["decrypt_failures"], 0, (name, peer))
            self.assertEqual(peer["protect_failures"], 0, (name, peer))
        return row

    def check_srtp(self, legs, suite, extra=()):
        row = self.run_legs(legs, extra)
        for name in ("producer", "consumer"):
            self.assertEqual(row["transports"][name]["srtp"], suite, row["transports"])
        self.assertEqual(row["peer_receivers"]["suite"], suite)
        self.assertEqual(row["peer_sender"]["suite"], suite)

    def test_srtp_aes_cm(self):
        self.check_srtp("srtp-cm", "AES_CM_128_HMAC_SHA1_80")

    def test_srtp_aead_gcm(self):
        # Sent as a pacer sends, in bursts (every 20 ms here).
        self.check_srtp("srtp-gcm", "AEAD_AES_128_GCM", ["--burst-ms", "20"])

    def check_webrtc(self, legs, extra=()):
        row = self.run_legs(legs, extra)
        for name in ("producer", "consumer"):
            state = row["transports"][name]
            self.assertIn(state["ice"], ("connected", "completed"), row["transports"])
            self.assertEqual(state["dtls"], "connected", row["transports"])
        for name, legs_count in (("peer_sender", 1), ("peer_receivers", CONSUMERS)):
            peer = row[name]
            self.assertEqual(peer["ice_done"], legs_count, peer)
            self.assertEqual(peer["dtls_states"], {"connected": legs_count}, peer)
            # Both ends agreed on one DTLS-SRTP profile.
            self.assertIn(peer["suite"], ("AEAD_AES_256_GCM", "AEAD_AES_128_GCM",
                                          "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"))
        self.assertEqual(row["peer_sender"]["suite"], row["peer_receivers"]["suite"])
        return row

    def test_webrtc(self):
        row = self.check_webrtc("webrtc")
        transports = row["transports"]
        self.assertNotEqual(transports["producer"]["ports"], transports["consumer"]["ports"])

    def test_webrtc_aes_cm_on_a_shared_port(self):
        # The peer offers AES_CM_128_HMAC_SHA1_80 alone, and every
        # WebRtcTransport of the worker is on the one port given.
        port = free_udp_port()
        row = self.check_webrtc("webrtc-cm", ["--shared-port", str(port)])
        self.assertEqual(row["peer_sender"]["suite"], "AES_CM_128_HMAC_SHA1_80")
        for name in ("producer", "consumer"):
            self.assertEqual(row["transports"][name]["ports"], [port], row["transports"])


if __name__ == "__main__":
    unittest.main()
