"""NACK retries spaced by the measured round trip, on the wire.

A Python sender streams VP8 (NACK negotiated, no RTX) at 50 packets/s into
a comedia PlainTransport (rtcp-mux). The worker's receiver reports carry an
XR RRTR block (RFC 3611 4.4) with the RR's SSRC; the sender answers each
with an XR DLRR block (4.5) whose DLRR is computed at the moment it is sent
so that the worker measures now - LRR - DLRR = the target round trip. Then
the sender leaves a hole in its sequence numbers that it never repairs and
keeps sending; the kernel's arrival times of the worker's NACKs for the hole
give their spacing, which must follow the round trip:

  - DLRR for 40 ms: retries at least 40 ms apart, median well under the
    100 ms default, and all ten of NackGenerator's retries inside its
    1000 ms age limit;
  - DLRR for 300 ms: at least 300 ms apart (3 or 4 of them before 1000 ms);
  - no answer at all: the 100 ms default;
  - no DLRR, but a consumer on the same transport whose receiver report
    (our RR answering its SR, LSR/DLSR crafted for 200 ms) gives the round
    trip of the path: at least 200 ms apart.

The retry timer ticks every 20 ms, so a spacing is the round trip rounded
up to the tick (plus scheduling on a loaded machine); the lower bounds allow
SPACING_TOLERANCE_MS for the worker's own jitter between deciding and
sending. The upper bounds are loose: a worker slow to read an answer
measures a longer round trip, rightly.

Run: python3 -m unittest discover -s test/integration -p test_nack_rtt.py -v
Environment: SFU_TEST_VERBOSE=1 prints the NACK times of each case.
"""

import os
import statistics
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402
import wire_util as wire  # noqa: E402

ROUTER_ID = "router-nack-rtt"
TRANSPORT_ID = "transport-nack-rtt"
PRODUCER_ID = "producer-nack-rtt"
CONSUMER_ID = "consumer-nack-rtt"

SENDER_PT, MAPPED_PT = 101, 96
SSRC, MAPPED_SSRC, CONSUMER_SSRC = 22222222, 500010, 600010
FIRST_SEQ = 40000
PACKET_INTERVAL = 0.02
TS_STEP = 90000 // 50
# NackGenerator's defaults (src/protocol/recovery/NackGenerator.hpp):
# requests per packet, and the age after which a hole is given up.
MAX_NACKS = 10
MAX_AGE_MS = 1000
DEFAULT_RTT_MS = 100
# Sending goes on this long after the hole, past the age limit.
AFTER_HOLE_SECONDS = 1.4
# How much earlier than the round trip a retry may arrive: the worker's
# clock is read once per loop iteration, before the send.
SPACING_TOLERANCE_MS = 5.0
# The first receiver report comes within about 1.3 s (a video receiver
# reports at least every second, randomised).
FIRST_REPORT_TIMEOUT = 4.0


class NackPeer:
    """The sender. From its reader thread it answers the worker's RRTRs
    with DLRRs (dlrr_rtt_ms) and the consumer's SRs with RRs (rr_rtt_ms),
    each held back long enough that the crafted delay stays positive, and
    it records the RTCP the worker sends."""

    def __init__(self, dlrr_rtt_ms=None, rr_rtt_ms=None):
        self.dlrr_rtt_ms = dlrr_rtt_ms
        self.rr_rtt_ms = rr_rtt_ms
        self.worker_addr = None
        self.lock = threading.Lock()
        self.reports = []    # (arrival, RR ssrc, XR ssrc, RRTR NTP, RR blocks)
        self.nacks = []      # (arrival, media ssrc, [seqs])
        self.answers = []    # (time sent, "dlrr" | "rr")
        self.timers = []
        self.highest_seq = FIRST_SEQ
        self.peer = wire.UdpPeer(on_datagram=self._on_datagram)

    def _on_datagram(self, arrival, data, _source):
        if not wire.is_rtcp(data):
            return
        packets = wire.rtcp_packets(data)
        rr_ssrc = rr_blocks = None
        for ptype, fmt, pkt in packets:
            if ptype == wire.RTCP_RR:
                rr_ssrc, rr_blocks = wire.packet_ssrc(pkt), wire.report_blocks(pkt)
            elif ptype == wire.RTCP_XR:
                ntp = wire.xr_rrtr_ntp(pkt)
                if ntp is not None:
                    with self.lock:
                        self.reports.append((arrival, rr_ssrc, wire.packet_ssrc(pkt), ntp,
                                             rr_blocks))
                    if self.dlrr_rtt_ms is not None and rr_ssrc is not None:
                        self._answer_later(self.dlrr_rtt_ms, self._send_dlrr, rr_ssrc,
                                           wire.ntp_compact(ntp))
            elif ptype == wire.RTCP_SR and wire.packet_ssrc(pkt) == CONSUMER_SSRC:
                if self.rr_rtt_ms is not None:
                    self._answer_later(self.rr_rtt_ms, self._send_rr,
                                       wire.ntp_compact(wire.sender_report_ntp(pkt)))
            elif ptype == wire.RTCP_RTPFB and fmt == wire.RTPFB_NACK:
                with self.lock:
                    self.nacks.append((arrival, struct.unpack_from("!I", pkt, 8)[0],
                                       wire.nack_seqs(pkt)))

    def _answer_later(self, rtt_ms, send, *args):
        timer = threading.Timer(rtt_ms / 1000.0 + 0.02, send, args=args)
        timer.daemon = True
        with self.lock:
            self.timers.append(timer)
        timer.start()

    @staticmethod
    def _crafted_delay(last, rtt_ms):
        """The delay since `last` (compact NTP) to announce now so that the
        worker measures rtt_ms: now - last - delay = rtt_ms."""
        return (wire.compact_now() - last - wire.compact_from_ms(rtt_ms)) & 0xFFFFFFFF

    def _send_dlrr(self, rr_ssrc, lrr):
        dlrr = self._crafted_delay(lrr, self.dlrr_rtt_ms)
        compound = (wire.rtcp_sender_report(SSRC, time.time(), 0, 0, 0)
                    + wire.rtcp_xr_dlrr(SSRC, [(rr_ssrc, lrr, dlrr)]))
        self._send_answer(compound, "dlrr")

    def _send_rr(self, lsr):
        dlsr = self._crafted_delay(lsr, self.rr_rtt_ms)
        block = wire.report_block(CONSUMER_SSRC, highest_seq=0, lsr=lsr, dlsr=dlsr)
        self._send_answer(wire.rtcp_receiver_report(SSRC, [block]), "rr")

    def _send_answer(self, data, kind):
        try:
            self.peer.sendto(data, self.worker_addr)
        except OSError:
            return
        with self.lock:
            self.answers.append((time.monotonic(), kind))

    def send_packet(self, index, seq):
        payload = (wire.vp8_descriptor(True, index & 0x7FFF, 0, 0, 0)
                   + wire.vp8_payload_header(index == 0, 320, 240) + bytes(100))
        self.peer.sendto(wire.rtp_packet(SENDER_PT, seq, TS_STEP * index, SSRC, True, payload),
                         self.worker_addr)

    def snapshot(self):
        with self.lock:
            return list(self.reports), list(self.nacks), list(self.answers)

    def close(self):
        with self.lock:
            timers = list(self.timers)
        for timer in timers:
            timer.cancel()
        self.peer.close()


class NackRttTest(unittest.TestCase):

    def setUp(self):
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, **extra):
        out = {"routerId": ROUTER_ID, "transportId": TRANSPORT_ID}
        out.update(extra)
        return out

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def run_case(self, dlrr_rtt_ms=None, rr_rtt_ms=None):
        """Streams, lets the round trip be measured (or not), leaves one
        hole; returns (NACK arrival times for the hole, every NACKed
        sequence number, the hole, the receiver reports seen)."""
        answer = self.request("router.createPlainTransport", self.internal(),
                              lu.plain_transport_options(rtcp_mux=True, comedia=True))
        self.request("transport.produce", self.internal(producerId=PRODUCER_ID),
                     lu.produce_video_data(SENDER_PT, SSRC, MAPPED_PT, MAPPED_SSRC))
        if rr_rtt_ms is not None:
            self.request("transport.consume",
                         self.internal(producerId=PRODUCER_ID, consumerId=CONSUMER_ID),
                         lu.consume_video_data(MAPPED_PT, CONSUMER_SSRC, MAPPED_SSRC))
        sender = NackPeer(dlrr_rtt_ms, rr_rtt_ms)
        self.addCleanup(sender.close)
        sender.worker_addr = (lu.LOCAL_IP, answer["tuple"]["localPort"])

        expect_answer = "dlrr" if dlrr_rtt_ms is not None else \
            "rr" if rr_rtt_ms is not None else None
        index, seq = 0, FIRST_SEQ
        next_time = time.monotonic()
        deadline = next_time + FIRST_REPORT_TIMEOUT
        answered_at = None

        def tick():
            nonlocal index, seq, next_time
            sender.send_packet(index, seq)
            index += 1
            seq = (seq + 1) & 0xFFFF
            next_time += PACKET_INTERVAL
            time.sleep(max(0.0, next_time - time.monotonic()))

        # Until the round trip is known to the worker (its answer sent and
        # a few packets later), or at least one report came.
        while True:
            tick()
            reports, _, answers = sender.snapshot()
            if expect_answer is None and reports:
                break
            if expect_answer is not None and answered_at is None and \
                    any(kind == expect_answer for _, kind in answers):
                answered_at = time.monotonic()
            if answered_at is not None and time.monotonic() - answered_at > 0.1:
                break
            self.assertLess(time.monotonic(), deadline,
                            "no receiver report (or no %s answer) in %.0f s; reports %s"
                            % (expect_answer, FIRST_REPORT_TIMEOUT, reports))
        hole = seq
        seq = (seq + 1) & 0xFFFF
        hole_time = time.monotonic()
        while time.monotonic() - hole_time < AFTER_HOLE_SECONDS:
            tick()
        reports, nacks, answers = sender.snapshot()
        times = [t for t, ssrc, seqs in nacks if ssrc == SSRC and hole in seqs]
        nacked = sorted({s for _, _, seqs in nacks for s in seqs})
        if rr_rtt_ms is not None:
            stats = lu.stream_stats(self.request(
                "consumer.getStats", self.internal(producerId=PRODUCER_ID,
                                                   consumerId=CONSUMER_ID)), "outbound-rtp")
            self.consumer_rtt = stats.get("roundTripTime")
        return times, nacked, hole, reports

    def check_reports(self, reports):
        """Every RR compound carries an XR RRTR block from the RR's SSRC,
        with the worker's current NTP time, and reports on our stream."""
        self.assertTrue(reports)
        for arrival, rr_ssrc, xr_ssrc, ntp, blocks in reports:
            self.assertIsNotNone(rr_ssrc, "an RRTR without a receiver report")
            self.assertEqual(xr_ssrc, rr_ssrc, "the RRTR's SSRC is not the RR's")
            unix = (ntp >> 32) - wire.NTP_EPOCH_OFFSET + (ntp & 0xFFFFFFFF) / 2 ** 32
            self.assertLess(abs(unix - arrival), 0.5, "RRTR time is not the worker's now")
            self.assertEqual([b.ssrc for b in blocks], [SSRC])

    def check_spacing(self, times, nacked, hole, rtt_ms, median_below, count=None):
        spacings = [round((b - a) * 1000.0, 1) for a, b in zip(times, times[1:])]
        figures = "NACKs for %d at +%s ms; spacings %s ms" % (
            hole, [round((t - times[0]) * 1000.0) for t in times] if times else [], spacings)
        self.report(figures)
        self.assertEqual(nacked, [hole], "the worker NACKed other packets: " + figures)
        self.assertGreaterEqual(len(times), 3, figures)
        if count is not None:
            self.assertIn(len(times), count, figures)
        self.assertGreaterEqual(min(spacings), rtt_ms - SPACING_TOLERANCE_MS, figures)
        self.assertLess(statistics.median(spacings), median_below, figures)
        self.assertLessEqual((times[-1] - times[0]) * 1000.0, MAX_AGE_MS + SPACING_TOLERANCE_MS,
                             figures)
        return spacings

    def test_dlrr_40ms(self):
        times, nacked, hole, reports = self.run_case(dlrr_rtt_ms=40)
        self.check_reports(reports)
        # Clearly below the 100 ms default; all retries before the age limit.
        self.check_spacing(times, nacked, hole, 40, median_below=80, count=(MAX_NACKS,))

    def test_dlrr_300ms(self):
        times, nacked, hole, reports = self.run_case(dlrr_rtt_ms=300)
        self.check_reports(reports)
        self.check_spacing(times, nacked, hole, 300, median_below=450, count=(3, 4))

    def test_default_without_measurement(self):
        times, nacked, hole, reports = self.run_case()
        self.check_reports(reports)
        self.check_spacing(times, nacked, hole, DEFAULT_RTT_MS, median_below=160)

    def test_consumer_round_trip_without_dlrr(self):
        """No DLRR: the round trip a consumer on the same transport measured
        from the receiver report on its stream spaces the producer's NACKs."""
        times, nacked, hole, reports = self.run_case(rr_rtt_ms=200)
        self.check_reports(reports)
        self.assertIsNotNone(self.consumer_rtt, "the consumer measured no round trip")
        self.assertGreaterEqual(self.consumer_rtt, 199)
        self.assertLess(self.consumer_rtt, 300)
        # 200 ms apart within the 1,000 ms age limit, whose end is inclusive:
        # four to six NACKs, as the measured round trip falls just under or
        # just over 200 ms and the retry timer's phase lands.
        self.check_spacing(times, nacked, hole, 200, median_below=300, count=(4, 5, 6))


if __name__ == "__main__":
    unittest.main()
