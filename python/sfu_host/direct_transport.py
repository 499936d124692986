"""Direct transports: media and data exchanged with this program."""

from __future__ import annotations

from typing import Any, Union

from .errors import UnsupportedError
from .transport import Transport


class DirectTransport(Transport):
    """A transport whose remote side is this program: producers get RTP
    through :meth:`Producer.send`, consumers emit ``rtp``, data producers
    get messages through :meth:`DataProducer.send` and data consumers emit
    ``message``.

    Events: ``rtcp`` (packet bytes), ``trace`` (trace; also on the
    observer).
    """

    _direct_data = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._payload_channel.subscribe(self.id, self._on_payload_notification)

    async def connect(self, **_: Any) -> None:
        """Nothing to do: a direct transport has no remote side."""

    async def set_max_incoming_bitrate(self, bitrate: int) -> None:
        """Not available on a direct transport (:class:`UnsupportedError`)."""
        raise UnsupportedError("set_max_incoming_bitrate() not implemented in DirectTransport")

    async def set_max_outgoing_bitrate(self, bitrate: int) -> None:
        """Not available on a direct transport (:class:`UnsupportedError`)."""
        raise UnsupportedError("set_max_outgoing_bitrate() not implemented in DirectTransport")

    def send_rtcp(self, packet: Union[bytes, bytearray, memoryview]) -> None:
        """Sends an RTCP packet into the router, as if the remote side had."""
        if not isinstance(packet, (bytes, bytearray, memoryview)):
            raise TypeError("packet must be bytes")
        self._check_open()
        self._payload_channel.notify("transport.sendRtcp", dict(self._internal), None,
                                     bytes(packet))

    def _on_payload_notification(self, event: str, data: Any, payload: bytes) -> None:
        if event == "rtcp":
            if not self._closed:
                self.safe_emit("rtcp", payload)
