"""Loss recovery end to end through PlainTransports, with build/sfu-loss_peer
on both sides:

    sender peer --(5% loss)--> producer transport (comedia, rtcp-mux)
        producer: NACKs the gaps, decapsulates RTX, stores packets
    consumer transport --(5% loss)--> receiver peer
        consumer: answers the receiver's NACKs from the shared store,
        over RTX when the consumer negotiated it, else as the original

The sender answers the worker's NACKs (RTX, or plain resends); the receiver
tracks its gaps with the NackGenerator and NACKs the worker. At the end the
receiver must hold every packet the sender sent, or explain each one it
lacks, and the worker's stats must show the repairs on both legs.

Run: test/integration/run_tests.py -v test_loss_recovery
Environment: SFU_TEST_VERBOSE=1 prints the figures of each run;
SFU_LOSS_SEED=N changes the loss pattern (default fixed per test);
SFU_TEST_KEEP_MEDIA=1 keeps the peers' summaries in /tmp/sfu-loss-*;
SFU_LOSS_WORKER_DEBUG=1 runs the worker with rtp/rtcp/rtx debug logs.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402

ROUTER_ID = "router-loss"
SEND_TRANSPORT = "transport-send"
RECV_TRANSPORT = "transport-recv"
PRODUCER_ID = "producer-loss"
CONSUMER_ID = "consumer-loss"

# The sender's stream and the router's mapping of it.
SENDER_PT, SENDER_RTX_PT = 101, 102
SENDER_SSRC, SENDER_RTX_SSRC = 11111111, 11111112
MAPPED_PT, MAPPED_RTX_PT = 96, 97
MAPPED_SSRC = 500001
# The consumer's stream.
CONSUMER_PT, CONSUMER_RTX_PT = 96, 97
CONSUMER_SSRC, CONSUMER_RTX_SSRC = 600001, 600002

PACKETS = 3000
RATE = 500
LOSS = 0.05
# Crosses the 16-bit sequence number wrap mid-stream.
FIRST_SEQ = 64000
# Of what the sender sent, the receiver may lack at most this share (each
# with its reason): with working recovery on both legs it should be none.
MAX_MISSING_SHARE = 0.005
# Reasons the receiver gives for a missing packet.
KNOWN_REASONS = {"leg2-every-copy-lost", "never-sent-by-worker", "before-first-forwarded",
                 "after-last-received", "no-media"}


def worker_args():
    """SFU_LOSS_WORKER_DEBUG=1: the worker logs its rtp, rtcp and rtx debug
    lines (shown when a test fails)."""
    if os.environ.get("SFU_LOSS_WORKER_DEBUG"):
        return ["--logLevel=debug", "--logTag=rtp", "--logTag=rtcp", "--logTag=rtx"]
    return ["--logLevel=warn"]


def seed_for(default):
    try:
        return int(os.environ.get("SFU_LOSS_SEED", default))
    except ValueError:
        return default


_SKIP_REASON = None
if not os.path.exists(lu.peer_bin()):
    _SKIP_REASON = "%s not built (cmake --build build)" % lu.peer_bin()


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class LossRecoveryTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sfu-loss-")
        self.peers = []
        self.worker = WorkerProcess(worker_args())
        self.addCleanup(self.worker.terminate)
        self.addCleanup(self._cleanup)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def _cleanup(self):
        for peer in self.peers:
            peer.stop(grace=1)
        if not os.environ.get("SFU_TEST_KEEP_MEDIA"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ----- helpers -----------------------------------------------------------

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, transport_id=None, **extra):
        out = {"routerId": ROUTER_ID}
        if transport_id:
            out["transportId"] = transport_id
        out.update(extra)
        return out

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start_peer(self, args, name):
        peer = lu.LossPeer(args, self.path(name + ".log"), name)
        self.peers.append(peer)
        return peer

    def diagnostics(self):
        parts = [p.describe() for p in self.peers]
        parts.append("worker logs: %s" % [t for _, t in self.worker.logs][-20:])
        parts.append("worker stderr: %s" % (self.worker.stderr.strip()[-800:] or "<empty>"))
        return "\n".join(parts)

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    # ----- the scenario ----------------------------------------------------

    def run_scenario(self, seed, consumer_rtx=True, sender_rtx=True, nack=True,
                     packets=PACKETS, rate=RATE, loss=LOSS, receiver_loss=None,
                     keyframe_every=100, sender_extra=(), consumer_nack=None):
        """Sets everything up, runs both peers to their end and returns
        (sender summary, receiver summary, producer stats, consumer stats).
        `nack` is the producer's and, unless `consumer_nack` says otherwise,
        the consumer's."""
        if consumer_nack is None:
            consumer_nack = nack
        self.loss = {"leg1": loss, "leg2": loss if receiver_loss is None else receiver_loss}
        send = self.request("router.createPlainTransport", self.internal(SEND_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=True))
        recv = self.request("router.createPlainTransport", self.internal(RECV_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=False))
        self.request(
            "transport.produce", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID),
            lu.produce_video_data(
                SENDER_PT, SENDER_SSRC, MAPPED_PT, MAPPED_SSRC,
                rtx_payload_type=SENDER_RTX_PT if sender_rtx else None,
                rtx_ssrc=SENDER_RTX_SSRC if sender_rtx else None,
                mapped_rtx_payload_type=MAPPED_RTX_PT if sender_rtx else None,
                nack=nack))

        sender_summary = self.path("sender.json")
        receiver_args = [
            "--mode=recv", "--remote-port=%d" % recv["tuple"]["localPort"],
            "--ssrc=%d" % CONSUMER_SSRC, "--pt=%d" % CONSUMER_PT,
            "--loss=%g" % (loss if receiver_loss is None else receiver_loss),
            "--seed=%d" % seed, "--idle-ms=2000", "--first-packet-timeout-ms=10000",
            "--max-runtime-ms=40000",
            "--sender-summary=%s" % sender_summary, "--sender-summary-wait-ms=4000",
            "--summary=%s" % self.path("receiver.json")]
        if consumer_rtx:
            receiver_args += ["--rtx-ssrc=%d" % CONSUMER_RTX_SSRC,
                              "--rtx-pt=%d" % CONSUMER_RTX_PT]
        receiver = self.start_peer(receiver_args, "receiver")
        port = receiver.listening_port(timeout=5)
        self.assertIsNotNone(port, "receiver did not start\n%s" % self.diagnostics())

        self.request("transport.connect", self.internal(RECV_TRANSPORT),
                     {"ip": lu.LOCAL_IP, "port": port})
        self.request(
            "transport.consume",
            self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID, consumerId=CONSUMER_ID),
            lu.consume_video_data(
                CONSUMER_PT, CONSUMER_SSRC, MAPPED_SSRC,
                rtx_payload_type=CONSUMER_RTX_PT if consumer_rtx else None,
                rtx_ssrc=CONSUMER_RTX_SSRC if consumer_rtx else None,
                nack=consumer_nack))

        sender_args = [
            "--mode=send", "--remote-port=%d" % send["tuple"]["localPort"],
            "--ssrc=%d" % SENDER_SSRC, "--pt=%d" % SENDER_PT,
            "--rtx-ssrc=%d" % SENDER_RTX_SSRC, "--rtx-pt=%d" % SENDER_RTX_PT,
            "--packets=%d" % packets, "--rate=%d" % rate, "--loss=%g" % loss,
            "--seed=%d" % seed, "--first-seq=%d" % FIRST_SEQ,
            "--frame-packets=5", "--keyframe-every=%d" % keyframe_every, "--payload-size=800",
            "--linger-ms=1500", "--max-runtime-ms=40000", "--summary=%s" % sender_summary]
        if not sender_rtx:
            sender_args.append("--plain")
        sender_args += list(sender_extra)
        started = time.monotonic()
        sender = self.start_peer(sender_args, "sender")

        run_seconds = packets / rate
        # Scores while the stream flows (after the end they fall to 0 with
        # inactivity, as mediasoup's do).
        time.sleep(run_seconds * 0.75)
        self.mid_run = {
            "producerScore": (lu.stream_stats(self.request(
                "producer.getStats", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID)),
                "inbound-rtp") or {}).get("score"),
            "consumerScore": (lu.stream_stats(self.request(
                "consumer.getStats", self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID,
                                                   consumerId=CONSUMER_ID)),
                "outbound-rtp") or {}).get("score"),
        }
        self.assertEqual(sender.wait(run_seconds + 20), 0,
                         "sender did not finish\n%s" % self.diagnostics())
        self.assertEqual(receiver.wait(15), 0,
                         "receiver did not finish\n%s" % self.diagnostics())
        elapsed = time.monotonic() - started
        self.assertTrue(self.worker.alive, "worker died\n%s" % self.diagnostics())

        producer_stats = self.request(
            "producer.getStats", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID))
        consumer_stats = self.request(
            "consumer.getStats",
            self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID, consumerId=CONSUMER_ID))
        s, r = sender.summary(), receiver.summary()
        self.assertIsNotNone(s, "no sender summary\n%s" % self.diagnostics())
        self.assertIsNotNone(r, "no receiver summary\n%s" % self.diagnostics())
        inbound = lu.stream_stats(producer_stats, "inbound-rtp")
        outbound = lu.stream_stats(consumer_stats, "outbound-rtp")
        self.assertIsNotNone(inbound, producer_stats)
        self.assertIsNotNone(outbound, consumer_stats)

        errors = [t for level, t in self.worker.logs if level == "E"]
        self.assertEqual(errors, [], "worker logged errors")
        self.assertEqual(self.worker.close(), 0, "worker close\n%s" % self.diagnostics())
        self.report(self.figures(s, r, inbound, outbound, elapsed)
                    + " mid-run scores: %s" % self.mid_run)
        if os.environ.get("SFU_LOSS_WORKER_DEBUG"):
            with open(self.path("worker.log"), "w") as f:
                f.writelines("%s %s\n" % entry for entry in self.worker.logs)
        return s, r, inbound, outbound

    @staticmethod
    def figures(s, r, inbound, outbound, elapsed):
        return json.dumps({
            "seconds": round(elapsed, 1),
            "leg1": {"dropped": s["droppedOriginals"],
                     "retransmissionsDropped": s["retransmissionsDropped"],
                     "nackedSeqs": s["nackedSeqs"], "nackedDelivered": s["nackedDelivered"],
                     "retransmitted": s["retransmitted"], "pli": s["pliReceived"]},
            "producer": {k: inbound.get(k) for k in (
                "packetCount", "nackCount", "nackPacketCount", "packetsRepaired",
                "packetsRetransmitted", "packetsDiscarded", "rtxPacketsDiscarded",
                "packetsLost", "score")},
            "leg2": {"lostOriginals": r["lostOriginals"],
                     "lostRetransmissions": r["lostRetransmissions"],
                     "nackedSeqs": r["nackedSeqs"], "repairedViaRtx": r["repairedViaRtx"],
                     "repairedPlain": r["repairedPlain"], "duplicates": r["duplicates"],
                     "duplicatesOfLeg1Drops": r.get("duplicatesOfLeg1Drops")},
            "consumer": {k: outbound.get(k) for k in (
                "packetCount", "nackCount", "nackPacketCount", "packetsRetransmitted",
                "packetsDiscarded", "retransmissionsUnavailable", "roundTripTime", "score")},
            "receiver": {"expected": r["expected"], "received": r["received"],
                         "missing": r["missingCount"], "reasons": r["missingReasons"],
                         "end": r["end"]},
        }, sort_keys=True)

    # ----- checks ----------------------------------------------------------

    def recovery_problems(self, s, r, inbound, outbound):
        """Everything wrong with a run that should have repaired both legs,
        as a list of texts (empty when all is well)."""
        problems = []

        def check(ok, text):
            if not ok:
                problems.append(text)

        # The peers did what they were asked to, losses included: at least
        # half the loss rate asked for (a seeded pattern) on each leg.
        check(s["end"] == "done" and s["sentPackets"] == s["packets"],
              "sender did not send everything: %s" % s["end"])
        for leg, lost in (("leg1", s["droppedOriginals"]), ("leg2", r["lostOriginals"])):
            check(lost >= 0.5 * self.loss[leg] * s["packets"],
                  "%s lost only %d of %d packets at a loss rate of %g"
                  % (leg, lost, s["packets"], self.loss[leg]))
        # Whatever arrived is exactly what was sent, numbered consistently.
        for key in ("corrupt", "badRtx", "seqMismatch", "foreign"):
            check(r[key] == 0, "receiver: %s = %d" % (key, r[key]))
        check(r["total"] == s["packets"], "receiver saw %d as the total, sender sent %d"
              % (r["total"], s["packets"]))
        check(r["firstIndex"] == 0, "the consumer started at packet %d, not at the first"
              % r["firstIndex"])

        # Every packet arrived, or each one missing has its reason, and
        # they are few.
        for entry in r["missing"]:
            check(entry.get("reason") in KNOWN_REASONS, "missing packet without a known "
                  "reason: %s" % entry)
        limit = int(MAX_MISSING_SHARE * s["packets"])
        check(r["missingCount"] <= limit,
              "receiver lacks %d of %d packets (limit %d): %s"
              % (r["missingCount"], s["packets"], limit, r["missingReasons"]))
        # A packet the worker never forwarded must be one it never got: lost
        # on leg 1 and never repaired, which its own stats count as lost.
        never_sent = [m for m in r["missing"] if m["reason"] == "never-sent-by-worker"]
        unexplained = [m for m in never_sent if "leg1" not in m]
        check(not unexplained, "delivered on leg 1 but never forwarded: %s" % unexplained)
        # One whose retransmission did reach the worker must have been
        # forwarded (test_late_repair_is_forwarded: even a late one).
        dropped_late = [m for m in never_sent
                        if m.get("leg1", {}).get("resentDelivered", 0) > 0]
        check(not dropped_late, "repaired on leg 1 but never forwarded: %s" % dropped_late)
        check(len(never_sent) == inbound.get("packetsLost"),
              "%d packets never forwarded, the producer counts %s lost"
              % (len(never_sent), inbound.get("packetsLost")))

        # Leg 1: the producer NACKed the gaps and got them back.
        dropped1 = s["droppedOriginals"]
        tolerance1 = max(2, dropped1 // 20)
        check(inbound.get("nackPacketCount", 0) >= dropped1,
              "producer nackPacketCount %s < %d packets dropped on leg 1"
              % (inbound.get("nackPacketCount"), dropped1))
        check(s["nackedDelivered"] == 0,
              "the worker NACKed %d packets it had received" % s["nackedDelivered"])
        repaired = inbound.get("packetsRepaired", 0)
        check(repaired <= dropped1, "producer repaired %d packets but only %d were lost"
              % (repaired, dropped1))
        check(repaired >= dropped1 - tolerance1,
              "producer repaired only %d of the %d packets dropped on leg 1"
              % (repaired, dropped1))
        check(s["droppedNeverNacked"] <= tolerance1,
              "the worker never asked for %d of the %d packets dropped on leg 1"
              % (s["droppedNeverNacked"], dropped1))

        # Leg 2: the consumer answered the receiver's NACKs. Each copy lost
        # on leg 2 (originals and retransmissions) takes one retransmission.
        # So does a NACK that crossed the late first forward of a packet the
        # worker repaired on leg 1: the receiver gets that one twice.
        lost2 = r["lostOriginals"] + r["lostRetransmissions"]
        retransmitted = outbound.get("packetsRetransmitted", 0)
        check(retransmitted >= lost2 - r["missingCount"],
              "consumer retransmitted %d packets for %d copies lost on leg 2"
              % (retransmitted, lost2))
        check(abs(retransmitted - (lost2 + r["duplicates"])) <= max(3, lost2 // 20),
              "consumer retransmitted %d packets; the receiver lost %d copies and got %d "
              "duplicates" % (retransmitted, lost2, r["duplicates"]))
        check(r["duplicates"] <= dropped1 + tolerance1,
              "receiver got %d duplicates, more than the %d packets repaired on leg 1"
              % (r["duplicates"], dropped1))
        if r["rtx"]:
            check(abs(r["rtxArrivals"] - retransmitted) <= 2,
                  "consumer counts %d retransmissions, the receiver got %d RTX packets"
                  % (retransmitted, r["rtxArrivals"]))
        check(r["repaired"] >= r["lostOriginals"] - r["missingCount"],
              "receiver repaired %d of %d lost originals"
              % (r["repaired"], r["lostOriginals"]))
        return problems

    def assert_recovered(self, s, r, inbound, outbound):
        problems = self.recovery_problems(s, r, inbound, outbound)
        self.assertEqual(problems, [], "\n%s\nfigures: %s\nmissing: %s\n%s" % (
            "\n".join(problems), self.figures(s, r, inbound, outbound, 0),
            r["missing"][:20], self.diagnostics()))

    # ----- tests -----------------------------------------------------------

    def test_rtx_on_both_legs(self):
        s, r, inbound, outbound = self.run_scenario(seed_for(1))
        self.assert_recovered(s, r, inbound, outbound)
        self.assertEqual(r["repairedPlain"] + r["repairedViaRtx"], r["repaired"])
        # The consumer negotiated RTX: its repairs of leg 2's losses came
        # over RTX (a plain "repair" is the late first forward of a packet
        # repaired on leg 1, which the receiver had NACKed already).
        self.assertGreaterEqual(r["repairedViaRtx"], 0.9 * (r["lostOriginals"] - r["missingCount"]),
                                r)
        # Every RTX packet the sender got through to the worker was
        # decapsulated.
        self.assertEqual(inbound.get("packetsRetransmitted"), s["retransmitted"], inbound)

    def test_plain_retransmission_to_consumer_without_rtx(self):
        s, r, inbound, outbound = self.run_scenario(seed_for(2), consumer_rtx=False)
        self.assert_recovered(s, r, inbound, outbound)
        self.assertEqual(r["rtxArrivals"], 0, "RTX sent to a consumer that did not negotiate it")

    def test_plain_retransmission_from_sender_without_rtx(self):
        s, r, inbound, outbound = self.run_scenario(seed_for(3), sender_rtx=False,
                                                    packets=1500)
        self.assert_recovered(s, r, inbound, outbound)
        self.assertEqual(s["retransmission"], "plain")
        # Plain resends are repairs, not RTX.
        self.assertEqual(inbound.get("packetsRetransmitted"), 0, inbound)

    def test_late_repair_is_forwarded(self):
        """A leg 1 repair that comes 150 packets after the newest one (its
        first three retransmissions lost, the worker retrying every 100 ms at
        500 packets/s) must still reach the consumer, and stats must stay
        whole when two such repairs come back to back: the producer's
        receive stream takes a packet up to 1500 behind the newest as late
        (mediasoup's MAX_MISORDER), not as a sequence restart, so it is
        counted once, stored and forwarded."""
        s, r, inbound, outbound = self.run_scenario(
            seed_for(5), packets=1500, loss=0, receiver_loss=0, keyframe_every=100000,
            sender_extra=["--drop-indices=500,501,1000", "--rtx-drop-first=3"])
        where = self.figures(s, r, inbound, outbound, 0) + "\nmissing: %s" % r["missing"]
        self.assertEqual(s["droppedOriginals"], 3, where)
        self.assertEqual(inbound.get("packetsRepaired"), 3, where)
        self.assertEqual(inbound.get("packetsDiscarded"), 0, where)
        self.assertEqual(r["missingCount"], 0, where)
        self.assertEqual(inbound.get("packetsLost"), 0, where)
        self.assertEqual(inbound.get("packetCount"), s["packets"], where)

    def test_without_nack_the_losses_stay(self):
        """The same checks on a run without NACK negotiated must fail: the
        loss shows, and nothing repairs it."""
        s, r, inbound, outbound = self.run_scenario(seed_for(4), nack=False, packets=1000)
        problems = self.recovery_problems(s, r, inbound, outbound)
        self.assertTrue(problems, "the checks passed without NACK")
        self.assertEqual(inbound.get("nackCount"), 0, inbound)
        self.assertEqual(inbound.get("packetsRepaired"), 0, inbound)
        self.assertEqual(outbound.get("packetsRetransmitted"), 0, outbound)
        self.assertGreaterEqual(r["missingCount"], s["droppedOriginals"], r["missingReasons"])
        # Each packet lost on leg 1 stays lost: the worker never forwards it.
        self.assertEqual(r["missingReasons"].get("never-sent-by-worker", 0),
                         s["droppedOriginals"], r["missingReasons"])

    def test_consumer_without_nack_resends_nothing(self):
        """The producer negotiated NACK (its losses are repaired), the
        consumer did not: the receiver's NACKs are counted as unavailable
        and answered with nothing, and its own losses stay."""
        s, r, inbound, outbound = self.run_scenario(seed_for(5), consumer_rtx=False,
                                                    consumer_nack=False, packets=1000)
        where = "consumer %s; receiver %s" % (outbound, r["missingReasons"])
        self.assertGreater(inbound.get("packetsRepaired", 0), 0, inbound)
        self.assertEqual(outbound.get("packetsRetransmitted"), 0, where)
        self.assertGreater(outbound.get("retransmissionsUnavailable", 0), 0, where)
        self.assertGreater(r["missingReasons"].get("leg2-every-copy-lost", 0), 0, where)


if __name__ == "__main__":
    unittest.main()
