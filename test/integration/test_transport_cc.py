"""Transport-wide congestion control feedback on the wire.

A Python sender streams Opus into a comedia PlainTransport (rtcp-mux) with
the transport-wide sequence number header extension negotiated in the
producer's rtpParameters. Its transport-wide sequence numbers cross the
16-bit wrap, leave out one number and then two consecutive ones, and send
two numbers in swapped order, 2 ms apart (right after a feedback packet, so
that both land in the same batch of the worker's 100 ms cycle). Every RTCP
RTPFB FMT 15 packet the worker sends back is parsed from scratch
(wire_util.TransportCcFeedback, after
draft-holmer-rmcat-transport-wide-cc-extensions-01) and must:

  - name our SSRC as the media source, from one sender SSRC;
  - carry feedback packet counts 0, 1, 2, ... with no gap;
  - cover, by base sequence numbers and status counts, exactly the range
    sent, each number once, in order, across the wrap;
  - report the left-out numbers as not received, every other one as
    received with a receive delta, the swapped pair with the later number
    arriving first (a delta <= 0), and arrival times whose spacing follows
    the sending;

and transport.dump's transportCcFeedback.packets equals the number of
feedback packets received. The host side is the project's control library
(python/sfu_host, through library_util).

Run: python3 -m unittest discover -s test/integration -p test_transport_cc.py -v
Environment: SFU_TEST_VERBOSE=1 prints the feedback packets.
"""

import asyncio
import os
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from library_util import library_worker, run_async  # noqa: E402
import media_util as mu  # noqa: E402
import wire_util as wire  # noqa: E402

OPUS = {"mimeType": "audio/opus", "clockRate": 48000, "channels": 2}
OPUS_PT = 100
SSRC = 33333333
TCC_EXT_ID = 5
# Transport-wide sequence numbers: FIRST_TW + 0 .. COUNT - 1, wrapping.
FIRST_TW = 65520
COUNT = 60
LOST = {10, 30, 31}
# Sent as SWAPPED[1] then SWAPPED[0].
SWAPPED = (40, 41)
SWAP_GAP = 0.002
PACKET_INTERVAL = 0.02
# The worker reports every 100 ms; a packet waits at most that long.
FEEDBACK_WAIT = 0.5
# How far a packet's reported arrival may stray from its send time, after
# the offset between the two clocks (their median difference) is removed.
ARRIVAL_TOLERANCE_MS = 15.0
# Late arrivals a loaded machine may cause (the worker descheduled), and how
# late they may be.
MAX_LATE_ARRIVALS = 6
MAX_LATE_MS = 250.0


def tw(index):
    return (FIRST_TW + index) & 0xFFFF


class TransportCcTest(unittest.TestCase):

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    @staticmethod
    def feedbacks(peer):
        out = []
        for _, data, _ in peer.received():
            if not wire.is_rtcp(data):
                continue
            for ptype, fmt, pkt in wire.rtcp_packets(data):
                if ptype == wire.RTCP_RTPFB and fmt == wire.RTPFB_TRANSPORT_CC:
                    out.append(wire.TransportCcFeedback(pkt))
        return out

    @staticmethod
    def rr_ssrcs(peer):
        return {wire.packet_ssrc(pkt) for _, data, _ in peer.received() if wire.is_rtcp(data)
                for ptype, _, pkt in wire.rtcp_packets(data) if ptype == wire.RTCP_RR}

    def test_feedback_covers_what_was_sent(self):
        peer = wire.UdpPeer()
        self.addCleanup(peer.close)

        async def scenario():
            async with library_worker(log_level="warn") as worker:
                router = await worker.create_router(media_codecs=[dict(OPUS, kind="audio")])
                transport = await router.create_plain_transport(
                    listen_ip=mu.LOCAL_IP, rtcp_mux=True, comedia=True)
                await transport.produce(kind="audio", rtp_parameters={
                    "codecs": [dict(OPUS, payloadType=OPUS_PT,
                                    rtcpFeedback=[{"type": "transport-cc"}])],
                    "headerExtensions": [{"uri": wire.EXT_TRANSPORT_WIDE_CC, "id": TCC_EXT_ID}],
                    "encodings": [{"ssrc": SSRC}]})
                # The stream is timed to the millisecond: it goes out from a
                # thread of its own, the event loop left to the library.
                sent_at = await asyncio.to_thread(
                    self.send_stream, peer, (mu.LOCAL_IP, transport.tuple["localPort"]))
                return sent_at, await transport.dump()

        sent_at, dump = run_async(scenario(), 30)
        self.check_feedback(peer, sent_at, dump)

    def send_stream(self, peer, worker_addr):
        """Sends the COUNT packets as planned; returns when each was sent
        (time.time()), by index."""

        sent_at = {}
        rtp_seq = 1000

        def send(index):
            nonlocal rtp_seq
            payload = b"\xfc" + bytes(60)
            packet = wire.rtp_packet(OPUS_PT, rtp_seq, 960 * rtp_seq, SSRC, False, payload,
                                     {TCC_EXT_ID: wire.transport_wide_seq(tw(index))})
            rtp_seq += 1
            peer.sendto(packet, worker_addr)
            sent_at[index] = time.time()

        next_time = time.monotonic()
        for index in range(COUNT):
            if index in LOST or index == SWAPPED[1]:
                continue
            if index == SWAPPED[0]:
                # Right after the feedback packet that reports the previous
                # packet: the next one is at least 80 ms away, so the pair
                # is reported together.
                previous = tw(index - 1)
                self.assertTrue(peer.wait_until(
                    lambda _: any(previous in f.offsets_us for f in self.feedbacks(peer)), 1.0),
                    "no feedback while packets flow")
                send(SWAPPED[1])
                time.sleep(SWAP_GAP)
                send(SWAPPED[0])
                next_time = time.monotonic()
            else:
                send(index)
            next_time += PACKET_INTERVAL
            time.sleep(max(0.0, next_time - time.monotonic()))
        end = tw(COUNT)
        self.assertTrue(peer.wait_until(
            lambda _: any((f.base_seq + f.status_count) & 0xFFFF == end
                          for f in self.feedbacks(peer)), FEEDBACK_WAIT),
            "no feedback up to the last packet")
        time.sleep(0.3)
        return sent_at

    def check_feedback(self, peer, sent_at, dump):
        fbs = self.feedbacks(peer)
        figures = ["fb %d: base %d count %d ref %d chunks %s lost %s" % (
            f.fb_count, f.base_seq, f.status_count, f.reference_field, f.chunks, f.lost())
            for f in fbs]
        self.report("%d feedback packets\n    %s" % (len(fbs), "\n    ".join(figures)))
        where = "\n".join(figures)

        # Who: our stream, from one sender SSRC (the transport's RTCP one).
        self.assertGreaterEqual(len(fbs), 5, where)
        self.assertEqual({f.media_ssrc for f in fbs}, {SSRC}, where)
        self.assertEqual(len({f.sender_ssrc for f in fbs}), 1, where)
        rr_ssrcs = self.rr_ssrcs(peer)
        if rr_ssrcs:
            self.assertEqual(rr_ssrcs, {fbs[0].sender_ssrc})
        # Feedback packet counts go up by one.
        self.assertEqual([f.fb_count for f in fbs], [i & 0xFF for i in range(len(fbs))], where)
        # Base sequence numbers and status counts tile the range sent.
        self.assertEqual(fbs[0].base_seq, tw(0), where)
        for a, b in zip(fbs, fbs[1:]):
            self.assertEqual(b.base_seq, (a.base_seq + a.status_count) & 0xFFFF, where)
        self.assertEqual(sum(f.status_count for f in fbs), COUNT, where)
        # The statuses: lost ones not received, the others with a delta.
        statuses = [s for f in fbs for s in f.statuses]
        self.assertEqual([seq for seq, _, _ in statuses], [tw(i) for i in range(COUNT)])
        for index, (seq, symbol, delta) in enumerate(statuses):
            if index in LOST:
                self.assertEqual((symbol, delta), (0, None), "%d reported received" % seq)
            else:
                self.assertIn(symbol, (1, 2), "%d reported lost\n%s" % (seq, where))
                self.assertIsNotNone(delta)
                if symbol == 2:
                    self.assertFalse(0 <= delta <= 255, "a large delta that fits one octet")

        # Arrival times on one time line (the reference times unwrapped).
        first = fbs[0].reference_field
        arrivals = {}
        for f in fbs:
            ref = (f.reference_field - first + (1 << 23)) % (1 << 24) - (1 << 23)
            for seq, offset in f.offsets_us.items():
                arrivals[(seq - tw(0)) & 0xFFFF] = ref * 64000 + offset
        self.assertEqual(sorted(arrivals), [i for i in range(COUNT) if i not in LOST])
        # The swapped pair: in one feedback packet, the later number first.
        low, high = SWAPPED
        holder = [f for f in fbs if tw(low) in f.offsets_us]
        self.assertIn(tw(high), holder[0].offsets_us, "the swapped pair was split\n" + where)
        high_delta = [d for seq, _, d in statuses if seq == tw(high)][0]
        self.assertLessEqual(high_delta, 0, "the pair's reordering does not show")
        self.assertLessEqual(arrivals[high], arrivals[low])
        # Everything else arrived as it was sent: the reported arrival minus
        # the send time is the same for all packets, within the tolerance.
        # A worker descheduled on a loaded machine reads a few packets late
        # together, which is what it reports then; never early.
        skew = {i: arrivals[i] / 1000.0 - sent_at[i] * 1000.0 for i in arrivals}
        middle = statistics.median(skew.values())
        off = {i: round(v - middle, 1) for i, v in skew.items()
               if abs(v - middle) > ARRIVAL_TOLERANCE_MS}
        early = {i: v for i, v in off.items() if v < 0}
        self.assertEqual(early, {}, "arrivals (ms) before the send times")
        self.assertLessEqual(len(off), MAX_LATE_ARRIVALS,
                             "arrivals (ms) away from the send times: %s" % off)
        self.assertTrue(all(v < MAX_LATE_MS for v in off.values()),
                        "arrivals (ms) far after the send times: %s" % off)

        feedback = dump["transportCcFeedback"]
        self.assertEqual(feedback["packets"], len(fbs), feedback)
        self.assertEqual(feedback["arrivalsDropped"], 0, feedback)


if __name__ == "__main__":
    unittest.main()
