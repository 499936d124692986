"""Data producers: data channel messages sent into a router."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from .entity import TransportEntity
from .types import AppData, SctpStreamParameters, check_int

if TYPE_CHECKING:
    from .transport import Transport

#: SCTP payload protocol identifiers of WebRTC data channels (RFC 8831).
PPID_STRING = 51
PPID_BINARY = 53
PPID_STRING_EMPTY = 56
PPID_BINARY_EMPTY = 57

Message = Union[str, bytes, bytearray, memoryview]


def message_payload(message: Message, ppid: Optional[int]) -> Tuple[bytes, int]:
    """The payload bytes and PPID to send for ``message``: strings are 51
    (56 when empty), bytes 53 (57 when empty); an empty message goes as one
    byte, as WebRTC does."""
    if isinstance(message, str):
        raw = message.encode("utf-8")
        default = PPID_STRING if raw else PPID_STRING_EMPTY
    elif isinstance(message, (bytes, bytearray, memoryview)):
        raw = bytes(message)
        default = PPID_BINARY if raw else PPID_BINARY_EMPTY
    else:
        raise TypeError("message must be str or bytes")
    if ppid is None:
        ppid = default
    else:
        check_int("ppid", ppid, 0, 4294967295)
    if ppid == PPID_STRING_EMPTY:
        raw = b" "
    elif ppid == PPID_BINARY_EMPTY:
        raw = b"\x00"
    return raw, ppid


class DataChannelEnd(TransportEntity):
    """What a data producer and a data consumer both describe: the data
    channel's type, SCTP stream parameters, label and protocol, as the
    worker answered them."""

    _data: Dict[str, Any]

    @property
    def type(self) -> str:
        """``sctp`` or ``direct``."""
        return str(self._data.get("type"))

    @property
    def sctp_stream_parameters(self) -> Optional[SctpStreamParameters]:
        """SCTP stream parameters (``sctp`` type only)."""
        result: Optional[SctpStreamParameters] = self._data.get("sctpStreamParameters")
        return result

    @property
    def label(self) -> str:
        """Data channel label."""
        return str(self._data.get("label", ""))

    @property
    def protocol(self) -> str:
        """Data channel sub-protocol."""
        return str(self._data.get("protocol", ""))


class DataProducer(DataChannelEnd):
    """Messages an endpoint sends to the router on one data channel.

    Events: ``transportclose``. Observer events: ``close``.
    """

    _prefix = "dataProducer"
    _id_key = "dataProducerId"

    def __init__(self, *, internal: Dict[str, Any], data: Dict[str, Any], transport: Transport,
                 app_data: AppData) -> None:
        super().__init__(internal=internal, transport=transport, app_data=app_data)
        self._data = data

    def _closed_by_application(self) -> None:
        self._transport._data_producer_closed(self)

    def send(self, message: Message, ppid: Optional[int] = None) -> None:
        """Sends a message into the router (direct transports only)."""
        raw, ppid = message_payload(message, ppid)
        self._payload_channel.notify("dataProducer.send", dict(self._internal), {"ppid": ppid},
                                     raw)

    def __repr__(self) -> str:
        return f"<DataProducer {self.id} {'closed' if self._closed else 'open'}>"
