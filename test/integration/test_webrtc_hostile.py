"""A hostile peer against the worker's WebRtcTransport (ICE-lite over UDP
and TCP on 127.0.0.1, DTLS-SRTP): wrong DTLS fingerprints, STUN with bad
MESSAGE-INTEGRITY or FINGERPRINT, garbage datagrams of every RFC 7983
first-byte class, oversized and empty RFC 4571 frames, and a burst of
abruptly closed TCP connections.

Meanwhile a PlainTransport pair forwards an RTP stream that Python sends
and receives (webrtc_util.PlainStream); after every attack the test
requires fresh packets from it, that the worker still answers worker.dump,
and, where it applies, that the attacked transport still works for a
well-behaved peer.

Standard library only, except the DTLS tests, which need pyOpenSSL and
cryptography (they come with python3-aiortc; skipped without them, and a
strict run fails instead).

Run: /usr/bin/python3 test/integration/run_tests.py -v test_webrtc_hostile
Environment: SFU_TEST_VERBOSE=1 prints what the worker did with each attack;
SFU_TEST_WORKER_DEBUG=1 runs the worker with debug logs for ice, dtls and rtp.
"""

import os
import random
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerError, WorkerProcess  # noqa: E402
import webrtc_util as wu  # noqa: E402

ROUTER_ID = "router-hostile"
TARGET = "webrtc-target"

# Fresh plain-stream packets required after each attack (it sends 50/s).
FLOW_PACKETS = 10
FLOW_TIMEOUT = 3.0
# RFC 7983 first-byte classes, and the bytes no class claims.
BYTE_CLASSES = {
    "stun": range(0, 4),
    "dtls": range(20, 64),
    "rtp/rtcp": range(128, 192),
    "unclaimed": [b for b in range(256)
                  if not (b < 4 or 20 <= b < 64 or 128 <= b < 192)],
}
DATAGRAMS_PER_CLASS = 60
# Slack for fds the worker may legitimately keep (timers, lazily opened
# files) when comparing its fd count before and after the TCP burst.
FD_SLACK = 5
TCP_BURST = 200

_DTLS_SKIP = None if wu.have_pyopenssl() else \
    "pyOpenSSL/cryptography not installed (scripts/setup.sh installs python3-aiortc)"


def _worker_args():
    if os.environ.get("SFU_TEST_WORKER_DEBUG"):
        return ["--logLevel=debug", "--logTag=ice", "--logTag=dtls", "--logTag=rtp"]
    return ["--logLevel=warn"]


def _udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((wu.LOCAL_IP, 0))
    return sock


def _garbage(first_byte, rng):
    """A datagram of random length starting with first_byte."""
    return bytes([first_byte]) + rng.randbytes(rng.randint(0, 1400))


def _stun_shaped_garbage(rng):
    """A STUN header with the right magic cookie and length, then random
    attribute TLVs whose lengths overrun, underrun or lie."""
    body = b""
    for _ in range(rng.randint(1, 8)):
        attr_len = rng.choice([0, 1, 3, 4, 20, 200, 0xFFFF])
        value = rng.randbytes(min(attr_len, rng.randint(0, 64)))
        body += struct.pack("!HH", rng.choice([0x0006, 0x0008, 0x0020, 0x0024, 0x8028,
                                               0x802A, rng.randint(0, 0xFFFF)]),
                            attr_len) + value
    body += b"\0" * (-len(body) % 4)
    msg_type = rng.choice([0x0001, 0x0101, 0x0111, 0x0011, rng.randint(0, 0x3FFF)])
    return struct.pack("!HHI12s", msg_type, len(body), wu.STUN_MAGIC,
                       rng.randbytes(12)) + body


# The shortest record body an AES-GCM association can carry: 8-byte
# explicit nonce + 16-byte tag. Shorter ones are the subject of their own
# test (test_short_dtls_record_keeps_the_association).
MIN_GCM_RECORD_BODY = 24


def _dtls_shaped_garbage(rng):
    """A DTLS record header that parses (content type, DTLS 1.0/1.2
    version, epoch 0 or 1, a consistent length) around a random body, so
    that it reaches the record layer of an established association."""
    body = rng.randbytes(rng.randint(MIN_GCM_RECORD_BODY, 600))
    return struct.pack("!BHH6sH", rng.choice([20, 21, 22, 23]), rng.choice([0xFEFD, 0xFEFF]),
                       rng.choice([0, 1]), rng.randbytes(6), len(body)) + body


def _rtp_shaped_garbage(rng):
    """A well-formed RTP or RTCP header with a random body: it passes the
    demux and reaches SRTP, whose authentication must reject it."""
    if rng.random() < 0.5:
        header = struct.pack("!BBHII", 0x80 | rng.randint(0, 15), rng.randint(0, 127),
                             rng.randint(0, 0xFFFF), rng.randint(0, 2 ** 32 - 1),
                             rng.randint(0, 2 ** 32 - 1))
    else:
        body_words = rng.randint(1, 60)
        header = struct.pack("!BBHI", 0x80 | rng.randint(0, 31), rng.randint(200, 206),
                             body_words, rng.randint(0, 2 ** 32 - 1))
    return header + rng.randbytes(rng.randint(0, 1200))


SHAPED_GARBAGE = {"stun": _stun_shaped_garbage, "dtls": _dtls_shaped_garbage,
                  "rtp/rtcp": _rtp_shaped_garbage}


class HostileWebRtcTest(unittest.TestCase):

    def setUp(self):
        # Random garbage, reproducible: a failure prints the seed to rerun
        # with (SFU_TEST_SEED=N).
        self.seed = int(os.environ.get("SFU_TEST_SEED") or random.randrange(2 ** 32))
        self.rng = random.Random(self.seed)
        self.sockets = []
        self.worker = WorkerProcess(_worker_args())
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

        self.stream = wu.PlainStream(self.worker, ROUTER_ID)
        self.addCleanup(self.stream.stop)
        self.addCleanup(self._close_sockets)
        self.stream.start()
        # The first packets may wait for the producer's score (about a
        # second with mediasoup's own worker).
        self.assertGreaterEqual(self.stream.wait_flowing(FLOW_PACKETS, 8), FLOW_PACKETS,
                                "the plain stream never flowed\n%s" % self.diagnostics())

        self.transport = self.request("router.createWebRtcTransport", self.internal(),
                                      wu.webrtc_transport_options(enable_udp=True,
                                                                  enable_tcp=True))
        self.ice = self.transport["iceParameters"]
        self.udp_port = wu.candidate_port(self.transport, "udp")
        self.tcp_port = wu.candidate_port(self.transport, "tcp")

    def tearDown(self):
        # After whatever was thrown at it, the worker still shuts down
        # cleanly when asked (cleanups then release the rest).
        if self.worker.alive:
            self.stream.stop()
            code = self.worker.close()
            self.assertEqual(code, 0, "worker.close after the attack\n%s" % self.diagnostics())

    def _close_sockets(self):
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass

    # ----- small helpers ---------------------------------------------------

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, transport_id=TARGET):
        return {"routerId": ROUTER_ID, "transportId": transport_id}

    def udp_socket(self):
        sock = _udp_socket()
        self.sockets.append(sock)
        return sock

    def tcp_connect(self):
        sock = socket.create_connection((wu.LOCAL_IP, self.tcp_port), timeout=5)
        self.sockets.append(sock)
        return sock

    def diagnostics(self):
        logs = [text for _, text in self.worker.logs][-30:]
        state = "alive" if self.worker.alive else "exit %s" % self.worker.returncode
        return "SFU_TEST_SEED=%d; worker %s; logs:\n  %s\nstderr: %s" % (
            self.seed, state, "\n  ".join(logs), self.worker.stderr.strip()[-800:] or "<empty>")

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def notifications(self, event, transport_id=TARGET):
        return [n.get("data", {}) for n in self.worker.all_notifications
                if n["targetId"] == transport_id and n["event"] == event]

    def target_dump(self):
        return self.request("transport.dump", self.internal())

    def target_stats(self):
        return self.request("transport.getStats", self.internal())[0]

    def assert_worker_and_others_fine(self, after):
        """The worker process lives and answers, and the plain stream got
        fresh packets: the attack disturbed nothing else."""
        self.assertTrue(self.worker.alive, "worker died after %s\n%s" % (after, self.diagnostics()))
        try:
            dump = self.worker.request_ok("worker.dump", timeout=5)
        except WorkerError as exc:
            self.fail("worker.dump unanswered after %s: %s" % (after, exc))
        self.assertIn(ROUTER_ID, dump.get("routerIds", []), dump)
        arrived = self.stream.wait_flowing(FLOW_PACKETS, FLOW_TIMEOUT)
        self.assertGreaterEqual(arrived, FLOW_PACKETS,
                                "plain stream stalled after %s (%d packets in %.0f s)\n%s"
                                % (after, arrived, FLOW_TIMEOUT, self.diagnostics()))

    def stun_check(self, sock, timeout=1.0, **kwargs):
        """Sends a connectivity check to the worker's UDP candidate; returns
        (request bytes, the answer or None)."""
        txid, data = wu.binding_request(self.ice["usernameFragment"], self.ice["password"],
                                        **kwargs)
        sock.sendto(data, (wu.LOCAL_IP, self.udp_port))
        return data, wu.receive_stun(sock, txid, timeout)

    def assert_check_succeeds(self, sock, response, expected_address):
        """A success response for us: authenticated with the worker's ICE
        password, with FINGERPRINT, mapping our own address."""
        self.assertIsNotNone(response, "no answer to a valid check\n%s" % self.diagnostics())
        self.assertEqual(response.type, wu.BINDING_SUCCESS, response.error_code())
        self.assertTrue(response.integrity_ok(self.ice["password"].encode()),
                        "success response's MESSAGE-INTEGRITY does not verify")
        self.assertTrue(response.fingerprint_ok(), "success response's FINGERPRINT is wrong")
        self.assertEqual(response.xor_mapped_address(), expected_address)

    def select_udp_tuple(self, sock):
        _, response = self.stun_check(sock)
        self.assert_check_succeeds(sock, response, sock.getsockname())
        note = self.worker.wait_notification(
            lambda n: n["targetId"] == TARGET and n["event"] == "iceselectedtuplechange")
        self.assertEqual(note["data"]["iceSelectedTuple"]["remotePort"], sock.getsockname()[1])

    def dtls_handshake(self, fingerprint_for_worker=None):
        """ICE from a fresh socket, connect() with the client certificate's
        fingerprint (or the one given), then a real DTLS handshake as the
        client. Returns (socket, client, handshake result)."""
        sock = self.udp_socket()
        client = wu.DtlsClient(sock, (wu.LOCAL_IP, self.udp_port))
        connected = self.request("transport.connect", self.internal(),
                                 wu.dtls_connect_data(fingerprint_for_worker or client.fingerprint,
                                                      role="client"))
        self.assertEqual(connected, {"dtlsLocalRole": "server"})
        self.select_udp_tuple(sock)
        result = client.handshake(timeout=5)
        return sock, client, result

    def wait_dtls_state(self, state, timeout=5):
        return self.worker.wait_notification(
            lambda n: n["targetId"] == TARGET and n["event"] == "dtlsstatechange"
            and n["data"]["dtlsState"] == state, timeout=timeout)

    # ----- 1. DTLS ---------------------------------------------------------

    @unittest.skipIf(_DTLS_SKIP, _DTLS_SKIP or "")
    def test_dtls_with_the_right_fingerprint_connects(self):
        """The control for the next test: the same client, announced with its
        own fingerprint, gets a DTLS-SRTP association."""
        _, client, result = self.dtls_handshake()
        self.assertEqual(result, "connected", client.error)
        note = self.wait_dtls_state("connected")
        self.assertTrue(wu.fingerprints_equal(wu.pem_fingerprint(note["data"]["dtlsRemoteCert"]),
                                              client.fingerprint))
        self.assertTrue(wu.fingerprints_equal(client.peer_fingerprint,
                                              wu.worker_fingerprint(self.transport)))
        profile = client.selected_srtp_profile()
        self.assertIn(profile, ("SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80"))
        self.report("SRTP profile %s" % profile)
        self.assertEqual(self.target_dump()["dtlsState"], "connected")
        self.assert_worker_and_others_fine("a DTLS handshake")

    @unittest.skipIf(_DTLS_SKIP, _DTLS_SKIP or "")
    def test_dtls_with_a_wrong_fingerprint_fails(self):
        _, _, other_fingerprint = wu.self_signed_certificate()
        _, client, result = self.dtls_handshake(fingerprint_for_worker=other_fingerprint)
        try:
            self.wait_dtls_state("failed")
        except WorkerError:
            self.fail("no dtlsstatechange 'failed' (client saw %r, %s); notifications %s\n%s"
                      % (result, client.error, self.notifications("dtlsstatechange"),
                         self.diagnostics()))
        states = [d["dtlsState"] for d in self.notifications("dtlsstatechange")]
        self.assertNotIn("connected", states)
        self.assertEqual(self.target_dump()["dtlsState"], "failed")
        closed_by_worker = result == "failed" or client.read_alert(1.0)
        self.report("client handshake %r (%s); worker sent an alert or close: %s; states %s"
                    % (result, client.error, closed_by_worker, states))
        self.assert_worker_and_others_fine("a DTLS handshake with a wrong fingerprint")

    @unittest.skipIf(_DTLS_SKIP, _DTLS_SKIP or "")
    def test_short_dtls_record_keeps_the_association(self):
        """RFC 6347 4.1.2.7: invalid records are silently discarded. One
        datagram from the peer's address (anybody who can spoof it) with a
        current-epoch record too short to hold an AEAD nonce and tag must
        not end an established association."""
        peer, client, result = self.dtls_handshake()
        self.assertEqual(result, "connected", client.error)
        self.wait_dtls_state("connected")
        cipher = client.connection.get_cipher_name()
        # Application data, DTLS 1.2, epoch 1, any sequence number, 7 bytes.
        record = struct.pack("!BHH6sH", 23, 0xFEFD, 1, b"\x00\x00\x00\x00\x01\x00", 7)
        peer.sendto(record + self.rng.randbytes(7), (wu.LOCAL_IP, self.udp_port))
        time.sleep(0.5)
        states = [d["dtlsState"] for d in self.notifications("dtlsstatechange")]
        self.assertEqual(states, ["connecting", "connected"],
                         "a 20-byte record (%s) ended the association" % cipher)
        self.assertEqual(self.target_dump()["dtlsState"], "connected")
        self.assert_worker_and_others_fine("a short DTLS record")

    # ----- 2. STUN ---------------------------------------------------------

    def test_stun_with_bad_integrity_or_fingerprint_selects_nothing(self):
        sock = self.udp_socket()
        before = self.target_stats()["bytesReceived"]

        bad_mi, response = self.stun_check(sock, corrupt_integrity=True)
        # RFC 5389 10.1.2: 401 without MESSAGE-INTEGRITY, or silence.
        if response is not None:
            self.assertEqual(response.type, wu.BINDING_ERROR, "bad MESSAGE-INTEGRITY accepted")
            self.assertEqual(response.error_code(), 401)
            self.assertTrue(response.fingerprint_ok())
        self.report("bad MESSAGE-INTEGRITY: %s" % (
            "error %s" % response.error_code() if response else "dropped"))

        bad_fp, response = self.stun_check(sock, corrupt_fingerprint=True)
        self.assertIsNone(response, "answered a check whose FINGERPRINT is wrong")

        # Right password, but another transport's username fragment.
        txid, wrong_user = wu.binding_request("notours", self.ice["password"])
        sock.sendto(wrong_user, (wu.LOCAL_IP, self.udp_port))
        response = wu.receive_stun(sock, txid, 1.0)
        if response is not None:
            self.assertEqual((response.type, response.error_code()), (wu.BINDING_ERROR, 401))

        self.assertEqual(self.notifications("iceselectedtuplechange"), [])
        self.assertEqual(self.notifications("icestatechange"), [])
        self.assertEqual(self.target_dump()["iceState"], "new")
        # The worker counted what it received, answered or not.
        received = self.target_stats()["bytesReceived"] - before
        self.assertGreaterEqual(received, len(bad_mi) + len(bad_fp) + len(wrong_user))

        # The transport still works for a peer that gets it right.
        _, response = self.stun_check(sock)
        self.assert_check_succeeds(sock, response, sock.getsockname())
        note = self.worker.wait_notification(
            lambda n: n["targetId"] == TARGET and n["event"] == "icestatechange")
        self.assertEqual(note["data"]["iceState"], "completed")
        selected = self.notifications("iceselectedtuplechange")[0]["iceSelectedTuple"]
        self.assertEqual((selected["remoteIp"], selected["remotePort"], selected["protocol"]),
                         (wu.LOCAL_IP, sock.getsockname()[1], "udp"))
        self.assert_worker_and_others_fine("bad STUN checks")

    def test_stun_check_over_tcp(self):
        """The control for the TCP attacks: ICE-TCP works for a good peer."""
        sock = self.tcp_connect()
        txid, data = wu.binding_request(self.ice["usernameFragment"], self.ice["password"])
        sock.sendall(wu.rfc4571_frame(data))
        frame = wu.read_rfc4571_frame(sock, 3)
        self.assertIsNotNone(frame, "no framed answer over TCP\n%s" % self.diagnostics())
        response = wu.StunMessage(frame)
        self.assertEqual(response.transaction_id, txid)
        self.assert_check_succeeds(sock, response, sock.getsockname())
        note = self.worker.wait_notification(
            lambda n: n["targetId"] == TARGET and n["event"] == "iceselectedtuplechange")
        self.assertEqual(note["data"]["iceSelectedTuple"]["protocol"], "tcp")
        self.assertEqual(note["data"]["iceSelectedTuple"]["remotePort"], sock.getsockname()[1])
        # Dropping the selected TCP tuple must not hurt either.
        sock.close()
        self.assert_worker_and_others_fine("closing a selected ICE-TCP connection")

    # ----- 3. garbage datagrams --------------------------------------------

    def send_garbage(self, sockets, ports):
        sent = 0
        for name, first_bytes in BYTE_CLASSES.items():
            for i in range(DATAGRAMS_PER_CLASS):
                data = _garbage(self.rng.choice(list(first_bytes)), self.rng)
                # Every other one looks right at first sight, to get past
                # the first checks into the parsers.
                if name in SHAPED_GARBAGE and i % 2:
                    data = SHAPED_GARBAGE[name](self.rng)
                for sock in sockets:
                    for port in ports:
                        sock.sendto(data, (wu.LOCAL_IP, port))
                        sent += 1
            # Paced per class: the kernel must not drop the plain stream's
            # packets under our flood, or the check would prove nothing.
            time.sleep(0.05)
        for sock in sockets:
            for port in ports:
                sock.sendto(b"", (wu.LOCAL_IP, port))
        return sent

    def test_garbage_datagrams_to_webrtc_and_plain_ports(self):
        # An established transport, when DTLS is available, so that garbage
        # from the selected tuple reaches the DTLS and SRTP paths too.
        if _DTLS_SKIP is None:
            peer, client, result = self.dtls_handshake()
            self.assertEqual(result, "connected", client.error)
            self.wait_dtls_state("connected")
        else:
            peer = self.udp_socket()
            self.select_udp_tuple(peer)
        stranger = self.udp_socket()

        sent = self.send_garbage([peer, stranger], [self.udp_port])
        sent += self.send_garbage([stranger, self.stream.sender], self.stream.ports)
        self.report("%d garbage datagrams sent" % sent)
        self.assert_worker_and_others_fine("garbage datagrams")

        # The attacked transport still answers its peer and keeps its state.
        _, response = self.stun_check(peer)
        self.assert_check_succeeds(peer, response, peer.getsockname())
        dtls_states = [d["dtlsState"] for d in self.notifications("dtlsstatechange")]
        if _DTLS_SKIP is None:
            self.assertEqual(dtls_states, ["connecting", "connected"], self.diagnostics())
        stats = self.target_stats()
        self.assertEqual(stats["iceSelectedTuple"]["remotePort"], peer.getsockname()[1])
        self.assertEqual(stats["rtpBytesReceived"], 0, "garbage passed SRTP")
        target = self.request("transport.dump", self.internal())
        self.report("discarded %s, srtp %s" % (target["packetsDiscarded"],
                                               target.get("srtpInbound")))
        # Discarded at least: what no layer takes, the stranger's DTLS-,
        # RTP/RTCP- and unclaimed-class datagrams and the peer's unclaimed
        # ones (STUN-class garbage goes to the ICE server, which drops it).
        self.assertGreaterEqual(target["packetsDiscarded"], 4 * DATAGRAMS_PER_CLASS,
                                "garbage not counted: %s" % target)
        if _DTLS_SKIP is None:
            # Every RTP- and RTCP-class datagram from the peer reached SRTP
            # and failed there (a few may be lost to the kernel's buffers).
            srtp = target["srtpInbound"]
            failed = srtp["authFailures"] + srtp["otherFailures"]
            self.assertGreaterEqual(failed, DATAGRAMS_PER_CLASS - 3, srtp)
            self.assertLessEqual(failed, DATAGRAMS_PER_CLASS, srtp)
            self.assertEqual(srtp["rtpPackets"] + srtp["rtcpPackets"], 0, srtp)
        # The comedia producer kept the stream's source, not a stranger's.
        plain = self.request("transport.dump", self.internal(self.stream.send_id))
        self.assertEqual(plain["tuple"]["remotePort"], self.stream.sender.getsockname()[1])

    # ----- 4. hostile TCP framing ------------------------------------------

    def send_tcp(self, payload):
        """Sends on a fresh connection; returns whether the worker closed it
        (EOF or reset) within a second."""
        sock = self.tcp_connect()
        try:
            sock.sendall(payload)
        except OSError:
            return True
        sock.settimeout(1.0)
        try:
            while True:
                if not sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def test_oversized_and_empty_rfc4571_frames(self):
        outcomes = {}
        for name, first in (("random", None), ("stun", 0x00), ("dtls", 0x16), ("rtp", 0x80),
                            ("unknown", 0xF0)):
            body = self.rng.randbytes(65535)
            if first is not None:
                body = bytes([first]) + body[1:]
            outcomes["65535-byte %s frame" % name] = self.send_tcp(
                b"\xff\xff" + body + self.rng.randbytes(5000))
        outcomes["empty frame"] = self.send_tcp(b"\x00\x00" + self.rng.randbytes(3000))
        # A frame header announcing more than ever comes, then silence.
        outcomes["truncated frame"] = self.send_tcp(b"\xff\xff" + self.rng.randbytes(100))
        self.report("closed by the worker: %s" % outcomes)
        # A frame no ICE-TCP peer would send ends the connection.
        self.assertTrue(outcomes["65535-byte unknown frame"], outcomes)
        self.assertTrue(outcomes["empty frame"], outcomes)
        self.assert_worker_and_others_fine("hostile RFC 4571 frames")
        # The TCP candidate still serves a good peer.
        sock = self.tcp_connect()
        txid, data = wu.binding_request(self.ice["usernameFragment"], self.ice["password"])
        sock.sendall(wu.rfc4571_frame(data))
        frame = wu.read_rfc4571_frame(sock, 3)
        self.assertIsNotNone(frame, "TCP candidate dead after the attack\n%s" % self.diagnostics())
        self.assert_check_succeeds(sock, wu.StunMessage(frame), sock.getsockname())

    # ----- 5. many abrupt TCP connections ----------------------------------

    def worker_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.worker.pid))

    def wait_fds_at_most(self, limit, timeout):
        deadline = time.monotonic() + timeout
        count = self.worker_fds()
        while count > limit and time.monotonic() < deadline:
            time.sleep(0.05)
            count = self.worker_fds()
        return count

    def test_many_abruptly_closed_tcp_connections(self):
        # One connection first, so that anything opened lazily on the first
        # accept is already in the baseline.
        self.tcp_connect().close()
        time.sleep(0.2)
        baseline = self.worker_fds()

        peak = baseline
        batch = 50
        for start in range(0, TCP_BURST, batch):
            conns = [socket.create_connection((wu.LOCAL_IP, self.tcp_port), timeout=5)
                     for _ in range(batch)]
            for i, conn in enumerate(conns):
                # Some leave half a frame or a stray STUN frame behind.
                if i % 3 == 1:
                    conn.sendall(b"\x05\xdc" + self.rng.randbytes(700))
                elif i % 3 == 2:
                    conn.sendall(wu.rfc4571_frame(_stun_shaped_garbage(self.rng)))
            time.sleep(0.1)
            peak = max(peak, self.worker_fds())
            for conn in conns:
                # SO_LINGER 0: close with a reset, as a crashed peer would.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
        # The worker accepted them (else this proved nothing)...
        self.assertGreaterEqual(peak, baseline + batch // 2,
                                "worker never held the connections (fds %d -> peak %d)"
                                % (baseline, peak))
        # ... and released them all.
        after = self.wait_fds_at_most(baseline + FD_SLACK, 5)
        self.report("fds: baseline %d, peak %d, after %d" % (baseline, peak, after))
        self.assertLessEqual(after, baseline + FD_SLACK,
                             "worker fds %d -> %d after %d reset connections"
                             % (baseline, after, TCP_BURST))
        self.assert_worker_and_others_fine("%d reset TCP connections" % TCP_BURST)


if __name__ == "__main__":
    unittest.main()
