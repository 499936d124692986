"""Producers: media sent into a router."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from .entity import TransportEntity
from .types import AppData, RtpParameters, check_types_list

if TYPE_CHECKING:
    from .transport import Transport

logger = logging.getLogger("sfu_host.producer")


class Producer(TransportEntity):
    """Media (one audio or video track) that an endpoint sends to the router.

    Events: ``transportclose``, ``score`` (scores), ``videoorientationchange``
    (orientation), ``trace`` (trace). Observer events: ``close``, ``pause``,
    ``resume``, ``score``, ``videoorientationchange``, ``trace``.
    """

    _prefix = "producer"
    _id_key = "producerId"

    def __init__(self, *, internal: Dict[str, Any], kind: str, rtp_parameters: RtpParameters,
                 type: str, consumable_rtp_parameters: RtpParameters, transport: Transport,
                 app_data: AppData, paused: bool) -> None:
        super().__init__(internal=internal, transport=transport, app_data=app_data)
        self._kind = kind
        self._rtp_parameters = rtp_parameters
        self._type = type
        self._consumable_rtp_parameters = consumable_rtp_parameters
        self._paused = paused
        self._score: List[Dict[str, Any]] = []
        self._channel.subscribe(self.id, self._on_notification)

    def _closed_by_application(self) -> None:
        self._transport._producer_closed(self)

    @property
    def kind(self) -> str:
        """``audio`` or ``video``."""
        return self._kind

    @property
    def rtp_parameters(self) -> RtpParameters:
        """The RTP parameters it was created with (validated and completed)."""
        return self._rtp_parameters

    @property
    def type(self) -> str:
        """``simple``, ``simulcast`` or ``svc``."""
        return self._type

    @property
    def consumable_rtp_parameters(self) -> RtpParameters:
        """The router-side parameters consumers are derived from."""
        return self._consumable_rtp_parameters

    @property
    def paused(self) -> bool:
        """Whether the producer is paused."""
        return self._paused

    @property
    def score(self) -> List[Dict[str, Any]]:
        """The last scores of its RTP streams."""
        return self._score

    async def pause(self) -> None:
        """Pauses the producer (its consumers get ``producerpause``)."""
        was_paused = self._paused
        await self._channel.request("producer.pause", dict(self._internal))
        self._paused = True
        if not was_paused:
            self._observer.safe_emit("pause")

    async def resume(self) -> None:
        """Resumes the producer (its consumers get ``producerresume``)."""
        was_paused = self._paused
        await self._channel.request("producer.resume", dict(self._internal))
        self._paused = False
        if was_paused:
            self._observer.safe_emit("resume")

    async def enable_trace_event(self, types: Optional[Sequence[str]] = None) -> None:
        """Enables ``trace`` events of these types (``rtp``, ``keyframe``,
        ``nack``, ``pli``, ``fir``)."""
        await self._channel.request("producer.enableTraceEvent", dict(self._internal),
                                    {"types": check_types_list(types)})

    def send(self, packet: Union[bytes, bytearray, memoryview]) -> None:
        """Sends an RTP packet into the producer (direct transports only)."""
        if not isinstance(packet, (bytes, bytearray, memoryview)):
            raise TypeError("packet must be bytes")
        self._payload_channel.notify("producer.send", dict(self._internal), None, bytes(packet))

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "score":
            self._score = data
            self.safe_emit("score", data)
            self._observer.safe_emit("score", data)
        elif event in ("videoorientationchange", "trace"):
            self.safe_emit(event, data)
            self._observer.safe_emit(event, data)
        else:
            logger.error("ignoring unknown event %r", event)

    def __repr__(self) -> str:
        return f"<Producer {self.id} {self._kind} {'closed' if self._closed else 'open'}>"
