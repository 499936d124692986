"""VP9 simulcast: every case of test_simulcast.py run again with VP9
payloads (three S1T3 streams, VP9 payload descriptors in non-flexible mode:
15-bit picture ids, layer indices TID/U/SID 0, TL0PICIDX; key frames with
P=0 and a scalability structure with their size; VP9 uncompressed frame
headers), through the same producer and simulcast and pipe consumers. The
checks are those of the VP8 cases: one continuous stream on the consumer's
SSRC with sequence numbers, picture ids and TL0PICIDX continuing across
switches, each switch at a key frame of the new stream the worker asked
for, B and E bits and markers as sent.

test_12 adds what is VP9's own at the switches themselves.

Run: python3 -m unittest discover -s test/integration -p test_simulcast_vp9.py -v
Environment: as test_simulcast.py.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_simulcast as sim  # noqa: E402


class Vp9SimulcastTest(sim.SimulcastTest):
    CODEC = "VP9"

    def wait_fresh_base_picture(self, stream):
        """Waits for a TID 0 picture of `stream` to arrive and returns at
        once: a switch requested now takes effect at the next frame, whose
        picture of the old stream (TID 2) the temporal filter drops."""
        seen = len(self.receiver.rtp(sim.CONSUMER_SSRC))
        def fresh():
            packets = self.receiver.rtp(sim.CONSUMER_SSRC)[seen:]
            return [p for p in packets if p.stream == stream and p.tid == 0 and p.start]
        self.wait_until("a TID 0 picture of stream %d" % stream, fresh, 3)

    def test_12_vp9_descriptors_across_switches(self):
        """Five switches between streams 0 and 1 at temporal layer 0, each
        requested right after a TID 0 picture, so that on the switches to
        stream 1 the old stream's picture of the key frame's tick (TID 2,
        sent first) is dropped by the temporal filter just before the new
        stream's key frame (the worker used to carry that dropped picture's
        id into the new run: +2). At each switch the first packet
        forwarded is that key frame's start (B=1, P=0) with its scalability
        structure (its own resolution), numbered right after the last packet
        sent of the old stream: sequence number +1, picture id +1, TL0PICIDX
        +1 (a key frame is a TID 0 picture); every packet has SID 0 and the
        sender's TID and U bit."""
        self.setup_media()
        self.start_consumer()
        t = time.monotonic()
        self.consumer_request("consumer.setPreferredLayers", {"spatialLayer": 2,
                                                              "temporalLayer": 0})
        self.wait_pictures(2, 8, since=t)
        targets = (0, 1, 0, 1, 0)
        requested = []
        current = 2
        for target in targets:
            self.wait_fresh_base_picture(current)
            t = time.monotonic()
            self.consumer_request("consumer.setPreferredLayers", {"spatialLayer": target,
                                                                  "temporalLayer": 0})
            requested.append(t)
            self.wait_pictures(target, 3, since=t)
            current = target

        packets = self.receiver.rtp(sim.CONSUMER_SSRC)
        pictures, segments = self.assert_forwarded_ok(packets)
        where = sim.describe_segments(segments)
        self.assertEqual([s["stream"] for s in segments], [2] + list(targets), where)
        for p in packets:
            sent = self.sender.frame(p.stream, p.tick)
            self.assertEqual((p.sid, p.pid_bits, p.tid), (0, 15, sent.tid), p)
            self.assertEqual(p.ss, p.key, "scalability structure on %r" % p)
            # The descriptor as sent: byte 3 holds TID, U, SID and D.
            layer_byte = self.sender.payloads[(p.stream, p.tick, p.idx)][3]
            self.assertEqual(p.y, (layer_byte >> 4) & 1, "U bit of %r" % p)
        switches = []
        for seg, since in zip(segments[1:], requested):
            first = pictures[seg["first_picture"]]["packets"][0]
            last = pictures[seg["first_picture"] - 1]["packets"][-1]
            self.assertTrue(first.key and first.start and first.idx == 0, first)
            self.assertEqual((first.width, first.height), sim.RESOLUTIONS[seg["stream"]], first)
            self.assertEqual(first.seq, (last.seq + 1) & 0xFFFF, (last, first))
            self.assertEqual(first.pid, (last.pid + 1) & 0x7FFF, (last, first))
            self.assertEqual(first.tl0, (last.tl0 + 1) & 0xFF, (last, first))
            self.assertTrue(last.end and last.marker, last)
            keys = self.sender.key_frames_since(seg["stream"], since)
            self.assertEqual(seg["first_tick"], keys[0], "switch not at the first key frame "
                             "after the request: %s" % keys)
            # Old stream pictures sent after its last forwarded one and
            # before the key frame (in a tick the sender sends the streams
            # in index order): dropped by the temporal filter.
            dropped = [tick for tick in range(last.tick + 1, first.tick + 1)
                       if self.sender.frame(last.stream, tick) is not None and
                       (tick < first.tick or last.stream < first.stream)]
            switches.append({"to": seg["stream"], "pid": [last.pid, first.pid],
                             "tl0": [last.tl0, first.tl0], "droppedBefore": len(dropped)})
        self.assertTrue(any(s["droppedBefore"] for s in switches),
                        "no switch came after a dropped picture: %s" % switches)
        self.report("switches %s" % switches)
        self.finish()

if __name__ == "__main__":
    unittest.main()
