"""Exceptions raised by the library.

Every exception the library defines derives from :class:`SfuError`. Errors in
the caller's arguments are reported with the built-in :class:`TypeError`
(wrong type or missing value) and :class:`ValueError` (a value of the right
type that is not acceptable) before anything is sent to the worker.
"""

from __future__ import annotations


class SfuError(Exception):
    """Base class of the library's own exceptions."""


class UnsupportedError(SfuError):
    """Something is not supported (a codec, a method on this transport type)."""


class InvalidStateError(SfuError):
    """A method was called in a state that does not allow it (closed channel,
    closed entity)."""


class RequestError(SfuError):
    """The worker rejected a request.

    :attr:`method` is the request's method, :attr:`reason` the worker's text.
    """

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(reason)
        self.method = method
        self.reason = reason


class RequestTypeError(RequestError, TypeError):
    """The worker rejected a request because of its arguments (the worker
    answered with a ``TypeError``)."""


class RequestTimeoutError(SfuError, TimeoutError):
    """A request got no answer in time."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(f"request timeout [method:{method}, timeout:{timeout:g}s]")
        self.method = method
        self.timeout = timeout


class WorkerDiedError(SfuError):
    """The worker process exited on its own.

    :attr:`returncode` is its exit status (``None`` if killed by a signal)
    and :attr:`signal` the signal number that killed it, if any.
    """

    def __init__(self, pid: int, returncode: int | None, signal: int | None) -> None:
        super().__init__(f"[pid:{pid}, code:{returncode}, signal:{signal}]")
        self.pid = pid
        self.returncode = returncode
        self.signal = signal
