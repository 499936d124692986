"""WebRTC transports: ICE, DTLS, SRTP and optionally SCTP."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .transport import Transport
from .types import DtlsParameters, TransportTuple


class WebRtcTransport(Transport):
    """A transport to a WebRTC endpoint (a browser, for instance).

    Events (also on the observer): ``icestatechange`` (state),
    ``iceselectedtuplechange`` (tuple), ``dtlsstatechange`` (state),
    ``sctpstatechange`` (state), ``trace`` (trace).
    """

    @property
    def ice_role(self) -> str:
        """Always ``controlled``."""
        return str(self._data.get("iceRole"))

    @property
    def ice_parameters(self) -> Dict[str, Any]:
        """``{"usernameFragment", "password", "iceLite"}``."""
        result: Dict[str, Any] = self._data.get("iceParameters") or {}
        return result

    @property
    def ice_candidates(self) -> List[Dict[str, Any]]:
        """The local ICE candidates."""
        result: List[Dict[str, Any]] = self._data.get("iceCandidates") or []
        return result

    @property
    def ice_state(self) -> str:
        """``new``, ``connected``, ``completed``, ``disconnected`` or ``closed``."""
        return str(self._data.get("iceState"))

    @property
    def ice_selected_tuple(self) -> Optional[TransportTuple]:
        """The tuple in use, once ICE is connected."""
        result: Optional[TransportTuple] = self._data.get("iceSelectedTuple")
        return result

    @property
    def dtls_parameters(self) -> DtlsParameters:
        """Local DTLS role and certificate fingerprints."""
        result: DtlsParameters = self._data.get("dtlsParameters") or {}
        return result

    @property
    def dtls_state(self) -> str:
        """``new``, ``connecting``, ``connected``, ``failed`` or ``closed``."""
        return str(self._data.get("dtlsState"))

    @property
    def dtls_remote_cert(self) -> Optional[str]:
        """The remote certificate (PEM) once DTLS is connected."""
        value = self._data.get("dtlsRemoteCert")
        return str(value) if value is not None else None

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

    def _mark_closed(self) -> None:
        self._data["iceState"] = "closed"
        self._data["iceSelectedTuple"] = None
        self._data["dtlsState"] = "closed"
        if self._data.get("sctpState"):
            self._data["sctpState"] = "closed"

    async def connect(self, *, dtls_parameters: DtlsParameters, **_: Any) -> None:  # type: ignore[override]
        """Gives the remote DTLS role and fingerprints."""
        if not isinstance(dtls_parameters, dict):
            raise TypeError("dtls_parameters must be a dict")
        if not isinstance(dtls_parameters.get("fingerprints"), list):
            raise TypeError("dtls_parameters needs a list of fingerprints")
        self._check_open()
        data = await self._channel.request("transport.connect", dict(self._internal),
                                           {"dtlsParameters": dtls_parameters})
        if isinstance(data, dict) and "dtlsLocalRole" in data:
            params = self._data.setdefault("dtlsParameters", {})
            params["role"] = data["dtlsLocalRole"]

    async def restart_ice(self) -> Dict[str, Any]:
        """New local ICE username fragment and password; returns them."""
        data = await self._channel.request("transport.restartIce", dict(self._internal))
        params: Dict[str, Any] = data["iceParameters"]
        self._data["iceParameters"] = params
        return params

    def _handle_notification(self, event: str, data: Any) -> bool:
        if event == "icestatechange":
            self._update_state("iceState", event, data["iceState"])
        elif event == "iceselectedtuplechange":
            self._update_state("iceSelectedTuple", event, data["iceSelectedTuple"])
        elif event == "dtlsstatechange":
            if data["dtlsState"] == "connected":
                self._data["dtlsRemoteCert"] = data.get("dtlsRemoteCert")
            self._update_state("dtlsState", event, data["dtlsState"])
        elif event == "sctpstatechange":
            self._update_state("sctpState", event, data["sctpState"])
        else:
            return False
        return True
