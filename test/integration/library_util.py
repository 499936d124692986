"""Integration tests on the project's control library (python/sfu_host)
instead of raw channel requests, for scenarios that only need the host's
object model.

library_worker() spawns the worker under test (harness.worker_bin(): this
checkout's build or SFU_WORKER_BIN) through the library and checks it the
way harness.WorkerProcess does: the worker's stderr is kept, and a
sanitizer report in it (or, under valgrind, a valgrind error or leak) is
added to harness.CHECKER_REPORTS when it exits, which fails the test in
run_tests.py. With MEDIASOUP_USE_VALGRIND=true the library runs the worker
under valgrind, with harness.DEFAULT_VALGRIND_OPTIONS unless
MEDIASOUP_VALGRIND_OPTIONS says otherwise.

run_async() runs a test's coroutine in a fresh event loop, bounded in time.
"""

import asyncio
import contextlib
import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

sys.path.insert(0, os.path.join(harness.REPO_ROOT, "python"))

import sfu_host  # noqa: E402


class _StderrLines(logging.Handler):
    """Collects the stderr lines of one worker, which the library logs as
    "[pid:%s] (%s) %s" with (pid, "stderr", line)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.pid = None
        self.lines = []

    def emit(self, record):
        args = record.args
        if (isinstance(args, tuple) and len(args) == 3 and args[1] == "stderr" and
                (self.pid is None or args[0] == self.pid)):
            self.lines.append(str(args[2]))


def timeout_scale():
    scale = harness.timeout_scale()
    return scale * (harness.VALGRIND_TIMEOUT_SCALE if harness.valgrind_enabled_by_env() else 1.0)


@contextlib.asynccontextmanager
async def library_worker(**settings):
    """An sfu_host.Worker of the worker under test (create_worker()
    settings as keywords), closed and checked on the way out."""
    valgrind = harness.valgrind_enabled_by_env()
    if valgrind and not os.environ.get("MEDIASOUP_VALGRIND_OPTIONS"):
        os.environ["MEDIASOUP_VALGRIND_OPTIONS"] = harness.DEFAULT_VALGRIND_OPTIONS
    stderr = _StderrLines()
    worker_logger = logging.getLogger("sfu_host.worker")
    worker_logger.addHandler(stderr)
    # The lines go to the checker, not to the console.
    propagate, worker_logger.propagate = worker_logger.propagate, False
    settings.setdefault("request_timeout", 15 * timeout_scale())
    worker = None
    try:
        worker = await sfu_host.create_worker(worker_bin=harness.worker_bin(), **settings)
        stderr.pid = worker.pid
        yield worker
    finally:
        if worker is not None:
            # Returns once the worker's stderr is read to its end.
            status = await _close(worker)
            report = harness.checker_report("\n".join(stderr.lines), valgrind)
            if report:
                harness.CHECKER_REPORTS.append("worker (library, pid %d, exit %s):\n%s"
                                               % (worker.pid, status, report))
        worker_logger.removeHandler(stderr)
        worker_logger.propagate = propagate


async def _close(worker):
    """Closes the worker as the host does (SIGTERM: it shuts down cleanly,
    so that valgrind and LeakSanitizer report); SIGKILL if it hangs."""
    worker.close()
    try:
        return await worker.wait_closed(10 * timeout_scale())
    except asyncio.TimeoutError:
        os.kill(worker.pid, 9)
        return await worker.wait_closed(10)


def run_async(coroutine, timeout):
    """Runs `coroutine` to its end in a new event loop; fails after
    `timeout` seconds (scaled as the harness scales its waits)."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout * timeout_scale()))
