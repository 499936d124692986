#include "protocol/ice/Demux.hpp"

#include "IceTestUtil.hpp"

#include <gtest/gtest.h>

namespace sfu::ice::test {
namespace {

// A buffer of `size` bytes starting with `first`, `second`, and a STUN
// cookie in bytes 4..7 so STUN-range first bytes classify as STUN.
std::vector<uint8_t> packet(uint8_t first, uint8_t second, size_t size) {
    std::vector<uint8_t> bytes(size, 0);
    if (size > 0) {
        bytes[0] = first;
    }
    if (size > 1) {
        bytes[1] = second;
    }
    if (size >= 8) {
        bytes::set32(bytes.data() + 4, kMagicCookie);
    }
    return bytes;
}

PacketKind classify(const std::vector<uint8_t>& bytes) {
    return classifyPacket(bytes.data(), bytes.size());
}

TEST(Demux, EveryFirstByte) {
    for (int first = 0; first < 256; ++first) {
        const auto bytes = packet(static_cast<uint8_t>(first), 96, 64);
        PacketKind expected = PacketKind::Unknown;
        if (first <= 3) {
            expected = PacketKind::Stun;
        } else if (first >= 20 && first <= 63) {
            expected = PacketKind::Dtls;
        } else if (first >= 128 && first <= 191) {
            expected = PacketKind::Rtp;
        }
        EXPECT_EQ(classify(bytes), expected) << first;
    }
}

TEST(Demux, RtcpBySecondByte) {
    for (int second = 0; second < 256; ++second) {
        const auto bytes = packet(0x80, static_cast<uint8_t>(second), 64);
        const bool rtcp = second >= 192 && second <= 223;
        EXPECT_EQ(classify(bytes), rtcp ? PacketKind::Rtcp : PacketKind::Rtp) << second;
    }
    // SR (200), RR (201), RTPFB (205), PSFB (206) with a report count.
    EXPECT_EQ(classify(packet(0x81, 200, 28)), PacketKind::Rtcp);
    EXPECT_EQ(classify(packet(0x81, 201, 8)), PacketKind::Rtcp);
    EXPECT_EQ(classify(packet(0x8f, 205, 12)), PacketKind::Rtcp);
    EXPECT_EQ(classify(packet(0x81, 206, 12)), PacketKind::Rtcp);
    // RTP with the marker bit and payload type 96..127.
    EXPECT_EQ(classify(packet(0x90, 0x80 | 96, 12)), PacketKind::Rtp);
    EXPECT_EQ(classify(packet(0x80, 0x80 | 127, 12)), PacketKind::Rtp);
}

TEST(Demux, RealMessages) {
    const auto request = fromHex(kRfc5769Request);
    EXPECT_EQ(classify(request), PacketKind::Stun);
    const auto response = fromHex(kRfc5769Ipv4Response);
    EXPECT_EQ(classify(response), PacketKind::Stun);
    // DTLS 1.2 ClientHello record header.
    EXPECT_EQ(classify(fromHex("16 fe fd 00 00 00 00 00 00 00 00 00 7c 01")), PacketKind::Dtls);
}

TEST(Demux, ShortPackets) {
    EXPECT_EQ(classifyPacket(nullptr, 0), PacketKind::Unknown);
    EXPECT_EQ(classify(packet(0x00, 0x01, 19)), PacketKind::Unknown);
    EXPECT_EQ(classify(packet(0x00, 0x01, 20)), PacketKind::Stun);
    EXPECT_EQ(classify(packet(22, 0xfe, 12)), PacketKind::Unknown);
    EXPECT_EQ(classify(packet(22, 0xfe, 13)), PacketKind::Dtls);
    EXPECT_EQ(classify(packet(0x80, 96, 11)), PacketKind::Unknown);
    EXPECT_EQ(classify(packet(0x80, 96, 12)), PacketKind::Rtp);
    EXPECT_EQ(classify(packet(0x80, 200, 3)), PacketKind::Unknown);
    EXPECT_EQ(classify(packet(0x80, 200, 4)), PacketKind::Rtcp);
    EXPECT_EQ(classify(packet(0x80, 0, 1)), PacketKind::Unknown);
}

TEST(Demux, StunNeedsTheCookie) {
    auto bytes = packet(0x00, 0x01, 20);
    bytes[4] = 0;
    EXPECT_EQ(classify(bytes), PacketKind::Unknown);
}

} // namespace
} // namespace sfu::ice::test
