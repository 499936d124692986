#include "protocol/codecs/PayloadRewrite.hpp"

#include "protocol/codecs/Vp8.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace {

using sfu::codecs::PayloadRewrite;
namespace vp8 = sfu::codecs::vp8;

// X=1, I L T set, 15-bit picture id 0x1234, TL0PICIDX 7, TID 0, one byte of
// frame data.
std::vector<uint8_t> vp8Payload() {
    return {0x90, 0xE0, 0x92, 0x34, 0x07, 0x00, 0x11};
}

TEST(PayloadRewrite, DecidingLeavesThePayloadAloneAndApplyingWritesTheFields) {
    auto payload = vp8Payload();
    const auto original = payload;
    const auto desc = vp8::PayloadDescriptor::parse(payload.data(), payload.size());
    ASSERT_TRUE(desc);
    vp8::EncodingContext context;
    context.requestSync();
    PayloadRewrite rewrite;
    ASSERT_TRUE(context.decide(*desc, rewrite));
    EXPECT_EQ(payload, original);
    ASSERT_TRUE(rewrite.hasPictureId);
    EXPECT_TRUE(rewrite.pictureIdIs15Bit);
    EXPECT_TRUE(rewrite.hasTl0PicIdx);

    rewrite.pictureId = 0x0abc;
    rewrite.tl0PicIdx = 200;
    ASSERT_TRUE(rewrite.apply(payload.data(), payload.size()));
    const auto after = vp8::PayloadDescriptor::parse(payload.data(), payload.size());
    ASSERT_TRUE(after);
    EXPECT_EQ(after->pictureId, 0x0abc);
    EXPECT_EQ(after->tl0PicIdx, 200);
    EXPECT_EQ(payload.back(), 0x11);
}

TEST(PayloadRewrite, NothingIsWrittenOutsideThePayload) {
    PayloadRewrite rewrite;
    EXPECT_TRUE(rewrite.empty());
    rewrite.setPictureId(5, true, 0x7fff);
    std::vector<uint8_t> payload(6, 0);
    EXPECT_FALSE(rewrite.apply(payload.data(), payload.size()));
    EXPECT_EQ(payload, std::vector<uint8_t>(6, 0));
    PayloadRewrite tl0;
    tl0.setTl0PicIdx(6, 1);
    EXPECT_FALSE(tl0.apply(payload.data(), payload.size()));
    EXPECT_EQ(payload, std::vector<uint8_t>(6, 0));
}

} // namespace
