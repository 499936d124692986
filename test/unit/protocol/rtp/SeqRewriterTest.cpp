#include "protocol/rtp/SeqRewriter.hpp"

#include "protocol/rtp/SeqNum.hpp"

#include <gtest/gtest.h>
#include <optional>

namespace sfu::rtp {
namespace {

TEST(SeqNum, WrapAroundComparisons) {
    EXPECT_TRUE(isNewer<uint16_t>(1, 0));
    EXPECT_TRUE(isNewer<uint16_t>(0, 0xffff));
    EXPECT_FALSE(isNewer<uint16_t>(0xffff, 0));
    EXPECT_FALSE(isNewer<uint16_t>(5, 5));
    EXPECT_TRUE(isNewerOrEqual<uint16_t>(5, 5));
    EXPECT_NE(isNewer<uint16_t>(0x8000, 0), isNewer<uint16_t>(0, 0x8000));
    EXPECT_EQ(seqDiff(2, 0xfffe), 4);
    EXPECT_EQ(seqDiff(0xfffe, 2), -4);
    EXPECT_EQ(tsDiff(10, 0xfffffff0u), 26);
}

TEST(SeqNum, NarrowCounters) {
    EXPECT_TRUE(isNewerBits<15>(0, 0x7fff));
    EXPECT_FALSE(isNewerBits<15>(0x7fff, 0));
    EXPECT_TRUE(isNewerBits<8>(3, 250));
    EXPECT_FALSE(isNewerBits<8>(250, 3));
    // Bits above the width are ignored.
    EXPECT_FALSE(isNewerBits<8>(0x105, 0x005));
    EXPECT_EQ(forwardDistance<15>(1, 0x7fff), 2u);
    EXPECT_EQ((isNewerBits<16>(1, 0)), (isNewer<uint16_t>(1, 0)));
    EXPECT_TRUE((isNewerBits<32>(0, 0xffffffffu)));
}

TEST(SeqRewriter, FirstInputIsIdentityUntilSynced) {
    SeqRewriter rewriter;
    EXPECT_FALSE(rewriter.started());
    EXPECT_EQ(rewriter.rewrite(1000), 1000);
    EXPECT_EQ(rewriter.rewrite(1001), 1001);
    EXPECT_EQ(rewriter.maxOutput(), 1001);
}

TEST(SeqRewriter, SyncBeforeTheFirstPacketStartsAfterLastOutput) {
    SeqRewriter rewriter(0);
    rewriter.sync(5000);
    EXPECT_EQ(rewriter.rewrite(5000), 1);
    EXPECT_EQ(rewriter.rewrite(5001), 2);
    EXPECT_EQ(rewriter.rewrite(5003), 4); // a loss stays a loss
    EXPECT_EQ(rewriter.rewrite(5002), 3); // and reordering is kept
    EXPECT_EQ(rewriter.maxOutput(), 4);
}

TEST(SeqRewriter, WrapsOnBothSides) {
    SeqRewriter rewriter(0xfffd);
    rewriter.sync(0xfffe);
    EXPECT_EQ(rewriter.rewrite(0xfffe), 0xfffe);
    EXPECT_EQ(rewriter.rewrite(0xffff), 0xffff);
    EXPECT_EQ(rewriter.rewrite(0x0000), 0x0000);
    EXPECT_EQ(rewriter.rewrite(0x0001), 0x0001);

    SeqRewriter other(0x7000);
    other.sync(0xfff0);
    for (uint32_t i = 0; i < 40; ++i) {
        EXPECT_EQ(other.rewrite(static_cast<uint16_t>(0xfff0 + i)),
                  static_cast<uint16_t>(0x7001 + i));
    }
}

TEST(SeqRewriter, DropsCloseTheGap) {
    SeqRewriter rewriter(99);
    rewriter.sync(10);
    EXPECT_EQ(rewriter.rewrite(10), 100);
    EXPECT_EQ(rewriter.rewrite(11), 101);
    rewriter.drop(12);
    rewriter.drop(13);
    EXPECT_EQ(rewriter.rewrite(14), 102);
    rewriter.drop(15);
    EXPECT_EQ(rewriter.rewrite(16), 103);
    EXPECT_EQ(rewriter.maxOutput(), 103);
    EXPECT_EQ(rewriter.offset(), static_cast<uint16_t>(103 - 16));
}

TEST(SeqRewriter, LateArrivalsAroundDropsKeepTheirOldOffset) {
    SeqRewriter rewriter(0);
    rewriter.sync(100);
    EXPECT_EQ(rewriter.rewrite(100), 1);
    // 101 is late; 102 gets dropped, 103 forwarded.
    rewriter.drop(102);
    EXPECT_EQ(rewriter.rewrite(103), 3);
    // 101 arrives now: placed before the drop, with the old offset.
    EXPECT_EQ(rewriter.rewrite(101), 2);
    // A retransmitted copy of the dropped one stays dropped.
    EXPECT_EQ(rewriter.rewrite(102), std::nullopt);
    EXPECT_EQ(rewriter.rewrite(104), 4);
}

TEST(SeqRewriter, DropOfAnOldInputLeavesAGap) {
    SeqRewriter rewriter(0);
    rewriter.sync(100);
    EXPECT_EQ(rewriter.rewrite(100), 1);
    EXPECT_EQ(rewriter.rewrite(102), 3);
    rewriter.drop(101); // too late to close up
    EXPECT_EQ(rewriter.rewrite(103), 4);
}

TEST(SeqRewriter, DropsAcrossTheWrap) {
    SeqRewriter rewriter(0);
    rewriter.sync(0xfffc);
    EXPECT_EQ(rewriter.rewrite(0xfffc), 1);
    rewriter.drop(0xfffd);
    rewriter.drop(0xfffe);
    rewriter.drop(0xffff);
    rewriter.drop(0x0000);
    EXPECT_EQ(rewriter.rewrite(0x0001), 2);
    EXPECT_EQ(rewriter.rewrite(0xffff), std::nullopt);
    EXPECT_EQ(rewriter.rewrite(0x0000), std::nullopt);
    EXPECT_EQ(rewriter.rewrite(0x0002), 3);
}

TEST(SeqRewriter, SyncSwitchesStreamsContiguously) {
    SeqRewriter rewriter(0);
    rewriter.sync(3000);
    for (uint16_t i = 0; i < 10; ++i) {
        EXPECT_EQ(rewriter.rewrite(static_cast<uint16_t>(3000 + i)), 1 + i);
    }
    // Switch to another simulcast layer with unrelated numbering.
    rewriter.sync(60000);
    EXPECT_EQ(rewriter.rewrite(60000), 11);
    EXPECT_EQ(rewriter.rewrite(60001), 12);
    // A straggler from before the switch would collide: rejected.
    EXPECT_EQ(rewriter.rewrite(59999), std::nullopt);
    // Pause, then resume later in the same stream: still contiguous.
    rewriter.sync(61000);
    EXPECT_EQ(rewriter.rewrite(61000), 13);
}

TEST(SeqRewriter, DropBeforeAnyInput) {
    SeqRewriter rewriter;
    rewriter.drop(500);
    EXPECT_EQ(rewriter.rewrite(501), 500);
    EXPECT_EQ(rewriter.rewrite(500), std::nullopt);
}

TEST(SeqRewriter, RejectsInputsTooOldToPlace) {
    SeqRewriter rewriter(0);
    rewriter.sync(0);
    EXPECT_EQ(rewriter.rewrite(0), 1);
    uint16_t input = 0;
    for (int i = 0; i < 20000; ++i) {
        ++input;
        EXPECT_TRUE(rewriter.rewrite(input).has_value());
    }
    EXPECT_EQ(rewriter.rewrite(static_cast<uint16_t>(input - 100)),
              static_cast<uint16_t>(input - 99));
    EXPECT_EQ(rewriter.rewrite(static_cast<uint16_t>(input - 17000)), std::nullopt);
}

TEST(SeqRewriter, ManyDropRunsForgetTheOldestSafely) {
    BasicSeqRewriter<16, 4> rewriter(0);
    rewriter.sync(0);
    uint16_t output = 0;
    // Alternate forward and drop: five separate runs, one more than kept.
    for (uint16_t input = 0; input < 10; input = static_cast<uint16_t>(input + 2)) {
        EXPECT_EQ(rewriter.rewrite(input), ++output);
        rewriter.drop(static_cast<uint16_t>(input + 1));
    }
    // The first run (input 1) was forgotten: input 0..1 can no longer be placed.
    EXPECT_EQ(rewriter.rewrite(1), std::nullopt);
    EXPECT_EQ(rewriter.rewrite(0), std::nullopt);
    // Later runs are still known.
    EXPECT_EQ(rewriter.rewrite(3), std::nullopt);
    EXPECT_EQ(rewriter.rewrite(2), 2);
    EXPECT_EQ(rewriter.rewrite(10), 6);
}

TEST(SeqRewriter, LongRandomRunMatchesAModel) {
    // Inputs arrive in order with random drops; the outputs of forwarded
    // packets must be exactly 1, 2, 3... across several wraps.
    SeqRewriter rewriter(0);
    uint16_t input = 0xff00;
    rewriter.sync(input);
    uint16_t expected = 0;
    uint32_t state = 12345;
    for (int i = 0; i < 300000; ++i) {
        state = state * 1103515245u + 12345u;
        if ((state >> 16) % 4 == 0) {
            rewriter.drop(input);
        } else {
            ++expected;
            ASSERT_EQ(rewriter.rewrite(input), expected) << i;
        }
        ++input;
    }
}

TEST(SeqRewriter, NarrowWidths) {
    BasicSeqRewriter<15> pictureIds(0x7ffe);
    pictureIds.sync(10);
    EXPECT_EQ(pictureIds.rewrite(10), 0x7fff);
    EXPECT_EQ(pictureIds.rewrite(11), 0);
    pictureIds.drop(12);
    EXPECT_EQ(pictureIds.rewrite(13), 1);

    BasicSeqRewriter<8> tl0(254);
    tl0.sync(0);
    EXPECT_EQ(tl0.rewrite(0), 255);
    EXPECT_EQ(tl0.rewrite(1), 0);
    static_assert(sizeof(BasicSeqRewriter<8>::Value) == 1);
}

TEST(TimestampRewriter, OffsetsAndSync) {
    TimestampRewriter rewriter;
    rewriter.syncTo(1000, 90000);
    EXPECT_EQ(rewriter.rewrite(1000), 90000u);
    EXPECT_EQ(rewriter.rewrite(4000), 93000u);
    EXPECT_EQ(rewriter.rewrite(2500), 91500u); // older: max stays
    EXPECT_EQ(rewriter.maxOutput(), 93000u);
    // Switch streams: continue 3000 ticks after the last frame.
    rewriter.syncAfterMax(0xfffff000u, 3000);
    EXPECT_EQ(rewriter.rewrite(0xfffff000u), 96000u);
    EXPECT_EQ(rewriter.rewrite(0x00000000u), 96000u + 0x1000u); // across the wrap
    rewriter.setOffset(5);
    EXPECT_EQ(rewriter.offset(), 5u);
    EXPECT_EQ(rewriter.rewrite(0xffffffffu), 4u);
}

} // namespace
} // namespace sfu::rtp
