"""A small event emitter for asyncio programs.

Every entity (worker, router, transport, producer ...) is an
:class:`EventEmitter` and has an ``observer`` emitter, as in the mediasoup
Node host. Listeners are plain callables or coroutine functions; a coroutine
returned by a listener is run as a task.

Three ways to listen::

    transport.on("icestatechange", lambda state: print(state))

    @producer.on("score")
    async def on_score(score: list[dict[str, Any]]) -> None:
        ...

    (state,) = await transport.wait_for("dtlsstatechange", timeout=5)

    async with consumer.stream("rtp") as packets:
        async for (packet,) in packets:
            ...
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Awaitable, Callable, Optional, Set, Tuple, TypeVar, overload

Listener = Callable[..., Any]
L = TypeVar("L", bound=Listener)

logger = logging.getLogger("sfu_host.events")


class EventEmitter:
    """Named events with any number of listeners each."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Tuple[Listener, bool]]] = {}
        self._tasks: Set["asyncio.Task[Any]"] = set()

    @overload
    def on(self, event: str) -> Callable[[L], L]: ...

    @overload
    def on(self, event: str, listener: L) -> L: ...

    def on(self, event: str, listener: Optional[L] = None) -> Any:
        """Adds ``listener`` for ``event``; without a listener, returns a
        decorator that adds the decorated function."""
        if listener is None:
            def decorator(fn: L) -> L:
                self._add(event, fn, False)
                return fn
            return decorator
        self._add(event, listener, False)
        return listener

    @overload
    def once(self, event: str) -> Callable[[L], L]: ...

    @overload
    def once(self, event: str, listener: L) -> L: ...

    def once(self, event: str, listener: Optional[L] = None) -> Any:
        """Like :meth:`on`, but the listener is removed after its first call."""
        if listener is None:
            def decorator(fn: L) -> L:
                self._add(event, fn, True)
                return fn
            return decorator
        self._add(event, listener, True)
        return listener

    def off(self, event: str, listener: Listener) -> None:
        """Removes one registration of ``listener`` for ``event`` (no error if
        it is not registered)."""
        entries = self._listeners.get(event)
        if not entries:
            return
        for i, (fn, _) in enumerate(entries):
            if fn == listener:
                del entries[i]
                break
        if not entries:
            del self._listeners[event]

    def remove_all_listeners(self, event: Optional[str] = None) -> None:
        """Removes every listener of ``event``, or of every event."""
        if event is None:
            self._listeners.clear()
        else:
            self._listeners.pop(event, None)

    def listener_count(self, event: str) -> int:
        """Number of listeners registered for ``event``."""
        return len(self._listeners.get(event, ()))

    def emit(self, event: str, *args: Any) -> bool:
        """Calls every listener of ``event`` with ``args``, in registration
        order. An exception raised by a listener propagates (the remaining
        listeners are not called). Returns whether there were listeners."""
        entries = self._listeners.get(event)
        if not entries:
            return False
        for entry in list(entries):
            fn, once = entry
            if once:
                try:
                    entries.remove(entry)
                except ValueError:
                    continue
                if not entries:
                    self._listeners.pop(event, None)
            result = fn(*args)
            if inspect.isawaitable(result):
                self._run(event, result)
        return True

    def safe_emit(self, event: str, *args: Any) -> bool:
        """Like :meth:`emit`, but an exception raised by a listener is logged
        instead of propagated, and the other listeners still run."""
        entries = self._listeners.get(event)
        if not entries:
            return False
        for entry in list(entries):
            fn, once = entry
            if once:
                try:
                    entries.remove(entry)
                except ValueError:
                    continue
                if not entries:
                    self._listeners.pop(event, None)
            try:
                result = fn(*args)
            except Exception:
                logger.exception("listener of event %r raised", event)
                continue
            if inspect.isawaitable(result):
                self._run(event, result)
        return True

    async def wait_for(self, event: str, timeout: Optional[float] = None) -> Tuple[Any, ...]:
        """Waits for the next ``event`` and returns its arguments as a tuple.

        Raises :class:`asyncio.TimeoutError` after ``timeout`` seconds.
        """
        fut: "asyncio.Future[Tuple[Any, ...]]" = asyncio.get_running_loop().create_future()

        def listener(*args: Any) -> None:
            if not fut.done():
                fut.set_result(args)

        self._add(event, listener, True)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.off(event, listener)

    def stream(self, event: str, maxsize: int = 0) -> EventStream:
        """An async iterator over the arguments of every ``event`` from now on.

        Use it as an async context manager so that it stops listening when
        done. With ``maxsize`` > 0, events beyond that many unread ones are
        dropped (and counted in :attr:`EventStream.dropped`).
        """
        return EventStream(self, event, maxsize)

    def _add(self, event: str, listener: Listener, once: bool) -> None:
        if not callable(listener):
            raise TypeError("listener must be callable")
        self._listeners.setdefault(event, []).append((listener, once))

    def _run(self, event: str, awaitable: Awaitable[Any]) -> None:
        async def runner() -> None:
            try:
                await awaitable
            except Exception:
                logger.exception("async listener of event %r raised", event)

        task = asyncio.get_running_loop().create_task(runner())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class EventStream:
    """Queued arguments of one event; see :meth:`EventEmitter.stream`."""

    def __init__(self, emitter: EventEmitter, event: str, maxsize: int = 0) -> None:
        self._emitter = emitter
        self._event = event
        self._queue: "asyncio.Queue[Tuple[Any, ...]]" = asyncio.Queue(maxsize)
        self.dropped = 0
        emitter.on(event, self._push)

    def _push(self, *args: Any) -> None:
        try:
            self._queue.put_nowait(args)
        except asyncio.QueueFull:
            self.dropped += 1

    def close(self) -> None:
        """Stops listening; already queued events can still be read."""
        self._emitter.off(self._event, self._push)

    async def get(self, timeout: Optional[float] = None) -> Tuple[Any, ...]:
        """The next event's arguments (raises :class:`asyncio.TimeoutError`
        after ``timeout`` seconds)."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Tuple[Any, ...]:
        return await self._queue.get()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
