"""Producers: media sent into a router."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from .channel import Channel, PayloadChannel
from .events import EventEmitter
from .types import AppData, RtpParameters, check_types_list

if TYPE_CHECKING:
    from .transport import Transport

logger = logging.getLogger("sfu_host.producer")


class Producer(EventEmitter):
    """Media (one audio or video track) that an endpoint sends to the router.

    Events: ``transportclose``, ``score`` (scores), ``videoorientationchange``
    (orientation), ``trace`` (trace). Observer events: ``close``, ``pause``,
    ``resume``, ``score``, ``videoorientationchange``, ``trace``.
    """

    def __init__(self, *, internal: Dict[str, Any], kind: str, rtp_parameters: RtpParameters,
                 type: str, consumable_rtp_parameters: RtpParameters, transport: Transport,
                 app_data: AppData, paused: bool) -> None:
        super().__init__()
        self._internal = internal
        self._kind = kind
        self._rtp_parameters = rtp_parameters
        self._type = type
        self._consumable_rtp_parameters = consumable_rtp_parameters
        self._transport = transport
        self._channel: Channel = transport._channel
        self._payload_channel: PayloadChannel = transport._payload_channel
        self._app_data = app_data
        self._paused = paused
        self._closed = False
        self._score: List[Dict[str, Any]] = []
        self._observer = EventEmitter()
        self._channel.subscribe(self.id, self._on_notification)

    @property
    def id(self) -> str:
        """Producer id."""
        return str(self._internal["producerId"])

    @property
    def closed(self) -> bool:
        """Whether the producer is closed."""
        return self._closed

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

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close``, ``pause``, ``resume``, ``score``,
        ``videoorientationchange`` and ``trace``."""
        return self._observer

    def close(self) -> None:
        """Closes the producer; its consumers get ``producerclose``."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        self._transport.router._fire_and_forget("producer.close", dict(self._internal))
        self._transport._producer_closed(self)
        self._observer.safe_emit("close")

    def _transport_closed(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        self.safe_emit("transportclose")
        self._observer.safe_emit("close")

    def _unsubscribe(self) -> None:
        self._channel.unsubscribe(self.id)
        self._payload_channel.unsubscribe(self.id)

    async def dump(self) -> Dict[str, Any]:
        """The worker's view of the producer (``producer.dump``)."""
        result: Dict[str, Any] = await self._channel.request("producer.dump", dict(self._internal))
        return result

    async def get_stats(self) -> List[Dict[str, Any]]:
        """Statistics of its RTP streams (``producer.getStats``)."""
        result: List[Dict[str, Any]] = await self._channel.request("producer.getStats",
                                                                   dict(self._internal))
        return result

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
