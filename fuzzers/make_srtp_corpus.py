#!/usr/bin/python3
"""Writes the seed corpus of fuzz_srtp_session (fuzzers/corpus/srtp_session/).

The fuzzer reads its first byte as a selector: suite = selector % 4, in
kAllCryptoSuites' order (AEAD_AES_256_GCM, AEAD_AES_128_GCM,
AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32), and mode = selector / 4
% 5:
  0  unprotect the rest as SRTP with the suite's inbound session,
  1  unprotect it as SRTCP,
  2  protect it as RTP, then unprotect it back,
  3  protect it as RTCP, then unprotect it back,
  4  base64-decode it as text and encode it again.
Its sessions are keyed with keyLength(suite) bytes of value suite + 1, so
the seeds of modes 0 and 1 are packets protected with that key here (with
libsrtp itself, through Debian's python3-pylibsrtp), which the fuzzer's
sessions accept; modes 2 and 3 get plain RTP and RTCP, mode 4 base64 keys.

Usage: fuzzers/make_srtp_corpus.py [output directory]
"""

import base64
import os
import struct
import sys

from pylibsrtp import Error, Policy, Session

# (name, libsrtp profile, keyLength(suite)) in kAllCryptoSuites' order.
SUITES = (
    ("gcm256", Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44),
    ("gcm128", Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
    ("cm80", Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
    ("cm32", Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 30),
)
MODES = 5


def rtp(seq, ssrc, payload, pt=96, marker=False, extension=None):
    """An RTP packet; extension: one-byte-header (RFC 8285) elements as
    [(id, bytes)]."""
    first = 0x80
    ext = b""
    if extension:
        first |= 0x10
        body = b"".join(bytes([(i << 4) | (len(d) - 1)]) + d for i, d in extension)
        body += b"\0" * (-len(body) % 4)
        ext = struct.pack("!HH", 0xBEDE, len(body) // 4) + body
    header = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq,
                         seq * 3000 & 0xFFFFFFFF, ssrc)
    return header + ext + payload


def rtcp_sr_sdes(ssrc):
    """A compound RTCP packet: a sender report, then an SDES CNAME."""
    sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0xE5F0A1B2, 0x80000000, 90000, 100, 12000)
    cname = b"fuzz-seed"
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return sr + sdes


def rtcp_rr_nack(ssrc, media_ssrc):
    """A receiver report with one block, then a generic NACK."""
    block = struct.pack("!IIIIII", media_ssrc, 0x01000002, 1234, 56, 0, 0)
    rr = struct.pack("!BBHI", 0x81, 201, 7, ssrc) + block
    nack = struct.pack("!BBHIIHH", 0x81, 205, 3, ssrc, media_ssrc, 100, 0x0005)
    return rr + nack


def seeds():
    vp8 = bytes([0x90, 0x80, 0x81, 0x23]) + bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]) \
        + bytes(range(64))
    opus = bytes([0x78]) + bytes(range(40))
    for index, (name, profile, key_len) in enumerate(SUITES):
        key = bytes([index + 1]) * key_len
        out = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        back = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
        selector = {mode: bytes([index + 4 * mode]) for mode in range(MODES)}
        ssrc = 0x11110000 + index

        plain = {
            "video": rtp(1000, ssrc, vp8, marker=True),
            "audio_ext": rtp(2000, ssrc + 16, opus, pt=111,
                             extension=[(1, b"\x85"), (4, b"\x00\x12\x34")]),
        }
        for what, packet in plain.items():
            protected = out.protect(packet)
            if back.unprotect(protected) != packet:
                raise RuntimeError("%s %s does not unprotect back" % (name, what))
            yield "%s_srtp_%s" % (name, what), selector[0] + protected
            yield "%s_rtp_%s" % (name, what), selector[2] + packet

        for what, packet in (("sr_sdes", rtcp_sr_sdes(ssrc)),
                             ("rr_nack", rtcp_rr_nack(ssrc, ssrc + 16))):
            protected = out.protect_rtcp(packet)
            if back.unprotect_rtcp(protected) != packet:
                raise RuntimeError("%s %s does not unprotect back" % (name, what))
            yield "%s_srtcp_%s" % (name, what), selector[1] + protected
            yield "%s_rtcp_%s" % (name, what), selector[3] + packet

        yield "%s_base64_key" % name, selector[4] + base64.b64encode(key)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    directory = argv[1] if len(argv) > 1 else os.path.join(here, "corpus", "srtp_session")
    os.makedirs(directory, exist_ok=True)
    count = 0
    try:
        for name, data in seeds():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
            count += 1
    except Error as exc:
        sys.stderr.write("libsrtp refused a seed: %s\n" % exc)
        return 1
    print("%d seeds in %s" % (count, directory))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
