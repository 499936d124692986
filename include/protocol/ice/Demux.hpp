// RFC 7983 demultiplexing: one UDP 5-tuple (or RFC 4571 TCP stream) carries
// STUN, DTLS, RTP and RTCP at once, and the first byte of each datagram or
// frame says which. Runs on every packet, so it stays inline and branch-light.
#pragma once

#include "utils/Bytes.hpp"

#include <cstddef>
#include <cstdint>

namespace sfu::ice {

enum class PacketKind : uint8_t {
    Unknown, // ZRTP, TURN channels, or too short for the kind its first byte names
    Stun,
    Dtls,
    Rtp,
    Rtcp,
};

// Smallest packet of each kind worth handing on: a STUN header, a DTLS
// record header, an RTP fixed header, an RTCP common header.
inline constexpr size_t kMinStunSize = 20;
inline constexpr size_t kMinDtlsSize = 13;
inline constexpr size_t kMinRtpSize = 12;
inline constexpr size_t kMinRtcpSize = 4;

// First byte 0..3 is STUN, 20..63 DTLS, 128..191 RTP or RTCP (RFC 7983 7).
// RTP and RTCP share the first byte; RFC 5761 4 keeps RTP payload types out
// of 64..95 so that a second byte (marker bit + payload type) of 192..223 can
// only be an RTCP packet type. STUN also needs its magic cookie: a
// classic-STUN or garbage datagram starting with 0..3 is not ours to answer.
inline PacketKind classifyPacket(const uint8_t* data, size_t size) {
    if (size == 0) {
        return PacketKind::Unknown;
    }
    const uint8_t first = data[0];
    if (first <= 3) {
        if (size >= kMinStunSize && bytes::get32(data + 4) == 0x2112A442) {
            return PacketKind::Stun;
        }
        return PacketKind::Unknown;
    }
    if (first >= 20 && first <= 63) {
        return size >= kMinDtlsSize ? PacketKind::Dtls : PacketKind::Unknown;
    }
    if (first >= 128 && first <= 191) {
        if (size < kMinRtcpSize) {
            return PacketKind::Unknown;
        }
        if (data[1] >= 192 && data[1] <= 223) {
            return PacketKind::Rtcp;
        }
        return size >= kMinRtpSize ? PacketKind::Rtp : PacketKind::Unknown;
    }
    return PacketKind::Unknown;
}

} // namespace sfu::ice
