"""Fan-out load run: one VP8 producer forwarded to N simple consumers.

For each N the run spawns a fresh worker, creates a router, one producer
PlainTransport (comedia, rtcpMux) with a VP8 producer and N consumer
PlainTransports, each connected to a local UDP socket of its own and
carrying a simple consumer of that producer. A sender process then feeds
the producer RTP at a fixed packet rate, receiver processes count what comes
out of every consumer, and the worker's CPU time is sampled around a
measured window that follows a warm-up.

    /usr/bin/python3 bench/load/fanout.py 10 100 --rate 1000 --duration 8

With --compare it runs, at each load (N x rate), our worker, mediasoup
3.8.4's (when built) and the floor (build/sfu-raw_forwarder: recvmmsg in,
one sendmmsg per consumer socket out, nothing else) in turn, --repeat
times, and prints each run and the medians with the ratios of the cost per
forwarded packet:

    /usr/bin/python3 bench/load/fanout.py --compare --loads 10x5000 100x2000

--json FILE saves every run and the medians, which bench/load/chart.py
draws. The pieces (Stream, run_sender, Receivers, Topology, WorkerUnderLoad,
measure_layout) take several producers, video or audio, and are what
bench/load/scale.py runs its 1,000 consumer legs with.

With --legs the producer and the consumers are on something else than
plain RTP PlainTransports (the default):
  srtp-cm, srtp-gcm  PlainTransports with enableSrtp and srtpCryptoSuite
                     AES_CM_128_HMAC_SHA1_80 or AEAD_AES_128_GCM, keyed by
                     SDES: transport.connect hands each transport a fresh key
                     of the peer's, the transport's own srtpParameters key
                     what the peer receives;
  webrtc             WebRtcTransports (UDP): ICE with the transport's
                     credentials, DTLS with the peer as client (the worker
                     is the server), SRTP keyed from the DTLS exporter with
                     whatever profile the two agree on;
  webrtc-cm          the same, with the peer offering only
                     AES_CM_128_HMAC_SHA1_80 (what browsers mostly use).
With --shared-port PORT, the workers other than the reference are started
with SFU_WEBRTC_UDP_PORT=PORT: every WebRtcTransport of the worker on that
one UDP port, so what goes to many consumers leaves through one socket in
one sendmmsg (mediasoup 3.8.4 has no such setting).
Python cannot protect SRTP at these rates, so these legs are driven by the
load peer, build/sfu-load_peer (bench/load/load_peer.cpp, on the project's
own SRTP, STUN and DTLS units): one process sending the producer's stream,
one holding every consumer's leg in a poll loop, counting packets and
sequence gaps like the plain receivers and decrypting a sample of them (and
all RTCP) as a check of the keys. Each run also prints how the worker's
transports say they are secured (the SRTP suite of a PlainTransport, the
ICE and DTLS states of a WebRtcTransport):

    /usr/bin/python3 bench/load/fanout.py --compare --loads 10x10000 --legs srtp-cm
    /usr/bin/python3 bench/load/fanout.py --compare --loads 10x5000 100x1000 --legs webrtc
    /usr/bin/python3 bench/load/fanout.py --compare --loads 10x10000 --legs webrtc-cm \
        --shared-port 40000

With --compare and any legs but plain, the floor is skipped (the raw
forwarder forwards datagrams unchanged); with srtp-gcm so is mediasoup
3.8.4, whose PlainTransport refuses the AEAD suites.

It is a measurement, not a test: it prints a table and exits 0 unless the
setup itself fails. Python 3 standard library only.
"""

import argparse
import base64
import json
import math
import multiprocessing
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "integration"))

from harness import WorkerProcess, worker_bin  # noqa: E402
from webrtc_util import (candidate_port, dtls_connect_data, webrtc_transport_options,  # noqa: E402
                         worker_fingerprint)

LOCALHOST = "127.0.0.1"
PAYLOAD_TYPE = 101
CLOCK_RATE = 90000
PRODUCER_SSRC = 0x1000_0001
MAPPED_SSRC = 0x2000_0001
CONSUMER_SSRC_BASE = 0x3000_0000
CNAME = "fanout-load"
VP8_CODEC = {
    "mimeType": "video/VP8",
    "payloadType": PAYLOAD_TYPE,
    "clockRate": CLOCK_RATE,
    "parameters": {},
    "rtcpFeedback": [],
}
# A stream's first sequence number. Not 0: mediasoup 3.8.4's worker counts
# a stream that starts at 0 as 65,536 packets lost (a constant from about a
# second in, so rates over a later window are right, an earlier one not).
FIRST_SEQUENCE = 1000
OPUS_PAYLOAD_TYPE = 100
OPUS_CODEC = {
    "mimeType": "audio/opus",
    "payloadType": OPUS_PAYLOAD_TYPE,
    "clockRate": 48000,
    "channels": 2,
    "parameters": {},
    "rtcpFeedback": [],
}
RTP_HEADER = struct.Struct("!BBHII")
# Socket buffers: room for ~1,800 full-size packets per consumer, so that a
# receiver descheduled for a moment does not drop. SO_RCVBUFFORCE (root) goes
# past net.core.rmem_max, which otherwise caps it.
SOCKET_BUFFER = 4 * 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
# How long a stats request may wait for its answer: a worker short of CPU
# while it forwards a backlog answers late (seconds on a host running other
# builds), and the run should report that, not fail.
VIEW_TIMEOUT = 60
# Where tools/build-reference-worker.sh leaves mediasoup 3.8.4's worker.
REFERENCE_WORKER = os.path.expanduser("~/.cache/mediasoup-3.8.4-worker/mediasoup-worker")
# What the producer and the consumers are on (--legs): plain RTP on
# PlainTransports, SRTP on PlainTransports with SDES keys in either suite,
# or WebRtcTransports (ICE, DTLS-SRTP).
LEG_KINDS = ("plain", "srtp-cm", "srtp-gcm", "webrtc", "webrtc-cm")
# What the load peer is told for each kind of legs.
PEER_OPTIONS = {"webrtc-cm": ["--srtp=AES_CM_128_HMAC_SHA1_80"]}
SRTP_SUITES = {"srtp-cm": "AES_CM_128_HMAC_SHA1_80", "srtp-gcm": "AEAD_AES_128_GCM"}
# Master key + salt (RFC 3711, RFC 7714).
SRTP_KEY_LENGTHS = {"AES_CM_128_HMAC_SHA1_80": 30, "AEAD_AES_128_GCM": 28}


# --------------------------------------------------------------------------
# RTP / VP8 packets
# --------------------------------------------------------------------------

# VP8 payload descriptor (RFC 7741): X=1 with a 15-bit PictureID. The S bit
# (0x10 of the first byte) marks the first packet of a frame, PID is 0.
DESCRIPTOR_LEN = 4
PICTURE_ID_OFFSET = RTP_HEADER.size + 2


def vp8_frame_tag(key, width=1280, height=720):
    """First bytes of a VP8 frame: the 3-byte frame tag (bit 0 clear for a
    key frame, show_frame set), then for a key frame the start code and the
    dimensions, which is what the worker checks before it calls it one."""
    if not key:
        return bytes([0x11, 0x02, 0x00])
    return bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]) + struct.pack("<HH", width, height)


def packet_template(size, start, key):
    """A full-size packet whose header and PictureID are filled in per send."""
    descriptor = bytes([0x90 if start else 0x80, 0x80, 0x80, 0x00])
    body = vp8_frame_tag(key) if start else b""
    fill = size - RTP_HEADER.size - DESCRIPTOR_LEN - len(body)
    if fill < 0:
        raise ValueError("packet size %d too small" % size)
    return bytearray(bytes(RTP_HEADER.size) + descriptor + body + b"\xAB" * fill)


def audio_packet_template(size):
    """An Opus-shaped packet: one TOC byte (config 31, a 20 ms CELT
    fullband frame, code 0) and filler; the header is filled in per send."""
    fill = size - RTP_HEADER.size - 1
    if fill < 0:
        raise ValueError("packet size %d too small" % size)
    return bytearray(bytes(RTP_HEADER.size) + b"\xF8" + b"\xAB" * fill)


def rtcp_asks_key_frame(data):
    """True if a compound RTCP packet holds a PLI (PSFB fmt 1) or FIR (fmt 4)."""
    pos = 0
    while pos + 4 <= len(data):
        fmt, pt = data[pos] & 0x1F, data[pos + 1]
        if pt == 206 and fmt in (1, 4):
            return True
        pos += (struct.unpack_from("!H", data, pos + 2)[0] + 1) * 4
    return False


class Stream:
    """One producer's RTP stream: a VP8 video stream of `rate` packets/s
    spread over `fps` frames/s (a key frame every second), or an Opus-shaped
    audio stream of `rate` packets/s, one frame each (20 ms at 50 packets/s).
    Stream 0 has the SSRCs a single fan-out has always used."""

    def __init__(self, kind, rate, size, fps=30, index=0, burst_ms=0):
        if kind not in ("video", "audio"):
            raise ValueError("a stream is video or audio, not %r" % kind)
        self.kind, self.rate, self.size, self.index = kind, rate, size, index
        self.video = kind == "video"
        self.codec = VP8_CODEC if self.video else OPUS_CODEC
        self.payload_type = self.codec["payloadType"]
        self.clock_rate = self.codec["clockRate"]
        # Audio: every packet is a frame of its own.
        self.fps = fps if self.video else rate
        self.ssrc = PRODUCER_SSRC + index
        self.mapped_ssrc = MAPPED_SSRC + index
        # 0: every packet leaves when it is due. N: what is due leaves in a
        # burst every N ms, as a WebRTC pacer sends (libwebrtc's sends at
        # most every 5 ms).
        self.burst = burst_ms / 1000.0

    def mbps(self):
        return self.rate * self.size * 8 / 1e6


# --------------------------------------------------------------------------
# Sender process
# --------------------------------------------------------------------------

class StreamSender:
    """Paces one Stream to a producer transport's port from a socket of its
    own (a comedia transport latches on it, and PLIs come back to it)."""

    def __init__(self, port, stream, start):
        self.stream = stream
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        self.sock.connect((LOCALHOST, port))
        if stream.video:
            self.templates = {
                "key": packet_template(stream.size, True, True),
                "delta": packet_template(stream.size, True, False),
                "cont": packet_template(stream.size, False, False),
            }
        else:
            self.templates = {"audio": audio_packet_template(stream.size)}
        self.start = start
        self.k = 0                  # packets sent
        self.force_key = False

    def send_due(self, now):
        """Sends every packet due by `now`: every video frame's first packet
        has S=1 and a frame tag, the last one the marker bit, and a key frame
        starts every second (and after a PLI/FIR)."""
        s = self.stream
        rate, fps = s.rate, s.fps
        due = math.floor((now - self.start) * rate) + 1
        k = self.k
        while k < due:
            frame = k * fps // rate
            if s.video:
                first = k == 0 or (k - 1) * fps // rate != frame
                last = (k + 1) * fps // rate != frame
                if first:
                    key = frame % fps == 0 or self.force_key
                    self.force_key = self.force_key and not key
                    pkt = self.templates["key" if key else "delta"]
                else:
                    pkt = self.templates["cont"]
                pkt[PICTURE_ID_OFFSET] = 0x80 | ((frame >> 8) & 0x7F)
                pkt[PICTURE_ID_OFFSET + 1] = frame & 0xFF
            else:
                last = False
                pkt = self.templates["audio"]
            RTP_HEADER.pack_into(pkt, 0, 0x80, s.payload_type | (0x80 if last else 0),
                                 (FIRST_SEQUENCE + k) & 0xFFFF,
                                 (frame * s.clock_rate // fps) & 0xFFFFFFFF,
                                 s.ssrc)
            self.sock.send(pkt)
            k += 1
        self.k = k

    def next_due(self):
        due = self.start + self.k / self.stream.rate
        burst = self.stream.burst
        if burst > 0:
            due = self.start + math.ceil((due - self.start) / burst) * burst
        return due


def run_sender(targets, shared):
    """Sends every stream of `targets`, a list of (producer port, Stream),
    at its own rate until shared["stop"] is set; shared["sent"] counts the
    packets of all of them. The streams start spread over their first
    packet interval, as independent senders would, not in step."""
    start = time.monotonic()
    senders = [StreamSender(port, stream, start + i / len(targets) / stream.rate)
               for i, (port, stream) in enumerate(targets)]
    rtcp_buf = bytearray(2048)
    sent, stop, key_requests = shared["sent"], shared["stop"], shared["key_requests"]
    while not stop.value:
        now = time.monotonic()
        for sender in senders:
            sender.send_due(now)
        sent.value = sum(sender.k for sender in senders)
        for sender in senders:
            sender.force_key = drain_rtcp(sender.sock, rtcp_buf, key_requests) or \
                sender.force_key
        # Sleep until the next packet is due; the OS wakes us a little late,
        # which the catch-up loop above absorbs.
        delay = min(sender.next_due() for sender in senders) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    for sender in senders:
        sender.sock.close()


def drain_rtcp(sock, buf, key_requests):
    """Reads whatever RTCP the worker sent back (RR, PLI); True if a key
    frame was asked for."""
    asked = False
    while True:
        try:
            n = sock.recv_into(buf, 0, socket.MSG_DONTWAIT)
        except (BlockingIOError, ConnectionRefusedError):
            return asked
        if rtcp_asks_key_frame(memoryview(buf)[:n]):
            key_requests.value += 1
            asked = True


class PythonSender:
    """run_sender in a process of its own, for plain legs: `targets` is a
    list of (producer port, Stream)."""

    def __init__(self, ctx, targets):
        self.shared = {"sent": ctx.Value("Q", 0, lock=False),
                       "stop": ctx.Value("b", 0, lock=False),
                       "key_requests": ctx.Value("Q", 0, lock=False)}
        self.process = ctx.Process(target=run_sender, daemon=True, args=(targets, self.shared))
        self.process.start()
        self.pid = self.process.pid

    def sent(self):
        return self.shared["sent"].value

    def key_requests(self):
        return self.shared["key_requests"].value

    def stop(self):
        self.shared["stop"].value = 1
        self.process.join(5)

    def terminate(self):
        self.shared["stop"].value = 1
        if self.process.is_alive():
            self.process.terminate()


# --------------------------------------------------------------------------
# Receiver processes
# --------------------------------------------------------------------------

def open_receive_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, SOCKET_BUFFER)
    except (OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    sock.bind((LOCALHOST, 0))
    sock.setblocking(False)
    return sock


def starts_key_frame(packet):
    """True if an RTP packet carries the first packet of a VP8 key frame."""
    try:
        return _starts_key_frame(packet)
    except IndexError:      # too short to be one
        return False


def _starts_key_frame(buf):
    off = 12 + 4 * (buf[0] & 0x0F)
    if buf[0] & 0x10:       # header extension: 4-byte header + length words
        off += 4 + 4 * (buf[off + 2] << 8 | buf[off + 3])
    desc = buf[off]
    if not desc & 0x10 or desc & 0x07:          # S=1, PID=0
        return False
    off += 1
    if desc & 0x80:                             # extended descriptor
        x = buf[off]
        off += 1
        if x & 0x80:
            off += 2 if buf[off] & 0x80 else 1
        off += (1 if x & 0x40 else 0) + (1 if x & 0x30 else 0)
    return not buf[off] & 0x01 and buf[off + 3:off + 6] == b"\x9d\x01\x2a"


def run_receiver(videos, conn):
    """Owns one consumer socket per entry of `videos` (True for a video
    consumer, whose first packet must start a key frame). Counts RTP packets
    per socket and follows each one's sequence number (the worker keeps it
    continuous per consumer, so every gap is a lost packet). Answers "snap"
    on `conn` with its counters and CPU time, "stop" with the same and
    exits."""
    count = len(videos)
    socks = [open_receive_socket() for _ in range(count)]
    conn.send([s.getsockname()[1] for s in socks])

    counts = [0] * count        # RTP packets received
    ext = [0] * count           # highest extended sequence number seen
    last = [-1] * count         # last 16-bit sequence number, -1 before any
    rtcp = [0]
    bad_start = [0]             # consumers whose first packet was no key frame
    ep = select.epoll()
    slot = {}
    for i, s in enumerate(socks):
        ep.register(s.fileno(), select.EPOLLIN)
        slot[s.fileno()] = i
    ctrl = conn.fileno()
    ep.register(ctrl, select.EPOLLIN)
    recv = [s.recv_into for s in socks]
    buf = bytearray(2048)

    def snapshot():
        t = os.times()
        return {"counts": list(counts), "ext": list(ext), "rtcp": rtcp[0],
                "bad_start": bad_start[0], "cpu": t.user + t.system}

    while True:
        for fd, _ in ep.poll(1.0, 256):
            i = slot.get(fd)
            if i is None:
                command = conn.recv()
                conn.send(snapshot())
                if command == "stop":
                    return
                continue
            # One datagram per readiness event: level-triggered epoll reports
            # the socket again if more is queued, and this avoids paying for
            # the BlockingIOError a read-until-empty loop ends with.
            try:
                n = recv[i](buf)
            except BlockingIOError:
                continue
            if 192 <= buf[1] <= 223:    # RTCP (SR from the consumer's transport)
                rtcp[0] += 1
                continue
            seq = buf[2] << 8 | buf[3]
            prev = last[i]
            if prev < 0:
                bad_start[0] += videos[i] and not starts_key_frame(bytes(buf[:n]))
                ext[i] = seq
                last[i] = seq
            else:
                delta = (seq - prev) & 0xFFFF
                if delta < 0x8000:      # else an older packet, arriving out of order
                    ext[i] += delta
                    last[i] = seq
            counts[i] += 1


class Receivers:
    """The receiver processes and their sockets' ports, consumer order.
    `videos` (one flag per consumer, all video by default) says which
    consumers must start at a key frame."""

    def __init__(self, ctx, n, processes, videos=None):
        videos = [True] * n if videos is None else list(videos)
        processes = max(1, min(processes, n))
        sizes = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
        self.procs, self.conns, self.ports = [], [], []
        first = 0
        for size in sizes:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run_receiver, args=(videos[first:first + size], child),
                               daemon=True)
            first += size
            proc.start()
            child.close()
            self.procs.append(proc)
            self.conns.append(parent)
        for conn in self.conns:
            self.ports.extend(conn.recv())

    def _ask(self, command):
        for conn in self.conns:
            conn.send(command)
        parts = [conn.recv() for conn in self.conns]
        return {"counts": sum((p["counts"] for p in parts), []),
                "ext": sum((p["ext"] for p in parts), []),
                "rtcp": sum(p["rtcp"] for p in parts),
                "bad_start": sum(p["bad_start"] for p in parts),
                "cpu": sum(p["cpu"] for p in parts)}

    @property
    def pids(self):
        return [proc.pid for proc in self.procs]

    def snapshot(self):
        return self._ask("snap")

    def stop(self):
        try:
            self._ask("stop")
        except (EOFError, OSError):
            pass                # a receiver died; the error is reported elsewhere
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


# --------------------------------------------------------------------------
# The load peer (SRTP and WebRTC legs)
# --------------------------------------------------------------------------

class LoadPeer:
    """bench/load/load_peer.cpp in one mode: the local ports of its legs, its
    certificate's fingerprint, and its commands (one JSON line each way)."""

    def __init__(self, path, options):
        if not os.path.exists(path):
            raise FileNotFoundError("load peer %s not found (cmake --build build --target "
                                    "sfu-load_peer)" % path)
        self.process = subprocess.Popen([path] + options, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.pid = self.process.pid
        self.last = None            # the counters it answered "stop" with
        try:
            hello = self._read()
        except BaseException:
            self.terminate()
            raise
        self.ports, self.fingerprint = hello["ports"], hello["fingerprint"]

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("load peer %d exited (code %s)" % (self.pid, self.process.poll()))
        return json.loads(line)

    def ask(self, command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def counters(self):
        if self.process.poll() is not None:
            return self.last or {}
        return self.ask({"cmd": "snap"})

    def stop(self):
        try:
            self.last = self.ask({"cmd": "stop"})
            self.process.wait(5)
        except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired):
            pass                # it died; the error is reported elsewhere

    def terminate(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class PeerSender(LoadPeer):
    """The load peer sending one video Stream over one leg."""

    def __init__(self, path, stream, options=()):
        super().__init__(path, ["--mode=send", "--rate=%d" % stream.rate,
                                "--size=%d" % stream.size, "--fps=%d" % stream.fps,
                                "--burst-ms=%d" % round(stream.burst * 1000)] + list(options))

    def sent(self):
        return self.counters()["sent"]

    def key_requests(self):
        return self.counters().get("keyFrameRequests", 0)


class PeerReceivers(LoadPeer):
    """The load peer receiving every consumer's stream, one leg each, with
    the counters of Receivers."""

    def __init__(self, path, n, options=()):
        super().__init__(path, ["--mode=recv", "--legs=%d" % n] + list(options))
        self.pids = [self.pid]

    def snapshot(self):
        c = self.ask({"cmd": "snap"})
        legs = c["legs"]
        return {"counts": [leg["count"] for leg in legs], "ext": [leg["ext"] for leg in legs],
                "rtcp": sum(leg["rtcp"] for leg in legs),
                "bad_start": sum(leg["badStart"] for leg in legs), "cpu": c["cpu"],
                "peer": peer_summary(c)}


def peer_summary(c):
    """What a load peer says of its legs' security (None if it died)."""
    if not c:
        return None
    legs = c["legs"]
    return {"legs": len(legs), "keyed": c["keyed"], "ice_done": c["iceDone"],
            "dtls_states": c["dtlsStates"], "suite": c["suite"],
            "decrypted": sum(leg["decrypted"] for leg in legs),
            "decrypt_failures": sum(leg["decryptFailures"] for leg in legs),
            "protect_failures": sum(leg["protectFailures"] for leg in legs)}


# --------------------------------------------------------------------------
# Worker setup (requests shaped as mediasoup 3.8's host sends them)
# --------------------------------------------------------------------------

def plain_transport_data(comedia, srtp_suite=None):
    return {
        # No "port": the host leaves an unset port out (mediasoup's worker
        # refuses a null one).
        "listenIp": {"ip": LOCALHOST},
        "rtcpMux": True,
        "comedia": comedia,
        "enableSctp": False,
        "numSctpStreams": {"OS": 1024, "MIS": 1024},
        "maxSctpMessageSize": 262144,
        "sctpSendBufferSize": 262144,
        "isDataChannel": False,
        "enableSrtp": srtp_suite is not None,
        "srtpCryptoSuite": srtp_suite or "AES_CM_128_HMAC_SHA1_80",
    }


def rtp_parameters(codec, ssrc):
    return {"codecs": [codec], "headerExtensions": [],
            "encodings": [{"ssrc": ssrc}], "rtcp": {"cname": CNAME}}


class PlainLegs:
    """Plain RTP: the producer's transport learns the sender's address from
    its first packet (comedia), each consumer's is connected to its
    receiver's socket."""

    def producer_transport(self, w, transport):
        """Creates and connects the producer's transport; returns the port
        the sender sends to."""
        data = w.request_ok("router.createPlainTransport", transport,
                            plain_transport_data(comedia=True))
        return data["tuple"]["localPort"]

    def consumer_transport(self, w, transport, i, port):
        w.request_ok("router.createPlainTransport", transport, plain_transport_data(False))
        w.request_ok("transport.connect", transport, {"ip": LOCALHOST, "port": port})


class SrtpLegs:
    """SRTP on the same PlainTransports, keyed by SDES: every transport.connect
    carries a fresh key of the peer's, and the transport's own key (in the
    connect answer, as in its creation answer) is what the peer decrypts
    with. The load peers learn both."""

    def __init__(self, suite, sender, receivers):
        self.suite, self.sender, self.receivers = suite, sender, receivers

    def _create(self, w, transport, comedia, connect):
        created = w.request_ok("router.createPlainTransport", transport,
                               plain_transport_data(comedia, self.suite))
        key = base64.b64encode(os.urandom(SRTP_KEY_LENGTHS[self.suite])).decode()
        connect["srtpParameters"] = {"cryptoSuite": self.suite, "keyBase64": key}
        answer = w.request_ok("transport.connect", transport, connect)
        own = (answer or {}).get("srtpParameters") or created["srtpParameters"]
        return created["tuple"]["localPort"], {"cmd": "srtp", "suite": own["cryptoSuite"],
                                               "sendKey": key, "recvKey": own["keyBase64"]}

    def producer_transport(self, w, transport):
        port, command = self._create(w, transport, True, {})
        self.sender.ask(dict(command, leg=0, port=port))
        return port

    def consumer_transport(self, w, transport, i, port):
        _, command = self._create(w, transport, False, {"ip": LOCALHOST, "port": port})
        self.receivers.ask(dict(command, leg=i, port=port))


class WebRtcLegs:
    """WebRtcTransports (UDP only): each load peer leg is told the worker's
    candidate, ICE credentials and certificate fingerprint, and
    transport.connect gets the peer's fingerprint with role client, so that
    the worker is the DTLS server."""

    def __init__(self, sender, receivers):
        self.sender, self.receivers = sender, receivers

    def _create(self, w, transport, peer):
        answer = w.request_ok("router.createWebRtcTransport", transport,
                              webrtc_transport_options(LOCALHOST, enable_tcp=False))
        w.request_ok("transport.connect", transport, dtls_connect_data(peer.fingerprint))
        return {"cmd": "webrtc", "port": candidate_port(answer, "udp"),
                "ufrag": answer["iceParameters"]["usernameFragment"],
                "pwd": answer["iceParameters"]["password"],
                "fingerprint": worker_fingerprint(answer)}

    def producer_transport(self, w, transport):
        command = self._create(w, transport, self.sender)
        self.sender.ask(dict(command, leg=0))
        return command["port"]

    def consumer_transport(self, w, transport, i, port):
        self.receivers.ask(dict(self._create(w, transport, self.receivers), leg=i))


def make_legs(kind, sender=None, receivers=None):
    if kind == "plain":
        return PlainLegs()
    if kind.startswith("webrtc"):
        return WebRtcLegs(sender, receivers)
    return SrtpLegs(SRTP_SUITES[kind], sender, receivers)


class Topology:
    """Ids and requests for one router and its producers, each on a
    transport of its own with its consumers: `layout` is a list of (Stream,
    consumer count); `legs` sets up each transport (PlainLegs by default,
    SrtpLegs, WebRtcLegs)."""

    def __init__(self, worker, layout, legs=None):
        self.worker = worker
        self.layout = layout
        self.legs = legs or PlainLegs()
        self.router = {"routerId": "load-router"}
        self.producer_transports = []   # internal of each producer's transport
        self.producers = []             # internal of each producer
        self.sample_consumers = []      # internal of each producer's first consumer
        self.consumers = []             # internal of each consumer
        self.producer_ports = []

    def create(self, ports):
        """Creates the router, then every producer and its consumers, the
        consumers towards `ports` in layout order."""
        self.worker.request_ok("worker.createRouter", self.router)
        first = 0
        for stream, count in self.layout:
            self._add_producer(stream)
            self.sample_consumers.append(None)
            for port in ports[first:first + count]:
                self._add_consumer(stream, port)
                self.sample_consumers[-1] = self.sample_consumers[-1] or self.consumers[-1]
            first += count

    def _add_producer(self, stream):
        w = self.worker
        i = stream.index
        transport = dict(self.router, transportId="load-producer-transport-%d" % i)
        self.producer_ports.append(self.legs.producer_transport(w, transport))
        producer = dict(transport, producerId="load-producer-%d" % i)
        w.request_ok("transport.produce", producer, {
            "kind": stream.kind,
            "rtpParameters": rtp_parameters(stream.codec, stream.ssrc),
            "rtpMapping": {
                "codecs": [{"payloadType": stream.payload_type,
                            "mappedPayloadType": stream.payload_type}],
                "encodings": [{"ssrc": stream.ssrc, "mappedSsrc": stream.mapped_ssrc}],
            },
            "paused": False,
        })
        self.producer_transports.append(transport)
        self.producers.append(producer)

    def _add_consumer(self, stream, port):
        w = self.worker
        i = len(self.consumers)
        transport = dict(self.router, transportId="load-consumer-transport-%d" % i)
        self.legs.consumer_transport(w, transport, i, port)
        internal = dict(transport, producerId=self.producers[-1]["producerId"],
                        consumerId="load-consumer-%d" % i)
        w.request_ok("transport.consume", internal, {
            "kind": stream.kind,
            "type": "simple",
            "rtpParameters": rtp_parameters(stream.codec, CONSUMER_SSRC_BASE + i),
            "consumableRtpEncodings": [{"ssrc": stream.mapped_ssrc}],
            "paused": False,
        })
        self.consumers.append(internal)

    def stream_view(self, i):
        """The worker's own counters for producer i: its transport's bytes,
        its packet counts and those of its first consumer. The consumer is
        asked first: a consumer count above the producer's is then a real
        anomaly."""
        w = self.worker
        consumer = w.request_ok("consumer.getStats", self.sample_consumers[i],
                                timeout=VIEW_TIMEOUT)
        producer = w.request_ok("producer.getStats", self.producers[i], timeout=VIEW_TIMEOUT)
        transport = w.request_ok("transport.getStats", self.producer_transports[i],
                                 timeout=VIEW_TIMEOUT)[0]
        outbound = [s for s in consumer if s.get("type") == "outbound-rtp"]
        if not producer or not outbound:
            raise RuntimeError("no RTP stream stats: producer %r, consumer %r"
                               % (producer, consumer))
        return {
            "transport_ts": transport["timestamp"],
            "bytes_received": transport["bytesReceived"],
            "producer_ts": producer[0]["timestamp"],
            "producer_packets": producer[0]["packetCount"],
            "producer_lost": producer[0]["packetsLost"],
            "consumer_ts": outbound[0]["timestamp"],
            "consumer_packets": outbound[0]["packetCount"],
            "consumer_discarded": outbound[0]["packetsDiscarded"],
        }

    def worker_view(self):
        """stream_view() of every producer, summed; the consumer counts are
        those of one consumer per producer weighted by its consumers, i.e.
        what a consumer sent on average (with one producer: its sample
        consumer's), timestamps the mean of the answers'."""
        views = [self.stream_view(i) for i in range(len(self.layout))]
        counts = [count for _, count in self.layout]
        n = sum(counts)
        out = {}
        for key in views[0]:
            values = [v[key] for v in views]
            if key.endswith("_ts"):
                out[key] = sum(values) / len(values)
            elif key.startswith("consumer_"):
                out[key] = sum(v * c for v, c in zip(values, counts)) / n
            else:
                out[key] = sum(values)
        return out


    def transport_states(self):
        """How the producer's and the first consumer's transports say they
        are secured: the SRTP suite of a PlainTransport (from its dump), the
        ICE and DTLS states and candidate ports of a WebRtcTransport (from
        its stats and dump)."""
        states = {}
        for name, internal in (("producer", self.producer_transports[0]),
                               ("consumer", self.consumers[0])):
            internal = {key: internal[key] for key in ("routerId", "transportId")}
            dump = self.worker.request_ok("transport.dump", internal)
            stats = self.worker.request_ok("transport.getStats", internal)[0]
            states[name] = {
                "srtp": (dump.get("srtpParameters") or {}).get("cryptoSuite"),
                "ice": stats.get("iceState"),
                "dtls": stats.get("dtlsState"),
                "ports": sorted({c["port"] for c in dump.get("iceCandidates", [])}),
            }
        return states


# --------------------------------------------------------------------------
# What forwards: a worker, or the raw forwarder (the floor)
# --------------------------------------------------------------------------

class WorkerUnderLoad:
    """A worker binary speaking mediasoup 3.8's protocol, with the topology
    of `layout` created: the producers' ports, the consumers towards
    `ports`. rss_start_mb is its RSS before the router was created,
    rss_created_mb once the topology was, before any media."""

    def __init__(self, path, ports, layout, legs=None, env=None):
        # The harness spawns whatever SFU_WORKER_BIN names.
        os.environ["SFU_WORKER_BIN"] = path
        self.process = WorkerProcess(["--logLevel=warn"], env_extra=env)
        try:
            self.pid = int(self.process.wait_running()["targetId"])
            self.rss_start_mb = process_rss_mb(self.pid)
            self.topology = Topology(self.process, layout, legs)
            self.topology.create(ports)
            self.rss_created_mb = process_rss_mb(self.pid)
        except BaseException:
            self.process.terminate()
            raise
        self.producer_ports = self.topology.producer_ports

    def view(self):
        return self.topology.worker_view()

    def transport_states(self):
        return self.topology.transport_states()

    def stop(self):
        """Closes the worker; returns its exit code and its warnings."""
        logs = [text for level, text in self.process.logs if level in "EW"]
        return self.process.close(), logs

    def terminate(self):
        self.process.terminate()


class RawForwarder:
    """bench/load/raw_forwarder.cpp towards `ports`, with the counters of a
    worker's view (its own input sequence loss, packets sent). It forwards
    one input stream, the only one of `layout`."""

    def __init__(self, path, ports, layout):
        if len(layout) != 1:
            raise ValueError("the raw forwarder forwards one stream, not %d" % len(layout))
        if not os.path.exists(path):
            raise FileNotFoundError("raw forwarder %s not found (cmake --build build "
                                    "--target sfu-raw_forwarder)" % path)
        self.n = len(ports)
        self.process = subprocess.Popen([path, LOCALHOST] + [str(p) for p in ports],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        first = self.process.stdout.readline().split()
        if len(first) != 2 or first[0] != "port":
            self.terminate()
            raise RuntimeError("raw forwarder did not start: %r" % first)
        self.producer_ports = [int(first[1])]
        self.pid = self.process.pid
        self.rss_start_mb = self.rss_created_mb = process_rss_mb(self.pid)

    def view(self):
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        c = json.loads(self.process.stdout.readline())
        return {
            "transport_ts": c["timestamp"],
            "bytes_received": c["bytesReceived"],
            "producer_ts": c["timestamp"],
            "producer_packets": c["received"],
            "producer_lost": c["lost"],
            "consumer_ts": c["timestamp"],
            "consumer_packets": c["sent"] // self.n,
            "consumer_discarded": c["sendErrors"] // self.n,
        }

    def transport_states(self):
        return {}

    def stop(self):
        self.process.stdin.close()
        return self.process.wait(5), []

    def terminate(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------

def process_rss_mb(pid):
    """Resident set size of a process in MB (VmRSS of /proc/<pid>/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def process_cpu_seconds(pid, kernel_only=False):
    """utime + stime (or stime alone) of a process, from /proc/<pid>/stat
    (fields 14, 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    stime = int(fields[12]) / CLK_TCK
    return stime if kernel_only else int(fields[11]) / CLK_TCK + stime


def process_runqueue_wait(pid):
    """Seconds a process spent runnable but waiting for a CPU
    (/proc/<pid>/schedstat, 2nd field): a worker that waits there is short
    of CPU because of something else on the host, not slow by itself."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[1]) / 1e9


def host_cpu_seconds():
    """(busy, total) CPU seconds of the whole host, all cores (/proc/stat)."""
    with open("/proc/stat") as f:
        # user nice system idle iowait irq softirq steal (guest time is
        # already inside user).
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def udp_kernel_counters():
    """Host-wide UDP drop counters (/proc/net/snmp). RcvbufErrors counts
    datagrams dropped at a full receive buffer: the worker's input socket
    when it falls behind, or a receiver's."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    values = dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))
    return {"rcvbuf_errors": values.get("RcvbufErrors", 0),
            "sndbuf_errors": values.get("SndbufErrors", 0)}


def mark(pids, sender, receivers, forwarder):
    """Every counter at one moment (the cheap ones first, the ones that need
    a round trip to another process after)."""
    return {
        "time": time.monotonic(),
        "worker_cpu": process_cpu_seconds(pids["worker"]),
        "worker_sys": process_cpu_seconds(pids["worker"], kernel_only=True),
        "worker_wait": process_runqueue_wait(pids["worker"]),
        "sender_cpu": process_cpu_seconds(pids["sender"]),
        "host_cpu": host_cpu_seconds(),
        "sent": sender.sent(),
        "udp": udp_kernel_counters(),
        "rss_mb": process_rss_mb(pids["worker"]),
        "rx": receivers.snapshot(),
        "worker": forwarder.view(),
    }


def warm_up(receivers, min_seconds, max_seconds):
    """Waits until every consumer has delivered packets (the worker starts a
    video consumer at a key frame) and at least min_seconds have passed.
    Returns how many consumers never started."""
    start = time.monotonic()
    while True:
        time.sleep(0.1)
        elapsed = time.monotonic() - start
        idle = sum(1 for c in receivers.snapshot()["counts"] if c == 0)
        if (idle == 0 and elapsed >= min_seconds) or elapsed >= max_seconds:
            return idle


def receiver_processes(out_pps, args):
    if args.receivers:
        return args.receivers
    return 1 if out_pps <= args.single_receiver_pps else 2


def measure(n, rate, args, ctx, system):
    """One full run for N consumers of one VP8 producer at `rate` on a fresh
    worker (or raw forwarder): `system` is (label, "worker" or "floor",
    path). Returns the row for the table."""
    stream = Stream("video", rate, args.size, args.fps, burst_ms=getattr(args, "burst_ms", 0))
    return measure_layout([(stream, n)], args, ctx, system)


def measure_layout(layout, args, ctx, system):
    """One full run of `layout` (a list of (Stream, consumer count)) on a
    fresh worker (or raw forwarder). Returns the row for the table: rates
    over all streams, CPU, loss, RSS at the start (rss_start_mb) and at the
    end of the window (rss_mb). Legs other than plain (args.legs) take one
    video stream, which the load peer sends."""
    label, kind, path = system
    legs_kind = getattr(args, "legs", "plain")
    plain = legs_kind == "plain"
    if not plain and (len(layout) != 1 or not layout[0][0].video):
        raise ValueError("--legs %s takes one video stream" % legs_kind)
    n = sum(count for _, count in layout)
    rate = sum(stream.rate for stream, _ in layout)
    # Plain legs: Python sender and receivers. Others: the load peer, one
    # process sending, one receiving on every leg.
    if plain:
        procs = receiver_processes(sum(stream.rate * count for stream, count in layout), args)
        receivers = Receivers(ctx, n, procs, [stream.video for stream, count in layout
                                              for _ in range(count)])
    else:
        procs = 1
        receivers = PeerReceivers(args.load_peer, n, PEER_OPTIONS.get(legs_kind, []))
    forwarder = None
    sender = None
    try:
        if not plain:
            sender = PeerSender(args.load_peer, layout[0][0], PEER_OPTIONS.get(legs_kind, []))
        legs = make_legs(legs_kind, sender, receivers)
        if kind == "floor":
            forwarder = RawForwarder(path, receivers.ports, layout)
        else:
            env = {}
            if getattr(args, "shared_port", 0) and label != "reference":
                env["SFU_WEBRTC_UDP_PORT"] = str(args.shared_port)
            forwarder = WorkerUnderLoad(path, receivers.ports, layout, legs, env)
        if plain:
            sender = PythonSender(ctx, list(zip(forwarder.producer_ports,
                                                (stream for stream, _ in layout))))
        pids = {"worker": forwarder.pid, "sender": sender.pid}
        if args.nice:
            for pid in [forwarder.pid, sender.pid] + receivers.pids:
                os.setpriority(os.PRIO_PROCESS, pid, args.nice)
        # ICE and DTLS take a while for many legs on a busy host.
        never_started = warm_up(receivers, args.warmup, args.warmup + (5 if plain else 15))
        a = mark(pids, sender, receivers, forwarder)
        time.sleep(args.duration)
        b = mark(pids, sender, receivers, forwarder)
        transports = forwarder.transport_states() if not plain else {}
        sender.stop()
        key_requests = sender.key_requests()
        exit_code, logs = forwarder.stop()
    finally:
        if sender is not None:
            sender.terminate()
        if forwarder is not None:
            forwarder.terminate()
        receivers.stop()
    row = summarize(n, a, b)
    row.update(label=label, rate=rate, receivers=procs, never_started=never_started,
               worker_logs=logs, exit_code=exit_code, key_requests=key_requests,
               rss_mb=b["rss_mb"], rss_start_mb=forwarder.rss_start_mb,
               rss_created_mb=forwarder.rss_created_mb,
               loadavg=os.getloadavg()[0], legs=legs_kind, transports=transports)
    if not plain:
        row.update(peer_receivers=b["rx"]["peer"], peer_sender=peer_summary(sender.last))
    return row


def summarize(n, a, b):
    """Rates over the measured window. The worker's own counters are rated
    over the worker's own stats timestamps, so the time its answers take does
    not skew them."""
    wall = b["time"] - a["time"]
    wa, wb = a["worker"], b["worker"]
    received = sum(b["rx"]["counts"]) - sum(a["rx"]["counts"])
    expected = sum(b["rx"]["ext"]) - sum(a["rx"]["ext"])
    in_expected = wb["producer_packets"] + wb["producer_lost"] - (
        wa["producer_packets"] + wa["producer_lost"])
    in_lost = wb["producer_lost"] - wa["producer_lost"]
    in_pps = (wb["producer_packets"] - wa["producer_packets"]) / (
        (wb["producer_ts"] - wa["producer_ts"]) / 1000.0)
    worker_out_pps = n * (wb["consumer_packets"] - wa["consumer_packets"]) / (
        (wb["consumer_ts"] - wa["consumer_ts"]) / 1000.0)
    worker_cpu = b["worker_cpu"] - a["worker_cpu"]
    rx_cpu = b["rx"]["cpu"] - a["rx"]["cpu"]
    sender_cpu = b["sender_cpu"] - a["sender_cpu"]
    host_busy = b["host_cpu"][0] - a["host_cpu"][0]
    host_total = b["host_cpu"][1] - a["host_cpu"][1]
    return {
        "n": n,
        "wall": wall,
        "sent_pps": (b["sent"] - a["sent"]) / wall,
        "in_pps": in_pps,
        "in_mbps": (wb["bytes_received"] - wa["bytes_received"]) * 8 / (
            (wb["transport_ts"] - wa["transport_ts"]) / 1000.0) / 1e6,
        "in_loss_pct": 100.0 * in_lost / in_expected if in_expected > 0 else 0.0,
        "worker_out_pps": worker_out_pps,
        "out_pps": received / wall,
        "loss_pct": 100.0 * (expected - received) / expected if expected > 0 else 0.0,
        "lost": expected - received,
        # A packet the worker never read leaves a gap in every consumer's
        # sequence; what is missing beyond that was lost on the way out.
        "out_only_lost": (expected - received) - n * in_lost,
        "expected": expected,
        "worker_cpu_pct": 100.0 * worker_cpu / wall,
        "worker_sys_pct": 100.0 * (b["worker_sys"] - a["worker_sys"]) / wall,
        "worker_wait_pct": 100.0 * (b["worker_wait"] - a["worker_wait"]) / wall,
        "us_per_pkt": 1e6 * worker_cpu / wall / worker_out_pps if worker_out_pps else 0.0,
        "rx_cpu_pct": 100.0 * rx_cpu / wall,
        "sender_cpu_pct": 100.0 * sender_cpu / wall,
        "host_cores": host_total / wall,
        # In percent of one core, like the per-process figures.
        "host_busy_pct": 100.0 * host_busy / wall,
        # Everything else, this process's requests included (a few ms).
        "others_pct": 100.0 * (host_busy - worker_cpu - rx_cpu - sender_cpu) / wall,
        "rcvbuf_drops": b["udp"]["rcvbuf_errors"] - a["udp"]["rcvbuf_errors"],
        "sndbuf_drops": b["udp"]["sndbuf_errors"] - a["udp"]["sndbuf_errors"],
        "bad_start": b["rx"]["bad_start"],
        "rtcp_per_consumer_s": (b["rx"]["rtcp"] - a["rx"]["rtcp"]) / wall / n,
        "producer_bytes_received": wb["bytes_received"],
        "producer_packets": wb["producer_packets"],
        "producer_lost": wb["producer_lost"],
        "sample_consumer_packets": wb["consumer_packets"],
        "sample_consumer_discarded": wb["consumer_discarded"],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

THROUGHPUT_COLUMNS = (
    ("N", "n", "%d"),
    ("sent pps", "sent_pps", "%.0f"),
    ("in pps", "in_pps", "%.0f"),
    ("in Mbit/s", "in_mbps", "%.1f"),
    ("in loss %", "in_loss_pct", "%.2f"),
    ("out pps (worker)", "worker_out_pps", "%.0f"),
    ("out pps (received)", "out_pps", "%.0f"),
    ("out loss %", "loss_pct", "%.2f"),
    ("worker us/pkt out", "us_per_pkt", "%.2f"),
    ("RSS MB", "rss_mb", "%.1f"),
)
CPU_COLUMNS = (
    ("N", "n", "%d"),
    ("worker", "worker_cpu_pct", "%.1f"),
    ("of it kernel", "worker_sys_pct", "%.1f"),
    ("worker runq wait", "worker_wait_pct", "%.1f"),
    ("receivers", "rx_cpu_pct", "%.1f"),
    ("rx procs", "receivers", "%d"),
    ("sender", "sender_cpu_pct", "%.1f"),
    ("rest of host", "others_pct", "%.1f"),
    ("host busy", "host_busy_pct", "%.1f"),
    ("host cores", "host_cores", "%.0f"),
)


def print_run(row):
    print("%s N=%d: %.1f s measured after warm-up, %d receiver process(es), worker exit code %s"
          % (row["label"], row["n"], row["wall"], row["receivers"], row["exit_code"]))
    print("  worker view: producer transport bytesReceived=%d; producer packetCount=%d "
          "packetsLost=%d; sample consumer packetCount=%d packetsDiscarded=%d"
          % (row["producer_bytes_received"], row["producer_packets"], row["producer_lost"],
             row["sample_consumer_packets"], row["sample_consumer_discarded"]))
    print("  receivers: %d of %d packets missing from the sequences, %d of them beyond the "
          "input loss; kernel UDP RcvbufErrors +%d SndbufErrors +%d (whole host)"
          % (row["lost"], row["expected"], max(0, row["out_only_lost"]), row["rcvbuf_drops"],
             row["sndbuf_drops"]))
    print("  PLI/FIR seen by the sender: %d; RTCP per consumer: %.1f/s; consumers that never "
          "started: %d, that started off a key frame: %d"
          % (row["key_requests"], row["rtcp_per_consumer_s"], row["never_started"],
             row["bad_start"]))
    for line in security_lines(row):
        print("  %s" % line)
    for note in diagnose(row):
        print("  limit: %s" % note)
    for text in row["worker_logs"][:10]:
        print("  worker log: %s" % text.strip())
    sys.stdout.flush()


def security_lines(row):
    """For SRTP and WebRTC legs: how the worker's transports and the load
    peers say the legs were secured, and the peers' decryption checks."""
    if row["legs"] == "plain":
        return []
    lines = []
    for name, state in sorted(row["transports"].items()):
        if row["legs"].startswith("webrtc"):
            lines.append("worker %s transport: iceState %s, dtlsState %s"
                         % (name, state["ice"], state["dtls"]))
        else:
            lines.append("worker %s transport: SRTP %s" % (name, state["srtp"]))
    for name in ("sender", "receivers"):
        p = row["peer_" + name]
        if p is None:
            lines.append("load peer %s: died" % name)
            continue
        lines.append("load peer %s: %d of %d legs keyed (%s)%s; %d sampled packets "
                     "decrypted, %d failed; %d protect failures"
                     % (name, p["keyed"], p["legs"], p["suite"] or "no suite",
                        "" if not row["legs"].startswith("webrtc") else ", ICE done on %d, DTLS %s" % (
                            p["ice_done"], p["dtls_states"]),
                        p["decrypted"], p["decrypt_failures"], p["protect_failures"]))
    return lines


def diagnose(row):
    """What held the run back, from the counters (several may apply)."""
    notes = []
    if row["sent_pps"] < 0.98 * row["rate"]:
        notes.append("the sender fell behind (%.0f of %d pps): it was short of CPU"
                     % (row["sent_pps"], row["rate"]))
    if row["in_loss_pct"] > 0.01:
        notes.append("%.2f%% of the input was dropped before the worker read it (worker "
                     "%.0f%% busy, %.0f%% runnable but waiting for a CPU)"
                     % (row["in_loss_pct"], row["worker_cpu_pct"], row["worker_wait_pct"]))
    # The worker's and the receivers' windows differ by a few ms, hence the
    # tolerance when input is lost in bursts.
    if row["out_only_lost"] > max(row["n"], row["expected"] // 10000):
        notes.append("%d packets (%.2f%%) were lost on the way out, beyond the input loss "
                     "(receivers %.0f%% busy over %d process(es); kernel RcvbufErrors +%d)"
                     % (row["out_only_lost"], 100.0 * row["out_only_lost"] / row["expected"],
                        row["rx_cpu_pct"], row["receivers"], row["rcvbuf_drops"]))
    if row["others_pct"] > 20:
        notes.append("other processes used %.0f%% of a core meanwhile: the host was not idle, "
                     "CPU figures are pessimistic" % row["others_pct"])
    return notes or ["none seen: nothing dropped, the sender kept its rate"]


def print_table(title, columns, rows):
    cells = [[fmt % row[key] for _, key, fmt in columns] for row in rows]
    widths = [max(len(name), *(len(r[i]) for r in cells)) for i, (name, _, _) in
              enumerate(columns)]
    header = "  ".join(name.rjust(w) for (name, _, _), w in zip(columns, widths))
    print()
    print(title)
    print(header)
    print("-" * len(header))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


# --------------------------------------------------------------------------
# Comparison: ours, the reference and the floor at the same loads
# --------------------------------------------------------------------------

COMPARE_COLUMNS = (
    ("load", "load", "%s"),
    ("forwarder", "label", "%s"),
    ("sent pps", "sent_pps", "%.0f"),
    ("in pps", "in_pps", "%.0f"),
    ("in loss %", "in_loss_pct", "%.2f"),
    ("out pps", "out_pps", "%.0f"),
    ("loss %", "loss_pct", "%.2f"),
    ("us CPU/pkt out", "us_per_pkt", "%.3f"),
    ("(min-max)", "us_spread", "%s"),
    ("CPU %", "worker_cpu_pct", "%.1f"),
    ("runq wait %", "worker_wait_pct", "%.1f"),
    ("RSS MB", "rss_mb", "%.1f"),
    ("load avg", "loadavg", "%.2f"),
)


def compare_systems(args):
    """What --compare runs, in the order it alternates them."""
    systems = [("ours", "worker", worker_bin())]
    for spec in args.worker:
        label, _, path = spec.partition("=")
        if not path:
            raise SystemExit("--worker wants LABEL=PATH, got %r" % spec)
        systems.append((label, "worker", os.path.abspath(path)))
    reference = args.reference or REFERENCE_WORKER
    if args.legs == "srtp-gcm" and not args.no_reference:
        print("reference: skipped for --legs srtp-gcm: mediasoup 3.8.4 refuses "
              "AEAD_AES_128_GCM on a PlainTransport (router.createPlainTransport fails with "
              "a TypeError; it takes only the AES_CM suites there)")
    elif not args.no_reference and os.path.exists(reference):
        systems.append(("reference", "worker", reference))
    elif not args.no_reference:
        print("reference worker %s not built: running without it (see "
              "tools/build-reference-worker.sh)" % reference)
    if args.legs != "plain" and not args.no_floor:
        print("floor: skipped for --legs %s: the raw forwarder forwards datagrams "
              "unchanged, which only plain RTP legs can take" % args.legs)
    elif not args.no_floor:
        floor = args.floor or os.path.join(os.path.dirname(worker_bin()), "sfu-raw_forwarder")
        systems.append(("floor", "floor", floor))
    return systems


def parse_load(text):
    n, _, rate = text.lower().partition("x")
    try:
        return int(n), int(rate)
    except ValueError:
        raise argparse.ArgumentTypeError("a load is NxRATE, e.g. 10x5000: %r" % text)


def print_compare_run(row):
    print("  %-10s %4dx%-6d sent %6.0f  in %6.0f pps (loss %5.2f%%)  out %7.0f pps "
          "(loss %5.2f%%)  %6.3f us/pkt  CPU %5.1f%% (runq wait %4.1f%%)  RSS %5.1f MB  "
          "load avg %.2f%s"
          % (row["label"], row["n"], row["rate"], row["sent_pps"], row["in_pps"],
             row["in_loss_pct"], row["out_pps"], row["loss_pct"], row["us_per_pkt"],
             row["worker_cpu_pct"], row["worker_wait_pct"], row["rss_mb"], row["loadavg"],
             "" if row["exit_code"] in (0, None) else "  exit code %s" % row["exit_code"]))
    for line in security_lines(row):
        print("      %s" % line)
    sys.stdout.flush()


def median_rows(rows, systems, loads):
    """One row per load and forwarder: the median of each figure."""
    out = []
    for n, rate in loads:
        for label, _, _ in systems:
            runs = [r for r in rows if r["label"] == label and (r["n"], r["rate"]) == (n, rate)]
            if not runs:
                continue
            row = {key: statistics.median(r[key] for r in runs) for key in (
                "sent_pps", "in_pps", "in_loss_pct", "out_pps", "loss_pct", "us_per_pkt",
                "worker_cpu_pct", "worker_wait_pct", "rss_mb", "loadavg", "host_busy_pct",
                "others_pct")}
            costs = [r["us_per_pkt"] for r in runs]
            row.update(load="%dx%d" % (n, rate), label=label, n=n, rate=rate,
                       us_spread="%.3f-%.3f" % (min(costs), max(costs)),
                       us_min=min(costs), us_max=max(costs), runs=len(runs))
            out.append(row)
    return out


def print_ratios(medians, systems, loads):
    """Cost per forwarded packet of each worker over the floor's and ours
    over every other worker's."""
    labels = [label for label, kind, _ in systems if kind == "worker"]
    print()
    print("Ratios of the median CPU per forwarded packet")
    for n, rate in loads:
        cost = {m["label"]: m["us_per_pkt"] for m in medians if (m["n"], m["rate"]) == (n, rate)}
        parts = []
        for label in labels:
            if cost.get(label) and cost.get("floor"):
                parts.append("%s/floor %.2f" % (label, cost[label] / cost["floor"]))
        for label in labels[1:]:
            if cost.get("ours") and cost.get(label):
                parts.append("ours/%s %.2f" % (label, cost["ours"] / cost[label]))
        print("  %dx%d: %s" % (n, rate, ", ".join(parts) or "no other forwarder to compare with"))


def run_compare(args, ctx):
    systems = compare_systems(args)
    loads = args.loads or [(n, args.rate) for n in args.counts]
    loadavg_start = os.getloadavg()
    print("compare: %s; %d run(s) each, alternating; %s legs; input %d bytes, %d fps%s; load "
          "average at start %.2f %.2f %.2f"
          % (", ".join("%s=%s" % (label, path) for label, _, path in systems), args.repeat,
             args.legs, args.size, args.fps,
             ", sent in bursts every %d ms" % args.burst_ms if args.burst_ms else "",
             *os.getloadavg()))
    if args.shared_port:
        print("shared port: every WebRtcTransport of the workers but the reference on UDP port %d"
              % args.shared_port)
    rows = []
    for n, rate in loads:
        print("load %d consumers x %d pps:" % (n, rate))
        for _ in range(args.repeat):
            for system in systems:
                row = measure(n, rate, args, ctx, system)
                print_compare_run(row)
                rows.append(row)
    medians = median_rows(rows, systems, loads)
    print_table("Medians of %d run(s) (out pps: received by the consumers; loss: gaps in "
                "every consumer's sequence, input loss included; CPU: the forwarding "
                "process, utime + stime)" % args.repeat, COMPARE_COLUMNS, medians)
    print_ratios(medians, systems, loads)
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    if args.json:
        write_json(args.json, {
            "settings": {"size": args.size, "fps": args.fps, "burstMs": args.burst_ms,
                         "duration": args.duration,
                         "warmup": args.warmup, "repeat": args.repeat,
                         "loads": ["%dx%d" % load for load in loads], "legs": args.legs,
                         "sharedPort": args.shared_port},
            "systems": [{"label": label, "kind": kind, "path": path}
                        for label, kind, path in systems],
            "loadavg_start": loadavg_start,
            "runs": rows,
            "medians": medians,
        })
    return 0


def host_description():
    """What the figures were measured on."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": model, "kernel": os.uname().release}


def write_json(path, document):
    """Writes a results document with the command line, the date, the host
    and its load average at the end added."""
    document = dict(document, command=" ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
                    date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    host=host_description(), loadavg_end=os.getloadavg())
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, indent=1, sort_keys=True)
        f.write("\n")
    print("results written to %s" % path)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("counts", nargs="*", type=int, default=[10, 100],
                   help="consumer counts to run (default: 10 100)")
    p.add_argument("--rate", type=int, default=1000, help="input packets/s (default 1000)")
    p.add_argument("--size", type=int, default=1100, help="RTP packet size in bytes")
    p.add_argument("--fps", type=int, default=30, help="video frames/s (key frame every fps)")
    p.add_argument("--burst-ms", type=int, default=0, metavar="MS",
                   help="the sender sends what is due every MS ms, as a WebRTC pacer does "
                        "(libwebrtc's every 5 ms at most); default 0: each packet when due")
    p.add_argument("--duration", type=float, default=8.0, help="measured seconds per N")
    p.add_argument("--warmup", type=float, default=1.5, help="warm-up seconds per N")
    p.add_argument("--receivers", type=int, default=0,
                   help="receiver processes (default: 1, or 2 above --single-receiver-pps)")
    p.add_argument("--single-receiver-pps", type=int, default=150000,
                   help="expected output rate above which 2 receiver processes are used")
    p.add_argument("--nice", type=int, default=0,
                   help="nice value for the worker, sender and receivers, e.g. -10 on a "
                        "machine busy with other work (negative needs root)")
    p.add_argument("--compare", action="store_true",
                   help="run ours, the reference worker and the floor in turn at each load "
                        "and print medians and ratios")
    p.add_argument("--loads", nargs="+", type=parse_load, default=[],
                   help="with --compare: loads as NxRATE (consumers x input pps), e.g. "
                        "10x5000 100x2000 (default: the counts at --rate)")
    p.add_argument("--repeat", type=int, default=3, help="with --compare: runs per forwarder "
                   "and load (default 3)")
    p.add_argument("--worker", action="append", default=[], metavar="LABEL=PATH",
                   help="with --compare: another worker binary to run, e.g. an older build")
    p.add_argument("--reference", default="",
                   help="mediasoup 3.8.4's worker (default: %s)" % REFERENCE_WORKER)
    p.add_argument("--no-reference", action="store_true", help="run without the reference")
    p.add_argument("--json", default="", metavar="FILE",
                   help="with --compare: also write every run and the medians to FILE "
                        "(what bench/load/chart.py draws)")
    p.add_argument("--floor", default="", help="the raw forwarder (default: sfu-raw_forwarder "
                   "beside the worker)")
    p.add_argument("--no-floor", action="store_true", help="run without the floor")
    p.add_argument("--legs", choices=LEG_KINDS, default="plain",
                   help="what the producer and consumers are on: plain RTP (default), SRTP "
                        "on PlainTransports (srtp-cm: AES_CM_128_HMAC_SHA1_80, srtp-gcm: "
                        "AEAD_AES_128_GCM) or WebRtcTransports (ICE, DTLS-SRTP); all but "
                        "plain are driven by the load peer")
    p.add_argument("--shared-port", type=int, default=0, metavar="PORT",
                   help="with webrtc legs: start the workers but the reference with "
                        "SFU_WEBRTC_UDP_PORT=PORT (one UDP port for every WebRtcTransport)")
    p.add_argument("--load-peer", default="", help="the load peer (default: sfu-load_peer "
                   "beside the worker)")
    args = p.parse_args(argv)
    args.load_peer = args.load_peer or os.path.join(os.path.dirname(worker_bin()),
                                                    "sfu-load_peer")
    rates = [rate for _, rate in args.loads] + [args.rate]
    if args.shared_port and not args.legs.startswith("webrtc"):
        p.error("--shared-port takes webrtc legs")
    if min(rates) < args.fps or any(n < 1 for n in args.counts + [n for n, _ in args.loads]):
        p.error("need rate >= fps and N >= 1")
    if not 0 <= args.burst_ms <= 1000:
        p.error("--burst-ms takes 0 to 1000")
    return args


def main(argv):
    args = parse_args(argv)
    # "spawn": the children must not inherit the harness's reader threads.
    ctx = multiprocessing.get_context("spawn")
    if args.compare:
        return run_compare(args, ctx)
    print("worker: %s; %s legs; input %d pps x %d bytes (%.1f Mbit/s), %d fps, key frame every "
          "second%s"
          % (worker_bin(), args.legs, args.rate, args.size, args.rate * args.size * 8 / 1e6,
             args.fps, "; nice %d" % args.nice if args.nice else ""))
    rows = []
    for n in args.counts:
        row = measure(n, args.rate, args, ctx, ("ours", "worker", worker_bin()))
        print_run(row)
        rows.append(row)
    print_table("Throughput (in loss: worker's producer packetsLost; out loss: gaps in every "
                "consumer's sequence, input loss included)", THROUGHPUT_COLUMNS, rows)
    print_table("CPU, % of one core over the measured window", CPU_COLUMNS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
