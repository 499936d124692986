"""The worker process and :func:`create_worker`."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import signal
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set

from . import ortc
from .channel import DEFAULT_REQUEST_TIMEOUT, Channel, PayloadChannel
from .errors import InvalidStateError, SfuError, WorkerDiedError
from .events import EventEmitter
from .router import Router
from .types import AppData, RtpCodecCapability, check_app_data

logger = logging.getLogger("sfu_host.worker")

#: The protocol version announced to the worker (env ``MEDIASOUP_VERSION``).
MEDIASOUP_VERSION = "3.8.4"

LOG_LEVELS = ("debug", "warn", "error", "none")
LOG_TAGS = ("info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score",
            "simulcast", "svc", "sctp", "message")

#: Signals whose disposition the child gets back to the default (Python
#: ignores SIGPIPE, which would otherwise survive the exec).
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in (
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM",
        "SIGTERM", "SIGCHLD", "SIGXFSZ", "SIGXCPU", "SIGTSTP", "SIGTTIN", "SIGTTOU")
    if hasattr(signal, name))

#: Every live worker, so that :func:`close_all_workers` can reach them.
_workers: Set["Worker"] = set()

#: Module-level observer: emits ``newworker`` (worker).
observer = EventEmitter()


def default_worker_bin() -> str:
    """The worker binary: env ``SFU_WORKER_BIN``, else ``build/sfu-worker``
    of the repository this package sits in (or of the current directory)."""
    env = os.environ.get("SFU_WORKER_BIN")
    if env:
        return env
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "build" / "sfu-worker"
        if candidate.is_file():
            return str(candidate)
    return str(Path.cwd() / "build" / "sfu-worker")


def _high_dup(fd: int) -> int:
    """A close-on-exec duplicate of ``fd`` numbered above the fds the child
    gets, so that the spawn's dup2 actions cannot overwrite one another."""
    import fcntl
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


class Worker(EventEmitter):
    """A worker process: the owner of routers.

    Created by :func:`create_worker`. Events: ``died`` (error) when the
    process exits on its own. Observer events: ``close``, ``newrouter``
    (router).
    """

    def __init__(self, *, pid: int, channel: Channel, payload_channel: PayloadChannel,
                 app_data: AppData) -> None:
        super().__init__()
        self._pid = pid
        self._channel = channel
        self._payload_channel = payload_channel
        self._app_data = app_data
        self._closed = False
        self._routers: Dict[str, Router] = {}
        self._observer = EventEmitter()
        self._exited: "asyncio.Future[int]" = asyncio.get_running_loop().create_future()
        self._spawn_done = False
        self._started: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        # The tasks logging its stdout and stderr (create_worker sets them).
        self._output: List["asyncio.Task[None]"] = []

    # ----- properties -------------------------------------------------------

    @property
    def pid(self) -> int:
        """Process id of the worker."""
        return self._pid

    @property
    def closed(self) -> bool:
        """Whether the worker is closed."""
        return self._closed

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close`` and ``newrouter`` (router)."""
        return self._observer

    @property
    def routers(self) -> List[Router]:
        """The worker's open routers."""
        return list(self._routers.values())

    @property
    def returncode(self) -> Optional[int]:
        """The process's wait status once it exited (negative: killed by that
        signal), else ``None``."""
        return self._exited.result() if self._exited.done() else None

    # ----- lifecycle --------------------------------------------------------

    def close(self) -> None:
        """Closes the worker: kills the process (SIGTERM), closes the
        channels (failing pending requests) and every router."""
        if self._closed:
            return
        logger.debug("close() [pid:%s]", self._pid)
        self._closed = True
        _workers.discard(self)
        if not self._exited.done():
            try:
                os.kill(self._pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._channel.close()
        self._payload_channel.close()
        for router in list(self._routers.values()):
            router._worker_closed()
        self._routers.clear()
        self._observer.safe_emit("close")

    async def wait_closed(self, timeout: Optional[float] = None) -> int:
        """Waits for the process to exit and for what it wrote to stdout and
        stderr to be read to the end (and logged); returns its status
        (negative: killed by that signal)."""
        async def exited_and_read() -> int:
            status = await asyncio.shield(self._exited)
            if self._output:
                await asyncio.wait(self._output)
            return status
        return await asyncio.wait_for(exited_and_read(), timeout)

    async def __aenter__(self) -> Worker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        try:
            await self.wait_closed(10)
        except asyncio.TimeoutError:
            logger.warning("worker [pid:%s] still running 10 s after SIGTERM; killing it",
                           self._pid)
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _on_running(self, event: str, data: Any) -> None:
        if event == "running" and not self._spawn_done:
            self._spawn_done = True
            self._channel.unsubscribe(str(self._pid))
            if not self._started.done():
                self._started.set_result(None)

    def _on_exit(self, status: int) -> None:
        if self._exited.done():
            return
        self._exited.set_result(status)
        code = status if status >= 0 else None
        sig = -status if status < 0 else None
        if self._closed:
            return
        self.close()
        if not self._spawn_done:
            self._spawn_done = True
            if code == 42:
                logger.error("worker process failed due to wrong settings [pid:%s]", self._pid)
                self._started.set_exception(TypeError("wrong settings"))
            else:
                logger.error("worker process failed [pid:%s, code:%s, signal:%s]",
                             self._pid, code, sig)
                self._started.set_exception(WorkerDiedError(self._pid, code, sig))
        else:
            logger.error("worker process died [pid:%s, code:%s, signal:%s]", self._pid, code, sig)
            self.safe_emit("died", WorkerDiedError(self._pid, code, sig))

    # ----- requests ---------------------------------------------------------

    async def dump(self) -> Dict[str, Any]:
        """The worker's own view of itself (``worker.dump``)."""
        result: Dict[str, Any] = await self._channel.request("worker.dump")
        return result

    async def get_resource_usage(self) -> Dict[str, Any]:
        """Resource usage of the process (``worker.getResourceUsage``)."""
        result: Dict[str, Any] = await self._channel.request("worker.getResourceUsage")
        return result

    async def update_settings(self, *, log_level: Optional[str] = None,
                              log_tags: Optional[Sequence[str]] = None) -> None:
        """Changes the log level and tags of the running worker."""
        if log_level is not None and not isinstance(log_level, str):
            raise TypeError("log_level must be a string")
        if log_tags is not None and (isinstance(log_tags, str) or not all(
                isinstance(t, str) for t in log_tags)):
            raise TypeError("log_tags must be a sequence of strings")
        data: Dict[str, Any] = {}
        if log_level is not None:
            data["logLevel"] = log_level
        if log_tags is not None:
            data["logTags"] = list(log_tags)
        await self._channel.request("worker.updateSettings", None, data)

    async def create_router(self, *, media_codecs: Optional[Sequence[RtpCodecCapability]] = None,
                            app_data: Optional[AppData] = None) -> Router:
        """Creates a router whose RTP capabilities are built from
        ``media_codecs`` (see :func:`sfu_host.ortc.generate_router_rtp_capabilities`)."""
        app_data = check_app_data(app_data)
        if media_codecs is not None and not isinstance(media_codecs, (list, tuple)):
            raise TypeError("media_codecs must be a list")
        if self._closed:
            raise InvalidStateError("Worker closed")
        rtp_capabilities = ortc.generate_router_rtp_capabilities(
            list(media_codecs) if media_codecs is not None else [])
        internal = {"routerId": str(uuid.uuid4())}
        await self._channel.request("worker.createRouter", internal)
        router = Router(internal=internal, rtp_capabilities=rtp_capabilities,
                        channel=self._channel, payload_channel=self._payload_channel,
                        app_data=app_data, on_close=self._router_closed)
        self._routers[router.id] = router
        self._observer.safe_emit("newrouter", router)
        return router

    def _router_closed(self, router: Router) -> None:
        self._routers.pop(router.id, None)


def _build_argv(bin_path: str, args: List[str]) -> List[str]:
    if os.environ.get("MEDIASOUP_USE_VALGRIND") == "true":
        valgrind = os.environ.get("MEDIASOUP_VALGRIND_BIN") or "valgrind"
        resolved = shutil.which(valgrind) or valgrind
        options = shlex.split(os.environ.get("MEDIASOUP_VALGRIND_OPTIONS", ""))
        return [resolved, *options, bin_path, *args]
    return [bin_path, *args]


def _watch_exit(pid: int, loop: asyncio.AbstractEventLoop, on_exit: Any) -> None:
    """Calls ``on_exit(status)`` in ``loop`` once process ``pid`` exits
    (status as :attr:`subprocess.Popen.returncode`)."""

    def reap() -> Optional[int]:
        try:
            wpid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if wpid == 0:
            return None
        return os.waitstatus_to_exitcode(status)

    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            pidfd = pidfd_open(pid)
        except OSError:
            pidfd = -1
        if pidfd >= 0:
            def readable() -> None:
                status = reap()
                if status is None:
                    return
                loop.remove_reader(pidfd)
                os.close(pidfd)
                on_exit(status)
            loop.add_reader(pidfd, readable)
            return

    def waiter() -> None:
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = -1
        loop.call_soon_threadsafe(on_exit, code)

    threading.Thread(target=waiter, name=f"sfu-worker-wait-{pid}", daemon=True).start()


async def _log_lines(reader: asyncio.StreamReader, pid: int, level: int, tag: str) -> None:
    while True:
        line = await reader.readline()
        if not line:
            return
        text = line.decode("utf-8", "replace").rstrip("\n")
        if text:
            logger.log(level, "[pid:%s] (%s) %s", pid, tag, text)


_log_tasks: Set["asyncio.Task[None]"] = set()


async def create_worker(*, log_level: str = "error", log_tags: Optional[Sequence[str]] = None,
                        rtc_min_port: int = 10000, rtc_max_port: int = 59999,
                        dtls_certificate_file: Optional[str] = None,
                        dtls_private_key_file: Optional[str] = None,
                        app_data: Optional[AppData] = None,
                        worker_bin: Optional[str] = None,
                        request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> Worker:
    """Spawns a worker process and waits until it is running.

    The process gets the protocol's fds 3-6 and env ``MEDIASOUP_VERSION``.
    With env ``MEDIASOUP_USE_VALGRIND=true`` it runs under valgrind
    (``MEDIASOUP_VALGRIND_BIN``, ``MEDIASOUP_VALGRIND_OPTIONS``), as with the
    Node host. ``worker_bin`` defaults to :func:`default_worker_bin`.
    ``request_timeout`` (seconds, 0 for none) bounds the wait for each answer.

    Raises :class:`TypeError` for wrong settings (also when the worker
    exits with status 42, its answer to settings it refuses) and
    :class:`WorkerDiedError` when the process exits before it is running.
    """
    app_data = check_app_data(app_data)
    if not isinstance(log_level, str):
        raise TypeError("log_level must be a string")
    if log_tags is not None and (isinstance(log_tags, str) or not all(
            isinstance(t, str) for t in log_tags)):
        raise TypeError("log_tags must be a sequence of strings")
    for name, port in (("rtc_min_port", rtc_min_port), ("rtc_max_port", rtc_max_port)):
        if not isinstance(port, int) or isinstance(port, bool):
            raise TypeError(f"{name} must be an integer")
    for name, path in (("dtls_certificate_file", dtls_certificate_file),
                       ("dtls_private_key_file", dtls_private_key_file)):
        if path is not None and not isinstance(path, str):
            raise TypeError(f"{name} must be a string")
    if not isinstance(request_timeout, (int, float)) or request_timeout < 0:
        raise ValueError("request_timeout must be a number >= 0")

    args: List[str] = []
    if log_level:
        args.append(f"--logLevel={log_level}")
    for tag in log_tags or ():
        if tag:
            args.append(f"--logTag={tag}")
    args.append(f"--rtcMinPort={rtc_min_port}")
    args.append(f"--rtcMaxPort={rtc_max_port}")
    if dtls_certificate_file:
        args.append(f"--dtlsCertificateFile={dtls_certificate_file}")
    if dtls_private_key_file:
        args.append(f"--dtlsPrivateKeyFile={dtls_private_key_file}")

    bin_path = worker_bin or default_worker_bin()
    argv = _build_argv(bin_path, args)
    env = {"MEDIASOUP_VERSION": MEDIASOUP_VERSION}
    env.update(os.environ)
    env["MEDIASOUP_VERSION"] = env.get("MEDIASOUP_VERSION") or MEDIASOUP_VERSION

    loop = asyncio.get_running_loop()
    ours: Dict[int, socket.socket] = {}
    theirs: Dict[int, int] = {}
    pipes: List[int] = []
    try:
        for fd in (3, 4, 5, 6):
            mine, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            ours[fd] = mine
            theirs[fd] = _high_dup(child.fileno())
            child.close()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pipes = [out_r, err_r]
        out_hi, err_hi = _high_dup(out_w), _high_dup(err_w)
        os.close(out_w)
        os.close(err_w)
        theirs[1], theirs[2] = out_hi, err_hi
        actions: List[Any] = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)]
        for fd in (1, 2, 3, 4, 5, 6):
            actions.append((os.POSIX_SPAWN_DUP2, theirs[fd], fd))
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigmask=(),
                             setsigdef=_DEFAULT_SIGNALS)
    except BaseException:
        for sock in ours.values():
            sock.close()
        for fd in pipes:
            os.close(fd)
        raise
    finally:
        for fd in theirs.values():
            os.close(fd)

    logger.debug("spawned worker [pid:%s]: %s", pid, " ".join(argv))

    async def stream_pair(read_sock: socket.socket, write_sock: socket.socket) -> Any:
        reader, _ = await asyncio.open_unix_connection(sock=read_sock)
        _, writer = await asyncio.open_unix_connection(sock=write_sock)
        return reader, writer

    ch_reader, ch_writer = await stream_pair(ours[4], ours[3])
    pch_reader, pch_writer = await stream_pair(ours[6], ours[5])
    channel = Channel(ch_reader, ch_writer, pid, request_timeout)
    payload_channel = PayloadChannel(pch_reader, pch_writer, request_timeout)
    worker = Worker(pid=pid, channel=channel, payload_channel=payload_channel, app_data=app_data)
    # Before the next await: the channel's reader may deliver "running" as
    # soon as the loop runs.
    channel.subscribe(str(pid), worker._on_running)

    output: List["asyncio.Task[None]"] = []
    for fd, level, tag in ((pipes[0], logging.DEBUG, "stdout"), (pipes[1], logging.ERROR, "stderr")):
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda r=reader: asyncio.StreamReaderProtocol(r),  # type: ignore[misc]
                                     os.fdopen(fd, "rb", buffering=0))
        task = loop.create_task(_log_lines(reader, pid, level, tag))
        _log_tasks.add(task)
        task.add_done_callback(_log_tasks.discard)
        output.append(task)

    worker._output = output
    _watch_exit(pid, loop, worker._on_exit)
    try:
        await worker._started
    except BaseException:
        worker.close()
        raise
    _workers.add(worker)
    observer.safe_emit("newworker", worker)
    return worker


def close_all_workers() -> None:
    """Closes every worker still open (for instance at shutdown)."""
    for worker in list(_workers):
        worker.close()


__all__ = ["Worker", "create_worker", "close_all_workers", "default_worker_bin",
           "observer", "MEDIASOUP_VERSION", "SfuError"]
