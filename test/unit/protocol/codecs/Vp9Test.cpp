#include "protocol/codecs/Vp9.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

using sfu::codecs::vp9::EncodingContext;
using sfu::codecs::vp9::PayloadDescriptor;
using sfu::test::concat;
using sfu::test::fromHex;

namespace {

// Captured from ffmpeg 5.1 (libvpx-vp9, realtime). ffmpeg's packetizer sets
// only B and E: no picture id, no layer indices, and no P bit even on inter
// frames, so its packets cannot tell key frames apart by the descriptor.
// 352x288 yuv420p, profile 0, key frame, first packet:
const char* kFfmpegKeyProfile0 = "08 82 49 83 42 00 15 f0 11 f6 08 38 24 1c 18 42 00 08 40 7f";
// 320x240 gbrp (RGB), profile 1, key frame, first packet:
const char* kFfmpegKeyProfile1 = "08 a2 49 83 42 e0 13 f0 0e f6 08 38 24 1c 18 42 00 0a 00 7f";
// Inter frame in a single packet (B and E):
const char* kFfmpegInterFrame = "0c 86 00 40 92 f0 51 25 00 00 34 64 03 ef 7c 70";
// A middle packet of the key frame:
const char* kFfmpegMiddle = "00 63 a0 b2 22 91 f7 ed 68 47 0c 79";

// A libwebrtc-style L3T3 key frame in non-flexible mode: I (15-bit id 1),
// L (TID 0, SID 0), TL0PICIDX 0, B, V; SS for three spatial layers at
// 320x180, 640x360, 1280x720 and the four-picture group T0 T2 T1 T2; then
// the VP9 data of the profile 0 key frame above.
const char* kSvcKeyFrame = "aa 80 01 00 00"
                           " 58 01 40 00 b4 02 80 01 68 05 00 02 d0"
                           " 04 04 04 54 01 34 02 54 01"
                           " 82 49 83 42 00 15 f0 11 f6";

// Flexible mode: I P L F B, id 0x0123, TID 1 U SID 1 D, two P_DIFFs (1, 2).
const char* kFlexible = "f8 81 23 33 03 04 86 00 40 92";

// Non-flexible packet for the layer tests. Flags: B, E, P, U, D.
std::vector<uint8_t> packet(uint16_t pictureId, uint8_t tid, uint8_t sid, bool inter, bool begin,
                            bool end, bool switchUp = false, bool dependsOnLower = false,
                            uint8_t tl0 = 0) {
    const auto b0 = static_cast<uint8_t>(0x80 | 0x20 | (inter ? 0x40 : 0) | (begin ? 0x08 : 0) |
                                         (end ? 0x04 : 0));
    const auto l = static_cast<uint8_t>((tid << 5) | (switchUp ? 0x10 : 0) | (sid << 1) |
                                        (dependsOnLower ? 1 : 0));
    return {b0,
            static_cast<uint8_t>(0x80 | (pictureId >> 8)),
            static_cast<uint8_t>(pictureId),
            l,
            tl0,
            0x86,
            0x00,
            0x40};
}

struct Sent {
    bool forwarded = false;
    bool marker = false;
    uint16_t pictureId = 0;
    uint8_t tl0 = 0;
};

Sent send(EncodingContext& ctx, std::vector<uint8_t> p) {
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    EXPECT_TRUE(d.has_value());
    if (!d) {
        return {};
    }
    const auto r = ctx.process(*d, p.data(), p.size());
    Sent s;
    s.forwarded = r.forward;
    s.marker = r.setMarker;
    const auto out = PayloadDescriptor::parse(p.data(), p.size());
    s.pictureId = out->pictureId;
    s.tl0 = out->tl0PicIdx;
    return s;
}

// One picture of a three-layer full SVC stream, one packet per layer frame.
// Returns, per spatial layer, whether it was forwarded and with a marker.
struct PictureResult {
    bool fwd[3];
    bool marker[3];
};
PictureResult sendSvcPicture(EncodingContext& ctx, uint16_t id, bool key, uint8_t tid = 0,
                             bool switchUp = false) {
    PictureResult r{};
    for (uint8_t sid = 0; sid < 3; ++sid) {
        const auto s = send(ctx, packet(id, tid, sid, !key, true, true, switchUp, sid > 0));
        r.fwd[sid] = s.forwarded;
        r.marker[sid] = s.marker;
    }
    return r;
}

} // namespace

TEST(Vp9Descriptor, FfmpegKeyFrameProfile0) {
    const auto p = fromHex(kFfmpegKeyProfile0);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->hasPictureId);
    EXPECT_FALSE(d->hasLayerIndices);
    EXPECT_TRUE(d->startOfLayerFrame);
    EXPECT_FALSE(d->endOfLayerFrame);
    EXPECT_EQ(d->headerLength, 1);
    EXPECT_TRUE(d->isKeyFrame);
    ASSERT_TRUE(d->hasFrameSize);
    EXPECT_EQ(d->profile, 0);
    EXPECT_EQ(d->width, 352);
    EXPECT_EQ(d->height, 288);
}

TEST(Vp9Descriptor, FfmpegKeyFrameProfile1Rgb) {
    const auto p = fromHex(kFfmpegKeyProfile1);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->isKeyFrame);
    ASSERT_TRUE(d->hasFrameSize);
    EXPECT_EQ(d->profile, 1);
    EXPECT_EQ(d->width, 320);
    EXPECT_EQ(d->height, 240);
}

TEST(Vp9Descriptor, FfmpegInterFrameAndMiddle) {
    const auto p = fromHex(kFfmpegInterFrame);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->startOfLayerFrame);
    EXPECT_TRUE(d->endOfLayerFrame);
    // The descriptor is what receivers go by; ffmpeg's lacks the P bit.
    EXPECT_TRUE(d->isKeyFrame);
    // The uncompressed header says inter frame: no size.
    EXPECT_FALSE(d->hasFrameSize);

    const auto m = fromHex(kFfmpegMiddle);
    const auto dm = PayloadDescriptor::parse(m.data(), m.size());
    ASSERT_TRUE(dm);
    EXPECT_FALSE(dm->startOfLayerFrame);
    EXPECT_FALSE(dm->isKeyFrame);
}

TEST(Vp9Descriptor, SvcKeyFrameWithScalabilityStructure) {
    const auto p = fromHex(kSvcKeyFrame);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->hasPictureId);
    EXPECT_TRUE(d->pictureIdIs15Bit);
    EXPECT_EQ(d->pictureId, 1);
    EXPECT_TRUE(d->hasLayerIndices);
    EXPECT_FALSE(d->flexibleMode);
    EXPECT_EQ(d->tid, 0);
    EXPECT_EQ(d->sid, 0);
    EXPECT_TRUE(d->hasTl0PicIdx);
    EXPECT_EQ(d->tl0PicIdx, 0);
    EXPECT_EQ(d->pictureIdOffset, 1);
    EXPECT_EQ(d->tl0PicIdxOffset, 4);
    ASSERT_TRUE(d->hasScalabilityStructure);
    const auto& ss = d->ss;
    EXPECT_EQ(ss.numSpatialLayers, 3);
    EXPECT_TRUE(ss.hasResolutions);
    EXPECT_EQ(ss.widths[0], 320);
    EXPECT_EQ(ss.heights[0], 180);
    EXPECT_EQ(ss.widths[1], 640);
    EXPECT_EQ(ss.heights[1], 360);
    EXPECT_EQ(ss.widths[2], 1280);
    EXPECT_EQ(ss.heights[2], 720);
    ASSERT_TRUE(ss.hasPictureGroups);
    ASSERT_EQ(ss.numPictureGroups, 4);
    EXPECT_EQ(ss.storedPictureGroups(), 4);
    const uint8_t tids[] = {0, 2, 1, 2};
    const uint8_t diffs[] = {4, 1, 2, 1};
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(ss.pictureGroups[i].tid, tids[i]);
        EXPECT_EQ(ss.pictureGroups[i].switchingUpPoint, i != 0);
        EXPECT_EQ(ss.pictureGroups[i].numRefs, 1);
        EXPECT_EQ(ss.pictureGroups[i].pDiffs[0], diffs[i]);
    }
    EXPECT_EQ(d->headerLength, 27);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_TRUE(d->hasFrameSize);
    EXPECT_EQ(d->width, 352);
}

TEST(Vp9Descriptor, FlexibleModeReferences) {
    const auto p = fromHex(kFlexible);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->flexibleMode);
    EXPECT_TRUE(d->interPicturePredicted);
    EXPECT_EQ(d->pictureId, 0x0123);
    EXPECT_EQ(d->tid, 1);
    EXPECT_TRUE(d->switchingUpPoint);
    EXPECT_EQ(d->sid, 1);
    EXPECT_TRUE(d->interLayerDependency);
    EXPECT_FALSE(d->hasTl0PicIdx);
    ASSERT_EQ(d->numPDiffs, 2);
    EXPECT_EQ(d->pDiffs[0], 1);
    EXPECT_EQ(d->pDiffs[1], 2);
    EXPECT_EQ(d->headerLength, 6);
    EXPECT_FALSE(d->isKeyFrame);
    EXPECT_EQ(d->spatialLayer(), 1);
    EXPECT_EQ(d->temporalLayer(), 1);
}

TEST(Vp9Descriptor, SevenBitIdAndNotUsedForInterLayer) {
    const auto p = fromHex("a5 7f 40 09 86 00");
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->pictureIdIs15Bit);
    EXPECT_EQ(d->pictureId, 0x7F);
    EXPECT_TRUE(d->notUsedForInterLayerPrediction);
    EXPECT_TRUE(d->endOfLayerFrame);
    EXPECT_EQ(d->tid, 2);
    EXPECT_EQ(d->tl0PicIdx, 9);
}

TEST(Vp9Descriptor, LargePictureGroupIsValidatedButCapped) {
    // SS with G only and N_G = 40 entries of TID 1, U, R=1.
    std::vector<uint8_t> p = {0x8A, 0x05, 0x08, 40};
    for (int i = 0; i < 40; ++i) {
        p.push_back(0x34);
        p.push_back(static_cast<uint8_t>(i + 1));
    }
    p.push_back(0x86);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ss.numSpatialLayers, 1);
    EXPECT_EQ(d->ss.numPictureGroups, 40);
    EXPECT_EQ(d->ss.storedPictureGroups(), 16);
    EXPECT_EQ(d->ss.pictureGroups[15].pDiffs[0], 16);
    EXPECT_EQ(d->headerLength, p.size() - 1);
    // One byte short of the last P_DIFF.
    p.pop_back();
    p.pop_back();
    EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size()));
}

TEST(Vp9Descriptor, RejectsHostileDescriptors) {
    for (const char* h : {
             "",                  // empty
             "80",                // I without id
             "80 80",             // 15-bit id cut
             "a0 05",             // L without layer octet
             "a0 05 00",          // non-flexible L without TL0PICIDX
             "d8 05 03 05 07",    // three P_DIFFs all saying another follows
             "d8 05 03",          // N=1 and nothing after
             "8a 05 f0",          // SS with Y for 8 layers, no resolutions
             "8a 05 08",          // SS with G, no N_G
             "8a 05 08 02 0c 01", // group entry with R=3 and one P_DIFF
             "88 05",             // valid descriptor but no frame data
         }) {
        const auto p = fromHex(h);
        EXPECT_FALSE(PayloadDescriptor::parse(p.data(), p.size())) << h;
    }
    EXPECT_FALSE(PayloadDescriptor::parse(nullptr, 4));
}

TEST(Vp9Descriptor, EveryTruncationIsSafe) {
    for (const char* h :
         {kFfmpegKeyProfile0, kFfmpegKeyProfile1, kFfmpegInterFrame, kSvcKeyFrame, kFlexible}) {
        const auto full = fromHex(h);
        for (size_t n = 0; n <= full.size(); ++n) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            const auto d = PayloadDescriptor::parse(cut.data(), cut.size());
            if (d) {
                EXPECT_LT(d->headerLength, n);
                uint8_t* data = cut.data();
                d->writePictureId(data, cut.size(), 0x7FFF);
                d->writeTl0PicIdx(data, cut.size(), 0xFF);
            }
        }
    }
}

TEST(Vp9Descriptor, KeyFrameSizeNeedsWholeHeader) {
    // The profile 0 key frame cut inside the height field.
    const auto p = fromHex("08 82 49 83 42 00 15 f0 11");
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->isKeyFrame);
    EXPECT_FALSE(d->hasFrameSize);
    // Bad sync code.
    const auto q = fromHex("08 82 49 83 43 00 15 f0 11 f6");
    const auto dq = PayloadDescriptor::parse(q.data(), q.size());
    ASSERT_TRUE(dq);
    EXPECT_FALSE(dq->hasFrameSize);
}

TEST(Vp9Descriptor, Rewrite) {
    auto p = fromHex(kSvcKeyFrame);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->writePictureId(p.data(), p.size(), 0x4321));
    EXPECT_TRUE(d->writeTl0PicIdx(p.data(), p.size(), 77));
    const auto r = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pictureId, 0x4321);
    EXPECT_EQ(r->tl0PicIdx, 77);
    EXPECT_EQ(r->ss.widths[2], 1280);

    auto f = fromHex(kFfmpegInterFrame);
    const auto df = PayloadDescriptor::parse(f.data(), f.size());
    ASSERT_TRUE(df);
    EXPECT_FALSE(df->writePictureId(f.data(), f.size(), 1));
    EXPECT_FALSE(df->writeTl0PicIdx(f.data(), f.size(), 1));
}

TEST(Vp9Context, NothingBeforeKeyFrame) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(2);
    EXPECT_FALSE(sendSvcPicture(ctx, 5, false).fwd[0]);
    EXPECT_EQ(ctx.currentSpatialLayer(), -1);
    const auto k = sendSvcPicture(ctx, 6, true);
    EXPECT_TRUE(k.fwd[0] && k.fwd[1] && k.fwd[2]);
    EXPECT_FALSE(k.marker[0] || k.marker[1]);
    EXPECT_TRUE(k.marker[2]);
    EXPECT_EQ(ctx.currentSpatialLayer(), 2);
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
}

TEST(Vp9Context, ScalabilityStructureCapsTheCurrentLayer) {
    EncodingContext ctx;
    auto p = fromHex(kSvcKeyFrame);
    const auto d = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(d);
    const auto r = ctx.process(*d, p.data(), p.size());
    EXPECT_TRUE(r.forward);
    // Three layers in the SS: the default target (all) means layer 2, so the
    // end of layer 0 gets no marker of ours.
    EXPECT_EQ(ctx.currentSpatialLayer(), 2);
    EXPECT_FALSE(r.setMarker);
}

TEST(Vp9Context, SpatialTargetDropsUpperLayersAndMovesMarker) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(1);
    for (uint16_t id = 10; id < 14; ++id) {
        const auto r = sendSvcPicture(ctx, id, id == 10);
        EXPECT_TRUE(r.fwd[0]);
        EXPECT_TRUE(r.fwd[1]);
        EXPECT_FALSE(r.fwd[2]);
        EXPECT_FALSE(r.marker[0]);
        EXPECT_TRUE(r.marker[1]);
    }
    EXPECT_EQ(ctx.currentSpatialLayer(), 1);
}

TEST(Vp9Context, SpatialUpgradeWaitsForKeyFrame) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    sendSvcPicture(ctx, 1, true);
    ctx.setTargetSpatialLayer(2);
    // Upper layers of inter pictures refer to earlier frames of their layer.
    auto r = sendSvcPicture(ctx, 2, false);
    EXPECT_TRUE(r.fwd[0]);
    EXPECT_FALSE(r.fwd[1]);
    EXPECT_FALSE(r.fwd[2]);
    EXPECT_EQ(ctx.currentSpatialLayer(), 0);
    r = sendSvcPicture(ctx, 3, true);
    EXPECT_TRUE(r.fwd[0] && r.fwd[1] && r.fwd[2]);
    EXPECT_EQ(ctx.currentSpatialLayer(), 2);
}

TEST(Vp9Context, NoSpatialUpgradeOutsideKeyPictures) {
    // A layer frame with P=0 and D=1 in an inter picture depends only on the
    // layer below, but that layer already ended the picture with a marker.
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    sendSvcPicture(ctx, 1, true);
    ctx.setTargetSpatialLayer(1);
    const auto s0 = send(ctx, packet(2, 0, 0, true, true, true));
    EXPECT_TRUE(s0.forwarded);
    EXPECT_TRUE(s0.marker);
    EXPECT_FALSE(send(ctx, packet(2, 0, 1, false, true, true, false, true)).forwarded);
    EXPECT_EQ(ctx.currentSpatialLayer(), 0);
}

// Full SVC and K-SVC alike: the upper layer is dropped from the next
// picture on, key frame or not, the marker moving to the new top layer.
TEST(Vp9Context, DowngradeAtNextPicture) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(2);
    sendSvcPicture(ctx, 1, true);
    ctx.setTargetSpatialLayer(1);
    auto r = sendSvcPicture(ctx, 2, false);
    EXPECT_TRUE(r.fwd[0] && r.fwd[1]);
    EXPECT_FALSE(r.fwd[2]);
    EXPECT_TRUE(r.marker[1]);
    EXPECT_EQ(ctx.currentSpatialLayer(), 1);
    ctx.setTargetSpatialLayer(0);
    r = sendSvcPicture(ctx, 3, false);
    EXPECT_TRUE(r.fwd[0]);
    EXPECT_FALSE(r.fwd[1] || r.fwd[2]);
    EXPECT_TRUE(r.marker[0]);
    EXPECT_EQ(ctx.currentSpatialLayer(), 0);
}

TEST(Vp9Context, TemporalLayersSwitchAtSwitchingUpPoints) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    ctx.setTargetTemporalLayer(0);
    // L1T3: T0 T2 T1 T2 ...; U set on the T1 and T2 pictures.
    const uint8_t tids[] = {0, 2, 1, 2, 0, 2, 1, 2, 0};
    for (uint16_t i = 0; i < 5; ++i) {
        const auto s = send(ctx, packet(100 + i, tids[i], 0, i != 0, true, true, tids[i] != 0,
                                        false, static_cast<uint8_t>(i / 4)));
        EXPECT_EQ(s.forwarded, tids[i] == 0) << i;
        // Pictures keep their ids: P_DIFFs count in them.
        if (s.forwarded) {
            EXPECT_EQ(s.pictureId, 100 + i);
        }
    }
    ctx.setTargetTemporalLayer(2);
    // Picture 105 is T2 without U: not a switching point.
    EXPECT_FALSE(send(ctx, packet(105, 2, 0, true, true, true, false)).forwarded);
    // 106 is T1 with U.
    EXPECT_TRUE(send(ctx, packet(106, 1, 0, true, true, true, true)).forwarded);
    EXPECT_EQ(ctx.currentTemporalLayer(), 1);
    EXPECT_TRUE(send(ctx, packet(107, 2, 0, true, true, true, true)).forwarded);
    EXPECT_EQ(ctx.currentTemporalLayer(), 2);
    ctx.setTargetTemporalLayer(0);
    EXPECT_FALSE(send(ctx, packet(109, 2, 0, true, true, true, true)).forwarded);
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
}

// Without switching up points (Chromium sets U on none), temporal layers go
// up after a base picture: the pictures after one refer only to it and to
// each other, up to the next.
TEST(Vp9Context, TemporalLayersGoUpAfterABasePicture) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    ctx.setTargetTemporalLayer(0);
    EXPECT_TRUE(send(ctx, packet(200, 0, 0, false, true, true)).forwarded);
    EXPECT_FALSE(send(ctx, packet(201, 2, 0, true, true, true)).forwarded);
    EXPECT_FALSE(send(ctx, packet(202, 1, 0, true, true, true)).forwarded);
    ctx.setTargetTemporalLayer(2);
    // 203 refers to 202, which was dropped.
    EXPECT_FALSE(send(ctx, packet(203, 2, 0, true, true, true)).forwarded);
    EXPECT_TRUE(send(ctx, packet(204, 0, 0, true, true, true, false, false, 1)).forwarded);
    EXPECT_EQ(ctx.currentTemporalLayer(), 0);
    for (uint16_t id = 205; id < 208; ++id) {
        const uint8_t tid = id == 206 ? 1 : 2;
        EXPECT_TRUE(send(ctx, packet(id, tid, 0, true, true, true, false, false, 1)).forwarded)
            << id;
    }
    EXPECT_EQ(ctx.currentTemporalLayer(), 2);
}

// A retransmission gets the fields it was first sent with, whatever is
// forwarded now: a packet of a layer dropped since still belongs to a
// picture the receiver is completing. Nothing decided changes.
TEST(Vp9Context, ResendIsRewrittenAsSent) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(2);
    sendSvcPicture(ctx, 1, true);
    sendSvcPicture(ctx, 2, false);
    // Another source: ids continue from the last one sent (2).
    ctx.requestSync();
    sendSvcPicture(ctx, 500, true);
    EXPECT_EQ(sendSvcPicture(ctx, 501, false).fwd[2], true);
    ctx.setTargetSpatialLayer(1);
    EXPECT_FALSE(sendSvcPicture(ctx, 502, false).fwd[2]);

    auto p = packet(501, 0, 2, true, true, true, false, true);
    const auto desc = PayloadDescriptor::parse(p.data(), p.size());
    ASSERT_TRUE(desc);
    sfu::codecs::PayloadRewrite rewrite;
    ASSERT_TRUE(ctx.rewriteResend(*desc, rewrite));
    EXPECT_TRUE(rewrite.hasPictureId);
    EXPECT_EQ(rewrite.pictureId, 4);
    EXPECT_TRUE(rewrite.hasTl0PicIdx);
    EXPECT_EQ(ctx.currentSpatialLayer(), 1);
    EXPECT_FALSE(send(ctx, packet(503, 0, 2, true, true, true, false, true)).forwarded);
    // A picture from before the switch of source is not known any more.
    auto before = packet(2, 0, 0, true, true, true);
    EXPECT_FALSE(
        ctx.rewriteResend(*PayloadDescriptor::parse(before.data(), before.size()), rewrite));
}

TEST(Vp9Context, MultiPacketLayerFramesShareTheDecision) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(1);
    // Key picture, each layer frame in two packets.
    for (uint8_t sid = 0; sid < 3; ++sid) {
        const auto a = send(ctx, packet(50, 0, sid, false, true, false, false, sid > 0));
        const auto b = send(ctx, packet(50, 0, sid, false, false, true, false, sid > 0));
        EXPECT_EQ(a.forwarded, sid <= 1);
        EXPECT_EQ(b.forwarded, sid <= 1);
        EXPECT_FALSE(a.marker);
        EXPECT_EQ(b.marker, sid == 1);
    }
}

TEST(Vp9Context, SyncShiftsIdsAndWaitsForKeyFrame) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    EXPECT_TRUE(send(ctx, packet(700, 0, 0, false, true, true, false, false, 3)).forwarded);
    EXPECT_TRUE(send(ctx, packet(701, 0, 0, true, true, true, false, false, 4)).forwarded);
    ctx.requestSync();
    EXPECT_FALSE(send(ctx, packet(9000, 0, 0, true, true, true, false, false, 90)).forwarded);
    const auto k = send(ctx, packet(9001, 0, 0, false, true, true, false, false, 91));
    EXPECT_TRUE(k.forwarded);
    EXPECT_EQ(k.pictureId, 702);
    EXPECT_EQ(k.tl0, 5);
    const auto n = send(ctx, packet(9002, 0, 0, true, true, true, false, false, 92));
    EXPECT_TRUE(n.forwarded);
    EXPECT_EQ(n.pictureId, 703);
    EXPECT_EQ(n.tl0, 6);
}

// Pictures a temporal filter drops keep their ids within a run, but those
// dropped after the last one sent must not leave a gap before the next run:
// it continues right after the last id the receiver saw.
TEST(Vp9Context, SyncContinuesAfterTheLastIdSentNotTheLastDropped) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(0);
    EXPECT_TRUE(send(ctx, packet(300, 0, 0, false, true, true, false, false, 7)).forwarded);
    ctx.setTargetTemporalLayer(0);
    // T2, T1, T2 pictures of the old stream, dropped by the filter.
    EXPECT_FALSE(send(ctx, packet(301, 2, 0, true, true, true, true)).forwarded);
    EXPECT_FALSE(send(ctx, packet(302, 1, 0, true, true, true, true)).forwarded);
    EXPECT_FALSE(send(ctx, packet(303, 2, 0, true, true, true, true)).forwarded);
    ctx.requestSync();
    const auto k = send(ctx, packet(5000, 0, 0, false, true, true, false, false, 40));
    EXPECT_TRUE(k.forwarded);
    EXPECT_EQ(k.pictureId, 301);
    EXPECT_EQ(k.tl0, 8);
    // Within the new run, dropped pictures keep their ids again.
    EXPECT_FALSE(send(ctx, packet(5001, 2, 0, true, true, true, true)).forwarded);
    const auto n = send(ctx, packet(5002, 0, 0, true, true, true, false, false, 41));
    EXPECT_TRUE(n.forwarded);
    EXPECT_EQ(n.pictureId, 303);
    EXPECT_EQ(n.tl0, 9);
}

TEST(Vp9Context, FfmpegStreamPassesThrough) {
    // No ids and no layers: every packet goes, unchanged.
    EncodingContext ctx;
    for (const char* h : {kFfmpegKeyProfile0, kFfmpegMiddle, kFfmpegInterFrame}) {
        auto p = fromHex(h);
        const auto before = p;
        const auto d = PayloadDescriptor::parse(p.data(), p.size());
        ASSERT_TRUE(d);
        EXPECT_TRUE(ctx.process(*d, p.data(), p.size()).forward) << h;
        EXPECT_EQ(p, before);
    }
}

TEST(Vp9Context, TargetsAreClamped) {
    EncodingContext ctx;
    ctx.setTargetSpatialLayer(9);
    ctx.setTargetTemporalLayer(250);
    EXPECT_EQ(ctx.targetSpatialLayer(), EncodingContext::kMaxLayer);
    EXPECT_EQ(ctx.targetTemporalLayer(), EncodingContext::kMaxLayer);
}
