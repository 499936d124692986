"""Helpers for the loss recovery tests (NACK, RTX, retransmission): request
data for video producers and consumers with NACK feedback and an RTX codec,
a runner for the build/sfu-loss_peer test peer, a lossy UDP relay that sits
between a real peer and the worker, and the GStreamer peers themselves (the
loss recovery one, and an SRTP one for the AEAD GCM suites).

The module is Python 3 standard library only. The GStreamer peers (gst_main,
gst_srtp_main) import GObject introspection lazily: Debian's python3-gi
installs for /usr/bin/python3, which may not be the first python3 on PATH,
so the tests run them as `<that python> loss_util.py gst ...` (or gst-srtp)
in a child process.
"""

import functools
import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LOCAL_IP = "127.0.0.1"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_PEER_BIN = os.path.join(REPO_ROOT, "build", "sfu-loss_peer")

# RTCP feedback of a video codec that negotiates generic NACK (RFC 4585),
# PLI and FIR, as the mediasoup host passes it on.
NACK_FEEDBACK = (
    {"type": "nack"},
    {"type": "nack", "parameter": "pli"},
    {"type": "ccm", "parameter": "fir"},
)
# The same without generic NACK: key frame requests only.
NO_NACK_FEEDBACK = (
    {"type": "nack", "parameter": "pli"},
    {"type": "ccm", "parameter": "fir"},
)


def peer_bin():
    """Path of the loss test peer (SFU_LOSS_PEER_BIN overrides)."""
    return os.environ.get("SFU_LOSS_PEER_BIN", DEFAULT_PEER_BIN)


# --------------------------------------------------------------------------
# Channel request data (the mediasoup 3.8 host's shapes)
# --------------------------------------------------------------------------

def plain_transport_options(rtcp_mux=True, comedia=False, ip=LOCAL_IP):
    """router.createPlainTransport data, as Router.createPlainTransport()
    sends it."""
    return {
        "listenIp": {"ip": ip},
        "rtcpMux": rtcp_mux,
        "comedia": comedia,
        "enableSctp": False,
        "numSctpStreams": {"OS": 1024, "MIS": 1024},
        "maxSctpMessageSize": 262144,
        "sctpSendBufferSize": 262144,
        "isDataChannel": False,
        "enableSrtp": False,
        "srtpCryptoSuite": "AES_CM_128_HMAC_SHA1_80",
    }


# Video codecs by name: mimeType and the parameters the host passes on.
VIDEO_CODECS = {
    "VP8": ("video/VP8", {}),
    "VP9": ("video/VP9", {"profile-id": 0}),
}


def vp8_codecs(payload_type, rtx_payload_type=None, nack=True, codec="VP8"):
    """rtpParameters.codecs: VP8 (or another of VIDEO_CODECS) and, when
    rtx_payload_type is given, its RTX codec (video/rtx, apt = the media
    payload type)."""
    mime_type, parameters = VIDEO_CODECS[codec]
    codecs = [{
        "mimeType": mime_type,
        "payloadType": payload_type,
        "clockRate": 90000,
        "parameters": dict(parameters),
        "rtcpFeedback": [dict(fb) for fb in (NACK_FEEDBACK if nack else NO_NACK_FEEDBACK)],
    }]
    if rtx_payload_type is not None:
        codecs.append({
            "mimeType": "video/rtx",
            "payloadType": rtx_payload_type,
            "clockRate": 90000,
            "parameters": {"apt": payload_type},
            "rtcpFeedback": [],
        })
    return codecs


def produce_video_data(payload_type, ssrc, mapped_payload_type, mapped_ssrc,
                       rtx_payload_type=None, rtx_ssrc=None, mapped_rtx_payload_type=None,
                       nack=True, cname="loss-peer", key_frame_request_delay=0, feedback=None):
    """transport.produce data for one VP8 encoding, optionally with RTX
    (codec and encodings[0].rtx.ssrc) mapped by rtpMapping. feedback, when
    given, replaces the codec's rtcpFeedback (e.g. FIR only)."""
    encoding = {"ssrc": ssrc}
    if rtx_ssrc is not None:
        encoding["rtx"] = {"ssrc": rtx_ssrc}
    mapping_codecs = [{"payloadType": payload_type, "mappedPayloadType": mapped_payload_type}]
    if rtx_payload_type is not None:
        mapping_codecs.append({"payloadType": rtx_payload_type,
                               "mappedPayloadType": mapped_rtx_payload_type})
    codecs = vp8_codecs(payload_type, rtx_payload_type, nack)
    if feedback is not None:
        codecs[0]["rtcpFeedback"] = [dict(fb) for fb in feedback]
    return {
        "kind": "video",
        "rtpParameters": {
            "codecs": codecs,
            "headerExtensions": [],
            "encodings": [encoding],
            "rtcp": {"cname": cname, "reducedSize": True},
        },
        "rtpMapping": {
            "codecs": mapping_codecs,
            "encodings": [{"ssrc": ssrc, "mappedSsrc": mapped_ssrc}],
        },
        "keyFrameRequestDelay": key_frame_request_delay,
        "paused": False,
    }


def consume_video_data(payload_type, ssrc, producer_mapped_ssrc, rtx_payload_type=None,
                       rtx_ssrc=None, nack=True, cname="sfu"):
    """transport.consume data for a simple VP8 consumer; RTX is negotiated
    when rtx_payload_type and rtx_ssrc are given."""
    encoding = {"ssrc": ssrc}
    if rtx_ssrc is not None:
        encoding["rtx"] = {"ssrc": rtx_ssrc}
    return {
        "kind": "video",
        "type": "simple",
        "rtpParameters": {
            "codecs": vp8_codecs(payload_type, rtx_payload_type, nack),
            "headerExtensions": [],
            "encodings": [encoding],
            "rtcp": {"cname": cname, "reducedSize": True, "mux": True},
        },
        "consumableRtpEncodings": [{"ssrc": producer_mapped_ssrc}],
        "paused": False,
    }


def stream_stats(stats, kind):
    """The single inbound-rtp / outbound-rtp entry of a getStats answer."""
    entries = [s for s in stats or [] if s.get("type") == kind]
    return entries[0] if len(entries) == 1 else None


# --------------------------------------------------------------------------
# The sfu-loss_peer process
# --------------------------------------------------------------------------

class LossPeer:
    """One sfu-loss_peer child. Its stdout (JSON lines: a "listening" event
    for a receiver, then the summary) is read by a thread; stderr goes to a
    log file."""

    def __init__(self, args, log_path, name):
        self.name = name
        self.args = [peer_bin()] + list(args)
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self._lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log)
        self._reader = threading.Thread(target=self._read, name="peer-" + name, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _json_lines(self):
        out = []
        for line in self._lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def listening_port(self, timeout=5):
        """The port a receiver bound (its first line), or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for obj in self._json_lines():
                    if obj.get("event") == "listening":
                        return obj["port"]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(min(remaining, 0.1))

    def wait(self, timeout):
        """Waits for the exit; returns the exit code, or None on timeout."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(2)
        return code

    def summary(self):
        """The last JSON line that is a summary (has "mode"), or None."""
        with self._cond:
            found = [o for o in self._json_lines() if "mode" in o]
        return found[-1] if found else None

    def stop(self, grace=3.0):
        """SIGTERM (the peer then prints its summary), SIGKILL after grace."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(grace) is None:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)
        if not self._reader.is_alive() and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode

    def stderr_tail(self, limit=1500):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").strip()
        except OSError:
            return "<no log>"
        return text[-limit:] if text else "<empty>"

    def describe(self):
        return "%s (exit %s): stderr: %s" % (self.name, self.proc.returncode, self.stderr_tail())


# --------------------------------------------------------------------------
# A lossy UDP relay between a peer and the worker
# --------------------------------------------------------------------------

def is_rtcp(data):
    """RFC 5761 demultiplexing: RTCP packet types 192..223."""
    return len(data) >= 2 and (data[0] >> 6) == 2 and 192 <= data[1] <= 223


def rtcp_feedback_seqs(data):
    """(NACKed sequence numbers, PLI count, FIR count) of an RTCP compound."""
    seqs = []
    plis = firs = 0
    pos = 0
    while pos + 4 <= len(data):
        count = data[pos] & 0x1F
        ptype = data[pos + 1]
        length = (struct.unpack_from("!H", data, pos + 2)[0] + 1) * 4
        end = pos + length
        if end > len(data):
            break
        if ptype == 205 and count == 1:
            for off in range(pos + 12, end - 3, 4):
                pid, blp = struct.unpack_from("!HH", data, off)
                seqs.append(pid)
                seqs.extend((pid + b + 1) & 0xFFFF for b in range(16) if blp >> b & 1)
        elif ptype == 206 and count == 1:
            plis += 1
        elif ptype == 206 and count == 4:
            firs += 1
        pos = end
    return seqs, plis, firs


def rtp_fields(data):
    """(payload type, sequence number, ssrc, payload offset) of an RTP
    packet, or None when it is too short to be one."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
    if offset > len(data):
        return None
    seq, = struct.unpack_from("!H", data, 2)
    ssrc, = struct.unpack_from("!I", data, 8)
    return data[1] & 0x7F, seq, ssrc, offset


def vp8_key_frame_start(payload):
    """True for the first packet of a VP8 key frame (RFC 7741 descriptor,
    then the frame tag's P bit clear)."""
    if not payload:
        return False
    b0 = payload[0]
    if not b0 & 0x10 or b0 & 0x07:
        return False
    off = 1
    if b0 & 0x80:
        if len(payload) < 2:
            return False
        x = payload[1]
        off = 2
        if x & 0x80:
            if len(payload) <= off:
                return False
            off += 2 if payload[off] & 0x80 else 1
        if x & 0x40:
            off += 1
        if x & 0x30:
            off += 1
    return len(payload) > off and not payload[off] & 0x01


class LossyRelay:
    """Forwards UDP between a peer and the worker, dropping a seeded share
    of the RTP packets in each direction (RTCP always passes).

    peer side: `peer_port` (self.peer_port) receives whatever the peer sends
    (RTP and RTCP, from any local port) and forwards it to `worker_addr`
    from the worker side socket, whose port (self.worker_side_port) the
    worker sees as the peer's: latch it with comedia, or connect() the
    worker's transport to it. What the worker sends there goes to
    `peer_rtp_addr`, or to `peer_rtcp_addr` for RTCP.

    Loss applies from `warmup_ms` after a direction's first RTP packet (so
    that a stream starts: key frame, jitter buffer, a first RTCP exchange)
    until `loss_until_ms` after it (so that the peers still have time to
    repair the last losses before they stop)."""

    def __init__(self, name, worker_addr, peer_rtp_addr, peer_rtcp_addr=None,
                 loss_to_worker=0.0, loss_to_peer=0.0, seed=1, warmup_ms=1000,
                 loss_until_ms=None):
        self.name = name
        self.worker_addr = worker_addr
        self.peer_rtp_addr = peer_rtp_addr
        self.peer_rtcp_addr = peer_rtcp_addr or peer_rtp_addr
        self.loss = {"to_worker": loss_to_worker, "to_peer": loss_to_peer}
        self.rng = {"to_worker": random.Random("%s-%d-w" % (name, seed)),
                    "to_peer": random.Random("%s-%d-p" % (name, seed))}
        self.warmup_ms = warmup_ms
        self.loss_until_ms = loss_until_ms
        self._first_rtp = {}
        self.stats = {d: {"rtp": 0, "rtcp": 0, "dropped": 0, "forwarded": 0,
                          "nackSeqs": 0, "nackPackets": 0, "plis": 0, "firs": 0,
                          "byPayloadType": {}, "droppedByPayloadType": {}}
                      for d in ("to_worker", "to_peer")}
        # Per media sequence number, for the packets each direction carries:
        # what happened to the original, the NACKs that asked for it and
        # the RTX copies (by original sequence number) that answered.
        self.rtx_pts = set()
        self.media_pts = set()
        self.trace = {d: {"media": {}, "nacks": {}, "rtx": {}, "keyFrames": []}
                      for d in ("to_worker", "to_peer")}
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self.peer_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.peer_sock.bind((LOCAL_IP, 0))
        self.worker_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.worker_sock.bind((LOCAL_IP, 0))
        for s in (self.peer_sock, self.worker_sock):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.peer_port = self.peer_sock.getsockname()[1]
        self.worker_side_port = self.worker_sock.getsockname()[1]
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="relay-" + name, daemon=True)
        self._thread.start()

    def track(self, media_pt, rtx_pt):
        """Traces, per sequence number, the media packets of payload type
        media_pt and their RTX copies (rtx_pt) in both directions."""
        self.media_pts.add(media_pt)
        self.rtx_pts.add(rtx_pt)

    def _account(self, direction, data):
        """Updates counters; returns True when the packet is to be dropped."""
        st = self.stats[direction]
        now = round((time.monotonic() - self._t0) * 1000, 1)
        if is_rtcp(data):
            st["rtcp"] += 1
            seqs, plis, firs = rtcp_feedback_seqs(data)
            if seqs:
                st["nackPackets"] += 1
                st["nackSeqs"] += len(seqs)
                # A NACK travels against the media it asks for.
                other = "to_peer" if direction == "to_worker" else "to_worker"
                for seq in seqs:
                    self.trace[other]["nacks"].setdefault(seq, []).append(now)
            st["plis"] += plis
            st["firs"] += firs
            return False
        st["rtp"] += 1
        pt = str(data[1] & 0x7F) if len(data) > 1 else "?"
        st["byPayloadType"][pt] = st["byPayloadType"].get(pt, 0) + 1
        since = (time.monotonic() - self._first_rtp.setdefault(direction, time.monotonic())) \
            * 1000
        in_window = since >= self.warmup_ms and (self.loss_until_ms is None or
                                                 since < self.loss_until_ms)
        drop = in_window and self.rng[direction].random() < self.loss[direction]
        if drop:
            st["dropped"] += 1
            st["droppedByPayloadType"][pt] = st["droppedByPayloadType"].get(pt, 0) + 1
        fields = rtp_fields(data)
        if fields:
            ptype, seq, _, offset = fields
            trace = self.trace[direction]
            if ptype in self.media_pts:
                trace["media"].setdefault(seq, []).append((now, drop))
                if vp8_key_frame_start(data[offset:]):
                    trace["keyFrames"].append((now, seq))
            elif ptype in self.rtx_pts and len(data) >= offset + 2:
                osn, = struct.unpack_from("!H", data, offset)
                trace["rtx"].setdefault(osn, []).append((now, drop))
        return drop

    def loss_report(self, direction):
        """What became of every media packet dropped in `direction`: how
        many were asked for again and repaired, and the details of those
        that were not."""
        with self._lock:
            trace = json.loads(json.dumps(self.trace[direction]))
        media = {int(k): v for k, v in trace["media"].items()}
        nacks = {int(k): v for k, v in trace["nacks"].items()}
        rtx = {int(k): v for k, v in trace["rtx"].items()}
        key_frames = trace["keyFrames"]
        report = {"dropped": 0, "repaired": 0, "unrepaired": []}
        for seq, copies in sorted(media.items()):
            if not any(dropped for _, dropped in copies):
                continue
            report["dropped"] += 1
            delivered = [t for t, dropped in copies if not dropped] + \
                [t for t, dropped in rtx.get(seq, []) if not dropped]
            if delivered:
                report["repaired"] += 1
                continue
            lost_at = copies[0][0]
            later_keys = [(t, k) for t, k in key_frames if t > lost_at]
            entry = {"seq": seq, "lostAtMs": lost_at, "nacksAtMs": nacks.get(seq, []),
                     "rtxAtMs": [t for t, _ in rtx.get(seq, [])],
                     "rtxDropped": sum(1 for _, d in rtx.get(seq, []) if d)}
            if later_keys:
                entry["nextKeyFrame"] = {"atMs": later_keys[0][0], "seq": later_keys[0][1]}
            report["unrepaired"].append(entry)
        return report

    def _run(self):
        socks = [self.peer_sock, self.worker_sock, self._stop_r]
        while True:
            readable, _, _ = select.select(socks, [], [], 1.0)
            if self._stop_r in readable:
                return
            for sock in readable:
                while True:
                    try:
                        data, _ = sock.recvfrom(65536, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    with self._lock:
                        if sock is self.peer_sock:
                            if not self._account("to_worker", data):
                                self.stats["to_worker"]["forwarded"] += 1
                                self._send(self.worker_sock, data, self.worker_addr)
                        else:
                            if not self._account("to_peer", data):
                                self.stats["to_peer"]["forwarded"] += 1
                                target = self.peer_rtcp_addr if is_rtcp(data) else \
                                    self.peer_rtp_addr
                                self._send(self.peer_sock, data, target)

    @staticmethod
    def _send(sock, data, addr):
        try:
            sock.sendto(data, addr)
        except OSError:
            pass

    def snapshot(self):
        with self._lock:
            return json.loads(json.dumps(self.stats))

    def close(self):
        if self._thread.is_alive():
            os.write(self._stop_w, b"x")
            self._thread.join(3)
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.peer_sock.close()
        self.worker_sock.close()


def free_udp_port(ip=LOCAL_IP):
    """A UDP port free right now (racy by nature, the range is large)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((ip, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


# --------------------------------------------------------------------------
# GStreamer
# --------------------------------------------------------------------------

GST_ELEMENTS = ("videotestsrc", "vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay", "rtpbin",
                "rtprtxsend", "rtprtxreceive", "udpsrc", "udpsink", "fakesink")


# What the SRTP peer (gst_srtp_main) needs besides: srtpenc and srtpdec are
# in gstreamer1.0-plugins-bad.
GST_SRTP_ELEMENTS = ("videotestsrc", "vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay", "rtpbin",
                     "srtpenc", "srtpdec", "funnel", "udpsrc", "udpsink", "fakesink")

# Gst.init() scans every plugin on a first run, which takes a while on a
# loaded machine; a probe that takes longer than this is a hang.
GST_PROBE_TIMEOUT = 60


class GstProbeTimeout(Exception):
    """Probing GStreamer hung: a failure of the machine, never a skip."""


@functools.lru_cache(maxsize=None)
def _gst_probe(elements=GST_ELEMENTS):
    """(python, problem): a Python interpreter that has GObject
    introspection, GStreamer's typelib and the elements named, or None with
    why."""
    candidates = [os.environ.get("SFU_GST_PYTHON"), "/usr/bin/python3", sys.executable,
                  shutil.which("python3")]
    probe = ("import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; "
             "Gst.init(None); import sys; "
             "missing = [e for e in sys.argv[1:] if Gst.ElementFactory.find(e) is None]; "
             "print(' '.join(missing)); sys.exit(1 if missing else 0)")
    problems = []
    for python in dict.fromkeys(candidates):
        if not python or not os.path.exists(python):
            continue
        try:
            result = subprocess.run([python, "-c", probe] + list(elements),
                                    capture_output=True, text=True, timeout=GST_PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise GstProbeTimeout("probing GStreamer with %s took more than %d s"
                                  % (python, GST_PROBE_TIMEOUT))
        except OSError as exc:
            problems.append("%s: %s" % (python, exc))
            continue
        if result.returncode == 0:
            return python, None
        problems.append("%s: %s" % (python, (result.stdout.strip() and "missing elements "
                                             + result.stdout.strip())
                                    or result.stderr.strip()[-200:]))
    return None, "; ".join(problems) or "no python3 found"


def gst_python(elements=GST_ELEMENTS):
    """A Python interpreter that has GObject introspection, GStreamer's
    typelib and the elements named, or None. Raises GstProbeTimeout when
    probing hangs."""
    return _gst_probe(tuple(elements))[0]


def gst_missing_reason(elements=GST_ELEMENTS):
    """Why the GStreamer test cannot run (GStreamer, its Python bindings or
    an element named are not installed), or None when it can. Raises
    GstProbeTimeout when probing hangs: a time-out is a failure, not a
    reason to skip."""
    python, problem = _gst_probe(tuple(elements))
    if python is not None:
        return None
    return ("GStreamer with python3-gi and the elements %s is not installed (needs "
            "gstreamer1.0-plugins-good, gstreamer1.0-plugins-base, gstreamer1.0-plugins-bad "
            "for SRTP, python3-gi, gir1.2-gstreamer-1.0: scripts/setup.sh installs them): %s"
            % (" ".join(elements), problem))


def gst_main(argv):
    """The GStreamer peer: a receiving pipeline (rtpbin with NACK-driven
    retransmission and an RTX receiver) and a sending pipeline (VP8 encoder,
    rtpbin with an RTX sender answering NACKs), run for --seconds, then a
    JSON summary on stdout."""
    import argparse

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst

    ap = argparse.ArgumentParser(prog="loss_util.py gst")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--send-to", type=int, required=True, help="relay port for the sender")
    ap.add_argument("--send-rtcp-port", type=int, required=True,
                    help="port the sender receives RTCP (NACK, PLI) on")
    ap.add_argument("--send-ssrc", type=int, required=True)
    ap.add_argument("--send-pt", type=int, default=101)
    ap.add_argument("--send-rtx-ssrc", type=int, required=True)
    ap.add_argument("--send-rtx-pt", type=int, default=102)
    ap.add_argument("--recv-rtp-port", type=int, required=True)
    ap.add_argument("--recv-rtcp-port", type=int, required=True)
    ap.add_argument("--recv-rtcp-to", type=int, required=True,
                    help="relay port the receiver's RTCP (NACK, RR) goes to")
    ap.add_argument("--recv-pt", type=int, default=96)
    ap.add_argument("--recv-rtx-pt", type=int, default=97)
    ap.add_argument("--latency", type=int, default=400)
    args = ap.parse_args(argv)

    Gst.init(None)
    result = {"errors": [], "warnings": []}
    loop = GLib.MainLoop()

    def tune_session(rtpbin):
        # RFC 4585 feedback as browsers send it: a NACK goes out as soon as
        # the jitter buffer asks (immediate mode for a small session, reduced
        # size), not with the next regular RTCP seconds later.
        session = rtpbin.emit("get-session", 0)
        session.set_property("rtcp-min-interval", 100 * Gst.MSECOND)
        internal = session.get_property("internal-session")
        internal.set_property("rtcp-immediate-feedback-threshold", 20)
        internal.set_property("rtcp-reduced-size", True)

    def make(factory, **props):
        element = Gst.ElementFactory.make(factory)
        if element is None:
            raise RuntimeError("no GStreamer element %s" % factory)
        for key, value in props.items():
            element.set_property(key.rstrip("_").replace("_", "-"), value)
        return element

    def link(*elements):
        for a, b in zip(elements, elements[1:]):
            if not a.link(b):
                raise RuntimeError("cannot link %s to %s" % (a.get_name(), b.get_name()))

    def on_bus(bus, message, who):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            result["errors"].append("%s: %s (%s)" % (who, err.message, debug))
            loop.quit()
        elif message.type == Gst.MessageType.WARNING:
            warn, _ = message.parse_warning()
            if len(result["warnings"]) < 20:
                result["warnings"].append("%s: %s" % (who, warn.message))
        return True

    # ----- receiver ------------------------------------------------------
    recv = Gst.Pipeline.new("receiver")
    rbin = make("rtpbin", do_retransmission=True, latency=args.latency)
    # AVPF: NACKs go out as early feedback, not only with regular RTCP.
    rbin.set_property("rtp-profile", 3)
    rtp_src = make("udpsrc", port=args.recv_rtp_port, address=LOCAL_IP)
    rtp_src.set_property("caps", Gst.Caps.from_string(
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=%d"
        % args.recv_pt))
    rtcp_src = make("udpsrc", port=args.recv_rtcp_port, address=LOCAL_IP)
    rtcp_src.set_property("caps", Gst.Caps.from_string("application/x-rtcp"))
    rtcp_out = make("udpsink", host=LOCAL_IP, port=args.recv_rtcp_to, sync=False, async_=False)
    depay = make("rtpvp8depay")
    for prop, value in (("request-keyframe", True), ("wait-for-keyframe", True)):
        if depay.find_property(prop) is not None:
            depay.set_property(prop, value)
    decoder = make("vp8dec")
    sink = make("fakesink", sync=False, async_=False)
    for e in (rbin, rtp_src, rtcp_src, rtcp_out, depay, decoder, sink):
        recv.add(e)
    link(depay, decoder, sink)

    rtx_receivers = []
    jitterbuffers = []
    counts = {"decoded": 0, "depayloaded": 0, "encoded": 0}

    def pt_map(_bin, _session, pt):
        if pt == args.recv_pt:
            return Gst.Caps.from_string(
                "application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=%d"
                % pt)
        if pt == args.recv_rtx_pt:
            return Gst.Caps.from_string(
                "application/x-rtp,media=video,clock-rate=90000,encoding-name=RTX,payload=%d,"
                "apt=%d" % (pt, args.recv_pt))
        return None

    def aux_receiver(_bin, session):
        rtx = make("rtprtxreceive")
        rtx.set_property("payload-type-map", Gst.Structure.new_from_string(
            "application/x-rtp-pt-map, %d=(uint)%d" % (args.recv_pt, args.recv_rtx_pt)))
        rtx_receivers.append(rtx)
        b = Gst.Bin.new("rtx-receive-%d" % session)
        b.add(rtx)
        b.add_pad(Gst.GhostPad.new("sink_%d" % session, rtx.get_static_pad("sink")))
        b.add_pad(Gst.GhostPad.new("src_%d" % session, rtx.get_static_pad("src")))
        return b

    def new_jitterbuffer(_bin, jb, _session, _ssrc):
        jitterbuffers.append(jb)

    def pad_added(_bin, pad):
        if pad.get_name().startswith("recv_rtp_src_0_") and \
                not depay.get_static_pad("sink").is_linked():
            pad.link(depay.get_static_pad("sink"))

    def count(key):
        def probe(_pad, _info):
            counts[key] += 1
            return Gst.PadProbeReturn.OK
        return probe

    rbin.connect("request-pt-map", pt_map)
    rbin.connect("request-aux-receiver", aux_receiver)
    rbin.connect("new-jitterbuffer", new_jitterbuffer)
    rbin.connect("pad-added", pad_added)
    # The handlers above must be in place before the session's pads are
    # requested.
    rtp_src.link_pads("src", rbin, "recv_rtp_sink_0")
    rtcp_src.link_pads("src", rbin, "recv_rtcp_sink_0")
    rbin.link_pads("send_rtcp_src_0", rtcp_out, "sink")
    tune_session(rbin)
    decoder.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count("decoded"))
    depay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count("depayloaded"))

    # ----- sender --------------------------------------------------------
    send = Gst.Pipeline.new("sender")
    sbin = make("rtpbin")
    sbin.set_property("rtp-profile", 3)
    # Snow does not compress: every frame takes the target bitrate, about
    # four packets.
    source = make("videotestsrc", is_live=True, pattern=1)
    caps = make("capsfilter", caps=Gst.Caps.from_string(
        "video/x-raw,width=320,height=240,framerate=30/1"))
    encoder = make("vp8enc", deadline=1, keyframe_max_dist=30, target_bitrate=1000000,
                   cpu_used=8, lag_in_frames=0)
    pay = make("rtpvp8pay", pt=args.send_pt, ssrc=args.send_ssrc, mtu=1200,
               picture_id_mode=2)
    rtp_out = make("udpsink", host=LOCAL_IP, port=args.send_to, sync=False, async_=False)
    rtcp_out_s = make("udpsink", host=LOCAL_IP, port=args.send_to, sync=False, async_=False)
    rtcp_in_s = make("udpsrc", port=args.send_rtcp_port, address=LOCAL_IP)
    rtcp_in_s.set_property("caps", Gst.Caps.from_string("application/x-rtcp"))
    for e in (sbin, source, caps, encoder, pay, rtp_out, rtcp_out_s, rtcp_in_s):
        send.add(e)
    link(source, caps, encoder, pay)
    encoder.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, count("encoded"))

    rtx_senders = []

    def aux_sender(_bin, session):
        rtx = make("rtprtxsend", max_size_time=2000)
        rtx.set_property("payload-type-map", Gst.Structure.new_from_string(
            "application/x-rtp-pt-map, %d=(uint)%d" % (args.send_pt, args.send_rtx_pt)))
        rtx.set_property("ssrc-map", Gst.Structure.new_from_string(
            "application/x-rtp-ssrc-map, %d=(uint)%d" % (args.send_ssrc, args.send_rtx_ssrc)))
        rtx_senders.append(rtx)
        b = Gst.Bin.new("rtx-send-%d" % session)
        b.add(rtx)
        b.add_pad(Gst.GhostPad.new("sink_%d" % session, rtx.get_static_pad("sink")))
        b.add_pad(Gst.GhostPad.new("src_%d" % session, rtx.get_static_pad("src")))
        return b

    # rtpbin asks for the aux sender when send_rtp_sink_0 is requested, so
    # the handler is connected before the pads are linked.
    sbin.connect("request-aux-sender", aux_sender)
    pay.link_pads("src", sbin, "send_rtp_sink_0")
    sbin.link_pads("send_rtp_src_0", rtp_out, "sink")
    sbin.link_pads("send_rtcp_src_0", rtcp_out_s, "sink")
    rtcp_in_s.link_pads("src", sbin, "recv_rtcp_sink_0")
    tune_session(sbin)

    for pipeline, who in ((recv, "receiver"), (send, "sender")):
        bus = pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", on_bus, who)

    started = time.monotonic()
    if recv.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        result["errors"].append("receiver: cannot start")
    if send.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        result["errors"].append("sender: cannot start")
    GLib.timeout_add(int(args.seconds * 1000), loop.quit)
    if not result["errors"]:
        loop.run()

    def props(element, names):
        out = {}
        for name in names:
            if element.find_property(name) is not None:
                out[name] = element.get_property(name)
        return out

    result["seconds"] = round(time.monotonic() - started, 2)
    result["frames"] = dict(counts)
    result["rtxSenders"] = [props(e, ("num-rtx-requests", "num-rtx-packets"))
                            for e in rtx_senders]
    result["rtxReceivers"] = [props(e, ("num-rtx-requests", "num-rtx-packets",
                                        "num-rtx-assoc-packets")) for e in rtx_receivers]
    jb_stats = []
    for jb in jitterbuffers:
        st = jb.get_property("stats")
        entry = {}
        for key in ("num-pushed", "num-lost", "num-late", "num-duplicates", "rtx-count",
                    "rtx-success-count", "rtx-per-packet", "rtx-rtt"):
            ok, value = (st.get_uint64(key) if key not in ("rtx-per-packet",)
                         else st.get_double(key))
            if not ok and key == "rtx-rtt":
                ok, value = st.get_uint64(key)
            if ok:
                entry[key] = value
        jb_stats.append(entry)
    result["jitterbuffers"] = jb_stats
    send.set_state(Gst.State.NULL)
    recv.set_state(Gst.State.NULL)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 1 if result["errors"] else 0


def gst_srtp_main(argv):
    """The GStreamer SRTP peer: a sender (VP8 encoder, rtpbin for its SRs,
    srtpenc, RTP and RTCP through one socket) and a receiver (RTP and RTCP
    on two ports, srtpdec, VP8 decoder), both keyed for the AEAD GCM
    cipher given. Runs until the sender's --frames are out and --linger
    seconds more, then prints a JSON summary of what each side counted."""
    import argparse

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst

    ap = argparse.ArgumentParser(prog="loss_util.py gst-srtp")
    ap.add_argument("--cipher", required=True, choices=("aes-128-gcm", "aes-256-gcm"))
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--linger", type=float, default=1.0)
    ap.add_argument("--send-to", type=int, required=True, help="worker port (rtcp-mux)")
    ap.add_argument("--send-key", required=True, help="hex master key and salt")
    ap.add_argument("--send-ssrc", type=int, required=True)
    ap.add_argument("--send-pt", type=int, default=101)
    ap.add_argument("--recv-rtp-port", type=int, required=True)
    ap.add_argument("--recv-rtcp-port", type=int, required=True)
    ap.add_argument("--recv-key", required=True, help="hex key the worker sends with")
    ap.add_argument("--recv-pt", type=int, default=96)
    args = ap.parse_args(argv)

    Gst.init(None)
    result = {"errors": [], "warnings": []}
    counts = {"encodedFrames": 0, "rtpSent": 0, "rtcpSent": 0, "rtpReceived": 0,
              "rtcpReceived": 0, "decodedFrames": 0}
    loop = GLib.MainLoop()

    def make(factory, **props):
        element = Gst.ElementFactory.make(factory)
        if element is None:
            raise RuntimeError("no GStreamer element %s" % factory)
        for key, value in props.items():
            element.set_property(key.rstrip("_").replace("_", "-"), value)
        return element

    # Payloaders and rtpbin push buffer lists: count their buffers too.
    buffers = Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST

    def count(key):
        def probe(_pad, info):
            if info.type & Gst.PadProbeType.BUFFER_LIST:
                counts[key] += info.get_buffer_list().length()
            else:
                counts[key] += 1
            return Gst.PadProbeReturn.OK
        return probe

    def srtp_caps():
        return Gst.Caps.from_string(
            "application/x-srtp,srtp-key=(buffer)%s,srtp-cipher=(string)%s,"
            "srtp-auth=(string)null,srtcp-cipher=(string)%s,srtcp-auth=(string)null"
            % (args.recv_key, args.cipher, args.cipher))

    # ----- sender: ... ! rtpbin ! srtpenc ! funnel ! udpsink ---------------
    send = Gst.Pipeline.new("sender")
    source = make("videotestsrc", is_live=True, num_buffers=args.frames)
    caps = make("capsfilter", caps=Gst.Caps.from_string(
        "video/x-raw,width=320,height=240,framerate=30/1"))
    encoder = make("vp8enc", deadline=1, keyframe_max_dist=30, target_bitrate=500000,
                   cpu_used=8, lag_in_frames=0)
    pay = make("rtpvp8pay", pt=args.send_pt, ssrc=args.send_ssrc, mtu=1200)
    sbin = make("rtpbin")
    enc = make("srtpenc", rtp_cipher=args.cipher, rtp_auth="null", rtcp_cipher=args.cipher,
               rtcp_auth="null")
    enc.set_property("key", Gst.Buffer.new_wrapped(bytes.fromhex(args.send_key)))
    funnel = make("funnel")
    out = make("udpsink", host=LOCAL_IP, port=args.send_to, sync=False, async_=False)
    for e in (source, caps, encoder, pay, sbin, enc, funnel, out):
        send.add(e)
    source.link(caps)
    caps.link(encoder)
    encoder.link(pay)
    encoder.get_static_pad("src").add_probe(buffers, count("encodedFrames"))
    pay.link_pads("src", sbin, "send_rtp_sink_0")
    sbin.link_pads("send_rtp_src_0", enc, "rtp_sink_0")
    sbin.link_pads("send_rtcp_src_0", enc, "rtcp_sink_0")
    enc.link_pads("rtp_src_0", funnel, "sink_0")
    enc.link_pads("rtcp_src_0", funnel, "sink_1")
    funnel.link(out)
    enc.get_static_pad("rtp_src_0").add_probe(buffers, count("rtpSent"))
    enc.get_static_pad("rtcp_src_0").add_probe(buffers, count("rtcpSent"))
    # Sender reports every half second or so rather than every 5 s.
    sbin.emit("get-session", 0).set_property("rtcp-min-interval", 500 * Gst.MSECOND)

    # ----- receiver: udpsrc x2 ! srtpdec ! rtpvp8depay ! vp8dec ! fakesink --
    recv = Gst.Pipeline.new("receiver")
    rtp_in = make("udpsrc", address=LOCAL_IP, port=args.recv_rtp_port)
    rtp_in.set_property("caps", Gst.Caps.from_string(
        "application/x-srtp,media=video,clock-rate=90000,encoding-name=VP8,payload=%d"
        % args.recv_pt))
    rtcp_in = make("udpsrc", address=LOCAL_IP, port=args.recv_rtcp_port)
    rtcp_in.set_property("caps", Gst.Caps.from_string("application/x-srtcp"))
    dec = make("srtpdec")
    dec.connect("request-key", lambda _dec, _ssrc: srtp_caps())
    depay = make("rtpvp8depay")
    decoder = make("vp8dec")
    sink = make("fakesink", sync=False, async_=False)
    rtcp_sink = make("fakesink", sync=False, async_=False)
    for e in (rtp_in, rtcp_in, dec, depay, decoder, sink, rtcp_sink):
        recv.add(e)
    rtp_in.link_pads("src", dec, "rtp_sink")
    rtcp_in.link_pads("src", dec, "rtcp_sink")
    dec.link_pads("rtp_src", depay, "sink")
    dec.link_pads("rtcp_src", rtcp_sink, "sink")
    depay.link(decoder)
    decoder.link(sink)
    dec.get_static_pad("rtp_src").add_probe(buffers, count("rtpReceived"))
    dec.get_static_pad("rtcp_src").add_probe(buffers, count("rtcpReceived"))
    decoder.get_static_pad("src").add_probe(buffers, count("decodedFrames"))

    def on_bus(_bus, message, who):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            result["errors"].append("%s: %s (%s)" % (who, err.message, debug))
            loop.quit()
        elif message.type == Gst.MessageType.WARNING:
            warn, _ = message.parse_warning()
            if len(result["warnings"]) < 20:
                result["warnings"].append("%s: %s" % (who, warn.message))
        return True

    # The end: the payloader's EOS (the sender pipeline's own EOS message
    # may never come, rtpbin's RTCP branch into the funnel does not end).
    def on_eos(_pad, info):
        event = info.get_event()
        if event is not None and event.type == Gst.EventType.EOS:
            GLib.idle_add(lambda: GLib.timeout_add(int(args.linger * 1000), loop.quit) and False)
        return Gst.PadProbeReturn.OK

    pay.get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_eos)

    for pipeline, who in ((recv, "receiver"), (send, "sender")):
        bus = pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", on_bus, who)

    started = time.monotonic()
    if recv.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        result["errors"].append("receiver: cannot start")
    if send.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        result["errors"].append("sender: cannot start")
    # However it goes, never longer than the frames take and a margin.
    GLib.timeout_add(int((args.frames / 30.0 + args.linger + 10) * 1000), loop.quit)
    if not result["errors"]:
        loop.run()
    result["seconds"] = round(time.monotonic() - started, 2)
    result.update(counts)
    send.set_state(Gst.State.NULL)
    recv.set_state(Gst.State.NULL)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "gst":
        sys.exit(gst_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "gst-srtp":
        sys.exit(gst_srtp_main(sys.argv[2:]))
    sys.stderr.write("usage: loss_util.py gst|gst-srtp --help\n")
    sys.exit(2)
