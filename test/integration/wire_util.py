"""What crosses the wire, byte for byte, for tests that check it exactly:
RTP packets with one-byte header extensions (RFC 8285), the VP8 payload
descriptor and header, RTCP builders and parsers (sender and receiver
reports, extended reports with RRTR and DLRR blocks, transport-wide
congestion control feedback), NTP times, and a recording UDP peer that
keeps every datagram it sends and receives (with the kernel's arrival
time) and can also stand in for a socket (sendto/recv/settimeout) for the
STUN and DTLS helpers of webrtc_util.

Python 3 standard library only.
"""

import collections
import os
import select
import socket
import struct
import threading
import time

LOCAL_IP = "127.0.0.1"
NTP_EPOCH_OFFSET = 2208988800

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_RTPFB = 205
RTCP_PSFB = 206
RTCP_XR = 207
XR_RRTR = 4
XR_DLRR = 5
RTPFB_NACK = 1
RTPFB_TRANSPORT_CC = 15

EXT_TRANSPORT_WIDE_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"


# --------------------------------------------------------------------------
# NTP time (RFC 3550 4)
# --------------------------------------------------------------------------

def ntp_time(unix_time):
    """The 64-bit NTP timestamp of a Unix time (seconds, float)."""
    ntp = unix_time + NTP_EPOCH_OFFSET
    seconds = int(ntp)
    fraction = int((ntp - seconds) * (1 << 32)) & 0xFFFFFFFF
    return ((seconds & 0xFFFFFFFF) << 32) | fraction


def ntp_compact(ntp64):
    """The middle 32 bits of an NTP timestamp (LSR, LRR: 1/65536 s units)."""
    return (ntp64 >> 16) & 0xFFFFFFFF


def compact_now():
    return ntp_compact(ntp_time(time.time()))


def compact_from_ms(ms):
    """A duration in compact NTP units (1/65536 s)."""
    return int(round(ms * 65536 / 1000.0))


# --------------------------------------------------------------------------
# RTP
# --------------------------------------------------------------------------

def one_byte_extensions(extensions):
    """An RFC 8285 one-byte header extension block ({id: value bytes}),
    profile 0xBEDE, padded to 32 bits; b"" when there is none."""
    if not extensions:
        return b""
    body = b""
    for ident, value in sorted(extensions.items()):
        if not 1 <= ident <= 14 or not 1 <= len(value) <= 16:
            raise ValueError("bad one-byte extension %d (%d bytes)" % (ident, len(value)))
        body += bytes([(ident << 4) | (len(value) - 1)]) + value
    body += b"\0" * (-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


def rtp_packet(pt, seq, ts, ssrc, marker, payload, extensions=None):
    """An RTP packet; `extensions` ({id: bytes}) adds one-byte header
    extensions."""
    block = one_byte_extensions(extensions)
    first = 0x90 if block else 0x80
    return struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + block + payload


class RtpView:
    """The fields of an RTP packet (raises ValueError when it is none)."""

    __slots__ = ("pt", "marker", "seq", "ts", "ssrc", "csrc_count", "extensions",
                 "header_size", "payload")

    def __init__(self, data):
        if len(data) < 12 or data[0] >> 6 != 2:
            raise ValueError("not RTP")
        self.marker = bool(data[1] & 0x80)
        self.pt = data[1] & 0x7F
        self.seq, self.ts, self.ssrc = struct.unpack_from("!HII", data, 2)
        self.csrc_count = data[0] & 0x0F
        offset = 12 + 4 * self.csrc_count
        self.extensions = {}
        if data[0] & 0x10:
            if len(data) < offset + 4:
                raise ValueError("truncated RTP header extension")
            profile, words = struct.unpack_from("!HH", data, offset)
            body = data[offset + 4:offset + 4 + 4 * words]
            offset += 4 + 4 * words
            if profile == 0xBEDE:
                pos = 0
                while pos < len(body):
                    if body[pos] == 0:
                        pos += 1
                        continue
                    ident, length = body[pos] >> 4, (body[pos] & 0x0F) + 1
                    if ident == 15:
                        break
                    self.extensions[ident] = bytes(body[pos + 1:pos + 1 + length])
                    pos += 1 + length
        if offset > len(data):
            raise ValueError("truncated RTP header")
        self.header_size = offset
        self.payload = bytes(data[offset:])


def is_rtcp(data):
    """RFC 5761 demultiplexing: RTCP packet types 192..223."""
    return len(data) >= 2 and data[0] >> 6 == 2 and 192 <= data[1] <= 223


def vp8_descriptor(start, picture_id, tl0picidx, tid, layer_sync):
    """RFC 7741 payload descriptor: X=1, S as given, PID 0; I=1 (M=1, 15-bit
    picture id), L=1 (TL0PICIDX), T=1 (TID, Y), K=0."""
    return bytes([
        0x80 | (0x10 if start else 0),
        0xE0,
        0x80 | (picture_id >> 8) & 0x7F, picture_id & 0xFF,
        tl0picidx & 0xFF,
        (tid << 6) | (layer_sync << 5),
    ])


def vp8_payload_header(key, width, height, first_partition_size=100):
    """The VP8 frame tag (RFC 6386 9.1): P = 0 for a key frame, version 0,
    show_frame 1, then for a key frame the start code and the size."""
    tag = (first_partition_size << 5) | (1 << 4) | (0 if key else 1)
    out = tag.to_bytes(3, "little")
    if key:
        out += b"\x9d\x01\x2a" + struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return out


def vp9_descriptor(start, end, key, picture_id, tl0picidx, tid, switching_up,
                   resolution=None, sid=0, inter_layer=False, predicted=None):
    """VP9 payload descriptor (RFC 9628) in non-flexible mode: I=1 (M=1,
    15-bit picture id), P = 0 on key frames only (or as `predicted` says),
    L=1, F=0, B and E as given, V when a resolution is given (a scalability
    structure with the size of each spatial layer, Y=1, no picture groups:
    one (width, height) or a list of them), Z=0; then the layer indices
    (TID, U, SID, D = inter_layer) and TL0PICIDX."""
    if predicted is None:
        predicted = not key
    b0 = 0x80 | (0x40 if predicted else 0) | 0x20 | (0x08 if start else 0) | \
        (0x04 if end else 0)
    if resolution is not None:
        b0 |= 0x02
    out = bytes([b0, 0x80 | (picture_id >> 8) & 0x7F, picture_id & 0xFF,
                 (tid << 5) | (0x10 if switching_up else 0) | (sid << 1) |
                 (0x01 if inter_layer else 0), tl0picidx & 0xFF])
    if resolution is not None:
        sizes = resolution if isinstance(resolution, list) else [resolution]
        out += bytes([((len(sizes) - 1) << 5) | 0x10])
        for size in sizes:
            out += struct.pack("!HH", *size)
    return out


def vp9_frame_header(key, width, height):
    """The start of a VP9 uncompressed header (VP9 bitstream 6.2), profile 0:
    for a key frame with the sync code, colour config and frame size."""
    if not key:
        # frame_marker 2, profile 0, show_existing_frame 0, frame_type 1
        # (non key), show_frame 1, error_resilient_mode 0.
        return bytes([0x86, 0x00])
    bits = (0b10 << 6) | 0b000010              # ... frame_type 0, show_frame 1
    bits = (bits << 24) | 0x498342              # frame_sync_code
    bits = (bits << 4) | 0                      # color_space CS_UNKNOWN, color_range
    bits = (bits << 32) | ((width - 1) << 16) | (height - 1)
    bits <<= 4                                  # to a whole number of bytes
    return bits.to_bytes(9, "big")


# --------------------------------------------------------------------------
# RTCP
# --------------------------------------------------------------------------

def rtcp_packets(data):
    """(packet type, count/FMT, bytes) of each packet of an RTCP compound."""
    out = []
    pos = 0
    while pos + 4 <= len(data):
        if data[pos] >> 6 != 2:
            break
        length = (struct.unpack_from("!H", data, pos + 2)[0] + 1) * 4
        if pos + length > len(data):
            break
        out.append((data[pos + 1], data[pos] & 0x1F, data[pos:pos + length]))
        pos += length
    return out


def rtcp_sender_report(ssrc, wall, rtp_ts, packets, octets):
    """An SR without report blocks; `wall` is the Unix time it stands for."""
    ntp = ntp_time(wall)
    return struct.pack("!BBHIIIIII", 0x80, RTCP_SR, 6, ssrc, ntp >> 32, ntp & 0xFFFFFFFF,
                       rtp_ts & 0xFFFFFFFF, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF)


ReportBlock = collections.namedtuple(
    "ReportBlock", "ssrc fraction_lost total_lost highest_seq jitter lsr dlsr")


def report_block(ssrc, highest_seq=0, lsr=0, dlsr=0, fraction_lost=0, total_lost=0, jitter=0):
    return ReportBlock(ssrc, fraction_lost, total_lost, highest_seq, jitter, lsr, dlsr)


def _pack_block(block):
    return struct.pack("!IB3sIIII", block.ssrc, block.fraction_lost,
                       (block.total_lost & 0xFFFFFF).to_bytes(3, "big"),
                       block.highest_seq & 0xFFFFFFFF, block.jitter, block.lsr & 0xFFFFFFFF,
                       block.dlsr & 0xFFFFFFFF)


def rtcp_receiver_report(ssrc, blocks):
    body = b"".join(_pack_block(b) for b in blocks)
    return struct.pack("!BBHI", 0x80 | len(blocks), RTCP_RR, 1 + len(body) // 4, ssrc) + body


def rtcp_remb(sender_ssrc, bps, ssrcs):
    """A REMB (draft-alvestrand-rmcat-remb-03: PSFB, FMT 15, "REMB"): the
    bitrate as an 18-bit mantissa and a 6-bit exponent, for the SSRCs."""
    exponent = 0
    while bps >= 1 << 18:
        bps >>= 1
        exponent += 1
    body = struct.pack("!I4sI", 0, b"REMB", (len(ssrcs) << 24) | (exponent << 18) | bps)
    body += b"".join(struct.pack("!I", ssrc) for ssrc in ssrcs)
    return struct.pack("!BBHI", 0x8F, 206, 1 + len(body) // 4, sender_ssrc) + body


def report_blocks(pkt):
    """The report blocks of an SR or RR packet (bytes of that packet)."""
    ptype, count = pkt[1], pkt[0] & 0x1F
    offset = 28 if ptype == RTCP_SR else 8
    out = []
    for i in range(count):
        pos = offset + 24 * i
        if pos + 24 > len(pkt):
            break
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = struct.unpack_from(
            "!IB3sIIII", pkt, pos)
        total = int.from_bytes(lost, "big")
        if total & 0x800000:
            total -= 1 << 24
        out.append(ReportBlock(ssrc, fraction, total, highest, jitter, lsr, dlsr))
    return out


def packet_ssrc(pkt):
    """The first SSRC of an RTCP packet (the sender's, for SR/RR/XR/feedback)."""
    return struct.unpack_from("!I", pkt, 4)[0]


def sender_report_ntp(pkt):
    """The 64-bit NTP timestamp of an SR packet."""
    sec, frac = struct.unpack_from("!II", pkt, 8)
    return (sec << 32) | frac


def xr_blocks(pkt):
    """[(block type, type-specific byte, body bytes)] of an XR packet."""
    out = []
    pos = 8
    while pos + 4 <= len(pkt):
        block_type, specific, words = struct.unpack_from("!BBH", pkt, pos)
        end = pos + 4 + 4 * words
        if end > len(pkt):
            break
        out.append((block_type, specific, bytes(pkt[pos + 4:end])))
        pos = end
    return out


def xr_rrtr_ntp(pkt):
    """The NTP timestamp of the first RRTR block of an XR packet, or None."""
    for block_type, _, body in xr_blocks(pkt):
        if block_type == XR_RRTR and len(body) == 8:
            return struct.unpack("!Q", body)[0]
    return None


def rtcp_xr_dlrr(ssrc, items):
    """An XR packet from `ssrc` with one DLRR block; items are
    (receiver SSRC, LRR, DLRR) tuples (RFC 3611 4.5)."""
    body = b"".join(struct.pack("!III", s, lrr & 0xFFFFFFFF, dlrr & 0xFFFFFFFF)
                    for s, lrr, dlrr in items)
    block = struct.pack("!BBH", XR_DLRR, 0, len(body) // 4) + body
    return struct.pack("!BBHI", 0x80, RTCP_XR, 1 + len(block) // 4, ssrc) + block


def nack_seqs(pkt):
    """The sequence numbers a generic NACK packet (RTPFB FMT 1) asks for."""
    seqs = []
    for off in range(12, len(pkt) - 3, 4):
        pid, blp = struct.unpack_from("!HH", pkt, off)
        seqs.append(pid)
        seqs.extend((pid + b + 1) & 0xFFFF for b in range(16) if blp >> b & 1)
    return seqs


class TransportCcFeedback:
    """A transport-wide congestion control feedback packet (RTPFB FMT 15,
    draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1), parsed from
    scratch: base sequence number, packet status count, 24-bit signed
    reference time (64 ms units), feedback packet count, then run-length
    and status vector chunks and a receive delta per received packet (one
    octet unsigned for symbol 1, two octets signed for symbol 2, 250 us
    units). Raises ValueError on anything malformed.

    statuses: [(sequence number, symbol, delta in 250 us units or None)]
    reference_field: the reference time field as sent (24 bits, unsigned)
    offsets_us: {sequence number: the deltas up to it summed, in us}
    arrivals_us: {sequence number: reference time (signed) + offset, in us}"""

    def __init__(self, pkt):
        if len(pkt) < 20 or pkt[1] != RTCP_RTPFB or pkt[0] & 0x1F != RTPFB_TRANSPORT_CC:
            raise ValueError("not a transport-cc feedback packet")
        length = len(pkt)
        if pkt[0] & 0x20:
            length -= pkt[-1]
        self.sender_ssrc, self.media_ssrc = struct.unpack_from("!II", pkt, 4)
        self.base_seq, self.status_count = struct.unpack_from("!HH", pkt, 12)
        reference = int.from_bytes(pkt[16:19], "big")
        self.reference_field = reference
        self.reference_time = reference - (1 << 24) if reference & 0x800000 else reference
        self.fb_count = pkt[19]
        symbols = []
        pos = 20
        self.chunks = []
        while len(symbols) < self.status_count:
            if pos + 2 > length:
                raise ValueError("status chunks end before the status count")
            chunk, = struct.unpack_from("!H", pkt, pos)
            pos += 2
            if not chunk & 0x8000:
                symbol, run = (chunk >> 13) & 0x03, chunk & 0x1FFF
                self.chunks.append(("run", symbol, run))
                symbols += [symbol] * run
            elif not chunk & 0x4000:
                self.chunks.append(("vector1", chunk & 0x3FFF))
                symbols += [(chunk >> (13 - i)) & 0x01 for i in range(14)]
            else:
                self.chunks.append(("vector2", chunk & 0x3FFF))
                symbols += [(chunk >> (12 - 2 * i)) & 0x03 for i in range(7)]
        symbols = symbols[:self.status_count]
        if 3 in symbols:
            raise ValueError("reserved status symbol 3")
        self.statuses = []
        self.offsets_us = {}
        self.arrivals_us = {}
        offset_us = 0
        for i, symbol in enumerate(symbols):
            seq = (self.base_seq + i) & 0xFFFF
            delta = None
            if symbol == 1:
                if pos + 1 > length:
                    raise ValueError("receive deltas end early")
                delta = pkt[pos]
                pos += 1
            elif symbol == 2:
                if pos + 2 > length:
                    raise ValueError("receive deltas end early")
                delta, = struct.unpack_from("!h", pkt, pos)
                pos += 2
            if delta is not None:
                offset_us += delta * 250
                self.offsets_us[seq] = offset_us
                self.arrivals_us[seq] = self.reference_time * 64000 + offset_us
            self.statuses.append((seq, symbol, delta))
        if any(pkt[pos:length]):
            raise ValueError("non-zero octets after the receive deltas")

    def received(self):
        return [seq for seq, symbol, _ in self.statuses if symbol != 0]

    def lost(self):
        return [seq for seq, symbol, _ in self.statuses if symbol == 0]


def transport_wide_seq(seq):
    """The value of the transport-wide sequence number extension."""
    return struct.pack("!H", seq & 0xFFFF)


# --------------------------------------------------------------------------
# A UDP peer that records everything
# --------------------------------------------------------------------------

_TIMESPEC = struct.Struct("@qq")
# Linux's SO_TIMESTAMPNS (SCM_TIMESTAMPNS), which Python does not name.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class UdpPeer:
    """A bound UDP socket whose reader thread keeps every datagram it
    receives, with the kernel's arrival time (SO_TIMESTAMPNS, the wall
    clock), and which records every datagram sent through it.

    It also behaves as a blocking socket for code that wants one
    (webrtc_util.receive_stun, webrtc_util.DtlsClient): sendto(),
    settimeout() and recv() take datagrams in arrival order, each once.
    `on_datagram(time, data, address)`, when given, is called from the
    reader thread for every datagram."""

    def __init__(self, ip=LOCAL_IP, on_datagram=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((ip, 0))
        self.address = self.sock.getsockname()
        self.port = self.address[1]
        self.on_datagram = on_datagram
        self._cond = threading.Condition()
        self._received = []       # (arrival time, bytes, source address)
        self._unread = collections.deque()
        self._sent = []           # bytes
        self._timeout = None
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="udp-peer-%d" % self.port,
                                        daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            readable, _, _ = select.select([self.sock, self._stop_r], [], [])
            if self._stop_r in readable:
                return
            try:
                data, ancillary, _, source = self.sock.recvmsg(
                    65536, socket.CMSG_SPACE(_TIMESPEC.size), socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            arrival = None
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = _TIMESPEC.unpack(value[:_TIMESPEC.size])
                    arrival = sec + nsec / 1e9
            if arrival is None:
                arrival = time.time()
            with self._cond:
                self._received.append((arrival, data, source))
                self._unread.append(data)
                self._cond.notify_all()
            if self.on_datagram is not None:
                self.on_datagram(arrival, data, source)

    # ----- what went through -------------------------------------------------

    def received(self):
        """[(arrival time, bytes, source)] of everything received so far."""
        with self._cond:
            return list(self._received)

    def received_count(self):
        with self._cond:
            return len(self._received)

    def sent(self):
        with self._cond:
            return list(self._sent)

    def bytes_sent(self):
        with self._cond:
            return sum(len(d) for d in self._sent)

    def wait_until(self, check, timeout):
        """Waits until check(received list) is true; returns whether it is."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check(self._received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    # ----- the socket interface ---------------------------------------------

    def sendto(self, data, address):
        sent = self.sock.sendto(data, address)
        with self._cond:
            self._sent.append(bytes(data))
        return sent

    def settimeout(self, timeout):
        self._timeout = timeout

    def recv(self, bufsize):
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        with self._cond:
            while not self._unread:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise socket.timeout("timed out")
                self._cond.wait(remaining)
            return self._unread.popleft()[:bufsize]

    def getsockname(self):
        return self.address

    def close(self):
        if self._thread.is_alive():
            os.write(self._stop_w, b"x")
            self._thread.join(3)
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.sock.close()


# --------------------------------------------------------------------------
# Exact byte counts
# --------------------------------------------------------------------------

def matching_prefix(total, sizes, at_least):
    """The length k >= at_least of the prefix of `sizes` whose sum is
    `total`, or None. Counters read while traffic flows equal the sum of
    some prefix of what was seen in order; `at_least` is how much was seen
    before the counter was asked for."""
    running = sum(sizes[:at_least])
    k = at_least
    while True:
        if running == total:
            return k
        if running > total or k >= len(sizes):
            return None
        running += sizes[k]
        k += 1


def wait_counter(read, expected, timeout, settle=0.3):
    """Polls read() (a transport counter) until it equals `expected`, then
    reads it again after `settle` seconds, so that a worker that counts
    more than it should also shows; returns the last value read."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    if value == expected and settle:
        time.sleep(settle)
        value = read()
    return value
