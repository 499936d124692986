"""Robustness: a dying worker, requests without an answer, bad arguments,
the event emitter."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any, List

import pytest

from sfu_host import (EventEmitter, InvalidStateError, RequestTimeoutError, Router, Worker,
                      WorkerDiedError, create_worker)
from sfu_host.channel import NetstringDecoder, NetstringError, ns_encode

from conftest import audio_producer_parameters, needs_worker


@needs_worker
async def test_worker_death_rejects_pending_requests_and_emits_died() -> None:
    worker = await create_worker()
    router = await worker.create_router()
    transport = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    events: List[str] = []
    router.on("workerclose", lambda: events.append("router workerclose"))
    transport.on("routerclose", lambda: events.append("transport routerclose"))
    died: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
    worker.on("died", died.set_result)
    os.kill(worker.pid, signal.SIGSTOP)
    pending = [asyncio.ensure_future(worker.dump()),
               asyncio.ensure_future(router.dump()),
               asyncio.ensure_future(transport.get_stats())]
    await asyncio.sleep(0.1)
    assert not any(p.done() for p in pending)
    os.kill(worker.pid, signal.SIGKILL)
    error = await asyncio.wait_for(died, 5)
    assert isinstance(error, WorkerDiedError)
    assert error.signal == signal.SIGKILL
    for p in pending:
        with pytest.raises(InvalidStateError):
            await p
    assert worker.closed and router.closed and transport.closed
    assert events == ["transport routerclose", "router workerclose"]
    with pytest.raises(InvalidStateError):
        await worker.create_router()


@needs_worker
async def test_request_timeout() -> None:
    worker = await create_worker(request_timeout=0.3)
    try:
        os.kill(worker.pid, signal.SIGSTOP)
        with pytest.raises(RequestTimeoutError):
            await worker.dump()
        with pytest.raises(TimeoutError):
            await worker.get_resource_usage()
        os.kill(worker.pid, signal.SIGCONT)
        assert (await worker.dump())["pid"] == worker.pid
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        worker.close()


@needs_worker
async def test_bad_arguments_send_nothing(worker: Worker, router: Router) -> None:
    """Argument errors are raised before any request: the channel's request
    ids do not move."""
    transport = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    channel = worker._channel
    before = channel._requests._next_id
    bad_calls: List[Any] = [
        lambda: router.create_webrtc_transport(listen_ips=[None]),
        lambda: router.create_plain_transport(listen_ip=""),
        lambda: router.create_pipe_transport(listen_ip="127.0.0.1", enable_rtx="yes"),
        lambda: transport.produce(kind="data", rtp_parameters={}),
        lambda: transport.produce(kind="audio", rtp_parameters={"codecs": "opus"}),
        lambda: transport.consume(producer_id=123, rtp_capabilities={}),
        lambda: transport.consume_data(data_producer_id="x", max_retransmits=-1),
        lambda: transport.set_max_incoming_bitrate(-1),
        lambda: transport.enable_trace_event("bwe"),
        lambda: worker.create_router(media_codecs=[{"mimeType": "video/VP8"}]),
        lambda: router.pipe_to_router(router=router, producer_id="x"),
    ]
    for call in bad_calls:
        with pytest.raises((TypeError, ValueError)):
            await call()
    assert channel._requests._next_id == before
    producer = await transport.produce(**audio_producer_parameters())
    with pytest.raises(TypeError):
        producer.send("not bytes")  # type: ignore[arg-type]


async def test_event_emitter() -> None:
    emitter = EventEmitter()
    calls: List[Any] = []

    @emitter.on("a")
    def first(x: int) -> None:
        calls.append(("first", x))

    emitter.once("a", lambda x: calls.append(("once", x)))

    async def later(x: int) -> None:
        await asyncio.sleep(0)
        calls.append(("async", x))

    emitter.on("a", later)
    assert emitter.listener_count("a") == 3
    assert emitter.emit("a", 1)
    emitter.emit("a", 2)
    await asyncio.sleep(0.01)
    assert calls == [("first", 1), ("once", 1), ("first", 2), ("async", 1), ("async", 2)]
    emitter.off("a", first)
    emitter.off("a", later)
    assert not emitter.emit("a", 3)

    def boom() -> None:
        raise RuntimeError("boom")

    emitter.on("b", boom)
    emitter.on("b", lambda: calls.append("after boom"))
    with pytest.raises(RuntimeError):
        emitter.emit("b")
    assert emitter.safe_emit("b")
    assert calls[-1] == "after boom"

    waiter = asyncio.ensure_future(emitter.wait_for("c", timeout=1))
    await asyncio.sleep(0)
    emitter.emit("c", 1, 2)
    assert await waiter == (1, 2)
    with pytest.raises(asyncio.TimeoutError):
        await emitter.wait_for("c", timeout=0.01)
    async with emitter.stream("d", maxsize=2) as stream:
        for i in range(3):
            emitter.emit("d", i)
        assert await stream.get() == (0,)
        assert stream.dropped == 1
    assert emitter.listener_count("d") == 0
    with pytest.raises(TypeError):
        emitter.on("e", "not callable")  # type: ignore[call-overload]


def test_netstrings() -> None:
    decoder = NetstringDecoder(max_len=100)
    data = ns_encode(b"hello") + ns_encode(b"") + ns_encode(b"x" * 50)
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i:i + 1])
    assert out == [b"hello", b"", b"x" * 50]
    with pytest.raises(NetstringError):
        NetstringDecoder(max_len=100).feed(b"101:")
    with pytest.raises(NetstringError):
        NetstringDecoder().feed(b"abc:")
    with pytest.raises(NetstringError):
        NetstringDecoder().feed(b"3:abc;")


async def test_answers_after_close_are_not_errors(caplog: pytest.LogCaptureFixture) -> None:
    """A closed channel fails its pending requests; the worker's answers to
    them may still arrive (a fire-and-forget close just before
    worker.close()) and are no error. An answer nobody asked for is one."""
    from sfu_host.channel import _RequestTable
    table = _RequestTable(timeout=0)
    pending = table.add(1, "producer.close")
    table.close()
    with pytest.raises(InvalidStateError):
        await pending
    with caplog.at_level("DEBUG", logger="sfu_host"):
        table.answer({"id": 1, "accepted": True})
    assert [r.levelname for r in caplog.records] == ["DEBUG"]
    caplog.clear()
    with caplog.at_level("DEBUG", logger="sfu_host"):
        _RequestTable(timeout=0).answer({"id": 7, "accepted": True})
    assert [r.levelname for r in caplog.records] == ["ERROR"]
