"""PipeTransport and Router.pipe_to_router (the host's PipeTransport suite),
within one worker and across two workers."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, AsyncIterator, Dict, Tuple

import pytest

from sfu_host import (DataProducer, InvalidStateError, PipeTransport, Producer, RequestError,
                      Router, Worker, create_worker)

from conftest import needs_worker

pytestmark = needs_worker


def pipe_media_codecs() -> list[Dict[str, Any]]:
    return [
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
        {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
    ]


def audio_params() -> Dict[str, Any]:
    return {"kind": "audio", "rtp_parameters": {
        "mid": "AUDIO",
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
                    "channels": 2, "parameters": {"useinbandfec": 1, "foo": "bar1"}}],
        "headerExtensions": [
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10},
            {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 12}],
        "encodings": [{"ssrc": 11111111}],
        "rtcp": {"cname": "FOOBAR"}},
        "app_data": {"foo": "bar1"}}


def video_params() -> Dict[str, Any]:
    return {"kind": "video", "rtp_parameters": {
        "mid": "VIDEO",
        "codecs": [{"mimeType": "video/VP8", "payloadType": 112, "clockRate": 90000,
                    "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                                     {"type": "goog-remb"}, {"type": "lalala"}]}],
        "headerExtensions": [
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10},
            {"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 11},
            {"uri": "urn:3gpp:video-orientation", "id": 13}],
        "encodings": [{"ssrc": 22222222}, {"ssrc": 22222223}, {"ssrc": 22222224}],
        "rtcp": {"cname": "FOOBAR"}},
        "app_data": {"foo": "bar2"}}


@pytest.fixture
async def routers(worker: Worker) -> Tuple[Router, Router]:
    r1 = await worker.create_router(media_codecs=pipe_media_codecs())
    r2 = await worker.create_router(media_codecs=pipe_media_codecs())
    return r1, r2


@pytest.fixture
async def worker2() -> AsyncIterator[Worker]:
    w = await create_worker(log_level="warn")
    yield w
    w.close()


async def _producers(router: Router) -> Tuple[Producer, Producer]:
    t = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    audio = await t.produce(**audio_params())
    video = await t.produce(**video_params())
    await video.pause()
    return audio, video


async def test_pipe_to_router_audio(routers: Tuple[Router, Router]) -> None:
    r1, r2 = routers
    audio, _ = await _producers(r1)
    await r2.create_webrtc_transport(listen_ips=["127.0.0.1"])
    result = await r1.pipe_to_router(producer_id=audio.id, router=r2)
    pc, pp = result.pipe_consumer, result.pipe_producer
    assert pc is not None and pp is not None
    assert len((await r1.dump())["transportIds"]) == 2
    assert len((await r2.dump())["transportIds"]) == 2
    assert pc.kind == "audio"
    assert "mid" not in pc.rtp_parameters
    expected_codecs = [{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000,
                        "channels": 2, "parameters": {"useinbandfec": 1, "foo": "bar1"},
                        "rtcpFeedback": []}]
    expected_exts = [{"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 10,
                      "encrypt": False, "parameters": {}}]
    assert pc.rtp_parameters["codecs"] == expected_codecs
    assert pc.rtp_parameters["headerExtensions"] == expected_exts
    assert pc.type == "pipe"
    assert pc.paused is False and pc.producer_paused is False
    assert pc.score == {"score": 10, "producerScore": 10, "producerScores": []}
    assert pc.app_data == {}
    assert pp.id == audio.id
    assert pp.kind == "audio"
    assert pp.rtp_parameters["codecs"] == expected_codecs
    assert pp.rtp_parameters["headerExtensions"] == expected_exts
    assert pp.paused is False
    assert pp.app_data == {"foo": "bar1"}
    assert r2.get_producer(audio.id) is pp


async def test_pipe_to_router_video_paused(routers: Tuple[Router, Router]) -> None:
    r1, r2 = routers
    _, video = await _producers(r1)
    result = await r1.pipe_to_router(producer_id=video.id, router=r2)
    pc, pp = result.pipe_consumer, result.pipe_producer
    assert pc is not None and pp is not None
    assert pc.rtp_parameters["codecs"] == [{
        "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000, "parameters": {},
        "rtcpFeedback": [{"type": "nack", "parameter": "pli"},
                         {"type": "ccm", "parameter": "fir"}]}]
    assert pc.rtp_parameters["headerExtensions"] == [
        {"uri": "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07", "id": 6,
         "encrypt": False, "parameters": {}},
        {"uri": "urn:ietf:params:rtp-hdrext:framemarking", "id": 7, "encrypt": False,
         "parameters": {}},
        {"uri": "urn:3gpp:video-orientation", "id": 11, "encrypt": False, "parameters": {}},
        {"uri": "urn:ietf:params:rtp-hdrext:toffset", "id": 12, "encrypt": False,
         "parameters": {}}]
    assert len(pc.rtp_parameters["encodings"]) == 3
    assert all("rtx" not in e for e in pc.rtp_parameters["encodings"])
    assert pc.type == "pipe"
    assert pc.producer_paused is True
    assert pp.paused is True
    assert pp.type == "simulcast"

    # Pause state travels from the producer through the pipe.
    resumed = pp.observer.stream("resume")
    await video.resume()
    await resumed.get(timeout=2)
    assert pp.paused is False
    paused = pp.observer.stream("pause")
    await video.pause()
    await paused.get(timeout=2)
    assert pp.paused is True

    # Closing the original producer closes the pipe consumer and producer.
    closed = pp.observer.stream("close")
    video.close()
    await closed.get(timeout=2)
    assert pc.closed and pp.closed
    assert r2.get_producer(video.id) is None


async def test_pipe_to_router_twice_uses_one_pair(routers: Tuple[Router, Router]) -> None:
    r1, r2 = routers
    audio, video = await _producers(r1)
    await asyncio.gather(r1.pipe_to_router(producer_id=audio.id, router=r2),
                         r1.pipe_to_router(producer_id=video.id, router=r2))
    pipes = [t for t in r1.transports if isinstance(t, PipeTransport)]
    assert len(pipes) == 1
    assert len([t for t in r2.transports if isinstance(t, PipeTransport)]) == 1
    # Closing one end closes the other one.
    remote = [t for t in r2.transports if isinstance(t, PipeTransport)][0]
    pipes[0].close()
    assert remote.closed


async def test_pipe_to_router_wrong_arguments(routers: Tuple[Router, Router]) -> None:
    r1, r2 = routers
    audio, _ = await _producers(r1)
    with pytest.raises(TypeError):
        await r1.pipe_to_router(router=r2)
    with pytest.raises(TypeError):
        await r1.pipe_to_router(producer_id=audio.id, data_producer_id="x", router=r2)
    with pytest.raises(ValueError):
        await r1.pipe_to_router(producer_id=audio.id, router=r1)
    with pytest.raises(ValueError):
        await r1.pipe_to_router(producer_id="nope", router=r2)
    with pytest.raises(TypeError):
        await r1.pipe_to_router(producer_id=audio.id, router="r2")  # type: ignore[arg-type]


async def test_create_pipe_transport_with_rtx(routers: Tuple[Router, Router]) -> None:
    r1, _ = routers
    _, video = await _producers(r1)
    t = await r1.create_pipe_transport(listen_ip="127.0.0.1", enable_rtx=True)
    assert t.rtx is True
    assert t.srtp_parameters is None
    assert t.tuple["localIp"] == "127.0.0.1"
    c = await t.consume(producer_id=video.id)
    assert c.type == "pipe"
    assert [x["mimeType"] for x in c.rtp_parameters["codecs"]] == ["video/VP8", "video/rtx"]
    assert c.rtp_parameters["codecs"][0]["rtcpFeedback"] == [
        {"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
        {"type": "ccm", "parameter": "fir"}]
    assert all("rtx" in e for e in c.rtp_parameters["encodings"])


async def test_pipe_transport_with_srtp(routers: Tuple[Router, Router]) -> None:
    r1, _ = routers
    t = await r1.create_pipe_transport(listen_ip="127.0.0.1", enable_srtp=True)
    assert t.srtp_parameters is not None
    assert t.srtp_parameters["cryptoSuite"] == "AES_CM_128_HMAC_SHA1_80"
    with pytest.raises(TypeError):
        await t.connect(ip="127.0.0.2", port=9999)
    with pytest.raises(TypeError):
        await t.connect(ip="127.0.0.2", port=9999, srtp_parameters={
            "cryptoSuite": "FOO", "keyBase64": "ZnQ3eWJraDg0d3ZoYzM5cXN1Y2pnaHU5NWxrZTVv"})
    await t.connect(ip="127.0.0.2", port=9999, srtp_parameters={
        "cryptoSuite": "AES_CM_128_HMAC_SHA1_80",
        "keyBase64": "ZnQ3eWJraDg0d3ZoYzM5cXN1Y2pnaHU5NWxrZTVv"})
    assert t.tuple["remoteIp"] == "127.0.0.2" and t.tuple["remotePort"] == 9999
    with pytest.raises(ValueError):
        await t.connect(ip="127.0.0.2", port=0)
    t.close()
    with pytest.raises(InvalidStateError):
        await t.connect(ip="127.0.0.2", port=9999)


async def test_pipe_data_producer(routers: Tuple[Router, Router]) -> None:
    r1, r2 = routers
    t = await r1.create_webrtc_transport(listen_ips=["127.0.0.1"], enable_sctp=True)
    dp = await t.produce_data(sctp_stream_parameters={"streamId": 666}, label="foo",
                              protocol="bar", app_data={"foo": "bar"})
    result = await r1.pipe_to_router(data_producer_id=dp.id, router=r2)
    pdc, pdp = result.pipe_data_consumer, result.pipe_data_producer
    assert pdc is not None and pdp is not None
    assert pdc.type == "sctp" and pdp.type == "sctp"
    assert pdc.label == "foo" and pdc.protocol == "bar"
    assert pdp.id == dp.id and pdp.label == "foo" and pdp.protocol == "bar"
    assert pdp.app_data == {"foo": "bar"}
    assert isinstance(pdc.sctp_stream_parameters, dict)
    assert pdc.sctp_stream_parameters["ordered"] is True
    assert r2.get_data_producer(dp.id) is pdp
    # A consumer of the piped data producer in the other router.
    t2 = await r2.create_webrtc_transport(listen_ips=["127.0.0.1"], enable_sctp=True)
    dc = await t2.consume_data(data_producer_id=pdp.id)
    assert dc.label == "foo"
    closed = dc.stream("dataproducerclose")
    dp.close()
    await closed.get(timeout=2)
    assert pdc.closed and pdp.closed and dc.closed
    assert isinstance(pdp, DataProducer)


async def _direct_rtp_flow(src: Router, dst: Router) -> None:
    """Sends RTP into ``src`` from this program and receives it from ``dst``
    after piping the producer there."""
    direct_in = await src.create_direct_transport()
    producer = await direct_in.produce(kind="audio", rtp_parameters={
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
                    "channels": 2}],
        "encodings": [{"ssrc": 12345678}]})
    await src.pipe_to_router(producer_id=producer.id, router=dst)
    direct_out = await dst.create_direct_transport()
    consumer = await direct_out.consume(producer_id=producer.id,
                                        rtp_capabilities=dst.rtp_capabilities)
    async with consumer.stream("rtp") as packets:
        for seq in range(10):
            header = struct.pack("!BBHII", 0x80, 111, seq, seq * 960, 12345678)
            producer.send(header + bytes(20))
            await asyncio.sleep(0.005)
        (packet,) = await packets.get(timeout=3)
    assert isinstance(packet, bytes)
    assert packet[1] & 0x7F == consumer.rtp_parameters["codecs"][0]["payloadType"]
    ssrc = struct.unpack("!I", packet[8:12])[0]
    assert ssrc == consumer.rtp_parameters["encodings"][0]["ssrc"]


async def test_media_through_pipe_in_one_worker(routers: Tuple[Router, Router]) -> None:
    await _direct_rtp_flow(*routers)


async def test_pipe_to_router_across_workers(worker: Worker, worker2: Worker) -> None:
    r1 = await worker.create_router(media_codecs=pipe_media_codecs())
    r2 = await worker2.create_router(media_codecs=pipe_media_codecs())
    audio, video = await _producers(r1)
    result = await r1.pipe_to_router(producer_id=video.id, router=r2)
    assert result.pipe_producer is not None and result.pipe_producer.paused is True
    await _direct_rtp_flow(r1, r2)
    # The other worker dying closes its pipe end; ours follows.
    pipe = [t for t in r1.transports if isinstance(t, PipeTransport)][0]
    worker2.close()
    assert pipe.closed
    with pytest.raises(RequestError):
        await pipe.dump()


async def test_consume_pipe_producer(routers: Tuple[Router, Router]) -> None:
    """A piped simulcast producer is consumed in the other router like any
    producer: one stream to the endpoint, with RTX, starting paused while
    its producer is."""
    r1, r2 = routers
    _, video = await _producers(r1)
    result = await r1.pipe_to_router(producer_id=video.id, router=r2)
    assert result.pipe_producer is not None
    transport = await r2.create_webrtc_transport(listen_ips=["127.0.0.1"])
    consumer = await transport.consume(producer_id=video.id,
                                       rtp_capabilities=r2.rtp_capabilities)
    assert consumer.kind == "video" and consumer.type == "simulcast"
    assert consumer.producer_id == video.id
    assert consumer.rtp_parameters["codecs"][0]["mimeType"] == "video/VP8"
    assert consumer.rtp_parameters["codecs"][1]["mimeType"] == "video/rtx"
    (encoding,) = consumer.rtp_parameters["encodings"]
    assert isinstance(encoding["ssrc"], int) and isinstance(encoding["rtx"]["ssrc"], int)
    assert consumer.producer_paused is True and consumer.paused is False
    assert (await consumer.dump())["producerPaused"] is True
    async with consumer.stream("producerresume") as resumed:
        await video.resume()
        await resumed.get(timeout=5)
    assert consumer.producer_paused is False


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_create_pipe_transport_with_fixed_port(routers: Tuple[Router, Router]) -> None:
    r1, _ = routers
    port = free_udp_port()
    t = await r1.create_pipe_transport(listen_ip="127.0.0.1", port=port)
    assert t.tuple["localPort"] == port
    with pytest.raises(RequestError):
        await r1.create_pipe_transport(listen_ip="127.0.0.1", port=port)
