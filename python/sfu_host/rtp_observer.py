"""Base of the RTP observers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict

from .channel import Channel, PayloadChannel
from .events import EventEmitter
from .types import AppData

if TYPE_CHECKING:
    from .router import Router

logger = logging.getLogger("sfu_host.rtp_observer")


class RtpObserver(EventEmitter):
    """Watches the RTP of some producers of a router.

    Events: ``routerclose``. Observer events: ``close``, ``pause``,
    ``resume``, ``addproducer`` (producer), ``removeproducer`` (producer).
    """

    def __init__(self, *, internal: Dict[str, Any], router: Router, app_data: AppData) -> None:
        super().__init__()
        self._internal = internal
        self._router = router
        self._channel: Channel = router._channel
        self._payload_channel: PayloadChannel = router._payload_channel
        self._app_data = app_data
        self._closed = False
        self._paused = False
        self._observer = EventEmitter()
        self._channel.subscribe(self.id, self._on_notification)

    @property
    def id(self) -> str:
        """RTP observer id."""
        return str(self._internal["rtpObserverId"])

    @property
    def closed(self) -> bool:
        """Whether the observer is closed."""
        return self._closed

    @property
    def paused(self) -> bool:
        """Whether the observer is paused."""
        return self._paused

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close``, ``pause``, ``resume``, ``addproducer`` and
        ``removeproducer``."""
        return self._observer

    def close(self) -> None:
        """Closes the observer."""
        if self._closed:
            return
        self._closed = True
        self._channel.unsubscribe(self.id)
        self._router._fire_and_forget("rtpObserver.close", dict(self._internal))
        self._router._rtp_observer_closed(self)
        self._observer.safe_emit("close")

    def _router_closed(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._channel.unsubscribe(self.id)
        self.safe_emit("routerclose")
        self._observer.safe_emit("close")

    async def pause(self) -> None:
        """Pauses the observer."""
        was_paused = self._paused
        await self._channel.request("rtpObserver.pause", dict(self._internal))
        self._paused = True
        if not was_paused:
            self._observer.safe_emit("pause")

    async def resume(self) -> None:
        """Resumes the observer."""
        was_paused = self._paused
        await self._channel.request("rtpObserver.resume", dict(self._internal))
        self._paused = False
        if was_paused:
            self._observer.safe_emit("resume")

    async def add_producer(self, *, producer_id: str) -> None:
        """Starts watching a producer of the router."""
        if not isinstance(producer_id, str) or not producer_id:
            raise TypeError("missing producer_id")
        producer = self._router.get_producer(producer_id)
        await self._channel.request("rtpObserver.addProducer", dict(self._internal),
                                    {"producerId": producer_id})
        self._observer.safe_emit("addproducer", producer)

    async def remove_producer(self, *, producer_id: str) -> None:
        """Stops watching a producer."""
        if not isinstance(producer_id, str) or not producer_id:
            raise TypeError("missing producer_id")
        producer = self._router.get_producer(producer_id)
        await self._channel.request("rtpObserver.removeProducer", dict(self._internal),
                                    {"producerId": producer_id})
        self._observer.safe_emit("removeproducer", producer)

    def _on_notification(self, event: str, data: Any) -> None:
        logger.error("ignoring unknown event %r", event)
