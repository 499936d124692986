"""RTP negotiation done by the host, following the ORTC rules.

- :func:`generate_router_rtp_capabilities`: a router's capabilities from the
  media codecs it is given (payload types, RTX, header extensions, RTCP
  feedback).
- ``validate_*``: check RTP/SCTP parameters and capabilities and fill in
  their defaults, in place. Wrong types and missing values raise
  :class:`TypeError`; values of the right type that are not acceptable raise
  :class:`ValueError`.
- :func:`get_producer_rtp_parameters_mapping`,
  :func:`get_consumable_rtp_parameters`: how a producer's payload types and
  SSRCs map to the router's.
- :func:`can_consume`, :func:`get_consumer_rtp_parameters`,
  :func:`get_pipe_consumer_rtp_parameters`: what a consumer gets.

Results are plain dictionaries with the protocol's camelCase keys; for the
same inputs they are those of the mediasoup 3.8 Node host.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Tuple

from . import h264
from .errors import UnsupportedError
from .scalability_modes import parse_scalability_mode
from .supported_rtp_capabilities import SUPPORTED_RTP_CAPABILITIES
from .types import RtpCapabilities, RtpCodecCapability, RtpMapping, RtpParameters

#: Dynamic payload types in the order they are handed out.
DYNAMIC_PAYLOAD_TYPES = (
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
    111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
    122, 123, 124, 125, 126, 127, 96, 97, 98, 99,
)

_MIME_RE = re.compile(r"^(audio|video)/(.+)", re.IGNORECASE)
_RTX_RE = re.compile(r".+/rtx$", re.IGNORECASE)

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"


def generate_random_number() -> int:
    """A random SSRC-like number in [100000000, 999999999]."""
    return random.randint(100000000, 999999999)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_list(container: MutableMapping[str, Any], key: str, what: str) -> List[Any]:
    """``container[key]`` as a list (``[]`` when missing or empty)."""
    value = container.get(key)
    if value is None or (isinstance(value, (list, tuple)) and not value):
        container[key] = []
    elif isinstance(value, tuple):
        container[key] = list(value)
    elif not isinstance(value, list):
        raise TypeError(f"{what} is not a list")
    result: List[Any] = container[key]
    return result


def _check_object(value: Any, what: str) -> None:
    if not isinstance(value, MutableMapping):
        raise TypeError(f"{what} is not a dict")


def is_rtx_codec(codec: Mapping[str, Any]) -> bool:
    """Whether the codec is RTX (``*/rtx``)."""
    return bool(_RTX_RE.match(str(codec.get("mimeType", ""))))


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def validate_rtp_capabilities(caps: Any) -> None:
    """Validates RTP capabilities, filling in defaults."""
    _check_object(caps, "caps")
    for codec in _as_list(caps, "codecs", "caps.codecs"):
        validate_rtp_codec_capability(codec)
    for ext in _as_list(caps, "headerExtensions", "caps.headerExtensions"):
        validate_rtp_header_extension(ext)


def _mime_kind(codec: Mapping[str, Any], what: str) -> str:
    mime = codec.get("mimeType")
    if not mime or not isinstance(mime, str):
        raise TypeError(f"missing {what}.mimeType")
    match = _MIME_RE.match(mime)
    if match is None:
        raise ValueError(f"invalid {what}.mimeType {mime!r}")
    return match.group(1).lower()


def _validate_codec_common(codec: MutableMapping[str, Any], kind: str, what: str) -> None:
    if not _is_number(codec.get("clockRate")):
        raise TypeError(f"missing {what}.clockRate")
    if kind == "audio":
        if not _is_number(codec.get("channels")):
            codec["channels"] = 1
    else:
        codec.pop("channels", None)
    params = codec.get("parameters")
    if not params or not isinstance(params, MutableMapping):
        codec["parameters"] = params = {}
    for key in list(params.keys()):
        value = params[key]
        if value is None:
            params[key] = value = ""
        if not isinstance(value, str) and not _is_number(value):
            raise TypeError(f"invalid codec parameter [key:{key}, value:{value!r}]")
        if key == "apt" and not _is_number(value):
            raise TypeError("invalid codec apt parameter (not a number)")
    for fb in _as_list(codec, "rtcpFeedback", f"{what}.rtcpFeedback"):
        validate_rtcp_feedback(fb)


def validate_rtp_codec_capability(codec: Any) -> None:
    """Validates a codec capability, filling in defaults (``kind`` from the
    MIME type, ``channels`` 1 for audio, ``parameters``, ``rtcpFeedback``)."""
    _check_object(codec, "codec")
    kind = _mime_kind(codec, "codec")
    codec["kind"] = kind
    pt = codec.get("preferredPayloadType")
    if pt and not _is_number(pt):
        raise TypeError("invalid codec.preferredPayloadType")
    _validate_codec_common(codec, kind, "codec")


def validate_rtcp_feedback(fb: Any) -> None:
    """Validates an RTCP feedback entry (``parameter`` defaults to ``""``)."""
    _check_object(fb, "fb")
    if not fb.get("type") or not isinstance(fb.get("type"), str):
        raise TypeError("missing fb.type")
    if not fb.get("parameter") or not isinstance(fb.get("parameter"), str):
        fb["parameter"] = ""


def validate_rtp_header_extension(ext: Any) -> None:
    """Validates a header extension capability (``preferredEncrypt``
    defaults to False, ``direction`` to ``sendrecv``)."""
    _check_object(ext, "ext")
    if not isinstance(ext.get("kind"), str):
        raise TypeError("missing ext.kind")
    if ext["kind"] not in ("audio", "video"):
        raise ValueError(f"invalid ext.kind {ext['kind']!r}")
    if not ext.get("uri") or not isinstance(ext.get("uri"), str):
        raise TypeError("missing ext.uri")
    if not _is_number(ext.get("preferredId")):
        raise TypeError("missing ext.preferredId")
    encrypt = ext.get("preferredEncrypt")
    if encrypt and not isinstance(encrypt, bool):
        raise TypeError("invalid ext.preferredEncrypt")
    if not encrypt:
        ext["preferredEncrypt"] = False
    direction = ext.get("direction")
    if direction and not isinstance(direction, str):
        raise TypeError("invalid ext.direction")
    if not direction:
        ext["direction"] = "sendrecv"


def validate_rtp_parameters(params: Any) -> None:
    """Validates RTP parameters, filling in defaults."""
    _check_object(params, "params")
    mid = params.get("mid")
    if mid and not isinstance(mid, str):
        raise TypeError("params.mid is not a string")
    codecs = params.get("codecs")
    if isinstance(codecs, tuple):
        params["codecs"] = codecs = list(codecs)
    if not isinstance(codecs, list):
        raise TypeError("missing params.codecs")
    for codec in codecs:
        validate_rtp_codec_parameters(codec)
    for ext in _as_list(params, "headerExtensions", "params.headerExtensions"):
        validate_rtp_header_extension_parameters(ext)
    for encoding in _as_list(params, "encodings", "params.encodings"):
        validate_rtp_encoding_parameters(encoding)
    rtcp = params.get("rtcp")
    if rtcp and not isinstance(rtcp, MutableMapping):
        raise TypeError("params.rtcp is not a dict")
    if not rtcp:
        params["rtcp"] = rtcp = {}
    validate_rtcp_parameters(rtcp)


def validate_rtp_codec_parameters(codec: Any) -> None:
    """Validates the codec of RTP parameters, filling in defaults."""
    _check_object(codec, "codec")
    kind = _mime_kind(codec, "codec")
    if not _is_number(codec.get("payloadType")):
        raise TypeError("missing codec.payloadType")
    _validate_codec_common(codec, kind, "codec")


def validate_rtp_header_extension_parameters(ext: Any) -> None:
    """Validates a header extension of RTP parameters (``encrypt`` defaults
    to False, ``parameters`` to ``{}``)."""
    _check_object(ext, "ext")
    if not ext.get("uri") or not isinstance(ext.get("uri"), str):
        raise TypeError("missing ext.uri")
    if not _is_number(ext.get("id")):
        raise TypeError("missing ext.id")
    encrypt = ext.get("encrypt")
    if encrypt and not isinstance(encrypt, bool):
        raise TypeError("invalid ext.encrypt")
    if not encrypt:
        ext["encrypt"] = False
    params = ext.get("parameters")
    if not params or not isinstance(params, MutableMapping):
        ext["parameters"] = params = {}
    for key in list(params.keys()):
        value = params[key]
        if value is None:
            params[key] = value = ""
        if not isinstance(value, str) and not _is_number(value):
            raise TypeError("invalid header extension parameter")


def validate_rtp_encoding_parameters(encoding: Any) -> None:
    """Validates an encoding (``dtx`` defaults to False)."""
    _check_object(encoding, "encoding")
    ssrc = encoding.get("ssrc")
    if ssrc and not _is_number(ssrc):
        raise TypeError("invalid encoding.ssrc")
    rid = encoding.get("rid")
    if rid and not isinstance(rid, str):
        raise TypeError("invalid encoding.rid")
    rtx = encoding.get("rtx")
    if rtx and not isinstance(rtx, MutableMapping):
        raise TypeError("invalid encoding.rtx")
    if rtx and not _is_number(rtx.get("ssrc")):
        raise TypeError("missing encoding.rtx.ssrc")
    if not encoding.get("dtx") or not isinstance(encoding.get("dtx"), bool):
        encoding["dtx"] = False
    mode = encoding.get("scalabilityMode")
    if mode and not isinstance(mode, str):
        raise TypeError("invalid encoding.scalabilityMode")


def validate_rtcp_parameters(rtcp: Any) -> None:
    """Validates RTCP parameters (``reducedSize`` becomes True unless it is
    True already, as in the Node host)."""
    _check_object(rtcp, "rtcp")
    cname = rtcp.get("cname")
    if cname and not isinstance(cname, str):
        raise TypeError("invalid rtcp.cname")
    if not rtcp.get("reducedSize") or not isinstance(rtcp.get("reducedSize"), bool):
        rtcp["reducedSize"] = True


def validate_sctp_capabilities(caps: Any) -> None:
    """Validates SCTP capabilities (``{"numStreams": {"OS", "MIS"}}``)."""
    _check_object(caps, "caps")
    if not caps.get("numStreams") or not isinstance(caps.get("numStreams"), MutableMapping):
        raise TypeError("missing caps.numStreams")
    validate_num_sctp_streams(caps["numStreams"])


def validate_num_sctp_streams(num_streams: Any) -> None:
    """Validates ``{"OS", "MIS"}``."""
    _check_object(num_streams, "numStreams")
    for key in ("OS", "MIS"):
        if not _is_number(num_streams.get(key)):
            raise TypeError(f"missing numStreams.{key}")


def validate_sctp_parameters(params: Any) -> None:
    """Validates SCTP parameters (``port``, ``OS``, ``MIS``,
    ``maxMessageSize``)."""
    _check_object(params, "params")
    for key in ("port", "OS", "MIS", "maxMessageSize"):
        if not _is_number(params.get(key)):
            raise TypeError(f"missing params.{key}")


def validate_sctp_stream_parameters(params: Any) -> None:
    """Validates SCTP stream parameters (``ordered`` defaults to True, or
    to False with a partial reliability option)."""
    _check_object(params, "params")
    if not _is_number(params.get("streamId")):
        raise TypeError("missing params.streamId")
    ordered_given = isinstance(params.get("ordered"), bool)
    if not ordered_given:
        params["ordered"] = True
    lifetime = params.get("maxPacketLifeTime")
    if lifetime and not _is_number(lifetime):
        raise TypeError("invalid params.maxPacketLifeTime")
    retransmits = params.get("maxRetransmits")
    if retransmits and not _is_number(retransmits):
        raise TypeError("invalid params.maxRetransmits")
    if lifetime and retransmits:
        raise ValueError("cannot provide both maxPacketLifeTime and maxRetransmits")
    if ordered_given and params["ordered"] and (lifetime or retransmits):
        raise ValueError("cannot be ordered with maxPacketLifeTime or maxRetransmits")
    if not ordered_given and (lifetime or retransmits):
        params["ordered"] = False


# ---------------------------------------------------------------------------
# Router capabilities
# ---------------------------------------------------------------------------

def _validated_supported() -> RtpCapabilities:
    caps = copy.deepcopy(SUPPORTED_RTP_CAPABILITIES)
    validate_rtp_capabilities(caps)
    return caps


def generate_router_rtp_capabilities(
        media_codecs: Optional[List[RtpCodecCapability]] = None) -> RtpCapabilities:
    """The RTP capabilities of a router with these media codecs.

    Each codec must match a supported one (MIME type, clock rate, channels
    and, for multiopus and H.264, their key parameters); it keeps its
    ``preferredPayloadType`` if it has one, else gets the supported codec's
    static one or the next dynamic one. Each video codec is followed by its
    RTX codec. ``media_codecs`` is not modified.
    """
    if media_codecs is None:
        media_codecs = []
    if not isinstance(media_codecs, (list, tuple)):
        raise TypeError("media_codecs must be a list")
    supported = _validated_supported()
    dynamic = list(DYNAMIC_PAYLOAD_TYPES)
    codecs: List[Dict[str, Any]] = []
    caps: RtpCapabilities = {"codecs": codecs, "headerExtensions": supported["headerExtensions"]}

    for given in media_codecs:
        media_codec = copy.deepcopy(given)
        validate_rtp_codec_capability(media_codec)
        matched = next((c for c in supported["codecs"]
                        if match_codecs(media_codec, c, strict=False)), None)
        if matched is None:
            raise UnsupportedError(f"media codec not supported [mimeType:{media_codec['mimeType']}]")
        codec = copy.deepcopy(matched)
        if _is_number(media_codec.get("preferredPayloadType")):
            codec["preferredPayloadType"] = media_codec["preferredPayloadType"]
            if codec["preferredPayloadType"] in dynamic:
                dynamic.remove(codec["preferredPayloadType"])
        elif _is_number(codec.get("preferredPayloadType")):
            pass
        else:
            if not dynamic:
                raise UnsupportedError("cannot allocate more dynamic codec payload types")
            codec["preferredPayloadType"] = dynamic.pop(0)
        if any(c["preferredPayloadType"] == codec["preferredPayloadType"] for c in codecs):
            raise ValueError("duplicated codec.preferredPayloadType "
                             f"{codec['preferredPayloadType']}")
        codec["parameters"] = {**codec["parameters"], **media_codec["parameters"]}
        codecs.append(codec)
        if codec["kind"] == "video":
            if not dynamic:
                raise UnsupportedError("cannot allocate more dynamic codec payload types")
            codecs.append({
                "kind": codec["kind"],
                "mimeType": f"{codec['kind']}/rtx",
                "preferredPayloadType": dynamic.pop(0),
                "clockRate": codec["clockRate"],
                "parameters": {"apt": codec["preferredPayloadType"]},
                "rtcpFeedback": [],
            })
    return caps


# ---------------------------------------------------------------------------
# Producers
# ---------------------------------------------------------------------------

def get_producer_rtp_parameters_mapping(params: RtpParameters,
                                        caps: RtpCapabilities) -> RtpMapping:
    """How the producer's payload types map to the router's, and the SSRC
    the router gives each of its encodings. H.264 codecs of ``params`` get
    the negotiated ``profile-level-id``."""
    pairs: List[Tuple[Dict[str, Any], Dict[str, Any]]] = []
    for codec in params["codecs"]:
        if is_rtx_codec(codec):
            continue
        matched = next((c for c in caps["codecs"]
                        if match_codecs(codec, c, strict=True, modify=True)), None)
        if matched is None:
            raise UnsupportedError(f"unsupported codec [mimeType:{codec['mimeType']}, "
                                   f"payloadType:{codec['payloadType']}]")
        pairs.append((codec, matched))
    for codec in params["codecs"]:
        if not is_rtx_codec(codec):
            continue
        apt = codec["parameters"].get("apt")
        media = next((c for c in params["codecs"] if c["payloadType"] == apt), None)
        if media is None:
            raise ValueError(f"missing media codec found for RTX PT {codec['payloadType']}")
        cap_media = next((cap for c, cap in pairs if c is media), None)
        if cap_media is None:
            raise ValueError(f"RTX PT {codec['payloadType']} points to an RTX codec")
        cap_rtx = next((c for c in caps["codecs"] if is_rtx_codec(c)
                        and c["parameters"].get("apt") == cap_media["preferredPayloadType"]),
                       None)
        if cap_rtx is None:
            raise UnsupportedError("no RTX codec for capability codec PT "
                                   f"{cap_media['preferredPayloadType']}")
        pairs.append((codec, cap_rtx))

    mapped_ssrc = generate_random_number()
    encodings: List[Dict[str, Any]] = []
    for encoding in params["encodings"]:
        mapped: Dict[str, Any] = {"mappedSsrc": mapped_ssrc}
        mapped_ssrc += 1
        if encoding.get("rid"):
            mapped["rid"] = encoding["rid"]
        if encoding.get("ssrc"):
            mapped["ssrc"] = encoding["ssrc"]
        if encoding.get("scalabilityMode"):
            mapped["scalabilityMode"] = encoding["scalabilityMode"]
        encodings.append(mapped)
    return {
        "codecs": [{"payloadType": c["payloadType"], "mappedPayloadType": cap["preferredPayloadType"]}
                   for c, cap in pairs],
        "encodings": encodings,
    }


def get_consumable_rtp_parameters(kind: str, params: RtpParameters, caps: RtpCapabilities,
                                  rtp_mapping: RtpMapping) -> RtpParameters:
    """The router-side parameters of a producer, from which every consumer's
    parameters are derived."""
    codecs: List[Dict[str, Any]] = []
    for codec in params["codecs"]:
        if is_rtx_codec(codec):
            continue
        pt = next(e["mappedPayloadType"] for e in rtp_mapping["codecs"]
                  if e["payloadType"] == codec["payloadType"])
        cap = next(c for c in caps["codecs"] if c["preferredPayloadType"] == pt)
        consumable: Dict[str, Any] = {
            "mimeType": cap["mimeType"],
            "payloadType": cap["preferredPayloadType"],
            "clockRate": cap["clockRate"],
        }
        if cap.get("channels") is not None:
            consumable["channels"] = cap["channels"]
        consumable["parameters"] = copy.deepcopy(codec["parameters"])
        consumable["rtcpFeedback"] = copy.deepcopy(cap["rtcpFeedback"])
        codecs.append(consumable)
        cap_rtx = next((c for c in caps["codecs"] if is_rtx_codec(c)
                        and c["parameters"].get("apt") == consumable["payloadType"]), None)
        if cap_rtx is not None:
            codecs.append({
                "mimeType": cap_rtx["mimeType"],
                "payloadType": cap_rtx["preferredPayloadType"],
                "clockRate": cap_rtx["clockRate"],
                "parameters": copy.deepcopy(cap_rtx["parameters"]),
                "rtcpFeedback": copy.deepcopy(cap_rtx["rtcpFeedback"]),
            })

    header_extensions = [
        {"uri": ext["uri"], "id": ext["preferredId"], "encrypt": ext["preferredEncrypt"],
         "parameters": {}}
        for ext in caps["headerExtensions"]
        if ext["kind"] == kind and ext["direction"] in ("sendrecv", "sendonly")
    ]

    encodings: List[Dict[str, Any]] = []
    for encoding, mapped in zip(copy.deepcopy(params["encodings"]), rtp_mapping["encodings"]):
        for key in ("rid", "rtx", "codecPayloadType"):
            encoding.pop(key, None)
        encoding["ssrc"] = mapped["mappedSsrc"]
        encodings.append(encoding)

    rtcp: Dict[str, Any] = {}
    if params["rtcp"].get("cname") is not None:
        rtcp["cname"] = params["rtcp"]["cname"]
    rtcp["reducedSize"] = True
    rtcp["mux"] = True
    return {"codecs": codecs, "headerExtensions": header_extensions, "encodings": encodings,
            "rtcp": rtcp}


# ---------------------------------------------------------------------------
# Consumers
# ---------------------------------------------------------------------------

def can_consume(consumable_params: RtpParameters, caps: RtpCapabilities) -> bool:
    """Whether an endpoint with ``caps`` can receive a producer with these
    consumable parameters (``caps`` is validated in place)."""
    validate_rtp_capabilities(caps)
    matching = [codec for codec in consumable_params["codecs"]
                if any(match_codecs(cap, codec, strict=True) for cap in caps["codecs"])]
    return bool(matching) and not is_rtx_codec(matching[0])


def _reduce_feedback(codecs: List[Dict[str, Any]], header_extensions: List[Dict[str, Any]]) -> None:
    uris = {ext["uri"] for ext in header_extensions}
    if TRANSPORT_CC_URI in uris:
        dropped: Tuple[str, ...] = ("goog-remb",)
    elif ABS_SEND_TIME_URI in uris:
        dropped = ("transport-cc",)
    else:
        dropped = ("transport-cc", "goog-remb")
    for codec in codecs:
        codec["rtcpFeedback"] = [fb for fb in codec["rtcpFeedback"] if fb["type"] not in dropped]


def get_consumer_rtp_parameters(consumable_params: RtpParameters, caps: RtpCapabilities,
                                pipe: bool = False) -> RtpParameters:
    """The RTP parameters of a consumer for an endpoint with ``caps``:
    codecs, RTCP feedback and header extensions reduced to what it supports,
    RTX when both support it, and one encoding (all of them for ``pipe``).
    Raises :class:`UnsupportedError` when no media codec is compatible."""
    for cap in caps["codecs"]:
        validate_rtp_codec_capability(cap)
    codecs: List[Dict[str, Any]] = []
    for codec in copy.deepcopy(consumable_params["codecs"]):
        cap = next((c for c in caps["codecs"] if match_codecs(c, codec, strict=True)), None)
        if cap is None:
            continue
        codec["rtcpFeedback"] = copy.deepcopy(cap["rtcpFeedback"])
        codecs.append(codec)

    rtx_supported = False
    for idx in range(len(codecs) - 1, -1, -1):
        codec = codecs[idx]
        if is_rtx_codec(codec):
            apt = codec["parameters"].get("apt")
            if any(c["payloadType"] == apt for c in codecs):
                rtx_supported = True
            else:
                del codecs[idx]

    if not codecs or is_rtx_codec(codecs[0]):
        raise UnsupportedError("no compatible media codecs")

    header_extensions = [
        copy.deepcopy(ext) for ext in consumable_params["headerExtensions"]
        if any(cap_ext.get("preferredId") == ext["id"] and cap_ext.get("uri") == ext["uri"]
               for cap_ext in caps["headerExtensions"])
    ]
    _reduce_feedback(codecs, header_extensions)

    encodings: List[Dict[str, Any]] = []
    consumable_encodings = consumable_params["encodings"]
    if not pipe:
        encoding: Dict[str, Any] = {"ssrc": generate_random_number()}
        if rtx_supported:
            encoding["rtx"] = {"ssrc": encoding["ssrc"] + 1}
        mode: Optional[str] = next((e["scalabilityMode"] for e in consumable_encodings
                                    if e.get("scalabilityMode")), None)
        if len(consumable_encodings) > 1:
            temporal = parse_scalability_mode(mode).temporal_layers
            mode = f"S{len(consumable_encodings)}T{temporal}"
        if mode:
            encoding["scalabilityMode"] = mode
        max_bitrate = 0
        for e in consumable_encodings:
            if e.get("maxBitrate") and e["maxBitrate"] > max_bitrate:
                max_bitrate = e["maxBitrate"]
        if max_bitrate:
            encoding["maxBitrate"] = max_bitrate
        encodings.append(encoding)
    else:
        base_ssrc = generate_random_number()
        base_rtx_ssrc = generate_random_number()
        for i, e in enumerate(copy.deepcopy(consumable_encodings)):
            e["ssrc"] = base_ssrc + i
            if rtx_supported:
                e["rtx"] = {"ssrc": base_rtx_ssrc + i}
            else:
                e.pop("rtx", None)
            encodings.append(e)

    return {"codecs": codecs, "headerExtensions": header_extensions, "encodings": encodings,
            "rtcp": copy.deepcopy(consumable_params["rtcp"])}


def get_pipe_consumer_rtp_parameters(consumable_params: RtpParameters,
                                     enable_rtx: bool = False) -> RtpParameters:
    """The RTP parameters of a consumer on a pipe transport: every encoding,
    no bandwidth estimation extensions or feedback, and RTX/NACK only with
    ``enable_rtx``."""
    codecs: List[Dict[str, Any]] = []
    for codec in copy.deepcopy(consumable_params["codecs"]):
        if not enable_rtx and is_rtx_codec(codec):
            continue
        codec["rtcpFeedback"] = [
            fb for fb in codec["rtcpFeedback"]
            if (fb["type"] == "nack" and fb.get("parameter") == "pli")
            or (fb["type"] == "ccm" and fb.get("parameter") == "fir")
            or (enable_rtx and fb["type"] == "nack" and not fb.get("parameter"))
        ]
        codecs.append(codec)
    header_extensions = [
        copy.deepcopy(ext) for ext in consumable_params["headerExtensions"]
        if ext["uri"] not in (MID_URI, ABS_SEND_TIME_URI, TRANSPORT_CC_URI)
    ]
    encodings: List[Dict[str, Any]] = []
    base_ssrc = generate_random_number()
    base_rtx_ssrc = generate_random_number()
    for i, e in enumerate(copy.deepcopy(consumable_params["encodings"])):
        e["ssrc"] = base_ssrc + i
        if enable_rtx:
            e["rtx"] = {"ssrc": base_rtx_ssrc + i}
        else:
            e.pop("rtx", None)
        encodings.append(e)
    return {"codecs": codecs, "headerExtensions": header_extensions, "encodings": encodings,
            "rtcp": copy.deepcopy(consumable_params["rtcp"])}


# ---------------------------------------------------------------------------
# Codec matching
# ---------------------------------------------------------------------------

def match_codecs(a: MutableMapping[str, Any], b: Mapping[str, Any], *, strict: bool = False,
                 modify: bool = False) -> bool:
    """Whether two codecs are the same for negotiation purposes.

    With ``strict``, H.264 profiles and VP9 profile ids must match too; with
    ``modify`` as well, ``a`` gets the negotiated H.264 profile-level-id.
    """
    a_mime = str(a.get("mimeType", "")).lower()
    b_mime = str(b.get("mimeType", "")).lower()
    if a_mime != b_mime:
        return False
    if a.get("clockRate") != b.get("clockRate"):
        return False
    if a.get("channels") != b.get("channels"):
        return False
    a_params: Mapping[str, Any] = a.get("parameters") or {}
    b_params: Mapping[str, Any] = b.get("parameters") or {}
    if a_mime == "audio/multiopus":
        if a_params.get("num_streams") != b_params.get("num_streams"):
            return False
        if a_params.get("coupled_streams") != b_params.get("coupled_streams"):
            return False
    elif a_mime == "video/h264":
        if (a_params.get("packetization-mode") or 0) != (b_params.get("packetization-mode") or 0):
            return False
        if strict:
            if not h264.is_same_profile(a_params, b_params):
                return False
            try:
                selected = h264.generate_profile_level_id_for_answer(a_params, b_params)
            except ValueError:
                return False
            if modify:
                params = a.get("parameters")
                if isinstance(params, MutableMapping):
                    if selected:
                        params["profile-level-id"] = selected
                    else:
                        params.pop("profile-level-id", None)
    elif a_mime == "video/vp9":
        if strict and (a_params.get("profile-id") or 0) != (b_params.get("profile-id") or 0):
            return False
    return True
