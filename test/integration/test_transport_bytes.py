"""Exact transport byte counters: transport.getStats' bytesReceived and
bytesSent count, once, every byte that crosses the wire, whatever it
carries (RTP, RTCP, STUN, DTLS, garbage that is dropped): UDP datagram
payloads, the payloads of RFC 4571 frames for ICE-TCP (without their
2-byte length prefix), payload channel payloads for a DirectTransport.

Python records every datagram, frame or payload it sends the worker and
gets from it. bytesReceived must equal the sum of what was sent (polled
until the worker has read it all, then read again to catch any excess).
bytesSent must equal the sum of a prefix of what arrived, in order, that
holds at least everything that arrived before the getStats request was
written (an RTCP report may go out in between): exact and race-free.

  - PlainTransport, comedia and connected (rtcp-mux), plain and SRTP: RTP
    of assorted sizes, an SR, garbage from the peer and from a stranger;
    a consumer on the same transport sends the RTP back with RTCP reports;
  - WebRtcTransport: ICE connectivity checks over UDP (with the DTLS
    handshake when pyOpenSSL is there) and over ICE-TCP, with garbage;
  - DirectTransport: producer.send, transport.sendRtcp, consumer `rtp`
    and transport `rtcp` payload notifications, and the forwarded packets
    byte-identical to the sent ones but for the rewritten header fields.

Standard library only, except the DTLS case (pyOpenSSL and cryptography,
from python3-aiortc; skipped without them).

Run: python3 -m unittest discover -s test/integration -p test_transport_bytes.py -v
Environment: SFU_TEST_VERBOSE=1 prints the sums of each case.
"""

import os
import random
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402
import media_util as mu  # noqa: E402
import webrtc_util as wu  # noqa: E402
import wire_util as wire  # noqa: E402

ROUTER_ID = "router-bytes"
TRANSPORT_ID = "transport-bytes"
PRODUCER_ID = "producer-bytes"
CONSUMER_ID = "consumer-bytes"

VIDEO_PT = 100
SSRC = 0x12345678
MAPPED_SSRC = 0x0A0A0001
CONSUMER_SSRC = 0x0B0B0001
# RTP payload sizes the sender uses, in this order: small, odd and large
# (the first packet a key frame, each one a frame).
PAYLOAD_SIZES = (400, 20, 160, 999, 333, 1100, 64, 17, 500, 1000, 250, 30)
SEND_INTERVAL = 0.005
# How long the worker may take to read what was sent, and to forward.
COUNT_TIMEOUT = 5.0
# A video stream's first RTCP report comes within about 1.3 s.
RTCP_TIMEOUT = 4.0
SRTP_TAG_LEN = 10

_DTLS_SKIP = None if wu.have_pyopenssl() else \
    "pyOpenSSL/cryptography not installed (python3-aiortc brings them, for /usr/bin/python3)"


def vp8_packets(first_seq=1000, first_ts=90000):
    """The test stream: one VP8 frame per payload size, a key frame first,
    filler that differs per packet after the descriptor and frame header."""
    packets = []
    for i, size in enumerate(PAYLOAD_SIZES):
        head = wire.vp8_descriptor(True, i, 0, 0, 0) + wire.vp8_payload_header(i == 0, 320, 240)
        payload = head + bytes((i * 7 + j) & 0xFF for j in range(size - len(head)))
        packets.append(wire.rtp_packet(VIDEO_PT, first_seq + i, first_ts + 3000 * i, SSRC,
                                       True, payload))
    return packets


def produce_video(payload_type, mapped_payload_type):
    return lu.produce_video_data(payload_type, SSRC, mapped_payload_type, MAPPED_SSRC, nack=False)


def consume_video(payload_type):
    return lu.consume_video_data(payload_type, CONSUMER_SSRC, MAPPED_SSRC, nack=False)


class TransportBytesTest(unittest.TestCase):

    def setUp(self):
        self.rng = random.Random(7)
        self.closers = []
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.addCleanup(self._close_all)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def _close_all(self):
        for close in reversed(self.closers):
            try:
                close()
            except OSError:
                pass

    # ----- helpers -----------------------------------------------------------

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, transport_id=TRANSPORT_ID, **extra):
        out = {"routerId": ROUTER_ID, "transportId": transport_id}
        out.update(extra)
        return out

    def stats(self, transport_id=TRANSPORT_ID):
        return self.request("transport.getStats", self.internal(transport_id))[0]

    def dump(self, transport_id=TRANSPORT_ID):
        return self.request("transport.dump", self.internal(transport_id))

    def peer(self):
        peer = wire.UdpPeer()
        self.closers.append(peer.close)
        return peer

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def diagnostics(self):
        logs = [text for _, text in self.worker.logs][-20:]
        return "worker logs: %s; stderr: %s" % (logs, self.worker.stderr.strip()[-600:])

    def assert_received_exactly(self, expected, transport_id=TRANSPORT_ID):
        """bytesReceived reaches `expected` and stays there."""
        value = wire.wait_counter(lambda: self.stats(transport_id)["bytesReceived"], expected,
                                  COUNT_TIMEOUT)
        self.assertEqual(value, expected, "bytesReceived of %s\n%s"
                         % (transport_id, self.diagnostics()))

    def assert_sent_exactly(self, seen_sizes, transport_id=TRANSPORT_ID, settle=0.2):
        """bytesSent is the sum of a prefix of what was seen (sizes, in
        arrival order, from seen_sizes()) holding at least what had been
        seen before the request. Returns (bytesSent, prefix length)."""
        before = len(seen_sizes())
        sent = self.stats(transport_id)["bytesSent"]
        # What the worker sent up to answering is now in our sockets (or
        # pipes); give the reader threads a moment to take it in.
        time.sleep(settle)
        sizes = seen_sizes()
        k = wire.matching_prefix(sent, sizes, before)
        self.assertIsNotNone(
            k, "bytesSent %d is the sum of no prefix of the %d sizes seen (%d before the "
            "request: %s)" % (sent, len(sizes), before, sizes))
        return sent, k

    # ----- PlainTransport ----------------------------------------------------

    def run_plain(self, comedia, srtp):
        peer = self.peer()
        stranger = self.peer()
        answer = self.request(
            "router.createPlainTransport", self.internal(),
            mu.plain_transport_options(rtcp_mux=True, comedia=comedia, enable_srtp=srtp))
        worker_addr = (mu.LOCAL_IP, answer["tuple"]["localPort"])
        key = mu.random_srtp_key() if srtp else None
        connect = {} if comedia else {"ip": mu.LOCAL_IP, "port": peer.port}
        if srtp:
            # The key the worker decrypts our packets with.
            connect["srtpParameters"] = mu.srtp_parameters(key)
        if connect:
            self.request("transport.connect", self.internal(), connect)
        self.request("transport.produce", self.internal(producerId=PRODUCER_ID),
                     produce_video(VIDEO_PT, VIDEO_PT))
        # A consumer on the same transport sends the stream back to us.
        self.request("transport.consume",
                     self.internal(producerId=PRODUCER_ID, consumerId=CONSUMER_ID),
                     consume_video(VIDEO_PT))

        packets = vp8_packets()
        for packet in packets:
            peer.sendto(mu.srtp_protect_rtp(packet, key) if srtp else packet, worker_addr)
            time.sleep(SEND_INTERVAL)
        sender_report = wire.rtcp_sender_report(SSRC, time.time(), 90000 + 3000 * len(packets),
                                                len(packets), sum(PAYLOAD_SIZES))
        peer.sendto(mu.srtcp_protect(sender_report, key) if srtp else sender_report,
                    worker_addr)

        # Garbage from the peer: too short, empty, of no RFC 7983 class, a
        # STUN-class blob and an RTCP header whose length lies; with SRTP
        # also an RTP packet whose tag is wrong.
        garbage = [b"\x80\x01\x02", b"", bytes([0xF0]) + self.rng.randbytes(99),
                   b"\x00\x01" + self.rng.randbytes(58),
                   struct.pack("!BBHI", 0x80, 201, 0x4000, 1) + self.rng.randbytes(12)]
        if srtp:
            forged = wire.rtp_packet(VIDEO_PT, 2000, 0, SSRC, False, self.rng.randbytes(80))
            garbage.append(forged + self.rng.randbytes(SRTP_TAG_LEN))
        for data in garbage:
            peer.sendto(data, worker_addr)
        # A stranger's RTP (our SSRC, from another port) and garbage.
        strange = [wire.rtp_packet(VIDEO_PT, 3000, 0, SSRC, False, self.rng.randbytes(200)),
                   bytes([0xC0]) + self.rng.randbytes(40)]
        for data in strange:
            stranger.sendto(data, worker_addr)

        expected = peer.bytes_sent() + stranger.bytes_sent()
        self.assert_received_exactly(expected)
        stats = self.stats()
        # Only the packets that passed are RTP, counted in the clear.
        self.assertEqual(stats["rtpBytesReceived"], sum(len(p) for p in packets), stats)
        dump = self.dump()
        dropped = sum(1 for d in garbage if d) + len(strange)
        self.assertEqual(dump["packetsDiscarded"], dropped, dump)
        if srtp:
            srtp_in = dump["srtpInbound"]
            self.assertEqual((srtp_in["rtpPackets"], srtp_in["rtcpPackets"]),
                             (len(packets), 1), srtp_in)
            # Everything else from the peer long enough to be looked at
            # failed SRTP, once each.
            self.assertEqual(srtp_in["authFailures"] + srtp_in["otherFailures"],
                             sum(1 for d in garbage if len(d) >= 4), srtp_in)

        # The consumer sends every packet back to us.
        def consumer_rtp(received):
            out = []
            for _, data, _ in received:
                if not wire.is_rtcp(data) and len(data) >= 12 and \
                        struct.unpack_from("!I", data, 8)[0] == CONSUMER_SSRC:
                    out.append(data)
            return out
        self.assertTrue(peer.wait_until(lambda r: len(consumer_rtp(r)) == len(packets),
                                        COUNT_TIMEOUT),
                        "the consumer forwarded %d of %d packets\n%s"
                        % (len(consumer_rtp(peer.received())), len(packets),
                           self.diagnostics()))
        tag = SRTP_TAG_LEN if srtp else 0
        self.assertEqual([len(d) - tag for d in consumer_rtp(peer.received())],
                         [len(p) for p in packets])
        # Reports (the producer's RR, the consumer's SR) count too.
        self.assertTrue(peer.wait_until(lambda r: any(wire.is_rtcp(d) for _, d, _ in r),
                                        RTCP_TIMEOUT), "no RTCP from the worker")

        sent, k = self.assert_sent_exactly(lambda: [len(d) for _, d, _ in peer.received()])
        first = [d for _, d, _ in peer.received()[:k]]
        rtcp = [d for d in first if wire.is_rtcp(d)]
        rtp = consumer_rtp([(0, d, None) for d in first])
        self.assertEqual(len(rtp) + len(rtcp), k, "the worker sent us something else")
        self.assertEqual(self.stats()["rtpBytesSent"], sum(len(d) - tag for d in rtp))
        self.assertEqual(stranger.received(), [], "the worker answered the stranger")
        self.report("received %d bytes (%d RTP packets, %d garbage datagrams); sent %d bytes "
                    "(%d RTP, %d RTCP datagrams)" % (expected, len(packets), dropped, sent,
                                                    len(rtp), len(rtcp)))

    def test_plain_comedia(self):
        self.run_plain(comedia=True, srtp=False)

    def test_plain_connected(self):
        self.run_plain(comedia=False, srtp=False)

    def test_plain_connected_srtp(self):
        """Sizes on the wire are the protected ones: bytesReceived counts
        what was sent encrypted (tags included), rtpBytesReceived the RTP
        the worker decrypted."""
        self.run_plain(comedia=False, srtp=True)

    # ----- WebRtcTransport ---------------------------------------------------

    def create_webrtc(self, udp=True, tcp=False):
        answer = self.request("router.createWebRtcTransport", self.internal(),
                              wu.webrtc_transport_options(enable_udp=udp, enable_tcp=tcp))
        return answer, answer["iceParameters"]

    def stun_checks(self, peer, ice, address, count):
        """`count` valid checks and one with a wrong MESSAGE-INTEGRITY;
        every valid one must be answered with a success."""
        for i in range(count):
            txid, request = wu.binding_request(ice["usernameFragment"], ice["password"],
                                               use_candidate=i == 0)
            peer.sendto(request, address)
            response = wu.receive_stun(peer, txid, 2.0)
            self.assertIsNotNone(response, "check %d unanswered\n%s" % (i, self.diagnostics()))
            self.assertEqual(response.type, wu.BINDING_SUCCESS)
        _, bad = wu.binding_request(ice["usernameFragment"], ice["password"],
                                    corrupt_integrity=True)
        peer.sendto(bad, address)

    def test_webrtc_udp_stun_checks(self):
        answer, ice = self.create_webrtc()
        address = (wu.LOCAL_IP, wu.candidate_port(answer, "udp"))
        peer = self.peer()
        self.stun_checks(peer, ice, address, 5)
        # Garbage of no class, and a DTLS record before any DTLS.
        peer.sendto(bytes([0xF0]) + self.rng.randbytes(120), address)
        peer.sendto(struct.pack("!BHH6sH", 22, 0xFEFD, 0, bytes(6), 30) + self.rng.randbytes(30),
                    address)

        expected = peer.bytes_sent()
        self.assert_received_exactly(expected)
        sent, k = self.assert_sent_exactly(lambda: [len(d) for _, d, _ in peer.received()])
        responses = [d for _, d, _ in peer.received()[:k]]
        stun = [d for d in responses if d[0] < 4]
        # The DTLS record reached DTLS, which ICE started in its server role.
        dtls = [d for d in responses if 20 <= d[0] <= 63]
        self.assertEqual(len(stun) + len(dtls), k, "neither STUN nor DTLS from the worker")
        self.assertGreaterEqual(len(stun), 5)
        self.report("received %d bytes in %d datagrams; sent %d bytes in %d STUN responses and "
                    "%d DTLS datagrams" % (expected, len(peer.sent()), sent, len(stun), len(dtls)))

    @unittest.skipIf(_DTLS_SKIP, _DTLS_SKIP or "")
    def test_webrtc_udp_stun_and_dtls_handshake(self):
        answer, ice = self.create_webrtc()
        address = (wu.LOCAL_IP, wu.candidate_port(answer, "udp"))
        peer = self.peer()
        client = wu.DtlsClient(peer, address)
        self.assertEqual(self.request("transport.connect", self.internal(),
                                      wu.dtls_connect_data(client.fingerprint, role="client")),
                         {"dtlsLocalRole": "server"})
        self.stun_checks(peer, ice, address, 2)
        self.assertEqual(client.handshake(timeout=5), "connected", client.error)
        self.worker.wait_notification(
            lambda n: n["targetId"] == TRANSPORT_ID and n["event"] == "dtlsstatechange"
            and n["data"]["dtlsState"] == "connected", timeout=5)

        expected = peer.bytes_sent()
        self.assert_received_exactly(expected)
        sent, k = self.assert_sent_exactly(lambda: [len(d) for _, d, _ in peer.received()])
        got = [d for _, d, _ in peer.received()[:k]]
        dtls = [d for d in got if 20 <= d[0] <= 63]
        stun = [d for d in got if d[0] < 4]
        self.assertEqual(len(dtls) + len(stun), k)
        self.assertGreater(len(dtls), 0)
        sent_dtls = sum(len(d) for d in peer.sent() if 20 <= d[0] <= 63)
        self.report("received %d bytes (%d of DTLS); sent %d bytes (%d of DTLS in %d datagrams)"
                    % (expected, sent_dtls, sent, sum(len(d) for d in dtls), len(dtls)))

    def test_webrtc_tcp_stun_checks(self):
        """ICE-TCP: the frames' payloads are counted, not their 2-byte
        length prefixes; frames split across writes count once; a frame of
        no known class (which ends the connection) counts too."""
        answer, ice = self.create_webrtc(udp=False, tcp=True)
        address = (wu.LOCAL_IP, wu.candidate_port(answer, "tcp"))
        conn = socket.create_connection(address, timeout=5)
        self.closers.append(conn.close)
        payloads_in = []
        payloads_out = []
        # A DTLS record before the tuple is valid: read, counted, dropped.
        early = struct.pack("!BHH6sH", 22, 0xFEFD, 0, bytes(6), 20) + self.rng.randbytes(20)
        conn.sendall(wu.rfc4571_frame(early))
        payloads_in.append(early)
        for i in range(4):
            txid, request = wu.binding_request(ice["usernameFragment"], ice["password"],
                                               use_candidate=i == 0)
            frame = wu.rfc4571_frame(request)
            if i == 1:
                # One frame in three writes, its length prefix split too.
                for part in (frame[:1], frame[1:9], frame[9:]):
                    conn.sendall(part)
                    time.sleep(0.02)
            else:
                conn.sendall(frame)
            payloads_in.append(request)
            response = wu.read_rfc4571_frame(conn, 2)
            self.assertIsNotNone(response, "check %d unanswered\n%s" % (i, self.diagnostics()))
            self.assertEqual(wu.StunMessage(response).transaction_id, txid)
            payloads_out.append(response)
        # Another connection sends a frame no ICE-TCP peer would: the
        # worker reads it, counts it and closes that connection.
        other = socket.create_connection(address, timeout=5)
        self.closers.append(other.close)
        junk = bytes([0xF0]) + self.rng.randbytes(70)
        other.sendall(wu.rfc4571_frame(junk))
        payloads_in.append(junk)
        other.settimeout(2)
        try:
            closed = other.recv(100) == b""
        except OSError:
            closed = True
        self.assertTrue(closed, "the worker kept a connection that sent garbage")

        expected = sum(len(p) for p in payloads_in)
        self.assert_received_exactly(expected)
        sizes = [len(p) for p in payloads_out]
        sent, k = self.assert_sent_exactly(lambda: sizes)
        self.assertEqual(k, len(sizes))
        self.report("received %d bytes in %d frames; sent %d bytes in %d frames"
                    % (expected, len(payloads_in), sent, k))

    # ----- DirectTransport ---------------------------------------------------

    def payloads_for(self, targets):
        """Payload notifications (event, target, payload) for the targets,
        in arrival order."""
        return [(n["event"], n["targetId"], p) for n, p in list(self.worker.payload_notifications)
                if n.get("targetId") in targets]

    def test_direct_transports(self):
        """RTP in through producer.send on one DirectTransport, RTCP in
        through transport.sendRtcp on both; RTP out as `rtp` notifications
        of a consumer on the other, RTCP out as `rtcp` notifications; every
        payload counted exactly once, and each forwarded packet equal to the
        sent one but for the SSRC, sequence number and timestamp (shifted by
        constant offsets) and the payload type."""
        send_id, recv_id = "direct-send", "direct-recv"
        for transport_id in (send_id, recv_id):
            self.request("router.createDirectTransport", self.internal(transport_id),
                         {"direct": True, "maxMessageSize": 262144})
        consumer_pt = 111
        self.request("transport.produce", self.internal(send_id, producerId=PRODUCER_ID),
                     produce_video(VIDEO_PT, consumer_pt))
        self.request("transport.consume",
                     self.internal(recv_id, producerId=PRODUCER_ID, consumerId=CONSUMER_ID),
                     consume_video(consumer_pt))

        producer_internal = self.internal(send_id, producerId=PRODUCER_ID)
        received = {send_id: 0, recv_id: 0}
        packets = vp8_packets(first_seq=65530)
        for packet in packets:
            self.worker.payload_notify("producer.send", producer_internal, payload=packet)
            received[send_id] += len(packet)
        # Too short to be RTP: counted, then dropped.
        self.worker.payload_notify("producer.send", producer_internal, payload=b"\x80\x00\x01")
        received[send_id] += 3
        sender_report = wire.rtcp_sender_report(SSRC, time.time(), 0, len(packets), 100)
        self.worker.payload_notify("transport.sendRtcp", self.internal(send_id),
                                   payload=sender_report)
        received[send_id] += len(sender_report)
        receiver_report = wire.rtcp_receiver_report(
            0x0C0C0C0C, [wire.report_block(CONSUMER_SSRC, highest_seq=5)])
        self.worker.payload_notify("transport.sendRtcp", self.internal(recv_id),
                                   payload=receiver_report)
        received[recv_id] += len(receiver_report)

        forwarded = lambda: [p for e, t, p in self.payloads_for({CONSUMER_ID})  # noqa: E731
                             if e == "rtp"]
        deadline = time.monotonic() + COUNT_TIMEOUT
        while len(forwarded()) < len(packets) and time.monotonic() < deadline:
            time.sleep(0.02)
        out = forwarded()
        self.assertEqual(len(out), len(packets), "forwarded %d of %d\n%s"
                         % (len(out), len(packets), self.diagnostics()))
        seq_offsets, ts_offsets = set(), set()
        for sent, got in zip(packets, out):
            a, b = wire.RtpView(sent), wire.RtpView(got)
            self.assertEqual(len(got), len(sent))
            self.assertEqual((b.ssrc, b.pt, b.marker), (CONSUMER_SSRC, consumer_pt, a.marker))
            self.assertEqual(got[:1] + got[12:], sent[:1] + sent[12:],
                             "forwarded packet differs beyond the rewritten fields")
            seq_offsets.add((b.seq - a.seq) & 0xFFFF)
            ts_offsets.add((b.ts - a.ts) & 0xFFFFFFFF)
        self.assertEqual(len(seq_offsets), 1, "sequence numbers not shifted by a constant")
        self.assertEqual(len(ts_offsets), 1, "timestamps not shifted by a constant")

        for transport_id in (send_id, recv_id):
            self.assert_received_exactly(received[transport_id], transport_id)
        self.assertEqual(self.dump(send_id)["packetsDiscarded"], 1)
        # Reports out on both sides count too.
        deadline = time.monotonic() + RTCP_TIMEOUT
        while time.monotonic() < deadline and not all(
                any(e == "rtcp" for e, _, _ in self.payloads_for({t})) for t in (send_id, recv_id)):
            time.sleep(0.05)
        # The sending side's RTCP (its receiver reports), the receiving
        # side's RTP and RTCP (sender reports), each in its own order.
        sent_send, _ = self.assert_sent_exactly(
            lambda: [len(p) for _, _, p in self.payloads_for({send_id})], send_id)
        sent_recv, k = self.assert_sent_exactly(
            lambda: [len(p) for _, _, p in self.payloads_for({recv_id, CONSUMER_ID})], recv_id)
        rtp_out = [p for e, _, p in self.payloads_for({recv_id, CONSUMER_ID})[:k] if e == "rtp"]
        self.assertEqual(len(rtp_out), len(packets))
        self.assertEqual(self.stats(recv_id)["rtpBytesSent"], sum(len(p) for p in rtp_out))
        self.report("in: %d + %d bytes; out: %d bytes of RTCP, %d bytes of RTP and RTCP"
                    % (received[send_id], received[recv_id], sent_send, sent_recv))


if __name__ == "__main__":
    unittest.main()
