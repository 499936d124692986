"""Pipe transports: RTP and SCTP between two routers."""

from __future__ import annotations

import uuid
from typing import Any, Dict, Optional

from . import ortc
from .consumer import Consumer
from .transport import Transport
from .types import AppData, SrtpParameters, TransportTuple, check_app_data, check_int


class PipeTransport(Transport):
    """One end of a pipe between two routers (see
    :meth:`Router.pipe_to_router`).

    Events (also on the observer): ``sctpstatechange`` (state), ``trace``
    (trace).
    """

    _keeps_cname = True

    @property
    def tuple(self) -> TransportTuple:
        """Local (and, once connected, remote) address."""
        result: TransportTuple = self._data.get("tuple") or {}
        return result

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
    def rtx(self) -> bool:
        """Whether RTX and NACK are enabled on the pipe."""
        return bool(self._data.get("rtx"))

    @property
    def srtp_parameters(self) -> Optional[SrtpParameters]:
        """Local SRTP crypto suite and key when SRTP is enabled."""
        result: Optional[SrtpParameters] = self._data.get("srtpParameters")
        return result

    def _mark_closed(self) -> None:
        if self._data.get("sctpState"):
            self._data["sctpState"] = "closed"

    async def connect(self, *, ip: str, port: int,  # type: ignore[override]
                      srtp_parameters: Optional[SrtpParameters] = None, **_: Any) -> None:
        """Gives the other end's address (and SRTP key when enabled)."""
        if not isinstance(ip, str) or not ip:
            raise TypeError("ip must be a non-empty string")
        check_int("port", port, 1, 65535)
        if srtp_parameters is not None and not isinstance(srtp_parameters, dict):
            raise TypeError("srtp_parameters must be a dict")
        self._check_open()
        req: Dict[str, Any] = {"ip": ip, "port": port}
        if srtp_parameters is not None:
            req["srtpParameters"] = srtp_parameters
        data = await self._channel.request("transport.connect", dict(self._internal), req)
        if isinstance(data, dict) and data.get("tuple"):
            self._data["tuple"] = data["tuple"]

    async def consume(self, *, producer_id: str, app_data: Optional[AppData] = None,
                      **_: Any) -> Consumer:
        """Creates a pipe consumer of a producer of this router: every
        encoding is kept; the other end produces it with the consumer's RTP
        parameters."""
        if not isinstance(producer_id, str) or not producer_id:
            raise TypeError("missing producer_id")
        app_data = check_app_data(app_data)
        producer = self._router.get_producer(producer_id)
        if producer is None:
            raise ValueError(f'Producer with id "{producer_id}" not found')
        rtp_parameters = ortc.get_pipe_consumer_rtp_parameters(
            producer.consumable_rtp_parameters, self.rtx)
        self._check_open()
        internal = dict(self._internal)
        internal["consumerId"] = str(uuid.uuid4())
        internal["producerId"] = producer_id
        req = {"kind": producer.kind, "rtpParameters": rtp_parameters, "type": "pipe",
               "consumableRtpEncodings": producer.consumable_rtp_parameters["encodings"]}
        status = await self._channel.request("transport.consume", internal, req)
        # As with the Node host, a pipe consumer starts with the default
        # score rather than the one in the answer.
        return self._add_consumer(internal, producer.kind, rtp_parameters, "pipe", app_data,
                                  status or {}, with_score=False)

    def _handle_notification(self, event: str, data: Any) -> bool:
        if event == "sctpstatechange":
            self._update_state("sctpState", event, data["sctpState"])
            return True
        return False
