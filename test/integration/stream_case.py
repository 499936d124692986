"""One video stream through the worker, for the tests that check one
behaviour at a time (trace events, the RTCP schedule, key frame requests,
scores):

    sender: test_simulcast.SimulcastSender with one stream (VP8, 30 frames/s,
            temporal layers 0,2,1,2, key frames on PLI/FIR)
        --> producer PlainTransport (comedia, rtcp-mux): a simple producer
    simple consumers on a second PlainTransport (connected, rtcp-mux)
        --> test_simulcast.Receiver (records every RTP packet and RTCP compound)

StreamCase is a unittest.TestCase base with no tests of its own: it starts
the worker and the router, and setup_stream() builds the rest.

Python 3 standard library only.
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loss_util as lu  # noqa: E402
import test_simulcast as sim  # noqa: E402

ROUTER_ID = "router-stream"
SEND_TRANSPORT = "transport-send"
RECV_TRANSPORT = "transport-recv"
PRODUCER_ID = "producer-stream"
# The sender's stream (the first of the simulcast sender's) and the
# router's mapping of it.
SENDER_PT = sim.SENDER_PT
SENDER_SSRC = sim.SENDER_SSRCS[0]
MAPPED_PT = sim.MAPPED_PT
MAPPED_SSRC = sim.MAPPED_SSRCS[0]
# Consumer i sends on CONSUMER_SSRCS[i] with CONSUMER_PT.
CONSUMER_PT = sim.CONSUMER_PT
CONSUMER_SSRCS = (600100, 600200, 600300)
# SSRC of what the receiver sends (RTCP).
RECEIVER_SSRC = 4242
# Feedback of a producer that negotiates FIR, and neither PLI nor NACK.
FIR_ONLY_FEEDBACK = ({"type": "ccm", "parameter": "fir"},)


def consumer_id(index):
    return "consumer-%d" % index


def verbose():
    return bool(os.environ.get("SFU_TEST_VERBOSE"))


class StreamCase(sim.RouterCase):
    """Worker, router and, after setup_stream(), the stream end to end."""

    ROUTER_ID = ROUTER_ID

    def setUp(self):
        self.consumer_count = 0
        super().setUp()

    # ----- channel helpers -------------------------------------------------

    def producer_internal(self):
        return self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID)

    def consumer_internal(self, index=0):
        return self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID, consumerId=consumer_id(index))

    def producer_request(self, method, data=None):
        return self.request(method, self.producer_internal(), data)

    def consumer_request(self, method, data=None, index=0):
        return self.request(method, self.consumer_internal(index), data)

    def mark(self):
        """Where the worker's notifications stand now."""
        return len(self.worker.all_notifications)

    def notifications(self, target_id, event, since=0):
        """[(position, data)] of the `event` notifications of `target_id`
        from mark `since` on."""
        return [(i, n.get("data")) for i, n in enumerate(list(self.worker.all_notifications))
                if i >= since and n.get("targetId") == target_id and n.get("event") == event]

    # ----- waiting and reporting -------------------------------------------

    def wait_until(self, what, check, timeout):
        """Polls check() until it returns something true, which it returns;
        fails the test after timeout (scaled) seconds."""
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
            time.sleep(0.01)

    def report(self, text):
        if verbose():
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def diagnostics(self):
        parts = []
        if self.sender is not None:
            parts.append("sender: %s" % self.sender.summary())
        if self.receiver is not None:
            parts.append("receiver SSRCs: %s" % dict(self.receiver.ssrcs()))
        parts.append("notifications: %s" % [
            (n.get("targetId"), n.get("event"), n.get("data"))
            for n in list(self.worker.all_notifications)[-15:]])
        parts.append("worker logs: %s" % [t for _, t in self.worker.logs][-20:])
        parts.append("worker stderr: %s" % (self.worker.stderr.strip()[-800:] or "<empty>"))
        return "\n".join(parts)

    def finish(self):
        """The sender saw no error, the worker logged none and closes cleanly."""
        self.assertEqual(self.sender.errors if self.sender else [], [], "sender errors")
        errors = [t for level, t in self.worker.logs if level == "E"]
        self.assertEqual(errors, [], "worker logged errors")
        self.assertEqual(self.worker.close(), 0, "worker close\n%s" % self.diagnostics())

    # ----- the stream ------------------------------------------------------

    def setup_stream(self, consumers=1, key_frame_request_delay=0, nack=True, feedback=None,
                     start=True, **sender_options):
        """Both transports, the producer, `consumers` simple consumers, the
        receiver and the sender (started when `start`, then the first key
        frame is waited for at every consumer). sender_options go to
        SimulcastSender (count is always 1)."""
        send = self.request("router.createPlainTransport", self.internal(SEND_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=True))
        recv = self.request("router.createPlainTransport", self.internal(RECV_TRANSPORT),
                            lu.plain_transport_options(rtcp_mux=True, comedia=False))
        self.recv_port = recv["tuple"]["localPort"]
        self.request("transport.produce", self.producer_internal(),
                     lu.produce_video_data(SENDER_PT, SENDER_SSRC, MAPPED_PT, MAPPED_SSRC,
                                           nack=nack, cname="stream-sender", feedback=feedback,
                                           key_frame_request_delay=key_frame_request_delay))
        self.receiver = sim.Receiver()
        self.request("transport.connect", self.internal(RECV_TRANSPORT),
                     {"ip": lu.LOCAL_IP, "port": self.receiver.port})
        for index in range(consumers):
            self.add_consumer(nack=nack)
        self.sender = sim.SimulcastSender(send["tuple"]["localPort"], count=1, **sender_options)
        if start:
            self.start_sender()

    def add_consumer(self, nack=True):
        index = self.consumer_count
        self.consumer_count += 1
        return self.request("transport.consume", self.consumer_internal(index),
                            lu.consume_video_data(CONSUMER_PT, CONSUMER_SSRCS[index], MAPPED_SSRC,
                                                  nack=nack))

    def start_sender(self):
        t_start = time.monotonic()
        self.sender.start()
        for index in range(self.consumer_count):
            self.wait_until(
                "a key frame at consumer %d" % index,
                lambda: [p for p in self.receiver.rtp(CONSUMER_SSRCS[index]) if p.key], 5)
        return t_start

    def send_to_worker(self, data):
        """Sends RTCP from the receiver to the consumer transport."""
        self.receiver.sock.sendto(data, (lu.LOCAL_IP, self.recv_port))

    def receiver_pli(self, index=0):
        self.send_to_worker(struct.pack("!BBHII", 0x81, 206, 2, RECEIVER_SSRC,
                                            CONSUMER_SSRCS[index]))

    def receiver_fir(self, index=0, seq_nr=1):
        self.send_to_worker(struct.pack("!BBHIIIB3x", 0x84, 206, 4, RECEIVER_SSRC, 0,
                                            CONSUMER_SSRCS[index], seq_nr & 0xFF))

    def producer_stats(self):
        return lu.stream_stats(self.producer_request("producer.getStats"), "inbound-rtp")

    def consumer_stats(self, index=0):
        return lu.stream_stats(self.consumer_request("consumer.getStats", index=index),
                               "outbound-rtp")
