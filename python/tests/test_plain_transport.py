"""PlainTransport (the host's PlainTransport suite)."""

from __future__ import annotations

import socket
import struct

import pytest

from sfu_host import InvalidStateError, PlainTransport, RequestError, Router, Worker

from conftest import needs_worker
from rtp_sender import RtpSender

pytestmark = needs_worker


@pytest.fixture
async def transport(router: Router) -> PlainTransport:
    return await router.create_plain_transport(
        listen_ip={"ip": "127.0.0.1", "announcedIp": "4.4.4.4"}, rtcp_mux=False)


async def test_create_succeeds(router: Router, transport: PlainTransport) -> None:
    assert (await router.dump())["transportIds"] == [transport.id]
    new = []
    router.observer.once("newtransport", new.append)
    t = await router.create_plain_transport(
        listen_ip={"ip": "127.0.0.1", "announcedIp": "9.9.9.1"}, rtcp_mux=True,
        enable_sctp=True, app_data={"foo": "bar"})
    assert new == [t]
    assert t.app_data == {"foo": "bar"}
    assert t.tuple["localIp"] == "9.9.9.1"
    assert isinstance(t.tuple["localPort"], int)
    assert t.tuple["protocol"] == "udp"
    assert t.rtcp_tuple is None
    assert t.sctp_parameters is not None
    assert {k: t.sctp_parameters[k] for k in ("port", "OS", "MIS", "maxMessageSize")} == {
        "port": 5000, "OS": 1024, "MIS": 1024, "maxMessageSize": 262144}
    assert t.sctp_state == "new"
    assert t.srtp_parameters is None
    dump = await t.dump()
    assert dump["id"] == t.id
    assert dump["direct"] is False
    assert dump["tuple"] == t.tuple
    assert dump["sctpParameters"] == t.sctp_parameters
    assert dump["sctpState"] == "new"
    t.close()
    assert t.closed

    t2 = await router.create_plain_transport(listen_ip="127.0.0.1", rtcp_mux=False)
    assert t2.tuple["localIp"] == "127.0.0.1"
    assert t2.rtcp_tuple is not None and t2.rtcp_tuple["localIp"] == "127.0.0.1"
    assert t2.sctp_parameters is None and t2.sctp_state is None
    dump = await t2.dump()
    assert dump["rtcpTuple"] == t2.rtcp_tuple


async def test_create_with_wrong_arguments(router: Router) -> None:
    with pytest.raises(TypeError):
        await router.create_plain_transport(listen_ip=123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await router.create_plain_transport(listen_ip=["127.0.0.1"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await router.create_plain_transport(listen_ip="127.0.0.1",
                                            app_data="NOT-AN-OBJECT")  # type: ignore[arg-type]


async def test_create_with_srtp(router: Router) -> None:
    t = await router.create_plain_transport(listen_ip="127.0.0.1", enable_srtp=True)
    assert t.srtp_parameters is not None
    assert t.srtp_parameters["cryptoSuite"] == "AES_CM_128_HMAC_SHA1_80"
    assert len(t.srtp_parameters["keyBase64"]) == 40
    with pytest.raises(TypeError):
        await t.connect(ip="127.0.0.2", port=9999, srtp_parameters={"cryptoSuite": "FOO"})
    with pytest.raises(TypeError):
        await t.connect(ip="127.0.0.2", port=9999)
    await t.connect(ip="127.0.0.2", port=9999, srtp_parameters={
        "cryptoSuite": "AES_CM_128_HMAC_SHA1_32",
        "keyBase64": "ZnQ3eWJraDg0d3ZoYzM5cXN1Y2pnaHU5NWxrZTVv"})
    assert t.srtp_parameters["cryptoSuite"] == "AES_CM_128_HMAC_SHA1_32"
    assert t.tuple["remoteIp"] == "127.0.0.2"
    assert t.tuple["remotePort"] == 9999


async def test_non_bindable_ip(router: Router) -> None:
    with pytest.raises(RequestError):
        await router.create_plain_transport(listen_ip="8.8.8.8")


async def test_get_stats(transport: PlainTransport) -> None:
    stats = await transport.get_stats()
    assert len(stats) == 1
    assert stats[0]["type"] == "plain-rtp-transport"
    assert stats[0]["transportId"] == transport.id
    assert stats[0]["tuple"]["localIp"] == "4.4.4.4"


async def test_connect(transport: PlainTransport) -> None:
    await transport.connect(ip="1.2.3.4", port=1234, rtcp_port=1235)
    with pytest.raises(RequestError):
        await transport.connect(ip="1.2.3.4", port=1234, rtcp_port=1235)
    assert transport.tuple["remoteIp"] == "1.2.3.4"
    assert transport.tuple["remotePort"] == 1234
    assert transport.rtcp_tuple is not None
    assert transport.rtcp_tuple["remotePort"] == 1235


async def test_connect_with_wrong_arguments(transport: PlainTransport) -> None:
    with pytest.raises(TypeError):
        await transport.connect()
    with pytest.raises(TypeError):
        await transport.connect(ip="::::1234")
    with pytest.raises(TypeError):
        await transport.connect(ip="127.0.0.1", port=1234)
    with pytest.raises(ValueError):
        await transport.connect(ip="127.0.0.1", port=1234, rtcp_port=70000)
    with pytest.raises(TypeError):
        await transport.connect(ip="127.0.0.1", port="a")  # type: ignore[arg-type]


async def test_methods_reject_if_closed(transport: PlainTransport) -> None:
    transport.close()
    with pytest.raises(RequestError):
        await transport.dump()
    with pytest.raises(RequestError):
        await transport.get_stats()
    with pytest.raises(InvalidStateError):
        await transport.connect(ip="1.2.3.4", port=1234)


async def test_routerclose_on_worker_close(worker: Worker, transport: PlainTransport) -> None:
    events = []
    transport.on("routerclose", lambda: events.append("routerclose"))
    transport.observer.on("close", lambda: events.append("close"))
    worker.close()
    assert events == ["routerclose", "close"]
    assert transport.closed


async def test_tuple_event_with_comedia(router: Router) -> None:
    """comedia: the transport has no remote end until the first packet,
    whose source it latches and announces with "tuple"; "rtcptuple" the
    same on the RTCP port without rtcp-mux."""
    transport = await router.create_plain_transport(
        listen_ip={"ip": "127.0.0.1", "announcedIp": "4.4.4.4"}, comedia=True, rtcp_mux=False)
    assert transport.tuple is not None and "remotePort" not in transport.tuple
    assert transport.rtcp_tuple is not None and "remotePort" not in transport.rtcp_tuple
    local = transport.tuple["localPort"]
    sender = RtpSender(transport)
    rtcp_sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # The announced IP is what the transport says; the socket is on 127.0.0.1.
        sender.address = ("127.0.0.1", local)
        async with transport.stream("tuple") as tuples:
            sender.send_opus(1111)
            (tuple_,) = await tuples.get(timeout=5)
        assert tuple_ == {"localIp": "4.4.4.4", "localPort": local, "remoteIp": "127.0.0.1",
                          "remotePort": sender.local_port, "protocol": "udp"}
        assert transport.tuple == tuple_
        rtcp_sender.bind(("127.0.0.1", 0))
        async with transport.stream("rtcptuple") as rtcp_tuples:
            rtcp_sender.sendto(struct.pack("!BBHI", 0x80, 201, 1, 9999),
                               ("127.0.0.1", transport.rtcp_tuple["localPort"]))
            (rtcp_tuple,) = await rtcp_tuples.get(timeout=5)
        assert rtcp_tuple["remotePort"] == rtcp_sender.getsockname()[1]
        assert transport.rtcp_tuple == rtcp_tuple
        dump = await transport.dump()
        assert dump["tuple"] == tuple_ and dump["rtcpTuple"] == rtcp_tuple
    finally:
        sender.close()
        rtcp_sender.close()


async def test_routerclose_on_router_close(router: Router, transport: PlainTransport) -> None:
    events = []
    transport.on("routerclose", lambda: events.append("routerclose"))
    transport.observer.on("close", lambda: events.append("close"))
    router.close()
    assert events == ["routerclose", "close"]
    assert transport.closed
    with pytest.raises(InvalidStateError):
        await transport.connect(ip="1.2.3.4", port=1234)


async def test_fixed_port(router: Router) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = await router.create_plain_transport(listen_ip="127.0.0.1", port=port)
    assert transport.tuple is not None and transport.tuple["localPort"] == port
