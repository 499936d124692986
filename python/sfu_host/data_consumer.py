"""Data consumers: a data producer's messages sent out of a router."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, Optional

from .data_producer import DataChannelEnd, Message, message_payload
from .types import AppData, check_int

if TYPE_CHECKING:
    from .transport import Transport

logger = logging.getLogger("sfu_host.data_consumer")


class DataConsumer(DataChannelEnd):
    """A data producer's messages as an endpoint receives them.

    Events: ``transportclose``, ``dataproducerclose``, ``message``
    (payload bytes, ppid; direct transports), ``sctpsendbufferfull``,
    ``bufferedamountlow`` (buffered amount). Observer events: ``close``.
    """

    _prefix = "dataConsumer"
    _id_key = "dataConsumerId"

    def __init__(self, *, internal: Dict[str, Any], data: Dict[str, Any], transport: Transport,
                 app_data: AppData, sctp_stream_id: Optional[int] = None) -> None:
        super().__init__(internal=internal, transport=transport, app_data=app_data)
        self._data = data
        self._sctp_stream_id = sctp_stream_id
        self._channel.subscribe(self.id, self._on_notification)
        self._payload_channel.subscribe(self.id, self._on_payload_notification)

    def _closed_by_application(self) -> None:
        self._transport._data_consumer_closed(self)

    @property
    def data_producer_id(self) -> str:
        """Id of the data producer it consumes."""
        return str(self._internal["dataProducerId"])

    async def get_buffered_amount(self) -> int:
        """Bytes waiting in the SCTP send buffer for this consumer."""
        data = await self._channel.request("dataConsumer.getBufferedAmount", dict(self._internal))
        return int(data["bufferedAmount"])

    async def set_buffered_amount_low_threshold(self, threshold: int) -> None:
        """Emits ``bufferedamountlow`` when the buffered amount drops to it."""
        check_int("threshold", threshold, 0)
        await self._channel.request("dataConsumer.setBufferedAmountLowThreshold",
                                    dict(self._internal), {"threshold": threshold})

    async def send(self, message: Message, ppid: Optional[int] = None) -> None:
        """Sends a message to the consuming endpoint, from this program."""
        raw, ppid = message_payload(message, ppid)
        await self._payload_channel.request("dataConsumer.send", dict(self._internal),
                                            {"ppid": ppid}, raw)

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "dataproducerclose":
            if self._closed:
                return
            self._closed = True
            self._unsubscribe()
            self._transport._data_consumer_closed(self)
            self.safe_emit("dataproducerclose")
            self._observer.safe_emit("close")
        elif event == "sctpsendbufferfull":
            self.safe_emit("sctpsendbufferfull")
        elif event == "bufferedamountlow":
            self.safe_emit("bufferedamountlow", data.get("bufferedAmount"))
        else:
            logger.error("ignoring unknown event %r", event)

    def _on_payload_notification(self, event: str, data: Any, payload: bytes) -> None:
        if event == "message":
            if not self._closed:
                self.safe_emit("message", payload, int((data or {}).get("ppid", 0)))
        else:
            logger.error("ignoring unknown payload event %r", event)

    def __repr__(self) -> str:
        return f"<DataConsumer {self.id} {'closed' if self._closed else 'open'}>"
