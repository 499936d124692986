"""Data channels through the worker against an independent SCTP stack,
aiortc (Debian's python3-aiortc): aiortc peers connect to WebRtcTransports
with enableSctp (an m=application section, a=sctp-port:5000,
a=max-message-size) and their channels meet the worker's DataProducers and
DataConsumers.

  DataChannelTest: peer A's negotiated channels (ordered reliable, and
    unordered with maxRetransmits 0) reach DataProducers, whose
    DataConsumers deliver them to peer B, and B's reach A the same way;
    an in-band (DCEP) channel on a stream nobody produces is refused (the
    worker resets the stream and aiortc closes the channel) while the
    others keep working; an in-band channel on a stream the host produced
    is acknowledged and its messages reach that DataProducer.
  DataChannelLossTest: 5% of the datagrams dropped both ways between the
    peer and the worker (loss_util.LossyRelay); every reliable message of
    mixed sizes still arrives, in order.
  SendBufferTest: a DataConsumer whose peer neither receives nor
    acknowledges (the relay drops everything both ways) while a direct
    DataProducer sends far more than the send buffer holds: messages are
    dropped and counted, "sctpsendbufferfull" fires, the worker's memory
    stays bounded; once the path is back, "bufferedamountlow" fires and
    messages flow again.
  VanishingPeerTest: a peer sends part of a 200 KiB message and vanishes
    (the relay drops everything from then on): the worker neither crashes
    nor delivers the partial message, answers requests, and another
    transport's data keeps flowing.

Skipped when aiortc is not importable (a strict run fails instead).
Run: /usr/bin/python3 test/integration/run_tests.py -v test_datachannel_aiortc
Environment: SFU_TEST_VERBOSE=1 prints the figures of each test.
"""

import asyncio
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402
import webrtc_util as wu  # noqa: E402

try:
    import aioice.ice
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    _SKIP_REASON = None
except ImportError as exc:  # pragma: no cover - depends on the machine
    _SKIP_REASON = "aiortc not importable (%s); scripts/setup.sh installs python3-aiortc" % exc

ROUTER_ID = "router-dc"
MAX_MESSAGE_SIZE = 262144
# Each class's whole scenario, set-up to tear-down, must fit in this.
SCENARIO_TIMEOUT = 50.0
# The DataConsumers' sctpSendBufferSize (the host's default) unless a test
# sets its own; send_windowed paces by it.
SEND_BUFFER = 262144

PPID_STRING = 51
PPID_BINARY = 53


def verbose(text):
    if os.environ.get("SFU_TEST_VERBOSE"):
        sys.stderr.write("\n  %s\n" % text)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def make_messages(seed, count, sizes):
    """`count` messages, strings and bytes alternating, of sizes drawn from
    `sizes`; every one distinct enough that a swap or a loss shows."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.choice(sizes)
        if i % 2:
            out.append(rng.randbytes(size))
        else:
            out.append(rng.randbytes((size + 1) // 2).hex()[:size])
    return out


def describe(messages):
    return ["%s:%d" % ("s" if isinstance(m, str) else "b", len(m)) for m in messages]


async def wait_until(predicate, timeout, what):
    """Polls `predicate`; `what` (a string, or a function returning one
    when the wait fails) says what was awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what() if callable(what) else what))
        await asyncio.sleep(0.02)


async def send_windowed(channel, messages, received, buffered, timeout):
    """Sends `messages` on an aiortc channel as an application paces itself:
    a DataConsumer drops what its association's send buffer
    (sctpSendBufferSize) cannot take, so an unpaced burst larger than that
    loses messages by design. A message goes when it fits in SEND_BUFFER
    beside what is still on its way to the far end (`received`, its list)
    and what the consumer holds unacknowledged (`buffered`, a coroutine
    function answering its bufferedAmount)."""
    sent = 0
    deadline = time.monotonic() + timeout
    for message in messages:
        while True:
            in_flight = sent - sum(len(m) for m in received)
            held = await buffered()
            if in_flight + held + len(message) <= SEND_BUFFER:
                break
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.1f s waiting for room to send %d bytes "
                                     "(%d in flight, %d buffered, %d messages arrived)"
                                     % (timeout, len(message), in_flight, held, len(received)))
            await asyncio.sleep(0.01)
        channel.send(message)
        sent += len(message)


class PathRelay(lu.LossyRelay if _SKIP_REASON is None else object):
    """LossyRelay for every datagram of a WebRTC path (STUN, DTLS): loss
    from the first packet on, as set in self.loss at any time (1.0 is a
    blackhole), and `budget_to_worker`: once that many bytes went towards
    the worker, everything that way is dropped (the peer has vanished)."""

    def __init__(self, name, worker_addr, peer_addr):
        super().__init__(name, worker_addr, peer_addr, warmup_ms=0)
        self.budget_to_worker = None

    def _account(self, direction, data):
        if direction == "to_worker" and self.budget_to_worker is not None:
            if self.budget_to_worker <= 0:
                self.stats[direction]["rtp"] += 1
                self.stats[direction]["dropped"] += 1
                return True
            self.budget_to_worker -= len(data)
        return super()._account(direction, data)

    def dropped(self):
        stats = self.snapshot()
        return {d: stats[d]["dropped"] for d in ("to_worker", "to_peer")}

    def forwarded(self):
        stats = self.snapshot()
        return {d: stats[d]["forwarded"] for d in ("to_worker", "to_peer")}


def data_answer_sdp(transport, mid, candidate=None, max_message_size=MAX_MESSAGE_SIZE):
    """The worker's answer to a peer's data-only offer: one bundled
    m=application section on the transport's ICE-lite credentials, its
    certificate, SCTP port 5000 and max-message-size; `candidate` (ip,
    port) replaces the worker's own candidates (a relay in front of it)."""
    ice = transport["iceParameters"]
    candidates = [c for c in transport["iceCandidates"] if c["protocol"] == "udp"]
    if candidate is not None:
        candidates = [dict(candidates[0], ip=candidate[0], port=candidate[1])]
    ip, port = candidates[0]["ip"], candidates[0]["port"]
    lines = [
        "v=0",
        "o=- %d 1 IN IP4 %s" % (random.randint(1, 2 ** 31), ip),
        "s=sfu-worker",
        "t=0 0",
        "a=ice-lite",
        "a=group:BUNDLE %s" % mid,
        "a=msid-semantic: WMS *",
        "m=application %d UDP/DTLS/SCTP webrtc-datachannel" % port,
        "c=IN IP4 %s" % ip,
        "a=mid:%s" % mid,
        "a=ice-ufrag:%s" % ice["usernameFragment"],
        "a=ice-pwd:%s" % ice["password"],
    ]
    for c in candidates:
        lines.append("a=candidate:%s 1 udp %d %s %d typ host" % (
            c["foundation"], c["priority"], c["ip"], c["port"]))
    lines += [
        "a=end-of-candidates",
        "a=fingerprint:sha-256 %s" % wu.worker_fingerprint(transport),
        "a=setup:passive",
        "a=sctp-port:5000",
        "a=max-message-size:%d" % max_message_size,
    ]
    return "\r\n".join(lines) + "\r\n"


def offer_udp_address(offer):
    """The peer's host UDP candidate (ip, port) in its offer."""
    for value in offer.section("application").values("candidate"):
        parts = value.split()
        if parts[2].lower() == "udp" and parts[7] == "host":
            return parts[4], int(parts[5])
    raise KeyError("no UDP host candidate in the offer")


class Host:
    """What the mediasoup host would do, as channel requests, run off the
    event loop."""

    def __init__(self, worker):
        self.worker = worker

    async def request(self, method, internal, data=None):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, lambda: self.worker.request_ok(method, internal=internal, data=data))

    @staticmethod
    def internal(transport_id, **extra):
        out = {"routerId": ROUTER_ID, "transportId": transport_id}
        out.update(extra)
        return out

    async def produce_data(self, transport_id, producer_id, stream_id=None, ordered=True,
                           max_retransmits=None, label="", protocol=""):
        data = {"type": "sctp" if stream_id is not None else "direct", "label": label,
                "protocol": protocol}
        if stream_id is not None:
            data["sctpStreamParameters"] = sctp_parameters(stream_id, ordered, max_retransmits)
        return await self.request("transport.produceData",
                                  self.internal(transport_id, dataProducerId=producer_id), data)

    async def consume_data(self, transport_id, consumer_id, producer_id, stream_id=None,
                           ordered=True, max_retransmits=None, label=""):
        data = {"type": "sctp" if stream_id is not None else "direct", "label": label,
                "protocol": ""}
        if stream_id is not None:
            data["sctpStreamParameters"] = sctp_parameters(stream_id, ordered, max_retransmits)
        return await self.request(
            "transport.consumeData",
            self.internal(transport_id, dataConsumerId=consumer_id, dataProducerId=producer_id),
            data)

    def buffered(self, transport_id, consumer_id):
        """A coroutine function answering a DataConsumer's bufferedAmount."""
        async def get():
            answer = await self.request("dataConsumer.getBufferedAmount", self.internal(
                transport_id, dataConsumerId=consumer_id))
            return answer["bufferedAmount"]
        return get

    async def stats(self, method, **internal):
        internal = dict({"routerId": ROUTER_ID}, **internal)
        return (await self.request(method, internal))[0]


def sctp_parameters(stream_id, ordered, max_retransmits):
    out = {"streamId": stream_id, "ordered": ordered}
    if max_retransmits is not None:
        out["maxRetransmits"] = max_retransmits
    return out


class Peer:
    """One aiortc peer with data channels only, on its own WebRtcTransport
    (optionally behind a PathRelay)."""

    def __init__(self, host, transport_id, send_buffer_size=262144):
        self.host = host
        self.transport_id = transport_id
        self.send_buffer_size = send_buffer_size
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channels = {}
        self.received = {}   # label -> messages, in arrival order
        self.relay = None
        self.transport = None

    def channel(self, label, **options):
        channel = self.pc.createDataChannel(label, **options)
        self.channels[label] = channel
        self.received[label] = []
        channel.on("message", self.received[label].append)
        return channel

    async def create_transport(self):
        options = wu.webrtc_transport_options(enable_tcp=False)
        options.update(enableSctp=True, sctpSendBufferSize=self.send_buffer_size)
        self.transport = await self.host.request(
            "router.createWebRtcTransport", Host.internal(self.transport_id), options)
        return self.transport

    async def connect(self, relayed=False):
        """Offer (aiortc), connect the transport, answer. DataProducers must
        exist by now: negotiated channels open as soon as SCTP is up."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = wu.parse_sdp(self.pc.localDescription.sdp)
        self.connect_answer = await self.host.request(
            "transport.connect", Host.internal(self.transport_id),
            wu.dtls_connect_data(offer.fingerprint(), role="client"))
        candidate = None
        if relayed:
            worker_port = wu.candidate_port(self.transport, "udp")
            self.relay = PathRelay(self.transport_id, (wu.LOCAL_IP, worker_port),
                                   offer_udp_address(offer))
            candidate = (wu.LOCAL_IP, self.relay.peer_port)
        answer = data_answer_sdp(self.transport, offer.section("application").mid, candidate)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def wait_open(self, labels, timeout=15):
        await wait_until(lambda: all(self.channels[l].readyState == "open" for l in labels),
                         timeout, "channels %s to open (%s)" % (labels, {
                             l: self.channels[l].readyState for l in labels}))

    async def close(self):
        await asyncio.wait_for(self.pc.close(), 10)
        if self.relay is not None:
            self.relay.close()


class DataChannelCase(unittest.TestCase):
    """One worker per class; `scenario` (a coroutine on self.host) runs
    inside the test with aioice kept on loopback, bounded in time."""

    @classmethod
    def setUpClass(cls):
        # aioice gathers every interface except loopback; keeping the peers
        # on 127.0.0.1 keeps all traffic on this machine's loopback.
        original = aioice.ice.get_host_addresses
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [wu.LOCAL_IP]
        cls.addClassCleanup(setattr, aioice.ice, "get_host_addresses", original)

    def setUp(self):
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.worker.request_ok("worker.createRouter", internal={"routerId": ROUTER_ID})
        self.host = Host(self.worker)
        self.peers = []

    def run_scenario(self, coroutine_function, timeout=SCENARIO_TIMEOUT):
        async def wrapped():
            try:
                await coroutine_function()
            finally:
                for peer in self.peers:
                    await peer.close()
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(wrapped(), timeout))
        elapsed = time.monotonic() - started
        self.assertTrue(self.worker.alive, self.diagnostics())
        self.assertEqual(self.worker.close(), 0, self.diagnostics())
        return elapsed

    def peer(self, transport_id, **kwargs):
        peer = Peer(self.host, transport_id, **kwargs)
        self.peers.append(peer)
        return peer

    def notifications(self, target_id, event):
        return [n.get("data") for n in self.worker.all_notifications
                if n["targetId"] == target_id and n["event"] == event]

    def diagnostics(self):
        logs = [text for _, text in self.worker.logs][-30:]
        notes = [(n["targetId"], n["event"], n.get("data"))
                 for n in self.worker.all_notifications][-30:]
        return ("notifications: %s\nworker logs: %s\nworker stderr: %s"
                % (notes, "\n  ".join(logs), self.worker.stderr.strip()[-800:] or "<empty>"))


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class DataChannelTest(DataChannelCase):

    def test_channels_both_ways_and_in_band_opens(self):
        result = {}

        async def scenario():
            a = self.peer("dc-a")
            b = self.peer("dc-b")
            # A -> B: ordered reliable (stream 1 -> 2), unordered without
            # retransmissions (3 -> 4), and an in-band channel on stream 7
            # the host produced beforehand (7 -> 6). B -> A: 10 -> 12.
            a.channel("reliable", negotiated=True, id=1)
            a.channel("unordered", negotiated=True, id=3, ordered=False, maxRetransmits=0)
            a.channel("from-b", negotiated=True, id=12)
            b.channel("reliable", negotiated=True, id=2)
            b.channel("unordered", negotiated=True, id=4, ordered=False, maxRetransmits=0)
            b.channel("in-band", negotiated=True, id=6)
            b.channel("to-a", negotiated=True, id=10)
            await a.create_transport()
            await b.create_transport()
            h = self.host
            await h.produce_data("dc-a", "dp-reliable", 1, label="reliable")
            await h.produce_data("dc-a", "dp-unordered", 3, ordered=False, max_retransmits=0)
            await h.produce_data("dc-a", "dp-in-band", 7, label="in-band")
            await h.produce_data("dc-b", "dp-to-a", 10)
            await h.consume_data("dc-b", "dc-reliable", "dp-reliable", 2)
            await h.consume_data("dc-b", "dc-unordered", "dp-unordered", 4, ordered=False,
                                 max_retransmits=0)
            await h.consume_data("dc-b", "dc-in-band", "dp-in-band", 6)
            await h.consume_data("dc-a", "dc-from-b", "dp-to-a", 12)
            await a.connect()
            await b.connect()
            await a.wait_open(["reliable", "unordered", "from-b"])
            await b.wait_open(["reliable", "unordered", "in-band", "to-a"])

            # In-band channels once SCTP is up: stream 5 has no producer
            # (refused), stream 7 has one (acknowledged).
            refused = a.channel("refused", id=5)
            accepted = a.channel("accepted", id=7)
            states = []
            refused.on("close", lambda: states.append("closed"))
            await a.wait_open(["accepted"])
            await wait_until(lambda: refused.readyState == "closed", 10,
                             "the refused channel to close (%s)" % refused.readyState)
            result["refused"] = (refused.readyState, states)

            sizes = [1, 10, 100, 1024, 16384, 65536, 200000]
            ordered = make_messages("ordered", 42, sizes)
            await send_windowed(a.channels["reliable"], ordered, b.received["reliable"],
                                h.buffered("dc-b", "dc-reliable"), 20)
            # The send buffer is the association's, shared by B's consumers:
            # the other channels go once the reliable one is through. Then
            # small enough together for the send buffer: a burst.
            await wait_until(lambda: len(b.received["reliable"]) >= len(ordered), 20,
                             lambda: "the ordered messages (%d of %d)" % (
                                 len(b.received["reliable"]), len(ordered)))
            unordered = ["u%03d" % i for i in range(60)]
            for message in unordered:
                a.channels["unordered"].send(message)
            in_band = make_messages("in-band", 12, [1, 500, 5000])
            for message in in_band:
                accepted.send(message)
            back = make_messages("back", 20, [3, 3000, 30000])
            await send_windowed(b.channels["to-a"], back, a.received["from-b"],
                                h.buffered("dc-a", "dc-from-b"), 10)

            def counts():
                return "B got %d/%d/%d, A got %d" % (
                    len(b.received["reliable"]), len(b.received["unordered"]),
                    len(b.received["in-band"]), len(a.received["from-b"]))

            await wait_until(lambda: len(b.received["reliable"]) >= len(ordered)
                             and len(b.received["unordered"]) >= len(unordered)
                             and len(b.received["in-band"]) >= len(in_band)
                             and len(a.received["from-b"]) >= len(back), 20,
                             lambda: "every message (%s)" % counts())
            # The refusal left the other channels alone: more on the
            # reliable one after it.
            late = ["after-refusal", b"\x00after"]
            for message in late:
                a.channels["reliable"].send(message)
            await wait_until(lambda: len(b.received["reliable"]) >= len(ordered) + 2, 10,
                             "the messages after the refusal")
            result.update(
                ordered=(ordered + late, list(b.received["reliable"])),
                unordered=(unordered, list(b.received["unordered"])),
                in_band=(in_band, list(b.received["in-band"])),
                back=(back, list(a.received["from-b"])),
                accepted=accepted.readyState,
                producer=await h.stats("dataProducer.getStats", transportId="dc-a",
                                       dataProducerId="dp-in-band"),
                consumer=await h.stats("dataConsumer.getStats", transportId="dc-b",
                                       dataConsumerId="dc-reliable"),
                dump=await h.request("transport.dump", Host.internal("dc-a")))

        elapsed = self.run_scenario(scenario)
        sent, got = result["ordered"]
        self.assertEqual(describe(got), describe(sent))
        self.assertTrue(got == sent, "ordered reliable contents differ")
        sent, got = result["unordered"]
        self.assertEqual(sorted(got), sorted(sent))
        self.assertTrue(all(isinstance(m, str) for m in got))
        for key in ("in_band", "back"):
            sent, got = result[key]
            self.assertEqual(describe(got), describe(sent), key)
            self.assertTrue(got == sent, key)
        self.assertEqual(result["refused"], ("closed", ["closed"]))
        self.assertEqual(result["accepted"], "open")
        self.assertEqual(result["producer"]["messagesReceived"], len(result["in_band"][0]))
        self.assertEqual(result["consumer"]["messagesSent"], len(result["ordered"][0]))
        self.assertEqual(result["consumer"]["messagesDropped"], 0)
        counters = result["dump"]["sctpCounters"]
        # The refused open, and nothing else, counted as dropped.
        self.assertEqual(counters["messagesDropped"], 1, counters)
        self.assertEqual(result["dump"]["sctpState"], "connected")
        verbose("%.1f s; %d ordered (%d bytes, up to %d), %d unordered, %d in-band, %d back; "
                "transport A counters %s" % (
                    elapsed, len(result["ordered"][0]),
                    sum(len(m) for m in result["ordered"][0]),
                    max(len(m) for m in result["ordered"][0]), len(result["unordered"][0]),
                    len(result["in_band"][0]), len(result["back"][0]), counters))


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class DataChannelLossTest(DataChannelCase):

    MESSAGES = 300
    LOSS = 0.05

    def test_reliable_messages_survive_loss_in_order(self):
        result = {}

        async def scenario():
            # One peer behind the relay, its channel 1 looped back to its
            # channel 2 through the worker: both directions cross the loss.
            a = self.peer("lossy")
            a.channel("out", negotiated=True, id=1)
            a.channel("in", negotiated=True, id=2)
            await a.create_transport()
            await self.host.produce_data("lossy", "dp", 1)
            await self.host.consume_data("lossy", "dc", "dp", 2)
            await a.connect(relayed=True)
            await a.wait_open(["out", "in"])
            a.relay.loss.update(to_worker=self.LOSS, to_peer=self.LOSS)
            messages = make_messages("loss", self.MESSAGES, [1, 64, 512, 1024, 4096, 8192, 16384])
            started = time.monotonic()
            await send_windowed(a.channels["out"], messages, a.received["in"],
                                self.host.buffered("lossy", "dc"), 40)
            await wait_until(lambda: len(a.received["in"]) >= len(messages), 20,
                             lambda: "%d messages (got %d, relay dropped %s)" % (
                                 len(messages), len(a.received["in"]), a.relay.dropped()))
            result.update(seconds=time.monotonic() - started, sent=messages,
                          got=list(a.received["in"]), dropped=a.relay.dropped(),
                          forwarded=a.relay.forwarded(),
                          consumer=await self.host.stats("dataConsumer.getStats",
                                                         transportId="lossy",
                                                         dataConsumerId="dc"))

        self.run_scenario(scenario)
        self.assertEqual(describe(result["got"]), describe(result["sent"]))
        self.assertTrue(result["got"] == result["sent"], "contents differ")
        self.assertGreater(result["dropped"]["to_worker"], 0, result["dropped"])
        self.assertGreater(result["dropped"]["to_peer"], 0, result["dropped"])
        self.assertEqual(result["consumer"]["messagesDropped"], 0)
        verbose("%d messages, %d bytes, in %.1f s; relay dropped %s, forwarded %s" % (
            len(result["sent"]), sum(len(m) for m in result["sent"]), result["seconds"],
            result["dropped"], result["forwarded"]))


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class SendBufferTest(DataChannelCase):

    SEND_BUFFER = 65536
    THRESHOLD = 16384
    MESSAGE = 8192
    FLOOD = 4000          # 32 MB offered while the path is dead
    RSS_BOUND_KIB = 16 * 1024

    def test_full_send_buffer_drops_and_recovers(self):
        result = {}

        async def scenario():
            h = self.host
            a = self.peer("slow", send_buffer_size=self.SEND_BUFFER)
            a.channel("in", negotiated=True, id=2)
            await a.create_transport()
            await h.request("router.createDirectTransport", Host.internal("direct"),
                            {"direct": True, "maxMessageSize": MAX_MESSAGE_SIZE})
            await h.produce_data("direct", "dp-direct")
            await h.consume_data("slow", "dc", "dp-direct", 2)
            await h.request("dataConsumer.setBufferedAmountLowThreshold",
                            Host.internal("slow", dataConsumerId="dc"),
                            {"threshold": self.THRESHOLD})
            await a.connect(relayed=True)
            await a.wait_open(["in"])

            send_internal = Host.internal("direct", dataProducerId="dp-direct")

            def send(payload, ppid=PPID_BINARY):
                self.worker.payload_notify("dataProducer.send", send_internal, {"ppid": ppid},
                                           payload)

            send(b"before")
            await wait_until(lambda: a.received["in"] == [b"before"], 10, "the first message")
            rss_before = rss_kib(self.worker.pid)
            # The peer is gone silent: nothing reaches it, no SACK comes back.
            a.relay.loss.update(to_worker=1.0, to_peer=1.0)
            payload = bytes(self.MESSAGE)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: [send(payload) for _ in range(self.FLOOD)])
            full = await h.stats("dataConsumer.getStats", transportId="slow",
                                 dataConsumerId="dc")
            result.update(rss=(rss_before, rss_kib(self.worker.pid)), full=full,
                          full_notes=len(self.notifications("dc", "sctpsendbufferfull")))
            # The path is back: the buffer drains and messages flow again.
            a.relay.loss.update(to_worker=0.0, to_peer=0.0)
            restored = time.monotonic()
            await wait_until(lambda: self.notifications("dc", "bufferedamountlow"), 20,
                             "bufferedamountlow")
            result["low_after"] = time.monotonic() - restored
            send(b"after", PPID_BINARY)
            await wait_until(lambda: a.received["in"] and a.received["in"][-1] == b"after", 10,
                             "a message after the path came back")
            result.update(received=list(a.received["in"]), dropped=a.relay.dropped(),
                          low=self.notifications("dc", "bufferedamountlow"),
                          end=await h.stats("dataConsumer.getStats", transportId="slow",
                                            dataConsumerId="dc"))

        self.run_scenario(scenario)
        full = result["full"]
        self.assertEqual(result["full_notes"], 1, self.diagnostics())
        self.assertGreater(full["messagesDropped"], 0, full)
        self.assertEqual(full["messagesSent"] + full["messagesDropped"], self.FLOOD + 1, full)
        # What the association holds is bounded by the send buffer.
        self.assertLessEqual(full["messagesSent"] - 1, self.SEND_BUFFER // self.MESSAGE + 1, full)
        self.assertLessEqual(full["bufferedAmount"], self.SEND_BUFFER, full)
        rss_before, rss_after = result["rss"]
        self.assertLess(rss_after - rss_before, self.RSS_BOUND_KIB,
                        "RSS grew from %d to %d KiB" % (rss_before, rss_after))
        self.assertLessEqual(result["low"][0]["bufferedAmount"], self.THRESHOLD, result["low"])
        # What was buffered arrived, in order, then the last one.
        received = result["received"]
        self.assertEqual(received[0], b"before")
        self.assertEqual(received[-1], b"after")
        self.assertEqual(len(received), full["messagesSent"] + 1)
        self.assertTrue(all(m == bytes(self.MESSAGE) for m in received[1:-1]))
        self.assertEqual(result["end"]["messagesDropped"], full["messagesDropped"])
        verbose("%d x %d B offered with the path dead: %d sent, %d dropped, buffered %d; RSS %d "
                "-> %d KiB; bufferedamountlow %.1f s after the path came back (%s); relay "
                "dropped %s" % (self.FLOOD, self.MESSAGE, full["messagesSent"],
                                full["messagesDropped"], full["bufferedAmount"], rss_before,
                                rss_after, result["low_after"], result["low"], result["dropped"]))


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class VanishingPeerTest(DataChannelCase):

    BIG = 200 * 1024
    CUT_AFTER = 80 * 1024

    def test_peer_vanishes_mid_message(self):
        result = {}

        async def scenario():
            h = self.host
            gone = self.peer("gone")
            gone.channel("out", negotiated=True, id=1)
            other = self.peer("other")
            other.channel("out", negotiated=True, id=1)
            other.channel("in", negotiated=True, id=2)
            await gone.create_transport()
            await other.create_transport()
            await h.produce_data("gone", "dp-gone", 1)
            await h.produce_data("other", "dp-other", 1)
            await h.consume_data("other", "dc-gone", "dp-gone", 3)
            await h.consume_data("other", "dc-other", "dp-other", 2)
            await gone.connect(relayed=True)
            await other.connect()
            await gone.wait_open(["out"])
            await other.wait_open(["out", "in"])
            gone.channels["out"].send("hello")
            await wait_until(lambda: self.producer_messages("dp-gone") == 1, 10,
                             "the first message of the vanishing peer")

            # Part of a 200 KiB message gets through, then nothing more: the
            # peer (and its ABORT on close) never reaches the worker again.
            gone.relay.budget_to_worker = self.CUT_AFTER
            gone.channels["out"].send(random.Random(1).randbytes(self.BIG))
            await wait_until(lambda: gone.relay.budget_to_worker <= 0, 10,
                             "the first %d bytes of the message" % self.CUT_AFTER)
            gone.relay.loss["to_peer"] = 1.0
            await asyncio.wait_for(gone.pc.close(), 10)
            await asyncio.sleep(1.0)

            # The worker answers, and the other transport's data flows.
            result["gone"] = await h.stats("transport.getStats", transportId="gone")
            messages = make_messages("other", 30, [1, 1000, 100000])
            await send_windowed(other.channels["out"], messages, other.received["in"],
                                h.buffered("other", "dc-other"), 15)
            await wait_until(lambda: len(other.received["in"]) >= len(messages), 15,
                             "the other peer's messages")
            result.update(sent=messages, got=list(other.received["in"]),
                          producer=self.producer_messages("dp-gone"),
                          relay=gone.relay.forwarded(), dropped=gone.relay.dropped(),
                          dump=await h.request("transport.dump", Host.internal("gone")),
                          gone_consumer=await h.stats("dataConsumer.getStats",
                                                      transportId="other",
                                                      dataConsumerId="dc-gone"))

        elapsed = self.run_scenario(scenario)
        self.assertTrue(result["got"] == result["sent"], describe(result["got"]))
        # Only the whole first message was delivered, never a piece of the
        # cut one.
        self.assertEqual(result["producer"], 1)
        self.assertEqual(result["gone_consumer"]["messagesSent"], 1, result["gone_consumer"])
        self.assertIn(result["gone"]["sctpState"], ("connected", "failed", "closed"),
                      result["gone"])
        self.assertGreater(result["dropped"]["to_worker"], 0, result["dropped"])
        verbose("%.1f s; the vanished transport: %s, SCTP counters %s; relay forwarded %s, "
                "dropped %s; other peer: %d messages (%d bytes) through" % (
                    elapsed, result["gone"]["sctpState"], result["dump"]["sctpCounters"],
                    result["relay"], result["dropped"], len(result["sent"]),
                    sum(len(m) for m in result["sent"])))

    def producer_messages(self, producer_id):
        stats = self.worker.request_ok("dataProducer.getStats", internal={
            "routerId": ROUTER_ID, "transportId": "gone", "dataProducerId": producer_id})
        return stats[0]["messagesReceived"]


if __name__ == "__main__":
    unittest.main()
