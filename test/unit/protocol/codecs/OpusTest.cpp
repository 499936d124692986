#include "protocol/codecs/Opus.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <vector>

using sfu::test::fromHex;
using namespace sfu::codecs::opus;

namespace {

// Captured from ffmpeg 5.1 (libopus), cut where the framing allows it.
// 64 kbit/s stereo music: CELT fullband 20 ms, one frame.
const char* kCeltFbStereo = "fc b4 06 5a a7 b5 e1 fd 0b be 00 7f f9 07 72 84";
// 12 kbit/s voice at 16 kHz with 60 ms frames: SILK wideband 60 ms, mono.
const char* kSilkWb60 = "58 88 83 0c 43 b9 45 fb e3 77 c1 bb";

} // namespace

TEST(OpusToc, CeltFullbandStereo) {
    const auto p = fromHex(kCeltFbStereo);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->config, 31);
    EXPECT_EQ(d->mode, Mode::Celt);
    EXPECT_EQ(d->bandwidth, Bandwidth::Fullband);
    EXPECT_TRUE(d->stereo);
    EXPECT_EQ(d->frameCountCode, 0);
    EXPECT_EQ(d->frameCount, 1);
    EXPECT_EQ(d->frameDurationUs, 20'000u);
    EXPECT_EQ(d->packetDurationUs, 20'000u);
    EXPECT_FALSE(d->isDtx);
    EXPECT_FALSE(d->isKeyFrame);
}

TEST(OpusToc, SilkWideband60ms) {
    const auto p = fromHex(kSilkWb60);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->config, 11);
    EXPECT_EQ(d->mode, Mode::Silk);
    EXPECT_EQ(d->bandwidth, Bandwidth::Wideband);
    EXPECT_FALSE(d->stereo);
    EXPECT_EQ(d->frameDurationUs, 60'000u);
}

TEST(OpusToc, EveryConfig) {
    // RFC 6716 table 2.
    const Mode modes[32] = {
        Mode::Silk,   Mode::Silk,   Mode::Silk, Mode::Silk, Mode::Silk, Mode::Silk,   Mode::Silk,
        Mode::Silk,   Mode::Silk,   Mode::Silk, Mode::Silk, Mode::Silk, Mode::Hybrid, Mode::Hybrid,
        Mode::Hybrid, Mode::Hybrid, Mode::Celt, Mode::Celt, Mode::Celt, Mode::Celt,   Mode::Celt,
        Mode::Celt,   Mode::Celt,   Mode::Celt, Mode::Celt, Mode::Celt, Mode::Celt,   Mode::Celt,
        Mode::Celt,   Mode::Celt,   Mode::Celt, Mode::Celt};
    using B = Bandwidth;
    const Bandwidth bws[32] = {
        B::Narrowband,    B::Narrowband,    B::Narrowband,    B::Narrowband,    B::Mediumband,
        B::Mediumband,    B::Mediumband,    B::Mediumband,    B::Wideband,      B::Wideband,
        B::Wideband,      B::Wideband,      B::SuperWideband, B::SuperWideband, B::Fullband,
        B::Fullband,      B::Narrowband,    B::Narrowband,    B::Narrowband,    B::Narrowband,
        B::Wideband,      B::Wideband,      B::Wideband,      B::Wideband,      B::SuperWideband,
        B::SuperWideband, B::SuperWideband, B::SuperWideband, B::Fullband,      B::Fullband,
        B::Fullband,      B::Fullband};
    const uint32_t durations[32] = {10000, 20000, 40000, 60000, 10000, 20000, 40000, 60000,
                                    10000, 20000, 40000, 60000, 10000, 20000, 10000, 20000,
                                    2500,  5000,  10000, 20000, 2500,  5000,  10000, 20000,
                                    2500,  5000,  10000, 20000, 2500,  5000,  10000, 20000};
    for (uint8_t config = 0; config < 32; ++config) {
        const std::vector<uint8_t> p = {static_cast<uint8_t>(config << 3), 0xAA, 0xBB};
        const auto d = PayloadDescriptor::parse(p.data(), p.size());
        ASSERT_TRUE(d) << int(config);
        EXPECT_EQ(d->mode, modes[config]) << int(config);
        EXPECT_EQ(d->bandwidth, bws[config]) << int(config);
        EXPECT_EQ(d->frameDurationUs, durations[config]) << int(config);
    }
}

TEST(OpusToc, Dtx) {
    // WebRTC's DTX packets: the TOC alone, or TOC and one octet.
    for (const char* h : {"78", "78 00", "fc ff"}) {
        const auto p = fromHex(h);
        const auto d = PayloadDescriptor::parse(p.data(), p.size());
        ASSERT_TRUE(d) << h;
        EXPECT_TRUE(d->isDtx) << h;
    }
    const auto p = fromHex("78 00 01");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size())->isDtx);
}

TEST(OpusFraming, CodeOneAndTwo) {
    // Code 1: two frames of equal size, so an even number of octets.
    auto p = fromHex("fd 11 22 33 44");
    auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->frameCount, 2);
    EXPECT_EQ(d->packetDurationUs, 40'000u);
    p = fromHex("fd 11 22 33");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));

    // Code 2: first frame 3 octets, second takes the rest.
    p = fromHex("fe 03 aa bb cc dd ee");
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->frameCount, 2);
    EXPECT_TRUE(d->vbr);
    // First frame longer than what is there.
    p = fromHex("fe 07 aa bb");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));
    // Two-octet length cut short.
    p = fromHex("fe fc");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));
    // Two-octet length: 252 + 4 * 0 = 252, then 252 octets and a 1-octet frame.
    p = fromHex("fe fc 00");
    p.resize(3 + 252 + 1, 0x55);
    EXPECT_TRUE(PayloadDescriptor::parse(p.data(), p.size()));
}

TEST(OpusFraming, CodeThree) {
    // As libopus packs 40 ms of CELT 20 ms CBR: count octet 0x42 (padding,
    // M=2), one padding length octet (1), two 4-octet frames, 1 padding octet.
    auto p = fromHex("df 42 01 11 22 33 44 55 66 77 88 00");
    auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->config, 27);
    EXPECT_EQ(d->bandwidth, Bandwidth::SuperWideband);
    EXPECT_TRUE(d->stereo);
    EXPECT_EQ(d->frameCountCode, 3);
    EXPECT_EQ(d->frameCount, 2);
    EXPECT_FALSE(d->vbr);
    EXPECT_EQ(d->paddingLength, 2);
    EXPECT_EQ(d->packetDurationUs, 40'000u);
    // CBR data not a multiple of M.
    p = fromHex("df 42 01 11 22 33 44 55 66 77 00");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));

    // VBR, three SILK 20 ms frames of 2, 1 and 3 octets.
    p = fromHex("4b 83 02 01 aa bb cc dd ee ff");
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->frameCount, 3);
    EXPECT_TRUE(d->vbr);
    EXPECT_EQ(d->packetDurationUs, 60'000u);
    // Lengths that add up to more than the packet.
    p = fromHex("4b 83 05 01 aa bb cc");
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));

    // Padding of 254 + 3 octets announced by 0xff 0x03.
    p = fromHex("fb 41 ff 03 11");
    p.resize(p.size() + 257, 0);
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->paddingLength, 259);
    EXPECT_EQ(d->frameCount, 1);
}

TEST(OpusFraming, RejectsMalformed) {
    for (const char* h : {
             "",            // R1: no TOC
             "fb",          // code 3 without count octet
             "fb 00",       // R5: no frames
             "fb 07",       // R5: 7 x 20 ms = 140 ms
             "1b 04",       // R5: 4 x 60 ms SILK
             "fb 41",       // padding flag, no padding length
             "fb 41 05 00", // padding longer than the packet
             "fb 41 ff",    // 255 needs another length octet
             "fb 82 05 11", // VBR: first of two frames longer than the rest
         }) {
        const auto p = fromHex(h);
        EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size())) << h;
    }
    // One VBR frame has no length octet and takes all the rest.
    const auto one = fromHex("fb 81 01");
    EXPECT_TRUE(PayloadDescriptor::parse(one.data(), one.size()));
    EXPECT_FALSE(PayloadDescriptor::parse(nullptr, 2));
    // R2: a code 0 frame over 1275 octets.
    std::vector<uint8_t> big(1 + 1276, 0);
    big[0] = 0xFC;
    EXPECT_FALSE(PayloadDescriptor::parse(big.data(), big.size()));
    big.pop_back();
    EXPECT_TRUE(PayloadDescriptor::parse(big.data(), big.size()));
}

TEST(OpusFraming, EveryTruncationIsSafe) {
    for (const char* h : {kCeltFbStereo, kSilkWb60, "df 42 01 11 22 33 44 55 66 77 88 00",
                          "4b 83 02 01 aa bb cc dd ee ff", "fe 03 aa bb cc dd ee"}) {
        const auto full = fromHex(h);
        for (size_t n = 0; n <= full.size(); ++n) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            const auto d = PayloadDescriptor::parse(cut.data(), cut.size());
            if (n == 0) {
                EXPECT_FALSE(d);
            }
            if (d) {
                EXPECT_LE(d->packetDurationUs, 120'000u);
            }
        }
    }
}
