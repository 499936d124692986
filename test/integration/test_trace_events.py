"""`trace` notifications: producer.enableTraceEvent,
consumer.enableTraceEvent and transport.enableTraceEvent with each type the
worker supports, each provoked for real through PlainTransports (see
stream_case.py: a Python VP8 sender, a simple producer and consumers, a
recording receiver), every notification checked field by field against
the packet or RTCP message that caused it, and each type stopping once
disabled.

What the worker emits (src/rtc/Producer.cpp, Consumer.cpp, TraceEvents.cpp):
- producer: "rtp" in (each packet received, as the sender sent it: payload
  type, sequence number, timestamp, marker, SSRC, isKeyFrame, size,
  payloadSize), "keyframe" in (the first packet of a key frame, instead of
  "rtp" when both are enabled, as mediasoup does), "nack" out ({ssrc,
  count}: one per NACK packet sent to the sender), "pli" out / "fir" out
  ({ssrc}: one per key frame request sent, PLI or FIR as negotiated);
- consumer: "rtp" out / "keyframe" out (each packet sent, as sent), "nack"
  in ({ssrc}: one per NACK received), "pli" in / "fir" in ({ssrc}: one per
  request received);
- transport: "probation" and "bwe" are accepted and shown in dumps; they
  come only from a transport with an outgoing bandwidth estimate, which
  these transports have not (their consumers negotiated neither
  transport-wide-cc nor abs-send-time with goog-remb; see
  test/unit/rtc/TransportBweTest.cpp for the events themselves).
Types an entity does not support are ignored (not an error), as mediasoup.

Run: python3 -m unittest discover -s test/integration -p test_trace_events.py -v
Environment: SFU_TEST_VERBOSE=1 prints the counts seen.
"""

import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loss_util as lu  # noqa: E402
import stream_case as sc  # noqa: E402
import test_simulcast as sim  # noqa: E402

ALL_TYPES = ["rtp", "keyframe", "nack", "pli", "fir", "probation", "bwe", "unknown"]
# After a request's answer, notifications of what the worker did before it
# may still be in flight for this long.
SETTLE = 0.2


class TraceEventsTest(sc.StreamCase):

    # ----- helpers -----------------------------------------------------------

    def setup_stream(self, **options):
        """The stream, with key frames only when asked for, so that each
        window below holds exactly the key frames it requests."""
        options.setdefault("key_frame_interval", 3600)
        super().setup_stream(**options)

    def enable(self, target, types):
        """enableTraceEvent on "producer", "consumer" or a transport id;
        returns the notification mark right after the answer."""
        if target == "producer":
            self.producer_request("producer.enableTraceEvent", {"types": types})
        elif target == "consumer":
            self.consumer_request("consumer.enableTraceEvent", {"types": types})
        else:
            self.request("transport.enableTraceEvent", self.internal(target), {"types": types})
        return self.mark()

    def traces(self, target_id, since=0, until=None):
        """The data of the trace notifications of target_id between two
        marks."""
        return [data for i, data in self.worker_traces(target_id, since)
                if until is None or i < until]

    def worker_traces(self, target_id, since=0):
        return self.notifications(target_id, "trace", since)

    def assert_trace(self, trace, type_, direction):
        self.assertEqual(set(trace), {"type", "timestamp", "direction", "info"}, trace)
        self.assertEqual((trace["type"], trace["direction"]), (type_, direction), trace)
        self.assertIsInstance(trace["timestamp"], int, trace)

    def sent_by_seq(self, since=0.0):
        return {p.seq: p for p in self.sender.sent_packets(0, since)}

    def wait_key_frame_forwarded(self, since):
        return self.wait_until("a key frame forwarded", lambda: [
            p for p in self.receiver.rtp(sc.CONSUMER_SSRCS[0], since) if p.key], 3)

    def request_key_frame(self):
        """consumer.requestKeyFrame, then waits for the key frame to reach
        the receiver; returns the time of the request."""
        t = time.monotonic()
        self.consumer_request("consumer.requestKeyFrame")
        self.wait_key_frame_forwarded(t)
        return t

    # ----- producer ----------------------------------------------------------

    def check_packet_traces(self, traces, since, key_type, consecutive=True):
        """Each trace is one packet the sender sent (since `since`), with the
        sender's own header fields; they are consecutive (when asked), each
        packet once; the first packet of a key frame gives a `key_type`
        event, the others "rtp". Returns the packets."""
        sent = self.sent_by_seq(since - 1.0)
        seqs = []
        for trace in traces:
            info = trace["info"]
            packet = sent.get(info.get("sequenceNumber"))
            self.assertIsNotNone(packet, "trace of a packet never sent: %s" % trace)
            self.assert_trace(trace, key_type if packet.key_start else "rtp", "in")
            self.assertEqual(info, {
                "payloadType": sc.SENDER_PT, "sequenceNumber": packet.seq,
                "timestamp": packet.ts, "marker": packet.marker, "ssrc": sc.SENDER_SSRC,
                "isKeyFrame": packet.key_start, "size": packet.size,
                "payloadSize": packet.payload_size}, trace)
            seqs.append(packet.seq)
        if consecutive:
            self.assertEqual(seqs, [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))],
                             "traced packets not consecutive, each once")
        self.assertEqual(len(set(seqs)), len(seqs), "a packet traced twice")
        return [sent[q] for q in seqs]

    def test_producer_rtp_and_keyframe(self):
        self.setup_stream()
        # "rtp" alone: every packet, key frames included (isKeyFrame true).
        t0 = time.monotonic()
        mark = self.enable("producer", ["rtp"])
        self.request_key_frame()
        time.sleep(0.3)
        stop = self.enable("producer", [])
        t_stop = time.monotonic()
        time.sleep(SETTLE)
        rtp = self.check_packet_traces(self.traces(sc.PRODUCER_ID, mark, stop), t0, "rtp")
        keys = [p for p in rtp if p.key_start]
        self.assertEqual(len(keys), 1, "one key frame in the window, traced as rtp: %s" % rtp)
        # The run covers everything sent in the window but the first and
        # last packets on their way.
        window = [p for p in self.sender.sent_packets(0, t0 + 0.1) if p.t < t_stop - 0.1]
        self.assertTrue({p.seq for p in window} <= {p.seq for p in rtp},
                        "packets sent while enabled were not traced")

        # "keyframe" alone: one event per key frame, nothing else.
        time.sleep(0.5)
        self.assertEqual(self.traces(sc.PRODUCER_ID, stop), [], "traces after disabling")
        t1 = time.monotonic()
        mark = self.enable("producer", ["keyframe"])
        for _ in range(2):
            self.request_key_frame()
            time.sleep(0.1)
        stop = self.enable("producer", [])
        time.sleep(SETTLE)
        key_traces = self.traces(sc.PRODUCER_ID, mark, stop)
        sent_keys = [p for p in self.sender.sent_packets(0, t1) if p.key_start]
        self.assertEqual(len(key_traces), len(sent_keys), key_traces)
        self.assertEqual(len(key_traces), 2, key_traces)
        self.check_packet_traces(key_traces, t1, "keyframe", consecutive=False)

        # Both: each packet once, "keyframe" for the key frame's first one.
        time.sleep(0.3)
        t2 = time.monotonic()
        mark = self.enable("producer", ["rtp", "keyframe"])
        self.request_key_frame()
        time.sleep(0.2)
        stop = self.enable("producer", [])
        time.sleep(SETTLE)
        both = self.check_packet_traces(self.traces(sc.PRODUCER_ID, mark, stop), t2, "keyframe")
        self.assertEqual(sum(1 for p in both if p.key_start), 1)
        self.assertEqual(sum(1 for t in self.traces(sc.PRODUCER_ID, mark, stop)
                             if t["type"] == "keyframe"), 1)

        # Disabled: nothing more while media flows and key frames come.
        self.request_key_frame()
        time.sleep(0.5)
        self.assertEqual(self.traces(sc.PRODUCER_ID, stop), [], "traces after disabling")
        self.report("rtp %d (1 key frame), keyframe %d, both %d" % (
            len(rtp), len(key_traces), len(both)))
        self.finish()

    def test_producer_nack_and_pli(self):
        self.setup_stream(answer_nacks=True)
        mark = self.enable("producer", ["nack", "pli"])
        # One packet lost: one NACK for it; three in a row: one NACK with all.
        t0 = time.monotonic()
        self.sender.drop_next(0, 1)
        self.wait_until("the sender resent the lost packet", lambda: self.sender.resent, 3)
        time.sleep(0.3)
        self.sender.drop_next(0, 3)
        self.wait_until("the sender resent 4 packets", lambda: len(self.sender.resent) >= 4, 3)
        time.sleep(0.3)
        t_pli = time.monotonic()
        self.consumer_request("consumer.requestKeyFrame")
        self.wait_until("a PLI at the sender", lambda: self.sender.requests_for(0, t_pli), 3)
        time.sleep(0.2)
        stop = self.enable("producer", [])
        time.sleep(SETTLE)

        traces = self.traces(sc.PRODUCER_ID, mark, stop)
        nacks = [t for t in traces if t["type"] == "nack"]
        plis = [t for t in traces if t["type"] == "pli"]
        self.assertEqual(len(nacks) + len(plis), len(traces), traces)
        # One "nack" event per NACK packet the sender got, with its count.
        nack_packets = self.nack_packets_at_sender(t0)
        self.assertEqual([t["info"] for t in nacks],
                         [{"ssrc": sc.SENDER_SSRC, "count": len(seqs)} for seqs in nack_packets],
                         "nack traces vs NACKs the sender got %s" % nack_packets)
        dropped = [p.seq for p in self.sender.sent_packets(0, t0) if p.dropped]
        self.assertEqual(len(dropped), 4, dropped)
        self.assertEqual(nack_packets[0], [dropped[0]], nack_packets)
        self.assertEqual(nack_packets[1], dropped[1:], nack_packets)
        for trace in nacks:
            self.assert_trace(trace, "nack", "out")
        # One "pli" event per PLI the sender got.
        requests = self.sender.requests_for(0, t0)
        self.assertEqual([k for _, k, _ in requests], ["pli"])
        self.assertEqual(len(plis), 1, plis)
        self.assert_trace(plis[0], "pli", "out")
        self.assertEqual(plis[0]["info"], {"ssrc": sc.SENDER_SSRC})

        # Disabled: neither comes any more.
        self.sender.drop_next(0, 1)
        self.consumer_request("consumer.requestKeyFrame")
        time.sleep(0.6)
        self.assertEqual(self.traces(sc.PRODUCER_ID, stop), [], "traces after disabling")
        self.report("NACK packets %s, dropped %s, PLIs %d" % (nack_packets, dropped, len(plis)))
        self.finish()

    def nack_packets_at_sender(self, since):
        """The sequence numbers of each NACK packet the sender got."""
        out = []
        for t, data in self.sender.rtcp_since(since):
            for ptype, fmt, pkt in sim.rtcp_packets(data):
                if ptype == 205 and fmt == 1:
                    out.append(lu.rtcp_feedback_seqs(pkt)[0])
        return out

    def test_producer_fir(self):
        """A producer that negotiated FIR and not PLI: "fir" out."""
        self.setup_stream(feedback=sc.FIR_ONLY_FEEDBACK, nack=False)
        mark = self.enable("producer", ALL_TYPES)
        self.assertEqual(self.producer_request("producer.dump")["traceEventTypes"],
                         "rtp,keyframe,nack,pli,fir")
        self.enable("producer", ["fir"])
        mark = self.mark()
        t0 = time.monotonic()
        self.request_key_frame()
        time.sleep(0.3)
        self.request_key_frame()
        stop = self.enable("producer", [])
        time.sleep(SETTLE)
        requests = self.sender.requests_for(0, t0)
        self.assertEqual([k for _, k, _ in requests], ["fir", "fir"], requests)
        firs = self.traces(sc.PRODUCER_ID, mark, stop)
        self.assertEqual(len(firs), 2, firs)
        for trace in firs:
            self.assert_trace(trace, "fir", "out")
            self.assertEqual(trace["info"], {"ssrc": sc.SENDER_SSRC})
        self.request_key_frame()
        time.sleep(0.3)
        self.assertEqual(self.traces(sc.PRODUCER_ID, stop), [])
        self.finish()

    # ----- consumer ----------------------------------------------------------

    def test_consumer_events(self):
        self.setup_stream()
        dump_types = self.consumer_request("consumer.dump")["traceEventTypes"]
        self.assertEqual(dump_types, "")
        self.enable("consumer", ALL_TYPES)
        self.assertEqual(self.consumer_request("consumer.dump")["traceEventTypes"],
                         "rtp,keyframe,nack,pli,fir")

        # Out: every packet sent to the receiver, as it arrived there.
        mark = self.enable("consumer", ["rtp", "keyframe"])
        t0 = time.monotonic()
        self.request_key_frame()
        time.sleep(0.3)
        stop = self.enable("consumer", [])
        time.sleep(SETTLE)
        traces = self.traces(sc.consumer_id(0), mark, stop)
        received = {p.seq: p for p in self.receiver.rtp(sc.CONSUMER_SSRCS[0], t0 - 1)}
        seqs = []
        for trace in traces:
            packet = received.get(trace["info"].get("sequenceNumber"))
            self.assertIsNotNone(packet, "trace of a packet never received: %s" % trace)
            self.assert_trace(trace, "keyframe" if packet.key else "rtp", "out")
            self.assertEqual(trace["info"], {
                "payloadType": sc.CONSUMER_PT, "sequenceNumber": packet.seq,
                "timestamp": packet.ts, "marker": packet.marker,
                "ssrc": sc.CONSUMER_SSRCS[0], "isKeyFrame": packet.key, "size": packet.size,
                "payloadSize": packet.payload_size}, trace)
            seqs.append(packet.seq)
        self.assertEqual(seqs, [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))])
        self.assertEqual(sum(1 for t in traces if t["type"] == "keyframe"), 1, traces)
        self.assertGreaterEqual(len(traces), 8, traces)

        # In: the receiver's NACK, PLI and FIR, one event each.
        mark = self.enable("consumer", ["nack", "pli", "fir"])
        recent = [p.seq for p in self.receiver.rtp(sc.CONSUMER_SSRCS[0])][-3:]
        self.send_to_worker(sim.rtcp_nack(sc.RECEIVER_SSRC, sc.CONSUMER_SSRCS[0], recent))
        time.sleep(0.1)
        self.receiver_pli()
        time.sleep(0.1)
        self.receiver_fir()
        time.sleep(0.1)
        # About an SSRC the consumer does not send: nothing.
        self.send_to_worker(struct.pack("!BBHII", 0x81, 206, 2, sc.RECEIVER_SSRC, 999))
        self.wait_until("three trace events",
                        lambda: len(self.traces(sc.consumer_id(0), mark)) >= 3, 3)
        time.sleep(SETTLE)
        traces = self.traces(sc.consumer_id(0), mark)
        self.assertEqual([(t["type"], t["direction"], t["info"]) for t in traces],
                         [("nack", "in", {"ssrc": sc.CONSUMER_SSRCS[0]}),
                          ("pli", "in", {"ssrc": sc.CONSUMER_SSRCS[0]}),
                          ("fir", "in", {"ssrc": sc.CONSUMER_SSRCS[0]})], traces)
        for trace in traces:
            self.assert_trace(trace, trace["type"], "in")

        # Disabled: nothing in or out.
        stop = self.enable("consumer", [])
        self.send_to_worker(sim.rtcp_nack(sc.RECEIVER_SSRC, sc.CONSUMER_SSRCS[0], recent))
        self.receiver_pli()
        time.sleep(0.6)
        self.assertEqual(self.traces(sc.consumer_id(0), stop), [])
        self.finish()

    # ----- transport ---------------------------------------------------------

    def test_transport_types_accepted_never_emitted(self):
        """transport.enableTraceEvent takes "probation" and "bwe" (others
        are ignored) and dumps show them; without a consumer that can feed
        an outgoing estimate no trace notification comes from a transport,
        here over 2 s of media and key frame requests on both transports."""
        self.setup_stream()
        for transport_id in (sc.SEND_TRANSPORT, sc.RECV_TRANSPORT):
            self.assertEqual(self.request("transport.dump", self.internal(transport_id))
                             ["traceEventTypes"], "")
            self.enable(transport_id, ALL_TYPES)
            self.assertEqual(self.request("transport.dump", self.internal(transport_id))
                             ["traceEventTypes"], "probation,bwe")
        mark = self.mark()
        for _ in range(3):
            self.request_key_frame()
            self.receiver_pli()
            time.sleep(0.6)
        for transport_id in (sc.SEND_TRANSPORT, sc.RECV_TRANSPORT):
            self.assertEqual(self.traces(transport_id), [], transport_id)
        self.assertGreater(len(self.receiver.rtp(sc.CONSUMER_SSRCS[0])), 60)
        self.assertEqual(self.notifications(sc.SEND_TRANSPORT, "trace", mark) +
                         self.notifications(sc.RECV_TRANSPORT, "trace", mark), [])
        for transport_id in (sc.SEND_TRANSPORT, sc.RECV_TRANSPORT):
            self.enable(transport_id, [])
            self.assertEqual(self.request("transport.dump", self.internal(transport_id))
                             ["traceEventTypes"], "")
        self.finish()


if __name__ == "__main__":
    unittest.main()
