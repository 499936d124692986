"""What producers, consumers, data producers and data consumers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

from .channel import Channel, PayloadChannel
from .events import EventEmitter
from .types import AppData

if TYPE_CHECKING:
    from .transport import Transport


class TransportEntity(EventEmitter):
    """An entity of a transport: its ids, channels, application data and
    observer, and how it closes (by the application, or with its transport).

    Subclasses name their requests' prefix (``producer``, ``consumer``,
    ``dataProducer``, ``dataConsumer``) and the id key of their internal
    data, and tell their transport when the application closes them.
    """

    _prefix = ""
    _id_key = ""

    def __init__(self, *, internal: Dict[str, Any], transport: Transport,
                 app_data: AppData) -> None:
        super().__init__()
        self._internal = internal
        self._transport = transport
        self._channel: Channel = transport._channel
        self._payload_channel: PayloadChannel = transport._payload_channel
        self._app_data = app_data
        self._closed = False
        self._observer = EventEmitter()

    @property
    def id(self) -> str:
        """Its id."""
        return str(self._internal[self._id_key])

    @property
    def closed(self) -> bool:
        """Whether it is closed."""
        return self._closed

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close`` and the observer events its class lists."""
        return self._observer

    def close(self) -> None:
        """Closes it in the worker and on its transport."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        self._transport.router._fire_and_forget(f"{self._prefix}.close", dict(self._internal))
        self._closed_by_application()
        self._observer.safe_emit("close")

    def _closed_by_application(self) -> None:
        """Tells the transport that close() closed it."""
        raise NotImplementedError

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
        """The worker's view of it (``<prefix>.dump``)."""
        result: Dict[str, Any] = await self._channel.request(f"{self._prefix}.dump",
                                                             dict(self._internal))
        return result

    async def get_stats(self) -> List[Dict[str, Any]]:
        """Its statistics (``<prefix>.getStats``)."""
        result: List[Dict[str, Any]] = await self._channel.request(f"{self._prefix}.getStats",
                                                                   dict(self._internal))
        return result
