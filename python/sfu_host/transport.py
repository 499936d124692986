"""What every transport type has in common."""

from __future__ import annotations

import copy
import logging
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from . import ortc
from .channel import Channel, PayloadChannel
from .consumer import Consumer
from .data_consumer import DataConsumer
from .data_producer import DataProducer
from .errors import InvalidStateError
from .events import EventEmitter
from .producer import Producer
from .types import (AppData, RtpCapabilities, RtpParameters, SctpStreamParameters,
                    check_app_data, check_bool, check_int, check_types_list)

if TYPE_CHECKING:
    from .router import Router

logger = logging.getLogger("sfu_host.transport")

_MAX_MID = 100000000


class Transport(EventEmitter):
    """Base of :class:`WebRtcTransport`, :class:`PlainTransport`,
    :class:`PipeTransport` and :class:`DirectTransport`.

    Events: ``routerclose``, ``trace`` (trace). Observer events: ``close``,
    ``newproducer``, ``newconsumer``, ``newdataproducer``,
    ``newdataconsumer``, ``trace``, and those of the subclass.
    """

    #: Producers keep their own CNAME (pipe transports).
    _keeps_cname = False
    #: Data producers and consumers are ``direct`` ones (direct transports).
    _direct_data = False

    def __init__(self, *, internal: Dict[str, Any], data: Dict[str, Any], router: Router,
                 app_data: AppData) -> None:
        super().__init__()
        self._internal = internal
        self._data = dict(data) if isinstance(data, dict) else {}
        self._router = router
        self._channel: Channel = router._channel
        self._payload_channel: PayloadChannel = router._payload_channel
        self._app_data = app_data
        self._closed = False
        self._producers: Dict[str, Producer] = {}
        self._consumers: Dict[str, Consumer] = {}
        self._data_producers: Dict[str, DataProducer] = {}
        self._data_consumers: Dict[str, DataConsumer] = {}
        self._cname_for_producers: Optional[str] = None
        self._next_mid = 0
        self._sctp_stream_ids: Optional[bytearray] = None
        self._next_sctp_stream_id = 0
        self._observer = EventEmitter()
        self._channel.subscribe(self.id, self._on_notification)

    # ----- properties -------------------------------------------------------

    @property
    def id(self) -> str:
        """Transport id."""
        return str(self._internal["transportId"])

    @property
    def closed(self) -> bool:
        """Whether the transport is closed."""
        return self._closed

    @property
    def router(self) -> Router:
        """The router the transport belongs to."""
        return self._router

    @property
    def app_data(self) -> AppData:
        """Custom data of the application."""
        return self._app_data

    @property
    def observer(self) -> EventEmitter:
        """Emits ``close``, ``newproducer``, ``newconsumer``,
        ``newdataproducer``, ``newdataconsumer`` and the transport's own
        events."""
        return self._observer

    @property
    def producers(self) -> List[Producer]:
        """Open producers of this transport."""
        return list(self._producers.values())

    @property
    def consumers(self) -> List[Consumer]:
        """Open consumers of this transport."""
        return list(self._consumers.values())

    @property
    def data_producers(self) -> List[DataProducer]:
        """Open data producers of this transport."""
        return list(self._data_producers.values())

    @property
    def data_consumers(self) -> List[DataConsumer]:
        """Open data consumers of this transport."""
        return list(self._data_consumers.values())

    # ----- closing ----------------------------------------------------------

    def _mark_closed(self) -> None:
        """Subclasses update their state fields here."""

    def close(self) -> None:
        """Closes the transport and its producers and consumers (which emit
        ``transportclose``)."""
        if self._closed:
            return
        self._closed = True
        self._mark_closed()
        self._unsubscribe()
        self._router._fire_and_forget("transport.close", dict(self._internal))
        self._close_children(tell_router=True)
        self._router._transport_closed(self)
        self._observer.safe_emit("close")

    def _router_closed(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._mark_closed()
        self._unsubscribe()
        self._close_children(tell_router=False)
        self.safe_emit("routerclose")
        self._observer.safe_emit("close")

    def _unsubscribe(self) -> None:
        self._channel.unsubscribe(self.id)
        self._payload_channel.unsubscribe(self.id)

    def _close_children(self, tell_router: bool) -> None:
        for producer in list(self._producers.values()):
            producer._transport_closed()
            if tell_router:
                self._router._producer_removed(producer)
        self._producers.clear()
        for consumer in list(self._consumers.values()):
            consumer._transport_closed()
        self._consumers.clear()
        for data_producer in list(self._data_producers.values()):
            data_producer._transport_closed()
            if tell_router:
                self._router._data_producer_removed(data_producer)
        self._data_producers.clear()
        for data_consumer in list(self._data_consumers.values()):
            data_consumer._transport_closed()
        self._data_consumers.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidStateError("Transport closed")

    # ----- notifications ----------------------------------------------------

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "trace":
            self.safe_emit("trace", data)
            self._observer.safe_emit("trace", data)
        elif not self._handle_notification(event, data):
            logger.error("ignoring unknown event %r", event)

    def _handle_notification(self, event: str, data: Any) -> bool:
        """Subclass events; returns whether ``event`` was one of them."""
        return False

    def _update_state(self, key: str, event: str, value: Any) -> None:
        self._data[key] = value
        self.safe_emit(event, value)
        self._observer.safe_emit(event, value)

    # ----- requests ---------------------------------------------------------

    async def dump(self) -> Dict[str, Any]:
        """The worker's view of the transport (``transport.dump``)."""
        result: Dict[str, Any] = await self._channel.request("transport.dump",
                                                             dict(self._internal))
        return result

    async def get_stats(self) -> List[Dict[str, Any]]:
        """Transport statistics (``transport.getStats``)."""
        result: List[Dict[str, Any]] = await self._channel.request("transport.getStats",
                                                                   dict(self._internal))
        return result

    async def connect(self, **params: Any) -> None:
        """Gives the transport the remote side's parameters (subclasses
        document theirs)."""
        raise NotImplementedError

    async def set_max_incoming_bitrate(self, bitrate: int) -> None:
        """Caps the bitrate the remote side may send (0: no cap)."""
        check_int("bitrate", bitrate, 0)
        await self._channel.request("transport.setMaxIncomingBitrate", dict(self._internal),
                                    {"bitrate": bitrate})

    async def set_max_outgoing_bitrate(self, bitrate: int) -> None:
        """Caps the bitrate the transport sends (0: no cap)."""
        check_int("bitrate", bitrate, 0)
        await self._channel.request("transport.setMaxOutgoingBitrate", dict(self._internal),
                                    {"bitrate": bitrate})

    async def enable_trace_event(self, types: Optional[Sequence[str]] = None) -> None:
        """Enables ``trace`` events of these types (``probation``, ``bwe``)."""
        await self._channel.request("transport.enableTraceEvent", dict(self._internal),
                                    {"types": check_types_list(types)})

    async def produce(self, *, kind: str, rtp_parameters: RtpParameters, id: Optional[str] = None,
                      paused: bool = False, key_frame_request_delay: Optional[int] = None,
                      app_data: Optional[AppData] = None) -> Producer:
        """Creates a producer: media the remote side sends into the router.

        ``rtp_parameters`` are validated and completed (a copy; the argument
        is not modified); their codecs must be in the router's capabilities.
        """
        if id is not None and (not isinstance(id, str) or not id):
            raise TypeError("if given, id must be a non-empty string")
        if id and id in self._producers:
            raise ValueError(f'a Producer with same id "{id}" already exists')
        if not isinstance(kind, str):
            raise TypeError("kind must be a string")
        if kind not in ("audio", "video"):
            raise ValueError(f'invalid kind "{kind}"')
        check_bool("paused", paused)
        if key_frame_request_delay is not None:
            check_int("key_frame_request_delay", key_frame_request_delay, 0)
        app_data = check_app_data(app_data)
        params = copy.deepcopy(rtp_parameters)
        ortc.validate_rtp_parameters(params)
        if not params.get("encodings"):
            params["encodings"] = [{}]
        if not self._keeps_cname:
            rtcp = params.setdefault("rtcp", {})
            if self._cname_for_producers is None:
                cname = rtcp.get("cname")
                self._cname_for_producers = cname if cname else uuid.uuid4().hex[:8]
            rtcp["cname"] = self._cname_for_producers
        caps = self._router.rtp_capabilities
        rtp_mapping = ortc.get_producer_rtp_parameters_mapping(params, caps)
        consumable = ortc.get_consumable_rtp_parameters(kind, params, caps, rtp_mapping)
        self._check_open()
        internal = dict(self._internal)
        internal["producerId"] = id or str(uuid.uuid4())
        req: Dict[str, Any] = {"kind": kind, "rtpParameters": params, "rtpMapping": rtp_mapping,
                               "paused": paused}
        if key_frame_request_delay is not None:
            req["keyFrameRequestDelay"] = key_frame_request_delay
        status = await self._channel.request("transport.produce", internal, req)
        producer = Producer(internal=internal, kind=kind, rtp_parameters=params,
                            type=str((status or {}).get("type", "simple")),
                            consumable_rtp_parameters=consumable, transport=self,
                            app_data=app_data, paused=paused)
        self._producers[producer.id] = producer
        self._router._producer_added(producer)
        self._observer.safe_emit("newproducer", producer)
        return producer

    def _producer_closed(self, producer: Producer) -> None:
        self._producers.pop(producer.id, None)
        self._router._producer_removed(producer)

    async def consume(self, *, producer_id: str, rtp_capabilities: RtpCapabilities,
                      paused: bool = False, mid: Optional[str] = None,
                      preferred_layers: Optional[Mapping[str, int]] = None,
                      pipe: bool = False, app_data: Optional[AppData] = None) -> Consumer:
        """Creates a consumer: a producer's media sent to the remote side,
        in a form its ``rtp_capabilities`` accept."""
        if not isinstance(producer_id, str) or not producer_id:
            raise TypeError("missing producer_id")
        if mid is not None and (not isinstance(mid, str) or not mid):
            raise TypeError("if given, mid must be a non-empty string")
        check_bool("paused", paused)
        check_bool("pipe", pipe)
        layers = _check_layers(preferred_layers)
        app_data = check_app_data(app_data)
        caps = copy.deepcopy(rtp_capabilities)
        ortc.validate_rtp_capabilities(caps)
        producer = self._router.get_producer(producer_id)
        if producer is None:
            raise ValueError(f'Producer with id "{producer_id}" not found')
        rtp_parameters = ortc.get_consumer_rtp_parameters(producer.consumable_rtp_parameters,
                                                          caps, pipe)
        if not pipe:
            if mid:
                rtp_parameters["mid"] = mid
            else:
                rtp_parameters["mid"] = str(self._next_mid)
                self._next_mid += 1
                if self._next_mid == _MAX_MID:
                    logger.error("consume() | reached the largest MID %s", _MAX_MID)
                    self._next_mid = 0
        self._check_open()
        internal = dict(self._internal)
        internal["consumerId"] = str(uuid.uuid4())
        internal["producerId"] = producer_id
        consumer_type = "pipe" if pipe else producer.type
        req: Dict[str, Any] = {
            "kind": producer.kind, "rtpParameters": rtp_parameters, "type": consumer_type,
            "consumableRtpEncodings": producer.consumable_rtp_parameters["encodings"],
            "paused": paused,
        }
        if layers is not None:
            req["preferredLayers"] = layers
        status = await self._channel.request("transport.consume", internal, req)
        return self._add_consumer(internal, producer.kind, rtp_parameters, consumer_type,
                                  app_data, status or {})

    def _add_consumer(self, internal: Dict[str, Any], kind: str, rtp_parameters: RtpParameters,
                      consumer_type: str, app_data: AppData, status: Dict[str, Any],
                      with_score: bool = True) -> Consumer:
        consumer = Consumer(internal=internal, kind=kind, rtp_parameters=rtp_parameters,
                            type=consumer_type, transport=self, app_data=app_data,
                            paused=bool(status.get("paused")),
                            producer_paused=bool(status.get("producerPaused")),
                            score=status.get("score") if with_score else None,
                            preferred_layers=status.get("preferredLayers") if with_score
                            else None)
        self._consumers[consumer.id] = consumer
        self._observer.safe_emit("newconsumer", consumer)
        return consumer

    def _consumer_closed(self, consumer: Consumer) -> None:
        self._consumers.pop(consumer.id, None)

    async def produce_data(self, *, sctp_stream_parameters: Optional[SctpStreamParameters] = None,
                           label: str = "", protocol: str = "", id: Optional[str] = None,
                           app_data: Optional[AppData] = None) -> DataProducer:
        """Creates a data producer: messages the remote side (or, on a
        direct transport, this program) sends into the router."""
        if id is not None and (not isinstance(id, str) or not id):
            raise TypeError("if given, id must be a non-empty string")
        if id and id in self._data_producers:
            raise ValueError(f'a DataProducer with same id "{id}" already exists')
        if not isinstance(label, str) or not isinstance(protocol, str):
            raise TypeError("label and protocol must be strings")
        app_data = check_app_data(app_data)
        params: Optional[SctpStreamParameters] = None
        if not self._direct_data:
            data_type = "sctp"
            if sctp_stream_parameters is None:
                raise TypeError("missing sctp_stream_parameters")
            params = copy.deepcopy(sctp_stream_parameters)
            ortc.validate_sctp_stream_parameters(params)
        else:
            data_type = "direct"
            if sctp_stream_parameters is not None:
                logger.warning("produce_data() | sctp_stream_parameters are ignored on a "
                               "DirectTransport")
        self._check_open()
        internal = dict(self._internal)
        internal["dataProducerId"] = id or str(uuid.uuid4())
        req: Dict[str, Any] = {"type": data_type, "label": label, "protocol": protocol}
        if params is not None:
            req["sctpStreamParameters"] = params
        data = await self._channel.request("transport.produceData", internal, req)
        data_producer = DataProducer(internal=internal, data=data or {}, transport=self,
                                     app_data=app_data)
        self._data_producers[data_producer.id] = data_producer
        self._router._data_producer_added(data_producer)
        self._observer.safe_emit("newdataproducer", data_producer)
        return data_producer

    def _data_producer_closed(self, data_producer: DataProducer) -> None:
        self._data_producers.pop(data_producer.id, None)
        self._router._data_producer_removed(data_producer)

    async def consume_data(self, *, data_producer_id: str, ordered: Optional[bool] = None,
                           max_packet_life_time: Optional[int] = None,
                           max_retransmits: Optional[int] = None,
                           app_data: Optional[AppData] = None) -> DataConsumer:
        """Creates a data consumer: a data producer's messages sent to the
        remote side (or, on a direct transport, to this program)."""
        if not isinstance(data_producer_id, str) or not data_producer_id:
            raise TypeError("missing data_producer_id")
        if ordered is not None:
            check_bool("ordered", ordered)
        if max_packet_life_time is not None:
            check_int("max_packet_life_time", max_packet_life_time, 0, 65535)
        if max_retransmits is not None:
            check_int("max_retransmits", max_retransmits, 0, 65535)
        app_data = check_app_data(app_data)
        data_producer = self._router.get_data_producer(data_producer_id)
        if data_producer is None:
            raise ValueError(f'DataProducer with id "{data_producer_id}" not found')
        self._check_open()
        params: Optional[SctpStreamParameters] = None
        stream_id: Optional[int] = None
        if not self._direct_data:
            data_type = "sctp"
            params = copy.deepcopy(data_producer.sctp_stream_parameters) or {}
            if ordered is not None:
                params["ordered"] = ordered
            if max_packet_life_time is not None:
                params["maxPacketLifeTime"] = max_packet_life_time
            if max_retransmits is not None:
                params["maxRetransmits"] = max_retransmits
            params["streamId"] = 0
            ortc.validate_sctp_stream_parameters(params)
            stream_id = self._take_sctp_stream_id()
            params["streamId"] = stream_id
        else:
            data_type = "direct"
            if ordered is not None or max_packet_life_time is not None or \
                    max_retransmits is not None:
                logger.warning("consume_data() | ordered, max_packet_life_time and "
                               "max_retransmits are ignored on a DirectTransport")
        internal = dict(self._internal)
        internal["dataConsumerId"] = str(uuid.uuid4())
        internal["dataProducerId"] = data_producer_id
        req: Dict[str, Any] = {"type": data_type, "label": data_producer.label,
                               "protocol": data_producer.protocol}
        if params is not None:
            req["sctpStreamParameters"] = params
        try:
            data = await self._channel.request("transport.consumeData", internal, req)
        except BaseException:
            self._release_sctp_stream_id(stream_id)
            raise
        data_consumer = DataConsumer(internal=internal, data=data or {}, transport=self,
                                     app_data=app_data, sctp_stream_id=stream_id)
        self._data_consumers[data_consumer.id] = data_consumer
        self._observer.safe_emit("newdataconsumer", data_consumer)
        return data_consumer

    def _data_consumer_closed(self, data_consumer: DataConsumer) -> None:
        self._data_consumers.pop(data_consumer.id, None)
        self._release_sctp_stream_id(data_consumer._sctp_stream_id)

    def _take_sctp_stream_id(self) -> int:
        sctp = self._data.get("sctpParameters")
        if not isinstance(sctp, dict) or not isinstance(sctp.get("MIS"), int):
            raise TypeError("missing data.sctpParameters.MIS (SCTP not enabled)")
        if self._sctp_stream_ids is None:
            self._sctp_stream_ids = bytearray(sctp["MIS"])
        ids = self._sctp_stream_ids
        for i in range(len(ids)):
            stream_id = (self._next_sctp_stream_id + i) % len(ids)
            if not ids[stream_id]:
                ids[stream_id] = 1
                self._next_sctp_stream_id = stream_id + 1
                return stream_id
        raise InvalidStateError("no sctpStreamId available")

    def _release_sctp_stream_id(self, stream_id: Optional[int]) -> None:
        if stream_id is not None and self._sctp_stream_ids is not None:
            self._sctp_stream_ids[stream_id] = 0


def _check_layers(layers: Optional[Mapping[str, Any]]) -> Optional[Dict[str, int]]:
    if layers is None:
        return None
    if not isinstance(layers, Mapping):
        raise TypeError("preferred_layers must be a mapping")
    out: Dict[str, int] = {}
    for key in ("spatialLayer", "temporalLayer"):
        value = layers.get(key)
        if value is None:
            continue
        out[key] = check_int(key, value, 0)
    if "spatialLayer" not in out:
        raise TypeError("preferred_layers needs spatialLayer")
    return out


__all__ = ["Transport"]
