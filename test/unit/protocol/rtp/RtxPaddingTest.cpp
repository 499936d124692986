#include "RtpTestUtil.hpp"
#include "Vectors.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <gtest/gtest.h>

namespace sfu::rtp::test {
namespace {

TEST(Rtx, DecodesARetransmission) {
    auto bytes = fromHex(kFfmpegH264Rtx);
    RtpPacket packet = mustParse(bytes);
    EXPECT_EQ(packet.payloadType(), 97);
    EXPECT_EQ(packet.sequenceNumber(), 100);
    ASSERT_TRUE(packet.rtxDecode(96, 0xdeadbeef));
    EXPECT_EQ(wire(packet), fromHex(kFfmpegH264));
    expectConsistent(packet);
}

TEST(Rtx, EncodesARetransmission) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 2);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());
    ASSERT_TRUE(packet.rtxEncode(97, 0x01020304, 100));
    EXPECT_EQ(wire(packet), fromHex(kFfmpegH264Rtx));
    expectConsistent(packet);
}

TEST(Rtx, RoundTripRestoresEveryByte) {
    const std::vector<std::vector<uint8_t>> vectors = {
        fromHex(kChromeVideo),    fromHex(kChromeAudio),      fromHex(kMixedAudio),
        fromHex(kRfc8285TwoByte), fromHex(kTwoByteLongValue), fromHex(probePaddingOnly())};
    for (const auto& original : vectors) {
        auto bytes = withRoom(original, 2);
        RtpPacket packet = mustParse(bytes, original.size());
        const uint16_t seq = packet.sequenceNumber();
        const uint8_t payloadType = packet.payloadType();
        const uint32_t ssrc = packet.ssrc();
        const size_t payloadLength = packet.payloadLength();
        const uint8_t paddingLength = packet.paddingLength();

        ASSERT_TRUE(packet.rtxEncode(101, 0x55667788, 7));
        EXPECT_EQ(packet.payloadType(), 101);
        EXPECT_EQ(packet.ssrc(), 0x55667788u);
        EXPECT_EQ(packet.sequenceNumber(), 7);
        EXPECT_EQ(packet.payloadLength(), payloadLength + 2);
        EXPECT_EQ(packet.paddingLength(), paddingLength);
        EXPECT_EQ(bytes::get16(packet.payload()), seq);
        EXPECT_EQ(packet.marker(), (original[1] & 0x80) != 0);
        expectConsistent(packet);
        // Extensions are untouched.
        if (original == fromHex(kChromeVideo)) {
            EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xc46a0bu);
        }

        ASSERT_TRUE(packet.rtxDecode(payloadType, ssrc));
        EXPECT_EQ(wire(packet), original);
        expectConsistent(packet);
    }
}

TEST(Rtx, EncodeNeedsTwoBytesOfRoom) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 1);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());
    EXPECT_FALSE(packet.rtxEncode(97, 1, 1));
    EXPECT_EQ(wire(packet), fromHex(kFfmpegH264));
}

TEST(Rtx, DecodeNeedsTheOriginalSequenceNumber) {
    auto bytes = fromHex("80610064 00000000 01020304 00");
    RtpPacket packet = mustParse(bytes);
    EXPECT_FALSE(packet.rtxDecode(96, 1));
    // Padding does not count as the two bytes.
    auto padded = fromHex("a0610064 00000000 01020304 00000002");
    RtpPacket paddedPacket = mustParse(padded);
    EXPECT_EQ(paddedPacket.payloadLength(), 2u);
    auto onlyPadding = fromHex("a0610064 00000000 01020304 0002");
    RtpPacket probe = mustParse(onlyPadding);
    EXPECT_FALSE(probe.rtxDecode(96, 1));
}

TEST(Padding, PaddingOnlyDetection) {
    auto probe = fromHex(probePaddingOnly());
    EXPECT_TRUE(mustParse(probe).isPaddingOnly());
    auto video = fromHex(kChromeVideo);
    EXPECT_FALSE(mustParse(video).isPaddingOnly());
    // No payload and no padding is not a padding packet.
    auto empty = fromHex("80600001 00000001 00000002");
    EXPECT_FALSE(mustParse(empty).isPaddingOnly());
}

TEST(Padding, TrimAndRestore) {
    auto bytes = fromHex(probePaddingOnly());
    RtpPacket packet = mustParse(bytes);
    const size_t header = packet.headerSize();

    ASSERT_TRUE(packet.setPaddingLength(0));
    EXPECT_FALSE(packet.hasPadding());
    EXPECT_EQ(packet.size(), header);
    EXPECT_FALSE(packet.isPaddingOnly());
    expectConsistent(packet);

    ASSERT_TRUE(packet.setPaddingLength(224));
    EXPECT_EQ(wire(packet), fromHex(probePaddingOnly()));
    expectConsistent(packet);
}

TEST(Padding, AddPaddingToAPayload) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 8);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());
    EXPECT_FALSE(packet.setPaddingLength(9)); // no room
    ASSERT_TRUE(packet.setPaddingLength(4));
    EXPECT_EQ(wire(packet), fromHex("a0e00001 00000000 deadbeef 7c851111 2222 00000004"));
    ASSERT_TRUE(packet.setPaddingLength(1));
    EXPECT_EQ(wire(packet), fromHex("a0e00001 00000000 deadbeef 7c851111 2222 01"));
    expectConsistent(packet);
}

TEST(Payload, ShiftInsertsAndRemoves) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 8);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());
    ASSERT_TRUE(packet.setPaddingLength(2));

    ASSERT_TRUE(packet.shiftPayload(1, 2));
    EXPECT_EQ(wire(packet), fromHex("a0e00001 00000000 deadbeef 7c000085 11112222 0002"));
    ASSERT_TRUE(packet.shiftPayload(1, -2));
    EXPECT_EQ(wire(packet), fromHex("a0e00001 00000000 deadbeef 7c851111 2222 0002"));
    ASSERT_TRUE(packet.shiftPayload(6, 0));
    EXPECT_FALSE(packet.shiftPayload(7, 1));  // past the payload
    EXPECT_FALSE(packet.shiftPayload(5, -2)); // removing more than there is
    EXPECT_FALSE(packet.shiftPayload(0, 7));  // no room
    ASSERT_TRUE(packet.shiftPayload(0, -6));
    EXPECT_EQ(packet.payloadLength(), 0u);
    EXPECT_TRUE(packet.isPaddingOnly());
    expectConsistent(packet);
}

TEST(Payload, SetLength) {
    auto bytes = withRoom(fromHex(kChromeVideo), 4);
    RtpPacket packet = mustParse(bytes, fromHex(kChromeVideo).size());
    ASSERT_TRUE(packet.setPayloadLength(2));
    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}), fromHex("9080"));
    ASSERT_TRUE(packet.setPayloadLength(6));
    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}), fromHex("908000000000"));
    EXPECT_FALSE(packet.setPayloadLength(19));
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xc46a0bu);
    expectConsistent(packet);
}

} // namespace
} // namespace sfu::rtp::test
