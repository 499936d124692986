"""SVC consumers end to end through PlainTransports: a synthetic VP9 sender
of one stream with spatial and temporal layers, and the recording receiver
of test_simulcast.py.

    sender: one VP9 stream, 30 pictures/s, three spatial layers (320x180,
            640x360, 1280x720; one packet per layer frame, two for the top
            one) and temporal layers 0,2,1,2; key pictures on the first
            picture and on each PLI/FIR, otherwise never
        --> producer transport (comedia, rtcp-mux): an 'svc' producer
    consumer transport (connected, rtcp-mux) --> receiver socket

In full SVC (L3T3) upper layer frames refer to the layer below in the same
picture (D=1); in K-SVC (L3T3_KEY) they do so only in key pictures. Every
packet carries the spatial layer, the picture (tick) and the packet index
after its descriptor, so the receiver can tell what the worker forwarded.

What is checked:
- every layer is forwarded at the top preferred layers, the RTP marker on
  the last packet of each picture only;
- setPreferredLayers down (full SVC): from the next picture on, no key frame
  asked for, only the layers at or below the preferred ones; the marker bit
  moved to the last forwarded layer of each picture; sequence numbers
  continuous over the dropped packets; picture ids and TL0PICIDX as sent;
- back up: a key frame asked for, the upper layer from a key picture on;
- layerschange notifications, dump layers, getStats (consumer and producer
  stream), pause/resume (from a key picture, sequence numbers and picture
  ids continuing);
- K-SVC: going down is from the next picture on too (the lower layers
  refer only to their own layer between key pictures), no key frame asked
  for;
- a switch down forced by the estimate (REMB) asks for a key frame;
- temporal scalability alone (L1T3): temporal layers dropped;
- argument validation (TypeError).

Run: test/integration/run_tests.py -v test_svc
Environment: as test_simulcast.py.
"""

import collections
import os
import random
import select
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import RequestError  # noqa: E402
import loss_util as lu  # noqa: E402
import test_bwe_allocation as bwe  # noqa: E402
import test_simulcast as sim  # noqa: E402
from wire_util import (rtcp_sender_report, rtp_packet, vp9_descriptor,  # noqa: E402
                       vp9_frame_header)

SEND_TRANSPORT = "transport-send"
RECV_TRANSPORT = "transport-recv"
PRODUCER_ID = "producer-svc"
CONSUMER_ID = "consumer-svc"
SENDER_PT, MAPPED_PT, CONSUMER_PT = 101, 96, 96
SENDER_SSRC, MAPPED_SSRC, CONSUMER_SSRC = 22220000, 900100, 700100
RESOLUTIONS = [(320, 180), (640, 360), (1280, 720)]
FPS = 30
TS_STEP = 90000 // FPS
TEMPORAL_PATTERN = (0, 2, 1, 2)
SWITCHING_UP = (False, True, True, False)

Picture = collections.namedtuple("Picture", "tick pid tl0 tid key")


class SvcSender:
    """Sends one VP9 stream of `spatial` x `temporal` layers (K-SVC when
    `ksvc`) to the producer transport, a key picture on each PLI/FIR."""

    def __init__(self, remote_port, spatial=3, temporal=3, ksvc=False, seed=7,
                 packet_size=120):
        rng = random.Random(seed)
        self.remote = (lu.LOCAL_IP, remote_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((lu.LOCAL_IP, 0))
        self.sock.setblocking(False)
        self.spatial, self.temporal, self.ksvc = spatial, temporal, ksvc
        self.packet_size = packet_size
        # Close to their wraps, so that they wrap during a case.
        self.seq = 65536 - rng.randrange(100, 300)
        self.ts = (1 << 32) - rng.randrange(90000, 3 * 90000)
        self.pid = (1 << 15) - rng.randrange(30, 90)
        self.tl0 = 256 - rng.randrange(5, 20)
        self.pattern = 0
        self.key_pending = True
        self.packets = self.octets = 0
        self.pictures = {}     # tick -> Picture
        self.requests = []     # monotonic times of PLI/FIR for our SSRC
        self.errors = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="svc-sender", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()

    def requests_since(self, since):
        with self.lock:
            return [t for t in self.requests if t >= since]

    def picture(self, tick):
        with self.lock:
            return self.pictures.get(tick)

    def _run(self):
        t0 = time.monotonic()
        tick, next_sr = 0, t0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= t0 + tick / FPS:
                    self._send_picture(tick)
                    tick += 1
                    continue
                if now >= next_sr:
                    with self.lock:
                        self._send(rtcp_sender_report(SENDER_SSRC, time.time(), self.ts,
                                                      self.packets, self.octets))
                    next_sr = now + 0.5
                timeout = max(0.0, min(t0 + tick / FPS, next_sr) - now)
                if select.select([self.sock], [], [], timeout)[0]:
                    self._drain()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(exc))

    def _send(self, data):
        self.sock.sendto(data, self.remote)

    def _drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except (BlockingIOError, InterruptedError, OSError):
                return
            requests = [ssrc for _, ssrc in sim.key_frame_requests(data)]
            if SENDER_SSRC in requests:
                with self.lock:
                    self.requests.append(time.monotonic())
                    self.key_pending = True

    def _send_picture(self, tick):
        with self.lock:
            key = self.key_pending
            self.key_pending = False
            if key:
                self.pattern = 0
            position = self.pattern % len(TEMPORAL_PATTERN) if self.temporal > 1 else 0
            tid = TEMPORAL_PATTERN[position]
            self.pattern += 1
            if tid == 0:
                self.tl0 = (self.tl0 + 1) & 0xFF
            self.pid = (self.pid + 1) & 0x7FFF
            self.ts = (self.ts + TS_STEP) & 0xFFFFFFFF
            self.pictures[tick] = Picture(tick, self.pid, self.tl0, tid, key)
            for sid in range(self.spatial):
                count = 2 if sid == 2 else 1
                for idx in range(count):
                    first, last = idx == 0, idx == count - 1
                    body = vp9_frame_header(key, *RESOLUTIONS[sid]) if first else b""
                    body += sim.MAGIC + sim.MARKER.pack(sid, tick, idx, 1 if key else 0)
                    body += bytes([(tick + sid) & 0xFF]) * self.packet_size
                    descriptor = vp9_descriptor(
                        first, last, key and sid == 0, self.pid, self.tl0, tid,
                        SWITCHING_UP[position] and tid > 0,
                        RESOLUTIONS[:self.spatial] if key and sid == 0 and first else None,
                        sid=sid, inter_layer=sid > 0 and (key or not self.ksvc),
                        predicted=not key)
                    marker = last and sid == self.spatial - 1
                    self._send(rtp_packet(SENDER_PT, self.seq, self.ts, SENDER_SSRC, marker,
                                          descriptor + body))
                    self.seq = (self.seq + 1) & 0xFFFF
                    self.packets += 1
                    self.octets += len(descriptor) + len(body)


def produce_data(mode):
    return {
        "kind": "video",
        "rtpParameters": {
            "codecs": lu.vp8_codecs(SENDER_PT, codec="VP9"),
            "headerExtensions": [],
            "encodings": [{"ssrc": SENDER_SSRC, "scalabilityMode": mode}],
            "rtcp": {"cname": "svc-sender", "reducedSize": True},
        },
        "rtpMapping": {
            "codecs": [{"payloadType": SENDER_PT, "mappedPayloadType": MAPPED_PT}],
            "encodings": [{"ssrc": SENDER_SSRC, "scalabilityMode": mode,
                           "mappedSsrc": MAPPED_SSRC}],
        },
        "keyFrameRequestDelay": 0,
        "paused": False,
    }


def consume_data(mode, codec="VP9", preferred_layers=None, remb=False):
    """transport.consume data for an SvcConsumer, as ortc and
    Transport.consume() of the 3.8 host build it; `remb`: the endpoint
    negotiated abs-send-time and goog-remb feedback."""
    data = {
        "kind": "video",
        "type": "svc",
        "rtpParameters": {
            "codecs": lu.vp8_codecs(CONSUMER_PT, codec=codec),
            "headerExtensions": [],
            "encodings": [{"ssrc": CONSUMER_SSRC, "scalabilityMode": mode}],
            "rtcp": {"cname": "svc-sender", "reducedSize": True, "mux": True},
            "mid": "0",
        },
        "consumableRtpEncodings": [{"ssrc": MAPPED_SSRC, "scalabilityMode": mode}],
        "paused": False,
    }
    if preferred_layers is not None:
        data["preferredLayers"] = preferred_layers
    if remb:
        params = data["rtpParameters"]
        params["headerExtensions"] = [{"uri": bwe.ABS_SEND_TIME_URI, "id": bwe.ABS_SEND_TIME_ID}]
        for codec_entry in params["codecs"]:
            codec_entry["rtcpFeedback"].append({"type": "goog-remb"})
    return data


class SvcTest(sim.RouterCase):

    ROUTER_ID = "router-svc"

    # ----- helpers -----------------------------------------------------------

    def consumer_request(self, method, data=None):
        return self.request(method, self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID,
                                                  consumerId=CONSUMER_ID), data)

    def layers_notifications(self):
        return [n.get("data") for n in list(self.worker.all_notifications)
                if n.get("targetId") == CONSUMER_ID and n.get("event") == "layerschange"]

    def wait_until(self, what, check, timeout=5):
        deadline = time.monotonic() + timeout * self.scale
        while True:
            result = check()
            if result:
                return result
            self.assertTrue(self.worker.alive, "worker died waiting for %s" % what)
            self.assertLess(time.monotonic(), deadline, "timed out waiting for %s; sender %s; "
                            "layerschange %s; received %d packets" % (
                                what, self.sender.errors, self.layers_notifications(),
                                len(self.receiver.rtp(CONSUMER_SSRC))))
            time.sleep(0.02)

    def wait_layers(self, spatial, temporal, since, timeout=5):
        """Waits for layerschange {spatial, temporal} after mark `since`;
        returns when it was seen."""
        want = sim.layers(spatial, temporal)
        self.wait_until("layerschange %s" % want,
                        lambda: want in self.layers_notifications()[since:], timeout)
        return time.monotonic()

    def setup_media(self, mode, spatial=3, ksvc=False, preferred_layers=None, remb=False,
                    packet_size=120):
        send = self.request("router.createPlainTransport", self.internal(SEND_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=True))
        recv = self.request("router.createPlainTransport", self.internal(RECV_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=False))
        answer = self.request("transport.produce",
                              self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID),
                              produce_data(mode))
        self.assertEqual(answer.get("type"), "svc", answer)
        self.receiver = sim.Receiver(codec="VP9")
        self.request("transport.connect", self.internal(RECV_TRANSPORT),
                     {"ip": lu.LOCAL_IP, "port": self.receiver.port})
        answer = self.consumer_request("transport.consume",
                                       consume_data(mode, preferred_layers=preferred_layers,
                                                    remb=remb))
        self.assertEqual(answer.get("paused"), False, answer)
        self.sender = SvcSender(send["tuple"]["localPort"], spatial=spatial, ksvc=ksvc,
                                packet_size=packet_size).start()
        self.recv_port = recv["tuple"]["localPort"]

    def pictures(self, since=0.0):
        """The forwarded packets since `since`, by picture (tick), in order."""
        out = collections.OrderedDict()
        for p in self.receiver.rtp(CONSUMER_SSRC, since):
            out.setdefault(p.tick, []).append(p)
        return out

    def assert_pictures(self, pictures, max_spatial, max_temporal):
        """Each picture has exactly its layers up to `max_spatial` (and none
        when its temporal layer is above `max_temporal`), the marker on its
        last packet only, its picture id and TL0PICIDX as sent."""
        self.assertTrue(pictures, "no pictures forwarded")
        for tick, packets in pictures.items():
            sent = self.sender.picture(tick)
            self.assertLessEqual(sent.tid, max_temporal, "picture %d: TID %d forwarded"
                                 % (tick, sent.tid))
            layers = sorted({p.stream for p in packets})
            self.assertEqual(layers, list(range(max_spatial + 1)),
                             "picture %d: spatial layers %s" % (tick, layers))
            markers = [p.marker for p in packets]
            self.assertEqual(markers, [False] * (len(packets) - 1) + [True],
                             "picture %d: markers %s on layers %s" % (
                                 tick, markers, [p.stream for p in packets]))
            self.assertEqual({(p.pid, p.tl0) for p in packets}, {(sent.pid, sent.tl0)},
                             "picture %d: ids" % tick)

    def assert_continuous(self, packets):
        seqs = [p.seq for p in packets]
        gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if (a + 1) & 0xFFFF != b]
        self.assertEqual(gaps, [], "sequence numbers not continuous")

    # ----- the cases ---------------------------------------------------------

    def test_full_svc_layers_down_and_up(self):
        self.setup_media("L3T3")
        mark = len(self.layers_notifications())
        self.wait_layers(2, 2, mark)
        time.sleep(0.5)
        top = list(self.pictures().items())[1:]
        self.assert_pictures(collections.OrderedDict(top[:-1]), 2, 2)

        # Down: from the next picture, with no key frame asked for.
        asked = time.monotonic()
        mark = len(self.layers_notifications())
        answer = self.consumer_request("consumer.setPreferredLayers", sim.layers(1, 1))
        self.assertEqual(answer, sim.layers(1, 1))
        switched = self.wait_layers(1, 1, mark)
        self.assertLess(switched - asked, 1.0 * self.scale)
        time.sleep(1.0)
        self.assertEqual(self.sender.requests_since(asked), [], "a key frame asked for")
        down = list(self.pictures(switched + 0.1).items())[:-1]
        self.assert_pictures(collections.OrderedDict(down), 1, 1)
        self.assertTrue(any(self.sender.picture(t).tid == 1 for t, _ in down))
        dump = self.consumer_request("consumer.dump")
        self.assertEqual((dump["type"], dump["preferredSpatialLayer"],
                          dump["preferredTemporalLayer"], dump["targetSpatialLayer"],
                          dump["targetTemporalLayer"], dump["currentSpatialLayer"],
                          dump["currentTemporalLayer"]), ("svc", 1, 1, 1, 1, 1, 1), dump)

        # Up: a key frame asked for, the top layer from a key picture on.
        asked = time.monotonic()
        mark = len(self.layers_notifications())
        self.consumer_request("consumer.setPreferredLayers", sim.layers(2, 2))
        switched = self.wait_layers(2, 2, mark)
        self.assertTrue(self.sender.requests_since(asked), "no key frame asked for")
        first_top = next(t for t, packets in self.pictures(asked).items()
                         if any(p.stream == 2 for p in packets))
        self.assertTrue(self.sender.picture(first_top).key, "top layer from a delta picture")
        time.sleep(0.5)
        self.assert_continuous(self.receiver.rtp(CONSUMER_SSRC))

        stats = self.consumer_request("consumer.getStats")
        self.assertEqual([(s["type"], s["ssrc"]) for s in stats],
                         [("outbound-rtp", CONSUMER_SSRC), ("inbound-rtp", SENDER_SSRC)], stats)
        self.assertGreater(stats[0]["packetCount"], 0, stats)

    def test_pause_resume_continues_from_a_key_picture(self):
        self.setup_media("L3T3", preferred_layers=sim.layers(2, 1))
        self.wait_layers(2, 1, 0)
        time.sleep(0.3)
        self.consumer_request("consumer.pause")
        time.sleep(0.3)
        before = self.receiver.rtp(CONSUMER_SSRC)
        time.sleep(0.3)
        resumed = time.monotonic()
        self.consumer_request("consumer.resume")
        self.wait_until("pictures after resume", lambda: len(self.pictures(resumed)) >= 5)
        after = self.receiver.rtp(CONSUMER_SSRC, resumed)
        self.assertTrue(self.sender.requests_since(resumed), "no key frame asked for on resume")
        self.assertTrue(self.sender.picture(after[0].tick).key, "resumed on a delta picture")
        self.assertEqual((before[-1].seq + 1) & 0xFFFF, after[0].seq, "sequence numbers")
        self.assertEqual((before[-1].pid + 1) & 0x7FFF, after[0].pid, "picture ids")
        self.assert_continuous(self.receiver.rtp(CONSUMER_SSRC))

    def test_ksvc_down_at_the_next_picture(self):
        self.setup_media("L3T3_KEY", ksvc=True)
        self.wait_layers(2, 2, 0)
        time.sleep(0.3)
        asked = time.monotonic()
        mark = len(self.layers_notifications())
        self.consumer_request("consumer.setPreferredLayers", sim.layers(0, 2))
        switched = self.wait_layers(0, 2, mark)
        self.assertLess(switched - asked, 1.0 * self.scale)
        time.sleep(1.0)
        self.assertEqual(self.sender.requests_since(asked), [], "a key frame asked for")
        # The base layer only, from delta pictures on.
        down = list(self.pictures(switched + 0.1).items())[:-1]
        self.assert_pictures(collections.OrderedDict(down), 0, 2)
        self.assertFalse(any(self.sender.picture(t).key for t, _ in down), "a key picture")
        self.assert_continuous(self.receiver.rtp(CONSUMER_SSRC))

    def test_resend_after_going_down(self):
        """Packets of the top layer sent before a switch down are resent when
        the receiver asks for them (it is still completing those pictures),
        with the picture ids and marker bit they were first sent with."""
        self.setup_media("L3T3")
        self.wait_layers(2, 2, 0)
        time.sleep(0.5)
        mark = len(self.layers_notifications())
        self.consumer_request("consumer.setPreferredLayers", sim.layers(1, 2))
        switched = self.wait_layers(1, 2, mark)
        time.sleep(0.2)
        top = [p for p in self.receiver.rtp(CONSUMER_SSRC) if p.stream == 2 and p.t < switched]
        self.assertGreaterEqual(len(top), 3)
        originals = top[-3:]
        asked = time.monotonic()
        self.receiver.sock.sendto(
            sim.rtcp_nack(4242, CONSUMER_SSRC, [p.seq for p in originals]),
            (lu.LOCAL_IP, self.recv_port))

        def resent():
            return {p.seq: p for p in self.receiver.rtp(CONSUMER_SSRC, asked)
                    if p.seq in {o.seq for o in originals}}
        self.wait_until("the resends", lambda: len(resent()) == len(originals))
        for p in originals:
            again = resent()[p.seq]
            self.assertEqual((again.ts, again.marker, again.payload), (p.ts, p.marker, p.payload),
                             "resent %r as %r" % (p, again))
        stats = self.consumer_request("consumer.getStats")[0]
        self.assertEqual(stats.get("retransmissionsUnavailable"), 0, stats)

    def test_temporal_layers_alone(self):
        self.setup_media("L1T3", spatial=1)
        self.wait_layers(0, 2, 0)
        mark = len(self.layers_notifications())
        self.consumer_request("consumer.setPreferredLayers", sim.layers(0, 0))
        switched = self.wait_layers(0, 0, mark)
        time.sleep(1.0)
        low = list(self.pictures(switched + 0.1).items())[:-1]
        self.assert_pictures(collections.OrderedDict(low), 0, 0)
        self.assertGreaterEqual(len(low), 5)
        self.assert_continuous(self.receiver.rtp(CONSUMER_SSRC))

    def test_remb_moves_the_consumer_between_layers(self):
        """The transport's estimate (bounded here by the receiver's REMB)
        decides the layers: each spatial layer's frame is one 600-byte
        packet (the top one two), so with r0 the base layer's bitrate the
        stream carries 4 r0. A REMB of 1.3 r0 cannot carry the top layer;
        the consumer leaves it promptly for the layers that fit, and comes
        back once the REMB is high again, after the allocation's hold."""
        self.setup_media("L3T3", remb=True, packet_size=600)
        remb = bwe.RembSender(self.receiver.sock, self.recv_port, [CONSUMER_SSRC], bwe.HIGH_BPS)
        self.addCleanup(remb.stop)
        remb.set(bwe.HIGH_BPS)
        self.wait_layers(2, 2, 0, timeout=20)
        # A consumer starts on the layers its share covers, at once: the
        # producer's bitrate, measured over the last second, needs that
        # long to be the stream's before it sets the REMB below.
        time.sleep(1.5)

        def base_rate():
            stats = self.request("producer.getStats",
                                 self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID))
            return [s.get("bitrate", 0) for s in stats if s.get("type") == "inbound-rtp"][0] / 4

        mark = len(self.layers_notifications())
        lowered = time.monotonic()
        remb.set(int(1.3 * base_rate()))

        def below_top():
            remb.set(int(1.3 * base_rate()))
            return any(n and n["spatialLayer"] < 2 for n in self.layers_notifications()[mark:])
        self.wait_until("a layer below the top", below_top, timeout=3)
        self.assertLess(time.monotonic() - lowered, bwe.HOLD * self.scale)
        # Forced down by the estimate: a key frame is asked for, so that a
        # receiver that lost packets in the congestion resumes at once.
        self.assertTrue(self.sender.requests_since(lowered), "no key frame asked for")
        time.sleep(0.5)
        settled = time.monotonic()
        time.sleep(1.0)
        # Each layer's cost is what the stream carries of it and of the
        # layers below: spatial layer 1 at half the frame rate (r0) fits,
        # at the full rate (2 r0) it does not. Measured as a whole stream,
        # any spatial layer at full rate would cost 4 r0, and only base
        # pictures would fit.
        layers = {p.stream for p in self.receiver.rtp(CONSUMER_SSRC, settled)}
        self.assertEqual(layers, {0, 1}, "spatial layers forwarded at a REMB of 1.3 r0")
        dump = self.consumer_request("consumer.dump")
        self.assertEqual((dump["targetSpatialLayer"], dump["targetTemporalLayer"]), (1, 1), dump)

        mark = len(self.layers_notifications())
        raised = time.monotonic()
        remb.set(bwe.HIGH_BPS)
        back = self.wait_layers(2, 2, mark, timeout=20)
        self.assertGreaterEqual(back - raised, bwe.HOLD - 0.5, "back up before the hold")
        self.assert_continuous(self.receiver.rtp(CONSUMER_SSRC))

    def test_wrong_arguments(self):
        self.setup_media("L3T3")
        for data, why in (
                (consume_data("L3T3", codec="VP8"), "spatial layers need VP9"),
                (dict(consume_data("L3T3"), kind="audio"), "an SVC consumer is for video")):
            with self.assertRaises(RequestError, msg=why) as caught:
                self.request("transport.consume",
                             self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID,
                                           consumerId="another"), data)
            self.assertEqual(caught.exception.error, "TypeError", why)
        with self.assertRaises(RequestError):
            self.consumer_request("consumer.setPreferredLayers", {"spatialLayer": -1})


if __name__ == "__main__":
    unittest.main()
