"""Worker: spawning, settings, dump, closing, dying (the host's Worker suite)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

import sfu_host
from sfu_host import InvalidStateError, Worker, WorkerDiedError, create_worker

from conftest import needs_worker

pytestmark = needs_worker


async def test_create_worker_succeeds() -> None:
    new_workers = []
    sfu_host.observer.once("newworker", new_workers.append)
    worker = await create_worker()
    assert isinstance(worker, Worker)
    assert new_workers == [worker]
    assert isinstance(worker.pid, int) and worker.pid > 0
    assert worker.closed is False
    worker.close()
    assert worker.closed is True

    worker = await create_worker(log_level="debug", log_tags=["info"], rtc_min_port=0,
                                 rtc_max_port=9999, app_data={"bar": 456})
    assert worker.app_data == {"bar": 456}
    assert worker.closed is False
    async with worker:
        pass
    assert worker.closed is True
    assert worker.returncode == 0


async def test_create_worker_with_wrong_settings() -> None:
    with pytest.raises(TypeError):
        await create_worker(log_level="chicken")
    with pytest.raises(TypeError):
        await create_worker(rtc_min_port=1000, rtc_max_port=999)
    with pytest.raises(TypeError):
        await create_worker(dtls_certificate_file="/notfound/cert.pem",
                            dtls_private_key_file="/notfound/priv.pem")
    with pytest.raises(TypeError):
        await create_worker(app_data="NOT-AN-OBJECT")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await create_worker(rtc_min_port="1000")  # type: ignore[arg-type]


async def test_create_worker_with_missing_binary() -> None:
    with pytest.raises(OSError):
        await create_worker(worker_bin="/nonexistent/sfu-worker")


async def test_update_settings(worker: Worker) -> None:
    await worker.update_settings(log_level="debug", log_tags=["ice"])
    await worker.update_settings(log_level="none")
    with pytest.raises(TypeError):
        await worker.update_settings(log_level="chicken")
    with pytest.raises(TypeError):
        await worker.update_settings(log_tags="ice")
    worker.close()
    with pytest.raises(InvalidStateError):
        await worker.update_settings(log_level="error")


async def test_dump(worker: Worker) -> None:
    dump = await worker.dump()
    assert dump["pid"] == worker.pid
    assert dump["routerIds"] == []
    router = await worker.create_router()
    dump = await worker.dump()
    assert dump["routerIds"] == [router.id]
    worker.close()
    with pytest.raises(InvalidStateError):
        await worker.dump()


async def test_get_resource_usage(worker: Worker) -> None:
    usage = await worker.get_resource_usage()
    assert isinstance(usage, dict)
    assert "ru_maxrss" in usage


async def test_close(worker: Worker) -> None:
    closes = []
    worker.observer.once("close", lambda: closes.append(True))
    worker.close()
    worker.close()
    assert closes == [True]
    assert worker.closed
    status = await worker.wait_closed(10)
    assert status in (0, -signal.SIGTERM)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
async def test_died_on_signal(worker: Worker, sig: int) -> None:
    closes = []
    worker.observer.once("close", lambda: closes.append(True))
    died = asyncio.ensure_future(worker.wait_for("died", timeout=10))
    await asyncio.sleep(0)
    os.kill(worker.pid, sig)
    (error,) = await died
    assert isinstance(error, WorkerDiedError)
    assert worker.closed
    assert closes == [True]


async def test_ignores_harmless_signals(worker: Worker) -> None:
    died = []
    worker.on("died", died.append)
    for sig in (signal.SIGPIPE, signal.SIGHUP, signal.SIGALRM, signal.SIGUSR1, signal.SIGUSR2):
        os.kill(worker.pid, sig)
    await asyncio.sleep(0.3)
    assert not died
    assert not worker.closed
    await worker.dump()


async def test_valgrind_switch_builds_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    from sfu_host.worker import _build_argv
    monkeypatch.setenv("MEDIASOUP_USE_VALGRIND", "true")
    monkeypatch.setenv("MEDIASOUP_VALGRIND_BIN", "/usr/bin/true")
    monkeypatch.setenv("MEDIASOUP_VALGRIND_OPTIONS", "--leak-check=full  --error-exitcode=99")
    argv = _build_argv("/path/sfu-worker", ["--logLevel=warn"])
    assert argv == ["/usr/bin/true", "--leak-check=full", "--error-exitcode=99",
                    "/path/sfu-worker", "--logLevel=warn"]
    monkeypatch.setenv("MEDIASOUP_USE_VALGRIND", "false")
    assert _build_argv("/w", []) == ["/w"]


def fake_worker(tmp_path: Path, on_term: str) -> str:
    """A script that speaks just enough of the protocol: it says it is
    running (on fd 4) as soon as it starts, and runs ``on_term`` on
    SIGTERM."""
    script = tmp_path / "worker.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"trap '{on_term}' TERM\n"
        "msg='{\"targetId\":\"'$$'\",\"event\":\"running\"}'\n"
        "printf '%d:%s,' ${#msg} \"$msg\" >&4\n"
        "while :; do sleep 0.05; done\n")
    script.chmod(0o755)
    return str(script)


async def test_running_at_once_is_not_missed(tmp_path: Path) -> None:
    """A worker that says "running" the moment it starts is running for
    create_worker() (the notification may come before the library has
    finished setting up its side)."""
    script = fake_worker(tmp_path, "exit 0")
    for _ in range(30):
        worker = await asyncio.wait_for(create_worker(worker_bin=script), 5)
        worker.close()
        assert await worker.wait_closed(5) == 0


async def test_wait_closed_returns_after_the_last_output(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """What a worker writes to stderr as it shuts down (a checker's report,
    say) is logged by the time wait_closed() returns, even when it comes
    after the process itself has exited (here from a child that keeps
    its stderr)."""
    script = fake_worker(tmp_path, "(sleep 0.3; echo last words >&2) & exit 0")
    with caplog.at_level("ERROR", logger="sfu_host.worker"):
        worker = await create_worker(worker_bin=script)
        worker.close()
        assert await worker.wait_closed(10) == 0
        assert any("(stderr) last words" in r.getMessage() for r in caplog.records), \
            caplog.records
