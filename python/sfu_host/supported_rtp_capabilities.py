"""Every codec and RTP header extension a router can offer, before
:func:`sfu_host.ortc.validate_rtp_capabilities` fills in the defaults."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from .types import RtpCapabilities

_TCC = [{"type": "transport-cc"}]
_VIDEO_FB: List[Dict[str, Any]] = [
    {"type": "nack"}, {"type": "nack", "parameter": "pli"}, {"type": "ccm", "parameter": "fir"},
    {"type": "goog-remb"}, {"type": "transport-cc"},
]


def _audio(mime: str, rate: int, *, pt: int = -1, channels: int = 0,
           parameters: Dict[str, Any] | None = None, fb: bool = True) -> Dict[str, Any]:
    codec: Dict[str, Any] = {"kind": "audio", "mimeType": mime}
    if pt >= 0:
        codec["preferredPayloadType"] = pt
    codec["clockRate"] = rate
    if channels:
        codec["channels"] = channels
    if parameters is not None:
        codec["parameters"] = parameters
    if fb:
        codec["rtcpFeedback"] = copy.deepcopy(_TCC)
    return codec


def _video(mime: str, parameters: Dict[str, Any] | None = None) -> Dict[str, Any]:
    codec: Dict[str, Any] = {"kind": "video", "mimeType": mime, "clockRate": 90000}
    if parameters is not None:
        codec["parameters"] = parameters
    codec["rtcpFeedback"] = copy.deepcopy(_VIDEO_FB)
    return codec


def _ext(kind: str, uri: str, preferred_id: int, direction: str = "sendrecv") -> Dict[str, Any]:
    return {"kind": kind, "uri": uri, "preferredId": preferred_id, "preferredEncrypt": False,
            "direction": direction}


_MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
_ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
_TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

SUPPORTED_RTP_CAPABILITIES: RtpCapabilities = {
    "codecs": [
        _audio("audio/opus", 48000, channels=2),
        _audio("audio/multiopus", 48000, channels=4, parameters={
            "channel_mapping": "0,1,2,3", "num_streams": 2, "coupled_streams": 2}),
        _audio("audio/multiopus", 48000, channels=6, parameters={
            "channel_mapping": "0,4,1,2,3,5", "num_streams": 4, "coupled_streams": 2}),
        _audio("audio/multiopus", 48000, channels=8, parameters={
            "channel_mapping": "0,6,1,2,3,4,5,7", "num_streams": 5, "coupled_streams": 3}),
        _audio("audio/PCMU", 8000, pt=0),
        _audio("audio/PCMA", 8000, pt=8),
        _audio("audio/ISAC", 32000),
        _audio("audio/ISAC", 16000),
        _audio("audio/G722", 8000, pt=9),
        _audio("audio/iLBC", 8000),
        _audio("audio/SILK", 24000),
        _audio("audio/SILK", 16000),
        _audio("audio/SILK", 12000),
        _audio("audio/SILK", 8000),
        _audio("audio/CN", 32000, pt=13, fb=False),
        _audio("audio/CN", 16000, pt=13, fb=False),
        _audio("audio/CN", 8000, pt=13, fb=False),
        _audio("audio/telephone-event", 48000, fb=False),
        _audio("audio/telephone-event", 32000, fb=False),
        _audio("audio/telephone-event", 16000, fb=False),
        _audio("audio/telephone-event", 8000, fb=False),
        _video("video/VP8"),
        _video("video/VP9"),
        _video("video/H264", {"packetization-mode": 1, "level-asymmetry-allowed": 1}),
        _video("video/H264", {"packetization-mode": 0, "level-asymmetry-allowed": 1}),
        _video("video/H265", {"packetization-mode": 1, "level-asymmetry-allowed": 1}),
        _video("video/H265", {"packetization-mode": 0, "level-asymmetry-allowed": 1}),
    ],
    "headerExtensions": [
        _ext("audio", _MID, 1),
        _ext("video", _MID, 1),
        _ext("video", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 2, "recvonly"),
        _ext("video", "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 3, "recvonly"),
        _ext("audio", _ABS_SEND_TIME, 4),
        _ext("video", _ABS_SEND_TIME, 4),
        # Audio: transport-wide CC only when receiving.
        _ext("audio", _TRANSPORT_CC, 5, "recvonly"),
        _ext("video", _TRANSPORT_CC, 5),
        _ext("video", "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07", 6),
        _ext("video", "urn:ietf:params:rtp-hdrext:framemarking", 7),
        _ext("audio", "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 10),
        _ext("video", "urn:3gpp:video-orientation", 11),
        _ext("video", "urn:ietf:params:rtp-hdrext:toffset", 12),
    ],
}


def get_supported_rtp_capabilities() -> RtpCapabilities:
    """A copy of :data:`SUPPORTED_RTP_CAPABILITIES`."""
    return copy.deepcopy(SUPPORTED_RTP_CAPABILITIES)
