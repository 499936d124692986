"""WebRtcTransport (the host's WebRtcTransport suite)."""

from __future__ import annotations

import hashlib
import ssl
from typing import Any, List, Tuple

import pytest

from sfu_host import InvalidStateError, RequestError, Router, WebRtcTransport, Worker

from aiortc_peer import DataPeer, sdp_host_udp_port, wait_until
from conftest import needs_worker

pytestmark = needs_worker

FINGERPRINT = ("82:5A:68:3D:36:C3:0A:DE:AF:E7:32:43:D2:88:83:57:AC:2D:65:E5:80:C4:B6:FB:AF:1A:"
               "A0:21:9F:6D:0C:AD")


@pytest.fixture
async def transport(router: Router) -> WebRtcTransport:
    return await router.create_webrtc_transport(listen_ips=[{"ip": "127.0.0.1",
                                                             "announcedIp": "9.9.9.1"}],
                                                enable_tcp=False)


async def test_create_succeeds(router: Router, transport: WebRtcTransport) -> None:
    assert (await router.dump())["transportIds"] == [transport.id]
    new = []
    router.observer.once("newtransport", new.append)
    t = await router.create_webrtc_transport(
        listen_ips=[{"ip": "127.0.0.1", "announcedIp": "9.9.9.1"},
                    {"ip": "0.0.0.0", "announcedIp": "9.9.9.2"},
                    {"ip": "127.0.0.1", "announcedIp": None}],
        enable_tcp=True, prefer_udp=True, enable_sctp=True,
        num_sctp_streams={"OS": 2048, "MIS": 2048}, max_sctp_message_size=1000000,
        app_data={"foo": "bar"})
    assert new == [t]
    assert t.closed is False
    assert t.app_data == {"foo": "bar"}
    assert t.ice_role == "controlled"
    assert t.ice_parameters["iceLite"] is True
    assert isinstance(t.ice_parameters["usernameFragment"], str)
    assert isinstance(t.ice_parameters["password"], str)
    assert t.sctp_parameters is not None
    assert {k: t.sctp_parameters[k] for k in ("port", "OS", "MIS", "maxMessageSize")} == {
        "port": 5000, "OS": 2048, "MIS": 2048, "maxMessageSize": 1000000}
    cands = t.ice_candidates
    assert [(c["ip"], c["protocol"], c.get("tcpType")) for c in cands] == [
        ("9.9.9.1", "udp", None), ("9.9.9.1", "tcp", "passive"),
        ("9.9.9.2", "udp", None), ("9.9.9.2", "tcp", "passive"),
        ("127.0.0.1", "udp", None), ("127.0.0.1", "tcp", "passive")]
    assert all(c["type"] == "host" for c in cands)
    assert cands[0]["priority"] > cands[1]["priority"]
    assert cands[2]["priority"] > cands[3]["priority"]
    assert cands[4]["priority"] > cands[5]["priority"]
    assert t.ice_state == "new"
    assert t.ice_selected_tuple is None
    assert t.dtls_parameters["role"] == "auto"
    assert isinstance(t.dtls_parameters["fingerprints"], list)
    assert t.dtls_state == "new"
    assert t.dtls_remote_cert is None
    assert t.sctp_state == "new"
    dump = await t.dump()
    assert dump["id"] == t.id
    assert dump["direct"] is False
    assert dump["producerIds"] == [] and dump["consumerIds"] == []
    assert dump["iceRole"] == t.ice_role
    assert dump["iceParameters"] == t.ice_parameters
    assert dump["iceCandidates"] == t.ice_candidates
    assert dump["iceState"] == t.ice_state
    assert dump["dtlsParameters"] == t.dtls_parameters
    assert dump["dtlsState"] == t.dtls_state
    assert dump["sctpParameters"] == t.sctp_parameters
    assert dump["sctpState"] == t.sctp_state
    assert isinstance(dump["recvRtpHeaderExtensions"], dict)
    assert isinstance(dump["rtpListener"], dict)
    t.close()
    assert t.closed


async def test_create_with_wrong_arguments(router: Router) -> None:
    with pytest.raises(TypeError):
        await router.create_webrtc_transport(listen_ips="127.0.0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await router.create_webrtc_transport(listen_ips=[])
    with pytest.raises(TypeError):
        await router.create_webrtc_transport(listen_ips=[123])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        await router.create_webrtc_transport(listen_ips=["127.0.0.1"],
                                             app_data="NOT-AN-OBJECT")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await router.create_webrtc_transport(listen_ips=["127.0.0.1"],
                                             enable_sctp=True,
                                             num_sctp_streams="foo")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await router.create_webrtc_transport(listen_ips=["127.0.0.1"], port=70000)
    assert router.transports == []


async def test_create_with_non_bindable_ip(router: Router) -> None:
    with pytest.raises(RequestError):
        await router.create_webrtc_transport(listen_ips=["8.8.8.8"])


async def test_get_stats(transport: WebRtcTransport) -> None:
    stats = await transport.get_stats()
    assert isinstance(stats, list) and len(stats) == 1
    s = stats[0]
    assert s["type"] == "webrtc-transport"
    assert s["transportId"] == transport.id
    assert s["iceRole"] == "controlled"
    assert s["iceState"] == "new"
    assert s["dtlsState"] == "new"
    assert s["bytesReceived"] == 0


async def test_connect(transport: WebRtcTransport) -> None:
    params = {"fingerprints": [{"algorithm": "sha-256", "value": FINGERPRINT}], "role": "client"}
    await transport.connect(dtls_parameters=params)
    with pytest.raises(RequestError):
        await transport.connect(dtls_parameters=params)
    assert transport.dtls_parameters["role"] == "server"


async def test_connect_with_wrong_arguments(transport: WebRtcTransport) -> None:
    with pytest.raises(TypeError):
        await transport.connect(dtls_parameters={})
    for bad in (
        {"fingerprints": [{"algorithm": "sha-256000", "value": FINGERPRINT}], "role": "client"},
        {"fingerprints": [{"algorithm": "sha-256", "value": FINGERPRINT}], "role": "chicken"},
        {"fingerprints": [], "role": "client"},
    ):
        with pytest.raises(TypeError):
            await transport.connect(dtls_parameters=bad)
    assert transport.dtls_parameters["role"] == "auto"


async def test_bitrates_and_restart_ice(transport: WebRtcTransport) -> None:
    await transport.set_max_incoming_bitrate(100000)
    await transport.set_max_outgoing_bitrate(100000)
    with pytest.raises(TypeError):
        await transport.set_max_incoming_bitrate("1")  # type: ignore[arg-type]
    before = dict(transport.ice_parameters)
    params = await transport.restart_ice()
    assert params["usernameFragment"] != before["usernameFragment"]
    assert params["password"] != before["password"]
    assert transport.ice_parameters == params


async def test_enable_trace_event(transport: WebRtcTransport) -> None:
    await transport.enable_trace_event(["foo", "probation"])
    assert (await transport.dump())["traceEventTypes"] == "probation"
    await transport.enable_trace_event([])
    assert (await transport.dump())["traceEventTypes"] == ""
    await transport.enable_trace_event(["probation", "FOO", "bwe", "BAR"])
    assert (await transport.dump())["traceEventTypes"] == "probation,bwe"
    with pytest.raises(TypeError):
        await transport.enable_trace_event(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await transport.enable_trace_event("probation")


async def test_events(router: Router, data_peer: DataPeer) -> None:
    """A real peer (aiortc) connects: ICE, DTLS and SCTP states change in
    order, each emitted and kept; the selected tuple is the peer's
    candidate and the remote certificate the one it offered. The peer
    closing aborts SCTP ("failed") and closes DTLS."""
    transport = await router.create_webrtc_transport(listen_ips=["127.0.0.1"], enable_sctp=True)
    assert (transport.ice_state, transport.dtls_state, transport.sctp_state) == (
        "new", "new", "new")
    events: List[Tuple[str, Any]] = []
    for event in ("icestatechange", "iceselectedtuplechange", "dtlsstatechange",
                  "sctpstatechange"):
        transport.on(event, lambda value, event=event: events.append((event, value)))
    observed: List[str] = []
    transport.observer.on("dtlsstatechange", observed.append)
    data_peer.channel("chat", id=1)
    await data_peer.connect(transport)
    await wait_until(lambda: transport.sctp_state == "connected", 5, "SCTP connected")

    peer_tuple = {"localIp": "127.0.0.1", "localPort": transport.ice_candidates[0]["port"],
                  "remoteIp": "127.0.0.1", "remotePort": sdp_host_udp_port(data_peer.offer_sdp),
                  "protocol": "udp"}
    ice = [v for e, v in events if e == "icestatechange"]
    assert ice in (["connected", "completed"], ["completed"])
    assert [v for e, v in events if e == "iceselectedtuplechange"] == [peer_tuple]
    assert [v for e, v in events if e == "dtlsstatechange"] == ["connecting", "connected"]
    assert [v for e, v in events if e == "sctpstatechange"] == ["connecting", "connected"]
    # SCTP comes up over DTLS, DTLS after ICE.
    order = [e for e, _ in events]
    assert order.index("sctpstatechange") > order.index("dtlsstatechange") > order.index(
        "icestatechange")
    assert observed == ["connecting", "connected"]
    assert transport.ice_state == "completed" and transport.ice_selected_tuple == peer_tuple
    assert transport.dtls_state == "connected"
    assert transport.dtls_remote_cert is not None
    der = ssl.PEM_cert_to_DER_cert(transport.dtls_remote_cert)
    digest = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert digest == data_peer.fingerprint.upper()
    dump = await transport.dump()
    assert (dump["iceState"], dump["dtlsState"], dump["sctpState"]) == (
        "completed", "connected", "connected")
    assert dump["iceSelectedTuple"] == peer_tuple

    events.clear()
    await data_peer.close()
    await wait_until(lambda: transport.dtls_state == "closed", 5, "DTLS closed")
    assert ("sctpstatechange", "failed") in events
    assert events[-1] == ("dtlsstatechange", "closed")


async def test_methods_reject_if_closed(transport: WebRtcTransport) -> None:
    closes = []
    transport.observer.once("close", lambda: closes.append(True))
    transport.close()
    assert closes == [True]
    assert transport.closed
    assert transport.ice_state == "closed"
    assert transport.ice_selected_tuple is None
    assert transport.dtls_state == "closed"
    assert transport.sctp_state is None
    with pytest.raises(RequestError):
        await transport.dump()
    with pytest.raises(RequestError):
        await transport.get_stats()
    with pytest.raises(InvalidStateError):
        await transport.connect(dtls_parameters={"fingerprints": []})
    with pytest.raises(RequestError):
        await transport.set_max_incoming_bitrate(200000)
    with pytest.raises(RequestError):
        await transport.restart_ice()


async def test_fixed_port(router: Router) -> None:
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t = await router.create_webrtc_transport(listen_ips=["127.0.0.1"], port=port)
    assert t.ice_candidates[0]["port"] == port


async def test_routerclose_and_workerclose(worker: Worker, router: Router,
                                           transport: WebRtcTransport) -> None:
    events = []
    transport.on("routerclose", lambda: events.append("routerclose"))
    transport.observer.on("close", lambda: events.append("close"))
    other = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
    router.close()
    assert events == ["routerclose", "close"]
    assert transport.closed and other.closed
    assert transport.ice_state == "closed"
