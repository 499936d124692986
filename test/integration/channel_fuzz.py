"""A stateful fuzzer of the worker's channel protocol (fds 3-6).

It creates real routers, transports of each kind, producers and consumers
with the data the host sends (the shapes of the other integration tests),
then sends random sequences of every channel method, on live and closed
entities, with the data mutated: fields missing or of the wrong type, huge
strings and numbers, negative numbers, nesting up to and beyond the
worker's limit, ids of closed entities, random method names, and now and
then a message that is no request at all. It requires that:

- the worker stays alive;
- every request gets exactly one response with its id, on the channel it
  came on: {"accepted": true} (with or without data) or an error "Error" or
  "TypeError" with a reason string; a request nested deeper than the limit
  gets an Error about nesting;
- nothing is answered that was not a request (no id, not JSON, bad id):
  no response carries an id that was not sent as a valid request;
- the worker's memory stays bounded: every few hundred requests everything
  is closed and VmRSS is read from /proc/<pid>/status; after the warm-up,
  it may not grow by more than --rss-bound-mb over the run;
- with everything closed, the worker has no more fds open than at the
  first checkpoint (no socket or handle left behind);
- a sanitizer build (SFU_WORKER_BIN=build-fuzz/sfu-worker, built by
  scripts/fuzz.sh with ASan and UBSan) reports nothing on stderr;
- at the end, worker.close makes it exit 0.

Everything it sends follows from the seed and the worker's answers, which
are deterministic: the same seed with --max-requests set to the failing
request number replays a failure. A failure prints the seed, the request
number and the last requests sent.

    python3 test/integration/channel_fuzz.py --seconds 60 --seed 1234
    scripts/fuzz-channel.sh [seconds] [seed]
    SFU_WORKER_BIN=build-fuzz/sfu-worker scripts/fuzz-channel.sh 600

Python 3 standard library only.
"""

import argparse
import json
import os
import random
import re
import socket
import sys
import time
from collections import Counter, deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerError, WorkerProcess, ns_encode  # noqa: E402

# What a sanitizer build of the worker prints on stderr when it finds a bug.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Largest netstring payload (kMaxNetstringPayload).
MAX_MESSAGE = 4194304
# kMaxJsonDepth in include/channel/JsonScan.hpp.
MAX_JSON_DEPTH = 64
NESTING_REASON = "nesting"
LOCAL_IP = "127.0.0.1"

# What a request must get.
MUST = "must"          # exactly one response
MUST_NOT = "must-not"  # no response at all (not a request)
MAY = "may"            # at most one response (validity not certain)

# Requests per phase; each phase ends by closing everything and reading RSS.
PHASE_REQUESTS = 300
# Phases before the RSS baseline is taken.
WARMUP_PHASES = 3
# How long a response may take (a 4 MB request included).
RESPONSE_TIMEOUT = 20.0

# Limits on live entities, so that memory may legitimately stay flat.
MAX_ROUTERS = 4
MAX_TRANSPORTS = 12
MAX_PRODUCERS = 16
MAX_CONSUMERS = 24

WORKER_METHODS = ("worker.dump", "worker.getResourceUsage", "worker.updateSettings",
                  "worker.createRouter")
ROUTER_METHODS = ("router.close", "router.dump", "router.createWebRtcTransport",
                  "router.createPlainTransport", "router.createPipeTransport",
                  "router.createDirectTransport", "router.createActiveSpeakerObserver",
                  "router.createAudioLevelObserver")
TRANSPORT_METHODS = ("transport.close", "transport.dump", "transport.getStats",
                     "transport.connect", "transport.setMaxIncomingBitrate",
                     "transport.setMaxOutgoingBitrate", "transport.restartIce",
                     "transport.produce", "transport.consume", "transport.produceData",
                     "transport.consumeData", "transport.enableTraceEvent")
PRODUCER_METHODS = ("producer.close", "producer.dump", "producer.getStats", "producer.pause",
                    "producer.resume", "producer.enableTraceEvent")
CONSUMER_METHODS = ("consumer.close", "consumer.dump", "consumer.getStats", "consumer.pause",
                    "consumer.resume", "consumer.setPreferredLayers", "consumer.setPriority",
                    "consumer.requestKeyFrame", "consumer.enableTraceEvent")
DATA_METHODS = ("dataProducer.close", "dataProducer.dump", "dataProducer.getStats",
                "dataConsumer.close", "dataConsumer.dump", "dataConsumer.getStats",
                "dataConsumer.getBufferedAmount", "dataConsumer.setBufferedAmountLowThreshold",
                "dataConsumer.send")
OBSERVER_METHODS = ("rtpObserver.close", "rtpObserver.pause", "rtpObserver.resume",
                    "rtpObserver.addProducer", "rtpObserver.removeProducer")
ALL_METHODS = (WORKER_METHODS + ROUTER_METHODS + TRANSPORT_METHODS + PRODUCER_METHODS
               + CONSUMER_METHODS + DATA_METHODS + OBSERVER_METHODS)

HEADER_EXTENSIONS = (
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:3gpp:video-orientation",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:ietf:params:rtp-hdrext:framemarking",
)
TRACE_TYPES = ("rtp", "keyframe", "nack", "pli", "fir", "bwe", "probation", "chicken")
LOG_TAGS = ("info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score", "simulcast",
            "svc", "sctp", "message")
SRTP_SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM",
               "AEAD_AES_256_GCM", "CHICKEN")

# Fields the worker reads somewhere, for mutations that add one.
KNOWN_KEYS = ("codecPayloadType", "rid", "ssrc", "rtx", "dtx", "maxBitrate", "scalabilityMode",
              "mid", "apt", "preferredLayers", "spatialLayer", "temporalLayer", "rtcp", "cname",
              "encodings", "codecs", "headerExtensions", "mappedSsrc", "mappedPayloadType",
              "payloadType", "clockRate", "channels", "parameters", "rtcpFeedback", "kind",
              "type", "paused", "keyFrameRequestDelay", "rtpMapping", "consumableRtpEncodings",
              "rtpParameters", "producerId", "consumerId", "transportId", "routerId",
              "enableSctp", "numSctpStreams", "maxMessageSize", "port", "rtcpPort", "ip",
              "srtpParameters", "dtlsParameters", "fingerprints", "role", "types", "priority",
              "bitrate", "listenIps", "listenIp", "comedia", "rtcpMux", "enableSrtp",
              "logLevel", "logTags", "id", "uri", "encrypt", "reducedSize", "mux")

VIDEO_FEEDBACK = [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                  {"type": "ccm", "parameter": "fir"}, {"type": "goog-remb"},
                  {"type": "transport-cc"}]


class FuzzFailure(AssertionError):
    """The worker broke a rule; the message says which and how to replay."""


# --------------------------------------------------------------------------
# Encoding, with nesting deeper than Python's json module can write
# --------------------------------------------------------------------------

class Deep:
    """A value nested `depth` levels deep, spliced into the JSON text."""

    def __init__(self, depth, style):
        self.depth = depth
        self.style = style

    def text(self):
        n = self.depth
        if self.style == "array":
            return "[" * n + "]" * n
        if self.style == "object":
            return '{"a":' * (n - 1) + "{}" + "}" * (n - 1)
        # Alternating, with a scalar at the bottom.
        opens, closes = [], []
        for i in range(n):
            if i % 2 == 0:
                opens.append("[")
                closes.append("]")
            else:
                opens.append('{"k":')
                closes.append("}")
        return "".join(opens) + "1" + "".join(reversed(closes))


_TOKEN = "@@DEEP%d@@"
_TOKEN_RE = re.compile(r'"@@DEEP(\d+)@@"')
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET_RE = re.compile(r'[\[\]{}]|@@DEEP\d+@@')


def approx_size(value):
    """About how many bytes value takes as JSON, without writing it."""
    size = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            size += len(v) + 2
        elif isinstance(v, Deep):
            size += 2 * v.depth + 6 * (v.depth // 2)
        elif isinstance(v, dict):
            size += 2
            for k, child in v.items():
                size += len(k) + 4
                stack.append(child)
        elif isinstance(v, list):
            size += 2 + len(v)
            stack.extend(v)
        else:
            size += 24
    return size


def encode(obj):
    """Returns (JSON bytes, nesting depth) for obj, with Deep values
    spliced in as text."""
    deeps = []

    def replace(value):
        if isinstance(value, Deep):
            deeps.append(value)
            return _TOKEN % (len(deeps) - 1)
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replace(v) for v in value]
        return value

    text = json.dumps(replace(obj), separators=(",", ":"), allow_nan=False)
    # The depth: the brackets outside strings, and each Deep where it sits.
    skeleton = _STRING_RE.sub(
        lambda m: m.group(0)[1:-1] if m.group(0).startswith('"@@DEEP') else '""', text)
    depth = deepest = 0
    for m in _BRACKET_RE.finditer(skeleton):
        token = m.group(0)
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
        else:
            deepest = max(deepest, depth + deeps[int(token[6:-2])].depth)
    if deeps:
        text = _TOKEN_RE.sub(lambda m: deeps[int(m.group(1))].text(), text)
    return text.encode("utf-8"), deepest


# --------------------------------------------------------------------------
# The model of what exists in the worker
# --------------------------------------------------------------------------

class Entity:
    def __init__(self, eid, **attrs):
        self.id = eid
        self.__dict__.update(attrs)


class Model:
    """What the fuzzer created and closed, from the worker's answers."""

    def __init__(self):
        self.routers = {}
        self.transports = {}
        self.producers = {}
        self.consumers = {}
        self.closed = {"router": deque(maxlen=40), "transport": deque(maxlen=40),
                       "producer": deque(maxlen=40), "consumer": deque(maxlen=40)}

    def close_consumer(self, cid):
        if self.consumers.pop(cid, None) is not None:
            self.closed["consumer"].append(cid)

    def close_producer(self, pid):
        if self.producers.pop(pid, None) is not None:
            self.closed["producer"].append(pid)
            for c in [c for c in self.consumers.values() if c.producer == pid]:
                self.close_consumer(c.id)

    def close_transport(self, tid):
        if self.transports.pop(tid, None) is not None:
            self.closed["transport"].append(tid)
            for p in [p for p in self.producers.values() if p.transport == tid]:
                self.close_producer(p.id)
            for c in [c for c in self.consumers.values() if c.transport == tid]:
                self.close_consumer(c.id)

    def close_router(self, rid):
        if self.routers.pop(rid, None) is not None:
            self.closed["router"].append(rid)
            for t in [t for t in self.transports.values() if t.router == rid]:
                self.close_transport(t.id)


class Sent:
    """A message sent, with what it must get back."""

    def __init__(self, rid, channel, method, expect, summary, on_accept=None, deep=False):
        self.rid = rid
        self.channel = channel      # "channel" or "payload"
        self.method = method
        self.expect = expect
        self.summary = summary
        self.on_accept = on_accept
        self.deep = deep
        self.internal = None
        self.data = None
        self.answered = 0


# --------------------------------------------------------------------------
# The fuzzer
# --------------------------------------------------------------------------

def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise WorkerError("no VmRSS for %d" % pid)


def open_fds(pid):
    return set(int(fd) for fd in os.listdir("/proc/%d/fd" % pid))


def describe_fds(pid, fds):
    """What each fd is: a socket's local address, else its link."""
    inodes = {}
    for fd in sorted(fds):
        try:
            inodes[os.readlink("/proc/%d/fd/%d" % (pid, fd))] = fd
        except OSError:
            pass
    found = []
    for table in ("udp", "tcp", "udp6", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    link = "socket:[%s]" % fields[9]
                    if link in inodes:
                        ip, port = fields[1].split(":")
                        found.append("fd %d %s port %d" % (inodes.pop(link), table, int(port, 16)))
        except OSError:
            pass
    return ", ".join(found + ["fd %d %s" % (fd, link) for link, fd in inodes.items()])


class ChannelFuzzer:

    def __init__(self, seed, seconds=20.0, max_requests=None, rss_bound_mb=32, verbose=False,
                 worker_args=("--logLevel=warn",)):
        self.seed = seed
        self.rng = random.Random(seed)
        self.seconds = seconds
        self.max_requests = max_requests
        self.rss_bound_kb = int(rss_bound_mb * 1024)
        self.verbose = verbose
        self.worker_args = list(worker_args)
        self.model = Model()
        self.sent = {}               # id -> Sent, for valid-request ids
        self.history = deque(maxlen=40)
        self.count = 0               # messages sent
        self.next_entity = 0
        self.next_ssrc = 10000
        self.rss = []                # (request count, VmRSS kB) per checkpoint
        self.fds = None              # the worker's fds at the first checkpoint
        self.streams = {}            # ssrc -> [seq, timestamp] sent by producer.send
        self.stats = {"accepted": 0, "Error": 0, "TypeError": 0, "no-answer": 0,
                      "deep": 0, "garbage": 0, "payload": 0}
        self.outcomes = Counter()    # (method, answer) -> count
        self.worker = None
        # Where connected PlainTransports send: sockets of ours, never read.
        self.sinks = []

    # ----- running --------------------------------------------------------

    def run(self):
        for _ in range(2):
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind((LOCAL_IP, 0))
            self.sinks.append(sink)
        # An ASan build holds freed memory in a quarantine (256 MB by
        # default) that would pass for growth: keep it small unless told,
        # whatever else the ASan options say.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = ({} if "quarantine_size_mb" in asan else
               {"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=16"})
        self.worker = WorkerProcess(self.worker_args, env_extra=env)
        try:
            self.worker.wait_running()
            self._loop()
            self._final_checks()
        except FuzzFailure:
            raise
        except Exception as exc:  # harness errors: timeouts, worker gone
            raise self._failure("%s: %s" % (type(exc).__name__, exc)) from exc
        finally:
            self.worker.terminate()
            for sink in self.sinks:
                sink.close()
        return self.summary()

    def _loop(self):
        deadline = time.monotonic() + self.seconds
        phase = 0
        while time.monotonic() < deadline and not self._count_reached():
            self._phase(deadline)
            phase += 1
            self._checkpoint(phase)

    def _count_reached(self):
        return self.max_requests is not None and self.count >= self.max_requests

    def _phase(self, deadline):
        end = self.count + PHASE_REQUESTS
        while self.count < end and time.monotonic() < deadline and not self._count_reached():
            self._batch()

    def _batch(self):
        """Sends a few messages in one write, a round trip on each channel
        after them, and checks every answer."""
        rng = self.rng
        if rng.random() < 0.01:
            self._netstring_garbage()
        batch = []
        payload = []
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8, 13))):
            if self._count_reached():
                break
            if rng.random() < 0.2:
                payload.append(self._payload_message())
            else:
                batch.append(self._channel_message())
        batch.append(self._message("worker.dump", None, None, expect=MUST))
        payload.append(self._payload_sync())
        self.worker.send_raw(b"".join(raw for raw, _ in batch))
        self.worker.send_payload_raw(b"".join(raw for raw, _ in payload))
        for _, sent in batch + payload:
            self._await(sent)
        self._check_response_ids()
        if rng.random() < 0.05:
            self.worker.discard_received()

    # ----- checking -------------------------------------------------------

    def _await(self, sent):
        if sent is None:
            return
        if sent.expect == MUST:
            if sent.channel == "channel":
                response = self.worker.wait_response(sent.rid, timeout=RESPONSE_TIMEOUT)
            else:
                response = self.worker._wait_for(
                    lambda: self.worker._payload_responses.pop(sent.rid, None),
                    RESPONSE_TIMEOUT, "payload channel response %d" % sent.rid)
            self._check_response(sent, response)
            return
        # MAY and MUST_NOT: the round trip after them is answered, so any
        # answer of theirs has arrived.
        pool = (self.worker._responses if sent.channel == "channel"
                else self.worker._payload_responses)
        with self.worker._cond:
            response = pool.pop(sent.rid, None)
        if response is None:
            self.stats["no-answer"] += 1
            return
        if sent.expect == MUST_NOT:
            raise self._failure("answered a message that is no request (%s): %r"
                                % (sent.summary, _short(response)))
        self._check_response(sent, response)

    def _check_response(self, sent, response):
        if response.get("accepted") is True and "error" not in response:
            extra = set(response) - {"id", "accepted", "data"}
            if extra:
                raise self._failure("accepted response with extra fields %r: %r"
                                    % (sorted(extra), _short(response)))
            if sent.deep:
                raise self._failure("accepted a request nested deeper than %d (%s)"
                                    % (MAX_JSON_DEPTH, sent.summary))
            self.stats["accepted"] += 1
            self.outcomes[(sent.method, "accepted")] += 1
            sent.data = response.get("data")
            if sent.on_accept is not None:
                sent.on_accept(sent.internal if isinstance(sent.internal, dict) else {})
            return
        kind, reason = response.get("error"), response.get("reason")
        if kind not in ("Error", "TypeError") or not isinstance(reason, str) or \
                "accepted" in response:
            raise self._failure("malformed response to %s: %r" % (sent.summary, _short(response)))
        if sent.deep and (kind != "Error" or NESTING_REASON not in reason):
            raise self._failure("request nested deeper than %d answered %r"
                                % (MAX_JSON_DEPTH, _short(response)))
        self.stats[kind] += 1
        self.outcomes[(sent.method, "%s: %s" % (kind, re.sub(r"[\[(].*", "", reason)[:60]))] += 1

    def _check_response_ids(self):
        """Every response id was sent as a request on its channel, once."""
        ids, payload_ids = self.worker.take_response_ids()
        for channel, received in (("channel", ids), ("payload", payload_ids)):
            for rid in received:
                sent = self.sent.get(rid) if isinstance(rid, int) else None
                if sent is None or sent.channel != channel:
                    raise self._failure("%s response with id %r that was not sent as a request "
                                        "there" % (channel, rid))
                sent.answered += 1
                if sent.answered > 1:
                    raise self._failure("request answered %d times: %s"
                                        % (sent.answered, sent.summary))
        # Requests of finished batches are done with.
        for rid in [rid for rid, s in self.sent.items() if s.answered or s.expect != MUST]:
            del self.sent[rid]
        if not self.worker.alive:
            raise self._failure("worker died (exit %s)" % self.worker.returncode)
        stderr = self.worker.stderr
        if any(s in stderr for s in SANITIZER_REPORTS):
            raise self._failure("sanitizer report on stderr")
        if self.worker.protocol_errors:
            raise self._failure("malformed output: %r" % self.worker.protocol_errors[:3])

    def _request_now(self, method, internal=None):
        """A request of the fuzzer's own, answered before going on."""
        raw, sent = self._message(method, internal, None, expect=MUST)
        sent.on_accept = None
        self.worker.send_raw(raw)
        self._await(sent)
        return sent.data or {}

    def _checkpoint(self, phase):
        """Closes everything, then reads the worker's RSS and fds."""
        # Every router the worker has, also those created under mutated ids.
        for rid in self._request_now("worker.dump").get("routerIds", []):
            self._request_now("router.close", {"routerId": rid})
            self.model.close_router(rid)
        for rid in list(self.model.routers):
            self.model.close_router(rid)
        left = self._request_now("worker.dump").get("routerIds")
        if left:
            raise self._failure("routers left after closing them all: %r" % left[:5])
        self._check_response_ids()
        self.worker.discard_received()
        rss = vm_rss_kb(self.worker.pid)
        self.rss.append((self.count, rss))
        # With everything closed, no socket or handle may stay open.
        fds = open_fds(self.worker.pid)
        if self.fds is None:
            self.fds = fds
        elif len(fds) > len(self.fds):
            raise self._failure("%d fds open with everything closed, %d at the first checkpoint:"
                                " %s" % (len(fds), len(self.fds), describe_fds(self.worker.pid,
                                                                              fds - self.fds)))
        if self.verbose:
            print("phase %d: %d messages, VmRSS %d kB" % (phase, self.count, rss), flush=True)
        if len(self.rss) > WARMUP_PHASES:
            baseline = self.rss[WARMUP_PHASES - 1][1]
            if rss - baseline > self.rss_bound_kb:
                raise self._failure("VmRSS grew from %d kB (after warm-up) to %d kB, more than "
                                    "%d kB; checkpoints: %r"
                                    % (baseline, rss, self.rss_bound_kb, self.rss))

    def _final_checks(self):
        time.sleep(0.2)
        self._check_response_ids()
        code = self.worker.close(timeout=10)
        if code != 0:
            raise self._failure("worker.close: exit code %s" % code)
        stderr = self.worker.stderr
        if any(s in stderr for s in SANITIZER_REPORTS):
            raise self._failure("sanitizer report on stderr")

    def _failure(self, text):
        lines = ["channel fuzzer: %s" % text,
                 "seed %d, after %d messages (replay: --seed %d --max-requests %d)"
                 % (self.seed, self.count, self.seed, self.count),
                 "last messages sent:"]
        lines += ["  " + entry for entry in self.history]
        if self.worker is not None:
            self.worker.poll()
            lines.append("worker: %s" % ("running" if self.worker.returncode is None
                                         else "exit %s" % self.worker.returncode))
            tail = self.worker.stderr[-6000:].strip()
            if tail:
                lines.append("worker stderr: " + tail)
        return FuzzFailure("\n".join(lines))

    def summary(self):
        rss = self.rss
        growth = rss[-1][1] - rss[WARMUP_PHASES - 1][1] if len(rss) > WARMUP_PHASES else 0
        return {"seed": self.seed, "messages": self.count, "checkpoints": len(rss),
                "rss_kb_first": rss[0][1] if rss else 0, "rss_kb_last": rss[-1][1] if rss else 0,
                "rss_kb_growth_after_warmup": growth,
                "rss_kb_max": max((r for _, r in rss), default=0), **self.stats}

    # ----- building messages ----------------------------------------------

    def _message(self, method, internal, data, expect=MUST, on_accept=None, extra=None):
        """A channel request with a fresh id: (netstring bytes, Sent)."""
        rid = self.worker.next_id()
        req = {"id": rid, "method": method}
        if internal is not None:
            req["internal"] = internal
        if data is not None:
            req["data"] = data
        if extra:
            req.update(extra)
        return self._record(req, rid, "channel", method, expect, on_accept)

    def _record(self, req, rid, channel, method, expect, on_accept):
        if approx_size(req) > MAX_MESSAGE * 3 // 4:
            # Too big for a netstring: the worker would drop it and what it
            # buffered after it. Oversized messages are the contract test's.
            req["data"] = {"tooBig": True}
        body, depth = encode(req)
        if len(body) > MAX_MESSAGE:
            req["data"] = {"tooBig": True}
            req.pop("internal", None)
            body, depth = encode(req)
        deep = depth > MAX_JSON_DEPTH
        if deep:
            self.stats["deep"] += 1
        summary = "#%d %s %s id=%s depth=%d %s" % (self.count, channel, method, rid, depth,
                                                  _short_bytes(body))
        sent = Sent(rid, channel, method, expect, summary, on_accept, deep)
        sent.internal = req.get("internal")
        self.count += 1
        self.history.append(summary)
        if expect != MUST_NOT and isinstance(rid, int):
            self.sent[rid] = sent
        return ns_encode(body), sent

    def _new_id(self, prefix):
        self.next_entity += 1
        return "%s-%d" % (prefix, self.next_entity)

    def _ssrc(self):
        self.next_ssrc += 10
        return self.next_ssrc

    def _pick(self, table):
        return self.rng.choice(sorted(table)) if table else None

    def _some_id(self, kind, live):
        """A live id mostly, else a closed one or a made-up one."""
        rng = self.rng
        roll = rng.random()
        if live and roll < 0.8:
            return self._pick(live)
        closed = self.model.closed[kind]
        if closed and roll < 0.93:
            return rng.choice(list(closed))
        return rng.choice(("", "nope", "%s-0" % kind, "x" * rng.choice((1, 100, 5000))))

    def _channel_message(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return self._not_a_request()
        if roll < 0.06:
            return self._deep_request()
        method, internal, data, on_accept = self._valid_request()
        if rng.random() < 0.35:
            if rng.random() < 0.5 and data is not None:
                data = self._mutate(data)
            elif internal is not None:
                internal = self._mutate(internal)
            else:
                data = self._mutate(data if data is not None else {})
            if rng.random() < 0.02:
                method = self._random_method()
        return self._message(method, internal, data, on_accept=on_accept)

    def _random_method(self):
        rng = self.rng
        choice = rng.random()
        if choice < 0.4:
            return rng.choice(("chicken.soup", "", "worker.", ".dump", "router.close ",
                               "Worker.dump", "transport.produce\u0000", "x" * 3000))
        method = rng.choice(ALL_METHODS)
        return method.upper() if choice < 0.7 else method + rng.choice(("x", ".", "\u00e9"))

    # ----- valid requests -------------------------------------------------

    def _valid_request(self):
        """(method, internal, data, on_accept) for a random real method,
        towards the entities there are."""
        rng = self.rng
        m = self.model
        choices = [("worker", 3), ("router-create", 4 if len(m.routers) < MAX_ROUTERS else 0),
                   ("router", 3 if m.routers else 1),
                   ("create-transport", 6 if m.routers and len(m.transports) < MAX_TRANSPORTS
                    else 0),
                   ("transport", 6 if m.transports else 1),
                   ("produce", 7 if m.transports and len(m.producers) < MAX_PRODUCERS else 0),
                   ("consume", 7 if m.producers and len(m.consumers) < MAX_CONSUMERS else 0),
                   ("producer", 4 if m.producers else 1),
                   ("consumer", 5 if m.consumers else 1),
                   ("not-built", 2)]
        kinds = [k for k, w in choices for _ in range(w)]
        kind = rng.choice(kinds)
        return getattr(self, "_req_" + kind.replace("-", "_"))()

    def _req_worker(self):
        rng = self.rng
        method = rng.choice(("worker.dump", "worker.getResourceUsage", "worker.updateSettings"))
        data = None
        if method == "worker.updateSettings":
            data = {"logLevel": rng.choice(("warn", "error", "warn", "debug", "none")),
                    "logTags": rng.sample(LOG_TAGS, rng.randint(0, 4))}
        return method, None, data, None

    def _req_router_create(self):
        rid = self._new_id("router") if self.rng.random() < 0.9 else self._some_id(
            "router", self.model.routers)

        def created(internal):
            # The ids the worker took are the ones sent, mutated or not.
            rid = internal.get("routerId")
            if rid not in self.model.routers:
                self.model.routers[rid] = Entity(rid)
        return "worker.createRouter", {"routerId": rid}, None, created

    def _req_router(self):
        rng = self.rng
        rid = self._some_id("router", self.model.routers)
        method = rng.choice(("router.dump", "router.dump", "router.dump", "router.close"))
        on_accept = None
        if method == "router.close":
            def on_accept(internal):
                self.model.close_router(internal.get("routerId"))
        return method, {"routerId": rid}, None, on_accept

    def _req_create_transport(self):
        rng = self.rng
        rid = self._some_id("router", self.model.routers)
        tid = self._new_id("transport") if rng.random() < 0.92 else self._some_id(
            "transport", self.model.transports)
        kind = rng.choice(("webrtc", "plain", "plain", "direct", "direct"))
        if kind == "webrtc":
            method = "router.createWebRtcTransport"
            udp = rng.random() < 0.8
            data = {"listenIps": [{"ip": LOCAL_IP}] + (
                        [{"ip": LOCAL_IP, "announcedIp": "192.0.2.1"}] if rng.random() < 0.2
                        else []),
                    "enableUdp": udp, "enableTcp": (not udp) or rng.random() < 0.3,
                    "preferUdp": rng.random() < 0.5, "preferTcp": rng.random() < 0.2,
                    "initialAvailableOutgoingBitrate": 600000, "enableSctp": rng.random() < 0.2,
                    "numSctpStreams": {"OS": self._sctp_number(1024),
                                       "MIS": self._sctp_number(1024)},
                    "maxSctpMessageSize": self._sctp_number(262144),
                    "sctpSendBufferSize": self._sctp_number(262144), "isDataChannel": True}
        elif kind == "plain":
            method = "router.createPlainTransport"
            data = {"listenIp": {"ip": LOCAL_IP}, "rtcpMux": rng.random() < 0.7,
                    "comedia": rng.random() < 0.5, "enableSctp": rng.random() < 0.1,
                    "numSctpStreams": {"OS": 1024, "MIS": 1024}, "maxSctpMessageSize": 262144,
                    "sctpSendBufferSize": 262144, "isDataChannel": False,
                    "enableSrtp": rng.random() < 0.4,
                    "srtpCryptoSuite": rng.choice(SRTP_SUITES[:4])}
        else:
            method = "router.createDirectTransport"
            data = {"direct": True, "maxMessageSize": rng.choice((262144, 1200, 0, 2 ** 32 + 5))}

        def created(internal, kind=kind, data=data):
            rid, tid = internal.get("routerId"), internal.get("transportId")
            if rid not in self.model.routers:
                self.model.routers[rid] = Entity(rid)
            if tid not in self.model.transports:
                self.model.transports[tid] = Entity(tid, router=rid, kind=kind,
                                                    srtp=bool(data.get("enableSrtp")),
                                                    rtcp_mux=data.get("rtcpMux", True),
                                                    comedia=data.get("comedia", False))
        return method, {"routerId": rid, "transportId": tid}, data, created

    def _sctp_number(self, usual):
        rng = self.rng
        return usual if rng.random() < 0.8 else rng.choice((0, -1, 2 ** 32, 2 ** 64 - 1, 1e300,
                                                            65536.5, 70000))

    def _transport_internal(self):
        m = self.model
        tid = self._some_id("transport", m.transports)
        t = m.transports.get(tid)
        rid = t.router if t is not None and self.rng.random() < 0.95 else self._some_id(
            "router", m.routers)
        return {"routerId": rid, "transportId": tid}, t

    def _req_transport(self):
        rng = self.rng
        internal, t = self._transport_internal()
        kind = t.kind if t is not None else rng.choice(("webrtc", "plain", "direct"))
        method = rng.choice(("transport.dump", "transport.getStats", "transport.connect",
                             "transport.connect", "transport.setMaxIncomingBitrate",
                             "transport.setMaxOutgoingBitrate", "transport.restartIce",
                             "transport.enableTraceEvent", "transport.close"))
        data = None
        on_accept = None
        if method == "transport.connect":
            data = self._connect_data(kind, t)
        elif method in ("transport.setMaxIncomingBitrate", "transport.setMaxOutgoingBitrate"):
            data = {"bitrate": rng.choice((0, 1, 100000, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40,
                                           1e10, 5e5))}
        elif method == "transport.enableTraceEvent":
            data = {"types": rng.sample(TRACE_TYPES, rng.randint(0, 3))}
        elif method == "transport.close":
            def on_accept(internal):
                self.model.close_transport(internal.get("transportId"))
        return method, internal, data, on_accept

    def _connect_data(self, kind, t):
        rng = self.rng
        if kind == "webrtc":
            fingerprint = ":".join("%02X" % rng.randrange(256) for _ in range(32))
            data = {"dtlsParameters": {
                "role": rng.choice(("client", "server", "auto")),
                "fingerprints": [{"algorithm": rng.choice(("sha-256", "sha-1", "sha-512")),
                                  "value": fingerprint}]}}
            return data
        if kind == "plain":
            data = {}
            if t is None or not t.comedia or rng.random() < 0.2:
                data["ip"] = LOCAL_IP
                data["port"] = self.sinks[0].getsockname()[1]
                if t is None or not t.rtcp_mux or rng.random() < 0.2:
                    data["rtcpPort"] = self.sinks[1].getsockname()[1]
            if t is None or t.srtp or rng.random() < 0.1:
                suite = rng.choice(SRTP_SUITES[:4])
                key_len = 46 if "256" in suite else (28 if "GCM" in suite else 30)
                data["srtpParameters"] = {
                    "cryptoSuite": suite,
                    "keyBase64": _b64(bytes(rng.randrange(256) for _ in range(key_len)))}
            return data
        return {}

    def _produce_data(self, kind):
        """transport.produce data and what a consumer needs of it."""
        rng = self.rng
        ssrc = self._ssrc()
        mapped = [self._ssrc() for _ in range(3)]
        with_mid = rng.random() < 0.4
        mid = str(self.next_ssrc) if with_mid else None
        extensions = []
        if rng.random() < 0.5:
            chosen = rng.sample(HEADER_EXTENSIONS, rng.randint(1, 5))
            extensions = [{"uri": uri, "id": i + 1, "encrypt": False, "parameters": {}}
                          for i, uri in enumerate(chosen)]
        if kind == "audio":
            codecs = [{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000,
                       "channels": 2, "parameters": {"useinbandfec": 1, "usedtx": 1},
                       "rtcpFeedback": [{"type": "transport-cc"}]}]
            encodings = [{"ssrc": ssrc}]
            map_encodings = [{"ssrc": ssrc, "mappedSsrc": mapped[0]}]
            ptype = "simple"
        elif kind == "video":
            codecs = [{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
                       "parameters": {}, "rtcpFeedback": list(VIDEO_FEEDBACK)},
                      {"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
                       "parameters": {"apt": 101}, "rtcpFeedback": []}]
            encodings = [{"ssrc": ssrc, "rtx": {"ssrc": ssrc + 1}}]
            map_encodings = [{"ssrc": ssrc, "mappedSsrc": mapped[0]}]
            ptype = "simple"
        elif kind == "simulcast":
            codecs = [{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
                       "parameters": {}, "rtcpFeedback": list(VIDEO_FEEDBACK)},
                      {"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
                       "parameters": {"apt": 101}, "rtcpFeedback": []}]
            if rng.random() < 0.5:
                encodings = [{"ssrc": ssrc + 2 * i, "rtx": {"ssrc": ssrc + 2 * i + 1},
                              "scalabilityMode": "S1T3"} for i in range(3)]
                map_encodings = [{"ssrc": ssrc + 2 * i, "scalabilityMode": "S1T3",
                                  "mappedSsrc": mapped[i]} for i in range(3)]
            else:
                encodings = [{"rid": "r%d" % i, "scalabilityMode": "S1T3"} for i in range(3)]
                map_encodings = [{"rid": "r%d" % i, "scalabilityMode": "S1T3",
                                  "mappedSsrc": mapped[i]} for i in range(3)]
            ptype = "simulcast"
        else:  # an SVC stream: producing works, consuming is not built
            codecs = [{"mimeType": "video/VP9", "payloadType": 103, "clockRate": 90000,
                       "parameters": {"profile-id": 0}, "rtcpFeedback": list(VIDEO_FEEDBACK)}]
            encodings = [{"ssrc": ssrc, "scalabilityMode": "L3T3"}]
            map_encodings = [{"ssrc": ssrc, "scalabilityMode": "L3T3", "mappedSsrc": mapped[0]}]
            ptype = "svc"
        rtp_parameters = {"codecs": codecs, "headerExtensions": extensions,
                          "encodings": encodings,
                          "rtcp": {"cname": "fuzz-%d" % ssrc, "reducedSize": True}}
        if mid is not None:
            rtp_parameters["mid"] = mid
        data = {"kind": "audio" if kind == "audio" else "video",
                "rtpParameters": rtp_parameters,
                "rtpMapping": {"codecs": [{"payloadType": c["payloadType"],
                                           "mappedPayloadType": c["payloadType"] - 4}
                                          for c in codecs],
                               "encodings": map_encodings},
                "keyFrameRequestDelay": rng.choice((0, 0, 100, 5000)),
                "paused": rng.random() < 0.2}
        consumable = [{"ssrc": e["mappedSsrc"]} | (
            {"scalabilityMode": e["scalabilityMode"]} if "scalabilityMode" in e else {})
            for e in map_encodings]
        rtx_ssrcs = [e["rtx"]["ssrc"] for e in encodings if "rtx" in e]
        media_ssrcs = [e["ssrc"] for e in encodings if "ssrc" in e]
        info = {"ptype": ptype, "codecs": codecs, "consumable": consumable,
                "kind": data["kind"], "ssrc": ssrc, "pt": codecs[0]["payloadType"],
                # What its RTP looks like, for producer.send.
                "media_ssrcs": media_ssrcs or [ssrc + 2 * i for i in range(len(encodings))],
                "rtx_ssrcs": rtx_ssrcs, "rids": [e["rid"] for e in encodings if "rid" in e],
                "mid": mid, "extensions": {e["uri"]: e["id"] for e in extensions}}
        return data, info

    def _req_produce(self):
        rng = self.rng
        internal, t = self._transport_internal()
        pid = self._new_id("producer") if rng.random() < 0.93 else self._some_id(
            "producer", self.model.producers)
        internal["producerId"] = pid
        kind = rng.choice(("audio", "video", "simulcast", "simulcast", "svc"))
        data, info = self._produce_data(kind)

        def created(internal, info=info):
            pid = internal.get("producerId")
            if internal.get("transportId") in self.model.transports and \
                    pid not in self.model.producers:
                self.model.producers[pid] = Entity(
                    pid, router=internal["routerId"], transport=internal["transportId"], **info)
        return "transport.produce", internal, data, created

    def _req_consume(self):
        rng = self.rng
        m = self.model
        pid = self._some_id("producer", m.producers)
        p = m.producers.get(pid)
        internal, t = self._transport_internal()
        if p is not None and t is not None and t.router != p.router and rng.random() < 0.9:
            # A transport of the producer's router, when there is one.
            same = [x for x in m.transports.values() if x.router == p.router]
            if same:
                t = rng.choice(sorted(same, key=lambda x: x.id))
                internal = {"routerId": t.router, "transportId": t.id}
        cid = self._new_id("consumer") if rng.random() < 0.93 else self._some_id(
            "consumer", m.consumers)
        internal.update({"producerId": pid, "consumerId": cid})
        if p is None:
            data, info = self._produce_data(rng.choice(("audio", "video", "simulcast")))
            info["ptype"] = rng.choice(("simple", "simulcast", "pipe"))
        else:
            info = p.__dict__
        ctype = {"simple": "simple", "simulcast": rng.choice(("simulcast", "simulcast", "pipe")),
                 "svc": rng.choice(("svc", "pipe"))}.get(info["ptype"], info["ptype"])
        codecs = [dict(c, payloadType=c["payloadType"] - 4) for c in info["codecs"]]
        for c in codecs:
            if "apt" in c.get("parameters", {}):
                c["parameters"] = {"apt": c["parameters"]["apt"] - 4}
        if ctype == "pipe":
            encodings = [dict(e, ssrc=self._ssrc()) for e in info["consumable"]]
            codecs = [c for c in codecs if c["mimeType"] != "video/rtx"]
        else:
            ssrc = self._ssrc()
            encoding = {"ssrc": ssrc}
            if any(c["mimeType"] == "video/rtx" for c in codecs):
                encoding["rtx"] = {"ssrc": ssrc + 1}
            if ctype == "simulcast":
                encoding["scalabilityMode"] = "S%dT3" % len(info["consumable"])
            encodings = [encoding]
        data = {"kind": info["kind"], "type": ctype,
                "rtpParameters": {"codecs": codecs, "headerExtensions": [],
                                  "encodings": encodings,
                                  "rtcp": {"cname": "fuzz", "reducedSize": True, "mux": True},
                                  "mid": str(self._ssrc())},
                "consumableRtpEncodings": info["consumable"],
                "paused": rng.random() < 0.2}
        if ctype == "simulcast" and rng.random() < 0.5:
            data["preferredLayers"] = {"spatialLayer": rng.randint(0, 3),
                                       "temporalLayer": rng.randint(0, 3)}

        def created(internal, ctype=ctype):
            cid = internal.get("consumerId")
            if internal.get("transportId") in self.model.transports and \
                    internal.get("producerId") in self.model.producers and \
                    cid not in self.model.consumers:
                self.model.consumers[cid] = Entity(
                    cid, router=internal["routerId"], transport=internal["transportId"],
                    producer=internal["producerId"], ctype=ctype)
        return "transport.consume", internal, data, created

    def _req_producer(self):
        rng = self.rng
        m = self.model
        pid = self._some_id("producer", m.producers)
        p = m.producers.get(pid)
        if p is not None and rng.random() < 0.95:
            internal = {"routerId": p.router, "transportId": p.transport, "producerId": pid}
        else:
            internal, _ = self._transport_internal()
            internal["producerId"] = pid
        method = rng.choice(PRODUCER_METHODS)
        data = None
        on_accept = None
        if method == "producer.enableTraceEvent":
            data = {"types": rng.sample(TRACE_TYPES, rng.randint(0, 3))}
        elif method == "producer.close":
            def on_accept(internal):
                self.model.close_producer(internal.get("producerId"))
        return method, internal, data, on_accept

    def _req_consumer(self):
        rng = self.rng
        m = self.model
        cid = self._some_id("consumer", m.consumers)
        c = m.consumers.get(cid)
        if c is not None and rng.random() < 0.95:
            internal = {"routerId": c.router, "transportId": c.transport,
                        "producerId": c.producer, "consumerId": cid}
        else:
            internal, _ = self._transport_internal()
            internal["consumerId"] = cid
        method = rng.choice(CONSUMER_METHODS)
        data = None
        on_accept = None
        if method == "consumer.setPreferredLayers":
            data = {"spatialLayer": rng.randint(0, 3), "temporalLayer": rng.randint(0, 3)}
        elif method == "consumer.setPriority":
            data = {"priority": rng.choice((1, 2, 10, 255, 1.5, 2 ** 32, 2 ** 40, 1e10, 1e300,
                                            4294967295.5))}
        elif method == "consumer.enableTraceEvent":
            data = {"types": rng.sample(TRACE_TYPES, rng.randint(0, 3))}
        elif method == "consumer.close":
            def on_accept(internal):
                self.model.close_consumer(internal.get("consumerId"))
        return method, internal, data, on_accept

    def _req_not_built(self):
        """Methods of entities that cannot exist yet, and RTP observers: those
        are created under one fixed id per router, so that they stay few."""
        rng = self.rng
        m = self.model
        method = rng.choice(("router.createPipeTransport", "router.createActiveSpeakerObserver",
                             "router.createAudioLevelObserver", "transport.produceData",
                             "transport.consumeData") + DATA_METHODS + OBSERVER_METHODS)
        internal, t = self._transport_internal()
        internal.update({"dataProducerId": self._new_id("dp"), "dataConsumerId": "dc",
                         "rtpObserverId": "obs", "producerId": self._some_id("producer",
                                                                               m.producers)})
        data = {"listenIp": {"ip": LOCAL_IP}, "sctpStreamParameters": {"streamId": 1},
                "label": "x", "protocol": "", "interval": 800, "maxEntries": 1,
                "threshold": -80, "bufferedAmountLowThreshold": 1000}
        return method, internal, data, None

    # ----- mutations --------------------------------------------------------

    def _random_value(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.30:
            return rng.choice((None, True, False, 0, -1, 1, 127, 128, 255, 256, 65535, 65536,
                               2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 1,
                               2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, 2 ** 70, 10 ** 30,
                               -2 ** 31, -2 ** 63, -2 ** 63 - 1, -2 ** 70, 0.5, -0.0, 1.5,
                               1e300, -1e300, 1e-300, 4294967295.5))
        if roll < 0.55:
            return self._random_string()
        if roll < 0.65:
            return []
        if roll < 0.72:
            return {}
        if roll < 0.80:
            return [self._random_value() for _ in range(rng.randint(1, 4))]
        if roll < 0.86:
            return {self._random_string(): self._random_value()
                    for _ in range(rng.randint(1, 3))}
        if roll < 0.96:
            kind = rng.choice(("router", "transport", "producer", "consumer"))
            return self._some_id(kind, getattr(self.model, kind + "s"))
        # Nesting around the limit (and far beyond, rarely).
        return self._deep_value()

    def _random_string(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(("", "x", "audio", "video", "simple", "simulcast", "svc", "pipe",
                               "video/VP8", "audio/opus", "video/rtx", "video/H264",
                               "urn:ietf:params:rtp-hdrext:sdes:mid", "S3T3", "L1T3",
                               "sha-256", "client", "server", "auto", "127.0.0.1", "::1",
                               "0.0.0.0", "256.1.1.1", "\u0000", "\u00e9\u4e2d\U0001F600",
                               '"\\', "\u2028", "%s%n%d", "AES_CM_128_HMAC_SHA1_80",
                               "S0T0", "S99T99", "L3T3_KEY", "S3T", "T3", "S1T1", "L9T9",
                               "video/VP9", "audio/PCMU", "video/red", "video/ulpfec"))
        if roll < 0.9:
            return "".join(rng.choice("abcXYZ019:/-_.%\"\\\u00e9") for _ in
                           range(rng.randint(1, 40)))
        # Big: up to a megabyte, now and then.
        return "s" * rng.choice((1000, 10000, 100000, 1000000 if rng.random() < 0.2 else 1000))

    def _deep_value(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.85:
            depth = rng.randint(MAX_JSON_DEPTH - 8, MAX_JSON_DEPTH + 3)
        elif roll < 0.97:
            depth = rng.choice((100, 1000, 10000))
        else:
            depth = 200000
        return Deep(depth, rng.choice(("array", "object", "mixed")))

    def _mutate(self, value):
        rng = self.rng
        value = json.loads(json.dumps(value))
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            slots = []
            stack = [value]
            while stack:
                container = stack.pop()
                keys = container.keys() if isinstance(container, dict) else range(len(container))
                for key in keys:
                    slots.append((container, key))
                    child = container[key]
                    if isinstance(child, (dict, list)):
                        stack.append(child)
            op = rng.random()
            if not slots or op < 0.08:
                # A field the worker reads, where it may not be expected.
                dicts = [value] + [c[k] for c, k in slots if isinstance(c[k], dict)]
                target = rng.choice(dicts) if isinstance(value, dict) else None
                if target is not None:
                    key = rng.choice(KNOWN_KEYS) if rng.random() < 0.8 else \
                        self._random_string()[:50]
                    target[key] = self._random_value()
                continue
            container, key = rng.choice(slots)
            if op < 0.30:
                del container[key]
            elif op < 0.75:
                container[key] = self._random_value()
            elif op < 0.85 and isinstance(container[key], list) and container[key]:
                # Many copies: long lists of encodings, codecs, fingerprints...
                factor = rng.choice((2, 10, 100, 1000))
                if approx_size(container[key]) * factor < MAX_MESSAGE // 2:
                    container[key] = container[key] * factor
            elif op < 0.92 and isinstance(container[key], int) and \
                    not isinstance(container[key], bool):
                container[key] = rng.choice((-container[key], container[key] + 1,
                                             container[key] - 1, container[key] * 2 ** 32))
            else:
                container[key] = self._deep_value() if rng.random() < 0.3 else [container[key]]
        return value

    # ----- messages that are not requests, and deep ones --------------------

    def _deep_request(self):
        """A real request with nesting around or beyond the limit."""
        method, internal, data, on_accept = self._valid_request()
        data = dict(data or {})
        data[self.rng.choice(("rtpParameters", "x", "types", "dtlsParameters"))] = \
            self._deep_value()
        return self._message(method, internal, data, on_accept=on_accept)

    def _not_a_request(self):
        """A message the worker must drop without answering (or, for the
        uncertain ones, answer at most once)."""
        rng = self.rng
        self.stats["garbage"] += 1
        rid = self.worker.next_id()
        body = json.dumps({"id": rid, "method": "worker.dump"}, separators=(",", ":"))
        kind = rng.randrange(12)
        expect = MUST_NOT
        if kind == 0:
            raw = body[:rng.randint(1, len(body) - 1)]
        elif kind == 1:
            raw = body[:-1] + ',"x":NaN}'
        elif kind == 2:
            raw = body + " trailing"
        elif kind == 3:
            raw = body.replace("worker.dump", '\\ud800')
            expect = MAY
        elif kind == 4:
            raw = body.replace('"id":%d' % rid, '"id":"%d"' % rid)
        elif kind == 5:
            raw = body.replace('"id":%d' % rid, '"id":%d.0' % rid)
        elif kind == 6:
            raw = body.replace('"method":"worker.dump"', '"method":5')
        elif kind == 7:
            raw = '{"id":%d,"internal":{}}' % rid
        elif kind == 8:
            raw = "[%s]" % body
        elif kind == 9:
            # Too deep and without a method: nothing to answer.
            raw = '{"id":%d,"data":%s}' % (rid, "[" * 100 + "]" * 100)
        elif kind == 10:
            raw = '{"id":0,"method":"worker.dump"}'
        else:
            raw = '{"id":%d,"method":"worker.dump","big":1%s}' % (rid, "0" * 400)
            expect = MAY
        summary = "#%d channel not-a-request(%d) id=%s %s" % (self.count, kind, rid, raw[:100])
        sent = Sent(rid, "channel", "garbage", expect, summary)
        self.count += 1
        self.history.append(summary)
        if expect == MAY:
            self.sent[rid] = sent
        payload = raw.encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            payload = payload.replace(b"worker", b"w\xff\xfeker")
        return ns_encode(payload), sent

    def _netstring_garbage(self):
        """Bytes that are no netstring, alone in their write once the worker
        is idle: it drops what it buffered and goes on."""
        rng = self.rng
        garbage = rng.choice((b"abc:xyz,", b"12x:abcdefghijkl,", b"3:abcX", b":,",
                              b"99999999999999:", b"%d:" % (4194304 + 1)))
        channel = rng.choice(("channel", "payload"))
        self.count += 1
        self.history.append("#%d %s netstring garbage %r" % (self.count, channel, garbage))
        if channel == "channel":
            self.worker.send_raw(garbage)
        else:
            self.worker.send_payload_raw(garbage)
        time.sleep(0.1)

    # ----- payload channel ------------------------------------------------

    def _payload_sync(self):
        """A dataConsumer.send that must be answered (with an error)."""
        rid = self.worker.next_id()
        req = {"id": rid, "method": "dataConsumer.send",
               "internal": {"routerId": "nope", "transportId": "t", "dataProducerId": "dp",
                            "dataConsumerId": "dc"}, "data": {"ppid": 51}}
        raw, sent = self._record(req, rid, "payload", "dataConsumer.send", MUST, None)
        return raw + ns_encode(b"sync"), sent

    def _payload_message(self):
        rng = self.rng
        m = self.model
        self.stats["payload"] += 1
        roll = rng.random()
        if roll < 0.5 and m.producers:
            # producer.send to a producer (on a direct transport it is taken).
            # Mostly producers of direct transports, where the packet is taken.
            direct = {pid for pid, x in m.producers.items()
                      if getattr(m.transports.get(x.transport), "kind", None) == "direct"}
            consumed = direct & {c.producer for c in m.consumers.values()}
            pid = self._pick(consumed if consumed and rng.random() < 0.7 else
                             direct if direct and rng.random() < 0.8 else m.producers)
            p = m.producers[pid]
            internal = {"routerId": p.router, "transportId": p.transport, "producerId": pid}
            packet = self._rtp_for(p)
            msg = {"event": "producer.send", "internal": internal, "data": {}}
            if rng.random() < 0.2:
                msg = self._mutate(msg)
            return self._payload_notification(msg, packet)
        if roll < 0.7 and m.transports:
            tid = self._pick(m.transports)
            msg = {"event": "transport.sendRtcp",
                   "internal": {"routerId": m.transports[tid].router, "transportId": tid},
                   "data": {}}
            return self._payload_notification(msg, self._rtcp_bytes())
        if roll < 0.75:
            msg = {"event": rng.choice(("dataProducer.send", "chicken", "producer.send")),
                   "internal": self._mutate({"routerId": self._some_id("router", m.routers)}),
                   "data": {"ppid": 51}}
            return self._payload_notification(msg, b"data")
        # A request: only dataConsumer.send is one; the rest must fail.
        rid = self.worker.next_id()
        method = "dataConsumer.send" if rng.random() < 0.7 else rng.choice(ALL_METHODS)
        req = {"id": rid, "method": method,
               "internal": {"routerId": self._some_id("router", m.routers),
                            "transportId": self._some_id("transport", m.transports),
                            "dataProducerId": "dp", "dataConsumerId": "dc"},
               "data": {"ppid": rng.choice((51, 53, 0, -1))}}
        if rng.random() < 0.3:
            req["data"] = self._mutate(req["data"])
        if rng.random() < 0.1:
            req["data"]["x"] = self._deep_value()
        raw, sent = self._record(req, rid, "payload", method, MUST, None)
        return raw + ns_encode(bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))), \
            sent

    def _payload_notification(self, msg, payload):
        if approx_size(msg) > MAX_MESSAGE * 3 // 4:
            msg = {"event": msg.get("event"), "internal": {}}
        body, depth = encode(msg)
        self.count += 1
        self.history.append("#%d payload %s depth=%d %s" % (self.count, msg.get("event"), depth,
                                                           _short_bytes(body)))
        return ns_encode(body) + ns_encode(payload), None

    def _rtp_for(self, p):
        """An RTP packet for producer p: one of its streams (or its RTX, or
        an unknown SSRC), sequence numbers mostly in order, MID and RID
        extensions when it negotiated them, a VP8 descriptor (with a key
        frame now and then); sometimes just random bytes."""
        rng = self.rng
        if rng.random() < 0.1:
            return bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        index = rng.randrange(len(p.media_ssrcs))
        rtx = bool(p.rtx_ssrcs) and rng.random() < 0.15
        if rng.random() < 0.05:
            ssrc = rng.randrange(2 ** 32)
        else:
            ssrc = p.rtx_ssrcs[index % len(p.rtx_ssrcs)] if rtx else p.media_ssrcs[index]
        state = self.streams.setdefault(ssrc, [rng.randrange(65536), rng.randrange(2 ** 32)])
        roll = rng.random()
        step = 1 if roll < 0.8 else rng.choice((0, -1, -5, 2, 30, 1000, 32768))
        state[0] = (state[0] + step) % 65536
        state[1] = (state[1] + (3000 if rng.random() < 0.3 else 0)) % 2 ** 32
        seq, ts = state
        elements = b""
        for uri, value in (("urn:ietf:params:rtp-hdrext:sdes:mid", p.mid),
                           ("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                            p.rids[index] if index < len(p.rids) and not rtx else None),
                           ("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
                            p.rids[index] if index < len(p.rids) and rtx else None)):
            ext_id = p.extensions.get(uri)
            if ext_id and value and rng.random() < 0.9:
                data = value.encode()[:16]
                elements += bytes([(ext_id << 4) | (len(data) - 1)]) + data
        extension = b""
        if elements:
            elements += b"\0" * (-len(elements) % 4)
            extension = b"\xbe\xde" + (len(elements) // 4).to_bytes(2, "big") + elements
        pt = 102 if rtx else p.pt
        header = bytes([0x90 if extension else 0x80,
                        (0x80 if rng.random() < 0.3 else 0) | (pt & 0x7F),
                        seq >> 8, seq & 0xFF]) + ts.to_bytes(4, "big") + ssrc.to_bytes(4, "big")
        # VP8 payload descriptor (X, I with a 15-bit picture id, L, T with
        # TID) and a key frame header now and then; audio is random bytes.
        body = bytes([0x90, 0xE0, 0x80 | rng.randrange(128), rng.randrange(256),
                      rng.randrange(256), rng.randrange(4) << 6])
        if rng.random() < 0.3:
            body += bytes([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
        if rtx:
            body = rng.randrange(65536).to_bytes(2, "big") + body
        return header + extension + body + bytes(rng.randrange(256)
                                                 for _ in range(rng.randint(0, 200)))

    def _rtcp_bytes(self):
        rng = self.rng
        kind = rng.random()
        ssrc = rng.choice([c for c in (self.next_ssrc - 10, self.next_ssrc - 20)] +
                          [rng.randrange(2 ** 32)])
        if kind < 0.25:   # PLI
            return bytes([0x81, 206, 0, 2]) + (1).to_bytes(4, "big") + ssrc.to_bytes(4, "big")
        if kind < 0.5:    # generic NACK
            return bytes([0x81, 205, 0, 3]) + (1).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + \
                rng.randrange(65536).to_bytes(2, "big") + rng.randrange(65536).to_bytes(2, "big")
        if kind < 0.75:   # RR with one block
            return bytes([0x81, 201, 0, 7]) + (1).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + \
                bytes(rng.randrange(256) for _ in range(20))
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))


# --------------------------------------------------------------------------
# Helpers and command line
# --------------------------------------------------------------------------

def _b64(data):
    import base64
    return base64.b64encode(data).decode("ascii")


def _short(obj, limit=300):
    text = json.dumps(obj)
    return text if len(text) <= limit else text[:limit] + "...(%d chars)" % len(text)


def _short_bytes(data, limit=160):
    text = data[:limit].decode("utf-8", "replace")
    return text if len(data) <= limit else text + "...(%d bytes)" % len(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=None, help="default: random")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="stop after this many messages (replays a failure)")
    parser.add_argument("--rss-bound-mb", type=float, default=32.0,
                        help="largest VmRSS growth allowed after the warm-up")
    parser.add_argument("--verbose", action="store_true", help="print each checkpoint")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    print("channel fuzzer: seed %d, %.0f s" % (seed, args.seconds), flush=True)
    fuzzer = ChannelFuzzer(seed, seconds=args.seconds, max_requests=args.max_requests,
                           rss_bound_mb=args.rss_bound_mb, verbose=args.verbose)
    try:
        result = fuzzer.run()
    except FuzzFailure as failure:
        print(failure, file=sys.stderr, flush=True)
        return 1
    if args.verbose:
        for (method, answer), count in sorted(fuzzer.outcomes.items()):
            print("%7d  %-40s %s" % (count, method[:40], answer))
    print("channel fuzzer: passed: %s" % json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
