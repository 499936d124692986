"""A simulcast producer piped between two routers of one worker, with the
channel requests the mediasoup 3.8 host's Router.pipeToRouter() makes
(enableRtx: true), and a SimulcastConsumer on the far router:

    sender (test_simulcast.py's three VP8 streams)
        --> PlainTransport of router A: a 'simulcast' producer
    PipeTransport A: a 'pipe' consumer of it
        --> PipeTransport B: a pipe producer with that consumer's parameters
    PlainTransport of router B: a 'simulcast' consumer --> receiver socket

What is checked: the far consumer behaves as one on the near router would
(test_simulcast.py): one stream on its own SSRC, from a key frame and
clean across switches; setPreferredLayers moves it from stream to stream
with layerschange notifications; consumer.requestKeyFrame on router B
reaches the sender as a PLI/FIR for the stream forwarded; producer.pause on
A gives the pipe consumer producerpause, and producer.pause on the pipe
producer (what pipeToRouter does then) gives the far consumer
producerpause.

Run: test/integration/run_tests.py -v test_pipe_simulcast
Environment as for test_simulcast.py.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerError, WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402
import test_simulcast as sim  # noqa: E402

ROUTER_A = "router-pipe-a"
ROUTER_B = "router-pipe-b"
SEND_TRANSPORT = "transport-a-send"
PIPE_A = "transport-a-pipe"
PIPE_B = "transport-b-pipe"
RECV_TRANSPORT = "transport-b-recv"
PRODUCER_ID = "producer-a-simulcast"
PIPE_CONSUMER_ID = "consumer-a-pipe"
# pipeToRouter gives the pipe producer the id of the producer it pipes.
PIPE_PRODUCER_ID = PRODUCER_ID
CONSUMER_ID = "consumer-b-simulcast"

# ortc.getPipeConsumerRtpParameters(): random base SSRCs, + i per encoding.
PIPE_BASE_SSRC = 810000
PIPE_BASE_RTX_SSRC = 820000
# The pipe producer's mapped SSRCs on router B.
PIPE_MAPPED_SSRCS = (910000, 910001, 910002)


def pipe_transport_options():
    """router.createPipeTransport data, as pipeToRouter() sends it."""
    return {
        "listenIp": {"ip": lu.LOCAL_IP},
        "enableSctp": False,
        "numSctpStreams": {"OS": 1024, "MIS": 1024},
        "maxSctpMessageSize": 268435456,
        "sctpSendBufferSize": 268435456,
        "isDataChannel": False,
        "enableRtx": True,
        "enableSrtp": False,
    }


def pipe_consume_data():
    """transport.consume data of PipeTransport.consume() with enableRtx:
    the producer's consumable codecs (RTX kept; feedback reduced to NACK,
    PLI and FIR) and encodings on new SSRCs with RTX."""
    codecs = lu.vp8_codecs(sim.MAPPED_PT, sim.MAPPED_RTX_PT)
    for codec in codecs:
        codec["rtcpFeedback"] = [fb for fb in codec["rtcpFeedback"]
                                 if (fb.get("type"), fb.get("parameter")) in (
                                     ("nack", None), ("nack", "pli"), ("ccm", "fir"))]
    encodings = []
    for i, encoding in enumerate(sim.consumable_encodings()):
        encoding = dict(encoding)
        encoding["ssrc"] = PIPE_BASE_SSRC + i
        encoding["rtx"] = {"ssrc": PIPE_BASE_RTX_SSRC + i}
        encodings.append(encoding)
    return {
        "kind": "video",
        "type": "pipe",
        "rtpParameters": {
            "codecs": codecs,
            "headerExtensions": [],
            "encodings": encodings,
            "rtcp": {"cname": "simulcast-sender", "reducedSize": True, "mux": True},
        },
        "consumableRtpEncodings": sim.consumable_encodings(),
    }


def pipe_produce_data(rtp_parameters, paused):
    """transport.produce data of PipeTransport.produce() on router B with
    the pipe consumer's rtpParameters, the mapping ortc makes against the
    router's capabilities (VP8 96, RTX 97)."""
    return {
        "kind": "video",
        "rtpParameters": rtp_parameters,
        "rtpMapping": {
            "codecs": [{"payloadType": sim.MAPPED_PT, "mappedPayloadType": sim.MAPPED_PT},
                       {"payloadType": sim.MAPPED_RTX_PT,
                        "mappedPayloadType": sim.MAPPED_RTX_PT}],
            "encodings": [{"ssrc": e["ssrc"], "scalabilityMode": e["scalabilityMode"],
                           "mappedSsrc": mapped}
                          for e, mapped in zip(rtp_parameters["encodings"], PIPE_MAPPED_SSRCS)],
        },
        "paused": paused,
    }


def far_consume_data():
    """transport.consume data for the SimulcastConsumer on router B: the
    pipe producer's consumable encodings."""
    data = sim.consume_simulcast_data()
    data["consumableRtpEncodings"] = [{"ssrc": mapped, "scalabilityMode": "S1T3"}
                                      for mapped in PIPE_MAPPED_SSRCS]
    return data


class PipeSimulcastTest(unittest.TestCase):
    WORKER_ARGS = ("--logLevel=warn",)

    def setUp(self):
        self.sender = None
        self.receiver = None
        self.worker = WorkerProcess(list(self.WORKER_ARGS))
        self.addCleanup(self.worker.terminate)
        self.addCleanup(self._stop_peers)
        self.scale = self.worker.scale
        self.worker.wait_running()
        for router in (ROUTER_A, ROUTER_B):
            self.request("worker.createRouter", {"routerId": router})

    def _stop_peers(self):
        if self.sender is not None:
            self.sender.stop()
        if self.receiver is not None:
            self.receiver.stop()

    # ----- helpers -----------------------------------------------------------

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    @staticmethod
    def internal(router, transport=None, **extra):
        out = {"routerId": router}
        if transport:
            out["transportId"] = transport
        out.update(extra)
        return out

    def consumer_internal(self):
        return self.internal(ROUTER_B, RECV_TRANSPORT, producerId=PIPE_PRODUCER_ID,
                             consumerId=CONSUMER_ID)

    def consumer_request(self, method, data=None):
        return self.request(method, self.consumer_internal(), data)

    def notifications(self, target, event):
        return [n.get("data") for n in list(self.worker.all_notifications)
                if n.get("targetId") == target and n.get("event") == event]

    def layers_notifications(self):
        return self.notifications(CONSUMER_ID, "layerschange")

    def diagnostics(self):
        parts = []
        if self.sender is not None:
            parts.append("sender: %s" % self.sender.summary())
        if self.receiver is not None:
            parts.append("receiver SSRCs: %s" % dict(self.receiver.ssrcs()))
            packets = self.receiver.rtp(sim.CONSUMER_SSRC)
            if packets and self.sender is not None:
                _, _, segments = sim.analyze_stream(packets, self.sender)
                parts.append("forwarded: %s" % sim.describe_segments(segments))
        parts.append("notifications: %s" % [
            (n.get("targetId"), n.get("event"), n.get("data"))
            for n in list(self.worker.all_notifications) if n.get("event") != "running"][-15:])
        parts.append("worker logs: %s" % [t for _, t in self.worker.logs][-20:])
        parts.append("worker stderr: %s" % (self.worker.stderr.strip()[-800:] or "<empty>"))
        return "\n".join(parts)

    def wait_until(self, what, check, timeout):
        deadline = time.monotonic() + timeout * self.scale
        while True:
            result = check()
            if result:
                return result
            if not self.worker.alive:
                self.fail("worker died waiting for %s\n%s" % (what, self.diagnostics()))
            if time.monotonic() >= deadline:
                self.fail("timed out after %.1fs waiting for %s\n%s"
                          % (timeout * self.scale, what, self.diagnostics()))
            time.sleep(0.02)

    def wait_layers(self, expected, since, timeout=5):
        return self.wait_until(
            "layerschange %s" % (expected,),
            lambda: expected in self.layers_notifications()[since:] or None, timeout)

    def wait_pictures(self, stream, count, since, timeout=5):
        def check():
            frames = {p.frame for p in self.receiver.rtp(sim.CONSUMER_SSRC, since)
                      if p.stream == stream}
            return len(frames) >= count
        return self.wait_until("%d pictures of stream %d" % (count, stream), check, timeout)

    def wait_event(self, target, event):
        try:
            return self.worker.wait_notification(
                lambda n: n.get("targetId") == target and n.get("event") == event,
                timeout=5 * self.scale)
        except WorkerError as exc:
            self.fail("no %s for %s: %s\n%s" % (event, target, exc, self.diagnostics()))

    def streams_between(self, t_from, t_to):
        return sorted({p.stream for p in self.receiver.rtp(sim.CONSUMER_SSRC, t_from)
                       if p.t < t_to})

    # ----- setting up ------------------------------------------------------

    def setup_pipe(self):
        send = self.request("router.createPlainTransport", self.internal(ROUTER_A, SEND_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=True))
        answer = self.request("transport.produce",
                              self.internal(ROUTER_A, SEND_TRANSPORT, producerId=PRODUCER_ID),
                              sim.produce_simulcast_data())
        self.assertEqual((answer or {}).get("type"), "simulcast", answer)

        pipe_a = self.request("router.createPipeTransport", self.internal(ROUTER_A, PIPE_A),
                              pipe_transport_options())
        pipe_b = self.request("router.createPipeTransport", self.internal(ROUTER_B, PIPE_B),
                              pipe_transport_options())
        self.assertTrue(pipe_a.get("rtx") and pipe_b.get("rtx"), (pipe_a, pipe_b))
        for transport, router, other in ((PIPE_A, ROUTER_A, pipe_b), (PIPE_B, ROUTER_B, pipe_a)):
            connected = self.request("transport.connect", self.internal(router, transport),
                                     {"ip": other["tuple"]["localIp"],
                                      "port": other["tuple"]["localPort"]})
            self.assertEqual(connected["tuple"]["remotePort"], other["tuple"]["localPort"],
                             connected)

        pipe_data = pipe_consume_data()
        status = self.request("transport.consume",
                              self.internal(ROUTER_A, PIPE_A, producerId=PRODUCER_ID,
                                            consumerId=PIPE_CONSUMER_ID), pipe_data)
        self.assertEqual(status.get("producerPaused"), False, status)
        answer = self.request("transport.produce",
                              self.internal(ROUTER_B, PIPE_B, producerId=PIPE_PRODUCER_ID),
                              pipe_produce_data(pipe_data["rtpParameters"],
                                                status["producerPaused"]))
        self.assertEqual((answer or {}).get("type"), "simulcast", answer)

        recv = self.request("router.createPlainTransport", self.internal(ROUTER_B, RECV_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=False))
        self.receiver = sim.Receiver()
        self.request("transport.connect", self.internal(ROUTER_B, RECV_TRANSPORT),
                     {"ip": lu.LOCAL_IP, "port": self.receiver.port})
        self.recv_port = recv["tuple"]["localPort"]
        self.sender = sim.SimulcastSender(send["tuple"]["localPort"])
        self.sender.start()

        def pipe_streams():
            stats = self.request("producer.getStats",
                                 self.internal(ROUTER_B, PIPE_B, producerId=PIPE_PRODUCER_ID))
            ssrcs = {s.get("ssrc") for s in stats or [] if s.get("type") == "inbound-rtp"}
            return ssrcs if len(ssrcs) == 3 else None
        ssrcs = self.wait_until("the pipe producer receiving three streams", pipe_streams, 5)
        self.assertEqual(ssrcs, {PIPE_BASE_SSRC + i for i in range(3)})

    # ----- the case ------------------------------------------------------------

    def test_far_consumer_behaves_as_near(self):
        self.setup_pipe()

        # Default layers: stream 2 from a key frame, on the consumer's SSRC.
        t_consume = time.monotonic()
        answer = self.request("transport.consume", self.consumer_internal(),
                              far_consume_data())
        self.assertEqual(answer.get("preferredLayers"), sim.layers(2, 2), answer)
        self.assertEqual(answer.get("producerPaused"), False, answer)
        self.wait_layers(sim.layers(2, 2), 0)
        self.wait_pictures(2, 15, t_consume)
        self.assertTrue(self.sender.requests_for(2, since=t_consume),
                        "no PLI/FIR for stream 2 after consume\n%s" % self.diagnostics())

        # Preferred layers switch the stream forwarded: 2 -> 0 -> 1 -> 2.
        windows = []
        for spatial in (0, 1, 2):
            mark = len(self.layers_notifications())
            t_set = time.monotonic()
            got = self.consumer_request("consumer.setPreferredLayers",
                                        {"spatialLayer": spatial, "temporalLayer": 2})
            self.assertEqual(got, sim.layers(spatial, 2))
            self.wait_layers(sim.layers(spatial, 2), mark)
            self.wait_pictures(spatial, 10, t_set)
            t_from = time.monotonic() + 0.05 * self.scale
            self.wait_pictures(spatial, 6, t_from)
            windows.append((spatial, t_from, time.monotonic()))
            self.assertTrue(self.sender.requests_for(spatial, since=t_set) or spatial == 2,
                            "no key frame request for stream %d" % spatial)
            dump = self.consumer_request("consumer.dump")
            self.assertEqual((dump.get("currentSpatialLayer"), dump.get("targetSpatialLayer")),
                             (spatial, spatial), dump)
        for spatial, t_from, t_to in windows:
            self.assertEqual(self.streams_between(t_from, t_to), [spatial],
                             "streams forwarded with spatial layer %d" % spatial)
            # Each stream's inter frames have their own packet count.
            counts = {}
            for p in self.receiver.rtp(sim.CONSUMER_SSRC, t_from):
                if p.t < t_to and not p.key:
                    counts.setdefault(p.tick, 0)
                    counts[p.tick] += 1
            self.assertTrue(counts)
            self.assertLessEqual(max(counts.values()), sim.INTER_FRAME_PACKETS[spatial] + 1,
                                 counts)

        packets = self.receiver.rtp()
        self.assertEqual(set(self.receiver.ssrcs()), {sim.CONSUMER_SSRC},
                         "the receiver got RTP on SSRCs %s" % dict(self.receiver.ssrcs()))
        problems, _, segments = sim.analyze_stream(packets, self.sender)
        where = sim.describe_segments(segments)
        self.assertEqual(problems[:10], [], "%d problems; segments %s\n%s"
                         % (len(problems), where, self.diagnostics()))
        self.assertEqual([s["stream"] for s in segments], [2, 0, 1, 2], where)
        notes = self.layers_notifications()
        self.assertTrue(sim.is_subsequence([sim.layers(s, 2) for s in (2, 0, 1, 2)], notes),
                        notes)

        # consumer.requestKeyFrame on router B reaches the sender.
        time.sleep(0.3)
        t_request = time.monotonic()
        self.consumer_request("consumer.requestKeyFrame")
        self.wait_until("a PLI/FIR for stream 2 after consumer.requestKeyFrame",
                        lambda: self.sender.requests_for(2, since=t_request), 3)
        self.wait_until("a key frame forwarded after consumer.requestKeyFrame",
                        lambda: [p for p in self.receiver.rtp(since=t_request) if p.key], 3)
        requests = len(self.sender.requests_for(2, since=t_request))

        # Producer pause on A, then on the pipe producer as pipeToRouter
        # does on the pipe consumer's producerpause.
        self.request("producer.pause",
                     self.internal(ROUTER_A, SEND_TRANSPORT, producerId=PRODUCER_ID))
        self.wait_event(PIPE_CONSUMER_ID, "producerpause")
        self.request("producer.pause",
                     self.internal(ROUTER_B, PIPE_B, producerId=PIPE_PRODUCER_ID))
        self.wait_event(CONSUMER_ID, "producerpause")
        self.assertEqual(self.consumer_request("consumer.dump").get("producerPaused"), True)
        time.sleep(0.2)
        t_paused = time.monotonic()
        time.sleep(0.4)
        self.assertEqual(self.receiver.rtp(sim.CONSUMER_SSRC, t_paused), [],
                         "forwarded while the producer is paused")

        # Resume both; forwarding resumes on stream 2.
        self.request("producer.resume",
                     self.internal(ROUTER_A, SEND_TRANSPORT, producerId=PRODUCER_ID))
        self.wait_event(PIPE_CONSUMER_ID, "producerresume")
        t_resume = time.monotonic()
        self.request("producer.resume",
                     self.internal(ROUTER_B, PIPE_B, producerId=PIPE_PRODUCER_ID))
        self.wait_event(CONSUMER_ID, "producerresume")
        self.wait_pictures(2, 10, t_resume)

        self.assertEqual(self.sender.errors, [], "sender errors")
        errors = [t for level, t in self.worker.logs if level == "E"]
        self.assertEqual(errors, [], "worker logged errors")
        if sim.verbose():
            sys.stderr.write("\n  segments %s; layerschange %s; requests %s; after "
                             "requestKeyFrame %d\n" % (where, notes,
                                                       self.sender.summary()["requests"],
                                                       requests))
        self.assertEqual(self.worker.close(), 0, "worker close\n%s" % self.diagnostics())


if __name__ == "__main__":
    unittest.main()
