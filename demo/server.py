"""The demo room: a video call server built on sfu_host.

One room (one router of one worker). Browsers load the page from this
server and talk to it over a WebSocket (JSON requests and notifications);
each participant sends its camera (VP8 simulcast) and microphone through a
WebRTC send transport, receives everyone else on a receive transport, and
chats over a data channel (a DataProducer each, consumed by all the
others). A "Test pattern" participant is there from the start: ffmpeg sends
a VP8 test pattern and an Opus tone into two comedia PlainTransports.

Run by scripts/demo.sh, which installs and bundles the page first:

    python3 demo/server.py [--port 8080] [--listen-ip 127.0.0.1]

GET /api/stats reports what the worker sees (scripts/demo.sh --headless
checks it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

from aiohttp import WSMsgType, web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "python"))

from sfu_host import (Consumer, DataConsumer, DataProducer, DirectTransport,  # noqa: E402
                      PlainTransport, Producer, Router, WebRtcTransport, Worker, create_worker)

log = logging.getLogger("demo")

MEDIA_CODECS = [
    {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
    {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
]

# What ffmpeg sends for the test pattern: payload types and SSRCs of its
# two RTP streams.
PATTERN_VIDEO = {"pt": 101, "ssrc": 22222222}
PATTERN_AUDIO = {"pt": 100, "ssrc": 11111111}
CHAT_HISTORY = 50
RTP_FEEDBACK = [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                {"type": "ccm", "parameter": "fir"}]


class Peer:
    """A participant: a browser on a WebSocket, or the test pattern (no
    socket, no transports of its own for receiving)."""

    _ids = itertools.count(1)

    def __init__(self, name: str, ws: Optional[web.WebSocketResponse] = None) -> None:
        self.id = f"p{next(self._ids)}"
        self.name = name
        self.ws = ws
        self.joined_at = time.time()
        self.transports: Dict[str, Any] = {}
        self.recv_transport: Optional[WebRtcTransport] = None
        self.rtp_capabilities: Optional[Dict[str, Any]] = None
        self.producers: Dict[str, Producer] = {}
        self.consumers: Dict[str, Consumer] = {}
        self.data_producers: Dict[str, DataProducer] = {}
        self.data_consumers: Dict[str, DataConsumer] = {}
        # Producers and data producers of others this peer receives (or is
        # being set up to): each is consumed once, whichever path gets there
        # first (its own "ready" or the other's new producer).
        self.received: set[str] = set()

    @property
    def ready(self) -> bool:
        """Can receive: has said what it decodes and has a receive transport."""
        return self.rtp_capabilities is not None and self.recv_transport is not None

    def describe(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "bot": self.ws is None}

    async def notify(self, name: str, data: Any) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_json({"notification": name, "data": data})
            except ConnectionError:
                pass

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()


class Room:
    def __init__(self, worker: Worker, router: Router, listen_ip: str,
                 announced_ip: Optional[str]) -> None:
        self.worker = worker
        self.router = router
        self.listen_ip: Dict[str, str] = {"ip": listen_ip}
        if announced_ip:
            self.listen_ip["announcedIp"] = announced_ip
        self.peers: Dict[str, Peer] = {}
        self.chat: List[Dict[str, Any]] = []
        self.direct: Optional[DirectTransport] = None
        self.speaker_observer: Any = None
        self.level_observer: Any = None
        self.ffmpeg: Optional[asyncio.subprocess.Process] = None
        self.pattern: Optional[Peer] = None

    # ----- set-up -----------------------------------------------------------

    async def start(self) -> None:
        # The server's own end of every chat channel: it keeps the last
        # messages for those who join later.
        self.direct = await self.router.create_direct_transport()
        await self._start_observers()
        await self._start_test_pattern()

    async def _start_observers(self) -> None:
        """Who speaks: the dominant speaker and each audio producer's level.
        Either may be missing from the worker; the room works without."""
        try:
            self.speaker_observer = await self.router.create_active_speaker_observer(interval=300)
            self.speaker_observer.on("dominantspeaker", self._on_dominant_speaker)
        except Exception as error:  # noqa: BLE001 - any refusal means "not available"
            log.info("no active speaker observer: %s", error)
        try:
            self.level_observer = await self.router.create_audio_level_observer(
                max_entries=16, threshold=-70, interval=250)
            self.level_observer.on("volumes", self._on_volumes)
            self.level_observer.on("silence", self._on_silence)
        except Exception as error:  # noqa: BLE001
            log.info("no audio level observer: %s", error)

    def _owner(self, producer: Optional[Producer]) -> Optional[Peer]:
        if producer is None:
            return None
        peer_id = producer.app_data.get("peerId")
        return self.peers.get(peer_id) if isinstance(peer_id, str) else None

    async def _on_dominant_speaker(self, speaker: Dict[str, Any]) -> None:
        peer = self._owner(speaker.get("producer"))
        await self.broadcast("activeSpeaker", {"peerId": peer.id if peer else None})

    async def _on_volumes(self, volumes: List[Dict[str, Any]]) -> None:
        levels = {}
        for entry in volumes:
            peer = self._owner(entry["producer"])
            if peer is not None:
                levels[peer.id] = entry["volume"]
        await self.broadcast("audioLevels", levels)

    async def _on_silence(self) -> None:
        await self.broadcast("audioLevels", {})

    async def _start_test_pattern(self) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            log.warning("ffmpeg not found: the room starts without the test pattern")
            return
        peer = Peer("Test pattern")
        self.peers[peer.id] = peer
        self.pattern = peer
        outputs = []
        for kind, stream in (("video", PATTERN_VIDEO), ("audio", PATTERN_AUDIO)):
            # comedia: the worker learns ffmpeg's address from its first
            # packet. ffmpeg sends RTCP from a second socket, so no rtcp-mux.
            transport = await self.router.create_plain_transport(
                listen_ip="127.0.0.1", comedia=True, rtcp_mux=False)
            peer.transports[transport.id] = transport
            codec = ({"mimeType": "video/VP8", "clockRate": 90000, "rtcpFeedback": RTP_FEEDBACK}
                     if kind == "video" else
                     {"mimeType": "audio/opus", "clockRate": 48000, "channels": 2})
            producer = await transport.produce(
                kind=kind,
                rtp_parameters={"codecs": [dict(codec, payloadType=stream["pt"])],
                                "encodings": [{"ssrc": stream["ssrc"]}],
                                "rtcp": {"cname": "test-pattern"}},
                app_data={"peerId": peer.id, "source": "camera" if kind == "video" else "mic"})
            await self._add_producer(peer, producer)
            outputs.append((kind, stream, transport))
        args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
                "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                # A 440 Hz tone for half a second every two seconds: audible,
                # and it lets the speaker display come and go.
                "-re", "-f", "lavfi", "-i",
                "aevalsrc=0.3*sin(2*PI*440*t)*lt(mod(t\\,2)\\,0.5):s=48000:c=stereo"]
        for kind, stream, transport in outputs:
            tuple_ = transport.tuple
            rtcp_port = transport.rtcp_tuple["localPort"] if transport.rtcp_tuple else 0
            if kind == "video":
                args += ["-map", "0:v", "-c:v", "libvpx", "-deadline", "realtime",
                         "-cpu-used", "8", "-lag-in-frames", "0", "-g", "30", "-b:v", "600k",
                         "-pix_fmt", "yuv420p"]
            else:
                args += ["-map", "1:a", "-c:a", "libopus", "-ar", "48000", "-ac", "2",
                         "-b:a", "64k"]
            args += ["-ssrc", str(stream["ssrc"]), "-payload_type", str(stream["pt"]),
                     "-f", "rtp", f"rtp://{tuple_['localIp']}:{tuple_['localPort']}"
                     f"?rtcpport={rtcp_port}&pkt_size=1200"]
        # stdout would get the session description ffmpeg prints for RTP.
        self.ffmpeg = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
        log.info("test pattern: ffmpeg pid %s", self.ffmpeg.pid)

    async def close(self) -> None:
        if self.ffmpeg is not None and self.ffmpeg.returncode is None:
            self.ffmpeg.terminate()
            try:
                await asyncio.wait_for(self.ffmpeg.wait(), 3)
            except asyncio.TimeoutError:
                self.ffmpeg.kill()
                await self.ffmpeg.wait()
        for peer in list(self.peers.values()):
            if peer.ws is not None:
                await peer.ws.close()
        self.worker.close()
        try:
            await self.worker.wait_closed(3)
        except asyncio.TimeoutError:
            log.warning("the worker did not exit within 3 s")

    # ----- membership -------------------------------------------------------

    async def broadcast(self, name: str, data: Any, exclude: Optional[Peer] = None) -> None:
        await asyncio.gather(*(p.notify(name, data) for p in self.peers.values()
                               if p is not exclude))

    async def join(self, peer: Peer) -> Dict[str, Any]:
        self.peers[peer.id] = peer
        await self.broadcast("peerJoined", peer.describe(), exclude=peer)
        log.info("%s joined as %s", peer.name, peer.id)
        return {
            "peerId": peer.id,
            "routerRtpCapabilities": self.router.rtp_capabilities,
            "peers": [p.describe() for p in self.peers.values() if p is not peer],
            "chat": self.chat,
            "speakerDetection": self.speaker_observer is not None
            or self.level_observer is not None,
        }

    async def leave(self, peer: Peer) -> None:
        if self.peers.pop(peer.id, None) is None:
            return
        peer.close()
        log.info("%s (%s) left", peer.name, peer.id)
        await self.broadcast("peerLeft", {"peerId": peer.id})

    # ----- media and data ---------------------------------------------------

    async def _add_producer(self, peer: Peer, producer: Producer) -> None:
        peer.producers[producer.id] = producer
        producer.on("transportclose", lambda: peer.producers.pop(producer.id, None))
        if producer.kind == "audio":
            for observer in (self.speaker_observer, self.level_observer):
                if observer is not None:
                    try:
                        await observer.add_producer(producer_id=producer.id)
                    except Exception as error:  # noqa: BLE001
                        log.info("observer refused producer: %s", error)
        for other in list(self.peers.values()):
            if other is not peer and other.ready:
                await self.consume(other, peer, producer)

    async def consume(self, peer: Peer, owner: Peer, producer: Producer) -> None:
        """Sends `owner`'s producer to `peer`: the consumer starts paused and
        the page resumes it once its side is set up."""
        assert peer.recv_transport is not None and peer.rtp_capabilities is not None
        if producer.id in peer.received:
            return
        peer.received.add(producer.id)
        if not self.router.can_consume(producer_id=producer.id,
                                       rtp_capabilities=peer.rtp_capabilities):
            return
        consumer = await peer.recv_transport.consume(
            producer_id=producer.id, rtp_capabilities=peer.rtp_capabilities, paused=True,
            app_data={"peerId": owner.id, "source": producer.app_data.get("source")})
        peer.consumers[consumer.id] = consumer

        def closed() -> None:
            peer.consumers.pop(consumer.id, None)
            asyncio.ensure_future(peer.notify("consumerClosed", {"consumerId": consumer.id}))

        consumer.on("transportclose", lambda: peer.consumers.pop(consumer.id, None))
        consumer.on("producerclose", closed)
        consumer.on("producerpause", lambda: asyncio.ensure_future(
            peer.notify("consumerPaused", {"consumerId": consumer.id})))
        consumer.on("producerresume", lambda: asyncio.ensure_future(
            peer.notify("consumerResumed", {"consumerId": consumer.id})))
        await peer.notify("newConsumer", {
            "peerId": owner.id, "id": consumer.id, "producerId": producer.id,
            "kind": consumer.kind, "rtpParameters": consumer.rtp_parameters,
            "source": producer.app_data.get("source"), "producerPaused": consumer.producer_paused,
        })

    async def _add_data_producer(self, peer: Peer, data_producer: DataProducer) -> None:
        peer.data_producers[data_producer.id] = data_producer
        data_producer.on("transportclose", lambda: peer.data_producers.pop(data_producer.id, None))
        if data_producer.label == "chat" and self.direct is not None:
            tap = await self.direct.consume_data(data_producer_id=data_producer.id)
            tap.on("message", lambda payload, ppid: self._remember_chat(peer, payload))
        for other in list(self.peers.values()):
            if other is not peer and other.ready:
                await self.consume_data(other, peer, data_producer)

    def _remember_chat(self, peer: Peer, payload: bytes) -> None:
        text = payload.decode("utf-8", "replace")[:2000]
        self.chat.append({"peerId": peer.id, "name": peer.name, "text": text,
                          "time": time.time()})
        del self.chat[:-CHAT_HISTORY]

    async def consume_data(self, peer: Peer, owner: Peer, data_producer: DataProducer) -> None:
        assert peer.recv_transport is not None
        if data_producer.id in peer.received:
            return
        peer.received.add(data_producer.id)
        data_consumer = await peer.recv_transport.consume_data(data_producer_id=data_producer.id)
        peer.data_consumers[data_consumer.id] = data_consumer
        data_consumer.on("transportclose", lambda: peer.data_consumers.pop(data_consumer.id, None))
        data_consumer.on("dataproducerclose",
                         lambda: peer.data_consumers.pop(data_consumer.id, None))
        await peer.notify("newDataConsumer", {
            "peerId": owner.id, "id": data_consumer.id, "dataProducerId": data_producer.id,
            "sctpStreamParameters": data_consumer.sctp_stream_parameters,
            "label": data_consumer.label, "protocol": data_consumer.protocol,
        })

    async def receive_everything(self, peer: Peer) -> None:
        """Once a peer is ready: what everybody else already sends."""
        for owner in list(self.peers.values()):
            if owner is peer:
                continue
            for producer in list(owner.producers.values()):
                await self.consume(peer, owner, producer)
            for data_producer in list(owner.data_producers.values()):
                await self.consume_data(peer, owner, data_producer)

    # ----- requests from a page ---------------------------------------------

    async def handle(self, peer: Peer, method: str, data: Dict[str, Any]) -> Any:
        handler: Optional[Callable[[Peer, Dict[str, Any]], Awaitable[Any]]] = getattr(
            self, f"req_{method}", None)
        if handler is None:
            raise ValueError(f"unknown method {method!r}")
        return await handler(peer, data)

    async def req_createTransport(self, peer: Peer, data: Dict[str, Any]) -> Any:
        direction = data.get("direction")
        if direction not in ("send", "recv"):
            raise ValueError("direction must be send or recv")
        transport = await self.router.create_webrtc_transport(
            listen_ips=[self.listen_ip], enable_udp=True, enable_tcp=True, prefer_udp=True,
            enable_sctp=True, app_data={"direction": direction})
        peer.transports[transport.id] = transport
        if direction == "recv":
            peer.recv_transport = transport
        return {"id": transport.id, "iceParameters": transport.ice_parameters,
                "iceCandidates": transport.ice_candidates,
                "dtlsParameters": transport.dtls_parameters,
                "sctpParameters": transport.sctp_parameters}

    def _transport(self, peer: Peer, data: Dict[str, Any]) -> Any:
        transport = peer.transports.get(str(data.get("transportId")))
        if transport is None:
            raise ValueError("unknown transport")
        return transport

    async def req_connectTransport(self, peer: Peer, data: Dict[str, Any]) -> Any:
        await self._transport(peer, data).connect(dtls_parameters=data["dtlsParameters"])
        return {}

    async def req_ready(self, peer: Peer, data: Dict[str, Any]) -> Any:
        peer.rtp_capabilities = data["rtpCapabilities"]
        if peer.recv_transport is None:
            raise ValueError("create the receive transport first")
        await self.receive_everything(peer)
        return {}

    async def req_produce(self, peer: Peer, data: Dict[str, Any]) -> Any:
        source = data.get("source") if data.get("source") in ("camera", "mic") else None
        producer = await self._transport(peer, data).produce(
            kind=data["kind"], rtp_parameters=data["rtpParameters"],
            app_data={"peerId": peer.id, "source": source or data["kind"]})
        await self._add_producer(peer, producer)
        return {"id": producer.id}

    async def req_produceData(self, peer: Peer, data: Dict[str, Any]) -> Any:
        data_producer = await self._transport(peer, data).produce_data(
            sctp_stream_parameters=data["sctpStreamParameters"],
            label=str(data.get("label", "")), protocol=str(data.get("protocol", "")),
            app_data={"peerId": peer.id})
        await self._add_data_producer(peer, data_producer)
        return {"id": data_producer.id}

    async def req_resumeConsumer(self, peer: Peer, data: Dict[str, Any]) -> Any:
        consumer = peer.consumers.get(str(data.get("consumerId")))
        if consumer is not None:
            await consumer.resume()
        return {}

    async def req_setPreferredLayers(self, peer: Peer, data: Dict[str, Any]) -> Any:
        """The simulcast stream a page wants of a camera (others ignore it)."""
        consumer = peer.consumers.get(str(data.get("consumerId")))
        if consumer is not None and consumer.type == "simulcast":
            await consumer.set_preferred_layers(spatial_layer=int(data["spatialLayer"]))
        return {}

    async def req_setProducerPaused(self, peer: Peer, data: Dict[str, Any]) -> Any:
        producer = peer.producers.get(str(data.get("producerId")))
        if producer is None:
            raise ValueError("unknown producer")
        if data.get("paused"):
            await producer.pause()
        else:
            await producer.resume()
        return {}

    # ----- what the worker sees ---------------------------------------------

    async def stats(self) -> Dict[str, Any]:
        """Per peer: each producer's streams and each consumer's output, as
        the worker counts them."""
        out: Dict[str, Any] = {"peers": {}}
        for peer in list(self.peers.values()):
            producers = []
            for producer in list(peer.producers.values()):
                streams = [{"rid": s.get("rid"), "ssrc": s.get("ssrc"),
                            "packetCount": s.get("packetCount", 0),
                            "byteCount": s.get("byteCount", 0),
                            "bitrate": s.get("bitrate", 0), "score": s.get("score")}
                           for s in await producer.get_stats() if s.get("type") == "inbound-rtp"]
                producers.append({"id": producer.id, "kind": producer.kind,
                                  "source": producer.app_data.get("source"),
                                  "paused": producer.paused, "streams": streams})
            consumers = []
            for consumer in list(peer.consumers.values()):
                sent = [s for s in await consumer.get_stats() if s.get("type") == "outbound-rtp"]
                consumers.append({
                    "id": consumer.id, "kind": consumer.kind, "from": consumer.app_data["peerId"],
                    "type": consumer.type, "paused": consumer.paused,
                    "currentLayers": consumer.current_layers,
                    "packetCount": sum(s.get("packetCount", 0) for s in sent),
                    "bitrate": sum(s.get("bitrate", 0) for s in sent)})
            data_consumers = []
            for data_consumer in list(peer.data_consumers.values()):
                for s in await data_consumer.get_stats():
                    data_consumers.append({"label": data_consumer.label,
                                           "messagesSent": s.get("messagesSent", 0)})
            # The worker's estimate of what it may send to this peer.
            estimate = None
            if peer.recv_transport is not None:
                estimate = next((s.get("availableOutgoingBitrate")
                                 for s in await peer.recv_transport.get_stats()), None)
            out["peers"][peer.id] = {"id": peer.id, "name": peer.name, "producers": producers,
                                     "consumers": consumers, "dataConsumers": data_consumers,
                                     "availableOutgoingBitrate": estimate}
        out["chat"] = len(self.chat)
        out["speakerDetection"] = {"activeSpeaker": self.speaker_observer is not None,
                                   "audioLevel": self.level_observer is not None}
        return out


# ----- HTTP and WebSocket --------------------------------------------------------

async def websocket(request: web.Request) -> web.WebSocketResponse:
    room: Room = request.app["room"]
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    peer: Optional[Peer] = None
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            request_msg = json.loads(msg.data)
            method = request_msg.get("method")
            data = request_msg.get("data") or {}
            reply: Dict[str, Any] = {"response": request_msg.get("id")}
            try:
                if method == "join":
                    if peer is not None:
                        raise ValueError("already joined")
                    name = str(data.get("name") or "").strip()[:40] or "Guest"
                    peer = Peer(name, ws)
                    reply["data"] = await room.join(peer)
                elif peer is None:
                    raise ValueError("join first")
                else:
                    reply["data"] = await room.handle(peer, str(method), data)
                reply["ok"] = True
            except Exception as error:  # noqa: BLE001 - reported to the page
                log.warning("%s failed: %s", method, error)
                reply.update(ok=False, error=str(error))
            await ws.send_json(reply)
    finally:
        if peer is not None:
            await room.leave(peer)
    return ws


async def stats(request: web.Request) -> web.Response:
    return web.json_response(await request.app["room"].stats())


def make_app(room: Room) -> web.Application:
    web_dir = HERE / "web"
    bundle = web_dir / "dist" / "app.js"
    if not bundle.is_file():
        raise SystemExit(f"{bundle} is missing: scripts/demo.sh installs and bundles the page")
    app = web.Application()
    app["room"] = room

    def static(path: Path, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_: web.Request) -> web.Response:
            return web.Response(body=path.read_bytes(), content_type=content_type,
                                headers={"cache-control": "no-store"})
        return handler

    app.router.add_get("/", static(web_dir / "index.html", "text/html"))
    app.router.add_get("/style.css", static(web_dir / "style.css", "text/css"))
    app.router.add_get("/app.js", static(bundle, "application/javascript"))
    app.router.add_get("/ws", websocket)
    app.router.add_get("/api/stats", stats)
    return app


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 8080)),
                        help="HTTP port (0: any free one); default 8080 or env DEMO_PORT")
    parser.add_argument("--http-host", default="127.0.0.1",
                        help="address the HTTP server listens on (default 127.0.0.1)")
    parser.add_argument("--listen-ip", default="127.0.0.1",
                        help="address of the media transports (default 127.0.0.1)")
    parser.add_argument("--announced-ip", help="address told to browsers, if not --listen-ip")
    parser.add_argument("--url-file", help="write the room's URL to this file once serving")
    parser.add_argument("--log-level", default=os.environ.get("DEMO_LOG", "warning"))
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="demo: %(message)s")
    if logging.getLogger().level > logging.DEBUG:
        # The library logs each refused request, such as an RTP observer
        # this worker lacks; the room says what it does without.
        logging.getLogger("sfu_host").setLevel(logging.ERROR)

    worker = await create_worker(log_level="warn", rtc_min_port=40000, rtc_max_port=49999)
    worker.on("died", lambda error: log.error("worker died: %s", error))
    router = await worker.create_router(media_codecs=MEDIA_CODECS)
    room = Room(worker, router, args.listen_ip, args.announced_ip)
    await room.start()

    runner = web.AppRunner(make_app(room), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.http_host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # localhost is a secure context: browsers allow the camera there.
    host = "localhost" if args.http_host in ("127.0.0.1", "::1", "localhost") else args.http_host
    url = f"http://{host}:{port}/"
    print(f"demo room: {url}  (Ctrl-C stops)", flush=True)
    if args.url_file:
        Path(args.url_file).write_text(url + "\n")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    died = asyncio.ensure_future(worker.wait_closed())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([died, stopped], return_when=asyncio.FIRST_COMPLETED)
    code = 0 if stop.is_set() else 1
    for task in (died, stopped):
        task.cancel()
    await runner.cleanup()
    await room.close()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
