"""Bitrate allocation end to end: a transport's outgoing estimate decides
which simulcast stream its consumers forward.

The simulcast sender of test_simulcast.py sends three VP8 streams of
clearly different bitrates (1, 8 and 16 packets of about 420 bytes per
frame at 30 frames/s: about 0.1, 0.8 and 1.6 Mbit/s, each in temporal
layers 0, 2, 1, 2, so that temporal layer 0 carries a quarter of a
stream, 0 and 1 half of it) into a PlainTransport. The consumers sit on
another PlainTransport and negotiate abs-send-time with goog-remb feedback,
so the transport estimates with REMB: the test plays their receiver and
sends REMB (every 0.5 s, as browsers do), which bounds the estimate
directly. The REMB values that must and must not fit are derived from the
bitrate the producer measures of stream 0 (r0), as a loaded machine may
send slower than 30 frames/s: stream 1 is 8 r0 (its temporal layer 0 is 2
r0), stream 2 is 16 r0.

What is checked:
- a high REMB lets the consumer climb to the preferred top stream, but only
  after the hold (3 s) that a layer above the current one needs;
- a low REMB makes it drop promptly (well within the hold) to the stream
  that fits (stream 0): layerschange says so, consumer.dump's target says
  so, and the packets that arrive come from stream 0 and no other; a REMB
  high again brings it back to stream 2, again no sooner than the hold;
- across all of this the receiver sees one continuous stream (sequence
  numbers, picture ids, timestamps, key frames at each switch);
- with two consumers whose top streams do not both fit, the one with the
  higher priority (consumer.setPriority) keeps stream 2 while the other
  drops below it.

Run: test/integration/run_tests.py -v test_bwe_allocation
Environment: SFU_TEST_VERBOSE=1 prints the figures of each case.
"""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loss_util as lu  # noqa: E402
import test_simulcast as sim  # noqa: E402
from wire_util import rtcp_remb  # noqa: E402

ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
ABS_SEND_TIME_ID = 3
# The allocation's hold before a switch up (BitrateAllocator::Config).
HOLD = 3.0
HIGH_BPS = 5_000_000
REMB_INTERVAL = 0.5
RECEIVER_SSRC = 4243

SECOND_CONSUMER_ID = "consumer-simulcast-2"
SECOND_SSRC, SECOND_RTX_SSRC = 710000, 710001


class RembSender:
    """Sends a REMB with the current value from the receiver's socket to the
    consumer transport every REMB_INTERVAL seconds."""

    def __init__(self, sock, port, ssrcs, bps):
        self.sock = sock
        self.address = (lu.LOCAL_IP, port)
        self.ssrcs = list(ssrcs)
        self.bps = bps
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="remb-sender", daemon=True)
        self.thread.start()

    def set(self, bps):
        """Sends `bps` now and from then on."""
        with self.lock:
            self.bps = bps
        self._send()

    def _send(self):
        with self.lock:
            packet = rtcp_remb(RECEIVER_SSRC, self.bps, self.ssrcs)
        try:
            self.sock.sendto(packet, self.address)
        except OSError:
            pass

    def _run(self):
        while not self._stop.wait(REMB_INTERVAL):
            self._send()

    def stop(self):
        self._stop.set()
        self.thread.join(2)


class BweAllocationTest(sim.SimulcastCase):
    SENDER_OPTIONS = {"frame_packets": (1, 8, 16), "packet_size": 400}

    def setUp(self):
        super().setUp()
        self.remb = None
        self.addCleanup(self._stop_remb)

    def _stop_remb(self):
        if self.remb is not None:
            self.remb.stop()

    def consume_data(self, **kwargs):
        data = super().consume_data(**kwargs)
        params = data["rtpParameters"]
        params["headerExtensions"] = [{"uri": ABS_SEND_TIME_URI, "id": ABS_SEND_TIME_ID}]
        for codec in params["codecs"]:
            if codec["mimeType"].lower() != "video/rtx":
                codec["rtcpFeedback"].append({"type": "goog-remb"})
        return data

    def consume_as(self, consumer_id, **kwargs):
        return self.request("transport.consume", self.consumer_internal(consumer_id),
                            self.consume_data(**kwargs))

    def layers_of(self, consumer_id, since):
        return self.layers_notifications(consumer_id)[since:]

    def wait_layers_of(self, consumer_id, expected, since, timeout):
        """Waits for a layerschange of `consumer_id` equal to expected, after
        mark `since`; returns when it was seen (time.monotonic())."""
        self.wait_until(
            "layerschange %s of %s" % (expected, consumer_id),
            lambda: expected in self.layers_of(consumer_id, since) or None, timeout)
        return time.monotonic()

    def stream_rates(self):
        by_ssrc = {s.get("ssrc"): s.get("bitrate", 0) for s in self.producer_stats() or []
                   if s.get("type") == "inbound-rtp"}
        return [by_ssrc.get(ssrc, 0) for ssrc in sim.SENDER_SSRCS]

    def measure_r0(self):
        """Waits until the producer measured a full second of every stream
        (stream 2 at half its nominal bitrate or more), then returns r0, the
        mean of a few samples of stream 0's bitrate."""
        self.wait_until("stream 2 at its bitrate", lambda: self.stream_rates()[2] >= 800_000, 10)
        samples = []
        for _ in range(4):
            samples.append(self.stream_rates())
            time.sleep(0.3)
        means = [sum(s[i] for s in samples) / len(samples) for i in range(3)]
        self.report("producer streams (bit/s): %s" % [int(m) for m in means])
        return means[0]

    def streams_since(self, ssrc, since):
        return {p.stream for p in self.receiver.rtp(ssrc, since)}

    def streams_between(self, ssrc, since, until):
        return {p.stream for p in self.receiver.rtp(ssrc, since) if p.t < until}

    def assert_moves_to(self, consumer_id, since, spatial):
        """Every layerschange after mark `since` is on stream `spatial`."""
        notes = self.layers_of(consumer_id, since)
        self.assertTrue(notes and all((n or {}).get("spatialLayer") == spatial for n in notes),
                        "layerschange of %s: %s" % (consumer_id, notes))

    def test_0_remb_moves_the_consumer_between_streams(self):
        self.setup_media()
        r0 = self.measure_r0()
        t_start, mark = time.monotonic(), self.mark()
        self.consume()
        self.remb = RembSender(self.receiver.sock, self.recv_port, [sim.CONSUMER_SSRC],
                               HIGH_BPS)
        self.remb.set(HIGH_BPS)

        # Up to the top, only after the hold.
        t_top = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark, 15)
        self.assertGreaterEqual(t_top - t_start, HOLD - 0.3, self.layers_of(sim.CONSUMER_ID, 0))
        self.wait_pictures(2, 15, since=t_top)

        # A low REMB: stream 0 at all its temporal layers (r0) fits, the base
        # layer of stream 1 (2 r0) does not.
        t_low, mark = time.monotonic(), self.mark()
        self.remb.set(int(1.4 * r0))
        t_down = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(0, 2), mark, 10)
        self.assertLess(t_down - t_low, HOLD, "the switch down waited")
        self.assert_moves_to(sim.CONSUMER_ID, mark, 0)
        self.assert_dump_layers(self.dump(), (2, 2), (0, 2), (0, 2))
        self.wait_pictures(0, 30, since=t_down)
        settled = t_down + 0.3
        self.assertEqual(self.streams_since(sim.CONSUMER_SSRC, settled), {0},
                         "streams forwarded after the switch down")
        self.assertTrue(self.sender.requests_for(0, since=t_low),
                        "no key frame request for stream 0")

        # High again: back to the preferred top stream after the hold.
        t_high, mark = time.monotonic(), self.mark()
        self.remb.set(HIGH_BPS)
        t_up = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark, 15)
        self.assertGreaterEqual(t_up - t_high, HOLD - 0.3,
                                "the switch up came before the hold: %s"
                                % self.layers_of(sim.CONSUMER_ID, mark))
        self.assertEqual(self.streams_between(sim.CONSUMER_SSRC, t_high + 0.3, t_up - 0.3), {0},
                         "streams forwarded during the hold")
        self.wait_pictures(2, 15, since=t_up)
        self.assertEqual(self.streams_since(sim.CONSUMER_SSRC, t_up + 0.3), {2})

        self.assert_only_consumer_ssrc()
        _, segments = self.assert_forwarded_ok(self.receiver.rtp(sim.CONSUMER_SSRC))
        self.report("top after %.2fs, down after %.2fs, up after %.2fs; segments %s; "
                    "layerschange %s" % (t_top - t_start, t_down - t_low, t_up - t_high,
                                         sim.describe_segments(segments),
                                         self.layers_notifications()))
        scores = [n for n in list(self.worker.all_notifications)
                  if n.get("targetId") == sim.CONSUMER_ID and n.get("event") == "score"]
        self.assertTrue(scores, "no score notifications")
        self.finish()

    def test_1_higher_priority_keeps_its_layer(self):
        self.setup_media()
        r0 = self.measure_r0()
        mark_a, mark_b = self.mark(), len(self.layers_notifications(SECOND_CONSUMER_ID))
        self.consume()
        self.consume_as(SECOND_CONSUMER_ID, ssrc=SECOND_SSRC, rtx_ssrc=SECOND_RTX_SSRC, mid="1")
        answer = self.consumer_request("consumer.setPriority", {"priority": 2},
                                       consumer_id=SECOND_CONSUMER_ID)
        self.assertEqual(answer, {"priority": 2})
        self.remb = RembSender(self.receiver.sock, self.recv_port,
                               [sim.CONSUMER_SSRC, SECOND_SSRC], HIGH_BPS)
        self.remb.set(HIGH_BPS)
        self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark_a, 15)
        self.wait_layers_of(SECOND_CONSUMER_ID, sim.layers(2, 2), mark_b, 15)

        # 22.25 r0: both get the base layer of stream 0 (r0 / 4 each), then
        # one of them stream 2 (16 r0), and what is left (6 r0) takes the
        # other to stream 1 at temporal layer 1 (4 r0), not 2 (8 r0).
        t_cut = time.monotonic()
        mark_a, mark_b = self.mark(), len(self.layers_notifications(SECOND_CONSUMER_ID))
        self.remb.set(int(22.25 * r0))
        t_down = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(1, 1), mark_a, 10)
        self.assert_moves_to(sim.CONSUMER_ID, mark_a, 1)
        self.wait_pictures(1, 15, since=t_down)
        # Time for anything else to happen before looking.
        time.sleep(1.0)
        self.assertEqual(self.layers_of(SECOND_CONSUMER_ID, mark_b), [],
                         "the priority 2 consumer changed layers")
        self.assert_dump_layers(self.dump(SECOND_CONSUMER_ID), (2, 2), (2, 2), (2, 2))
        self.assertEqual(self.streams_since(SECOND_SSRC, t_cut), {2})
        self.assertEqual(self.streams_since(sim.CONSUMER_SSRC, t_down + 0.3), {1})
        for ssrc in (sim.CONSUMER_SSRC, SECOND_SSRC):
            self.assert_forwarded_ok(self.receiver.rtp(ssrc))
        self.report("layerschange: priority 1 %s, priority 2 %s" % (
            self.layers_notifications(), self.layers_notifications(SECOND_CONSUMER_ID)))
        self.finish()


if __name__ == "__main__":
    unittest.main()
