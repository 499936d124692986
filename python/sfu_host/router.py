"""Routers: the media rooms of a worker."""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Type, TypeVar)

from . import ortc
from .active_speaker_observer import ActiveSpeakerObserver
from .audio_level_observer import AudioLevelObserver
from .channel import Channel, PayloadChannel
from .direct_transport import DirectTransport
from .errors import InvalidStateError
from .events import EventEmitter
from .pipe_transport import PipeTransport
from .plain_transport import PlainTransport
from .rtp_observer import RtpObserver
from .transport import Transport
from .types import (AppData, RtpCapabilities, TransportListenIp, check_app_data, check_bool,
                    check_int, normalize_listen_ip, normalize_num_sctp_streams)
from .webrtc_transport import WebRtcTransport

if TYPE_CHECKING:
    from .consumer import Consumer
    from .data_consumer import DataConsumer
    from .data_producer import DataProducer
    from .producer import Producer

logger = logging.getLogger("sfu_host.router")

TransportT = TypeVar("TransportT", bound=Transport)


class PipeToRouterResult:
    """What :meth:`Router.pipe_to_router` created: either
    ``pipe_consumer``/``pipe_producer`` or
    ``pipe_data_consumer``/``pipe_data_producer``."""

    def __init__(self, *, pipe_consumer: Optional[Consumer] = None,
                 pipe_producer: Optional[Producer] = None,
                 pipe_data_consumer: Optional[DataConsumer] = None,
                 pipe_data_producer: Optional[DataProducer] = None) -> None:
        self.pipe_consumer = pipe_consumer
        self.pipe_producer = pipe_producer
        self.pipe_data_consumer = pipe_data_consumer
        self.pipe_data_producer = pipe_data_producer

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in vars(self).items() if v is not None]
        return f"PipeToRouterResult({', '.join(parts)})"


class Router(EventEmitter):
    """A router: transports, producers and consumers that exchange media.

    Events: ``workerclose``. Observer events: ``close``, ``newtransport``
    (transport), ``newrtpobserver`` (RTP observer).
    """

    def __init__(self, *, internal: Dict[str, Any], rtp_capabilities: RtpCapabilities,
                 channel: Channel, payload_channel: PayloadChannel, app_data: AppData,
                 on_close: Callable[[Router], None]) -> None:
        super().__init__()
        self._internal = internal
        self._rtp_capabilities = rtp_capabilities
        self._channel = channel
        self._payload_channel = payload_channel
        self._app_data = app_data
        self._on_close = on_close
        self._closed = False
        self._transports: Dict[str, Transport] = {}
        self._producers: Dict[str, Producer] = {}
        self._rtp_observers: Dict[str, RtpObserver] = {}
        self._data_producers: Dict[str, DataProducer] = {}
        self._pipe_pairs: Dict[Router, Tuple[PipeTransport, PipeTransport]] = {}
        self._pipe_lock = asyncio.Lock()
        self._observer = EventEmitter()

    @property
    def id(self) -> str:
        """Router id."""
        return str(self._internal["routerId"])

    @property
    def closed(self) -> bool:
        """Whether the router is closed."""
        return self._closed

    @property
    def rtp_capabilities(self) -> RtpCapabilities:
        """RTP capabilities of the router (what it can receive and send)."""
        return self._rtp_capabilities

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close``, ``newtransport`` and ``newrtpobserver``."""
        return self._observer

    @property
    def transports(self) -> List[Transport]:
        """The router's open transports."""
        return list(self._transports.values())

    def get_producer(self, producer_id: str) -> Optional[Producer]:
        """The open producer with that id in this router, if any."""
        return self._producers.get(producer_id)

    def get_data_producer(self, data_producer_id: str) -> Optional[DataProducer]:
        """The open data producer with that id in this router, if any."""
        return self._data_producers.get(data_producer_id)

    # ----- closing ----------------------------------------------------------

    def close(self) -> None:
        """Closes the router and everything in it."""
        if self._closed:
            return
        self._closed = True
        self._fire_and_forget("router.close", dict(self._internal))
        self._close_children()
        self._on_close(self)
        self._observer.safe_emit("close")

    def _worker_closed(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_children()
        self.safe_emit("workerclose")
        self._observer.safe_emit("close")

    def _close_children(self) -> None:
        for transport in list(self._transports.values()):
            transport._router_closed()
        self._transports.clear()
        self._producers.clear()
        for rtp_observer in list(self._rtp_observers.values()):
            rtp_observer._router_closed()
        self._rtp_observers.clear()
        self._data_producers.clear()
        self._pipe_pairs.clear()

    def _fire_and_forget(self, method: str, internal: Dict[str, Any]) -> None:
        """Sends a request now (so that it precedes any later one) without
        waiting for its answer; failures are ignored."""
        if self._channel.closed:
            return
        try:
            fut = self._channel.request_nowait(method, internal)
        except Exception:
            return
        fut.add_done_callback(_ignore_result)

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidStateError("Router closed")

    # ----- requests ---------------------------------------------------------

    async def dump(self) -> Dict[str, Any]:
        """The worker's view of the router (``router.dump``)."""
        result: Dict[str, Any] = await self._channel.request("router.dump", dict(self._internal))
        return result

    def _register(self, transport: Transport) -> None:
        self._transports[transport.id] = transport
        self._observer.safe_emit("newtransport", transport)

    def _transport_closed(self, transport: Transport) -> None:
        self._transports.pop(transport.id, None)

    def _producer_added(self, producer: Producer) -> None:
        self._producers[producer.id] = producer

    def _producer_removed(self, producer: Producer) -> None:
        if self._producers.get(producer.id) is producer:
            del self._producers[producer.id]

    def _data_producer_added(self, data_producer: DataProducer) -> None:
        self._data_producers[data_producer.id] = data_producer

    def _data_producer_removed(self, data_producer: DataProducer) -> None:
        if self._data_producers.get(data_producer.id) is data_producer:
            del self._data_producers[data_producer.id]

    def _new_internal(self, key: str) -> Dict[str, Any]:
        internal = dict(self._internal)
        internal[key] = str(uuid.uuid4())
        return internal

    async def create_webrtc_transport(
            self, *, listen_ips: Sequence[TransportListenIp], port: Optional[int] = None,
            enable_udp: bool = True, enable_tcp: bool = False, prefer_udp: bool = False,
            prefer_tcp: bool = False, initial_available_outgoing_bitrate: int = 600000,
            enable_sctp: bool = False, num_sctp_streams: Optional[Mapping[str, int]] = None,
            max_sctp_message_size: int = 262144, sctp_send_buffer_size: int = 262144,
            app_data: Optional[AppData] = None) -> WebRtcTransport:
        """Creates a WebRTC transport (ICE + DTLS, optionally SCTP)."""
        if isinstance(listen_ips, (str, bytes)) or not isinstance(listen_ips, Sequence):
            raise TypeError("listen_ips must be a sequence")
        if not listen_ips:
            raise ValueError("listen_ips must not be empty")
        ips = [normalize_listen_ip(ip) for ip in listen_ips]
        app_data = check_app_data(app_data)
        check_int("initial_available_outgoing_bitrate", initial_available_outgoing_bitrate, 0)
        req = self._network_transport_request(
            {"enable_udp": enable_udp, "enable_tcp": enable_tcp, "prefer_udp": prefer_udp,
             "prefer_tcp": prefer_tcp, "enable_sctp": enable_sctp},
            port, num_sctp_streams, max_sctp_message_size, sctp_send_buffer_size)
        req.update({
            "listenIps": ips, "enableUdp": enable_udp, "enableTcp": enable_tcp,
            "preferUdp": prefer_udp, "preferTcp": prefer_tcp,
            "initialAvailableOutgoingBitrate": initial_available_outgoing_bitrate,
            "enableSctp": enable_sctp, "isDataChannel": True,
        })
        return await self._create_transport("router.createWebRtcTransport", WebRtcTransport,
                                            req, app_data)

    async def create_plain_transport(
            self, *, listen_ip: TransportListenIp, port: Optional[int] = None,
            rtcp_mux: bool = True, comedia: bool = False, enable_sctp: bool = False,
            num_sctp_streams: Optional[Mapping[str, int]] = None,
            max_sctp_message_size: int = 262144, sctp_send_buffer_size: int = 262144,
            enable_srtp: bool = False, srtp_crypto_suite: str = "AES_CM_128_HMAC_SHA1_80",
            app_data: Optional[AppData] = None) -> PlainTransport:
        """Creates a plain RTP transport (RTP/RTCP over UDP, optional SRTP and
        SCTP)."""
        ip = normalize_listen_ip(listen_ip)
        app_data = check_app_data(app_data)
        req = self._network_transport_request(
            {"rtcp_mux": rtcp_mux, "comedia": comedia, "enable_sctp": enable_sctp,
             "enable_srtp": enable_srtp},
            port, num_sctp_streams, max_sctp_message_size, sctp_send_buffer_size)
        if not isinstance(srtp_crypto_suite, str):
            raise TypeError("srtp_crypto_suite must be a string")
        req.update({
            "listenIp": ip, "rtcpMux": rtcp_mux, "comedia": comedia,
            "enableSctp": enable_sctp, "isDataChannel": False,
            "enableSrtp": enable_srtp, "srtpCryptoSuite": srtp_crypto_suite,
        })
        return await self._create_transport("router.createPlainTransport", PlainTransport,
                                            req, app_data)

    async def create_pipe_transport(
            self, *, listen_ip: TransportListenIp, port: Optional[int] = None,
            enable_sctp: bool = False, num_sctp_streams: Optional[Mapping[str, int]] = None,
            max_sctp_message_size: int = 268435456, sctp_send_buffer_size: int = 268435456,
            enable_rtx: bool = False, enable_srtp: bool = False,
            app_data: Optional[AppData] = None) -> PipeTransport:
        """Creates a pipe transport, to connect this router with another one."""
        ip = normalize_listen_ip(listen_ip)
        app_data = check_app_data(app_data)
        req = self._network_transport_request(
            {"enable_sctp": enable_sctp, "enable_rtx": enable_rtx, "enable_srtp": enable_srtp},
            port, num_sctp_streams, max_sctp_message_size, sctp_send_buffer_size)
        req.update({
            "listenIp": ip, "enableSctp": enable_sctp, "isDataChannel": False,
            "enableRtx": enable_rtx, "enableSrtp": enable_srtp,
        })
        return await self._create_transport("router.createPipeTransport", PipeTransport,
                                            req, app_data)

    async def create_direct_transport(self, *, max_message_size: int = 262144,
                                      app_data: Optional[AppData] = None) -> DirectTransport:
        """Creates a direct transport: RTP, RTCP and data messages exchanged
        with this program instead of a network peer."""
        check_int("max_message_size", max_message_size, 1)
        app_data = check_app_data(app_data)
        return await self._create_transport(
            "router.createDirectTransport", DirectTransport,
            {"direct": True, "maxMessageSize": max_message_size}, app_data)

    @staticmethod
    def _network_transport_request(flags: Mapping[str, bool], port: Optional[int],
                                   num_sctp_streams: Optional[Mapping[str, int]],
                                   max_sctp_message_size: int,
                                   sctp_send_buffer_size: int) -> Dict[str, Any]:
        """Checks what the WebRTC, plain and pipe transports share (their
        boolean options, port and SCTP settings) and gives the request's SCTP
        fields and port."""
        for name, flag in flags.items():
            check_bool(name, flag)
        if port is not None:
            check_int("port", port, 0, 65535)
        check_int("max_sctp_message_size", max_sctp_message_size, 1)
        check_int("sctp_send_buffer_size", sctp_send_buffer_size, 1)
        req: Dict[str, Any] = {
            "numSctpStreams": normalize_num_sctp_streams(num_sctp_streams),
            "maxSctpMessageSize": max_sctp_message_size,
            "sctpSendBufferSize": sctp_send_buffer_size,
        }
        if port is not None:
            req["port"] = port
        return req

    async def _create_transport(self, method: str, cls: Type[TransportT], req: Dict[str, Any],
                                app_data: AppData) -> TransportT:
        """Asks the worker for a transport of this router, with its arguments
        checked, and registers it."""
        self._check_open()
        internal = self._new_internal("transportId")
        data = await self._channel.request(method, internal, req)
        transport = cls(internal=internal, data=data, router=self, app_data=app_data)
        self._register(transport)
        return transport

    async def create_active_speaker_observer(
            self, *, interval: int = 300, app_data: Optional[AppData] = None) -> ActiveSpeakerObserver:
        """Creates an active speaker observer (emits ``dominantspeaker``)."""
        check_int("interval", interval, 1)
        app_data = check_app_data(app_data)
        self._check_open()
        internal = self._new_internal("rtpObserverId")
        await self._channel.request("router.createActiveSpeakerObserver", internal,
                                    {"interval": interval})
        rtp_observer = ActiveSpeakerObserver(internal=internal, router=self, app_data=app_data)
        self._add_rtp_observer(rtp_observer)
        return rtp_observer

    async def create_audio_level_observer(
            self, *, max_entries: int = 1, threshold: int = -80, interval: int = 1000,
            app_data: Optional[AppData] = None) -> AudioLevelObserver:
        """Creates an audio level observer (emits ``volumes`` and ``silence``)."""
        check_int("max_entries", max_entries, 1)
        check_int("threshold", threshold, -127, 0)
        check_int("interval", interval, 1)
        app_data = check_app_data(app_data)
        self._check_open()
        internal = self._new_internal("rtpObserverId")
        await self._channel.request("router.createAudioLevelObserver", internal,
                                    {"maxEntries": max_entries, "threshold": threshold,
                                     "interval": interval})
        rtp_observer = AudioLevelObserver(internal=internal, router=self, app_data=app_data)
        self._add_rtp_observer(rtp_observer)
        return rtp_observer

    def _add_rtp_observer(self, rtp_observer: RtpObserver) -> None:
        self._rtp_observers[rtp_observer.id] = rtp_observer
        self._observer.safe_emit("newrtpobserver", rtp_observer)

    def _rtp_observer_closed(self, rtp_observer: RtpObserver) -> None:
        self._rtp_observers.pop(rtp_observer.id, None)

    def can_consume(self, *, producer_id: str, rtp_capabilities: RtpCapabilities) -> bool:
        """Whether an endpoint with ``rtp_capabilities`` can consume that
        producer (``False`` also when there is no such producer or the
        capabilities are invalid)."""
        producer = self._producers.get(producer_id)
        if producer is None:
            logger.error("can_consume() | no producer with id %r", producer_id)
            return False
        try:
            return ortc.can_consume(producer.consumable_rtp_parameters,
                                    copy.deepcopy(rtp_capabilities))
        except (TypeError, ValueError) as error:
            logger.error("can_consume() | invalid capabilities: %s", error)
            return False

    # ----- piping -----------------------------------------------------------

    async def pipe_to_router(
            self, *, router: Router, producer_id: Optional[str] = None,
            data_producer_id: Optional[str] = None, listen_ip: TransportListenIp = "127.0.0.1",
            enable_sctp: bool = True, num_sctp_streams: Optional[Mapping[str, int]] = None,
            enable_rtx: bool = False, enable_srtp: bool = False) -> PipeToRouterResult:
        """Makes a producer (or data producer) of this router available in
        ``router`` (of this worker or another one) through a pair of pipe
        transports, created on first use for each pair of routers."""
        if not producer_id and not data_producer_id:
            raise TypeError("missing producer_id or data_producer_id")
        if producer_id and data_producer_id:
            raise TypeError("just producer_id or data_producer_id can be given")
        if not isinstance(router, Router):
            raise TypeError("router must be a Router")
        if router is self:
            raise ValueError("cannot use this Router as destination")
        self._check_open()

        producer: Optional[Producer] = None
        data_producer: Optional[DataProducer] = None
        if producer_id:
            producer = self._producers.get(producer_id)
            if producer is None:
                raise ValueError("Producer not found")
        else:
            assert data_producer_id is not None
            data_producer = self._data_producers.get(data_producer_id)
            if data_producer is None:
                raise ValueError("DataProducer not found")

        local, remote = await self._pipe_pair(router, listen_ip, enable_sctp, num_sctp_streams,
                                              enable_rtx, enable_srtp)

        if producer is not None:
            return await self._pipe_producer(producer, local, remote)
        assert data_producer is not None
        return await self._pipe_data_producer(data_producer, local, remote)

    async def _pipe_pair(self, router: Router, listen_ip: TransportListenIp, enable_sctp: bool,
                         num_sctp_streams: Optional[Mapping[str, int]], enable_rtx: bool,
                         enable_srtp: bool) -> Tuple[PipeTransport, PipeTransport]:
        async with self._pipe_lock:
            self._check_open()
            pair = self._pipe_pairs.get(router)
            if pair is not None:
                return pair
            local: Optional[PipeTransport] = None
            remote: Optional[PipeTransport] = None
            options: Dict[str, Any] = dict(listen_ip=listen_ip, enable_sctp=enable_sctp,
                                           num_sctp_streams=num_sctp_streams,
                                           enable_rtx=enable_rtx, enable_srtp=enable_srtp)
            try:
                results = await asyncio.gather(self.create_pipe_transport(**options),
                                               router.create_pipe_transport(**options),
                                               return_exceptions=True)
                if isinstance(results[0], PipeTransport):
                    local = results[0]
                if isinstance(results[1], PipeTransport):
                    remote = results[1]
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                assert local is not None and remote is not None
                await asyncio.gather(
                    local.connect(ip=remote.tuple["localIp"], port=remote.tuple["localPort"],
                                  srtp_parameters=remote.srtp_parameters),
                    remote.connect(ip=local.tuple["localIp"], port=local.tuple["localPort"],
                                   srtp_parameters=local.srtp_parameters))
            except BaseException:
                if local is not None:
                    local.close()
                if remote is not None:
                    remote.close()
                raise
            local_t, remote_t = local, remote

            def forget() -> None:
                if self._pipe_pairs.get(router) == (local_t, remote_t):
                    del self._pipe_pairs[router]

            def on_local_close() -> None:
                remote_t.close()
                forget()

            def on_remote_close() -> None:
                local_t.close()
                forget()

            local_t.observer.on("close", on_local_close)
            remote_t.observer.on("close", on_remote_close)
            self._pipe_pairs[router] = (local_t, remote_t)
            return local_t, remote_t

    async def _pipe_producer(self, producer: Producer, local: PipeTransport,
                             remote: PipeTransport) -> PipeToRouterResult:
        pipe_consumer: Optional[Consumer] = None
        pipe_producer: Optional[Producer] = None
        try:
            pipe_consumer = await local.consume(producer_id=producer.id)
            pipe_producer = await remote.produce(
                id=producer.id, kind=pipe_consumer.kind,
                rtp_parameters=pipe_consumer.rtp_parameters,
                paused=pipe_consumer.producer_paused, app_data=producer.app_data)
            if producer.closed:
                raise InvalidStateError("original Producer closed")
            if pipe_producer.paused != producer.paused:
                if producer.paused:
                    await pipe_producer.pause()
                else:
                    await pipe_producer.resume()
        except BaseException:
            if pipe_consumer is not None:
                pipe_consumer.close()
            if pipe_producer is not None:
                pipe_producer.close()
            raise
        p_consumer, p_producer = pipe_consumer, pipe_producer

        def fire(coro_fn: Callable[[], Any]) -> Callable[[], None]:
            def handler() -> None:
                if p_producer.closed:
                    return
                task = asyncio.get_running_loop().create_task(_quiet(coro_fn()))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return handler

        p_consumer.observer.on("close", p_producer.close)
        p_consumer.observer.on("pause", fire(p_producer.pause))
        p_consumer.observer.on("resume", fire(p_producer.resume))
        p_producer.observer.on("close", p_consumer.close)
        return PipeToRouterResult(pipe_consumer=p_consumer, pipe_producer=p_producer)

    async def _pipe_data_producer(self, data_producer: DataProducer, local: PipeTransport,
                                  remote: PipeTransport) -> PipeToRouterResult:
        pipe_data_consumer: Optional[DataConsumer] = None
        pipe_data_producer: Optional[DataProducer] = None
        try:
            pipe_data_consumer = await local.consume_data(data_producer_id=data_producer.id)
            pipe_data_producer = await remote.produce_data(
                id=data_producer.id,
                sctp_stream_parameters=pipe_data_consumer.sctp_stream_parameters,
                label=pipe_data_consumer.label, protocol=pipe_data_consumer.protocol,
                app_data=data_producer.app_data)
            if data_producer.closed:
                raise InvalidStateError("original DataProducer closed")
        except BaseException:
            if pipe_data_consumer is not None:
                pipe_data_consumer.close()
            if pipe_data_producer is not None:
                pipe_data_producer.close()
            raise
        pipe_data_consumer.observer.on("close", pipe_data_producer.close)
        pipe_data_producer.observer.on("close", pipe_data_consumer.close)
        return PipeToRouterResult(pipe_data_consumer=pipe_data_consumer,
                                  pipe_data_producer=pipe_data_producer)


def _ignore_result(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()


async def _quiet(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        pass


__all__ = ["Router", "PipeToRouterResult"]
