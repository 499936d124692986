"""Multichannel Opus, audio/multiopus (the host's multiopus suite): a
5.1 stream's channel mapping and stream counts survive produce and consume,
inconsistent counts are refused, and a consumer with another channel count
cannot consume it."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from sfu_host import RequestError, Router, UnsupportedError, WebRtcTransport, Worker

from conftest import needs_worker

pytestmark = needs_worker

# 5.1 in four Opus streams, two of them coupled (RFC 7845 section 5.1.1.2).
SURROUND = {"channel_mapping": "0,4,1,2,3,5", "num_streams": 4, "coupled_streams": 2}


def multiopus_codec(**parameters: Any) -> Dict[str, Any]:
    return {"mimeType": "audio/multiopus", "payloadType": 0, "clockRate": 48000, "channels": 6,
            "parameters": parameters}


def producer_rtp_parameters(codec: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "mid": "AUDIO",
        "codecs": [codec],
        "headerExtensions": [
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10},
            {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 12},
        ],
    }


def device_capabilities(channels: int = 6) -> Dict[str, Any]:
    return {
        "codecs": [{"mimeType": "audio/multiopus", "kind": "audio", "preferredPayloadType": 100,
                    "clockRate": 48000, "channels": channels, "parameters": dict(SURROUND)}],
        "headerExtensions": [
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1,
             "preferredEncrypt": False},
            {"kind": "audio",
             "uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
             "preferredId": 4, "preferredEncrypt": False},
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
             "preferredId": 10, "preferredEncrypt": False},
        ],
    }


@pytest.fixture
async def router(worker: Worker) -> Router:
    codecs: List[Dict[str, Any]] = [{
        "kind": "audio", "mimeType": "audio/multiopus", "clockRate": 48000, "channels": 6,
        "parameters": dict(SURROUND, useinbandfec=1)}]
    return await worker.create_router(media_codecs=codecs)


@pytest.fixture
async def transport(router: Router) -> WebRtcTransport:
    return await router.create_webrtc_transport(listen_ips=["127.0.0.1"])


async def test_produce_and_consume(router: Router, transport: WebRtcTransport) -> None:
    producer = await transport.produce(
        kind="audio",
        rtp_parameters=producer_rtp_parameters(multiopus_codec(useinbandfec=1, **SURROUND)))
    assert producer.rtp_parameters["codecs"] == [{
        "mimeType": "audio/multiopus", "payloadType": 0, "clockRate": 48000, "channels": 6,
        "parameters": dict(SURROUND, useinbandfec=1), "rtcpFeedback": []}]
    assert router.can_consume(producer_id=producer.id, rtp_capabilities=device_capabilities())
    consumer = await transport.consume(producer_id=producer.id,
                                       rtp_capabilities=device_capabilities())
    assert consumer.rtp_parameters["codecs"] == [{
        "mimeType": "audio/multiopus", "payloadType": 100, "clockRate": 48000, "channels": 6,
        "parameters": dict(SURROUND, useinbandfec=1), "rtcpFeedback": []}]
    # The worker holds the same parameters.
    dump = await consumer.dump()
    assert dump["rtpParameters"]["codecs"][0]["parameters"] == dict(SURROUND, useinbandfec=1)
    assert dump["rtpParameters"]["codecs"][0]["channels"] == 6
    async with consumer.stream("producerclose") as closed:
        producer.close()
        await closed.get(timeout=5)
    assert consumer.closed


@pytest.mark.parametrize("counts", [{"num_streams": 2, "coupled_streams": 2},
                                    {"num_streams": 4, "coupled_streams": 1}],
                         ids=["streams", "coupled"])
async def test_produce_with_wrong_parameters(router: Router, transport: WebRtcTransport,
                                             counts: Dict[str, int]) -> None:
    codec = multiopus_codec(channel_mapping=SURROUND["channel_mapping"], **counts)
    with pytest.raises(UnsupportedError):
        await transport.produce(kind="audio", rtp_parameters=producer_rtp_parameters(codec))
    assert transport.producers == [] and (await transport.dump())["producerIds"] == []
    assert (await router.dump())["mapProducerIdConsumerIds"] == {}


async def test_consume_with_wrong_channels(router: Router, transport: WebRtcTransport) -> None:
    producer = await transport.produce(
        kind="audio", rtp_parameters=producer_rtp_parameters(multiopus_codec(**SURROUND)))
    eight = device_capabilities(channels=8)
    assert not router.can_consume(producer_id=producer.id, rtp_capabilities=eight)
    with pytest.raises((UnsupportedError, RequestError)):
        await transport.consume(producer_id=producer.id, rtp_capabilities=eight)
    assert (await transport.dump())["consumerIds"] == []
