#include "protocol/codecs/Vp8.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

using sfu::codecs::vp8::EncodingContext;
using sfu::codecs::vp8::PayloadDescriptor;
using sfu::test::concat;
using sfu::test::fromHex;

namespace {

// Captured from ffmpeg 5.1 (libvpx, 640x480): RTP payloads, cut after the
// first bytes of VP8 data. ffmpeg sends X=1, I=1 with a 15-bit picture id.
const char* kFfmpegKeyFrameStart = "90 80 80 00 b0 ba 00 9d 01 2a 80 02 e0 01 00 07 08 85 85 88";
const char* kFfmpegKeyFrameMiddle = "80 80 80 00 49 a1 97 35 87 e8 79 a6 d4 37";
const char* kFfmpegInterFrameStart = "90 80 80 01 b1 2d 00 01 10 10 00 1e d7 9d 6e 87";

// VP8 payload headers from the same capture, behind the descriptors that
// libwebrtc writes for temporal layers (X, then I with M=1, L and T).
const char* kKeyHeader = "b0 ba 00 9d 01 2a 80 02 e0 01 00 07 08 85";
const char* kInterHeader = "b1 2d 00 01 10 10 00 1e d7 9d";

std::vector<uint8_t> packet(uint16_t pictureId, uint8_t tl0, uint8_t tid, bool layerSync,
                            bool keyFrame, bool start = true) {
    std::vector<uint8_t> p = {static_cast<uint8_t>(start ? 0x90 : 0x80),
                              0xE0,
                              static_cast<uint8_t>(0x80 | (pictureId >> 8)),
                              static_cast<uint8_t>(pictureId),
                              tl0,
                              static_cast<uint8_t>((tid << 6) | (layerSync ? 0x20 : 0x00))};
    return concat(p, fromHex(start && keyFrame ? kKeyHeader : kInterHeader));
}

struct Sent {
    uint16_t pictureId;
    uint8_t tl0;
};

// Runs one packet through the context; nullopt when dropped.
std::optional<Sent> send(EncodingContext& ctx, std::vector<uint8_t> p) {
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    EXPECT_TRUE(d.has_value());
    if (!d || !ctx.process(*d, p.data(), p.size())) {
        return std::nullopt;
    }
    const auto out = PayloadDescriptor::parse(p.data(), p.size());
    EXPECT_TRUE(out.has_value());
    return Sent{out->pictureId, out->tl0PicIdx};
}

} // namespace

TEST(Vp8Descriptor, FfmpegKeyFrameStart) {
    const auto p = fromHex(kFfmpegKeyFrameStart);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->extended);
    EXPECT_TRUE(d->startOfPartition);
    EXPECT_EQ(d->partitionIndex, 0);
    EXPECT_FALSE(d->nonReference);
    EXPECT_TRUE(d->hasPictureId);
    EXPECT_TRUE(d->pictureIdIs15Bit);
    EXPECT_EQ(d->pictureId, 0);
    EXPECT_FALSE(d->hasTl0PicIdx);
    EXPECT_FALSE(d->hasTid);
    EXPECT_FALSE(d->hasKeyIdx);
    EXPECT_EQ(d->headerLength, 4);
    EXPECT_TRUE(d->isStartOfFrame);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_TRUE(d->showFrame);
    EXPECT_EQ(d->version, 0);
    EXPECT_EQ(d->width, 640);
    EXPECT_EQ(d->height, 480);
    EXPECT_EQ(d->horizontalScale, 0);
    EXPECT_EQ(d->verticalScale, 0);
    EXPECT_EQ(d->spatialLayer(), 0);
    EXPECT_EQ(d->temporalLayer(), 0);
}

TEST(Vp8Descriptor, FfmpegContinuationAndInterFrame) {
    const auto mid = fromHex(kFfmpegKeyFrameMiddle);
    const auto d = PayloadDescriptor::parse(mid.data(), mid.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->startOfPartition);
    EXPECT_FALSE(d->isStartOfFrame);
    EXPECT_FALSE(d->isKeyFrame);
    EXPECT_EQ(d->pictureId, 0);

    const auto inter = fromHex(kFfmpegInterFrameStart);
    const auto d2 = PayloadDescriptor::parse(inter.data(), inter.size());
    ASSERT_TRUE(d2);
    EXPECT_TRUE(d2->isStartOfFrame);
    EXPECT_FALSE(d2->isKeyFrame); // P bit set
    EXPECT_EQ(d2->pictureId, 1);
}

TEST(Vp8Descriptor, MinimalDescriptorWithoutExtension) {
    // RFC 7741: X=0, a single octet, then the VP8 payload header.
    const auto p = concat(fromHex("10"), fromHex(kKeyHeader));
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->extended);
    EXPECT_FALSE(d->hasPictureId);
    EXPECT_EQ(d->headerLength, 1);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_EQ(d->width, 640);
}

TEST(Vp8Descriptor, AllExtensionFields) {
    // X I L T K, 15-bit picture id 0x1234, TL0PICIDX 0x56, TID 2, Y, KEYIDX 17.
    const auto p = concat(fromHex("b3 f0 92 34 56 b1"), fromHex(kInterHeader));
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->nonReference);
    EXPECT_EQ(d->partitionIndex, 3);
    EXPECT_FALSE(d->isStartOfFrame); // PID is not 0
    EXPECT_EQ(d->pictureId, 0x1234);
    EXPECT_EQ(d->tl0PicIdx, 0x56);
    EXPECT_EQ(d->tid, 2);
    EXPECT_TRUE(d->layerSync);
    EXPECT_EQ(d->keyIdx, 17);
    EXPECT_EQ(d->pictureIdOffset, 2);
    EXPECT_EQ(d->tl0PicIdxOffset, 4);
    EXPECT_EQ(d->headerLength, 6);
    EXPECT_EQ(d->temporalLayer(), 2);
}

TEST(Vp8Descriptor, SevenBitPictureIdAndKeyIdxOnly) {
    // I with M=0 (7-bit id 0x55), K without T: the octet is there, TID is not.
    const auto p = concat(fromHex("90 90 55 c5"), fromHex(kInterHeader));
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->pictureIdIs15Bit);
    EXPECT_EQ(d->pictureId, 0x55);
    EXPECT_FALSE(d->hasTid);
    EXPECT_EQ(d->tid, 0);
    EXPECT_TRUE(d->hasKeyIdx);
    EXPECT_EQ(d->keyIdx, 5);
    EXPECT_EQ(d->headerLength, 4);
}

TEST(Vp8Descriptor, KeyFrameNeedsWholeHeaderAndStartCode) {
    // P=0 but only 5 bytes of header: no key frame, no size.
    auto p = fromHex("90 80 80 00 b0 ba 00 9d 01");
    auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->isKeyFrame);
    EXPECT_EQ(d->width, 0);
    // Wrong start code.
    p = fromHex("90 80 80 00 b0 ba 00 9d 01 2b 80 02 e0 01");
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->isKeyFrame);
    // Key frame header in a packet that does not start the frame.
    p = fromHex("80 80 80 00 b0 ba 00 9d 01 2a 80 02 e0 01");
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->isKeyFrame);
}

TEST(Vp8Descriptor, ScaledKeyFrame) {
    // 1280x720 with horizontal scale 1 and vertical scale 2 in the top bits.
    const auto p = fromHex("10 b0 ba 00 9d 01 2a 00 45 d0 82");
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_EQ(d->width, 1280);
    EXPECT_EQ(d->horizontalScale, 1);
    EXPECT_EQ(d->height, 720);
    EXPECT_EQ(d->verticalScale, 2);
}

TEST(Vp8Descriptor, RejectsTruncatedAndEmpty) {
    EXPECT_FALSE(PayloadDescriptor::parse(nullptr, 10));
    const uint8_t one = 0x90;
    EXPECT_FALSE(PayloadDescriptor::parse(&one, 0));
    // Descriptor alone, no VP8 data.
    for (const char* h : {"10", "90", "90 80", "90 80 80", "90 80 80 00", "90 e0 92 34 56 20",
                          "90 40", "90 20", "90 10"}) {
        const auto p = fromHex(h);
        EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size())) << h;
    }
}

TEST(Vp8Descriptor, EveryTruncationIsSafe) {
    for (const char* h : {kFfmpegKeyFrameStart, kFfmpegKeyFrameMiddle, kFfmpegInterFrameStart,
                          "b3 f0 92 34 56 b1 b1 2d 00"}) {
        const auto full = fromHex(h);
        for (size_t n = 0; n <= full.size(); ++n) {
            // A copy of exactly n bytes, so a read past it is caught by ASan.
            std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            const auto d = PayloadDescriptor::parse(cut.data(), cut.size());
            if (d) {
                EXPECT_LT(d->headerLength, n);
                EXPECT_FALSE(d->writePictureId(cut.data(), cut.size(), 0x7FFF) &&
                             d->pictureIdOffset + (d->pictureIdIs15Bit ? 2u : 1u) > n);
            }
        }
    }
}

TEST(Vp8Descriptor, HostileBytes) {
    // Every combination of the first two octets over a short buffer.
    for (unsigned b0 = 0; b0 < 256; ++b0) {
        for (unsigned b1 = 0; b1 < 256; ++b1) {
            const std::vector<uint8_t> p = {static_cast<uint8_t>(b0), static_cast<uint8_t>(b1),
                                            0xFF, 0xFF};
            const auto d = PayloadDescriptor::parse(p.data(), p.size());
            if (d) {
                EXPECT_LT(d->headerLength, p.size());
            }
        }
    }
}

TEST(Vp8Descriptor, RewriteKeepsFieldWidth) {
    auto p = concat(fromHex("90 e0 92 34 56 20"), fromHex(kInterHeader));
    auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->writePictureId(p.data(), p.size(), 0x7ABC));
    EXPECT_TRUE(d->writeTl0PicIdx(p.data(), p.size(), 0x99));
    EXPECT_EQ(p[2], 0xFA);
    EXPECT_EQ(p[3], 0xBC);
    EXPECT_EQ(p[4], 0x99);
    EXPECT_EQ(p[5], 0x20); // untouched

    p = concat(fromHex("90 80 55"), fromHex(kInterHeader));
    d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->writePictureId(p.data(), p.size(), 0x1FF));
    EXPECT_EQ(p[2], 0x7F); // M stays 0, low 7 bits
    EXPECT_FALSE(d->writeTl0PicIdx(p.data(), p.size(), 1));

    // A length shorter than the descriptor claims is refused.
    p = concat(fromHex("90 e0 92 34 56 20"), fromHex(kInterHeader));
    d = PayloadDescriptor::parse(p.data(), p.size());
    EXPECT_FALSE(d->writePictureId(p.data(), 3, 1));
    EXPECT_FALSE(d->writeTl0PicIdx(p.data(), 4, 1));
}

// L1T3 as libwebrtc sends it: TIDs 0 2 1 2 repeating, TL0PICIDX counting
// base layer pictures.
TEST(Vp8Context, ForwardsEverythingUnchangedAtTopLayer) {
    EncodingContext ctx;
    const uint8_t tids[] = {0, 2, 1, 2, 0, 2, 1, 2};
    uint8_t tl0 = 40;
    for (uint16_t i = 0; i < 8; ++i) {
        if (tids[i] == 0 && i > 0) {
            ++tl0;
        }
        const auto s =
            send(ctx, packet(static_cast<uint16_t>(300 + i), tl0, tids[i], tids[i] != 0, i == 0));
        ASSERT_TRUE(s) << i;
        EXPECT_EQ(s->pictureId, 300 + i);
        EXPECT_EQ(s->tl0, tl0);
    }
    EXPECT_EQ(ctx.currentTemporalLayer(), 2);
}

TEST(Vp8Context, DropsUpperLayersAndKeepsPictureIdsContinuous) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(0);
    const uint8_t tids[] = {0, 2, 1, 2, 0, 2, 1, 2, 0};
    uint16_t expected = 300;
    uint8_t tl0 = 40;
    for (uint16_t i = 0; i < 9; ++i) {
        if (tids[i] == 0 && i > 0) {
            ++tl0;
        }
        // Two packets per picture: both must share the decision and the id.
        const auto first =
            send(ctx, packet(static_cast<uint16_t>(300 + i), tl0, tids[i], true, i == 0));
        const auto second =
            send(ctx, packet(static_cast<uint16_t>(300 + i), tl0, tids[i], true, false, false));
        if (tids[i] != 0) {
            EXPECT_FALSE(first) << i;
            EXPECT_FALSE(second) << i;
            continue;
        }
        ASSERT_TRUE(first) << i;
        ASSERT_TRUE(second) << i;
        EXPECT_EQ(first->pictureId, expected);
        EXPECT_EQ(second->pictureId, expected);
        EXPECT_EQ(first->tl0, tl0);
        ++expected;
    }
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
}

TEST(Vp8Context, UpgradesOnlyOnLayerSyncOrAfterKeyFrame) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(0);
    ASSERT_TRUE(send(ctx, packet(10, 1, 0, false, true)));
    EXPECT_FALSE(send(ctx, packet(11, 1, 1, true, false)));
    ctx.setTargetTemporalLayer(1);
    // TL1 without Y refers to an earlier TL1 picture the receiver never got.
    EXPECT_FALSE(send(ctx, packet(12, 1, 1, false, false)));
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
    const auto up = send(ctx, packet(13, 1, 1, true, false));
    ASSERT_TRUE(up);
    EXPECT_EQ(up->pictureId, 11); // 10 sent, 11 and 12 dropped
    EXPECT_EQ(ctx.currentTemporalLayer(), 1);
    EXPECT_TRUE(send(ctx, packet(14, 1, 1, false, false)));

    // After a key frame every layer up to the target may start at once.
    ctx.setTargetTemporalLayer(0);
    EXPECT_FALSE(send(ctx, packet(15, 1, 1, false, false)));
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
    ctx.setTargetTemporalLayer(2);
    ASSERT_TRUE(send(ctx, packet(16, 2, 0, false, true)));
    EXPECT_TRUE(send(ctx, packet(17, 2, 2, false, false)));
    EXPECT_EQ(ctx.currentTemporalLayer(), 2);
}

TEST(Vp8Context, DowngradeAppliesFromNextPicture) {
    EncodingContext ctx;
    ASSERT_TRUE(send(ctx, packet(10, 1, 0, false, true)));
    ASSERT_TRUE(send(ctx, packet(11, 1, 2, true, false, true)));
    ctx.setTargetTemporalLayer(0);
    // The rest of picture 11 still goes, so the receiver gets it whole.
    EXPECT_TRUE(send(ctx, packet(11, 1, 2, true, false, false)));
    EXPECT_FALSE(send(ctx, packet(12, 1, 1, true, false)));
    const auto next = send(ctx, packet(13, 2, 0, false, false));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->pictureId, 12);
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
}

TEST(Vp8Context, LatePacketsOfGapPicturesKeepTheirPlace) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(1);
    ASSERT_TRUE(send(ctx, packet(100, 1, 0, false, true)));
    // 101 (TL1) and 102 (TL2) are late; 103 (TL0) arrives first.
    const auto p103 = send(ctx, packet(103, 2, 0, false, false));
    ASSERT_TRUE(p103);
    EXPECT_EQ(p103->pictureId, 103);
    const auto p101 = send(ctx, packet(101, 1, 1, true, false));
    ASSERT_TRUE(p101);
    EXPECT_EQ(p101->pictureId, 101);
    // Over the target: dropped, leaving a hole at 102.
    EXPECT_FALSE(send(ctx, packet(102, 1, 2, true, false)));
    const auto p104 = send(ctx, packet(104, 2, 1, false, false));
    ASSERT_TRUE(p104);
    EXPECT_EQ(p104->pictureId, 104);
    // Retransmissions of a forwarded picture get the same id again.
    const auto again = send(ctx, packet(101, 1, 1, true, false, false));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->pictureId, 101);
    // Far older than the window: cannot be placed, dropped.
    EXPECT_FALSE(send(ctx, packet(static_cast<uint16_t>(104 - 200), 0, 0, false, false)));
}

TEST(Vp8Context, SyncContinuesIdsAcrossStreams) {
    EncodingContext ctx;
    ASSERT_TRUE(send(ctx, packet(500, 7, 0, false, true)));
    ASSERT_TRUE(send(ctx, packet(501, 7, 1, true, false)));
    ASSERT_TRUE(send(ctx, packet(502, 8, 0, false, false)));
    // A simulcast switch to a stream with its own numbering.
    ctx.requestSync();
    const auto k = send(ctx, packet(20000, 200, 0, false, true));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->pictureId, 503);
    EXPECT_EQ(k->tl0, 9);
    const auto n = send(ctx, packet(20001, 200, 1, true, false));
    ASSERT_TRUE(n);
    EXPECT_EQ(n->pictureId, 504);
    EXPECT_EQ(n->tl0, 9);
    const auto m = send(ctx, packet(20002, 201, 0, false, false));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->pictureId, 505);
    EXPECT_EQ(m->tl0, 10);
}

TEST(Vp8Context, PictureIdWrapsInBothWidths) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(0);
    ASSERT_TRUE(send(ctx, packet(0x7FFE, 1, 0, false, true)));
    EXPECT_FALSE(send(ctx, packet(0x7FFF, 1, 1, true, false)));
    const auto w = send(ctx, packet(0x0000, 2, 0, false, false));
    ASSERT_TRUE(w);
    EXPECT_EQ(w->pictureId, 0x7FFF);
    const auto w2 = send(ctx, packet(0x0001, 3, 0, false, false));
    ASSERT_TRUE(w2);
    EXPECT_EQ(w2->pictureId, 0x0000);

    // 7-bit ids (M=0) wrap at 128.
    EncodingContext narrow;
    narrow.setTargetTemporalLayer(0);
    auto seven = [](uint8_t id, uint8_t tid) {
        return concat({0x90, 0xE0, id, 0x05, static_cast<uint8_t>(tid << 6)},
                      fromHex(kInterHeader));
    };
    ASSERT_TRUE(send(narrow, seven(126, 0)));
    EXPECT_FALSE(send(narrow, seven(127, 2)));
    const auto a = send(narrow, seven(0, 0));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->pictureId, 127);
    const auto b = send(narrow, seven(1, 0));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->pictureId, 0);
}

TEST(Vp8Context, WithoutPictureIdFiltersPerPacket) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(1);
    // X with T only.
    auto p0 = concat(fromHex("90 20 00"), fromHex(kInterHeader));
    auto p2 = concat(fromHex("90 20 80"), fromHex(kInterHeader));
    auto d0 = PayloadDescriptor::parse(p0.data(), p0.size());
    auto d2 = PayloadDescriptor::parse(p2.data(), p2.size());
    ASSERT_TRUE(d0 && d2);
    EXPECT_TRUE(ctx.process(*d0, p0.data(), p0.size()));
    EXPECT_FALSE(ctx.process(*d2, p2.data(), p2.size()));
    // No layer information at all: everything goes.
    auto plain = fromHex(kFfmpegInterFrameStart);
    auto dp = PayloadDescriptor::parse(plain.data(), plain.size());
    ASSERT_TRUE(dp);
    EXPECT_TRUE(ctx.process(*dp, plain.data(), plain.size()));
}

TEST(Vp8Context, TargetIsClamped) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(200);
    EXPECT_EQ(ctx.targetTemporalLayer(), EncodingContext::kMaxTemporalLayer);
}
