"""DataProducer, DataConsumer and DirectTransport (the host's DataProducer,
DataConsumer and DirectTransport suites)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from sfu_host import (DirectTransport, InvalidStateError, PlainTransport, RequestError, Router,
                      UnsupportedError, WebRtcTransport, Worker)

from conftest import needs_worker

pytestmark = needs_worker


@pytest.fixture
async def webrtc(router: Router) -> WebRtcTransport:
    return await router.create_webrtc_transport(listen_ips=["127.0.0.1"], enable_sctp=True)


@pytest.fixture
async def plain(router: Router) -> PlainTransport:
    return await router.create_plain_transport(listen_ip="127.0.0.1", enable_sctp=True)


@pytest.fixture
async def direct(router: Router) -> DirectTransport:
    return await router.create_direct_transport(max_message_size=1024)


# ----- DataProducer ---------------------------------------------------------

async def test_produce_data(router: Router, webrtc: WebRtcTransport,
                            plain: PlainTransport) -> None:
    new = []
    webrtc.observer.once("newdataproducer", new.append)
    dp1 = await webrtc.produce_data(sctp_stream_parameters={"streamId": 666}, label="foo",
                                    protocol="bar", app_data={"foo": 1, "bar": "2"})
    assert new == [dp1]
    assert dp1.type == "sctp"
    assert dp1.sctp_stream_parameters is not None
    assert dp1.sctp_stream_parameters["streamId"] == 666
    assert dp1.sctp_stream_parameters["ordered"] is True
    assert dp1.sctp_stream_parameters.get("maxPacketLifeTime") is None
    assert dp1.label == "foo" and dp1.protocol == "bar"
    assert dp1.app_data == {"foo": 1, "bar": "2"}
    dump = await router.dump()
    assert dump["mapDataProducerIdDataConsumerIds"] == {dp1.id: []}
    assert (await webrtc.dump())["dataProducerIds"] == [dp1.id]

    dp2 = await plain.produce_data(sctp_stream_parameters={"streamId": 777,
                                                           "maxRetransmits": 3},
                                   label="foo", protocol="bar")
    assert dp2.sctp_stream_parameters is not None
    assert dp2.sctp_stream_parameters["ordered"] is False
    assert dp2.sctp_stream_parameters["maxRetransmits"] == 3
    d = await dp2.dump()
    assert d["id"] == dp2.id and d["type"] == "sctp" and d["label"] == "foo"
    assert d["sctpStreamParameters"]["streamId"] == 777
    assert d["sctpStreamParameters"]["maxRetransmits"] == 3
    stats = await dp2.get_stats()
    assert stats[0]["type"] == "data-producer"
    assert stats[0]["label"] == "foo" and stats[0]["messagesReceived"] == 0


async def test_produce_data_wrong_arguments(webrtc: WebRtcTransport) -> None:
    with pytest.raises(TypeError):
        await webrtc.produce_data()
    with pytest.raises(TypeError):
        await webrtc.produce_data(sctp_stream_parameters={"foo": "bar"})
    with pytest.raises(ValueError):
        await webrtc.produce_data(sctp_stream_parameters={
            "streamId": 123, "ordered": True, "maxPacketLifeTime": 3000})
    with pytest.raises(ValueError):
        await webrtc.produce_data(sctp_stream_parameters={
            "streamId": 123, "maxPacketLifeTime": 3000, "maxRetransmits": 2})
    await webrtc.produce_data(sctp_stream_parameters={"streamId": 666})
    with pytest.raises(RequestError):  # stream id already used
        await webrtc.produce_data(sctp_stream_parameters={"streamId": 666})


async def test_data_producer_close(router: Router, webrtc: WebRtcTransport) -> None:
    dp = await webrtc.produce_data(sctp_stream_parameters={"streamId": 666})
    closes = []
    dp.observer.once("close", lambda: closes.append(True))
    dp.close()
    assert closes == [True] and dp.closed
    assert (await router.dump())["mapDataProducerIdDataConsumerIds"] == {}
    assert (await webrtc.dump())["dataProducerIds"] == []
    with pytest.raises(RequestError):
        await dp.dump()
    with pytest.raises(RequestError):
        await dp.get_stats()
    dp2 = await webrtc.produce_data(sctp_stream_parameters={"streamId": 667})
    events = []
    dp2.on("transportclose", lambda: events.append("transportclose"))
    dp2.observer.on("close", lambda: events.append("close"))
    webrtc.close()
    assert events == ["transportclose", "close"]
    assert router.get_data_producer(dp2.id) is None


# ----- DataConsumer ---------------------------------------------------------

async def test_consume_data(router: Router, webrtc: WebRtcTransport, plain: PlainTransport) -> None:
    dp = await webrtc.produce_data(sctp_stream_parameters={"streamId": 12345, "ordered": False,
                                                           "maxPacketLifeTime": 5000},
                                   label="foo", protocol="bar")
    new = []
    plain.observer.once("newdataconsumer", new.append)
    dc = await plain.consume_data(data_producer_id=dp.id, app_data={"baz": "LOL"})
    assert new == [dc]
    assert dc.data_producer_id == dp.id
    assert dc.type == "sctp"
    assert dc.sctp_stream_parameters is not None
    assert dc.sctp_stream_parameters["streamId"] == 0
    assert dc.sctp_stream_parameters["ordered"] is False
    assert dc.sctp_stream_parameters["maxPacketLifeTime"] == 5000
    assert dc.label == "foo" and dc.protocol == "bar"
    assert dc.app_data == {"baz": "LOL"}
    dump = await router.dump()
    assert dump["mapDataProducerIdDataConsumerIds"] == {dp.id: [dc.id]}
    assert dump["mapDataConsumerIdDataProducerId"] == {dc.id: dp.id}
    assert (await plain.dump())["dataConsumerIds"] == [dc.id]
    d = await dc.dump()
    assert d["id"] == dc.id and d["dataProducerId"] == dp.id and d["type"] == "sctp"
    assert d["sctpStreamParameters"]["streamId"] == 0
    stats = await dc.get_stats()
    assert stats[0]["type"] == "data-consumer" and stats[0]["messagesSent"] == 0
    assert await dc.get_buffered_amount() == 0
    await dc.set_buffered_amount_low_threshold(10)
    # Stream ids are handed out in turn and reused after close.
    dc2 = await plain.consume_data(data_producer_id=dp.id, max_packet_life_time=100)
    assert dc2.sctp_stream_parameters is not None
    assert dc2.sctp_stream_parameters["streamId"] == 1
    assert dc2.sctp_stream_parameters["maxPacketLifeTime"] == 100
    with pytest.raises(ValueError):  # ordered with a lifetime
        await plain.consume_data(data_producer_id=dp.id, ordered=True)
    dc.close()
    dc3 = await plain.consume_data(data_producer_id=dp.id)
    assert dc3.sctp_stream_parameters is not None
    assert dc3.sctp_stream_parameters["streamId"] == 2
    for _ in range(1021):
        (await plain.consume_data(data_producer_id=dp.id)).close()
    dc4 = await plain.consume_data(data_producer_id=dp.id)
    assert dc4.sctp_stream_parameters is not None
    assert dc4.sctp_stream_parameters["streamId"] == 0  # wrapped around to the freed id
    with pytest.raises(ValueError):
        await plain.consume_data(data_producer_id="nope")
    with pytest.raises(TypeError):
        await plain.consume_data(data_producer_id="")


async def test_data_consumer_close_and_events(router: Router, webrtc: WebRtcTransport,
                                              plain: PlainTransport) -> None:
    dp = await webrtc.produce_data(sctp_stream_parameters={"streamId": 1})
    dc = await plain.consume_data(data_producer_id=dp.id)
    closes = []
    dc.observer.once("close", lambda: closes.append(True))
    dc.close()
    assert closes == [True]
    assert (await router.dump())["mapDataProducerIdDataConsumerIds"] == {dp.id: []}
    with pytest.raises(RequestError):
        await dc.dump()
    dc2 = await plain.consume_data(data_producer_id=dp.id)
    events = []
    dc2.on("dataproducerclose", lambda: events.append("dataproducerclose"))
    dc2.observer.on("close", lambda: events.append("close"))
    async with dc2.stream("dataproducerclose") as s:
        dp.close()
        await s.get(timeout=2)
    assert events == ["dataproducerclose", "close"] and dc2.closed
    assert dc2 not in plain.data_consumers
    dp3 = await webrtc.produce_data(sctp_stream_parameters={"streamId": 2})
    dc3 = await plain.consume_data(data_producer_id=dp3.id)
    events.clear()
    dc3.on("transportclose", lambda: events.append("transportclose"))
    plain.close()
    assert events == ["transportclose"] and dc3.closed


# ----- DirectTransport ------------------------------------------------------

async def test_create_direct_transport(router: Router, direct: DirectTransport) -> None:
    new = []
    router.observer.once("newtransport", new.append)
    t = await router.create_direct_transport(max_message_size=1024, app_data={"foo": "bar"})
    assert new == [t]
    assert t.app_data == {"foo": "bar"}
    dump = await t.dump()
    assert dump["id"] == t.id and dump["direct"] is True
    assert dump["producerIds"] == [] and dump["dataProducerIds"] == []
    stats = await t.get_stats()
    assert stats[0]["type"] == "direct-transport" and stats[0]["transportId"] == t.id
    await t.connect()
    with pytest.raises(UnsupportedError):
        await t.set_max_incoming_bitrate(100)
    with pytest.raises(UnsupportedError):
        await t.set_max_outgoing_bitrate(100)
    with pytest.raises(TypeError):
        await router.create_direct_transport(max_message_size="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await router.create_direct_transport(max_message_size=-2000)


async def test_direct_send_and_receive(direct: DirectTransport) -> None:
    dp = await direct.produce_data(label="foo", protocol="bar", app_data={"foo": "bar"})
    assert dp.type == "direct" and dp.sctp_stream_parameters is None
    dc = await direct.consume_data(data_producer_id=dp.id)
    assert dc.type == "direct" and dc.sctp_stream_parameters is None
    assert dc.label == "foo" and dc.protocol == "bar"
    received: list[tuple[bytes, int]] = []
    done = asyncio.get_running_loop().create_future()

    def on_message(payload: bytes, ppid: int) -> None:
        received.append((payload, ppid))
        if len(received) == 200 and not done.done():
            done.set_result(None)

    dc.on("message", on_message)
    sent_bytes = 0
    for i in range(1, 201):
        if i % 2:
            message: str | bytes = str(i)
            sent_bytes += len(message)
            dp.send(message)
        else:
            message = str(i).encode()
            sent_bytes += len(message)
            dp.send(message)
    await asyncio.wait_for(done, 5)
    for i, (payload, ppid) in enumerate(received, start=1):
        assert int(payload.decode()) == i
        assert ppid == (51 if i % 2 else 53)
    stats = await dp.get_stats()
    assert stats[0]["messagesReceived"] == 200 and stats[0]["bytesReceived"] == sent_bytes
    stats = await dc.get_stats()
    assert stats[0]["messagesSent"] == 200 and stats[0]["bytesSent"] == sent_bytes
    # Empty messages travel as one byte with the "empty" PPIDs.
    async with dc.stream("message") as s:
        dp.send("")
        dp.send(b"")
        assert await s.get(timeout=2) == (b" ", 56)
        assert await s.get(timeout=2) == (b"\x00", 57)
    with pytest.raises(TypeError):
        dp.send(123)  # type: ignore[arg-type]


async def test_direct_data_consumer_send(router: Router, direct: DirectTransport) -> None:
    """DataConsumer.send() (a payload channel request) reaches the consumer's
    endpoint; on a direct transport it is accepted."""
    dp = await direct.produce_data()
    dc = await direct.consume_data(data_producer_id=dp.id)
    await dc.send("hello")
    await dc.send(b"\x01\x02", ppid=53)
    with pytest.raises(TypeError):
        await dc.send(None)  # type: ignore[arg-type]


async def test_direct_rtcp(direct: DirectTransport) -> None:
    producer = await direct.produce(kind="audio", rtp_parameters={
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
                    "channels": 2}],
        "encodings": [{"ssrc": 1234}]})
    # A receiver report: accepted without an answer.
    rr = struct.pack("!BBHI", 0x80, 201, 1, 5555)
    direct.send_rtcp(rr)
    with pytest.raises(TypeError):
        direct.send_rtcp("rtcp")  # type: ignore[arg-type]
    producer.close()


async def test_direct_transport_closing(worker: Worker, router: Router,
                                        direct: DirectTransport) -> None:
    direct.close()
    with pytest.raises(RequestError):
        await direct.dump()
    with pytest.raises(InvalidStateError):
        await direct.produce_data()
    with pytest.raises(InvalidStateError):
        direct.send_rtcp(b"\x80\xc9\x00\x01\x00\x00\x00\x01")
    t = await router.create_direct_transport()
    events = []
    t.on("routerclose", lambda: events.append("routerclose"))
    worker.close()
    assert events == ["routerclose"] and t.closed
