#include "RtpTestUtil.hpp"
#include "Vectors.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <gtest/gtest.h>
#include <random>

namespace sfu::rtp::test {
namespace {

TEST(RtpPacketParse, ChromeVideoWithOneByteExtensions) {
    auto bytes = fromHex(kChromeVideo);
    const RtpPacket packet = mustParse(bytes);

    EXPECT_EQ(packet.version(), 2);
    EXPECT_FALSE(packet.hasPadding());
    EXPECT_TRUE(packet.hasHeaderExtension());
    EXPECT_EQ(packet.csrcCount(), 0);
    EXPECT_TRUE(packet.marker());
    EXPECT_EQ(packet.payloadType(), 96);
    EXPECT_EQ(packet.sequenceNumber(), 0x3a4c);
    EXPECT_EQ(packet.timestamp(), 0x5d8c71f0u);
    EXPECT_EQ(packet.ssrc(), 0x4a5f1c3eu);
    EXPECT_EQ(packet.headerSize(), 12u + 4u + 12u);
    EXPECT_EQ(packet.payloadLength(), 14u);
    EXPECT_EQ(packet.payload()[0], 0x90);
    EXPECT_EQ(packet.paddingLength(), 0);
    EXPECT_FALSE(packet.isPaddingOnly());

    EXPECT_EQ(packet.extensionForm(), ExtensionForm::OneByte);
    EXPECT_EQ(packet.extensionProfile(), kOneByteProfile);
    EXPECT_EQ(packet.extensionBlock().size(), 12u);
    ASSERT_EQ(packet.extensionCount(), 3u);
    EXPECT_EQ(packet.extensionAt(0).id, 4);
    EXPECT_EQ(packet.extensionAt(1).id, 5);
    EXPECT_EQ(packet.extensionAt(2).id, 1);
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xc46a0bu);
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 391);
    EXPECT_EQ(readSdes(packet.extension(1)), "0");
    EXPECT_FALSE(packet.hasExtension(2));
    EXPECT_TRUE(packet.extension(2).empty());
}

TEST(RtpPacketParse, ChromeAudioWithAudioLevel) {
    auto bytes = fromHex(kChromeAudio);
    const RtpPacket packet = mustParse(bytes);

    EXPECT_FALSE(packet.marker());
    EXPECT_EQ(packet.payloadType(), 111);
    EXPECT_EQ(packet.sequenceNumber(), 0x1234);
    EXPECT_EQ(packet.ssrc(), 0x11223344u);
    EXPECT_EQ(packet.payloadLength(), 13u);
    ASSERT_EQ(packet.extensionCount(), 4u);
    EXPECT_EQ(readSdes(packet.extension(1)), "1");
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0x0a1b2cu);
    const auto level = readAudioLevel(packet.extension(10));
    ASSERT_TRUE(level.has_value());
    EXPECT_TRUE(level->voiceActivity);
    EXPECT_EQ(level->level, 30);
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 66);
}

TEST(RtpPacketParse, FfmpegWithoutExtensions) {
    auto bytes = fromHex(kFfmpegH264);
    const RtpPacket packet = mustParse(bytes);

    EXPECT_FALSE(packet.hasHeaderExtension());
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::None);
    EXPECT_EQ(packet.extensionProfile(), 0);
    EXPECT_EQ(packet.extensionCount(), 0u);
    EXPECT_TRUE(packet.extensionBlock().empty());
    EXPECT_EQ(packet.headerSize(), 12u);
    EXPECT_EQ(packet.payloadLength(), 6u);
    EXPECT_EQ(packet.ssrc(), 0xdeadbeefu);
    EXPECT_EQ(packet.sequenceNumber(), 1);
    for (int id = 0; id < 256; ++id) {
        EXPECT_FALSE(packet.hasExtension(static_cast<uint8_t>(id)));
    }
}

TEST(RtpPacketParse, Csrcs) {
    auto bytes = fromHex(kMixedAudio);
    RtpPacket packet = mustParse(bytes);

    EXPECT_EQ(packet.csrcCount(), 2);
    EXPECT_EQ(packet.csrc(0), 1u);
    EXPECT_EQ(packet.csrc(1), 2u);
    EXPECT_EQ(packet.csrc(2), 0u);
    EXPECT_EQ(packet.sequenceNumber(), 0xffff);
    EXPECT_EQ(packet.payloadType(), 8);
    EXPECT_EQ(packet.headerSize(), 20u);
    EXPECT_EQ(packet.payloadLength(), 6u);

    EXPECT_TRUE(packet.setCsrc(1, 0xabcdef01));
    EXPECT_FALSE(packet.setCsrc(2, 7));
    EXPECT_EQ(packet.csrc(1), 0xabcdef01u);
    expectConsistent(packet);
}

TEST(RtpPacketParse, Rfc8285OneByteExample) {
    auto bytes = fromHex(kRfc8285OneByte);
    const RtpPacket packet = mustParse(bytes);

    ASSERT_EQ(packet.extensionCount(), 3u);
    EXPECT_EQ(copyOf(packet.extension(1)), fromHex("aa"));
    EXPECT_EQ(copyOf(packet.extension(2)), fromHex("bbbb"));
    EXPECT_EQ(copyOf(packet.extension(3)), fromHex("cccccccc"));
    EXPECT_EQ(packet.payloadLength(), 3u);
}

TEST(RtpPacketParse, Rfc8285TwoByteExample) {
    auto bytes = fromHex(kRfc8285TwoByte);
    const RtpPacket packet = mustParse(bytes);

    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    EXPECT_EQ(packet.extensionProfile(), 0x1000);
    ASSERT_EQ(packet.extensionCount(), 3u);
    // An empty element exists even though its value is empty.
    EXPECT_TRUE(packet.hasExtension(1));
    EXPECT_TRUE(packet.extension(1).empty());
    EXPECT_EQ(copyOf(packet.extension(2)), fromHex("dd"));
    EXPECT_EQ(copyOf(packet.extension(3)), fromHex("eeeeeeee"));
}

TEST(RtpPacketParse, TwoByteLongValueAndAppBits) {
    auto bytes = fromHex(kTwoByteLongValue);
    // Application bits in the profile's low nibble do not change the form.
    bytes[13] = 0x05;
    const RtpPacket packet = mustParse(bytes);

    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    EXPECT_EQ(packet.extensionProfile(), 0x1005);
    EXPECT_EQ(readSdes(packet.extension(200)), "rtp-stream-id-long-1");
    EXPECT_EQ(copyOf(packet.extension(2)), fromHex("ff"));
    EXPECT_EQ(packet.payloadLength(), 4u);
}

TEST(RtpPacketParse, PaddingOnlyProbe) {
    auto bytes = fromHex(probePaddingOnly());
    const RtpPacket packet = mustParse(bytes);

    EXPECT_TRUE(packet.hasPadding());
    EXPECT_EQ(packet.paddingLength(), 224);
    EXPECT_EQ(packet.payloadLength(), 0u);
    EXPECT_TRUE(packet.isPaddingOnly());
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 16);
}

TEST(RtpPacketParse, ForeignProfileIsOpaque) {
    auto bytes = fromHex("90600001 00000001 00000002 abcd0001 11223344 0102");
    const RtpPacket packet = mustParse(bytes);
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::Other);
    EXPECT_EQ(packet.extensionProfile(), 0xabcd);
    EXPECT_EQ(packet.extensionCount(), 0u);
    EXPECT_EQ(packet.extensionBlock().size(), 4u);
    EXPECT_EQ(packet.payloadLength(), 2u);
}

TEST(RtpPacketParse, EmptyExtensionBlock) {
    auto bytes = fromHex("90600001 00000001 00000002 bede0000 0102");
    const RtpPacket packet = mustParse(bytes);
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::OneByte);
    EXPECT_EQ(packet.extensionCount(), 0u);
    EXPECT_EQ(packet.payloadLength(), 2u);
}

TEST(RtpPacketParse, ElementWalkRules) {
    // id 15 ends the walk: the element after it is ignored.
    {
        auto bytes = fromHex("90600001 00000001 00000002 bede0002 10aaf000 20bb0000");
        const RtpPacket packet = mustParse(bytes);
        EXPECT_TRUE(packet.hasExtension(1));
        EXPECT_FALSE(packet.hasExtension(2));
    }
    // An element running past the block keeps the ones before it.
    {
        auto bytes = fromHex("90600001 00000001 00000002 bede0001 10aa3fbb");
        const RtpPacket packet = mustParse(bytes);
        EXPECT_TRUE(packet.hasExtension(1));
        EXPECT_FALSE(packet.hasExtension(3));
    }
    // Two-byte: a header cut by the block end.
    {
        auto bytes = fromHex("90600001 00000001 00000002 10000001 0101aa05");
        const RtpPacket packet = mustParse(bytes);
        EXPECT_EQ(copyOf(packet.extension(1)), fromHex("aa"));
        EXPECT_FALSE(packet.hasExtension(5));
    }
    // A repeated id: the first wins.
    {
        auto bytes = fromHex("90600001 00000001 00000002 bede0001 10aa10bb");
        const RtpPacket packet = mustParse(bytes);
        EXPECT_EQ(packet.extensionCount(), 1u);
        EXPECT_EQ(copyOf(packet.extension(1)), fromHex("aa"));
    }
    // A one-byte element with id 0 and a length is neither padding nor an
    // element: the walk stops there.
    {
        auto bytes = fromHex("90600001 00000001 00000002 bede0001 10aa0120");
        const RtpPacket packet = mustParse(bytes);
        EXPECT_EQ(packet.extensionCount(), 1u);
    }
}

TEST(RtpPacketParse, ManyDistinctIdsIndexUpToTheLimit) {
    // 40 two-byte elements of one byte each (ids 1..40): 120 bytes.
    std::string hex = "90600001 00000001 00000002 1000001e";
    for (int id = 1; id <= 40; ++id) {
        char element[8];
        std::snprintf(element, sizeof element, "%02x01%02x", id, id);
        hex += element;
    }
    auto bytes = fromHex(hex);
    const RtpPacket packet = mustParse(bytes);
    EXPECT_EQ(packet.extensionCount(), kMaxIndexedExtensions);
    EXPECT_TRUE(packet.hasExtension(32));
    EXPECT_FALSE(packet.hasExtension(33));
    EXPECT_EQ(packet.payloadLength(), 0u);
}

struct HostileCase {
    const char* name;
    std::string_view hex;
};

TEST(RtpPacketParse, RejectsMalformedLengths) {
    const HostileCase cases[] = {
        {"empty", ""},
        {"shorter than the fixed header", "80600001 00000001 000000"},
        {"version 0", "00600001 00000001 00000002"},
        {"version 1", "40600001 00000001 00000002"},
        {"version 3", "c0600001 00000001 00000002"},
        {"csrc count past the end", "8f600001 00000001 00000002 00000003"},
        {"one csrc cut short", "81600001 00000001 00000002 000000"},
        {"extension header cut short", "90600001 00000001 00000002 bede"},
        {"extension length past the end", "90600001 00000001 00000002 bede0002 10aa0000"},
        {"extension length 0xffff", "90600001 00000001 00000002 bedeffff 10aa0000"},
        {"padding count 0", "a0600001 00000001 00000002 01020300"},
        {"padding count past the payload", "a0600001 00000001 00000002 01020305"},
        {"padding count reaching into the extension",
         "b0600001 00000001 00000002 bede0001 10aa0002"},
        {"padding bit without room for a count", "a0600001 00000001 00000002"},
        {"padding bit with extension filling the packet",
         "b0600001 00000001 00000002 bede0001 10aa0001"},
    };
    for (const HostileCase& c : cases) {
        auto bytes = fromHex(c.hex);
        // An exact-size allocation lets the sanitizers catch any overread.
        std::vector<uint8_t> exact(bytes.begin(), bytes.end());
        EXPECT_FALSE(RtpPacket::parse(exact.data(), exact.size()).has_value()) << c.name;
    }
    EXPECT_FALSE(RtpPacket::parse(nullptr, 0).has_value());
}

TEST(RtpPacketParse, RejectsCapacitySmallerThanSizeAndOversizedPackets) {
    auto bytes = fromHex(kFfmpegH264);
    EXPECT_FALSE(RtpPacket::parse(bytes.data(), bytes.size(), bytes.size() - 1).has_value());
    std::vector<uint8_t> huge(kMaxPacketSize + 1, 0);
    huge[0] = 0x80;
    EXPECT_FALSE(RtpPacket::parse(huge.data(), huge.size()).has_value());
    EXPECT_TRUE(RtpPacket::parse(huge.data(), kMaxPacketSize).has_value());
}

TEST(RtpPacketParse, PaddingCountMayCoverTheWholePayload) {
    auto bytes = fromHex("a0600001 00000001 00000002 00000004");
    const RtpPacket packet = mustParse(bytes);
    EXPECT_EQ(packet.paddingLength(), 4);
    EXPECT_TRUE(packet.isPaddingOnly());
}

// Reads everything a packet exposes, so that sanitizers see every access.
void touchEverything(const RtpPacket& packet) {
    volatile uint64_t sink = 0;
    sink = sink + packet.version() + packet.hasPadding() + packet.marker() + packet.payloadType() +
           packet.sequenceNumber() + packet.timestamp() + packet.ssrc() + packet.csrcCount();
    for (size_t i = 0; i < packet.csrcCount(); ++i) {
        sink = sink + packet.csrc(i);
    }
    for (size_t i = 0; i < packet.payloadLength(); ++i) {
        sink = sink + packet.payload()[i];
    }
    for (const uint8_t byte : packet.extensionBlock()) {
        sink = sink + byte;
    }
    ASSERT_LE(packet.headerSize() + packet.payloadLength() + packet.paddingLength(), packet.size());
    ASSERT_EQ(packet.headerSize() + packet.payloadLength() + packet.paddingLength(), packet.size());
    for (int id = 0; id < 256; ++id) {
        const auto value = packet.extension(static_cast<uint8_t>(id));
        for (const uint8_t byte : value) {
            sink = sink + byte;
        }
        if (!value.empty()) {
            ASSERT_GE(value.data(), packet.extensionBlock().data());
            ASSERT_LE(value.data() + value.size(),
                      packet.extensionBlock().data() + packet.extensionBlock().size());
        }
        sink = sink + readSdes(value).has_value() + readAbsSendTime(value).has_value() +
               readTransportWideSeq(value).has_value() + readAudioLevel(value).has_value() +
               readVideoOrientation(value).has_value() + readTimeOffset(value).has_value() +
               readFrameMarking(value).has_value();
    }
}

std::vector<std::vector<uint8_t>> allVectors() {
    return {fromHex(kChromeVideo),      fromHex(kChromeAudio),       fromHex(kFfmpegH264),
            fromHex(kMixedAudio),       fromHex(kRfc8285OneByte),    fromHex(kRfc8285TwoByte),
            fromHex(kTwoByteLongValue), fromHex(probePaddingOnly()), fromHex(kFfmpegH264Rtx)};
}

TEST(RtpPacketParse, EveryTruncationIsRejectedOrSafe) {
    for (const auto& vector : allVectors()) {
        for (size_t length = 0; length < vector.size(); ++length) {
            // Exact-size copies: reading one byte too far is a sanitizer error.
            std::vector<uint8_t> truncated(vector.begin(),
                                           vector.begin() + static_cast<std::ptrdiff_t>(length));
            auto packet = RtpPacket::parse(truncated.data(), truncated.size());
            if (packet) {
                touchEverything(*packet);
                // Only the payload may be cut: the header must be intact.
                EXPECT_LE(packet->headerSize(), length);
            }
        }
    }
}

TEST(RtpPacketParse, TruncationsIntoTheHeaderAreRejected) {
    auto bytes = fromHex(kChromeVideo);
    for (size_t length = 0; length < 28; ++length) {
        EXPECT_FALSE(RtpPacket::parse(bytes.data(), length).has_value()) << length;
    }
}

TEST(RtpPacketParse, RandomGarbageDoesNotCrash) {
    std::mt19937 random(20240501);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<size_t> length(0, 300);
    size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::vector<uint8_t> garbage(length(random));
        for (auto& b : garbage) {
            b = static_cast<uint8_t>(byte(random));
        }
        // Half the time force version 2 so the walk goes deeper.
        if (!garbage.empty() && (round & 1) != 0) {
            garbage[0] = static_cast<uint8_t>((garbage[0] & 0x3F) | 0x80);
        }
        auto packet = RtpPacket::parse(garbage.data(), garbage.size());
        if (packet) {
            ++accepted;
            touchEverything(*packet);
        }
    }
    EXPECT_GT(accepted, 0u);
}

TEST(RtpPacketParse, BitFlipsOfRealPacketsAreSafe) {
    std::mt19937 random(7);
    for (const auto& vector : allVectors()) {
        for (int round = 0; round < 2000; ++round) {
            std::vector<uint8_t> mutated = vector;
            const size_t flips = 1 + random() % 4;
            for (size_t i = 0; i < flips; ++i) {
                mutated[random() % mutated.size()] ^= static_cast<uint8_t>(1u << (random() % 8));
            }
            auto packet = RtpPacket::parse(mutated.data(), mutated.size());
            if (packet) {
                touchEverything(*packet);
            }
        }
    }
}

TEST(RtpPacketParse, SettersWriteInPlace) {
    auto bytes = fromHex(kChromeVideo);
    RtpPacket packet = mustParse(bytes);
    packet.setMarker(false);
    packet.setPayloadType(0xff); // only seven bits are kept
    packet.setSequenceNumber(0xfffe);
    packet.setTimestamp(0x01020304);
    packet.setSsrc(0xa1b2c3d4);
    EXPECT_FALSE(packet.marker());
    EXPECT_EQ(packet.payloadType(), 0x7f);
    EXPECT_EQ(packet.sequenceNumber(), 0xfffe);
    EXPECT_EQ(packet.timestamp(), 0x01020304u);
    EXPECT_EQ(packet.ssrc(), 0xa1b2c3d4u);
    packet.setMarker(true);
    packet.setPayloadType(96);
    EXPECT_EQ(toHex(bytes.data(), 12), "90e0fffe01020304a1b2c3d4");
    expectConsistent(packet);
}

TEST(RtpPacketParse, CopyToKeepsTheIndex) {
    auto bytes = fromHex(kChromeVideo);
    const RtpPacket packet = mustParse(bytes);
    std::vector<uint8_t> other(1500);
    auto copy = packet.copyTo(other.data(), other.size());
    ASSERT_TRUE(copy.has_value());
    EXPECT_EQ(copy->data(), other.data());
    EXPECT_EQ(copy->capacity(), 1500u);
    EXPECT_EQ(wire(*copy), bytes);
    EXPECT_EQ(readAbsSendTime(copy->extension(4)), 0xc46a0bu);
    EXPECT_EQ(copy->extension(4).data(), other.data() + 17);
    expectConsistent(*copy);
    EXPECT_FALSE(packet.copyTo(other.data(), bytes.size() - 1).has_value());
}

TEST(RtpPacketBuild, MatchesTheWireVector) {
    const uint32_t csrcs[] = {1, 2};
    const auto payload = fromHex("d5d5d5d5 d5d5");
    RtpPacketSpec spec;
    spec.payloadType = 8;
    spec.sequenceNumber = 0xffff;
    spec.timestamp = 0x12345678;
    spec.ssrc = 0x0badcafe;
    spec.csrcs = csrcs;
    spec.payload = payload;
    std::vector<uint8_t> buffer(200);
    auto packet = RtpPacket::build(buffer.data(), buffer.size(), spec);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(wire(*packet), fromHex(kMixedAudio));
}

TEST(RtpPacketBuild, ChromeVideoFromFields) {
    const auto abs = fromHex("c46a0b");
    const auto tcc = fromHex("0187");
    const auto mid = bytesOf("0");
    const ExtensionElement extensions[] = {{4, abs}, {5, tcc}, {1, mid}};
    const auto payload = fromHex("9080802a 30b5009d 012a8002 e001");
    RtpPacketSpec spec;
    spec.marker = true;
    spec.payloadType = 96;
    spec.sequenceNumber = 0x3a4c;
    spec.timestamp = 0x5d8c71f0;
    spec.ssrc = 0x4a5f1c3e;
    spec.extensions = extensions;
    spec.payload = payload;
    std::vector<uint8_t> buffer(200);
    auto packet = RtpPacket::build(buffer.data(), buffer.size(), spec);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(toHex(packet->data(), packet->size()), toHex(fromHex(kChromeVideo).data(), 42));
    expectConsistent(*packet);
}

TEST(RtpPacketBuild, TwoByteFormAndPadding) {
    const auto value = fromHex("aabb");
    const ExtensionElement extensions[] = {{3, value}};
    const auto payload = fromHex("01");
    RtpPacketSpec spec;
    spec.extensions = extensions;
    spec.twoByteExtensions = true;
    spec.payload = payload;
    spec.paddingLength = 3;
    std::vector<uint8_t> buffer(64);
    auto packet = RtpPacket::build(buffer.data(), buffer.size(), spec);
    ASSERT_TRUE(packet.has_value());
    EXPECT_EQ(toHex(packet->data(), packet->size()),
              "b0000000000000000000000010000001" // header, two-byte profile, 1 word
              "0302aabb"                         // id 3, two bytes
              "01000003");                       // payload, padding
    EXPECT_EQ(packet->extensionForm(), ExtensionForm::TwoByte);
    expectConsistent(*packet);
}

TEST(RtpPacketBuild, RejectsWhatCannotFit) {
    std::vector<uint8_t> buffer(12);
    const auto payload = fromHex("01");
    RtpPacketSpec spec;
    spec.payload = payload;
    EXPECT_FALSE(RtpPacket::build(buffer.data(), buffer.size(), spec).has_value());
    spec.payload = {};
    EXPECT_TRUE(RtpPacket::build(buffer.data(), buffer.size(), spec).has_value());
    const uint32_t csrcs[16] = {};
    spec.csrcs = csrcs;
    std::vector<uint8_t> big(200);
    EXPECT_FALSE(RtpPacket::build(big.data(), big.size(), spec).has_value());
}

} // namespace
} // namespace sfu::rtp::test
