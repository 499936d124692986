"""SCTP messages through the worker with a real SCTP stack at the other
end (what the host's node-sctp suite proves, with aiortc as the peer over a
WebRtcTransport instead of node-sctp over a PlainTransport): an ordered
DataProducer on the peer's stream 123 and a DataConsumer of it on the same
transport (stream 0, the first one) carry 200 messages out and back,
strings then binary, each arriving once, in order, with its type; the
stats count them all. A DirectTransport's DataProducer reaches the peer
the same way, and the peer's messages reach a DirectTransport's
DataConsumer; the SCTP send buffer's events come from a real backlog.
The last test is the node-sctp suite's own set-up, SCTP over plain UDP to
comedia PlainTransports, with the project's SCTP load peer
(bench/load/sctp_peer.cpp) at both ends."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Awaitable, Dict, List, Tuple

import pytest

from sfu_host import PlainTransport, Router, WebRtcTransport

from aiortc_peer import DataPeer, wait_until
from conftest import WORKER_BIN, needs_worker

pytestmark = needs_worker

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


SCTP_PEER = os.path.join(os.path.dirname(WORKER_BIN), "sfu-sctp_peer")


class SctpPeerProcess:
    """bench/load/sctp_peer.cpp (target sfu-sctp_peer): SCTP over plain UDP
    from its own socket, driven by commands on stdin, each answered with
    one JSON line of counters."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str) -> "SctpPeerProcess":
        process = await asyncio.create_subprocess_exec(
            SCTP_PEER, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        return cls(process)

    async def command(self, command: str) -> Dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 10)
        answer: Dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


@pytest.mark.skipif(not os.access(SCTP_PEER, os.X_OK), reason=f"no {SCTP_PEER}")
async def test_plain_transport_sctp_with_sctp_peer(router: Router) -> None:
    """SCTP over plain UDP, as the host's node-sctp suite runs it: peers
    that send first from their own sockets to comedia PlainTransports
    with SCTP. One peer's messages reach a DataProducer; its DataConsumer
    on the other transport hands them to the second peer, every one, in
    order; "sctpstatechange" follows each association; the stats count
    what each side saw."""
    def plain() -> Awaitable[PlainTransport]:
        return router.create_plain_transport(listen_ip="127.0.0.1", comedia=True,
                                             enable_sctp=True,
                                             num_sctp_streams={"OS": 256, "MIS": 256})
    send_transport, recv_transport = await plain(), await plain()
    states: Dict[str, List[str]] = {"send": [], "recv": []}
    send_transport.on("sctpstatechange", states["send"].append)
    recv_transport.on("sctpstatechange", states["recv"].append)
    producer = await send_transport.produce_data(
        sctp_stream_parameters={"streamId": 0, "ordered": True}, label="plain-sctp")
    consumer = await recv_transport.consume_data(data_producer_id=producer.id)
    size = 200
    receiver = await SctpPeerProcess.start(
        "--mode=recv", f"--remote-ports={recv_transport.tuple['localPort']}")
    sender = await SctpPeerProcess.start(
        "--mode=send", f"--remote-port={send_transport.tuple['localPort']}", "--rate=500",
        f"--size={size}", "--ppid=51")
    try:
        await wait_until(lambda: "connected" in states["send"] and
                         "connected" in states["recv"], 10, "both associations")
        assert states["send"][:2] == states["recv"][:2] == ["connecting", "connected"]
        await sender.command("start")
        messages = 0
        while messages < 200:
            await asyncio.sleep(0.1)
            (stats,) = await producer.get_stats()
            messages = stats["messagesReceived"]
        sent = (await sender.command("pause"))["sent"]
        received: Dict[str, Any] = {}

        async def all_received() -> bool:
            received.update(await receiver.command("snap"))
            return bool(received["messages"] == sent)
        for _ in range(100):
            if await all_received():
                break
            await asyncio.sleep(0.1)
        assert received["messages"] == sent, (received, sent)
        assert received["gaps"] == 0 and received["out_of_order"] == 0
        assert received["bytes"] == sent * size
    finally:
        await sender.stop()
        await receiver.stop()
    (producer_stats,) = await producer.get_stats()
    assert producer_stats["messagesReceived"] == sent
    assert producer_stats["bytesReceived"] == sent * size
    (consumer_stats,) = await consumer.get_stats()
    assert consumer_stats["messagesSent"] == sent
    assert consumer_stats["bytesSent"] == sent * size
