#include "protocol/codecs/Codecs.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace sfu::codecs;
using sfu::test::fromHex;

TEST(CodecDispatch, MimeTypesAnyCase) {
    EXPECT_EQ(codecFromMimeType("video/VP8"), Codec::Vp8);
    EXPECT_EQ(codecFromMimeType("video/vp8"), Codec::Vp8);
    EXPECT_EQ(codecFromMimeType("VIDEO/Vp9"), Codec::Vp9);
    EXPECT_EQ(codecFromMimeType("video/h264"), Codec::H264);
    EXPECT_EQ(codecFromMimeType("audio/opus"), Codec::Opus);
    EXPECT_EQ(codecFromMimeType("audio/OPUS"), Codec::Opus);
    for (const char* m : {"", "video/VP8 ", "audio/VP8", "video/opus", "video/H265", "video/AV1",
                          "video/rtx", "audio/PCMU", "VP8", "video/VP88"}) {
        EXPECT_EQ(codecFromMimeType(m), Codec::Unknown) << m;
        EXPECT_FALSE(canParse(std::string_view(m))) << m;
    }
    EXPECT_TRUE(canParse("Video/H264"));
    EXPECT_EQ(mimeTypeOf(Codec::Vp9), "video/VP9");
    EXPECT_EQ(mimeTypeOf(Codec::Opus), "audio/opus");
    EXPECT_EQ(mimeTypeOf(Codec::Unknown), "");
    EXPECT_TRUE(isVideo(Codec::H264));
    EXPECT_FALSE(isVideo(Codec::Opus));
}

TEST(CodecDispatch, ParsesEachCodec) {
    const auto vp8 = fromHex("90 80 80 00 b0 ba 00 9d 01 2a 80 02 e0 01 00 07");
    auto info = parsePayload(Codec::Vp8, vp8.data(), vp8.size());
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->isKeyFrame);
    EXPECT_TRUE(info->isStartOfFrame);
    EXPECT_TRUE(info->hasFrameSize);
    EXPECT_EQ(info->width, 640);
    EXPECT_EQ(info->height, 480);
    EXPECT_TRUE(isKeyFrame(codecFromMimeType("video/vp8"), vp8.data(), vp8.size()));

    const auto vp9 = fromHex("ea 80 07 45 03 86 00 40");
    info = parsePayload(Codec::Vp9, vp9.data(), vp9.size());
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->isKeyFrame);
    EXPECT_TRUE(info->hasLayers);
    EXPECT_EQ(info->spatialLayer, 2);
    EXPECT_EQ(info->temporalLayer, 2);

    const auto h264 = fromHex("7c 85 88 84 04 2f");
    EXPECT_TRUE(isKeyFrame(Codec::H264, h264.data(), h264.size()));
    const auto slice = fromHex("41 9a 60 17");
    FrameMarking fm;
    fm.startOfFrame = true;
    fm.temporalId = 1;
    info = parsePayload(Codec::H264, slice.data(), slice.size(), &fm);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->hasLayers);
    EXPECT_EQ(info->temporalLayer, 1);
    EXPECT_TRUE(info->isStartOfFrame);
    EXPECT_FALSE(info->isKeyFrame);
    const auto fuEnd = fromHex("7c 45 37 f7");
    info = parsePayload(Codec::H264, fuEnd.data(), fuEnd.size());
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->isStartOfFrame);

    const auto dtx = fromHex("78");
    info = parsePayload(Codec::Opus, dtx.data(), dtx.size());
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->isDtx);
    EXPECT_FALSE(info->isKeyFrame);

    EXPECT_FALSE(parsePayload(Codec::Unknown, vp8.data(), vp8.size()));
    EXPECT_FALSE(parsePayload(Codec::Vp8, vp8.data(), 0));
    EXPECT_FALSE(isKeyFrame(Codec::Vp9, nullptr, 0));
}

TEST(CodecEncodingContext, Vp8RewritesThroughTheWrapper) {
    EncodingContext ctx(Codec::Vp8);
    EXPECT_EQ(ctx.codec(), Codec::Vp8);
    ctx.setTargetLayers(0, 0);
    // TL0 key picture 10, TL1 picture 11 (dropped), TL0 picture 12 sent as 11.
    auto k = fromHex("90 e0 80 0a 01 00 b0 ba 00 9d 01 2a 80 02 e0 01");
    auto t1 = fromHex("90 e0 80 0b 01 60 b1 2d 00");
    auto t0 = fromHex("90 e0 80 0c 02 00 b1 2d 00");
    auto r = ctx.process(k.data(), k.size());
    EXPECT_TRUE(r.parsed && r.forward && r.isKeyFrame);
    r = ctx.process(t1.data(), t1.size());
    EXPECT_TRUE(r.parsed);
    EXPECT_FALSE(r.forward);
    r = ctx.process(t0.data(), t0.size());
    EXPECT_TRUE(r.forward);
    EXPECT_EQ(t0[3], 0x0b);
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
    EXPECT_EQ(ctx.currentSpatialLayer(), 0);
    // Malformed payloads are forwarded untouched, flagged as not parsed.
    auto bad = fromHex("90 e0 80");
    r = ctx.process(bad.data(), bad.size());
    EXPECT_FALSE(r.parsed);
    EXPECT_TRUE(r.forward);
}

TEST(CodecEncodingContext, Vp9MarkerThroughTheWrapper) {
    EncodingContext ctx(Codec::Vp9);
    ctx.setTargetLayers(0, 7);
    auto s0 = fromHex("ac 80 05 00 00 82 49 83 42 00 15 f0 11 f6");
    auto s1 = fromHex("ac 80 05 03 00 86 00");
    auto r = ctx.process(s0.data(), s0.size());
    EXPECT_TRUE(r.forward && r.setMarker && r.isKeyFrame);
    r = ctx.process(s1.data(), s1.size());
    EXPECT_FALSE(r.forward);
    EXPECT_EQ(ctx.currentSpatialLayer(), 0);
    ctx.requestSync();
    EXPECT_EQ(ctx.currentSpatialLayer(), -1);
}

TEST(CodecEncodingContext, H264AndAudioAndUnknown) {
    EncodingContext h(Codec::H264);
    h.setTargetLayers(0, 0);
    auto slice = fromHex("41 9a 60 17");
    FrameMarking fm;
    fm.startOfFrame = true;
    fm.temporalId = 1;
    auto r = h.process(slice.data(), slice.size(), &fm);
    EXPECT_TRUE(r.parsed);
    EXPECT_FALSE(r.forward);
    // Without frame marking there is nothing to filter on.
    r = h.process(slice.data(), slice.size());
    EXPECT_TRUE(r.forward);
    EXPECT_EQ(h.currentTemporalLayer(), -1);
    h.requestSync(); // nothing to resync in H.264

    EncodingContext o(Codec::Opus);
    auto toc = fromHex("fc 01 02");
    r = o.process(toc.data(), toc.size());
    EXPECT_TRUE(r.parsed && r.forward);
    EXPECT_FALSE(r.isKeyFrame);
    o.setTargetLayers(3, 3);
    EXPECT_EQ(o.currentTemporalLayer(), 0);

    EncodingContext u;
    r = u.process(toc.data(), toc.size());
    EXPECT_FALSE(r.parsed);
    EXPECT_TRUE(r.forward);
}
