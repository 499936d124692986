#include "protocol/codecs/H264.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <vector>

using sfu::codecs::FrameMarking;
using sfu::test::fromHex;
using namespace sfu::codecs::h264;

namespace {

// Captured from ffmpeg 5.1 (libx264, baseline, 640x360, zerolatency).
// The first packet of the stream is a STAP-A with SPS, PPS and x264's long
// SEI; here it is cut down to the SPS and PPS units, sizes unchanged.
const char* kStapASpsPps = "18"
                           " 00 19 67 42 c0 1e d9 00 a0 2f f9 70 11 00 00 03 00 01 00 00 03 00 3c"
                           " 8f 16 2e 48"
                           " 00 04 68 cb 8c b2";
// FU-A carrying an IDR slice: first, then last fragment (cut).
const char* kFuAIdrStart = "7c 85 88 84 04 2f 26 28 00 0b 6f c9 c9 c9 c9 c4";
const char* kFuAIdrEnd = "7c 45 37 f7 c6 51 dc 0b d0 98 22 3b";
// A single NAL unit packet with a non-IDR slice (cut).
const char* kSingleSlice = "41 9a 60 17 bc 4f 85 c1 57 09 30 34 10 f4 3d ff";

// SPS units written by libx264 through ffmpeg for the sizes named.
const char* kSps1080pHigh = "67 64 00 28 ac d9 40 78 02 27 e5 c0 44 00 00 03 00 04 00 00 03 00 c8"
                            " 3c 60 c6 58";
const char* kSps720pBaseline = "67 42 c0 1f d9 00 50 05 bb 01 10 00 00 03 00 10 00 00 03 03 20 f1"
                               " 83 24 80";
const char* kSps1917x1079High444 = "67 f4 00 28 91 9b 28 0f 00 44 f2 45 60 22 00 00 03 00 02 00 00"
                                   " 03 00 64 1e 30 63 2c";
const char* kSps576iHigh = "67 64 00 1e ac d9 40 b4 24 d8 08 80 00 00 03 00 80 00 00 19 0f 8a 14"
                           " cb";

} // namespace

TEST(H264Payload, StapAWithSpsAndPps) {
    const auto p = fromHex(kStapASpsPps);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->packetization, Packetization::StapA);
    EXPECT_EQ(d->nalCount, 2);
    EXPECT_EQ(d->nalType, kNalSps);
    EXPECT_TRUE(d->hasSps);
    EXPECT_TRUE(d->hasPps);
    EXPECT_FALSE(d->hasIdr);
    EXPECT_TRUE(d->isKeyFrame);
    ASSERT_TRUE(d->hasFrameSize);
    EXPECT_EQ(d->width, 640);
    EXPECT_EQ(d->height, 360); // 23 macroblock rows, 8 lines cropped
    EXPECT_EQ(d->temporalLayer(), 0);
    EXPECT_EQ(d->spatialLayer(), 0);
}

TEST(H264Payload, FuAIdrFragments) {
    const auto s = fromHex(kFuAIdrStart);
    const auto d = PayloadDescriptor::parse(s.data(), s.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->packetization, Packetization::FuA);
    EXPECT_EQ(d->nri, 3);
    EXPECT_TRUE(d->fuStart);
    EXPECT_FALSE(d->fuEnd);
    EXPECT_EQ(d->nalType, kNalIdr);
    EXPECT_TRUE(d->hasIdr);
    EXPECT_TRUE(d->isKeyFrame);

    const auto e = fromHex(kFuAIdrEnd);
    const auto de = PayloadDescriptor::parse(e.data(), e.size());
    ASSERT_TRUE(de);
    EXPECT_FALSE(de->fuStart);
    EXPECT_TRUE(de->fuEnd);
    EXPECT_EQ(de->nalType, kNalIdr);
    // Decoding cannot start in the middle of a NAL unit.
    EXPECT_FALSE(de->hasIdr);
    EXPECT_FALSE(de->isKeyFrame);
}

TEST(H264Payload, SingleNalSlice) {
    const auto p = fromHex(kSingleSlice);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->packetization, Packetization::SingleNal);
    EXPECT_EQ(d->nalType, kNalSlice);
    EXPECT_EQ(d->nalCount, 1);
    EXPECT_FALSE(d->isKeyFrame);
}

TEST(H264Payload, SingleNalSpsAndIdr) {
    const auto sps = fromHex(kSps720pBaseline);
    const auto d = PayloadDescriptor::parse(sps.data(), sps.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->hasSps);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_EQ(d->width, 1280);
    EXPECT_EQ(d->height, 720);

    const auto idr = fromHex("65 88 84 04 2f 26");
    const auto di = PayloadDescriptor::parse(idr.data(), idr.size());
    ASSERT_TRUE(di);
    EXPECT_TRUE(di->hasIdr);
    EXPECT_TRUE(di->isKeyFrame);
    EXPECT_FALSE(di->hasFrameSize);
}

TEST(H264Payload, FuBStartIsRead) {
    // FU-B: indicator type 29, header S + IDR, then a decoding order number.
    const auto p = fromHex("7d 85 00 07 88 84 04");
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->packetization, Packetization::FuB);
    EXPECT_TRUE(d->isKeyFrame);
}

TEST(H264Payload, StapAWithIdrAfterParameterSets) {
    // SPS, PPS and a (cut) IDR slice in one STAP-A.
    const auto p = fromHex("78 00 19 67 42 c0 1e d9 00 a0 2f f9 70 11 00 00 03 00 01 00 00 03 00 3c"
                           " 8f 16 2e 48 00 04 68 cb 8c b2 00 03 65 88 84");
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->nalCount, 3);
    EXPECT_TRUE(d->hasIdr);
    EXPECT_TRUE(d->hasSps);
    EXPECT_TRUE(d->isKeyFrame);
}

TEST(H264Sps, SizesFromRealEncoders) {
    struct Case {
        const char* sps;
        uint8_t profile;
        uint16_t width;
        uint16_t height;
    };
    const Case cases[] = {
        {kSps1080pHigh, 100, 1920, 1080},        // 68 rows, 8 lines cropped
        {kSps720pBaseline, 66, 1280, 720},       //
        {kSps1917x1079High444, 244, 1917, 1079}, // 4:4:4, crop in luma samples
        {kSps576iHigh, 100, 720, 576},           // interlaced: map units are field pairs
    };
    for (const auto& c : cases) {
        const auto b = fromHex(c.sps);
        const auto s = parseSps(b.data(), b.size());
        ASSERT_TRUE(s) << c.sps;
        EXPECT_EQ(s->profileIdc, c.profile) << c.sps;
        EXPECT_EQ(s->width, c.width) << c.sps;
        EXPECT_EQ(s->height, c.height) << c.sps;
    }
}

TEST(H264Sps, RejectsWrongTypeAndTruncation) {
    const auto pps = fromHex("68 cb 8c b2");
    EXPECT_FALSE(parseSps(pps.data(), pps.size()));
    EXPECT_FALSE(parseSps(nullptr, 5));
    const auto full = fromHex(kSps1080pHigh);
    // Every prefix: no crash, and never a size from a cut SPS beyond the
    // crop fields (the last bytes hold VUI, which is not needed).
    for (size_t n = 0; n < full.size(); ++n) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
        const auto s = parseSps(cut.data(), cut.size());
        if (s) {
            EXPECT_EQ(s->width, 1920);
            EXPECT_EQ(s->height, 1080);
        }
    }
    // Exp-Golomb codes longer than 32 bits: all zeros after the ids.
    const auto zeros = fromHex("67 64 00 28 00 00 00 00 00 00 00 00 00 00");
    EXPECT_FALSE(parseSps(zeros.data(), zeros.size()));
}

TEST(H264Payload, RejectsMalformed) {
    for (const char* h : {
             "",                  // empty
             "00 11",             // NAL type 0
             "1e 11",             // type 30
             "1f 11",             // type 31
             "19 00 01 41",       // STAP-B
             "1a 00 00 00 01 41", // MTAP16
             "1b 00",             // MTAP24
             "18",                // STAP-A without units
             "18 00",             // size cut
             "18 00 00",          // empty unit
             "18 00 05 41 9a",    // unit longer than the packet
             "18 00 02 41 9a 00", // trailing octet
             "18 00 02 5c 85",    // a FU inside a STAP-A
             "18 00 01 18",       // a STAP-A inside a STAP-A
             "7c 85",             // FU-A without data
             "7c",                // FU-A without header
             "7c c5 11",          // FU-A start and end at once
             "7c 9c 11",          // FU-A of a FU-A
             "7c 80 11",          // FU-A of type 0
             "7d 85 00 07",       // FU-B without data
         }) {
        const auto p = fromHex(h);
        EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size())) << h;
    }
    EXPECT_FALSE(PayloadDescriptor::parse(nullptr, 3));
}

TEST(H264Payload, EveryTruncationIsSafe) {
    for (const char* h : {kStapASpsPps, kFuAIdrStart, kFuAIdrEnd, kSingleSlice, kSps576iHigh}) {
        const auto full = fromHex(h);
        for (size_t n = 0; n <= full.size(); ++n) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            const auto d = PayloadDescriptor::parse(cut.data(), cut.size());
            // A STAP-A only adds up when cut at a unit boundary.
            if (d && d->packetization == Packetization::StapA) {
                EXPECT_TRUE(n == 28 || n == full.size()) << n;
                EXPECT_EQ(d->nalCount, n == 28 ? 1 : 2);
            }
        }
    }
}

TEST(H264FrameMarking, LayerInfo) {
    FrameMarking fm;
    fm.startOfFrame = true;
    fm.independent = true;
    fm.temporalId = 2;
    fm.hasLayerId = true;
    fm.layerId = 0x23; // DID 2, QID 3
    fm.hasTl0PicIdx = true;
    fm.tl0PicIdx = 77;
    const LayerInfo l = layerInfo(fm);
    EXPECT_EQ(l.temporalLayer, 2);
    EXPECT_EQ(l.spatialLayer, 2);
    EXPECT_EQ(l.qualityLayer, 3);
    EXPECT_TRUE(l.hasTl0PicIdx);
    EXPECT_EQ(l.tl0PicIdx, 77);
    EXPECT_TRUE(l.isKeyFrame);
    EXPECT_TRUE(l.switchingUpPoint);
    EXPECT_TRUE(l.isStartOfFrame);
    EXPECT_FALSE(l.isEndOfFrame);

    FrameMarking shortForm;
    shortForm.endOfFrame = true;
    shortForm.discardable = true;
    shortForm.temporalId = 1;
    const LayerInfo s = layerInfo(shortForm);
    EXPECT_EQ(s.spatialLayer, 0);
    EXPECT_FALSE(s.hasTl0PicIdx);
    EXPECT_FALSE(s.isKeyFrame);
    EXPECT_FALSE(s.switchingUpPoint);
    EXPECT_TRUE(s.discardable);
    EXPECT_TRUE(s.isEndOfFrame);
}

TEST(H264FrameMarking, MarksKeyFrameAndLayersInDescriptor) {
    FrameMarking fm;
    fm.startOfFrame = true;
    fm.independent = true;
    const auto p = fromHex(kSingleSlice); // the payload alone says non-IDR
    const auto d = PayloadDescriptor::parse(p.data(), p.size(), fm);
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->hasFrameMarking);
    EXPECT_TRUE(d->isKeyFrame);

    fm.independent = false;
    fm.temporalId = 2;
    const auto d2 = PayloadDescriptor::parse(p.data(), p.size(), fm);
    ASSERT_TRUE(d2);
    EXPECT_FALSE(d2->isKeyFrame);
    EXPECT_EQ(d2->temporalLayer(), 2);
}

namespace {

bool sendFrame(EncodingContext& ctx, uint8_t tid, bool independent, bool baseSync,
               bool start = true) {
    FrameMarking fm;
    fm.startOfFrame = start;
    fm.endOfFrame = !start;
    fm.independent = independent;
    fm.baseLayerSync = baseSync;
    fm.temporalId = tid;
    const auto p = fromHex(independent ? kFuAIdrStart : kSingleSlice);
    const auto d = PayloadDescriptor::parse(p.data(), p.size(), fm);
    EXPECT_TRUE(d.has_value());
    return d && ctx.process(*d);
}

} // namespace

TEST(H264Context, FiltersTemporalLayers) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(0);
    EXPECT_TRUE(sendFrame(ctx, 0, true, false));
    EXPECT_FALSE(sendFrame(ctx, 2, false, true));
    EXPECT_FALSE(sendFrame(ctx, 1, false, true));
    EXPECT_TRUE(sendFrame(ctx, 0, false, false));
    ctx.setTargetTemporalLayer(2);
    // Up only at a base layer sync frame.
    EXPECT_FALSE(sendFrame(ctx, 1, false, false));
    EXPECT_TRUE(sendFrame(ctx, 1, false, true));
    EXPECT_TRUE(sendFrame(ctx, 1, false, true, false)); // rest of that frame
    EXPECT_EQ(ctx.currentTemporalLayer(), 1);
    EXPECT_TRUE(sendFrame(ctx, 2, false, true));
    EXPECT_EQ(ctx.currentTemporalLayer(), 2);
    // Down at the next frame start.
    ctx.setTargetTemporalLayer(1);
    EXPECT_TRUE(sendFrame(ctx, 2, false, true, false));
    EXPECT_FALSE(sendFrame(ctx, 2, false, true));
    EXPECT_EQ(ctx.currentTemporalLayer(), 1);
    // A key frame opens every layer up to the target.
    ctx.setTargetTemporalLayer(0);
    EXPECT_TRUE(sendFrame(ctx, 0, false, false));
    ctx.setTargetTemporalLayer(2);
    EXPECT_TRUE(sendFrame(ctx, 0, true, false));
    EXPECT_TRUE(sendFrame(ctx, 2, false, false));
}

TEST(H264Context, WithoutFrameMarkingEverythingPasses) {
    EncodingContext ctx;
    ctx.setTargetTemporalLayer(0);
    const auto p = fromHex(kSingleSlice);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(ctx.process(*d));
    ctx.setTargetTemporalLayer(99);
    EXPECT_EQ(ctx.targetTemporalLayer(), EncodingContext::kMaxTemporalLayer);
}
