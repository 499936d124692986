"""Producer (the host's Producer suite)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Dict, List, Tuple

import pytest

from sfu_host import (InvalidStateError, PlainTransport, Producer, RequestError, Router,
                      UnsupportedError, WebRtcTransport)

from conftest import audio_producer_parameters, needs_worker, video_producer_parameters
from rtp_sender import OPUS_CODEC, OPUS_PT, VP8_CODEC, RtpSender, send_until

pytestmark = needs_worker


@pytest.fixture
async def transports(router: Router) -> Tuple[WebRtcTransport, PlainTransport]:
    t1 = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    t2 = await router.create_plain_transport(listen_ip="127.0.0.1")
    return t1, t2


async def test_produce_audio(router: Router,
                             transports: Tuple[WebRtcTransport, PlainTransport]) -> None:
    t1, _ = transports
    new = []
    t1.observer.once("newproducer", new.append)
    given = audio_producer_parameters()
    original = copy.deepcopy(given)
    producer = await t1.produce(**given)
    assert given == original  # the caller's parameters are not modified
    assert new == [producer]
    assert producer.kind == "audio"
    assert producer.type == "simple"
    assert producer.paused is False
    assert producer.score == []
    assert producer.app_data == {"foo": 1, "bar": "2"}
    assert producer.rtp_parameters["rtcp"]["cname"] == "FOOBAR"
    assert producer.rtp_parameters["encodings"][0]["dtx"] is False
    dump = await router.dump()
    assert dump["mapProducerIdConsumerIds"] == {producer.id: []}
    tdump = await t1.dump()
    assert tdump["producerIds"] == [producer.id]
    assert router.get_producer(producer.id) is producer


async def test_produce_video_with_simulcast(transports: Tuple[WebRtcTransport,
                                                              PlainTransport]) -> None:
    _, t2 = transports
    params = video_producer_parameters()
    params["rtp_parameters"]["rtcp"]["cname"] = "video-1"
    producer = await t2.produce(**params)
    assert producer.kind == "video"
    assert producer.type == "simulcast"
    # The H.264 profile-level-id negotiated with the router's codec.
    assert producer.rtp_parameters["codecs"][0]["parameters"]["profile-level-id"] == "4d0032"
    consumable = producer.consumable_rtp_parameters
    assert [c["mimeType"] for c in consumable["codecs"]] == ["video/H264", "video/rtx"]
    assert len(consumable["encodings"]) == 4
    ssrcs = [e["ssrc"] for e in consumable["encodings"]]
    assert ssrcs == list(range(ssrcs[0], ssrcs[0] + 4))
    dump = await producer.dump()
    assert dump["type"] == "simulcast"
    assert dump["kind"] == "video"
    assert len(dump["rtpMapping"]["encodings"]) == 4


async def test_produce_with_wrong_arguments(transports: Tuple[WebRtcTransport,
                                                              PlainTransport]) -> None:
    t1, _ = transports
    params = audio_producer_parameters()
    with pytest.raises(ValueError):
        await t1.produce(kind="chicken", rtp_parameters=params["rtp_parameters"])
    with pytest.raises(TypeError):
        await t1.produce(kind="audio", rtp_parameters="foo")  # type: ignore[arg-type]
    bad: Dict[str, Any] = {"codecs": [{"mimeType": "audio/opus", "payloadType": 111,
                                       "clockRate": 48000, "channels": 2}],
                           "encodings": [{"ssrc": "1111"}]}
    with pytest.raises(TypeError):
        await t1.produce(kind="audio", rtp_parameters=bad)
    no_encodings = video_producer_parameters()["rtp_parameters"]
    del no_encodings["mid"]
    no_encodings["encodings"] = []
    with pytest.raises(TypeError):  # the worker: no MID, no SSRC, no RID
        await t1.produce(kind="video", rtp_parameters=no_encodings)
    wrong_apt = video_producer_parameters()["rtp_parameters"]
    wrong_apt["codecs"][1]["parameters"]["apt"] = 111
    with pytest.raises(ValueError, match="missing media codec"):
        await t1.produce(kind="video", rtp_parameters=wrong_apt)
    with pytest.raises(TypeError):
        await t1.produce(kind="audio", rtp_parameters={"codecs": [{"mimeType": "audio/opus"}]})
    with pytest.raises(ValueError):
        await t1.produce(kind="audio", rtp_parameters={"codecs": [
            {"mimeType": "opus", "payloadType": 1, "clockRate": 1}]})
    assert t1.producers == []


async def test_produce_with_unsupported_codecs(transports: Tuple[WebRtcTransport,
                                                                 PlainTransport]) -> None:
    t1, _ = transports
    with pytest.raises(UnsupportedError):
        await t1.produce(kind="audio", rtp_parameters={
            "codecs": [{"mimeType": "audio/ISAC", "payloadType": 108, "clockRate": 32000}],
            "encodings": [{"ssrc": 1111}], "rtcp": {"cname": "audio"}})
    # H.264 with a profile the router does not have.
    with pytest.raises(UnsupportedError):
        await t1.produce(kind="video", rtp_parameters={
            "codecs": [{"mimeType": "video/h264", "payloadType": 112, "clockRate": 90000,
                        "parameters": {"packetization-mode": 1, "profile-level-id": "CHICKEN"}},
                       {"mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
                        "parameters": {"apt": 112}}],
            "encodings": [{"ssrc": 6666, "rtx": {"ssrc": 6667}}]})


async def test_produce_with_used_mid_or_ssrc(transports: Tuple[WebRtcTransport,
                                                               PlainTransport]) -> None:
    t1, _ = transports
    await t1.produce(**audio_producer_parameters())
    params = audio_producer_parameters()
    params["rtp_parameters"]["encodings"] = [{"ssrc": 33333333}]
    with pytest.raises(RequestError):
        await t1.produce(**params)  # same MID
    params = audio_producer_parameters()
    params["rtp_parameters"]["mid"] = "AUDIO2"
    with pytest.raises(RequestError):
        await t1.produce(**params)  # same SSRC
    params = audio_producer_parameters()
    del params["rtp_parameters"]["mid"]
    params["rtp_parameters"]["encodings"] = [{}]
    with pytest.raises(TypeError):
        await t1.produce(**params)


async def test_producer_dump_and_stats(transports: Tuple[WebRtcTransport,
                                                         PlainTransport]) -> None:
    t1, _ = transports
    producer = await t1.produce(**audio_producer_parameters())
    dump = await producer.dump()
    assert dump["id"] == producer.id
    assert dump["kind"] == "audio"
    codec = dump["rtpParameters"]["codecs"][0]
    assert codec["mimeType"] == "audio/opus"
    assert codec["payloadType"] == 111
    assert codec["channels"] == 2
    assert codec["parameters"] == {"useinbandfec": 1, "usedtx": 1, "foo": 222.222, "bar": "333"}
    assert dump["rtpParameters"]["headerExtensions"] == [
        {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10, "parameters": {},
         "encrypt": False},
        {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 12, "parameters": {},
         "encrypt": False}]
    assert dump["type"] == "simple"
    assert dump["paused"] is False
    assert await producer.get_stats() == []


async def test_pause_resume(transports: Tuple[WebRtcTransport, PlainTransport]) -> None:
    t1, _ = transports
    producer = await t1.produce(**audio_producer_parameters())
    events = []
    producer.observer.on("pause", lambda: events.append("pause"))
    producer.observer.on("resume", lambda: events.append("resume"))
    await producer.pause()
    assert producer.paused
    assert (await producer.dump())["paused"] is True
    await producer.pause()
    await producer.resume()
    assert not producer.paused
    assert (await producer.dump())["paused"] is False
    assert events == ["pause", "resume"]


async def test_enable_trace_event(transports: Tuple[WebRtcTransport, PlainTransport]) -> None:
    t1, _ = transports
    producer = await t1.produce(**audio_producer_parameters())
    await producer.enable_trace_event(["rtp", "pli"])
    assert (await producer.dump())["traceEventTypes"] == "rtp,pli"
    await producer.enable_trace_event()
    assert (await producer.dump())["traceEventTypes"] == ""
    with pytest.raises(TypeError):
        await producer.enable_trace_event([1])  # type: ignore[list-item]


async def test_score_event(router: Router) -> None:
    """The worker scores a stream once RTP arrives: "score" with each
    encoding's score, the producer's score and the stats agree."""
    transport = await router.create_plain_transport(listen_ip="127.0.0.1", comedia=True)
    producer = await transport.produce(
        kind="audio", rtp_parameters={"codecs": [OPUS_CODEC], "encodings": [{"ssrc": 1111}]})
    assert producer.score == []
    scores: List[Any] = []
    producer.on("score", scores.append)
    observed: List[Any] = []
    producer.observer.on("score", observed.append)
    sender = RtpSender(transport)
    try:
        await send_until(lambda: sender.send_opus(1111), lambda: bool(scores), 5, "a score")
    finally:
        sender.close()
    assert scores[0] == [{"encodingIdx": 0, "ssrc": 1111, "score": 10}]
    assert observed == scores and producer.score == scores[-1]
    stats = await producer.get_stats()
    assert [(s["ssrc"], s["score"]) for s in stats] == [(1111, 10)]


async def test_trace_event_rtp(router: Router) -> None:
    """With "rtp" enabled each packet received gives a "trace" with its
    header fields; disabled, none comes."""
    transport = await router.create_plain_transport(listen_ip="127.0.0.1", comedia=True)
    producer = await transport.produce(
        kind="audio", rtp_parameters={"codecs": [OPUS_CODEC], "encodings": [{"ssrc": 1111}]})
    traces: List[Dict[str, Any]] = []
    producer.on("trace", traces.append)
    sender = RtpSender(transport)
    try:
        await producer.enable_trace_event(["rtp"])
        for _ in range(3):
            sender.send_opus(1111)
        await wait_for_packets(producer, 3)
        await producer.enable_trace_event([])
        for _ in range(3):
            sender.send_opus(1111)
        # A notification the worker sent before an answer is delivered
        # before that answer: once the stats count all six packets, every
        # trace they caused is in.
        await wait_for_packets(producer, 6)
    finally:
        sender.close()
    assert [t["info"]["sequenceNumber"] for t in traces] == [0, 1, 2]
    for seq, trace in enumerate(traces):
        assert trace["type"] == "rtp" and trace["direction"] == "in"
        assert isinstance(trace["timestamp"], int)
        assert trace["info"] == {"payloadType": OPUS_PT, "sequenceNumber": seq,
                                 "timestamp": seq * 960, "marker": False, "ssrc": 1111,
                                 "isKeyFrame": False, "size": 53, "payloadSize": 41}


async def test_videoorientationchange_event(router: Router) -> None:
    """The urn:3gpp:video-orientation extension (camera, flip, rotation in
    its low four bits): each change gives "videoorientationchange", a
    repeat does not."""
    transport = await router.create_plain_transport(listen_ip="127.0.0.1", comedia=True)
    producer = await transport.produce(kind="video", rtp_parameters={
        "codecs": [VP8_CODEC], "headerExtensions": [{"uri": "urn:3gpp:video-orientation",
                                                     "id": 4}],
        "encodings": [{"ssrc": 2222}]})
    changes: List[Dict[str, Any]] = []
    producer.on("videoorientationchange", changes.append)
    observed: List[Dict[str, Any]] = []
    producer.observer.on("videoorientationchange", observed.append)
    sender = RtpSender(transport)
    try:
        # 90 degrees twice, then the front camera, flipped, at 270 degrees.
        for cvo in (0b0001, 0b0001, 0b1111):
            sender.send_vp8(2222, key=True, extensions={4: bytes([cvo])})
        await wait_for_packets(producer, 3)
    finally:
        sender.close()
    assert changes == [{"camera": False, "flip": False, "rotation": 90},
                       {"camera": True, "flip": True, "rotation": 270}]
    assert observed == changes


async def wait_for_packets(producer: Producer, count: int, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        stats = await producer.get_stats()
        if stats and stats[0]["packetCount"] >= count:
            assert stats[0]["packetCount"] == count
            return
        assert asyncio.get_running_loop().time() < deadline, f"{count} packets: {stats}"
        await asyncio.sleep(0.02)


async def test_close_and_methods_reject(router: Router,
                                        transports: Tuple[WebRtcTransport, PlainTransport]) -> None:
    t1, _ = transports
    producer = await t1.produce(**audio_producer_parameters())
    closes = []
    producer.observer.once("close", lambda: closes.append(True))
    producer.close()
    assert closes == [True] and producer.closed
    assert router.get_producer(producer.id) is None
    assert (await router.dump())["mapProducerIdConsumerIds"] == {}
    assert (await t1.dump())["producerIds"] == []
    with pytest.raises(RequestError):
        await producer.dump()
    with pytest.raises(RequestError):
        await producer.pause()
    assert isinstance(producer, Producer)


async def test_transportclose(router: Router,
                              transports: Tuple[WebRtcTransport, PlainTransport]) -> None:
    t1, _ = transports
    producer = await t1.produce(**audio_producer_parameters())
    events = []
    producer.on("transportclose", lambda: events.append("transportclose"))
    producer.observer.on("close", lambda: events.append("close"))
    t1.close()
    assert events == ["transportclose", "close"]
    assert producer.closed
    assert router.get_producer(producer.id) is None
    with pytest.raises(InvalidStateError):
        await t1.produce(**audio_producer_parameters())
