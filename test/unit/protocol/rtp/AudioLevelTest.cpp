// packetAudioLevel: the RFC 6464 element read from a packet in either RFC
// 8285 form, and nothing from an absent, mis-sized or unnegotiated element.
#include "RtpTestUtil.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <gtest/gtest.h>

namespace sfu::rtp::test {
namespace {

// Fixed header (PT 111, seq 1, ts 2, SSRC 3) with X set, then `extension`
// (profile, length and elements) and a 2-byte payload.
std::vector<uint8_t> withExtension(std::string_view extension) {
    return fromHex("906f0001 00000002 00000003" + std::string(extension) + "abcd");
}

TEST(PacketAudioLevel, OneByteForm) {
    // id 1: 0xD5 = V set, level 85.
    auto bytes = withExtension("bede0001 10d50000");
    const RtpPacket packet = mustParse(bytes);
    const auto level = packetAudioLevel(packet, 1);
    ASSERT_TRUE(level.has_value());
    EXPECT_TRUE(level->voiceActivity);
    EXPECT_EQ(level->level, 85);
    EXPECT_FALSE(packetAudioLevel(packet, 2).has_value()) << "another id";
    EXPECT_FALSE(packetAudioLevel(packet, 0).has_value()) << "id 0: not negotiated";
}

TEST(PacketAudioLevel, TwoByteForm) {
    // id 20, length 1: 0x7F = no voice, level 127 (silence).
    auto bytes = withExtension("10000001 14017f00");
    const RtpPacket packet = mustParse(bytes);
    ASSERT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    const auto level = packetAudioLevel(packet, 20);
    ASSERT_TRUE(level.has_value());
    EXPECT_FALSE(level->voiceActivity);
    EXPECT_EQ(level->level, 127);
}

TEST(PacketAudioLevel, MisSizedElementReadsAsNothing) {
    // Two-byte form, id 1 with two value bytes: not an audio level.
    auto twoBytes = withExtension("10000002 01028001 00000000");
    EXPECT_FALSE(packetAudioLevel(mustParse(twoBytes), 1).has_value());
    // One-byte form, id 1 with a 2-byte value (L = 1).
    auto oneByte = withExtension("bede0001 11800100");
    EXPECT_FALSE(packetAudioLevel(mustParse(oneByte), 1).has_value());
    // No extension block at all.
    auto none = fromHex("806f0001 00000002 00000003 abcd");
    EXPECT_FALSE(packetAudioLevel(mustParse(none), 1).has_value());
}

// Every byte value, written in either form under every id the form allows
// (a sample of them), reads back as written: V is bit 7, the level the
// other seven.
TEST(PacketAudioLevel, EveryValueRoundTripsInBothForms) {
    for (const ExtensionForm form : {ExtensionForm::OneByte, ExtensionForm::TwoByte}) {
        for (const uint8_t id : {1, 7, 14, 15, 200, 255}) {
            if (form == ExtensionForm::OneByte && id > 14) {
                continue;
            }
            for (unsigned byte = 0; byte < 256; ++byte) {
                auto bytes = withRoom(fromHex("806f0001 00000002 00000003 abcd"), 32);
                RtpPacket packet = mustParse(bytes, 14);
                ASSERT_TRUE(packet.setExtensionForm(form));
                const AudioLevel written{(byte & 0x80) != 0, static_cast<uint8_t>(byte & 0x7F)};
                ASSERT_TRUE(setAudioLevel(packet, id, written));
                ASSERT_EQ(packet.extensionForm(), form);
                expectConsistent(packet);
                const auto read = packetAudioLevel(packet, id);
                ASSERT_TRUE(read.has_value()) << "byte " << byte << " id " << int(id);
                EXPECT_EQ(read->voiceActivity, written.voiceActivity);
                EXPECT_EQ(read->level, written.level);
                EXPECT_LE(read->level, 127);
            }
        }
    }
}

} // namespace
} // namespace sfu::rtp::test
