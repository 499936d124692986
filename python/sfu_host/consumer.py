"""Consumers: a producer's media sent out of a router."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence

from .entity import TransportEntity
from .types import AppData, RtpParameters, check_int, check_types_list

if TYPE_CHECKING:
    from .transport import Transport

logger = logging.getLogger("sfu_host.consumer")


class Consumer(TransportEntity):
    """A producer's media as an endpoint receives it.

    Events: ``transportclose``, ``producerclose``, ``producerpause``,
    ``producerresume``, ``score`` (score), ``layerschange`` (layers or
    ``None``), ``trace`` (trace), ``rtp`` (packet bytes, direct transports).
    Observer events: ``close``, ``pause``, ``resume``, ``score``,
    ``layerschange``, ``trace``.
    """

    _prefix = "consumer"
    _id_key = "consumerId"

    def __init__(self, *, internal: Dict[str, Any], kind: str, rtp_parameters: RtpParameters,
                 type: str, transport: Transport, app_data: AppData, paused: bool,
                 producer_paused: bool, score: Optional[Dict[str, Any]] = None,
                 preferred_layers: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(internal=internal, transport=transport, app_data=app_data)
        self._kind = kind
        self._rtp_parameters = rtp_parameters
        self._type = type
        self._paused = paused
        self._producer_paused = producer_paused
        self._priority = 1
        self._score: Dict[str, Any] = score if score is not None else {
            "score": 10, "producerScore": 10, "producerScores": []}
        self._preferred_layers = preferred_layers
        self._current_layers: Optional[Dict[str, Any]] = None
        self._channel.subscribe(self.id, self._on_notification)
        self._payload_channel.subscribe(self.id, self._on_payload_notification)

    def _closed_by_application(self) -> None:
        self._transport._consumer_closed(self)

    @property
    def producer_id(self) -> str:
        """Id of the producer it consumes."""
        return str(self._internal["producerId"])

    @property
    def kind(self) -> str:
        """``audio`` or ``video``."""
        return self._kind

    @property
    def rtp_parameters(self) -> RtpParameters:
        """What the receiving endpoint gets (hand them to it)."""
        return self._rtp_parameters

    @property
    def type(self) -> str:
        """``simple``, ``simulcast``, ``svc`` or ``pipe``."""
        return self._type

    @property
    def paused(self) -> bool:
        """Whether the consumer itself is paused."""
        return self._paused

    @property
    def producer_paused(self) -> bool:
        """Whether its producer is paused."""
        return self._producer_paused

    @property
    def priority(self) -> int:
        """Priority for the bandwidth share (1 to 255)."""
        return self._priority

    @property
    def score(self) -> Dict[str, Any]:
        """``{"score", "producerScore", "producerScores"}``."""
        return self._score

    @property
    def preferred_layers(self) -> Optional[Dict[str, Any]]:
        """Preferred spatial and temporal layers (simulcast and SVC)."""
        return self._preferred_layers

    @property
    def current_layers(self) -> Optional[Dict[str, Any]]:
        """Layers being sent (simulcast and SVC), if any."""
        return self._current_layers

    async def pause(self) -> None:
        """Pauses the consumer."""
        was_paused = self._paused or self._producer_paused
        await self._channel.request("consumer.pause", dict(self._internal))
        self._paused = True
        if not was_paused:
            self._observer.safe_emit("pause")

    async def resume(self) -> None:
        """Resumes the consumer."""
        was_paused = self._paused or self._producer_paused
        await self._channel.request("consumer.resume", dict(self._internal))
        self._paused = False
        if was_paused and not self._producer_paused:
            self._observer.safe_emit("resume")

    async def set_preferred_layers(self, *, spatial_layer: int,
                                   temporal_layer: Optional[int] = None) -> None:
        """Sets the preferred spatial (and temporal) layer."""
        check_int("spatial_layer", spatial_layer, 0)
        req: Dict[str, Any] = {"spatialLayer": spatial_layer}
        if temporal_layer is not None:
            req["temporalLayer"] = check_int("temporal_layer", temporal_layer, 0)
        data = await self._channel.request("consumer.setPreferredLayers", dict(self._internal), req)
        self._preferred_layers = data or None

    async def set_priority(self, priority: int) -> None:
        """Sets the priority (1 to 255)."""
        check_int("priority", priority, 1, 255)
        data = await self._channel.request("consumer.setPriority", dict(self._internal),
                                           {"priority": priority})
        self._priority = int(data["priority"])

    async def unset_priority(self) -> None:
        """Sets the priority back to 1."""
        data = await self._channel.request("consumer.setPriority", dict(self._internal),
                                           {"priority": 1})
        self._priority = int(data["priority"])

    async def request_key_frame(self) -> None:
        """Asks the producer's sender for a key frame."""
        await self._channel.request("consumer.requestKeyFrame", dict(self._internal))

    async def enable_trace_event(self, types: Optional[Sequence[str]] = None) -> None:
        """Enables ``trace`` events of these types (``rtp``, ``keyframe``,
        ``nack``, ``pli``, ``fir``)."""
        await self._channel.request("consumer.enableTraceEvent", dict(self._internal),
                                    {"types": check_types_list(types)})

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "producerclose":
            if self._closed:
                return
            self._closed = True
            self._unsubscribe()
            self._transport._consumer_closed(self)
            self.safe_emit("producerclose")
            self._observer.safe_emit("close")
        elif event == "producerpause":
            if self._producer_paused:
                return
            was_paused = self._paused or self._producer_paused
            self._producer_paused = True
            self.safe_emit("producerpause")
            if not was_paused:
                self._observer.safe_emit("pause")
        elif event == "producerresume":
            if not self._producer_paused:
                return
            was_paused = self._paused or self._producer_paused
            self._producer_paused = False
            self.safe_emit("producerresume")
            if was_paused and not self._paused:
                self._observer.safe_emit("resume")
        elif event == "score":
            self._score = data
            self.safe_emit("score", data)
            self._observer.safe_emit("score", data)
        elif event == "layerschange":
            self._current_layers = data
            self.safe_emit("layerschange", data)
            self._observer.safe_emit("layerschange", data)
        elif event == "trace":
            self.safe_emit("trace", data)
            self._observer.safe_emit("trace", data)
        else:
            logger.error("ignoring unknown event %r", event)

    def _on_payload_notification(self, event: str, data: Any, payload: bytes) -> None:
        if event == "rtp":
            if not self._closed:
                self.safe_emit("rtp", payload)
        else:
            logger.error("ignoring unknown payload event %r", event)

    def __repr__(self) -> str:
        return f"<Consumer {self.id} {self._kind} {'closed' if self._closed else 'open'}>"
