"""Type aliases of the data the library passes around.

RTP and SCTP parameters and capabilities are plain dictionaries with the
camelCase keys of the wire protocol and of mediasoup-client (``mimeType``,
``payloadType``, ``rtcpFeedback`` ...), so that they can be sent to a
browser as they are.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Union

JsonDict = Dict[str, Any]

#: Custom data of the application attached to an entity.
AppData = Dict[str, Any]

#: ``{"codecs": [...], "headerExtensions": [...]}``
RtpCapabilities = Dict[str, Any]
#: ``{"kind", "mimeType", "preferredPayloadType", "clockRate", "channels",
#: "parameters", "rtcpFeedback"}``
RtpCodecCapability = Dict[str, Any]
#: ``{"mid", "codecs", "headerExtensions", "encodings", "rtcp"}``
RtpParameters = Dict[str, Any]
#: ``{"codecs": [{"payloadType", "mappedPayloadType"}], "encodings": [...]}``
RtpMapping = Dict[str, Any]
#: ``{"streamId", "ordered", "maxPacketLifeTime", "maxRetransmits"}``
SctpStreamParameters = Dict[str, Any]
#: ``{"OS", "MIS"}``
NumSctpStreams = Dict[str, int]
#: ``{"ip", "announcedIp"}`` or just the IP as a string.
TransportListenIp = Union[str, Mapping[str, Any]]
#: ``{"localIp", "localPort", "remoteIp", "remotePort", "protocol"}``
TransportTuple = Dict[str, Any]
#: ``{"cryptoSuite", "keyBase64"}``
SrtpParameters = Dict[str, Any]
#: ``{"role", "fingerprints": [{"algorithm", "value"}]}``
DtlsParameters = Dict[str, Any]


def check_app_data(app_data: Optional[Mapping[str, Any]]) -> AppData:
    """``app_data`` as a new dict (``{}`` for ``None``); :class:`TypeError`
    if it is not a mapping."""
    if app_data is None:
        return {}
    if not isinstance(app_data, Mapping):
        raise TypeError("if given, app_data must be a mapping")
    return dict(app_data)


def normalize_listen_ip(listen_ip: Any) -> Dict[str, Any]:
    """``{"ip": ..., "announcedIp"?: ...}`` from a string or a mapping."""
    if isinstance(listen_ip, str):
        if not listen_ip:
            raise ValueError("empty listen IP")
        return {"ip": listen_ip}
    if isinstance(listen_ip, Mapping):
        ip = listen_ip.get("ip")
        if not isinstance(ip, str) or not ip:
            raise TypeError("listen IP without ip")
        out: Dict[str, Any] = {"ip": ip}
        announced = listen_ip.get("announcedIp", listen_ip.get("announced_ip"))
        if announced:
            if not isinstance(announced, str):
                raise TypeError("announcedIp must be a string")
            out["announcedIp"] = announced
        return out
    raise TypeError("wrong listen IP (a string or a mapping with 'ip')")


def normalize_num_sctp_streams(value: Optional[Mapping[str, Any]]) -> NumSctpStreams:
    """``{"OS", "MIS"}`` checked (default 1024 each)."""
    if value is None:
        return {"OS": 1024, "MIS": 1024}
    if not isinstance(value, Mapping):
        raise TypeError("num_sctp_streams must be a mapping with OS and MIS")
    out: NumSctpStreams = {}
    for key in ("OS", "MIS"):
        v = value.get(key)
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"num_sctp_streams.{key} must be an integer")
        if not 1 <= v <= 65535:
            raise ValueError(f"num_sctp_streams.{key} out of range")
        out[key] = v
    return out


def check_int(name: str, value: Any, minimum: Optional[int] = None,
              maximum: Optional[int] = None) -> int:
    """``value`` if it is an int (not a bool) within bounds."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool")
    return value


def check_types_list(types: Any) -> List[str]:
    """A list of trace event type names."""
    if types is None:
        return []
    if isinstance(types, str) or not all(isinstance(t, str) for t in types):
        raise TypeError("types must be a sequence of strings")
    return list(types)
