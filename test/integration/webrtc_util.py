"""Helpers for tests that speak WebRTC to the worker's WebRtcTransport:
request data in the mediasoup 3.8 host's shapes, a small SDP parser and
builders that turn the worker's ICE/DTLS parameters into the remote
description a WebRTC peer expects, a STUN (RFC 5389 / RFC 8445) message
builder and parser, a DTLS client over a plain UDP socket, certificate
fingerprints, and a PlainTransport stream that keeps flowing in the
background so that a test can prove other transports were not disturbed.

Python 3 standard library only, except DtlsClient, which needs pyOpenSSL
and cryptography (both come with Debian's python3-aiortc).
"""

import hashlib
import hmac
import os
import random
import socket
import ssl
import struct
import threading
import time
import zlib

import media_util as mu

LOCAL_IP = mu.LOCAL_IP

# RFC 8285 header extensions as the mediasoup host names them.
EXT_MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
EXT_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
EXT_ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


# --------------------------------------------------------------------------
# Channel request data
# --------------------------------------------------------------------------

def webrtc_transport_options(ip=LOCAL_IP, enable_udp=True, enable_tcp=True,
                             prefer_udp=False, prefer_tcp=False):
    """router.createWebRtcTransport data, as Router.createWebRtcTransport()
    sends it."""
    return {
        "listenIps": [{"ip": ip}],
        "enableUdp": enable_udp,
        "enableTcp": enable_tcp,
        "preferUdp": prefer_udp,
        "preferTcp": prefer_tcp,
        "initialAvailableOutgoingBitrate": 600000,
        "enableSctp": False,
        "numSctpStreams": {"OS": 1024, "MIS": 1024},
        "maxSctpMessageSize": 262144,
        "sctpSendBufferSize": 262144,
        "isDataChannel": True,
    }


def dtls_connect_data(fingerprint_sha256, role="client"):
    """transport.connect data for a WebRtcTransport: the peer's certificate
    fingerprint and its DTLS role (the worker takes the other one)."""
    return {"dtlsParameters": {
        "role": role,
        "fingerprints": [{"algorithm": "sha-256", "value": fingerprint_sha256}],
    }}


def worker_fingerprint(answer, algorithm="sha-256"):
    """The worker's certificate fingerprint from a createWebRtcTransport
    answer."""
    for fingerprint in answer["dtlsParameters"]["fingerprints"]:
        if fingerprint["algorithm"] == algorithm:
            return fingerprint["value"]
    raise KeyError("no %s fingerprint in %s" % (algorithm, answer["dtlsParameters"]))


def candidate_port(answer, protocol):
    """The worker's local port for a protocol ("udp"/"tcp")."""
    for candidate in answer["iceCandidates"]:
        if candidate["protocol"] == protocol:
            return candidate["port"]
    raise KeyError("no %s candidate in %s" % (protocol, answer["iceCandidates"]))


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------

def format_fingerprint(digest):
    """'AB:CD:...' as SDP and the host write fingerprints."""
    return ":".join("%02X" % b for b in digest)


def der_fingerprint(der, algorithm="sha256"):
    return format_fingerprint(hashlib.new(algorithm, der).digest())


def pem_fingerprint(pem, algorithm="sha256"):
    """Fingerprint of a PEM certificate (e.g. the dtlsRemoteCert of a
    dtlsstatechange notification)."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(pem), algorithm)


def fingerprints_equal(a, b):
    return a.replace(":", "").lower() == b.replace(":", "").lower()


# --------------------------------------------------------------------------
# SDP
# --------------------------------------------------------------------------

class MediaSection:
    """One m= section: the m line's fields and its a= attributes in order."""

    def __init__(self, kind, port, proto, formats):
        self.kind = kind
        self.port = port
        self.proto = proto
        self.formats = formats
        self.attributes = []  # (name, value or None)

    def values(self, name):
        return [v for n, v in self.attributes if n == name]

    def value(self, name):
        found = self.values(name)
        return found[0] if found else None

    @property
    def mid(self):
        return self.value("mid")

    @property
    def direction(self):
        for name in ("sendrecv", "sendonly", "recvonly", "inactive"):
            if any(n == name for n, _ in self.attributes):
                return name
        return "sendrecv"

    def rtpmap(self):
        """{payload type: (encoding name, clock rate, channels or None)}"""
        out = {}
        for value in self.values("rtpmap"):
            pt, _, encoding = value.partition(" ")
            parts = encoding.split("/")
            channels = int(parts[2]) if len(parts) > 2 else None
            out[int(pt)] = (parts[0], int(parts[1]), channels)
        return out

    def fmtp(self, payload_type):
        """The fmtp parameters of a payload type as a dict (numbers as int)."""
        for value in self.values("fmtp"):
            pt, _, params = value.partition(" ")
            if int(pt) != payload_type:
                continue
            out = {}
            for item in params.split(";"):
                key, sep, val = item.strip().partition("=")
                if sep:
                    out[key] = int(val) if val.isdigit() else val
            return out
        return {}

    def rtcp_feedback(self, payload_type):
        out = []
        for value in self.values("rtcp-fb"):
            pt, _, feedback = value.partition(" ")
            if int(pt) == payload_type:
                kind, _, parameter = feedback.partition(" ")
                out.append({"type": kind, "parameter": parameter})
        return out

    def payload_type(self, encoding_name):
        """The first payload type offered for a codec (case-insensitive)."""
        for pt in (int(f) for f in self.formats):
            if self.rtpmap().get(pt, ("",))[0].lower() == encoding_name.lower():
                return pt
        raise KeyError("no %s in %s" % (encoding_name, self.formats))

    def rtx_payload_type(self, payload_type):
        for pt, (name, _, _) in self.rtpmap().items():
            if name.lower() == "rtx" and self.fmtp(pt).get("apt") == payload_type:
                return pt
        return None

    def extmap(self):
        """{uri: id}"""
        out = {}
        for value in self.values("extmap"):
            ident, _, uri = value.partition(" ")
            out[uri.split(" ")[0]] = int(ident.split("/")[0])
        return out

    def ssrcs(self):
        """Distinct SSRCs of a=ssrc lines, in order."""
        out = []
        for value in self.values("ssrc"):
            ssrc = int(value.split(" ")[0])
            if ssrc not in out:
                out.append(ssrc)
        return out

    def fid_group(self):
        """(media ssrc, rtx ssrc) from a=ssrc-group:FID, or None."""
        for value in self.values("ssrc-group"):
            parts = value.split()
            if parts and parts[0] == "FID" and len(parts) == 3:
                return int(parts[1]), int(parts[2])
        return None

    def cname(self):
        for value in self.values("ssrc"):
            _, _, attribute = value.partition(" ")
            if attribute.startswith("cname:"):
                return attribute[len("cname:"):]
        return None


class SessionDescription:
    def __init__(self):
        self.attributes = []
        self.media = []

    def value(self, name):
        """A session-level attribute, else the first media section's."""
        for n, v in self.attributes:
            if n == name:
                return v
        for media in self.media:
            if media.value(name) is not None:
                return media.value(name)
        return None

    def fingerprint(self, algorithm="sha-256"):
        candidates = [v for n, v in self.attributes if n == "fingerprint"]
        for media in self.media:
            candidates += media.values("fingerprint")
        for value in candidates:
            algo, _, fingerprint = value.partition(" ")
            if algo.lower() == algorithm:
                return fingerprint.strip()
        raise KeyError("no %s fingerprint in the SDP" % algorithm)

    def section(self, kind):
        for media in self.media:
            if media.kind == kind:
                return media
        raise KeyError("no %s section in the SDP" % kind)


def parse_sdp(text):
    """Parses the parts of an SDP the tests need: attributes per level."""
    description = SessionDescription()
    current = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            kind, port, proto, *formats = line[2:].split()
            current = MediaSection(kind, int(port), proto, formats)
            description.media.append(current)
        elif line.startswith("a="):
            name, sep, value = line[2:].partition(":")
            target = current.attributes if current else description.attributes
            target.append((name, value if sep else None))
    return description


def _candidate_lines(ice_candidates, include_tcp):
    lines = []
    for c in ice_candidates:
        if c["protocol"] == "tcp" and not include_tcp:
            continue
        line = "a=candidate:%s 1 %s %d %s %d typ %s" % (
            c["foundation"], c["protocol"], c["priority"], c["ip"], c["port"], c["type"])
        if c["protocol"] == "tcp":
            line += " tcptype %s" % c.get("tcpType", "passive")
        lines.append(line)
    return lines


class SdpCodec:
    """A codec line set for a remote description."""

    def __init__(self, payload_type, name, clock_rate, channels=None, fmtp=None,
                 feedback=()):
        self.payload_type = payload_type
        self.name = name
        self.clock_rate = clock_rate
        self.channels = channels
        self.fmtp = fmtp
        self.feedback = list(feedback)

    def lines(self):
        rtpmap = "a=rtpmap:%d %s/%d" % (self.payload_type, self.name, self.clock_rate)
        if self.channels:
            rtpmap += "/%d" % self.channels
        out = [rtpmap]
        out += ["a=rtcp-fb:%d %s" % (self.payload_type, fb) for fb in self.feedback]
        if self.fmtp:
            out.append("a=fmtp:%d %s" % (self.payload_type, self.fmtp))
        return out


class SdpMedia:
    """One m= section the worker's side describes: the codecs it takes or
    sends, the extensions, and (for what it sends) its SSRCs."""

    def __init__(self, kind, mid, direction, codecs, extensions, ssrcs=(), fid=None,
                 cname="sfu-worker", msid=None):
        self.kind = kind
        self.mid = mid
        self.direction = direction
        self.codecs = list(codecs)
        self.extensions = dict(extensions)  # uri -> id
        self.ssrcs = list(ssrcs)
        self.fid = fid
        self.cname = cname
        self.msid = msid


def worker_sdp(webrtc_answer, media, setup, include_tcp=True):
    """The worker's side of an offer/answer as a WebRTC peer wants it: every
    section bundled on the transport's ICE-lite credentials, candidates and
    certificate fingerprint. setup: "passive" (the worker is the DTLS server)
    in an answer, "actpass" in an offer. include_tcp adds the ICE-TCP
    candidates (peers without ICE-TCP ignore them)."""
    ice = webrtc_answer["iceParameters"]
    candidates = webrtc_answer["iceCandidates"]
    udp_port = next((c["port"] for c in candidates if c["protocol"] == "udp"),
                    candidates[0]["port"])
    ip = candidates[0]["ip"]
    lines = [
        "v=0",
        "o=- %d 1 IN IP4 %s" % (random.randint(1, 2 ** 31), ip),
        "s=sfu-worker",
        "t=0 0",
        "a=ice-lite",
        "a=group:BUNDLE %s" % " ".join(m.mid for m in media),
        "a=msid-semantic: WMS *",
    ]
    for m in media:
        lines.append("m=%s %d UDP/TLS/RTP/SAVPF %s" % (
            m.kind, udp_port, " ".join(str(c.payload_type) for c in m.codecs)))
        lines.append("c=IN IP4 %s" % ip)
        lines.append("a=mid:%s" % m.mid)
        lines.append("a=%s" % m.direction)
        lines.append("a=rtcp-mux")
        lines.append("a=rtcp-rsize")
        for uri, ident in sorted(m.extensions.items(), key=lambda e: e[1]):
            lines.append("a=extmap:%d %s" % (ident, uri))
        for codec in m.codecs:
            lines += codec.lines()
        if m.ssrcs:
            if m.msid:
                lines.append("a=msid:%s" % m.msid)
            if m.fid:
                lines.append("a=ssrc-group:FID %d %d" % m.fid)
            for ssrc in m.ssrcs:
                lines.append("a=ssrc:%d cname:%s" % (ssrc, m.cname))
        lines.append("a=ice-ufrag:%s" % ice["usernameFragment"])
        lines.append("a=ice-pwd:%s" % ice["password"])
        lines += _candidate_lines(candidates, include_tcp)
        lines.append("a=end-of-candidates")
        lines.append("a=fingerprint:sha-256 %s" % worker_fingerprint(webrtc_answer))
        lines.append("a=setup:%s" % setup)
    return "\r\n".join(lines) + "\r\n"


# --------------------------------------------------------------------------
# RTP parameters from a peer's SDP (what mediasoup-client would compute)
# --------------------------------------------------------------------------

def rtp_codec(kind, name, payload_type, clock_rate, channels=None, parameters=None,
              feedback=()):
    codec = {
        "mimeType": "%s/%s" % (kind, name),
        "payloadType": payload_type,
        "clockRate": clock_rate,
        "parameters": dict(parameters or {}),
        "rtcpFeedback": [dict(fb) for fb in feedback],
    }
    if channels:
        codec["channels"] = channels
    return codec


def sent_stream_parameters(section, codec_name, use_rtx=True, feedback_types=None):
    """rtpParameters for transport.produce of what a peer's send section
    offers: its codec (and RTX), its extensions, SSRCs and MID, as
    mediasoup-client derives them from a browser's local SDP.
    feedback_types: the rtcp-fb types to keep (None keeps all)."""
    rtpmap = section.rtpmap()
    pt = section.payload_type(codec_name)
    name, clock_rate, channels = rtpmap[pt]
    feedback = [fb for fb in section.rtcp_feedback(pt)
                if feedback_types is None or fb["type"] in feedback_types]
    codecs = [rtp_codec(section.kind, name, pt, clock_rate, channels, section.fmtp(pt),
                        feedback)]
    rtx_pt = section.rtx_payload_type(pt) if use_rtx else None
    if rtx_pt is not None:
        codecs.append(rtp_codec(section.kind, "rtx", rtx_pt, clock_rate,
                                parameters={"apt": pt}))
    fid = section.fid_group()
    if fid and rtx_pt is not None:
        encoding = {"ssrc": fid[0], "rtx": {"ssrc": fid[1]}}
    else:
        encoding = {"ssrc": fid[0] if fid else section.ssrcs()[0]}
    extensions = section.extmap()
    parameters = {
        "mid": section.mid,
        "codecs": codecs,
        "headerExtensions": [{"uri": uri, "id": ident, "encrypt": False, "parameters": {}}
                             for uri, ident in extensions.items()],
        "encodings": [encoding],
        "rtcp": {"cname": section.cname() or "peer", "reducedSize": True},
    }
    return parameters


def sdp_codecs_of(rtp_parameters):
    """The SDP codec lines matching rtpParameters.codecs."""
    out = []
    for codec in rtp_parameters["codecs"]:
        name = codec["mimeType"].split("/")[1]
        fmtp = ";".join("%s=%s" % kv for kv in codec["parameters"].items()) or None
        feedback = [("%s %s" % (fb["type"], fb.get("parameter", ""))).strip()
                    for fb in codec["rtcpFeedback"]]
        out.append(SdpCodec(codec["payloadType"], name, codec["clockRate"],
                            codec.get("channels"), fmtp, feedback))
    return out


def produce_request(kind, rtp_parameters, payload_type_map, mapped_ssrc):
    """transport.produce data: payload_type_map maps each of the peer's
    payload types to the router's, as the host's rtpMapping does."""
    encoding = rtp_parameters["encodings"][0]
    return {
        "kind": kind,
        "rtpParameters": rtp_parameters,
        "rtpMapping": {
            "codecs": [{"payloadType": c["payloadType"],
                        "mappedPayloadType": payload_type_map[c["payloadType"]]}
                       for c in rtp_parameters["codecs"]],
            "encodings": [{"ssrc": encoding["ssrc"], "mappedSsrc": mapped_ssrc}],
        },
        "keyFrameRequestDelay": 0,
        "paused": False,
    }


def consume_request(kind, mid, codecs, extensions, ssrc, producer_mapped_ssrc,
                    rtx_ssrc=None, cname="sfu-worker"):
    """transport.consume data for a simple consumer sending router payload
    types (codecs: rtpParameters codec dicts) with the given extensions."""
    encoding = {"ssrc": ssrc}
    if rtx_ssrc is not None:
        encoding["rtx"] = {"ssrc": rtx_ssrc}
    return {
        "kind": kind,
        "type": "simple",
        "rtpParameters": {
            "mid": mid,
            "codecs": codecs,
            "headerExtensions": [{"uri": uri, "id": ident, "encrypt": False, "parameters": {}}
                                 for uri, ident in extensions.items()],
            "encodings": [encoding],
            "rtcp": {"cname": cname, "reducedSize": True, "mux": True},
        },
        "consumableRtpEncodings": [{"ssrc": producer_mapped_ssrc}],
        "paused": False,
    }


# --------------------------------------------------------------------------
# STUN (RFC 5389) for ICE connectivity checks (RFC 8445)
# --------------------------------------------------------------------------

STUN_MAGIC = 0x2112A442
STUN_HEADER = struct.Struct("!HHI12s")
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111

ATTR_USERNAME = 0x0006
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_PRIORITY = 0x0024
ATTR_USE_CANDIDATE = 0x0025
ATTR_FINGERPRINT = 0x8028
ATTR_ICE_CONTROLLED = 0x8029
ATTR_ICE_CONTROLLING = 0x802A

_FINGERPRINT_XOR = 0x5354554E


def _stun_attr(attr_type, value):
    padding = b"\0" * (-len(value) % 4)
    return struct.pack("!HH", attr_type, len(value)) + value + padding


def build_stun(msg_type, transaction_id, attributes, integrity_key=None,
               fingerprint=True, corrupt_integrity=False, corrupt_fingerprint=False):
    """A STUN message. MESSAGE-INTEGRITY (HMAC-SHA1, RFC 5389 15.4) covers
    everything before it with the header length already counting it;
    FINGERPRINT (CRC-32 ^ 0x5354554E, 15.5) likewise covers all before it.
    The corrupt_* flags flip a bit of the finished value."""
    body = b"".join(_stun_attr(t, v) for t, v in attributes)

    def header(length):
        return STUN_HEADER.pack(msg_type, length, STUN_MAGIC, transaction_id)

    if integrity_key is not None:
        mac = hmac.new(integrity_key, header(len(body) + 24) + body, hashlib.sha1).digest()
        if corrupt_integrity:
            mac = bytes([mac[0] ^ 0x01]) + mac[1:]
        body += _stun_attr(ATTR_MESSAGE_INTEGRITY, mac)
    if fingerprint:
        crc = (zlib.crc32(header(len(body) + 8) + body) ^ _FINGERPRINT_XOR) & 0xFFFFFFFF
        if corrupt_fingerprint:
            crc ^= 0x01
        body += _stun_attr(ATTR_FINGERPRINT, struct.pack("!I", crc))
    return header(len(body)) + body


def binding_request(remote_ufrag, remote_password, local_ufrag="peer", use_candidate=True,
                    controlling=True, priority=0x6E7F1EFF, transaction_id=None,
                    corrupt_integrity=False, corrupt_fingerprint=False):
    """An ICE connectivity check to the worker: USERNAME
    "<worker ufrag>:<ours>", keyed with the worker's ICE password.
    Returns (transaction id, bytes)."""
    transaction_id = transaction_id or os.urandom(12)
    tie_breaker = os.urandom(8)
    attributes = [
        (ATTR_USERNAME, ("%s:%s" % (remote_ufrag, local_ufrag)).encode()),
        (ATTR_PRIORITY, struct.pack("!I", priority)),
        (ATTR_ICE_CONTROLLING if controlling else ATTR_ICE_CONTROLLED, tie_breaker),
    ]
    if use_candidate:
        attributes.append((ATTR_USE_CANDIDATE, b""))
    data = build_stun(BINDING_REQUEST, transaction_id, attributes,
                      integrity_key=remote_password.encode(),
                      corrupt_integrity=corrupt_integrity,
                      corrupt_fingerprint=corrupt_fingerprint)
    return transaction_id, data


class StunMessage:
    """A parsed STUN message (raises ValueError on anything malformed)."""

    def __init__(self, data):
        if len(data) < 20:
            raise ValueError("STUN message shorter than its header")
        self.type, length, magic, self.transaction_id = STUN_HEADER.unpack_from(data)
        if magic != STUN_MAGIC or length + 20 != len(data) or length % 4:
            raise ValueError("not a STUN message")
        self.raw = bytes(data)
        self.attributes = []  # (type, value, offset of the attribute)
        offset = 20
        while offset < len(data):
            if offset + 4 > len(data):
                raise ValueError("truncated STUN attribute header")
            attr_type, attr_len = struct.unpack_from("!HH", data, offset)
            end = offset + 4 + attr_len
            if end > len(data):
                raise ValueError("truncated STUN attribute")
            self.attributes.append((attr_type, bytes(data[offset + 4:end]), offset))
            offset = end + (-attr_len % 4)

    def get(self, attr_type):
        for t, value, _ in self.attributes:
            if t == attr_type:
                return value
        return None

    def _offset(self, attr_type):
        for t, _, offset in self.attributes:
            if t == attr_type:
                return offset
        return None

    def xor_mapped_address(self):
        value = self.get(ATTR_XOR_MAPPED_ADDRESS)
        if value is None:
            return None
        family, xport = struct.unpack_from("!xBH", value)
        port = xport ^ (STUN_MAGIC >> 16)
        if family == 0x01:
            raw = struct.unpack_from("!I", value, 4)[0] ^ STUN_MAGIC
            return socket.inet_ntop(socket.AF_INET, struct.pack("!I", raw)), port
        mask = struct.pack("!I", STUN_MAGIC) + self.transaction_id
        raw = bytes(a ^ b for a, b in zip(value[4:20], mask))
        return socket.inet_ntop(socket.AF_INET6, raw), port

    def error_code(self):
        value = self.get(ATTR_ERROR_CODE)
        if value is None:
            return None
        return (value[2] & 0x07) * 100 + value[3]

    def integrity_ok(self, key):
        """True if MESSAGE-INTEGRITY verifies with `key`."""
        offset = self._offset(ATTR_MESSAGE_INTEGRITY)
        if offset is None:
            return False
        head = bytearray(self.raw[:offset])
        struct.pack_into("!H", head, 2, offset + 24 - 20)
        expected = hmac.new(key, bytes(head), hashlib.sha1).digest()
        return hmac.compare_digest(expected, self.get(ATTR_MESSAGE_INTEGRITY))

    def fingerprint_ok(self):
        offset = self._offset(ATTR_FINGERPRINT)
        if offset is None:
            return False
        crc = (zlib.crc32(self.raw[:offset]) ^ _FINGERPRINT_XOR) & 0xFFFFFFFF
        return struct.pack("!I", crc) == self.get(ATTR_FINGERPRINT)


def receive_stun(sock, transaction_id, timeout):
    """The STUN message with this transaction id from the socket, or None
    after `timeout` seconds. Anything else received is skipped."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return None
        if not data or data[0] > 3:
            continue
        try:
            message = StunMessage(data)
        except ValueError:
            continue
        if message.transaction_id == transaction_id:
            return message


# --------------------------------------------------------------------------
# RFC 4571 framing (ICE-TCP)
# --------------------------------------------------------------------------

def rfc4571_frame(packet):
    return struct.pack("!H", len(packet)) + packet


def read_rfc4571_frame(sock, timeout):
    """One framed packet from a TCP socket, or None on timeout/EOF."""
    sock.settimeout(timeout)
    try:
        header = _recv_exact(sock, 2)
        if header is None:
            return None
        return _recv_exact(sock, struct.unpack("!H", header)[0])
    except (socket.timeout, OSError):
        return None


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# --------------------------------------------------------------------------
# DTLS client over a plain UDP socket
# --------------------------------------------------------------------------

def have_pyopenssl():
    try:
        import OpenSSL.SSL  # noqa: F401
        import cryptography  # noqa: F401
        return True
    except ImportError:
        return False


def self_signed_certificate():
    """(pyOpenSSL X509, PKey, sha-256 fingerprint) of a fresh EC P-256
    certificate, as WebRTC peers generate them."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from OpenSSL import crypto

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dtls-test-peer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return (crypto.X509.from_cryptography(cert), crypto.PKey.from_cryptography_key(key),
            der_fingerprint(der))


class DtlsClient:
    """A DTLS 1.2 client with DTLS-SRTP (OpenSSL through pyOpenSSL, memory
    BIOs) that talks over a UDP socket the caller owns, so that the same
    socket that passed ICE carries the handshake. It accepts any server
    certificate and records its fingerprint for the caller to check."""

    SRTP_PROFILES = b"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

    def __init__(self, sock, remote):
        from OpenSSL import SSL
        self._ssl_module = SSL
        self.sock = sock
        self.remote = remote
        self.certificate, key, self.fingerprint = self_signed_certificate()
        context = SSL.Context(SSL.DTLS_METHOD)
        context.use_certificate(self.certificate)
        context.use_privatekey(key)
        context.set_verify(SSL.VERIFY_PEER, lambda *args: True)
        context.set_tlsext_use_srtp(self.SRTP_PROFILES)
        self.connection = SSL.Connection(context, None)
        self.connection.set_connect_state()
        self.peer_fingerprint = None
        self.error = None

    def _flush(self):
        while True:
            try:
                data = self.connection.bio_read(65536)
            except self._ssl_module.WantReadError:
                return
            if not data:
                return
            self.sock.sendto(data, self.remote)

    def handshake(self, timeout):
        """Runs the handshake. Returns "connected", "failed" (an alert or a
        TLS error; self.error says which) or "timeout". The flight is resent
        every 0.5 s while nothing comes back."""
        SSL = self._ssl_module
        deadline = time.monotonic() + timeout
        last_flight = None
        while time.monotonic() < deadline:
            try:
                self.connection.do_handshake()
                self._flush()
                x509 = self.connection.get_peer_certificate()
                if x509 is not None:
                    from OpenSSL import crypto
                    self.peer_fingerprint = der_fingerprint(
                        crypto.dump_certificate(crypto.FILETYPE_ASN1, x509))
                return "connected"
            except SSL.WantReadError:
                pass
            except SSL.Error as exc:
                self._flush()
                self.error = exc
                return "failed"
            flight = self._pending()
            if flight:
                last_flight = flight
                for datagram in flight:
                    self.sock.sendto(datagram, self.remote)
            data = self._receive(min(0.5, max(0.01, deadline - time.monotonic())))
            if data is None:
                # Nothing came: a lost datagram on the way is resent.
                for datagram in last_flight or []:
                    self.sock.sendto(datagram, self.remote)
                continue
            self.connection.bio_write(data)
        return "timeout"

    def _pending(self):
        out = []
        while True:
            try:
                data = self.connection.bio_read(65536)
            except self._ssl_module.WantReadError:
                break
            if not data:
                break
            out.append(data)
        return out

    def _receive(self, timeout):
        """The next DTLS datagram (first byte 20..63) from the socket."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if data and 20 <= data[0] <= 63:
                return data

    def read_alert(self, timeout):
        """After the handshake: whether the server closed the association
        (close_notify or a fatal alert) within `timeout`."""
        SSL = self._ssl_module
        data = self._receive(timeout)
        if data is None:
            return False
        self.connection.bio_write(data)
        try:
            self.connection.recv(65536)
        except SSL.ZeroReturnError:
            return True
        except SSL.WantReadError:
            return False
        except SSL.Error as exc:
            self.error = exc
            return True
        return False

    def selected_srtp_profile(self):
        """The DTLS-SRTP profile name the server chose (None if none).
        pyOpenSSL has no public call for it; its OpenSSL binding does."""
        from OpenSSL._util import ffi, lib
        profile = lib.SSL_get_selected_srtp_profile(self.connection._ssl)
        return None if profile == ffi.NULL else ffi.string(profile.name).decode()


# --------------------------------------------------------------------------
# A stream through a PlainTransport pair that keeps flowing
# --------------------------------------------------------------------------

def rtp_packet(payload_type, sequence, timestamp, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type,
                       sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


class PlainStream:
    """An Opus-shaped RTP stream sent from Python into a comedia
    PlainTransport producer at 50 packets/s and forwarded by a simple
    consumer on a second PlainTransport to a local socket that counts what
    arrives. received() only grows while the worker forwards."""

    PAYLOAD_TYPE = 100
    SSRC = 0x0A0B0C0D
    MAPPED_SSRC = 0x11223344
    CONSUMER_SSRC = 0x55667788
    INTERVAL = 0.02

    def __init__(self, worker, router_id, prefix="plain"):
        self.worker = worker
        self.router_id = router_id
        self.send_id = prefix + "-send"
        self.recv_id = prefix + "-recv"
        self.producer_id = prefix + "-producer"
        self.consumer_id = prefix + "-consumer"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._received = 0
        self._sent = 0
        self._threads = []
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.receiver.bind((LOCAL_IP, 0))
        self.send_answer = None
        self.recv_answer = None

    def _internal(self, transport_id, **extra):
        internal = {"routerId": self.router_id, "transportId": transport_id}
        internal.update(extra)
        return internal

    def start(self):
        w = self.worker
        self.send_answer = w.request_ok(
            "router.createPlainTransport", self._internal(self.send_id),
            mu.plain_transport_options(rtcp_mux=True, comedia=True))
        w.request_ok("transport.produce",
                     self._internal(self.send_id, producerId=self.producer_id),
                     mu.produce_data(mu.OPUS, self.PAYLOAD_TYPE, self.SSRC,
                                     self.PAYLOAD_TYPE, self.MAPPED_SSRC))
        self.recv_answer = w.request_ok(
            "router.createPlainTransport", self._internal(self.recv_id),
            mu.plain_transport_options(rtcp_mux=True, comedia=False))
        w.request_ok("transport.connect", self._internal(self.recv_id),
                     {"ip": LOCAL_IP, "port": self.receiver.getsockname()[1]})
        w.request_ok("transport.consume",
                     self._internal(self.recv_id, producerId=self.producer_id,
                                    consumerId=self.consumer_id),
                     mu.consume_data(mu.OPUS, self.PAYLOAD_TYPE, self.CONSUMER_SSRC,
                                     self.MAPPED_SSRC))
        for target in (self._send_loop, self._receive_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    @property
    def ports(self):
        """The worker's local ports of both PlainTransports."""
        return [self.send_answer["tuple"]["localPort"], self.recv_answer["tuple"]["localPort"]]

    def _send_loop(self):
        target = (LOCAL_IP, self.send_answer["tuple"]["localPort"])
        sequence, timestamp = random.randint(0, 65535), random.randint(0, 2 ** 32 - 1)
        # A valid Opus TOC byte (config 15, stereo, one frame) and filler.
        payload = b"\xfc" + bytes(range(40))
        next_time = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sender.sendto(rtp_packet(self.PAYLOAD_TYPE, sequence, timestamp, self.SSRC,
                                              payload), target)
            except OSError:
                return
            with self._lock:
                self._sent += 1
            sequence += 1
            timestamp += 960
            next_time += self.INTERVAL
            self._stop.wait(max(0.0, next_time - time.monotonic()))

    def _receive_loop(self):
        self.receiver.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = self.receiver.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            # Only the consumer's RTP counts, not the worker's RTCP.
            if len(data) >= 12 and data[0] >> 6 == 2 and (data[1] & 0x7F) == self.PAYLOAD_TYPE \
                    and struct.unpack_from("!I", data, 8)[0] == self.CONSUMER_SSRC:
                with self._lock:
                    self._received += 1

    def received(self):
        with self._lock:
            return self._received

    def wait_flowing(self, min_packets, timeout):
        """Waits until min_packets more arrive; returns how many did."""
        start = self.received()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.received() - start >= min_packets:
                break
            time.sleep(0.02)
        return self.received() - start

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.sender.close()
        self.receiver.close()
