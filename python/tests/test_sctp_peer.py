"""SCTP messages through the worker with a real SCTP stack at the other
end (what the host's node-sctp suite proves, with aiortc as the peer over a
WebRtcTransport instead of node-sctp over a PlainTransport): an ordered
DataProducer on the peer's stream 123 and a DataConsumer of it on the same
transport (stream 0, the first one) carry 200 messages out and back,
strings then binary, each arriving once, in order, with its type; the
stats count them all. A DirectTransport's DataProducer reaches the peer
the same way, and the peer's messages reach a DirectTransport's
DataConsumer."""

from __future__ import annotations

from typing import Any, List, Tuple

from sfu_host import Router, WebRtcTransport

from aiortc_peer import DataPeer, needs_aiortc, wait_until
from conftest import needs_worker

pytestmark = [needs_worker, needs_aiortc]

NUM_MESSAGES = 200


async def sctp_transport(router: Router) -> WebRtcTransport:
    return await router.create_webrtc_transport(
        listen_ips=["127.0.0.1"], enable_sctp=True, num_sctp_streams={"OS": 256, "MIS": 256})


async def test_ordered_data_producer_delivers_all_messages(router: Router,
                                                           data_peer: DataPeer) -> None:
    transport = await sctp_transport(router)
    data_producer = await transport.produce_data(
        sctp_stream_parameters={"streamId": 123, "ordered": True}, label="aiortc-sctp",
        protocol="foo & bar 😀😀😀")
    data_consumer = await transport.consume_data(data_producer_id=data_producer.id)
    # The first DataConsumer on the transport takes stream 0.
    assert data_consumer.sctp_stream_parameters is not None
    assert data_consumer.sctp_stream_parameters["streamId"] == 0
    assert data_consumer.label == "aiortc-sctp"
    assert data_consumer.protocol == "foo & bar 😀😀😀"
    out = data_peer.channel("out", id=123)
    data_peer.channel("back", id=0)
    await data_peer.connect(transport)

    sent_bytes = 0
    for i in range(1, NUM_MESSAGES + 1):
        # Strings (PPID 51) first, then binary (PPID 53).
        message: Any = str(i) if i < NUM_MESSAGES // 2 else str(i).encode()
        out.send(message)
        sent_bytes += len(str(i))
    received = data_peer.received["back"]
    await wait_until(lambda: len(received) >= NUM_MESSAGES, 15,
                     f"{NUM_MESSAGES} messages back (got {len(received)})")
    assert [int(m) for m in received] == list(range(1, NUM_MESSAGES + 1))
    assert all(isinstance(m, str) for m in received[:NUM_MESSAGES // 2 - 1])
    assert all(isinstance(m, bytes) for m in received[NUM_MESSAGES // 2 - 1:])
    received_bytes = sum(len(m) for m in received)
    assert received_bytes == sent_bytes

    (producer_stats,) = await data_producer.get_stats()
    assert producer_stats["type"] == "data-producer"
    assert producer_stats["label"] == "aiortc-sctp"
    assert producer_stats["protocol"] == "foo & bar 😀😀😀"
    assert producer_stats["messagesReceived"] == NUM_MESSAGES
    assert producer_stats["bytesReceived"] == sent_bytes
    (consumer_stats,) = await data_consumer.get_stats()
    assert consumer_stats["type"] == "data-consumer"
    assert consumer_stats["label"] == "aiortc-sctp"
    assert consumer_stats["messagesSent"] == NUM_MESSAGES
    assert consumer_stats["bytesSent"] == received_bytes


async def test_direct_transport_to_and_from_the_peer(router: Router,
                                                     data_peer: DataPeer) -> None:
    """DataProducer.send() on a DirectTransport reaches the peer through an
    SCTP DataConsumer; the peer's messages reach a DirectTransport's
    DataConsumer as "message" events with their PPID."""
    transport = await sctp_transport(router)
    direct = await router.create_direct_transport()
    direct_producer = await direct.produce_data(label="from-host")
    to_peer = await transport.consume_data(data_producer_id=direct_producer.id)
    peer_producer = await transport.produce_data(
        sctp_stream_parameters={"streamId": 7, "ordered": True}, label="from-peer")
    from_peer = await direct.consume_data(data_producer_id=peer_producer.id)
    assert to_peer.sctp_stream_parameters is not None
    data_peer.channel("in", id=to_peer.sctp_stream_parameters["streamId"])
    out = data_peer.channel("out", id=7)
    await data_peer.connect(transport)

    got: List[Tuple[Any, int]] = []
    from_peer.on("message", lambda message, ppid: got.append((message, ppid)))
    out.send("hello")
    out.send(b"\x00\x01\x02")
    await wait_until(lambda: len(got) == 2, 10, "the peer's two messages")
    assert got == [(b"hello", 51), (b"\x00\x01\x02", 53)]

    direct_producer.send("to the peer")
    direct_producer.send(b"\xff" * 1000)
    received = data_peer.received["in"]
    await wait_until(lambda: len(received) == 2, 10, "two messages at the peer")
    assert received == ["to the peer", b"\xff" * 1000]
    (stats,) = await to_peer.get_stats()
    assert stats["messagesSent"] == 2 and stats["bytesSent"] == len("to the peer") + 1000


async def test_send_buffer_full_and_buffered_amount_low(router: Router,
                                                        data_peer: DataPeer) -> None:
    """A burst far larger than the SCTP send buffer, sent while the peer
    cannot acknowledge (it runs in this event loop, which the burst does
    not yield): the DataConsumer drops what does not fit and says
    "sctpsendbufferfull" (once per time it fills up); as the peer acknowledges, the buffered amount
    falls and "bufferedamountlow" comes at the threshold. What was not
    dropped reaches the peer, in order."""
    send_buffer = 65536
    transport = await router.create_webrtc_transport(
        listen_ips=["127.0.0.1"], enable_sctp=True, sctp_send_buffer_size=send_buffer)
    direct = await router.create_direct_transport()
    producer = await direct.produce_data()
    consumer = await transport.consume_data(data_producer_id=producer.id)
    assert consumer.sctp_stream_parameters is not None
    data_peer.channel("in", id=consumer.sctp_stream_parameters["streamId"])
    await data_peer.connect(transport)
    threshold = 8192
    await consumer.set_buffered_amount_low_threshold(threshold)
    full: List[bool] = []
    consumer.on("sctpsendbufferfull", lambda: full.append(True))
    low: List[int] = []
    consumer.on("bufferedamountlow", low.append)

    size, count = 8000, 40
    for i in range(count):
        producer.send(i.to_bytes(4, "big") + bytes(size - 4))
    await wait_until(lambda: bool(low), 10, "bufferedamountlow")
    assert low[0] <= threshold
    (stats,) = await consumer.get_stats()
    sent = int(stats["messagesSent"])
    # The buffer holds a few messages, never all of them.
    assert 0 < sent < count and stats["bytesSent"] == sent * size
    assert 1 <= len(full) <= count - sent
    received = data_peer.received["in"]
    await wait_until(lambda: len(received) == sent, 10, f"{sent} messages at the peer")
    indices = [int.from_bytes(m[:4], "big") for m in received]
    assert indices == sorted(indices) and indices[0] == 0
    assert await consumer.get_buffered_amount() <= threshold
