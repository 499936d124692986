"""Shared fixtures and parameters of the test suites.

The worker binary is env ``SFU_WORKER_BIN`` or ``build/sfu-worker`` of the
repository; without one every test that needs a worker is skipped.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, List

import pytest

from sfu_host import Router, Worker, create_worker, default_worker_bin

if TYPE_CHECKING:
    from aiortc_peer import DataPeer

WORKER_BIN = default_worker_bin()
HAVE_WORKER = os.access(WORKER_BIN, os.X_OK)

needs_worker = pytest.mark.skipif(not HAVE_WORKER, reason=f"no worker binary at {WORKER_BIN}")


def media_codecs() -> List[Dict[str, Any]]:
    """The router codecs of the host's Producer and Consumer suites."""
    return [
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2,
         "parameters": {"foo": "111"}},
        {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
        {"kind": "video", "mimeType": "video/H264", "clockRate": 90000,
         "parameters": {"level-asymmetry-allowed": 1, "packetization-mode": 1,
                        "profile-level-id": "4d0032", "foo": "bar"},
         "rtcpFeedback": []},
    ]


def audio_producer_parameters() -> Dict[str, Any]:
    return {
        "kind": "audio",
        "rtp_parameters": {
            "mid": "AUDIO",
            "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
                        "channels": 2,
                        "parameters": {"useinbandfec": 1, "usedtx": 1, "foo": 222.222,
                                       "bar": "333"}}],
            "headerExtensions": [
                {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10},
                {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 12},
            ],
            "encodings": [{"ssrc": 11111111}],
            "rtcp": {"cname": "FOOBAR"},
        },
        "app_data": {"foo": 1, "bar": "2"},
    }


def video_producer_parameters() -> Dict[str, Any]:
    return {
        "kind": "video",
        "rtp_parameters": {
            "mid": "VIDEO",
            "codecs": [
                {"mimeType": "video/h264", "payloadType": 112, "clockRate": 90000,
                 "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032"},
                 "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                                  {"type": "goog-remb"}]},
                {"mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
                 "parameters": {"apt": 112}},
            ],
            "headerExtensions": [
                {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10},
                {"uri": "urn:3gpp:video-orientation", "id": 13},
            ],
            "encodings": [
                {"ssrc": 22222222, "rtx": {"ssrc": 22222223}, "scalabilityMode": "L1T3"},
                {"ssrc": 22222224, "rtx": {"ssrc": 22222225}},
                {"ssrc": 22222226, "rtx": {"ssrc": 22222227}},
                {"ssrc": 22222228, "rtx": {"ssrc": 22222229}},
            ],
            "rtcp": {"cname": "FOOBAR"},
        },
        "app_data": {"foo": 1, "bar": "2"},
    }


def consumer_device_capabilities() -> Dict[str, Any]:
    """A receiving endpoint's capabilities (those of the host's suite)."""
    return {
        "codecs": [
            {"mimeType": "audio/opus", "kind": "audio", "preferredPayloadType": 100,
             "clockRate": 48000, "channels": 2},
            {"mimeType": "video/H264", "kind": "video", "preferredPayloadType": 101,
             "clockRate": 90000,
             "parameters": {"level-asymmetry-allowed": 1, "packetization-mode": 1,
                            "profile-level-id": "4d0032"},
             "rtcpFeedback": [{"type": "nack", "parameter": ""},
                              {"type": "nack", "parameter": "pli"},
                              {"type": "ccm", "parameter": "fir"},
                              {"type": "goog-remb", "parameter": ""}]},
            {"mimeType": "video/rtx", "kind": "video", "preferredPayloadType": 102,
             "clockRate": 90000, "parameters": {"apt": 101}, "rtcpFeedback": []},
        ],
        "headerExtensions": [
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1,
             "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1,
             "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
             "preferredId": 2, "preferredEncrypt": False},
            {"kind": "audio", "uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
             "preferredId": 4, "preferredEncrypt": False},
            {"kind": "video", "uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
             "preferredId": 4, "preferredEncrypt": False},
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
             "preferredId": 10, "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:3gpp:video-orientation", "preferredId": 11,
             "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:toffset", "preferredId": 12,
             "preferredEncrypt": False},
        ],
    }


@pytest.fixture
async def worker() -> AsyncIterator[Worker]:
    if not HAVE_WORKER:
        pytest.skip(f"no worker binary at {WORKER_BIN}")
    w = await create_worker(log_level="warn")
    try:
        yield w
    finally:
        w.close()
        try:
            await w.wait_closed(10)
        except asyncio.TimeoutError:
            pass


@pytest.fixture
async def router(worker: Worker) -> Router:
    return await worker.create_router(media_codecs=media_codecs())


@pytest.fixture
async def data_peer(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator["DataPeer"]:
    """A real WebRTC peer with data channels (aiortc); see aiortc_peer.py.
    Imported on use: only the suites that need it pay for aiortc."""
    from aiortc_peer import open_data_peer
    async with open_data_peer(monkeypatch) as peer:
        yield peer
