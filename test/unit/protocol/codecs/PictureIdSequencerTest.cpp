#include "protocol/codecs/PictureIdSequencer.hpp"

#include <gtest/gtest.h>

using sfu::codecs::PictureIdSequencer;
using sfu::codecs::Tl0PicIdxSequencer;
using State = PictureIdSequencer::State;

TEST(PictureIdSequencer, PassesThroughUntilSomethingIsDropped) {
    PictureIdSequencer s;
    EXPECT_TRUE(s.lookup(1000, true).isNew);
    EXPECT_EQ(s.forward(1000, true), 1000);
    EXPECT_EQ(s.forward(1001, true), 1001);
    s.drop(1002, true);
    EXPECT_EQ(s.lookup(1002, true).state, State::Dropped);
    EXPECT_EQ(s.forward(1003, true), 1002);
    // Asking again for a decided picture gives the same answer.
    EXPECT_EQ(s.forward(1003, true), 1002);
    EXPECT_EQ(s.lookup(1001, true).state, State::Forwarded);
    EXPECT_EQ(s.lookup(1001, true).outputId, 1001);
}

TEST(PictureIdSequencer, GapsAreReservedAndMayBecomeHoles) {
    PictureIdSequencer s;
    s.forward(10, true);
    EXPECT_EQ(s.forward(14, true), 14);
    for (uint16_t id = 11; id < 14; ++id) {
        const auto l = s.lookup(id, true);
        EXPECT_FALSE(l.isNew);
        EXPECT_EQ(l.state, State::Pending);
        EXPECT_EQ(l.outputId, id);
    }
    EXPECT_EQ(s.forward(12, true), 12);
    s.drop(13, true);
    EXPECT_EQ(s.lookup(13, true).state, State::Dropped);
    EXPECT_EQ(s.forward(15, true), 15);
}

TEST(PictureIdSequencer, FarJumpKeepsTheGapButForgetsIt) {
    PictureIdSequencer s;
    s.forward(100, true);
    EXPECT_EQ(s.forward(1100, true), 1100);
    EXPECT_EQ(s.lookup(1099, true).state, State::Unknown);
    EXPECT_FALSE(s.lookup(1099, true).isNew);
    // Less than half the id space ahead is newer, RTP style; half is older.
    EXPECT_TRUE(s.lookup(static_cast<uint16_t>((1100 + 0x3FFF) & 0x7FFF), true).isNew);
    EXPECT_FALSE(s.lookup(static_cast<uint16_t>((1100 + 0x4000) & 0x7FFF), true).isNew);
}

TEST(PictureIdSequencer, ResyncContinuesAndDropBeforeStartIsIgnored) {
    PictureIdSequencer s;
    s.drop(7, true); // nothing sent yet: ignored
    EXPECT_FALSE(s.started());
    EXPECT_EQ(s.forward(8, true), 8);
    s.resync();
    s.drop(3000, true); // still waiting for the first picture to send
    EXPECT_TRUE(s.lookup(3000, true).isNew);
    EXPECT_EQ(s.forward(3001, true), 9);
    EXPECT_EQ(s.forward(3002, true), 10);
}

TEST(PictureIdSequencer, WidthChangeRestarts) {
    PictureIdSequencer s;
    EXPECT_EQ(s.forward(0x7FFF, true), 0x7FFF);
    // The sender moved to 7-bit ids: continue from where output was.
    EXPECT_TRUE(s.lookup(5, false).isNew);
    EXPECT_EQ(s.forward(5, false), 0);
    EXPECT_EQ(s.forward(6, false), 1);
}

TEST(Tl0PicIdxSequencer, OffsetOnlyChangesOnResync) {
    Tl0PicIdxSequencer t;
    EXPECT_EQ(t.map(200, true), 200);
    EXPECT_EQ(t.map(200, false), 200);
    EXPECT_EQ(t.map(201, true), 201);
    t.resync();
    // A new stream starting on a base layer picture takes the next index.
    EXPECT_EQ(t.map(17, true), 202);
    EXPECT_EQ(t.map(18, true), 203);
    t.resync();
    // One starting on an upper layer picture still refers to the last one.
    EXPECT_EQ(t.map(90, false), 203);
    EXPECT_EQ(t.map(91, true), 204);
    // Wraps.
    Tl0PicIdxSequencer w;
    EXPECT_EQ(w.map(255, true), 255);
    EXPECT_EQ(w.map(0, true), 0);
}
