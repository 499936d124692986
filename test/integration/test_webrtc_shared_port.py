"""The worker's shared WebRTC ports (SFU_WEBRTC_UDP_PORT and
SFU_WEBRTC_TCP_PORT in its environment): every WebRtcTransport announces
the same UDP and TCP port, and the worker tells their peers apart by ICE
username fragment, then by remote address.

  - an aiortc call (the one of test_webrtc_aiortc: a sender peer on one
    transport, a receiver peer on another, media forwarded between them)
    with both transports on the shared port;
  - its sender's transport closed, its receiver's still answers checks on
    the port; once both are closed the port is free, and a second call
    runs on transports created afterwards, on the same port;
  - raw ICE checks: transports created, checked and closed on the shared
    UDP port, unknown ufrags and unknown sources dropped unanswered and
    counted (transport.dump's sharedPorts), an ICE-TCP check over the
    shared TCP port with MESSAGE-INTEGRITY;
  - invalid values: the worker exits 42 with a message; without the
    variables every transport keeps ports of its own.

Run: /usr/bin/python3 test/integration/run_tests.py -v test_webrtc_shared_port
"""

import asyncio
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess, timeout_scale  # noqa: E402
import test_webrtc_aiortc as aw  # noqa: E402
import webrtc_util as wu  # noqa: E402

ROUTER_ID = "router-shared"
# How long an answer may take on a loaded machine, and how long to listen
# for one that must not come (answers on loopback come at once).
ANSWER_TIMEOUT = 5.0 * timeout_scale()
QUIET_TIMEOUT = 1.0


def free_ports():
    """A UDP port and a TCP port nothing on loopback holds right now."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((wu.LOCAL_IP, 0))
        tcp.bind((wu.LOCAL_IP, 0))
        return udp.getsockname()[1], tcp.getsockname()[1]
    finally:
        udp.close()
        tcp.close()


def shared_env(udp_port, tcp_port):
    return {"SFU_WEBRTC_UDP_PORT": udp_port, "SFU_WEBRTC_TCP_PORT": tcp_port}


def ports_free(udp_port, tcp_port):
    """True when both ports can be bound on loopback (nothing holds them)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((wu.LOCAL_IP, udp_port))
        tcp.bind((wu.LOCAL_IP, tcp_port))
        tcp.listen()
        return True
    except OSError:
        return False
    finally:
        udp.close()
        tcp.close()


def shared_port(dump, protocol):
    ports = [p for p in dump.get("sharedPorts", []) if p["protocol"] == protocol]
    if len(ports) != 1:
        raise AssertionError("expected one shared %s port in %s" % (protocol, dump))
    return ports[0]


def raw_check(udp_port, ice, timeout):
    """An ICE check from a fresh socket with `ice`'s credentials: the
    response, or None if nothing came within `timeout`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((wu.LOCAL_IP, 0))
        txid, data = wu.binding_request(ice["usernameFragment"], ice["password"])
        sock.sendto(data, (wu.LOCAL_IP, udp_port))
        return wu.receive_stun(sock, txid, timeout)
    finally:
        sock.close()


def candidate_ports(transport, protocol):
    return [c["port"] for c in transport["iceCandidates"] if c["protocol"] == protocol]


if aw._SKIP_REASON is None:

    class RenamedCall(aw.Call):
        """test_webrtc_aiortc's call on other routers and transport ids."""

        def __init__(self, worker, router_id, prefix):
            super().__init__(worker)
            self.router_id = router_id
            self.ids = {aw.SEND_TRANSPORT: prefix + "-send",
                        aw.RECV_TRANSPORT: prefix + "-recv"}

        def internal(self, transport_id, **extra):
            internal = {"routerId": self.router_id,
                        "transportId": self.ids.get(transport_id, transport_id)}
            internal.update(extra)
            return internal


@unittest.skipIf(aw._SKIP_REASON is not None, aw._SKIP_REASON or "")
class SharedPortCallTest(unittest.TestCase):
    """Two aiortc calls through transports on the shared ports, the second
    on transports created after the first call's were closed."""

    calls = {}
    errors = {}

    @classmethod
    def setUpClass(cls):
        cls._original_host_addresses = aw.aioice.ice.get_host_addresses
        aw.aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [wu.LOCAL_IP]
        cls.addClassCleanup(setattr, aw.aioice.ice, "get_host_addresses",
                            cls._original_host_addresses)
        cls.udp_port, cls.tcp_port = free_ports()
        cls.worker = WorkerProcess(aw._worker_args(),
                                   env_extra=shared_env(cls.udp_port, cls.tcp_port))
        cls.addClassCleanup(cls.worker.terminate)
        cls.worker.wait_running()
        cls.calls = {}
        cls.errors = {}
        for name in ("first", "second"):
            router = "%s-%s" % (ROUTER_ID, name)
            cls.worker.request_ok("worker.createRouter", internal={"routerId": router})
            call = RenamedCall(cls.worker, router, name)
            cls.calls[name] = call
            try:
                asyncio.run(asyncio.wait_for(call.run(), aw.CALL_TIMEOUT))
            except BaseException as exc:  # reported by the tests that need it
                cls.errors[name] = exc
            if name == "first" and name not in cls.errors:
                # The first call's transports go before the second's exist:
                # the sender's first, the receiver's still answering after.
                send_id = call.ids[aw.SEND_TRANSPORT]
                recv_id = call.ids[aw.RECV_TRANSPORT]
                cls.worker.request_ok("transport.close", internal={
                    "routerId": router, "transportId": send_id})
                cls.closed_one_answers = raw_check(
                    cls.udp_port, call.send_transport["iceParameters"], QUIET_TIMEOUT) is not None
                cls.other_answers = raw_check(
                    cls.udp_port, call.recv_transport["iceParameters"], ANSWER_TIMEOUT) is not None
                cls.worker.request_ok("transport.close", internal={
                    "routerId": router, "transportId": recv_id})
                cls.free_between = ports_free(cls.udp_port, cls.tcp_port)
        cls.dump_after = cls.worker.request_ok("transport.dump", internal={
            "routerId": "%s-second" % ROUTER_ID,
            "transportId": cls.calls["second"].ids[aw.SEND_TRANSPORT]})
        cls.worker_alive_after = cls.worker.alive

    def call(self, name):
        if name in self.errors:
            logs = [text for _, text in self.worker.logs][-30:]
            self.fail("the %s call failed: %r\ntimeline: %s\nworker logs: %s\nstderr: %s"
                      % (name, self.errors[name], self.calls[name].timeline,
                         "\n  ".join(logs), self.worker.stderr[-800:]))
        return self.calls[name]

    def test_both_transports_of_each_call_announce_the_shared_ports(self):
        for name in ("first", "second"):
            call = self.call(name)
            for transport in (call.send_transport, call.recv_transport):
                self.assertEqual(candidate_ports(transport, "udp"), [self.udp_port])
                self.assertEqual(candidate_ports(transport, "tcp"), [self.tcp_port])

    def test_peers_connect_on_the_shared_udp_port(self):
        for name in ("first", "second"):
            call = self.call(name)
            for transport_id in call.ids.values():
                selected = [n["data"]["iceSelectedTuple"] for n in self.worker.all_notifications
                            if n["targetId"] == transport_id
                            and n["event"] == "iceselectedtuplechange"]
                self.assertTrue(selected, "%s never selected a tuple" % transport_id)
                self.assertEqual(selected[-1]["localPort"], self.udp_port)
                self.assertEqual(selected[-1]["protocol"], "udp")

    def test_media_flows_through_each_call(self):
        for name in ("first", "second"):
            call = self.call(name)
            self.assertGreaterEqual(len(call.video_frames), aw.MIN_VIDEO_FRAMES,
                                    "%s call: video frames decoded" % name)
            width, height, left, right = call.video_frames[-1]
            self.assertEqual((width, height), aw.VIDEO_SIZE)
            self.assertGreater(left, right + 50, "%s call: the pattern survived" % name)
            self.assertGreater(call.audio_frame_count * 0.02, aw.MIN_AUDIO_SECONDS / 2,
                               "%s call: audio decoded" % name)
            for kind in ("audio", "video"):
                consumer = call.stats["consumer-" + kind][0]
                self.assertGreater(consumer["packetCount"], 0, "%s %s consumer" % (name, kind))

    def test_closing_one_transport_leaves_the_other_answering(self):
        self.call("first")
        self.assertFalse(self.closed_one_answers, "a closed transport still answered")
        self.assertTrue(self.other_answers, "the transport left open stopped answering")

    def test_closed_transports_leave_the_port_to_the_next_ones(self):
        self.call("first")
        self.call("second")
        # No transport left between the calls: the shared ports closed.
        self.assertTrue(self.free_between, "the shared ports stayed open without transports")
        after = shared_port(self.dump_after, "udp")
        self.assertEqual(after["port"], self.udp_port)
        self.assertEqual(after["transports"], 2)
        self.assertEqual(shared_port(self.dump_after, "tcp")["port"], self.tcp_port)
        self.assertTrue(self.worker_alive_after)


class SharedPortChecksTest(unittest.TestCase):
    """Raw ICE checks against transports on the shared ports."""

    def setUp(self):
        self.udp_port, self.tcp_port = free_ports()
        self.worker = WorkerProcess(["--logLevel=warn"],
                                    env_extra=shared_env(self.udp_port, self.tcp_port))
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.worker.request_ok("worker.createRouter", internal={"routerId": ROUTER_ID})
        self.sockets = []
        self.addCleanup(lambda: [s.close() for s in self.sockets])

    def create(self, transport_id):
        return self.worker.request_ok(
            "router.createWebRtcTransport",
            internal={"routerId": ROUTER_ID, "transportId": transport_id},
            data=wu.webrtc_transport_options())

    def close_transport(self, transport_id):
        self.worker.request_ok("transport.close",
                               internal={"routerId": ROUTER_ID, "transportId": transport_id})

    def udp_socket(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((wu.LOCAL_IP, 0))
        self.sockets.append(sock)
        return sock

    def check(self, sock, ice, timeout=ANSWER_TIMEOUT):
        """Sends a check with `ice`'s credentials; the success response,
        verified with its password, or None if nothing came."""
        txid, data = wu.binding_request(ice["usernameFragment"], ice["password"])
        sock.sendto(data, (wu.LOCAL_IP, self.udp_port))
        response = wu.receive_stun(sock, txid, timeout)
        if response is not None:
            self.assertEqual(response.type, 0x0101)
            self.assertTrue(response.integrity_ok(ice["password"].encode()))
            self.assertEqual(response.xor_mapped_address(), sock.getsockname())
        return response

    def dump(self, transport_id):
        return self.worker.request_ok("transport.dump", internal={
            "routerId": ROUTER_ID, "transportId": transport_id})

    def shared_udp(self, transport_id):
        return shared_port(self.dump(transport_id), "udp")

    def test_transports_share_the_port_and_answer_their_own_checks(self):
        transports = {t: self.create(t) for t in ("a", "b", "c")}
        for transport in transports.values():
            self.assertEqual(candidate_ports(transport, "udp"), [self.udp_port])
            self.assertEqual(candidate_ports(transport, "tcp"), [self.tcp_port])
        peers = {t: self.udp_socket() for t in transports}
        for t, transport in transports.items():
            self.assertIsNotNone(self.check(peers[t], transport["iceParameters"]),
                                 "transport %s did not answer" % t)
        # Each check reached its own transport.
        for t in transports:
            dump = self.dump(t)
            self.assertEqual(dump["iceChecks"]["valid"], 1, t)
            self.assertEqual(dump["iceSelectedTuple"]["localPort"], self.udp_port)
            self.assertEqual(dump["iceSelectedTuple"]["remotePort"],
                             peers[t].getsockname()[1])
        self.assertEqual(self.shared_udp("a")["transports"], 3)
        self.assertEqual(self.shared_udp("a")["addresses"], 3)

        # Closing one leaves the others answering; one created after works.
        self.close_transport("a")
        self.assertIsNone(self.check(peers["a"], transports["a"]["iceParameters"],
                                     QUIET_TIMEOUT))
        self.assertIsNotNone(self.check(peers["b"], transports["b"]["iceParameters"]))
        late = self.create("d")
        self.assertEqual(candidate_ports(late, "udp"), [self.udp_port])
        self.assertIsNotNone(self.check(self.udp_socket(), late["iceParameters"]))
        shared = self.shared_udp("d")
        self.assertEqual(shared["transports"], 3)
        self.assertEqual(shared["addresses"], 3)
        self.assertGreaterEqual(shared["unknownUfrag"], 1)

    def test_unknown_ufrag_and_unknown_source_are_dropped_unanswered(self):
        self.create("a")
        stranger = self.udp_socket()
        before = self.shared_udp("a")
        wrong = {"usernameFragment": "nobodyhasthisufrag", "password": "x" * 32}
        self.assertIsNone(self.check(stranger, wrong, QUIET_TIMEOUT))
        rtp = bytes([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2]) + b"\xAA" * 100
        dtls = bytes([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]) + b"\x01" * 7
        for packet in (rtp, dtls, b"\xF0garbage"):
            stranger.sendto(packet, (wu.LOCAL_IP, self.udp_port))
        deadline = time.monotonic() + 2 * ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            after = self.shared_udp("a")
            if after["unknownAddress"] >= before["unknownAddress"] + 3:
                break
            time.sleep(0.05)
        self.assertEqual(after["unknownUfrag"], before["unknownUfrag"] + 1)
        self.assertEqual(after["unknownAddress"], before["unknownAddress"] + 3)
        stranger.settimeout(QUIET_TIMEOUT)
        with self.assertRaises(socket.timeout):
            stranger.recv(2048)
        stats = self.worker.request_ok("transport.getStats", internal={
            "routerId": ROUTER_ID, "transportId": "a"})[0]
        self.assertEqual(stats["bytesReceived"], 0)

    def test_ice_restart_moves_the_transport_to_its_new_ufrag(self):
        transport = self.create("a")
        peer = self.udp_socket()
        fresh = self.worker.request_ok("transport.restartIce", internal={
            "routerId": ROUTER_ID, "transportId": "a"})["iceParameters"]
        self.assertIsNone(self.check(peer, transport["iceParameters"], QUIET_TIMEOUT))
        self.assertIsNotNone(self.check(peer, fresh))

    def test_ice_tcp_check_on_the_shared_tcp_port(self):
        self.create("a")
        transport = self.create("b")
        ice = transport["iceParameters"]
        sock = socket.create_connection((wu.LOCAL_IP, self.tcp_port), timeout=5)
        self.sockets.append(sock)
        txid, data = wu.binding_request(ice["usernameFragment"], ice["password"])
        sock.sendall(wu.rfc4571_frame(data))
        frame = wu.read_rfc4571_frame(sock, ANSWER_TIMEOUT)
        self.assertIsNotNone(frame, "no framed answer over TCP")
        response = wu.StunMessage(frame)
        self.assertEqual(response.transaction_id, txid)
        self.assertEqual(response.type, 0x0101)
        self.assertTrue(response.integrity_ok(ice["password"].encode()))
        self.assertTrue(response.fingerprint_ok())
        note = self.worker.wait_notification(
            lambda n: n["targetId"] == "b" and n["event"] == "iceselectedtuplechange")
        self.assertEqual(note["data"]["iceSelectedTuple"]["protocol"], "tcp")
        self.assertEqual(note["data"]["iceSelectedTuple"]["localPort"], self.tcp_port)

        # A connection naming nobody is closed unanswered.
        other = socket.create_connection((wu.LOCAL_IP, self.tcp_port), timeout=5)
        self.sockets.append(other)
        _, stray = wu.binding_request("nobodyhasthisufrag", "x" * 32)
        other.sendall(wu.rfc4571_frame(stray))
        other.settimeout(ANSWER_TIMEOUT)
        self.assertEqual(other.recv(100), b"", "the worker answered or kept the connection")
        tcp = shared_port(self.dump("b"), "tcp")
        self.assertEqual(tcp["port"], self.tcp_port)
        self.assertEqual(tcp["assigned"], 1)
        self.assertEqual(tcp["rejected"], 1)


class SharedPortSettingsTest(unittest.TestCase):

    def test_invalid_values_exit_42_with_a_message(self):
        for name in ("SFU_WEBRTC_UDP_PORT", "SFU_WEBRTC_TCP_PORT"):
            for value in ("0", "65536", "abc", "-5"):
                with self.subTest(name=name, value=value):
                    worker = WorkerProcess([], env_extra={name: value})
                    self.addCleanup(worker.terminate)
                    self.assertEqual(worker.wait_exit(2 * ANSWER_TIMEOUT), 42)
                    self.assertIn(name, worker.stderr)

    def test_without_the_variables_each_transport_has_its_own_ports(self):
        worker = WorkerProcess([], env_extra={"SFU_WEBRTC_UDP_PORT": None,
                                              "SFU_WEBRTC_TCP_PORT": None})
        self.addCleanup(worker.terminate)
        worker.wait_running()
        worker.request_ok("worker.createRouter", internal={"routerId": ROUTER_ID})
        transports = [worker.request_ok(
            "router.createWebRtcTransport",
            internal={"routerId": ROUTER_ID, "transportId": t},
            data=wu.webrtc_transport_options()) for t in ("a", "b")]
        for protocol in ("udp", "tcp"):
            self.assertNotEqual(candidate_ports(transports[0], protocol),
                                candidate_ports(transports[1], protocol))
        dump = worker.request_ok("transport.dump",
                                 internal={"routerId": ROUTER_ID, "transportId": "a"})
        self.assertNotIn("sharedPorts", dump)


if __name__ == "__main__":
    unittest.main()
