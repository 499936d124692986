"""Loss recovery with a real peer: GStreamer on both sides of the worker,
with a lossy UDP relay on each leg.

    GStreamer sender (videotestsrc ! vp8enc ! rtpvp8pay ! rtpbin with an
    rtprtxsend aux sender)
      --relay leg 1: 5% of RTP toward the worker dropped; RTCP both ways-->
    producer PlainTransport (comedia, rtcp-mux), VP8 + RTX
    consumer PlainTransport (rtcp-mux), VP8 + RTX
      --relay leg 2: 5% of RTP toward the receiver dropped; RTCP both ways-->
    GStreamer receiver (rtpbin do-retransmission with an rtprtxreceive aux
    receiver ! rtpvp8depay ! vp8dec ! fakesink, decoded frames counted)

The worker must NACK the sender's losses and decapsulate its RTX, and
answer the receiver's NACKs over RTX; the receiver must decode nearly every
frame the sender encoded.

GStreamer runs in a child process (loss_util.py gst) under a Python that has
python3-gi (Debian's /usr/bin/python3). Skipped when GStreamer or the GI
bindings are missing (scripts/setup.sh installs them; a strict run fails
instead); a GStreamer probe or peer that hangs is a failure.

Run: test/integration/run_tests.py -v test_loss_gstreamer
Environment: SFU_TEST_VERBOSE=1 prints the figures; SFU_LOSS_SEED=N changes
the relays' loss pattern.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402

ROUTER_ID = "router-gst"
SEND_TRANSPORT = "transport-gst-send"
RECV_TRANSPORT = "transport-gst-recv"
PRODUCER_ID = "producer-gst"
CONSUMER_ID = "consumer-gst"

SENDER_PT, SENDER_RTX_PT = 101, 102
SENDER_SSRC, SENDER_RTX_SSRC = 31111111, 31111112
MAPPED_PT, MAPPED_RTX_PT = 96, 97
MAPPED_SSRC = 700001
CONSUMER_PT, CONSUMER_RTX_PT = 96, 97
CONSUMER_SSRC, CONSUMER_RTX_SSRC = 800001, 800002

MEDIA_SECONDS = 10
LOSS = 0.05
# The relays drop nothing for the first WARMUP_MS of each direction: in its
# first two seconds or so, GStreamer's receiver NACKs few of its losses (the
# relay's trace shows most never asked for, none of the worker's doing) and
# its decoder then waits for the next key frame. Nor after LOSS_UNTIL_MS:
# the pipelines stop at MEDIA_SECONDS, too soon to repair a late loss.
WARMUP_MS = 2500
LOSS_UNTIL_MS = (MEDIA_SECONDS - 1) * 1000
# The receiver's jitter buffer latency (ms): frames still in it when the
# pipelines stop are not decoded.
LATENCY_MS = 400
# Decoded frames must reach this share of the encoded ones, less what the
# jitter buffer still holds at the end. Without recovery, each loss costs
# the frames up to the next key frame (one a second): far fewer.
MIN_DECODED_SHARE = 0.9
# Of the media packets a relay dropped, the share that must reach the other
# side in the end (as RTX): all of them in practice.
MIN_REPAIRED_SHARE = 0.95
# How far the worker's packet and NACK counts may be from the relays' (read
# a moment later).
COUNT_SLACK = 2

# Seconds the GStreamer peer may take beyond MEDIA_SECONDS before it counts
# as hung.
GST_GRACE = 30

try:
    _SKIP_REASON, _PROBE_FAILURE = lu.gst_missing_reason(), None
except lu.GstProbeTimeout as exc:
    _SKIP_REASON, _PROBE_FAILURE = None, str(exc)


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class GStreamerLossRecoveryTest(unittest.TestCase):

    def setUp(self):
        if _PROBE_FAILURE:
            self.fail(_PROBE_FAILURE)
        self.tmp = tempfile.mkdtemp(prefix="sfu-gst-loss-")
        self.relays = []
        self.gst = None
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.addCleanup(self._cleanup)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def _cleanup(self):
        if self.gst is not None and self.gst.poll() is None:
            self.gst.kill()
            self.gst.wait(5)
        for relay in self.relays:
            relay.close()
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, transport_id=None, **extra):
        out = {"routerId": ROUTER_ID}
        if transport_id:
            out["transportId"] = transport_id
        out.update(extra)
        return out

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def run_gstreamer(self, nack=True):
        seed = int(os.environ.get("SFU_LOSS_SEED", "5"))
        send = self.request("router.createPlainTransport", self.internal(SEND_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=True))
        recv = self.request("router.createPlainTransport", self.internal(RECV_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=False))
        self.request(
            "transport.produce", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID),
            lu.produce_video_data(SENDER_PT, SENDER_SSRC, MAPPED_PT, MAPPED_SSRC,
                                  rtx_payload_type=SENDER_RTX_PT, rtx_ssrc=SENDER_RTX_SSRC,
                                  mapped_rtx_payload_type=MAPPED_RTX_PT, nack=nack,
                                  cname="gstreamer"))

        send_rtcp_port = lu.free_udp_port()
        recv_rtp_port = lu.free_udp_port()
        recv_rtcp_port = lu.free_udp_port()
        leg1 = lu.LossyRelay("leg1", (lu.LOCAL_IP, send["tuple"]["localPort"]),
                             (lu.LOCAL_IP, send_rtcp_port), loss_to_worker=LOSS, seed=seed,
                             warmup_ms=WARMUP_MS, loss_until_ms=LOSS_UNTIL_MS)
        self.relays.append(leg1)
        leg2 = lu.LossyRelay("leg2", (lu.LOCAL_IP, recv["tuple"]["localPort"]),
                             (lu.LOCAL_IP, recv_rtp_port), (lu.LOCAL_IP, recv_rtcp_port),
                             loss_to_peer=LOSS, seed=seed, warmup_ms=WARMUP_MS,
                             loss_until_ms=LOSS_UNTIL_MS)
        self.relays.append(leg2)
        leg1.track(SENDER_PT, SENDER_RTX_PT)
        leg2.track(CONSUMER_PT, CONSUMER_RTX_PT)

        self.request("transport.connect", self.internal(RECV_TRANSPORT),
                     {"ip": lu.LOCAL_IP, "port": leg2.worker_side_port})
        self.request(
            "transport.consume",
            self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID, consumerId=CONSUMER_ID),
            lu.consume_video_data(CONSUMER_PT, CONSUMER_SSRC, MAPPED_SSRC,
                                  rtx_payload_type=CONSUMER_RTX_PT, rtx_ssrc=CONSUMER_RTX_SSRC,
                                  nack=nack))

        args = [lu.gst_python(), os.path.abspath(lu.__file__), "gst",
                "--seconds=%d" % MEDIA_SECONDS,
                "--send-to=%d" % leg1.peer_port, "--send-rtcp-port=%d" % send_rtcp_port,
                "--send-ssrc=%d" % SENDER_SSRC, "--send-pt=%d" % SENDER_PT,
                "--send-rtx-ssrc=%d" % SENDER_RTX_SSRC, "--send-rtx-pt=%d" % SENDER_RTX_PT,
                "--recv-rtp-port=%d" % recv_rtp_port, "--recv-rtcp-port=%d" % recv_rtcp_port,
                "--recv-rtcp-to=%d" % leg2.peer_port,
                "--recv-pt=%d" % CONSUMER_PT, "--recv-rtx-pt=%d" % CONSUMER_RTX_PT,
                "--latency=%d" % LATENCY_MS]
        log_path = os.path.join(self.tmp, "gst.log")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            self.gst = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=log)
            timed_out = False
            try:
                out, _ = self.gst.communicate(timeout=MEDIA_SECONDS + GST_GRACE)
            except subprocess.TimeoutExpired:
                timed_out = True
                self.gst.kill()
                out, _ = self.gst.communicate(timeout=5)
        elapsed = time.monotonic() - started
        with open(log_path, "rb") as f:
            gst_log = f.read().decode("utf-8", "replace")[-2000:]
        self.assertFalse(timed_out, "the GStreamer peer hung: still running %d s after its "
                         "%d s of media; killed. Its log: %s"
                         % (GST_GRACE, MEDIA_SECONDS, gst_log))
        lines = [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
        self.assertTrue(lines, "GStreamer printed nothing (exit %s): %s"
                        % (self.gst.returncode, gst_log))
        result = json.loads(lines[-1])
        self.assertEqual(result["errors"], [], "GStreamer errors: %s\n%s"
                         % (result["errors"], gst_log))
        self.assertEqual(self.gst.returncode, 0, gst_log)

        # Let the last retransmissions land before reading the stats.
        time.sleep(0.3)
        self.assertTrue(self.worker.alive, "worker died: %s" % self.worker.stderr[-800:])
        inbound = lu.stream_stats(self.request(
            "producer.getStats", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID)),
            "inbound-rtp")
        outbound = lu.stream_stats(self.request(
            "consumer.getStats",
            self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID, consumerId=CONSUMER_ID)),
            "outbound-rtp")
        self.assertIsNotNone(inbound)
        self.assertIsNotNone(outbound)
        relays = {"leg1": leg1.snapshot(), "leg2": leg2.snapshot()}
        losses = {"leg1": leg1.loss_report("to_worker"), "leg2": leg2.loss_report("to_peer")}
        for relay in self.relays:
            relay.close()
        self.relays = []
        errors = [t for level, t in self.worker.logs if level == "E"]
        self.assertEqual(errors, [], "worker logged errors")
        self.assertEqual(self.worker.close(), 0)

        figures = {
            "seconds": round(elapsed, 1),
            "frames": result["frames"],
            "leg1": {k: relays["leg1"]["to_worker"][k] for k in
                     ("rtp", "dropped", "byPayloadType", "droppedByPayloadType")},
            "leg1Feedback": {k: relays["leg1"]["to_peer"][k] for k in
                             ("nackPackets", "nackSeqs", "plis", "firs")},
            "leg2": {k: relays["leg2"]["to_peer"][k] for k in
                     ("rtp", "dropped", "byPayloadType", "droppedByPayloadType")},
            "leg2Feedback": {k: relays["leg2"]["to_worker"][k] for k in
                             ("nackPackets", "nackSeqs", "plis", "firs")},
            "producer": {k: inbound.get(k) for k in (
                "packetCount", "nackCount", "nackPacketCount", "packetsRepaired",
                "packetsRetransmitted", "packetsDiscarded", "rtxPacketsDiscarded",
                "packetsLost", "pliCount", "firCount")},
            "consumer": {k: outbound.get(k) for k in (
                "packetCount", "nackCount", "nackPacketCount", "packetsRetransmitted",
                "retransmissionsUnavailable", "pliCount", "firCount")},
            "gstRtxSend": result["rtxSenders"],
            "gstRtxReceive": result["rtxReceivers"],
            "gstJitterbuffers": result["jitterbuffers"],
            "gstWarnings": result["warnings"],
            "losses": losses,
        }
        self.report(json.dumps(figures, sort_keys=True))
        return result, inbound, outbound, relays, losses, figures

    def test_vp8_with_nack_and_rtx_through_lossy_legs(self):
        result, inbound, outbound, relays, losses, figures = self.run_gstreamer()
        where = json.dumps(figures, sort_keys=True)
        frames = result["frames"]

        leg1, leg1_feedback = relays["leg1"]["to_worker"], relays["leg1"]["to_peer"]
        leg2, leg2_feedback = relays["leg2"]["to_peer"], relays["leg2"]["to_worker"]

        def delivered(leg, pt):
            """Packets of payload type pt that the relay let through."""
            return leg["byPayloadType"].get(str(pt), 0) - \
                leg["droppedByPayloadType"].get(str(pt), 0)

        # The relays dropped about LOSS of what they carried in their loss
        # window, on both legs (half of it at least: a seeded pattern).
        window = (LOSS_UNTIL_MS - WARMUP_MS) / (MEDIA_SECONDS * 1000.0)
        for leg in (leg1, leg2):
            self.assertGreaterEqual(leg["dropped"], 0.5 * LOSS * window * leg["rtp"], where)

        # The worker's counts and the relays' agree. A relay counts the
        # datagrams that carry NACKs and the sequence numbers they name; the
        # worker counts NACK packets and items: the same on these peers, up to
        # COUNT_SLACK for feedback crossing the moment the stats were read.
        def agree(worker_count, relay_count, what):
            self.assertAlmostEqual(worker_count, relay_count, delta=COUNT_SLACK,
                                   msg="%s: the worker counts %s, the relay %s\n%s"
                                   % (what, worker_count, relay_count, where))

        # Leg 1: the producer received every original once (the dropped
        # ones repaired), NACKed what the relay dropped, and decapsulated
        # every RTX packet that got through.
        agree(inbound.get("packetCount"), leg1["byPayloadType"].get(str(SENDER_PT), 0),
              "leg 1 media packets")
        agree(inbound.get("nackCount"), leg1_feedback["nackPackets"], "leg 1 NACKs")
        agree(inbound.get("nackPacketCount"), leg1_feedback["nackSeqs"], "leg 1 NACKed packets")
        self.assertGreaterEqual(inbound.get("nackPacketCount", 0), losses["leg1"]["dropped"],
                                where)
        agree(inbound.get("packetsRetransmitted"), delivered(leg1, SENDER_RTX_PT),
              "leg 1 RTX packets")
        agree(inbound.get("packetsRepaired"), losses["leg1"]["repaired"], "leg 1 repairs")
        self.assertEqual(inbound.get("packetsLost"), 0, where)

        # Leg 2: the consumer forwarded every packet, answered GStreamer's
        # NACKs over RTX, and GStreamer took every RTX packet that got
        # through back in.
        agree(outbound.get("packetCount"), inbound.get("packetCount"), "forwarded packets")
        agree(leg2["byPayloadType"].get(str(CONSUMER_PT), 0), outbound.get("packetCount"),
              "leg 2 media packets")
        agree(outbound.get("nackCount"), leg2_feedback["nackPackets"], "leg 2 NACKs")
        agree(outbound.get("nackPacketCount"), leg2_feedback["nackSeqs"], "leg 2 NACKed packets")
        agree(outbound.get("packetsRetransmitted"),
              leg2["byPayloadType"].get(str(CONSUMER_RTX_PT), 0), "leg 2 RTX packets")
        assoc = sum(r.get("num-rtx-assoc-packets", 0) for r in result["rtxReceivers"])
        agree(assoc, delivered(leg2, CONSUMER_RTX_PT), "RTX packets GStreamer associated")

        # Each packet the relays dropped got through in the end (the relays
        # trace every sequence number, its NACKs and its RTX copies).
        for leg in ("leg1", "leg2"):
            report = losses[leg]
            self.assertGreaterEqual(report["repaired"], MIN_REPAIRED_SHARE * report["dropped"],
                                    "%s: %d of %d repaired; unrepaired: %s\n%s"
                                    % (leg, report["repaired"], report["dropped"],
                                       report["unrepaired"], where))

        # And the video decodes: nearly every encoded frame.
        self.assertGreater(frames["encoded"], MEDIA_SECONDS * 30 * 0.8, where)
        in_flight = LATENCY_MS * 30 // 1000 + 5
        self.assertGreaterEqual(frames["decoded"],
                                MIN_DECODED_SHARE * frames["encoded"] - in_flight, where)


if __name__ == "__main__":
    unittest.main()
