"""Consumer (the host's Consumer suite)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import pytest

from sfu_host import (Consumer, PlainTransport, Producer, RequestError, Router, UnsupportedError,
                      WebRtcTransport)

from conftest import (audio_producer_parameters, consumer_device_capabilities, needs_worker,
                      video_producer_parameters)
from rtp_sender import VP8_CODEC, RtpSender, send_until

pytestmark = needs_worker


@dataclass
class Setup:
    router: Router
    transport1: WebRtcTransport
    transport2: WebRtcTransport
    audio_producer: Producer
    video_producer: Producer


@pytest.fixture
async def setup(router: Router) -> Setup:
    t1 = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    t2 = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    audio = await t1.produce(**audio_producer_parameters())
    video = await t1.produce(**video_producer_parameters())
    await video.pause()
    return Setup(router, t1, t2, audio, video)


async def test_consume_succeeds(setup: Setup) -> None:
    router, t2 = setup.router, setup.transport2
    caps = consumer_device_capabilities()
    assert router.can_consume(producer_id=setup.audio_producer.id, rtp_capabilities=caps)
    new = []
    t2.observer.once("newconsumer", new.append)
    audio = await t2.consume(producer_id=setup.audio_producer.id, rtp_capabilities=caps,
                             app_data={"baz": "LOL"})
    assert new == [audio]
    assert audio.producer_id == setup.audio_producer.id
    assert audio.kind == "audio"
    assert audio.rtp_parameters["mid"] == "0"
    assert audio.rtp_parameters["codecs"] == [{
        "mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2,
        "parameters": {"useinbandfec": 1, "usedtx": 1, "foo": 222.222, "bar": "333"},
        "rtcpFeedback": []}]
    assert audio.type == "simple"
    assert audio.paused is False and audio.producer_paused is False
    assert audio.priority == 1
    assert audio.score == {"score": 10, "producerScore": 0, "producerScores": [0]}
    assert audio.preferred_layers is None and audio.current_layers is None
    assert audio.app_data == {"baz": "LOL"}
    dump = await router.dump()
    assert dump["mapProducerIdConsumerIds"][setup.audio_producer.id] == [audio.id]
    assert dump["mapConsumerIdProducerId"][audio.id] == setup.audio_producer.id
    assert (await t2.dump())["consumerIds"] == [audio.id]

    assert router.can_consume(producer_id=setup.video_producer.id, rtp_capabilities=caps)
    video = await t2.consume(producer_id=setup.video_producer.id, rtp_capabilities=caps,
                             paused=True, app_data={"baz": "LOL"})
    assert video.rtp_parameters["mid"] == "1"
    assert [c["mimeType"] for c in video.rtp_parameters["codecs"]] == ["video/H264",
                                                                        "video/rtx"]
    assert video.type == "simulcast"
    assert video.paused is True and video.producer_paused is True
    assert video.score == {"score": 10, "producerScore": 0, "producerScores": [0, 0, 0, 0]}
    enc = video.rtp_parameters["encodings"]
    assert len(enc) == 1
    assert enc[0]["rtx"]["ssrc"] == enc[0]["ssrc"] + 1
    assert enc[0]["scalabilityMode"] == "S4T3"
    assert sorted((await t2.dump())["consumerIds"]) == sorted([audio.id, video.id])


async def test_consume_with_user_mid(setup: Setup) -> None:
    c1 = await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                        rtp_capabilities=consumer_device_capabilities(),
                                        mid="xxxxxx")
    assert c1.rtp_parameters["mid"] == "xxxxxx"
    c2 = await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                        rtp_capabilities=consumer_device_capabilities())
    assert c2.rtp_parameters["mid"] == "0"
    with pytest.raises(TypeError):
        await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                       rtp_capabilities=consumer_device_capabilities(), mid="")


async def test_consume_with_incompatible_capabilities(setup: Setup) -> None:
    caps = {"codecs": [{"kind": "audio", "mimeType": "audio/ISAC", "clockRate": 32000,
                        "preferredPayloadType": 100, "channels": 1}],
            "headerExtensions": []}
    assert not setup.router.can_consume(producer_id=setup.audio_producer.id,
                                        rtp_capabilities=caps)
    with pytest.raises(UnsupportedError):
        await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                       rtp_capabilities=caps)
    assert not setup.router.can_consume(producer_id=setup.audio_producer.id,
                                        rtp_capabilities={"codecs": [], "headerExtensions": []})
    assert not setup.router.can_consume(producer_id="nope",
                                        rtp_capabilities=consumer_device_capabilities())
    with pytest.raises(ValueError):
        await setup.transport2.consume(producer_id="nope",
                                       rtp_capabilities=consumer_device_capabilities())
    with pytest.raises(TypeError):
        await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                       rtp_capabilities="caps")  # type: ignore[arg-type]


async def _consumers(setup: Setup) -> tuple[Consumer, Consumer]:
    caps = consumer_device_capabilities()
    audio = await setup.transport2.consume(producer_id=setup.audio_producer.id,
                                           rtp_capabilities=caps)
    video = await setup.transport2.consume(producer_id=setup.video_producer.id,
                                           rtp_capabilities=caps, paused=True)
    return audio, video


async def test_dump_and_stats(setup: Setup) -> None:
    audio, video = await _consumers(setup)
    dump = await audio.dump()
    assert dump["id"] == audio.id
    assert dump["producerId"] == setup.audio_producer.id
    assert dump["kind"] == "audio"
    assert dump["type"] == "simple"
    assert dump["rtpParameters"]["codecs"][0]["payloadType"] == 100
    assert dump["supportedCodecPayloadTypes"] == [100]
    assert dump["paused"] is False and dump["producerPaused"] is False
    vdump = await video.dump()
    assert vdump["type"] == "simulcast"
    assert vdump["paused"] is True and vdump["producerPaused"] is True
    assert len(vdump["consumableRtpEncodings"]) == 4
    stats = await audio.get_stats()
    assert any(s["type"] == "outbound-rtp" and s["kind"] == "audio" for s in stats)


async def test_pause_resume(setup: Setup) -> None:
    audio, _ = await _consumers(setup)
    events = []
    audio.observer.on("pause", lambda: events.append("pause"))
    audio.observer.on("resume", lambda: events.append("resume"))
    await audio.pause()
    assert audio.paused and (await audio.dump())["paused"] is True
    await audio.resume()
    assert not audio.paused and (await audio.dump())["paused"] is False
    assert events == ["pause", "resume"]


async def test_preferred_layers_and_priority(setup: Setup) -> None:
    audio, video = await _consumers(setup)
    await audio.set_preferred_layers(spatial_layer=1, temporal_layer=1)
    assert audio.preferred_layers is None
    await video.set_preferred_layers(spatial_layer=2, temporal_layer=3)
    # Clamped to what the producer has: 4 spatial layers, 3 temporal ones.
    assert video.preferred_layers == {"spatialLayer": 2, "temporalLayer": 2}
    with pytest.raises(TypeError):
        await video.set_preferred_layers(spatial_layer="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await video.set_preferred_layers()  # type: ignore[call-arg]
    await video.set_priority(2)
    assert video.priority == 2
    with pytest.raises(ValueError):
        await video.set_priority(0)
    with pytest.raises(TypeError):
        await video.set_priority("foo")  # type: ignore[arg-type]
    await video.unset_priority()
    assert video.priority == 1
    await video.request_key_frame()


async def test_enable_trace_event(setup: Setup) -> None:
    audio, _ = await _consumers(setup)
    await audio.enable_trace_event(["rtp", "pli"])
    assert (await audio.dump())["traceEventTypes"] == "rtp,pli"
    await audio.enable_trace_event(["nack", "FOO", "fir"])
    assert (await audio.dump())["traceEventTypes"] == "nack,fir"


async def test_producer_pause_resume_events(setup: Setup) -> None:
    audio, _ = await _consumers(setup)
    events = []
    audio.on("producerpause", lambda: events.append("producerpause"))
    audio.on("producerresume", lambda: events.append("producerresume"))
    audio.observer.on("pause", lambda: events.append("observer pause"))
    audio.observer.on("resume", lambda: events.append("observer resume"))
    async with audio.stream("producerpause") as paused:
        await setup.audio_producer.pause()
        await paused.get(timeout=2)
    assert audio.producer_paused
    async with audio.stream("producerresume") as resumed:
        await setup.audio_producer.resume()
        await resumed.get(timeout=2)
    assert not audio.producer_paused
    assert events == ["producerpause", "observer pause", "producerresume", "observer resume"]


@dataclass
class Media:
    """A VP8 producer with two simulcast streams on a comedia
    PlainTransport fed by `sender`, and a PlainTransport connected to
    `receiver` to consume it on."""
    producer: Producer
    recv_transport: PlainTransport
    sender: RtpSender
    receiver: RtpSender


SIMULCAST_SSRCS = (2001, 2002)


@pytest.fixture
async def media(router: Router) -> AsyncIterator[Media]:
    send_transport = await router.create_plain_transport(listen_ip="127.0.0.1", comedia=True)
    producer = await send_transport.produce(
        kind="video", rtp_parameters={"codecs": [VP8_CODEC],
                                      "encodings": [{"ssrc": s} for s in SIMULCAST_SSRCS]})
    recv_transport = await router.create_plain_transport(listen_ip="127.0.0.1")
    sender = RtpSender(send_transport)
    receiver = RtpSender(recv_transport)
    await recv_transport.connect(ip="127.0.0.1", port=receiver.local_port)
    try:
        yield Media(producer, recv_transport, sender, receiver)
    finally:
        sender.close()
        receiver.close()


def send_frames(media: Media) -> Callable[[], None]:
    """One frame on each stream per call, a key frame every fifth."""
    frames = [0]

    def send() -> None:
        for ssrc in SIMULCAST_SSRCS:
            media.sender.send_vp8(ssrc, key=frames[0] % 5 == 0)
        frames[0] += 1
    return send


async def test_score_event(router: Router, media: Media) -> None:
    """The producer's streams get scored once RTP flows: the consumer's
    "score" carries the producer's scores, and its own."""
    consumer = await media.recv_transport.consume(producer_id=media.producer.id,
                                                  rtp_capabilities=router.rtp_capabilities)
    assert consumer.score == {"score": 10, "producerScore": 0, "producerScores": [0, 0]}
    scores: List[Dict[str, Any]] = []
    consumer.on("score", scores.append)
    observed: List[Dict[str, Any]] = []
    consumer.observer.on("score", observed.append)
    # The producer score is that of the stream forwarded: 0 until the
    # consumer forwards one (its transport's bitrate allocation grants it a
    # stream on its next tick), then 10.
    full = {"score": 10, "producerScore": 10, "producerScores": [10, 10]}
    await send_until(send_frames(media), lambda: bool(scores) and scores[-1] == full, 5,
                     "both streams scored and one forwarded")
    assert all(s["score"] == 10 for s in scores)
    assert observed == scores and consumer.score == full


async def test_layerschange_event(router: Router, media: Media) -> None:
    """A simulcast consumer forwards the preferred stream from its next key
    frame and says so with "layerschange"; a lower preference switches
    down."""
    consumer = await media.recv_transport.consume(producer_id=media.producer.id,
                                                  rtp_capabilities=router.rtp_capabilities)
    assert consumer.type == "simulcast" and consumer.current_layers is None
    changes: List[Optional[Dict[str, Any]]] = []
    consumer.on("layerschange", changes.append)
    observed: List[Optional[Dict[str, Any]]] = []
    consumer.observer.on("layerschange", observed.append)
    send = send_frames(media)
    top = {"spatialLayer": 1, "temporalLayer": 0}
    await send_until(send, lambda: consumer.current_layers == top, 5, "the top stream")
    await consumer.set_preferred_layers(spatial_layer=0)
    assert consumer.preferred_layers == {"spatialLayer": 0, "temporalLayer": 0}
    bottom = {"spatialLayer": 0, "temporalLayer": 0}
    await send_until(send, lambda: consumer.current_layers == bottom, 5, "the bottom stream")
    assert changes[-2:] == [top, bottom] and observed == changes
    # The receiver got what was forwarded, under the consumer's SSRC.
    ssrc = consumer.rtp_parameters["encodings"][0]["ssrc"]
    got = media.receiver.receive()
    assert got is not None and int.from_bytes(got[0][8:12], "big") == ssrc
    stats = await consumer.get_stats()
    assert any(s["type"] == "outbound-rtp" and s["packetCount"] > 0 for s in stats)


async def test_close_and_methods_reject(setup: Setup) -> None:
    audio, video = await _consumers(setup)
    closes = []
    audio.observer.once("close", lambda: closes.append(True))
    audio.close()
    assert closes == [True] and audio.closed
    dump = await setup.router.dump()
    assert dump["mapProducerIdConsumerIds"][setup.audio_producer.id] == []
    assert (await setup.transport2.dump())["consumerIds"] == [video.id]
    with pytest.raises(RequestError):
        await audio.dump()
    with pytest.raises(RequestError):
        await audio.pause()
    with pytest.raises(RequestError):
        await audio.set_priority(2)


async def test_producerclose(setup: Setup) -> None:
    audio, _ = await _consumers(setup)
    events = []
    audio.on("producerclose", lambda: events.append("producerclose"))
    audio.observer.on("close", lambda: events.append("close"))
    async with audio.stream("producerclose") as closed:
        setup.audio_producer.close()
        await closed.get(timeout=2)
    assert events == ["producerclose", "close"]
    assert audio.closed
    assert audio not in setup.transport2.consumers


async def test_transportclose(setup: Setup) -> None:
    audio, video = await _consumers(setup)
    events = []
    video.on("transportclose", lambda: events.append("transportclose"))
    video.observer.on("close", lambda: events.append("close"))
    setup.transport2.close()
    assert events == ["transportclose", "close"]
    assert audio.closed and video.closed
    dump = await setup.router.dump()
    assert dump["mapProducerIdConsumerIds"] == {setup.audio_producer.id: [],
                                                setup.video_producer.id: []}
    assert dump["mapConsumerIdProducerId"] == {}


async def test_trace_event_rtp_out(router: Router, media: Media) -> None:
    """With "rtp" and "keyframe" enabled each packet forwarded gives an
    "out" trace with the consumer's own SSRC and payload type, a key
    frame's first packet a "keyframe" one."""
    consumer = await media.recv_transport.consume(producer_id=media.producer.id,
                                                  rtp_capabilities=router.rtp_capabilities)
    await consumer.set_preferred_layers(spatial_layer=0)
    traces: List[Dict[str, Any]] = []
    consumer.on("trace", traces.append)
    await consumer.enable_trace_event(["rtp", "keyframe"])
    await send_until(send_frames(media), lambda: len(traces) >= 8, 5, "eight traces")
    encoding = consumer.rtp_parameters["encodings"][0]
    payload_type = consumer.rtp_parameters["codecs"][0]["payloadType"]
    assert traces[0]["type"] == "keyframe"
    for trace in traces:
        assert trace["direction"] == "out"
        assert trace["info"]["ssrc"] == encoding["ssrc"]
        assert trace["info"]["payloadType"] == payload_type
        assert (trace["type"] == "keyframe") == trace["info"]["isKeyFrame"]
    seqs = [t["info"]["sequenceNumber"] for t in traces]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]
