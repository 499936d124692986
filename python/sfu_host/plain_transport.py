"""Plain RTP transports: RTP/RTCP over UDP, optional SRTP and SCTP."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .transport import Transport
from .types import SrtpParameters, TransportTuple, check_int


class PlainTransport(Transport):
    """A transport to an endpoint that sends plain RTP (ffmpeg, GStreamer).

    Events (also on the observer): ``tuple`` (tuple), ``rtcptuple``
    (tuple), ``sctpstatechange`` (state), ``trace`` (trace).
    """

    @property
    def tuple(self) -> TransportTuple:
        """Local (and, once known, remote) address of RTP."""
        result: TransportTuple = self._data.get("tuple") or {}
        return result

    @property
    def rtcp_tuple(self) -> Optional[TransportTuple]:
        """Address of RTCP when it is not muxed with RTP."""
        result: Optional[TransportTuple] = self._data.get("rtcpTuple")
        return result

    @property
    def rtcp_mux(self) -> bool:
        """Whether RTCP shares RTP's port."""
        return bool(self._data.get("rtcpMux"))

    @property
    def comedia(self) -> bool:
        """Whether the remote address is learnt from the first packet."""
        return bool(self._data.get("comedia"))

    @property
    def sctp_parameters(self) -> Optional[Dict[str, Any]]:
        """``{"port", "OS", "MIS", "maxMessageSize"}`` when SCTP is enabled."""
        result: Optional[Dict[str, Any]] = self._data.get("sctpParameters")
        return result

    @property
    def sctp_state(self) -> Optional[str]:
        """SCTP association state when SCTP is enabled."""
        value = self._data.get("sctpState")
        return str(value) if value is not None else None

    @property
    def srtp_parameters(self) -> Optional[SrtpParameters]:
        """Local SRTP crypto suite and key when SRTP is enabled."""
        result: Optional[SrtpParameters] = self._data.get("srtpParameters")
        return result

    def _mark_closed(self) -> None:
        if self._data.get("sctpState"):
            self._data["sctpState"] = "closed"

    async def connect(self, *, ip: Optional[str] = None, port: Optional[int] = None,
                      rtcp_port: Optional[int] = None,
                      srtp_parameters: Optional[SrtpParameters] = None, **_: Any) -> None:
        """Gives the remote address (unless ``comedia``) and, with SRTP, the
        remote crypto suite and key."""
        if ip is not None and not isinstance(ip, str):
            raise TypeError("ip must be a string")
        if port is not None:
            check_int("port", port, 1, 65535)
        if rtcp_port is not None:
            check_int("rtcp_port", rtcp_port, 1, 65535)
        if srtp_parameters is not None and not isinstance(srtp_parameters, dict):
            raise TypeError("srtp_parameters must be a dict")
        self._check_open()
        req: Dict[str, Any] = {}
        if ip is not None:
            req["ip"] = ip
        if port is not None:
            req["port"] = port
        if rtcp_port is not None:
            req["rtcpPort"] = rtcp_port
        if srtp_parameters is not None:
            req["srtpParameters"] = srtp_parameters
        data = await self._channel.request("transport.connect", dict(self._internal), req)
        if isinstance(data, dict):
            if data.get("tuple"):
                self._data["tuple"] = data["tuple"]
            if data.get("rtcpTuple"):
                self._data["rtcpTuple"] = data["rtcpTuple"]
            self._data["srtpParameters"] = data.get("srtpParameters")

    def _handle_notification(self, event: str, data: Any) -> bool:
        if event == "tuple":
            self._update_state("tuple", event, data["tuple"])
        elif event == "rtcptuple":
            self._update_state("rtcpTuple", event, data["rtcpTuple"])
        elif event == "sctpstatechange":
            self._update_state("sctpState", event, data["sctpState"])
        else:
            return False
        return True
