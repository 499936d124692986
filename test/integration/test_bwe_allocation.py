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
directly. The REMB values that must and must not fit follow the bitrate
the producer measures of stream 0 (r0, read again before each REMB), as a
loaded machine may send slower than 30 frames/s or catch up in bursts:
stream 1 is 8 r0 (its temporal layer 0 is 2 r0), stream 2 is 16 r0.

What is checked:
- a high REMB lets the consumer climb to the preferred top stream, but only
  after the hold (3 s) that a layer above the current one needs;
- a low REMB makes it drop promptly (well within the hold) to the stream
  that fits (stream 0): layerschange says so, consumer.dump's target says
  so, and the packets that arrive come from stream 0 and no other; a REMB
  high again brings it back to stream 2, again no sooner than the hold;
- across all of this the receiver sees one continuous stream (sequence
  numbers, picture ids, timestamps, key frames at each switch);
- while held on stream 0, the transport's "bwe" trace says it desires what
  the consumer would send at its preferred top stream (16 r0 and more),
  not what it sends now, so that probing goes after the bandwidth the
  preferred layers need;
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
        self.remb_factor = None
        self.remb_refreshed = 0.0
        self.addCleanup(self._stop_remb)

    def start_remb(self, ssrcs, bps):
        self.remb = RembSender(self.receiver.sock, self.recv_port, ssrcs, bps)
        self.remb.set(bps)

    def set_remb(self, bps):
        """A fixed REMB from now on."""
        self.remb_factor = None
        self.remb.set(bps)

    def track_remb(self, factor):
        """From now on the REMB is `factor` times r0 as the producer
        measures it (read again every REMB_INTERVAL while waiting)."""
        self.remb_factor = factor
        self.refresh_remb(force=True)

    def refresh_remb(self, force=False):
        now = time.monotonic()
        if self.remb_factor is None or (not force and now - self.remb_refreshed < REMB_INTERVAL):
            return
        self.remb_refreshed = now
        self.remb.set(int(self.remb_factor * self.stream_rates()[0]))

    def wait_until(self, what, check, timeout):
        def tracking():
            self.refresh_remb()
            return check()
        return super().wait_until(what, tracking, timeout)

    def settle(self, seconds):
        """Lets `seconds` pass (the REMB tracking r0 meanwhile)."""
        end = time.monotonic() + seconds
        self.wait_until("%.1f s to pass" % seconds, lambda: time.monotonic() >= end, seconds + 5)

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

    def wait_streams(self):
        """Until the producer measured a full second of every stream (stream
        2 at half its nominal bitrate or more)."""
        self.wait_until("stream 2 at its bitrate", lambda: self.stream_rates()[2] >= 800_000, 10)
        self.report("producer streams (bit/s): %s" % self.stream_rates())

    def streams_since(self, ssrc, since):
        return {p.stream for p in self.receiver.rtp(ssrc, since)}

    def streams_between(self, ssrc, since, until):
        return {p.stream for p in self.receiver.rtp(ssrc, since) if p.t < until}

    def wait_on_stream(self, consumer_id, spatial, since, timeout):
        """Waits until the latest layerschange of `consumer_id` after mark
        `since` is on stream `spatial`; returns when it was seen."""
        def check():
            notes = self.layers_of(consumer_id, since)
            return notes and (notes[-1] or {}).get("spatialLayer") == spatial
        self.wait_until("%s on stream %d" % (consumer_id, spatial), check, timeout)
        return time.monotonic()

    def segment_times(self, origin):
        """(stream, arrival of its first packet after `origin`, in seconds)
        of each run of the consumer's stream."""
        out = []
        for p in self.receiver.rtp(sim.CONSUMER_SSRC):
            if not out or out[-1][0] != p.stream:
                out.append((p.stream, round(p.t - origin, 2)))
        return out

    def assert_moves_to(self, consumer_id, since, spatial):
        """Every layerschange after mark `since` is on stream `spatial`."""
        notes = self.layers_of(consumer_id, since)
        self.assertTrue(notes and all((n or {}).get("spatialLayer") == spatial for n in notes),
                        "layerschange of %s: %s" % (consumer_id, notes))

    def bwe_traces(self, since):
        """The bwe trace events of the consumers' transport from the
        worker's notification `since` on."""
        return [n["data"]["info"] for n in list(self.worker.all_notifications)[since:]
                if n.get("targetId") == sim.RECV_TRANSPORT and n.get("event") == "trace"
                and (n.get("data") or {}).get("type") == "bwe"]

    def test_0_remb_moves_the_consumer_between_streams(self):
        self.setup_media()
        self.wait_streams()
        self.request("transport.enableTraceEvent", self.internal(sim.RECV_TRANSPORT),
                     {"types": ["bwe"]})
        t_start, mark = time.monotonic(), self.mark()
        self.consume()
        self.start_remb([sim.CONSUMER_SSRC], HIGH_BPS)

        # Up to the top, only after the hold.
        t_top = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark, 15)
        self.assertGreaterEqual(t_top - t_start, HOLD - 0.3, self.layers_of(sim.CONSUMER_ID, 0))
        self.wait_pictures(2, 15, since=t_top)

        # A low REMB: stream 0 at all its temporal layers (r0) fits, the base
        # layer of stream 1 (2 r0, 2.2 r0 with the margin to go up) is far
        # from fitting, whatever the noise of the two measurements.
        t_low, mark = time.monotonic(), self.mark()
        self.track_remb(1.2)
        t_down = self.wait_on_stream(sim.CONSUMER_ID, 0, mark, 10)
        self.assertLess(t_down - t_low, HOLD, "the switch down waited")
        self.assert_moves_to(sim.CONSUMER_ID, mark, 0)
        dump = self.dump()
        self.assertEqual((dump.get("targetSpatialLayer"), dump.get("currentSpatialLayer")), (0, 0),
                         dump)
        self.wait_pictures(0, 30, since=t_down)
        settled = t_down + 0.3
        self.assertEqual(self.streams_since(sim.CONSUMER_SSRC, settled), {0},
                         "streams forwarded after the switch down")
        self.assertTrue(self.sender.requests_for(0, since=t_low),
                        "no key frame request for stream 0")
        # What it desires: the preferred top stream, not the stream 0 it
        # sends (r0 with a quarter on top), while the estimate is 1.2 r0.
        # The send rate is measured over a second: the traces from when it
        # still counted stream 2 are left behind.
        self.settle(1.5)
        r0, since = self.stream_rates()[0], len(self.worker.all_notifications)
        self.wait_until("a bwe trace desiring the top stream", lambda: [
            t for t in self.bwe_traces(since)
            if t["desiredBitrate"] >= 10 * r0 and t["availableBitrate"] <= 2 * r0], 10)

        # High again: back to the preferred top stream after the hold.
        t_high, mark = time.monotonic(), self.mark()
        self.set_remb(HIGH_BPS)
        t_up = self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark, 15)
        self.assertGreaterEqual(t_up - t_high, HOLD - 0.3,
                                "the switch up came before the hold: %s"
                                % self.layers_of(sim.CONSUMER_ID, mark))
        self.assertEqual(
            self.streams_between(sim.CONSUMER_SSRC, t_high + 0.3, t_high + HOLD - 0.3), {0},
            "streams forwarded during the hold: %s" % self.segment_times(t_high))
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
        self.wait_streams()
        mark_a, mark_b = self.mark(), len(self.layers_notifications(SECOND_CONSUMER_ID))
        self.consume()
        self.consume_as(SECOND_CONSUMER_ID, ssrc=SECOND_SSRC, rtx_ssrc=SECOND_RTX_SSRC, mid="1")
        answer = self.consumer_request("consumer.setPriority", {"priority": 2},
                                       consumer_id=SECOND_CONSUMER_ID)
        self.assertEqual(answer, {"priority": 2})
        self.start_remb([sim.CONSUMER_SSRC, SECOND_SSRC], HIGH_BPS)
        self.wait_layers_of(sim.CONSUMER_ID, sim.layers(2, 2), mark_a, 15)
        self.wait_layers_of(SECOND_CONSUMER_ID, sim.layers(2, 2), mark_b, 15)

        # 22 r0: both get the base layer of stream 0 (r0 / 4 each), then one
        # of them stream 2 (16 r0), and what is left (about 6 r0) takes the
        # other to stream 1 at temporal layer 1 (4 r0), not 2 (8 r0). With
        # equal priorities they would take their steps in turn and both end
        # at stream 2, temporal layer 1 (8 r0 each).
        t_cut = time.monotonic()
        mark_a, mark_b = self.mark(), len(self.layers_notifications(SECOND_CONSUMER_ID))
        self.track_remb(22)
        t_down = self.wait_on_stream(sim.CONSUMER_ID, 1, mark_a, 10)
        self.wait_pictures(1, 15, since=t_down)
        # Time for anything else to happen before looking.
        self.settle(1.5)
        self.assertEqual(self.layers_of(sim.CONSUMER_ID, mark_a)[-1]["spatialLayer"], 1,
                         self.layers_of(sim.CONSUMER_ID, mark_a))
        self.assertEqual(self.layers_of(SECOND_CONSUMER_ID, mark_b), [],
                         "the priority 2 consumer changed layers")
        self.assert_dump_layers(self.dump(SECOND_CONSUMER_ID), (2, 2), (2, 2), (2, 2))
        self.assertEqual(self.streams_since(SECOND_SSRC, t_cut), {2})
        self.assertEqual(self.streams_since(sim.CONSUMER_SSRC, t_down + 0.3), {1})
        self.assertNotIn(None, self.layers_of(sim.CONSUMER_ID, mark_a))
        for ssrc in (sim.CONSUMER_SSRC, SECOND_SSRC):
            self.assert_forwarded_ok(self.receiver.rtp(ssrc))
        self.report("layerschange: priority 1 %s, priority 2 %s" % (
            self.layers_notifications(), self.layers_notifications(SECOND_CONSUMER_ID)))
        self.finish()


if __name__ == "__main__":
    unittest.main()
