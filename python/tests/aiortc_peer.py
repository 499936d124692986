"""A real WebRTC peer for the suites: aiortc (Debian's python3-aiortc) with
data channels only, connected to a WebRtcTransport with SCTP. It offers,
the transport is connected with its certificate's fingerprint, and it gets
the worker's answer: ICE-lite, the transport's candidates and fingerprint,
SCTP port 5000."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any, AsyncIterator, Callable, Dict, List

import pytest

from sfu_host import WebRtcTransport

try:
    import aioice.ice
    from aiortc import (RTCConfiguration, RTCDataChannel, RTCPeerConnection,
                        RTCSessionDescription)
    HAVE_AIORTC = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_AIORTC = False


def answer_sdp(transport: WebRtcTransport, mid: str) -> str:
    """The worker's answer to a data-only offer."""
    ice = transport.ice_parameters
    candidates = [c for c in transport.ice_candidates if c["protocol"] == "udp"]
    fingerprint = next(f["value"] for f in transport.dtls_parameters["fingerprints"]
                       if f["algorithm"] == "sha-256")
    assert transport.sctp_parameters is not None
    ip, port = candidates[0]["ip"], candidates[0]["port"]
    lines = [
        "v=0",
        f"o=- {random.randint(1, 2 ** 31)} 1 IN IP4 {ip}",
        "s=sfu-worker",
        "t=0 0",
        "a=ice-lite",
        f"a=group:BUNDLE {mid}",
        f"m=application {port} UDP/DTLS/SCTP webrtc-datachannel",
        f"c=IN IP4 {ip}",
        f"a=mid:{mid}",
        f"a=ice-ufrag:{ice['usernameFragment']}",
        f"a=ice-pwd:{ice['password']}",
    ]
    lines += [f"a=candidate:{c['foundation']} 1 udp {c['priority']} {c['ip']} {c['port']} typ host"
              for c in candidates]
    lines += [
        "a=end-of-candidates",
        f"a=fingerprint:sha-256 {fingerprint}",
        "a=setup:passive",
        f"a=sctp-port:{transport.sctp_parameters['port']}",
        f"a=max-message-size:{transport.sctp_parameters['maxMessageSize']}",
    ]
    return "\r\n".join(lines) + "\r\n"


def sdp_attribute(sdp: str, name: str) -> str:
    prefix = f"a={name}:"
    return next(line[len(prefix):] for line in sdp.splitlines() if line.startswith(prefix))


def sdp_host_udp_port(sdp: str) -> int:
    """The peer's UDP host candidate's port."""
    for line in sdp.splitlines():
        parts = line.split()
        if line.startswith("a=candidate:") and parts[2].lower() == "udp" and parts[7] == "host":
            return int(parts[5])
    raise AssertionError("no UDP host candidate in the offer")


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class DataPeer:
    """One aiortc peer connection with negotiated data channels."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channels: Dict[str, RTCDataChannel] = {}
        self.received: Dict[str, List[Any]] = {}
        self.offer_sdp = ""
        self.fingerprint = ""

    def channel(self, label: str, **options: Any) -> RTCDataChannel:
        channel = self.pc.createDataChannel(label, negotiated=True, **options)
        self.channels[label] = channel
        self.received[label] = []
        channel.on("message", self.received[label].append)
        return channel

    async def connect(self, transport: WebRtcTransport, timeout: float = 15) -> None:
        """Offer, connect the transport, answer; returns once every channel
        is open."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.offer_sdp = self.pc.localDescription.sdp
        self.fingerprint = sdp_attribute(self.offer_sdp, "fingerprint").split()[1]
        await transport.connect(dtls_parameters={
            "role": "client", "fingerprints": [{"algorithm": "sha-256",
                                                "value": self.fingerprint}]})
        mid = sdp_attribute(self.offer_sdp, "mid")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp(transport, mid),
                                                                 "answer"))
        await wait_until(lambda: all(c.readyState == "open" for c in self.channels.values()),
                         timeout, "the data channels to open")

    async def close(self) -> None:
        await asyncio.wait_for(self.pc.close(), 10)


@contextlib.asynccontextmanager
async def open_data_peer(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DataPeer]:
    """A DataPeer whose ICE candidates stay on 127.0.0.1 (aioice skips
    loopback otherwise), closed at the end (conftest's data_peer fixture)."""
    if not HAVE_AIORTC:
        pytest.skip("aiortc is not importable (python3-aiortc)")
    monkeypatch.setattr(aioice.ice, "get_host_addresses",
                        lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    peer = DataPeer()
    try:
        yield peer
    finally:
        await peer.close()
