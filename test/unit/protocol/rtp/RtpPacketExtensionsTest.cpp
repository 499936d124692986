#include "RtpTestUtil.hpp"
#include "Vectors.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <gtest/gtest.h>
#include <random>

namespace sfu::rtp::test {
namespace {

TEST(RtpPacketExtensions, UpdateInPlaceKeepsEveryOtherByte) {
    auto bytes = withRoom(fromHex(kChromeVideo), 0);
    RtpPacket packet = mustParse(bytes);
    const auto before = wire(packet);

    EXPECT_TRUE(packet.updateExtension(4, fromHex("010203")));
    EXPECT_FALSE(packet.updateExtension(4, fromHex("0102"))); // wrong size
    EXPECT_FALSE(packet.updateExtension(7, fromHex("01")));   // absent
    EXPECT_TRUE(setAbsSendTime(packet, 4, 0x00abcdef));
    EXPECT_TRUE(setTransportWideSeq(packet, 5, 0xfffe));

    auto expected = before;
    expected[17] = 0xab;
    expected[18] = 0xcd;
    expected[19] = 0xef;
    expected[21] = 0xff;
    expected[22] = 0xfe;
    EXPECT_EQ(wire(packet), expected);
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xabcdefu);
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 0xfffe);
}

TEST(RtpPacketExtensions, AddToPacketWithoutExtensions) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 64);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());

    ASSERT_TRUE(setSdes(packet, 1, "video"));
    EXPECT_EQ(wire(packet),
              fromHex("90e00001 00000000 deadbeef bede0002 14766964 656f0000 7c851111 2222"));
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::OneByte);
    EXPECT_EQ(readSdes(packet.extension(1)), "video");
    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}), fromHex("7c851111 2222"));
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, AddGrowsTheBlockAndMovesThePayload) {
    const auto original = fromHex(kChromeVideo);
    auto bytes = withRoom(original, 64);
    RtpPacket packet = mustParse(bytes, original.size());
    const auto payload = copyOf({packet.payload(), packet.payloadLength()});

    // Fills the three bytes of padding exactly: the block does not grow.
    ASSERT_TRUE(setAudioLevel(packet, 10, {true, 5}));
    EXPECT_EQ(packet.size(), original.size());
    // Then grows by a word.
    ASSERT_TRUE(setVideoOrientation(packet, 11, {true, false, 270}));
    EXPECT_EQ(packet.size(), original.size() + 4);
    ASSERT_TRUE(setTimeOffset(packet, 12, -2));
    ASSERT_TRUE(setSdes(packet, 2, "hi"));

    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}), payload);
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xc46a0bu);
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 391);
    EXPECT_EQ(readSdes(packet.extension(1)), "0");
    EXPECT_EQ(readAudioLevel(packet.extension(10))->level, 5);
    const auto orientation = readVideoOrientation(packet.extension(11));
    ASSERT_TRUE(orientation.has_value());
    EXPECT_TRUE(orientation->camera);
    EXPECT_FALSE(orientation->flip);
    EXPECT_EQ(orientation->rotation, 270);
    EXPECT_EQ(readTimeOffset(packet.extension(12)), -2);
    EXPECT_EQ(readSdes(packet.extension(2)), "hi");
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::OneByte);
    EXPECT_EQ(packet.extensionBlock().size() % 4, 0u);
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, ReplacingWithAnotherSizeRewritesTheBlock) {
    auto bytes = withRoom(fromHex(kChromeVideo), 64);
    RtpPacket packet = mustParse(bytes, fromHex(kChromeVideo).size());

    ASSERT_TRUE(setSdes(packet, 1, "a-longer-mid"));
    EXPECT_EQ(readSdes(packet.extension(1)), "a-longer-mid");
    ASSERT_TRUE(setSdes(packet, 1, "m"));
    EXPECT_EQ(readSdes(packet.extension(1)), "m");
    EXPECT_EQ(packet.extensionCount(), 3u);
    // Back to the compact layout: the same size as the original.
    EXPECT_EQ(packet.size(), fromHex(kChromeVideo).size());
    EXPECT_EQ(readAbsSendTime(packet.extension(4)), 0xc46a0bu);
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, AddFailsWithoutRoomAndLeavesThePacketAlone) {
    auto bytes = fromHex(kChromeVideo);
    RtpPacket packet = mustParse(bytes);
    const auto before = wire(packet);
    // Three bytes of block padding take a 2-byte element but not a 4-byte one.
    EXPECT_FALSE(setSdes(packet, 2, "abcd"));
    EXPECT_EQ(wire(packet), before);
    EXPECT_TRUE(setSdes(packet, 2, "ab"));
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, AddRejectsInvalidRequests) {
    auto bytes = withRoom(fromHex(kChromeVideo), 600);
    RtpPacket packet = mustParse(bytes, fromHex(kChromeVideo).size());
    const std::vector<uint8_t> tooLong(256, 1);
    EXPECT_FALSE(packet.addExtension(0, fromHex("01")));
    EXPECT_FALSE(packet.addExtension(3, tooLong));
    EXPECT_FALSE(setSdes(packet, 3, ""));

    const auto foreignWire = fromHex("90600001 00000001 00000002 abcd0001 11223344 0102");
    auto foreign = withRoom(foreignWire, 64);
    RtpPacket other = mustParse(foreign, foreignWire.size());
    EXPECT_FALSE(other.addExtension(1, fromHex("01")));
    EXPECT_FALSE(other.setExtensionForm(ExtensionForm::TwoByte));
    EXPECT_TRUE(other.remapExtensionIds(ExtensionIdMap{}));
    other.removeAllExtensions();
    EXPECT_EQ(other.extensionForm(), ExtensionForm::None);
    EXPECT_EQ(wire(other), fromHex("80600001 00000001 00000002 0102"));
}

TEST(RtpPacketExtensions, HighIdConvertsToTwoByte) {
    const auto original = fromHex(kChromeVideo);
    auto bytes = withRoom(original, 64);
    RtpPacket packet = mustParse(bytes, original.size());

    ASSERT_TRUE(packet.addExtension(20, fromHex("7788")));
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    EXPECT_EQ(packet.extensionProfile(), kTwoByteProfile);
    EXPECT_EQ(toHex(packet.extensionBlock().data(), packet.extensionBlock().size()),
              "0403c46a0b" // abs-send-time
              "05020187"   // transport-cc
              "010130"     // mid
              "14027788"); // the new element, ending on a word boundary
    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}),
              fromHex("9080802a 30b5009d 012a8002 e001"));
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, LongOrEmptyValuesConvertToTwoByte) {
    {
        auto bytes = withRoom(fromHex(kChromeAudio), 64);
        RtpPacket packet = mustParse(bytes, fromHex(kChromeAudio).size());
        ASSERT_TRUE(setSdes(packet, 2, "seventeen-bytes!!"));
        EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
        EXPECT_EQ(readSdes(packet.extension(2)), "seventeen-bytes!!");
        EXPECT_EQ(readAudioLevel(packet.extension(10))->level, 30);
        expectConsistent(packet);
    }
    {
        auto bytes = withRoom(fromHex(kChromeAudio), 64);
        RtpPacket packet = mustParse(bytes, fromHex(kChromeAudio).size());
        ASSERT_TRUE(packet.addExtension(9, {}));
        EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
        EXPECT_TRUE(packet.hasExtension(9));
        EXPECT_TRUE(packet.extension(9).empty());
        expectConsistent(packet);
    }
}

TEST(RtpPacketExtensions, FormConversionsRoundTrip) {
    const auto original = fromHex(kChromeVideo);
    auto bytes = withRoom(original, 64);
    RtpPacket packet = mustParse(bytes, original.size());

    ASSERT_TRUE(packet.setExtensionForm(ExtensionForm::TwoByte));
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    expectConsistent(packet);
    ASSERT_TRUE(packet.setExtensionForm(ExtensionForm::OneByte));
    EXPECT_EQ(wire(packet), original);
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, TwoByteToOneByteOnlyWhenEverythingFits) {
    auto bytes = fromHex(kTwoByteLongValue);
    RtpPacket packet = mustParse(bytes);
    const auto before = wire(packet);
    EXPECT_FALSE(packet.setExtensionForm(ExtensionForm::OneByte)); // 20-byte value, id 200
    EXPECT_EQ(wire(packet), before);

    auto rfc = fromHex(kRfc8285TwoByte);
    RtpPacket empty = mustParse(rfc);
    EXPECT_FALSE(empty.setExtensionForm(ExtensionForm::OneByte)); // id 1 is empty
    ASSERT_TRUE(empty.removeExtension(1));
    ASSERT_TRUE(empty.setExtensionForm(ExtensionForm::OneByte));
    EXPECT_EQ(wire(empty), fromHex("90600002 00000001 00000002 bede0002 20dd33ee eeeeee00 010203"));
    expectConsistent(empty);
}

TEST(RtpPacketExtensions, RemoveLeavesPaddingInPlace) {
    auto bytes = fromHex(kChromeVideo);
    RtpPacket packet = mustParse(bytes);
    const size_t size = packet.size();

    ASSERT_TRUE(packet.removeExtension(5));
    EXPECT_FALSE(packet.removeExtension(5));
    EXPECT_FALSE(packet.hasExtension(5));
    EXPECT_EQ(packet.size(), size);
    EXPECT_EQ(toHex(packet.extensionBlock().data(), packet.extensionBlock().size()),
              "42c46a0b0000001030000000");
    EXPECT_EQ(readSdes(packet.extension(1)), "0");
    expectConsistent(packet);

    ASSERT_TRUE(packet.compactExtensions());
    EXPECT_EQ(packet.size(), size - 4);
    EXPECT_EQ(toHex(packet.extensionBlock().data(), packet.extensionBlock().size()),
              "42c46a0b10300000");
    expectConsistent(packet);

    ASSERT_TRUE(packet.removeExtension(4));
    ASSERT_TRUE(packet.removeExtension(1));
    ASSERT_TRUE(packet.compactExtensions());
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::None);
    EXPECT_FALSE(packet.hasHeaderExtension());
    EXPECT_EQ(packet.headerSize(), 12u);
    EXPECT_EQ(copyOf({packet.payload(), packet.payloadLength()}),
              fromHex("9080802a 30b5009d 012a8002 e001"));
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, RemoveClearsRepeatedIds) {
    auto bytes = fromHex("90600001 00000001 00000002 bede0001 10aa10bb");
    RtpPacket packet = mustParse(bytes);
    ASSERT_TRUE(packet.removeExtension(1));
    EXPECT_FALSE(packet.hasExtension(1));
    EXPECT_EQ(toHex(packet.extensionBlock().data(), 4), "00000000");
}

TEST(RtpPacketExtensions, RemoveAll) {
    auto bytes = fromHex(kChromeAudio);
    RtpPacket packet = mustParse(bytes);
    packet.removeAllExtensions();
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::None);
    EXPECT_EQ(packet.extensionCount(), 0u);
    EXPECT_EQ(wire(packet), fromHex("806f1234 00003c80 11223344 780be4c1 36ecc58d 8c494699 ac"));
    expectConsistent(packet);
    packet.removeAllExtensions(); // nothing left: a no-op
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, EmptyBlockOfAGivenForm) {
    auto bytes = withRoom(fromHex(kFfmpegH264), 16);
    RtpPacket packet = mustParse(bytes, fromHex(kFfmpegH264).size());
    ASSERT_TRUE(packet.setExtensionForm(ExtensionForm::TwoByte));
    EXPECT_EQ(toHex(packet.data(), 16), "90e0000100000000deadbeef10000000");
    ASSERT_TRUE(packet.addExtension(1, fromHex("01")));
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, RemapIdsInPlace) {
    auto bytes = fromHex(kChromeVideo);
    RtpPacket packet = mustParse(bytes);
    const size_t size = packet.size();

    ExtensionIdMap map;
    map.set(1, 3);  // mid
    map.set(4, 2);  // abs-send-time
    map.set(5, 14); // transport-cc
    ASSERT_TRUE(packet.remapExtensionIds(map));
    EXPECT_EQ(packet.size(), size);
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::OneByte);
    EXPECT_EQ(readSdes(packet.extension(3)), "0");
    EXPECT_EQ(readAbsSendTime(packet.extension(2)), 0xc46a0bu);
    EXPECT_EQ(readTransportWideSeq(packet.extension(14)), 391);
    EXPECT_FALSE(packet.hasExtension(1));
    EXPECT_FALSE(packet.hasExtension(4));
    EXPECT_FALSE(packet.hasExtension(5));
    EXPECT_EQ(toHex(packet.extensionBlock().data(), packet.extensionBlock().size()),
              "22c46a0be101873030000000");
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, RemapDropsUnmappedAndCollidingIds) {
    auto bytes = fromHex(kChromeAudio);
    RtpPacket packet = mustParse(bytes);
    ExtensionIdMap map;
    map.set(1, 1);
    map.set(4, 7);
    map.set(10, 7); // collides with abs-send-time: the later element goes
    // 5 stays unmapped: dropped.
    ASSERT_TRUE(packet.remapExtensionIds(map));
    EXPECT_EQ(packet.extensionCount(), 2u);
    EXPECT_EQ(readSdes(packet.extension(1)), "1");
    EXPECT_EQ(readAbsSendTime(packet.extension(7)), 0x0a1b2cu);
    EXPECT_FALSE(packet.hasExtension(10));
    EXPECT_FALSE(packet.hasExtension(5));
    expectConsistent(packet);
}

TEST(RtpPacketExtensions, RemapToHighIdsConvertsToTwoByte) {
    const auto original = fromHex(kChromeVideo);
    auto bytes = withRoom(original, 64);
    RtpPacket packet = mustParse(bytes, original.size());
    ExtensionIdMap map;
    map.set(1, 1);
    map.set(4, 100);
    map.set(5, 5);
    ASSERT_TRUE(packet.remapExtensionIds(map));
    EXPECT_EQ(packet.extensionForm(), ExtensionForm::TwoByte);
    EXPECT_EQ(readAbsSendTime(packet.extension(100)), 0xc46a0bu);
    EXPECT_EQ(readTransportWideSeq(packet.extension(5)), 391);
    EXPECT_EQ(readSdes(packet.extension(1)), "0");
    expectConsistent(packet);

    // Here the two-byte form needs the three bytes of block padding exactly.
    EXPECT_EQ(packet.size(), original.size());

    // Without room for the conversion the packet is left alone: the audio
    // block grows from 12 to 16 bytes.
    auto tight = fromHex(kChromeAudio);
    RtpPacket tightPacket = mustParse(tight);
    EXPECT_FALSE(tightPacket.remapExtensionIds(map));
    EXPECT_EQ(wire(tightPacket), fromHex(kChromeAudio));
}

TEST(RtpPacketExtensions, RemapIsAnInvolutionWhenTheMapIs) {
    auto bytes = fromHex(kChromeVideo);
    RtpPacket packet = mustParse(bytes);
    ExtensionIdMap swap;
    for (const auto& [a, b] : {std::pair<uint8_t, uint8_t>{1, 2}, {4, 8}, {5, 9}}) {
        swap.set(a, b);
        swap.set(b, a);
    }
    ASSERT_TRUE(packet.remapExtensionIds(swap));
    EXPECT_EQ(readAbsSendTime(packet.extension(8)), 0xc46a0bu);
    ASSERT_TRUE(packet.remapExtensionIds(swap));
    EXPECT_EQ(wire(packet), fromHex(kChromeVideo));
}

TEST(RtpPacketExtensions, RandomOperationsStayConsistent) {
    std::mt19937 random(99);
    const auto vectors = {fromHex(kChromeVideo),    fromHex(kChromeAudio),
                          fromHex(kFfmpegH264),     fromHex(kRfc8285OneByte),
                          fromHex(kRfc8285TwoByte), fromHex(kTwoByteLongValue),
                          fromHex(kMixedAudio)};
    for (const auto& vector : vectors) {
        for (int round = 0; round < 300; ++round) {
            auto bytes = withRoom(vector, random() % 300);
            RtpPacket packet = mustParse(bytes, vector.size());
            const auto payload = copyOf({packet.payload(), packet.payloadLength()});
            // A model of what the elements should be.
            std::vector<std::vector<uint8_t>> model(256);
            std::vector<bool> present(256, false);
            for (size_t i = 0; i < packet.extensionCount(); ++i) {
                const auto element = packet.extensionAt(i);
                present[element.id] = true;
                model[element.id] = copyOf(element.value);
            }
            for (int step = 0; step < 20; ++step) {
                const auto id = static_cast<uint8_t>(1 + random() % (random() % 2 ? 14 : 255));
                switch (random() % 4) {
                case 0:
                case 1: {
                    std::vector<uint8_t> value(random() % 20);
                    for (auto& b : value) {
                        b = static_cast<uint8_t>(random());
                    }
                    if (packet.addExtension(id, value)) {
                        present[id] = true;
                        model[id] = value;
                    }
                    break;
                }
                case 2:
                    EXPECT_EQ(packet.removeExtension(id), static_cast<bool>(present[id]));
                    present[id] = false;
                    break;
                case 3:
                    if (packet.setExtensionForm(random() % 2 ? ExtensionForm::OneByte
                                                             : ExtensionForm::TwoByte)) {
                        // Conversions keep every element.
                    }
                    break;
                }
                expectConsistent(packet);
                for (int other = 1; other < 256; ++other) {
                    ASSERT_EQ(packet.hasExtension(static_cast<uint8_t>(other)), present[other])
                        << other;
                    if (present[other]) {
                        ASSERT_EQ(copyOf(packet.extension(static_cast<uint8_t>(other))),
                                  model[other]);
                    }
                }
                ASSERT_EQ(copyOf({packet.payload(), packet.payloadLength()}), payload);
            }
        }
    }
}

TEST(ExtensionTypes, UrisMapBothWays) {
    const std::pair<std::string_view, ExtensionType> expected[] = {
        {"urn:ietf:params:rtp-hdrext:sdes:mid", ExtensionType::Mid},
        {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", ExtensionType::RtpStreamId},
        {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
         ExtensionType::RepairedRtpStreamId},
        {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", ExtensionType::AbsSendTime},
        {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
         ExtensionType::TransportWideCc01},
        {"http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07",
         ExtensionType::FrameMarking07},
        {"urn:ietf:params:rtp-hdrext:framemarking", ExtensionType::FrameMarking},
        {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", ExtensionType::SsrcAudioLevel},
        {"urn:3gpp:video-orientation", ExtensionType::VideoOrientation},
        {"urn:ietf:params:rtp-hdrext:toffset", ExtensionType::TimeOffset},
    };
    for (const auto& [text, type] : expected) {
        EXPECT_EQ(extensionTypeFromUri(text), type) << text;
        EXPECT_EQ(extensionTypeToUri(type), text);
    }
    EXPECT_EQ(extensionTypeFromUri("urn:ietf:params:rtp-hdrext:sdes:MID"), ExtensionType::Unknown);
    EXPECT_EQ(extensionTypeFromUri(""), ExtensionType::Unknown);
    EXPECT_EQ(extensionTypeToUri(ExtensionType::Unknown), "");
    EXPECT_EQ(static_cast<int>(ExtensionType::TimeOffset), 12);
}

TEST(ExtensionTypes, IdsPerType) {
    ExtensionIds ids;
    EXPECT_EQ(ids.get(ExtensionType::Mid), 0);
    ids.set(ExtensionType::Mid, 1);
    ids.set(ExtensionType::TimeOffset, 12);
    ids.set(ExtensionType::Unknown, 9);
    EXPECT_EQ(ids.get(ExtensionType::Mid), 1);
    EXPECT_EQ(ids.get(ExtensionType::TimeOffset), 12);
    EXPECT_EQ(ids.get(ExtensionType::Unknown), 0);
    ids.clear();
    EXPECT_EQ(ids.get(ExtensionType::Mid), 0);
}

TEST(TypedExtensions, Sdes) {
    EXPECT_EQ(readSdes(bytesOf("abc")), "abc");
    EXPECT_EQ(readSdes(fromHex("61620000")), "ab"); // NUL padded
    EXPECT_FALSE(readSdes(fromHex("00")).has_value());
    EXPECT_FALSE(readSdes({}).has_value());
}

TEST(TypedExtensions, FixedSizesAreEnforced) {
    EXPECT_FALSE(readAbsSendTime(fromHex("0102")).has_value());
    EXPECT_FALSE(readAbsSendTime(fromHex("01020304")).has_value());
    EXPECT_FALSE(readTransportWideSeq(fromHex("01")).has_value());
    EXPECT_FALSE(readAudioLevel(fromHex("0102")).has_value());
    EXPECT_FALSE(readVideoOrientation({}).has_value());
    EXPECT_FALSE(readTimeOffset(fromHex("0102")).has_value());
    EXPECT_FALSE(readFrameMarking({}).has_value());
    EXPECT_FALSE(readFrameMarking(fromHex("01020304")).has_value());

    std::vector<uint8_t> two(2);
    EXPECT_FALSE(writeAbsSendTime(two, 1));
    EXPECT_TRUE(writeTransportWideSeq(two, 0x1234));
    EXPECT_EQ(two, fromHex("1234"));
    EXPECT_FALSE(writeAudioLevel(two, {}));
    EXPECT_FALSE(writeVideoOrientation(two, {}));
    EXPECT_FALSE(writeTimeOffset(two, 0));
}

TEST(TypedExtensions, AbsSendTime) {
    std::vector<uint8_t> value(3);
    ASSERT_TRUE(writeAbsSendTime(value, 0xff123456)); // only 24 bits
    EXPECT_EQ(value, fromHex("123456"));
    EXPECT_EQ(readAbsSendTime(value), 0x123456u);
}

TEST(TypedExtensions, AudioLevel) {
    std::vector<uint8_t> value(1);
    ASSERT_TRUE(writeAudioLevel(value, {false, 127}));
    EXPECT_EQ(value[0], 0x7f);
    ASSERT_TRUE(writeAudioLevel(value, {true, 0}));
    EXPECT_EQ(value[0], 0x80);
    const auto level = readAudioLevel(fromHex("9e"));
    EXPECT_TRUE(level->voiceActivity);
    EXPECT_EQ(level->level, 30);
    EXPECT_FALSE(readAudioLevel(fromHex("1e"))->voiceActivity);
}

TEST(TypedExtensions, VideoOrientation) {
    const uint16_t rotations[] = {0, 90, 180, 270};
    for (uint8_t byte = 0; byte < 16; ++byte) {
        const auto orientation = readVideoOrientation(std::vector<uint8_t>{byte});
        ASSERT_TRUE(orientation.has_value());
        EXPECT_EQ(orientation->camera, (byte & 8) != 0);
        EXPECT_EQ(orientation->flip, (byte & 4) != 0);
        EXPECT_EQ(orientation->rotation, rotations[byte & 3]);
        std::vector<uint8_t> written(1);
        ASSERT_TRUE(writeVideoOrientation(written, *orientation));
        EXPECT_EQ(written[0], byte);
    }
    std::vector<uint8_t> written(1);
    ASSERT_TRUE(writeVideoOrientation(written, {false, false, 360}));
    EXPECT_EQ(written[0], 0);
    // Bits above the defined four are ignored.
    EXPECT_EQ(readVideoOrientation(fromHex("f1"))->rotation, 90);
}

TEST(TypedExtensions, TimeOffsetIsSigned24Bit) {
    EXPECT_EQ(readTimeOffset(fromHex("000000")), 0);
    EXPECT_EQ(readTimeOffset(fromHex("7fffff")), 0x7fffff);
    EXPECT_EQ(readTimeOffset(fromHex("800000")), -0x800000);
    EXPECT_EQ(readTimeOffset(fromHex("ffffff")), -1);
    std::vector<uint8_t> value(3);
    ASSERT_TRUE(writeTimeOffset(value, -90000));
    EXPECT_EQ(readTimeOffset(value), -90000);
    ASSERT_TRUE(writeTimeOffset(value, 4500));
    EXPECT_EQ(value, fromHex("001194"));
}

TEST(TypedExtensions, FrameMarking) {
    // Short form: start, independent, TID 0.
    auto marking = readFrameMarking(fromHex("a0"));
    ASSERT_TRUE(marking.has_value());
    EXPECT_TRUE(marking->startOfFrame);
    EXPECT_FALSE(marking->endOfFrame);
    EXPECT_TRUE(marking->independent);
    EXPECT_FALSE(marking->discardable);
    EXPECT_EQ(marking->size, 1);

    // Scalable form: end, discardable, base layer sync, TID 2, LID 1, TL0PICIDX 0x55.
    marking = readFrameMarking(fromHex("5a 01 55"));
    ASSERT_TRUE(marking.has_value());
    EXPECT_FALSE(marking->startOfFrame);
    EXPECT_TRUE(marking->endOfFrame);
    EXPECT_FALSE(marking->independent);
    EXPECT_TRUE(marking->discardable);
    EXPECT_TRUE(marking->baseLayerSync);
    EXPECT_EQ(marking->temporalId, 2);
    EXPECT_EQ(marking->layerId, 1);
    EXPECT_EQ(marking->tl0PicIdx, 0x55);
    EXPECT_EQ(marking->size, 3);

    std::vector<uint8_t> value(3);
    ASSERT_TRUE(writeFrameMarking(value, *marking));
    EXPECT_EQ(value, fromHex("5a0155"));

    auto bytes = withRoom(fromHex(kChromeVideo), 16);
    RtpPacket packet = mustParse(bytes, fromHex(kChromeVideo).size());
    ASSERT_TRUE(setFrameMarking(packet, 7, *marking));
    EXPECT_EQ(copyOf(packet.extension(7)), fromHex("5a0155"));
    FrameMarking bad;
    bad.size = 4;
    EXPECT_FALSE(setFrameMarking(packet, 7, bad));
    expectConsistent(packet);
}

} // namespace
} // namespace sfu::rtp::test
