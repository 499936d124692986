"""The two message channels to the worker process.

:class:`Channel` carries JSON requests (fd 3) and JSON responses,
notifications and log lines (fd 4). :class:`PayloadChannel` carries a JSON
message followed by a binary payload, both ways (fds 5 and 6). Every message
is a netstring: ``<decimal length>:<bytes>,``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable, Dict, List, Optional, Union

from .errors import InvalidStateError, RequestError, RequestTimeoutError, RequestTypeError

logger = logging.getLogger("sfu_host.channel")
worker_logger = logging.getLogger("sfu_host.worker")

#: Largest payload either side may send in one netstring.
MAX_PAYLOAD_LEN = 4194304
#: Largest netstring (length prefix, colon and comma included).
MAX_MESSAGE_LEN = 4194313

#: Default time a request may wait for its answer, in seconds (the host's
#: 15 s; each pending request adds :data:`TIMEOUT_PER_PENDING`).
DEFAULT_REQUEST_TIMEOUT = 15.0
TIMEOUT_PER_PENDING = 0.1

NotificationHandler = Callable[[str, Any], None]
PayloadNotificationHandler = Callable[[str, Any, bytes], None]


class NetstringError(ValueError):
    """Malformed netstring data."""


def ns_encode(payload: bytes) -> bytes:
    """One netstring holding ``payload``."""
    return b"%d:%s," % (len(payload), payload)


class NetstringDecoder:
    """Incremental decoder: :meth:`feed` takes any chunk and returns the
    complete payloads in it; an incomplete tail stays buffered."""

    def __init__(self, max_len: int = MAX_PAYLOAD_LEN) -> None:
        self._max_len = max_len
        self._max_digits = len(str(max_len))
        self._buf = bytearray()

    def feed(self, data: bytes) -> List[bytes]:
        """Adds ``data``; returns the payloads completed by it. Raises
        :class:`NetstringError` (and drops what is buffered) on bad data."""
        self._buf += data
        out: List[bytes] = []
        pos = 0
        buf = self._buf
        try:
            while pos < len(buf):
                colon = buf.find(b":", pos, pos + self._max_digits + 1)
                if colon < 0:
                    head = bytes(buf[pos:pos + self._max_digits + 1])
                    if len(head) > self._max_digits or not head.isdigit():
                        raise NetstringError(f"bad length prefix {head[:20]!r}")
                    break
                digits = bytes(buf[pos:colon])
                if not digits.isdigit():
                    raise NetstringError(f"bad length prefix {digits[:20]!r}")
                length = int(digits)
                if length > self._max_len:
                    raise NetstringError(f"netstring too long ({length} bytes)")
                end = colon + 1 + length
                if end >= len(buf):
                    break
                if buf[end] != ord(","):
                    raise NetstringError("netstring without its trailing comma")
                out.append(bytes(buf[colon + 1:end]))
                pos = end + 1
        except NetstringError:
            self._buf = bytearray()
            raise
        del buf[:pos]
        return out


class _Sent:
    __slots__ = ("method", "future", "timer")

    def __init__(self, method: str, future: "asyncio.Future[Any]",
                 timer: Optional[asyncio.TimerHandle]) -> None:
        self.method = method
        self.future = future
        self.timer = timer


class _RequestTable:
    """Pending requests by id, with their timeouts."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._next_id = 0
        self._sents: Dict[int, _Sent] = {}
        self._closed = False

    def next_id(self) -> int:
        self._next_id = self._next_id + 1 if self._next_id < 4294967295 else 1
        return self._next_id

    def add(self, request_id: int, method: str) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[Any]" = loop.create_future()
        timer: Optional[asyncio.TimerHandle] = None
        if self.timeout > 0:
            timeout = self.timeout + TIMEOUT_PER_PENDING * len(self._sents)
            timer = loop.call_later(timeout, self._expire, request_id, timeout)
        self._sents[request_id] = _Sent(method, fut, timer)
        return fut

    def discard(self, request_id: int) -> None:
        sent = self._sents.pop(request_id, None)
        if sent is not None and sent.timer is not None:
            sent.timer.cancel()

    def _expire(self, request_id: int, timeout: float) -> None:
        sent = self._sents.pop(request_id, None)
        if sent is not None and not sent.future.done():
            sent.future.set_exception(RequestTimeoutError(sent.method, timeout))

    def answer(self, msg: Dict[str, Any]) -> None:
        request_id = msg.get("id")
        sent = self._sents.pop(request_id, None) if isinstance(request_id, int) else None
        if sent is None:
            # Once closed, answers to the requests it failed may still come.
            log = logger.debug if self._closed else logger.error
            log("response matches no pending request [id:%s]", request_id)
            return
        if sent.timer is not None:
            sent.timer.cancel()
        if sent.future.done():
            return
        if msg.get("accepted"):
            sent.future.set_result(msg.get("data"))
        elif msg.get("error"):
            reason = str(msg.get("reason", ""))
            logger.warning("request failed [method:%s, id:%s]: %s", sent.method, request_id, reason)
            if msg["error"] == "TypeError":
                sent.future.set_exception(RequestTypeError(sent.method, reason))
            else:
                sent.future.set_exception(RequestError(sent.method, reason))
        else:
            logger.error("response neither accepted nor rejected [method:%s, id:%s]",
                         sent.method, request_id)
            sent.future.set_exception(RequestError(sent.method, "malformed response"))

    def close(self) -> None:
        self._closed = True
        sents = list(self._sents.values())
        self._sents.clear()
        for sent in sents:
            if sent.timer is not None:
                sent.timer.cancel()
            if not sent.future.done():
                sent.future.set_exception(InvalidStateError("Channel closed"))

    def __len__(self) -> int:
        return len(self._sents)


class _BaseChannel:
    """A writer stream (to the worker) and a reader stream (from it)."""

    _name = "Channel"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout: float) -> None:
        self._reader = reader
        self._writer = writer
        self._closed = False
        self._requests = _RequestTable(timeout)
        self._eof: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def pending(self) -> int:
        """Number of requests waiting for an answer."""
        return len(self._requests)

    def close(self) -> None:
        """Fails every pending request with :class:`InvalidStateError` and
        stops writing; the reader keeps draining what the worker still sends
        until it closes its end."""
        if self._closed:
            return
        self._closed = True
        self._requests.close()
        try:
            self._writer.close()
        except Exception:  # pragma: no cover - transport already gone
            pass

    async def wait_eof(self) -> None:
        """Waits until the worker's end is closed."""
        await asyncio.shield(self._eof)

    def _write(self, *parts: bytes) -> None:
        if self._closed:
            raise InvalidStateError(f"{self._name} closed")
        for part in parts:
            if len(part) > MAX_MESSAGE_LEN:
                raise ValueError(f"{self._name} message too big ({len(part)} bytes)")
        try:
            self._writer.write(b"".join(parts))
        except (ConnectionError, RuntimeError) as error:
            raise InvalidStateError(f"{self._name} closed: {error}") from error

    async def _read_loop(self) -> None:
        decoder = NetstringDecoder()
        try:
            while True:
                chunk = await self._reader.read(262144)
                if not chunk:
                    break
                try:
                    payloads = decoder.feed(chunk)
                except NetstringError as error:
                    logger.error("%s: invalid netstring data from the worker: %s",
                                 self._name, error)
                    continue
                for payload in payloads:
                    try:
                        self._on_payload(payload)
                    except Exception:
                        logger.exception("%s: error processing a message", self._name)
        except (ConnectionError, OSError):
            pass
        finally:
            if not self._eof.done():
                self._eof.set_result(None)

    def _on_payload(self, payload: bytes) -> None:
        raise NotImplementedError

    def _send(self, method: str, parts: List[bytes], request_id: int) -> "asyncio.Future[Any]":
        """Writes a request now; returns the future of its answer."""
        self._write(*parts)
        return self._requests.add(request_id, method)

    async def _request(self, method: str, parts: List[bytes], request_id: int) -> Any:
        fut = self._send(method, parts, request_id)
        try:
            return await fut
        finally:
            self._requests.discard(request_id)


class Channel(_BaseChannel):
    """JSON requests and notifications (fds 3 and 4).

    Notifications are delivered to the handler subscribed for their
    ``targetId`` one loop iteration after they are read, so that a response
    read just before is seen first by whoever awaits it.
    """

    _name = "Channel"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 pid: int, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        super().__init__(reader, writer, timeout)
        self._pid = pid
        self._handlers: Dict[str, NotificationHandler] = {}

    def subscribe(self, target_id: str, handler: NotificationHandler) -> None:
        """Routes notifications for ``target_id`` to ``handler(event, data)``."""
        self._handlers[target_id] = handler

    def unsubscribe(self, target_id: str) -> None:
        """Stops routing notifications for ``target_id``."""
        self._handlers.pop(target_id, None)

    def _encode(self, method: str, internal: Optional[Dict[str, Any]],
                data: Optional[Dict[str, Any]]) -> "tuple[int, List[bytes]]":
        request_id = self._requests.next_id()
        if self._closed:
            raise InvalidStateError("Channel closed")
        msg: Dict[str, Any] = {"id": request_id, "method": method}
        if internal is not None:
            msg["internal"] = internal
        if data is not None:
            msg["data"] = data
        body = json.dumps(msg, separators=(",", ":")).encode()
        logger.debug("request [method:%s, id:%s]", method, request_id)
        return request_id, [ns_encode(body)]

    async def request(self, method: str, internal: Optional[Dict[str, Any]] = None,
                      data: Optional[Dict[str, Any]] = None) -> Any:
        """Sends a request; returns the answer's ``data``. Raises
        :class:`RequestError` (or :class:`RequestTypeError`) when the worker
        rejects it, :class:`RequestTimeoutError` when no answer comes in time
        and :class:`InvalidStateError` when the channel is or gets closed."""
        request_id, parts = self._encode(method, internal, data)
        return await self._request(method, parts, request_id)

    def request_nowait(self, method: str, internal: Optional[Dict[str, Any]] = None,
                       data: Optional[Dict[str, Any]] = None) -> "asyncio.Future[Any]":
        """Sends a request right away and returns the future of its answer
        (what :meth:`request` awaits), for requests whose order with later
        ones matters but whose answer nobody waits for."""
        request_id, parts = self._encode(method, internal, data)
        return self._send(method, parts, request_id)

    def _on_payload(self, payload: bytes) -> None:
        if not payload:
            return
        first = payload[:1]
        if first == b"{":
            self._on_message(json.loads(payload))
        elif first == b"D":
            worker_logger.debug("[pid:%s] %s", self._pid, payload[1:].decode("utf-8", "replace"))
        elif first == b"W":
            worker_logger.warning("[pid:%s] %s", self._pid, payload[1:].decode("utf-8", "replace"))
        elif first == b"E":
            worker_logger.error("[pid:%s] %s", self._pid, payload[1:].decode("utf-8", "replace"))
        elif first == b"X":
            worker_logger.info("[pid:%s] %s", self._pid, payload[1:].decode("utf-8", "replace"))
        else:
            worker_logger.warning("[pid:%s] unexpected data: %r", self._pid, payload[:80])

    def _on_message(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            logger.error("message from the worker is not an object")
        elif msg.get("id"):
            self._requests.answer(msg)
        elif msg.get("targetId") and msg.get("event"):
            asyncio.get_running_loop().call_soon(
                self._deliver, str(msg["targetId"]), str(msg["event"]), msg.get("data"))
        else:
            logger.error("message from the worker is neither a response nor a notification")

    def _deliver(self, target_id: str, event: str, data: Any) -> None:
        handler = self._handlers.get(target_id)
        if handler is None:
            return
        try:
            handler(event, data)
        except Exception:
            logger.exception("handler of %s for event %r raised", target_id, event)


class PayloadChannel(_BaseChannel):
    """JSON + binary payload messages (fds 5 and 6)."""

    _name = "PayloadChannel"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        super().__init__(reader, writer, timeout)
        self._handlers: Dict[str, PayloadNotificationHandler] = {}
        self._ongoing: Optional[Dict[str, Any]] = None

    def subscribe(self, target_id: str, handler: PayloadNotificationHandler) -> None:
        """Routes notifications for ``target_id`` to
        ``handler(event, data, payload)``."""
        self._handlers[target_id] = handler

    def unsubscribe(self, target_id: str) -> None:
        """Stops routing notifications for ``target_id``."""
        self._handlers.pop(target_id, None)

    def notify(self, event: str, internal: Dict[str, Any], data: Optional[Dict[str, Any]],
               payload: Union[bytes, str]) -> None:
        """Sends a notification and its payload (no answer)."""
        msg: Dict[str, Any] = {"event": event, "internal": internal}
        if data is not None:
            msg["data"] = data
        body = json.dumps(msg, separators=(",", ":")).encode()
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        self._write(ns_encode(body), ns_encode(raw))

    async def request(self, method: str, internal: Dict[str, Any], data: Optional[Dict[str, Any]],
                      payload: Union[bytes, str]) -> Any:
        """Sends a request with a payload; returns the answer's ``data``."""
        request_id = self._requests.next_id()
        if self._closed:
            raise InvalidStateError("PayloadChannel closed")
        msg: Dict[str, Any] = {"id": request_id, "method": method, "internal": internal}
        if data is not None:
            msg["data"] = data
        body = json.dumps(msg, separators=(",", ":")).encode()
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        return await self._request(method, [ns_encode(body), ns_encode(raw)], request_id)

    def _on_payload(self, payload: bytes) -> None:
        if self._ongoing is not None:
            note, self._ongoing = self._ongoing, None
            handler = self._handlers.get(str(note["targetId"]))
            if handler is not None:
                try:
                    handler(str(note["event"]), note.get("data"), payload)
                except Exception:
                    logger.exception("payload handler raised")
            return
        try:
            msg = json.loads(payload)
        except ValueError as error:
            logger.error("PayloadChannel: invalid JSON from the worker: %s", error)
            return
        if not isinstance(msg, dict):
            logger.error("PayloadChannel: message from the worker is not an object")
        elif msg.get("id"):
            self._requests.answer(msg)
        elif msg.get("targetId") and msg.get("event"):
            self._ongoing = msg
        else:
            logger.error("PayloadChannel: message is neither a response nor a notification")
