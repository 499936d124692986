"""A minimal RTP sender for the suites that need real media in the worker:
Opus-like and VP8 packets sent over UDP to a PlainTransport in comedia mode
(the worker latches the sender's address from its first packet), and a
helper to wait for a condition while it sends."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Callable, Dict, Optional, Tuple

from sfu_host import PlainTransport

OPUS_PT = 100
VP8_PT = 101
LEVEL_EXTENSION_ID = 1
AUDIO_LEVEL_EXTENSION = {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                         "id": LEVEL_EXTENSION_ID}

# The RTP parameters a PlainTransport producer uses with these packets.
OPUS_CODEC = {"mimeType": "audio/opus", "payloadType": OPUS_PT, "clockRate": 48000,
              "channels": 2}
VP8_CODEC = {"mimeType": "video/VP8", "payloadType": VP8_PT, "clockRate": 90000,
             "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                              {"type": "ccm", "parameter": "fir"}]}


def rtp_header(payload_type: int, seq: int, timestamp: int, ssrc: int,
               marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc)


def with_extensions(packet: bytes, elements: Dict[int, bytes]) -> bytes:
    """An RTP packet (header only so far, no CSRCs) with RFC 8285 one-byte
    header extension elements ({id: data}) added."""
    block = b"".join(bytes([(ext_id << 4) | (len(data) - 1)]) + data
                     for ext_id, data in elements.items())
    block += bytes(-len(block) % 4)
    return (bytes([packet[0] | 0x10]) + packet[1:12] +
            struct.pack("!HH", 0xBEDE, len(block) // 4) + block + packet[12:])


def vp8_payload(picture_id: int, key: bool, width: int = 320, height: int = 180) -> bytes:
    """One whole VP8 frame in one packet: the payload descriptor (X, S,
    15-bit picture id; RFC 7741) and a frame header, a key frame's with its
    start code and size."""
    descriptor = struct.pack("!BBH", 0x90, 0x80, 0x8000 | (picture_id & 0x7FFF))
    if key:
        # Frame tag: P=0 (key), version 0, show_frame; then the start code.
        header = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]) + struct.pack("<HH", width, height)
    else:
        header = bytes([0x11, 0x02, 0x00])
    return descriptor + header + bytes(100)


class RtpSender:
    """Sends to one comedia PlainTransport from one UDP socket."""

    def __init__(self, transport: PlainTransport) -> None:
        assert transport.tuple is not None
        self.address = (transport.tuple["localIp"], transport.tuple["localPort"])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self._seq: Dict[int, int] = {}
        self._frames: Dict[int, int] = {}

    @property
    def local_port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def close(self) -> None:
        self.sock.close()

    def _next_seq(self, ssrc: int) -> int:
        seq = self._seq.get(ssrc, 0)
        self._seq[ssrc] = seq + 1
        return seq

    def send_opus(self, ssrc: int, payload_type: int = OPUS_PT,
                  level: Optional[int] = None) -> None:
        """One 20 ms packet; with ``level`` (0-127, -dBov) an RFC 6464
        audio level extension (one-byte form, id LEVEL_EXTENSION_ID)."""
        seq = self._next_seq(ssrc)
        header = rtp_header(payload_type, seq, seq * 960, ssrc)
        if level is not None:
            header = with_extensions(header, {LEVEL_EXTENSION_ID: bytes([0x80 | level])})
        # A TOC byte and filler: the worker does not decode Opus.
        self.sock.sendto(header + b"\xfc" + bytes(40), self.address)

    def send_vp8(self, ssrc: int, key: bool, payload_type: int = VP8_PT,
                 extensions: Optional[Dict[int, bytes]] = None) -> None:
        frame = self._frames.get(ssrc, 0)
        self._frames[ssrc] = frame + 1
        header = rtp_header(payload_type, self._next_seq(ssrc), frame * 3000, ssrc, marker=True)
        if extensions:
            header = with_extensions(header, extensions)
        self.sock.sendto(header + vp8_payload(frame, key), self.address)

    def send_receiver_report(self, ssrc: int = 9999) -> None:
        """An RTCP RR without report blocks: lets a comedia transport that
        only sends latch this socket."""
        self.sock.sendto(struct.pack("!BBHI", 0x80, 201, 1, ssrc), self.address)

    def receive(self) -> Optional[Tuple[bytes, Tuple[str, int]]]:
        try:
            data, address = self.sock.recvfrom(65536)
        except BlockingIOError:
            return None
        return data, address


async def send_until(send: Callable[[], None], done: Callable[[], bool], timeout: float,
                     what: str, interval: float = 0.02) -> None:
    """Calls ``send()`` every ``interval`` seconds until ``done()``; fails
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        send()
        await asyncio.sleep(interval)
