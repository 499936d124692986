"""Helpers for tests that move real encoded media through the worker with
ffmpeg: RTP parameter builders in the mediasoup host's request shapes,
receiver SDP files, free UDP ports, and ffmpeg/ffprobe process runners.

Python 3 standard library only. The behaviours of Debian's ffmpeg 5.1 that
these rely on are noted where they are used.
"""

import base64
import functools
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

LOCAL_IP = "127.0.0.1"
SRTP_SUITE = "AES_CM_128_HMAC_SHA1_80"
# AES_CM_128_HMAC_SHA1_80 master key (16 bytes) + master salt (14 bytes).
SRTP_KEY_LEN = 30
# Keeps every RTP packet (plus an SRTP tag) well below the worker's MTU.
RTP_PKT_SIZE = 1200

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")


# --------------------------------------------------------------------------
# Codecs
# --------------------------------------------------------------------------

class Codec:
    """One codec as the producer, the consumer, the SDP and ffmpeg see it."""

    def __init__(self, kind, mime_type, clock_rate, encoder, encoder_args,
                 channels=None, parameters=None, rtcp_feedback=(), fmtp=None,
                 probe_name=None):
        self.kind = kind
        self.mime_type = mime_type
        self.clock_rate = clock_rate
        self.channels = channels
        self.parameters = dict(parameters or {})
        self.rtcp_feedback = [dict(fb) for fb in rtcp_feedback]
        self.encoder = encoder
        self.encoder_args = list(encoder_args)
        self.fmtp = fmtp
        # codec_name as ffprobe reports it.
        self.probe_name = probe_name or mime_type.split("/")[1].lower()

    @property
    def encoding_name(self):
        return self.mime_type.split("/")[1]

    def rtp_codec(self, payload_type):
        """The codec entry of rtpParameters.codecs."""
        codec = {
            "mimeType": self.mime_type,
            "payloadType": payload_type,
            "clockRate": self.clock_rate,
            "parameters": dict(self.parameters),
            "rtcpFeedback": [dict(fb) for fb in self.rtcp_feedback],
        }
        if self.channels:
            codec["channels"] = self.channels
        return codec


VIDEO_FEEDBACK = (
    {"type": "nack"},
    {"type": "nack", "parameter": "pli"},
    {"type": "ccm", "parameter": "fir"},
)

# -g 30 at 30 fps: a key frame every second, since ffmpeg ignores PLI and
# the worker starts forwarding video on a key frame.
VP8 = Codec(
    "video", "video/VP8", 90000, "libvpx",
    ["-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0",
     "-g", "30", "-b:v", "500k", "-pix_fmt", "yuv420p"],
    rtcp_feedback=VIDEO_FEEDBACK)

OPUS = Codec(
    "audio", "audio/opus", 48000, "libopus",
    ["-ar", "48000", "-ac", "2", "-b:a", "64k"],
    channels=2)

H264 = Codec(
    "video", "video/H264", 90000, "libx264",
    ["-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline",
     "-g", "30", "-b:v", "500k", "-pix_fmt", "yuv420p"],
    parameters={"packetization-mode": 1, "profile-level-id": "42e01f",
                "level-asymmetry-allowed": 1},
    rtcp_feedback=VIDEO_FEEDBACK,
    fmtp="packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1")


# --------------------------------------------------------------------------
# Channel request data (the mediasoup 3.8 host's shapes)
# --------------------------------------------------------------------------

def plain_transport_options(rtcp_mux, comedia, enable_srtp=False, ip=LOCAL_IP):
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
        "enableSrtp": enable_srtp,
        "srtpCryptoSuite": SRTP_SUITE,
    }


def produce_data(codec, payload_type, ssrc, mapped_payload_type, mapped_ssrc,
                 cname="ffmpeg"):
    """transport.produce data for a single-encoding stream."""
    return {
        "kind": codec.kind,
        "rtpParameters": {
            "codecs": [codec.rtp_codec(payload_type)],
            "headerExtensions": [],
            "encodings": [{"ssrc": ssrc}],
            "rtcp": {"cname": cname, "reducedSize": True},
        },
        "rtpMapping": {
            "codecs": [{"payloadType": payload_type,
                        "mappedPayloadType": mapped_payload_type}],
            "encodings": [{"ssrc": ssrc, "mappedSsrc": mapped_ssrc}],
        },
        "keyFrameRequestDelay": 0,
        "paused": False,
    }


def consume_data(codec, payload_type, ssrc, producer_mapped_ssrc, cname="sfu"):
    """transport.consume data for a simple consumer of a producer whose
    single encoding was mapped to producer_mapped_ssrc."""
    return {
        "kind": codec.kind,
        "type": "simple",
        "rtpParameters": {
            "codecs": [codec.rtp_codec(payload_type)],
            "headerExtensions": [],
            "encodings": [{"ssrc": ssrc}],
            "rtcp": {"cname": cname, "reducedSize": True, "mux": True},
        },
        "consumableRtpEncodings": [{"ssrc": producer_mapped_ssrc}],
        "paused": False,
    }


def random_srtp_key():
    """A fresh base64 master key + salt for SRTP_SUITE."""
    return base64.b64encode(os.urandom(SRTP_KEY_LEN)).decode("ascii")


def srtp_parameters(key_base64):
    return {"cryptoSuite": SRTP_SUITE, "keyBase64": key_base64}


# --------------------------------------------------------------------------
# UDP ports
# --------------------------------------------------------------------------

def _port_free(port):
    # ffmpeg binds the wildcard address: the port must be free on all.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def free_udp_port_pair(ip=LOCAL_IP, attempts=50):
    """An even UDP port p with p+1 also free: ffmpeg's RTP receiver binds
    p+1 for RTCP even when the SDP says rtcp-mux. Racy by nature, but the
    ephemeral range is large."""
    for _ in range(attempts):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((ip, 0))
            port = sock.getsockname()[1]
        finally:
            sock.close()
        port &= ~1
        if port >= 1024 and _port_free(port) and _port_free(port + 1):
            return port
    raise RuntimeError("no free UDP port pair found")


def udp_port_bound(port):
    """True if some local UDP socket is bound to the port (Linux /proc)."""
    needle = ":%04X " % port
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 1 and (fields[1] + " ").endswith(needle):
                        return True
        except OSError:
            continue
    return False


def wait_udp_bound(port, timeout, proc=None):
    """Waits until the port is bound (e.g. by a receiving ffmpeg); stops
    early if proc exited. Returns True if bound."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if udp_port_bound(port):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------
# SDP for a receiving ffmpeg
# --------------------------------------------------------------------------

def receiver_sdp(codec, port, payload_type, ssrc=None, srtp_key=None, ip=LOCAL_IP):
    """An SDP describing one RTP stream that ffmpeg receives on `port`,
    with RTCP muxed on the same port. srtp_key is the key the stream is
    protected with, i.e. the sending PlainTransport's own srtpParameters."""
    proto = "RTP/SAVP" if srtp_key else "RTP/AVP"
    rtpmap = "%d %s/%d" % (payload_type, codec.encoding_name, codec.clock_rate)
    if codec.channels:
        rtpmap += "/%d" % codec.channels
    lines = [
        "v=0",
        "o=- 0 0 IN IP4 %s" % ip,
        "s=sfu-worker media test",
        "c=IN IP4 %s" % ip,
        "t=0 0",
        "m=%s %d %s %d" % (codec.kind, port, proto, payload_type),
        "a=rtpmap:%s" % rtpmap,
    ]
    if codec.fmtp:
        lines.append("a=fmtp:%d %s" % (payload_type, codec.fmtp))
    lines.append("a=rtcp-mux")
    lines.append("a=recvonly")
    if srtp_key:
        lines.append("a=crypto:1 %s inline:%s" % (SRTP_SUITE, srtp_key))
    if ssrc is not None:
        lines.append("a=ssrc:%d cname:sfu" % ssrc)
    return "\r\n".join(lines) + "\r\n"


# --------------------------------------------------------------------------
# Ending a receiving ffmpeg cleanly
# --------------------------------------------------------------------------
#
# A receiving ffmpeg on a silent socket ignores SIGINT (it only checks for it
# between packets) and only gives up after 10 s; a second SIGINT or SIGKILL
# loses the Matroska file's buffered clusters. An RTCP BYE on every stream of
# its SDP is an end of input to it: it finishes the file at once. The worker
# does not forward the sender's BYE (nor should it), so the test sends one
# straight to the receiver, SRTCP-protected when the receiver expects SRTP.

def rtcp_bye(ssrc):
    """A compound RTCP packet: an empty RR then a BYE. ffmpeg drops RTP/RTCP
    datagrams shorter than 12 bytes, so a lone BYE would not do."""
    return (struct.pack("!BBHI", 0x80, 201, 1, ssrc)
            + struct.pack("!BBHI", 0x81, 203, 1, ssrc))


def srtcp_protect_unencrypted(rtcp, key_base64, index=1):
    """SRTCP (RFC 3711) for SRTP_SUITE with the E flag clear: the packet
    stays readable but carries the index and the HMAC-SHA1-80 tag keyed by
    the SRTCP authentication key derived from the master key and salt."""
    auth_key = _srtp_session_keys(key_base64, rtcp=True)[1]
    trailer = struct.pack("!I", index & 0x7FFFFFFF)
    tag = hmac.new(auth_key, rtcp + trailer, hashlib.sha1).digest()[:10]
    return rtcp + trailer + tag


def srtp_protect_rtp(packet, key_base64, roc=0):
    """SRTP (RFC 3711) for SRTP_SUITE: the RTP payload (after the header,
    its CSRCs and extensions) encrypted in AES counter mode under the
    session keys derived from the master key and salt, then the 10-byte
    HMAC-SHA1 tag over the packet and the rollover counter `roc`."""
    enc_key, auth_key, salt = _srtp_session_keys(key_base64, rtcp=False)
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
    seq, = struct.unpack_from("!H", packet, 2)
    ssrc, = struct.unpack_from("!I", packet, 8)
    protected = packet[:offset] + _aes_cm(enc_key, salt, ssrc, (roc << 16) | seq,
                                          packet[offset:])
    tag = hmac.new(auth_key, protected + struct.pack("!I", roc), hashlib.sha1).digest()[:10]
    return protected + tag


def srtcp_protect(rtcp, key_base64, index=1):
    """SRTCP (RFC 3711 3.4) for SRTP_SUITE: everything after the first
    packet's SSRC encrypted (E flag set), then the index and the 10-byte
    HMAC-SHA1 tag."""
    enc_key, auth_key, salt = _srtp_session_keys(key_base64, rtcp=True)
    ssrc, = struct.unpack_from("!I", rtcp, 4)
    index &= 0x7FFFFFFF
    protected = rtcp[:8] + _aes_cm(enc_key, salt, ssrc, index, rtcp[8:]) + \
        struct.pack("!I", 0x80000000 | index)
    return protected + hmac.new(auth_key, protected, hashlib.sha1).digest()[:10]


def _aes_cm(key, salt, ssrc, index, data):
    """AES counter mode of RFC 3711 4.1.1: IV = (salt * 2^16) XOR
    (SSRC * 2^64) XOR (index * 2^16)."""
    iv = (int.from_bytes(salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    stream = b"".join(
        aes128_encrypt_block(key, ((iv + counter) & ((1 << 128) - 1)).to_bytes(16, "big"))
        for counter in range((len(data) + 15) // 16))
    return bytes(a ^ b for a, b in zip(data, stream))


@functools.lru_cache(maxsize=16)
def _srtp_session_keys(key_base64, rtcp):
    """(encryption key, authentication key, salt) of the SRTP or SRTCP
    session (RFC 3711 4.3.2 labels 0-2, 3-5)."""
    material = base64.b64decode(key_base64)
    master_key, master_salt = material[:16], material[16:SRTP_KEY_LEN]
    base = 3 if rtcp else 0
    return (_srtp_kdf(master_key, master_salt, label=base, length=16),
            _srtp_kdf(master_key, master_salt, label=base + 1, length=20),
            _srtp_kdf(master_key, master_salt, label=base + 2, length=14))


def send_udp(port, data, ip=LOCAL_IP):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(data, (ip, port))
    finally:
        sock.close()


def _srtp_kdf(master_key, master_salt, label, length):
    """The AES-CM key derivation of RFC 3711 4.3 with a derivation rate of
    zero: key stream under the master key from IV = (salt ^ label<<48)<<16."""
    iv = bytearray(master_salt + b"\0\0")
    iv[7] ^= label
    out = b""
    counter = 0
    while len(out) < length:
        block = bytes(iv[:14]) + struct.pack("!H", counter)
        out += aes128_encrypt_block(master_key, block)
        counter += 1
    return out[:length]


def _xtime(a):
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _make_sbox():
    """The AES S-box: multiplicative inverse in GF(2^8), then the affine map."""
    def rotl8(x, n):
        return ((x << n) | (x >> (8 - n))) & 0xFF

    sbox = [0] * 256
    p = q = 1
    while True:
        p = p ^ _xtime(p)                      # p * 3
        q ^= q << 1                            # q / 3
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        sbox[p] = 0x63 ^ q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4)
        if p == 1:
            break
    sbox[0] = 0x63
    return sbox


_SBOX = _make_sbox()


@functools.lru_cache(maxsize=16)
def _aes128_key_schedule(key):
    sbox = _SBOX
    words = list(key)
    rcon = 1
    for i in range(16, 176, 4):
        t = words[i - 4:i]
        if i % 16 == 0:
            t = [sbox[t[1]] ^ rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]]
            rcon = _xtime(rcon)
        words += [words[i - 16 + j] ^ t[j] for j in range(4)]
    return tuple(words)


def aes128_encrypt_block(key, block):
    """AES-128 (FIPS-197) on one 16-byte block. The standard library has no
    AES; this one is slow (tens of microseconds a block) but enough for
    deriving keys and protecting a few test packets."""
    sbox = _SBOX
    words = _aes128_key_schedule(bytes(key))
    state = [b ^ k for b, k in zip(block, words[:16])]
    for rnd in range(1, 11):
        state = [sbox[b] for b in state]
        # ShiftRows on the column-major state: row r rotates left by r.
        state = [state[(r + 4 * (c + r)) % 16] for c in range(4) for r in range(4)]
        if rnd < 10:
            mixed = []
            for c in range(4):
                a = state[4 * c:4 * c + 4]
                t = a[0] ^ a[1] ^ a[2] ^ a[3]
                mixed += [a[i] ^ t ^ _xtime(a[i] ^ a[(i + 1) % 4]) for i in range(4)]
            state = mixed
        round_key = words[16 * rnd:16 * rnd + 16]
        state = [b ^ k for b, k in zip(state, round_key)]
    return bytes(state)


# --------------------------------------------------------------------------
# ffmpeg processes
# --------------------------------------------------------------------------

def has_ffmpeg():
    return bool(FFMPEG and FFPROBE)


@functools.lru_cache(maxsize=None)
def _encoders():
    if not FFMPEG:
        return frozenset()
    try:
        out = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # Lines look like " V....D libvpx   libvpx VP8 (codec vp8)".
    return frozenset(line.split()[1] for line in out.splitlines() if len(line.split()) > 1)


def has_encoder(name):
    """True if the installed ffmpeg has the named encoder (e.g. libvpx)."""
    return name in _encoders()


class FfmpegProcess:
    """An ffmpeg child with its stderr in a log file (a pipe could fill up
    and stall it). stop() ends it the way a user would, then forcibly."""

    def __init__(self, args, log_path, name):
        self.name = name
        self.args = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "warning"] + list(args)
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.killed = False

    def poll(self):
        return self.proc.poll()

    def wait(self, timeout):
        """Waits for the exit; returns the exit code or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=4.0):
        """SIGINT (ffmpeg then finishes its output file), then SIGKILL after
        `grace` seconds: a receiver blocked on a silent socket ignores
        SIGINT. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            if self.wait(grace) is None:
                self.kill()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.killed = True
            self.proc.kill()
        self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def log_tail(self, limit=1500):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "<no log>"
        text = text.strip()
        return text[-limit:] if text else "<empty log>"

    def describe(self):
        return "%s (exit %s%s): %s" % (
            self.name, self.proc.returncode, ", killed" if self.killed else "",
            self.log_tail())


def sender_output_args(codec, input_index, payload_type, ssrc, port, rtcp_port,
                       srtp_key=None, ip=LOCAL_IP):
    """ffmpeg output options sending one input's stream over (S)RTP with
    RTCP to a separate port (ffmpeg sends it from its own socket)."""
    args = ["-map", "%d:%s" % (input_index, codec.kind[0]), "-c:%s" % codec.kind[0],
            codec.encoder] + codec.encoder_args
    args += ["-ssrc", str(ssrc), "-payload_type", str(payload_type)]
    scheme = "rtp"
    if srtp_key:
        scheme = "srtp"
        args += ["-srtp_out_suite", SRTP_SUITE, "-srtp_out_params", srtp_key]
    args += ["-f", "rtp", "%s://%s:%d?rtcpport=%d&pkt_size=%d"
             % (scheme, ip, port, rtcp_port, RTP_PKT_SIZE)]
    return args


def lavfi_input_args(kind, seconds):
    """A real-time synthetic source: a 320x240 30 fps test pattern or a
    440 Hz tone."""
    if kind == "video":
        source = "testsrc=size=320x240:rate=30:duration=%g" % seconds
    else:
        source = "sine=frequency=440:sample_rate=48000:duration=%g" % seconds
    return ["-re", "-f", "lavfi", "-i", source]


def receiver_args(sdp_path, out_path, srtp=False):
    """ffmpeg options receiving the SDP's stream(s) into a Matroska file
    without transcoding."""
    whitelist = "file,udp,rtp" + (",srtp,crypto" if srtp else "")
    return ["-protocol_whitelist", whitelist, "-i", sdp_path,
            "-map", "0", "-c", "copy", "-y", out_path]


def ffprobe_streams(path, timeout=30):
    """ffprobe's streams of a file, with decoded frame counts
    (nb_read_frames), or raises RuntimeError with ffprobe's complaint."""
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_streams", "-of", "json", path],
        capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError("ffprobe %s failed (%d): %s"
                           % (path, result.returncode, result.stderr.strip()[-800:]))
    return json.loads(result.stdout or "{}").get("streams", [])
