"""Router (the host's Router suite) and RTP observers."""

from __future__ import annotations

from typing import List

import pytest

from sfu_host import (AudioLevelObserver, InvalidStateError, Router, RtpObserver,
                      UnsupportedError, Worker)

from conftest import media_codecs, needs_worker

pytestmark = needs_worker


async def test_create_router_succeeds(worker: Worker) -> None:
    new_routers = []
    worker.observer.once("newrouter", new_routers.append)
    router = await worker.create_router(media_codecs=media_codecs(), app_data={"foo": 123})
    assert new_routers == [router]
    assert isinstance(router, Router)
    assert isinstance(router.id, str)
    assert router.closed is False
    assert router.app_data == {"foo": 123}
    caps = router.rtp_capabilities
    assert [c["mimeType"] for c in caps["codecs"]] == [
        "audio/opus", "video/VP8", "video/rtx", "video/H264", "video/rtx"]
    assert caps["headerExtensions"]
    assert (await worker.dump())["routerIds"] == [router.id]
    dump = await router.dump()
    assert dump["id"] == router.id
    assert dump["transportIds"] == []
    assert dump["rtpObserverIds"] == []
    assert dump["mapProducerIdConsumerIds"] == {}
    assert dump["mapConsumerIdProducerId"] == {}
    assert dump["mapProducerIdObserverIds"] == {}
    assert dump["mapDataProducerIdDataConsumerIds"] == {}
    assert dump["mapDataConsumerIdDataProducerId"] == {}
    assert worker.routers == [router]


async def test_create_router_with_wrong_arguments(worker: Worker) -> None:
    with pytest.raises(TypeError):
        await worker.create_router(media_codecs={})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await worker.create_router(app_data="NOT-AN-OBJECT")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError):
        await worker.create_router(media_codecs=[
            {"kind": "audio", "mimeType": "audio/chicken", "clockRate": 8000}])
    assert worker.routers == []


async def test_create_router_when_worker_closed(worker: Worker) -> None:
    worker.close()
    with pytest.raises(InvalidStateError):
        await worker.create_router(media_codecs=media_codecs())


async def test_router_close(worker: Worker, router: Router) -> None:
    closes = []
    router.observer.once("close", lambda: closes.append(True))
    router.close()
    assert closes == [True]
    assert router.closed
    assert (await worker.dump())["routerIds"] == []
    with pytest.raises(InvalidStateError):
        await router.create_webrtc_transport(listen_ips=["127.0.0.1"])


async def test_router_emits_workerclose(worker: Worker, router: Router) -> None:
    events = []
    router.on("workerclose", lambda: events.append("workerclose"))
    router.observer.on("close", lambda: events.append("close"))
    worker.close()
    assert events == ["workerclose", "close"]
    assert router.closed


async def test_audio_level_observer(worker: Worker, router: Router) -> None:
    new = []
    router.observer.on("newrtpobserver", new.append)
    with pytest.raises(TypeError):
        await router.create_audio_level_observer(max_entries="2")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await router.create_audio_level_observer(max_entries=0)
    with pytest.raises(ValueError):
        await router.create_audio_level_observer(threshold=10)
    observer = await router.create_audio_level_observer()
    assert isinstance(observer, AudioLevelObserver)
    assert isinstance(observer, RtpObserver)
    assert new == [observer]
    assert observer.paused is False
    await observer.pause()
    assert observer.paused is True
    await observer.resume()
    assert observer.paused is False
    dump = await router.dump()
    assert dump["rtpObserverIds"] == [observer.id]
    events = []
    observer.on("routerclose", lambda: events.append("routerclose"))
    router.close()
    assert events == ["routerclose"]
    assert observer.closed


async def test_active_speaker_observer(worker: Worker, router: Router) -> None:
    with pytest.raises(TypeError):
        await router.create_active_speaker_observer(interval="100")  # type: ignore[arg-type]
    observer = await router.create_active_speaker_observer(interval=100)
    await observer.pause()
    assert observer.paused is True
    await observer.resume()
    events = []
    observer.on("routerclose", lambda: events.append("routerclose"))
    worker.close()
    assert events == ["routerclose"]
    assert observer.closed


@pytest.mark.parametrize("kind", ["audio_level", "active_speaker"])
@pytest.mark.parametrize("closing", ["router", "worker"])
async def test_observer_routerclose(worker: Worker, router: Router, kind: str,
                                    closing: str) -> None:
    """Either observer emits "routerclose" (and its observer "close") when
    its router closes, on its own or with its worker."""
    observer: RtpObserver
    if kind == "audio_level":
        observer = await router.create_audio_level_observer()
    else:
        observer = await router.create_active_speaker_observer()
    events: List[str] = []
    observer.on("routerclose", lambda: events.append("routerclose"))
    observer.observer.on("close", lambda: events.append("close"))
    if closing == "router":
        router.close()
    else:
        worker.close()
    assert events == ["routerclose", "close"]
    assert observer.closed
