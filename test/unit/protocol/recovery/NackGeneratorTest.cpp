#include "protocol/recovery/NackGenerator.hpp"

#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

using namespace sfu;
using namespace sfu::recovery;

namespace {

// collect() into a vector for easy comparison.
std::vector<uint16_t> collectAll(NackGenerator& nack, uint64_t nowMs, uint32_t rttMs = 0) {
    std::array<uint16_t, 2048> out{};
    const size_t n = nack.collect(nowMs, rttMs, out);
    return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}

ArrivalResult receive(NackGenerator& nack, uint16_t seq, uint64_t nowMs = 0, bool key = false) {
    return nack.onPacket(seq, key, false, nowMs);
}

using Seqs = std::vector<uint16_t>;

} // namespace

TEST(NackGenerator, FirstPacketAndInOrder) {
    NackGenerator nack;
    EXPECT_EQ(receive(nack, 500).arrival, Arrival::First);
    for (uint16_t s = 501; s < 600; ++s) {
        const ArrivalResult r = receive(nack, s);
        EXPECT_EQ(r.arrival, Arrival::InOrder);
        EXPECT_EQ(r.newlyMissing, 0);
    }
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_TRUE(collectAll(nack, 0).empty());
    EXPECT_EQ(nack.counters().nackCount, 0u);
}

TEST(NackGenerator, SingleGap) {
    NackGenerator nack;
    receive(nack, 100);
    receive(nack, 101);
    const ArrivalResult r = receive(nack, 103);
    EXPECT_EQ(r.arrival, Arrival::InOrder);
    EXPECT_EQ(r.newlyMissing, 1);
    EXPECT_FALSE(r.keyFrameNeeded);
    EXPECT_TRUE(nack.isPending(102));
    EXPECT_EQ(collectAll(nack, 0), Seqs({102}));
    EXPECT_EQ(nack.counters().nackCount, 1u);
    EXPECT_EQ(nack.counters().nackPacketCount, 1u);
    EXPECT_EQ(nack.counters().missing, 1u);
}

TEST(NackGenerator, MultipleGaps) {
    NackGenerator nack;
    for (const uint16_t s : {10, 12, 15, 16, 20}) {
        receive(nack, s);
    }
    EXPECT_EQ(nack.pendingCount(), 6u);
    EXPECT_EQ(collectAll(nack, 0), Seqs({11, 13, 14, 17, 18, 19}));
    EXPECT_EQ(nack.counters().nackPacketCount, 6u);
}

TEST(NackGenerator, WrapAround) {
    NackGenerator nack;
    receive(nack, 65533);
    receive(nack, 65534);
    const ArrivalResult r = receive(nack, 1);
    EXPECT_EQ(r.arrival, Arrival::InOrder);
    EXPECT_EQ(r.newlyMissing, 2);
    // Ascending in wrap-around order.
    EXPECT_EQ(collectAll(nack, 0), Seqs({65535, 0}));
    EXPECT_EQ(receive(nack, 0, 5).arrival, Arrival::Repaired);
    EXPECT_EQ(collectAll(nack, 100), Seqs({65535}));
    EXPECT_EQ(receive(nack, 65535, 110).arrival, Arrival::Repaired);
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(nack.counters().repaired, 2u);
    // A gap straddling the wrap, sent as one NACK entry.
    NackGenerator other;
    receive(other, 65530);
    receive(other, 3);
    const Seqs seqs = collectAll(other, 0);
    EXPECT_EQ(seqs, Seqs({65531, 65532, 65533, 65534, 65535, 0, 1, 2}));
    std::array<uint8_t, 64> buf{};
    const NackWrite w = writeNackPacket(1, 2, seqs, buf.data(), buf.size());
    EXPECT_EQ(w.seqs, seqs.size());
    EXPECT_EQ(w.bytes, 16u);
    const rtcp::NackItem item = rtcp::NackItem::read(buf.data() + 12);
    EXPECT_EQ(item.pid, 65531);
    EXPECT_EQ(item.blp, 0x7F);
}

TEST(NackGenerator, ReorderingRemovesPendingWithoutNack) {
    NackGenerator nack;
    receive(nack, 1);
    receive(nack, 3);
    EXPECT_TRUE(nack.isPending(2));
    const ArrivalResult r = receive(nack, 2);
    EXPECT_EQ(r.arrival, Arrival::Repaired);
    EXPECT_FALSE(nack.isPending(2));
    EXPECT_TRUE(collectAll(nack, 0).empty());
    EXPECT_EQ(nack.counters().nackCount, 0u);
    EXPECT_EQ(nack.counters().repaired, 1u);
    // Reordered twice in a larger burst: only the holes left are requested.
    receive(nack, 10);
    receive(nack, 8);
    receive(nack, 5);
    EXPECT_EQ(collectAll(nack, 0), Seqs({4, 6, 7, 9}));
}

TEST(NackGenerator, RttSpacing) {
    NackGenerator nack;
    receive(nack, 1, 0);
    receive(nack, 3, 0);
    EXPECT_EQ(collectAll(nack, 0, 100), Seqs({2}));
    EXPECT_TRUE(collectAll(nack, 50, 100).empty());
    EXPECT_TRUE(collectAll(nack, 99, 100).empty());
    EXPECT_EQ(collectAll(nack, 100, 100), Seqs({2}));
    // A packet found missing later is requested at once, independently.
    receive(nack, 5, 120);
    EXPECT_EQ(collectAll(nack, 120, 100), Seqs({4}));
    EXPECT_EQ(collectAll(nack, 200, 100), Seqs({2}));
    // An RTT below the floor spaces by minIntervalMs (20 ms).
    EXPECT_EQ(collectAll(nack, 205, 5), Seqs({4}));
    EXPECT_TRUE(collectAll(nack, 219, 5).empty());
    EXPECT_EQ(collectAll(nack, 225, 5), Seqs({2, 4}));
    EXPECT_EQ(nack.counters().nackCount, 6u);
    EXPECT_EQ(nack.counters().nackPacketCount, 7u);
}

TEST(NackGenerator, RetryLimit) {
    NackConfig config;
    config.maxRetries = 3;
    NackGenerator nack(config);
    receive(nack, 1);
    receive(nack, 3);
    for (uint64_t t = 0; t < 3 * 20; t += 20) {
        EXPECT_EQ(collectAll(nack, t), Seqs({2})) << t;
    }
    EXPECT_TRUE(collectAll(nack, 60).empty());
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::Retries), 1u);
    EXPECT_EQ(nack.counters().nackPacketCount, 3u);
    // Arriving after giving up is late, not repaired.
    EXPECT_EQ(receive(nack, 2).arrival, Arrival::Late);
    EXPECT_EQ(nack.counters().repaired, 0u);
}

TEST(NackGenerator, AgeLimit) {
    NackGenerator nack; // maxAgeMs = 1000
    receive(nack, 1, 0);
    receive(nack, 3, 0);
    EXPECT_EQ(collectAll(nack, 0, 400), Seqs({2}));
    EXPECT_EQ(collectAll(nack, 400, 400), Seqs({2}));
    EXPECT_EQ(collectAll(nack, 800, 400), Seqs({2}));
    // Due again at 1200, but missing for longer than 1000 ms by then.
    EXPECT_TRUE(collectAll(nack, 1200, 400).empty());
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::Age), 1u);
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::Retries), 0u);
}

TEST(NackGenerator, KeyFrameLimitsRequestsForOlderHoles) {
    NackGenerator nack;
    receive(nack, 1);
    receive(nack, 5);  // 2 3 4 missing
    receive(nack, 10); // 6 7 8 9 missing
    EXPECT_EQ(nack.pendingCount(), 7u);
    // The key frame's first packet arrives late: 2, 3, 4, 6 are before it.
    const ArrivalResult r = nack.onPacket(7, true, false, 0);
    EXPECT_EQ(r.arrival, Arrival::Repaired);
    EXPECT_EQ(nack.pendingCount(), 6u);
    // Older holes still get keyFrameAttempts (3) requests, newer ones more.
    EXPECT_EQ(collectAll(nack, 0, 100), Seqs({2, 3, 4, 6, 8, 9}));
    EXPECT_EQ(collectAll(nack, 100, 100), Seqs({2, 3, 4, 6, 8, 9}));
    EXPECT_EQ(collectAll(nack, 200, 100), Seqs({2, 3, 4, 6, 8, 9}));
    EXPECT_EQ(collectAll(nack, 300, 100), Seqs({8, 9}));
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::KeyFrame), 4u);
    EXPECT_EQ(nack.pendingCount(), 2u);

    // A key frame arriving in order after a gap: the gap is still requested
    // (a receiver may be waiting on it), within the same limit.
    const ArrivalResult k = nack.onPacket(20, true, false, 310);
    EXPECT_EQ(k.arrival, Arrival::InOrder);
    EXPECT_EQ(k.newlyMissing, 9);
    // 8 and 9 have had their requests and are now older than a key frame.
    EXPECT_EQ(collectAll(nack, 400, 100), Seqs({11, 12, 13, 14, 15, 16, 17, 18, 19}));
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::KeyFrame), 6u);
    // Holes after the key frame are requested normally.
    receive(nack, 22, 410);
    EXPECT_EQ(collectAll(nack, 420, 100), Seqs({21}));
}

TEST(NackGenerator, HugeGapAsksForKeyFrame) {
    NackGenerator nack; // maxGap 3000, maxPending 1000
    receive(nack, 1);
    receive(nack, 3);
    const ArrivalResult r = receive(nack, 1 + 3 + 3000);
    EXPECT_EQ(r.arrival, Arrival::Restart);
    EXPECT_TRUE(r.keyFrameNeeded);
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(nack.counters().restarts, 1u);
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::Overflow), 1u);
    // Tracking continues from the new point.
    EXPECT_EQ(receive(nack, 3006).arrival, Arrival::InOrder);
    EXPECT_EQ(receive(nack, 3008).newlyMissing, 1);

    // A jump within maxGap but larger than the list: cleared, key frame.
    NackGenerator other;
    receive(other, 1);
    receive(other, 3);
    const ArrivalResult o = receive(other, 1500);
    EXPECT_EQ(o.arrival, Arrival::InOrder);
    EXPECT_TRUE(o.keyFrameNeeded);
    EXPECT_EQ(o.newlyMissing, 0);
    EXPECT_EQ(other.pendingCount(), 0u);
    EXPECT_EQ(other.counters().keyFramesNeeded, 1u);

    // A huge jump onto a key frame needs no further key frame.
    NackGenerator third;
    receive(third, 1);
    EXPECT_FALSE(third.onPacket(20000, true, false, 0).keyFrameNeeded);
}

TEST(NackGenerator, FullListClearsAndAsksForKeyFrame) {
    NackConfig config;
    config.maxPending = 10;
    NackGenerator nack(config);
    uint16_t seq = 0;
    receive(nack, seq);
    for (int i = 0; i < 5; ++i) {
        seq = static_cast<uint16_t>(seq + 3); // two missing each time
        EXPECT_FALSE(receive(nack, seq).keyFrameNeeded);
    }
    EXPECT_EQ(nack.pendingCount(), 10u);
    seq = static_cast<uint16_t>(seq + 2);
    const ArrivalResult r = receive(nack, seq);
    EXPECT_TRUE(r.keyFrameNeeded);
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(nack.counters().givenUpFor(GiveUpReason::Overflow), 10u);
    // Removed entries do not count against the bound.
    NackGenerator reuse(config);
    seq = 0;
    receive(reuse, seq);
    for (int i = 0; i < 100; ++i) {
        receive(reuse, static_cast<uint16_t>(seq + 2));
        EXPECT_EQ(receive(reuse, static_cast<uint16_t>(seq + 1)).arrival, Arrival::Repaired);
        seq = static_cast<uint16_t>(seq + 2);
    }
    EXPECT_EQ(reuse.pendingCount(), 0u);
    EXPECT_EQ(reuse.counters().keyFramesNeeded, 0u);
}

TEST(NackGenerator, DuplicatesAndTooOld) {
    NackGenerator nack;
    receive(nack, 1);
    receive(nack, 2);
    receive(nack, 3);
    EXPECT_EQ(receive(nack, 2).arrival, Arrival::Duplicate);
    EXPECT_EQ(receive(nack, 3).arrival, Arrival::Duplicate);
    receive(nack, 5);
    EXPECT_EQ(receive(nack, 4).arrival, Arrival::Repaired);
    EXPECT_EQ(receive(nack, 4).arrival, Arrival::Duplicate); // e.g. RTX after the original
    EXPECT_EQ(nack.counters().duplicates, 3u);
    // Advance well past the 1024-packet window.
    for (uint16_t s = 6; s < 2000; ++s) {
        receive(nack, s);
    }
    EXPECT_EQ(receive(nack, 500).arrival, Arrival::TooOld);
    EXPECT_EQ(receive(nack, 1000).arrival, Arrival::Duplicate);
    EXPECT_EQ(nack.counters().tooOld, 1u);
    EXPECT_EQ(nack.counters().duplicates, 4u);
    EXPECT_EQ(nack.pendingCount(), 0u);
}

TEST(NackGenerator, RecoveredPacketsAreCounted) {
    NackGenerator nack;
    receive(nack, 1);
    receive(nack, 3);
    const ArrivalResult r = nack.onPacket(2, false, true, 10);
    EXPECT_EQ(r.arrival, Arrival::Repaired);
    EXPECT_EQ(nack.counters().recovered, 1u);
    EXPECT_EQ(nack.counters().repaired, 1u);
}

TEST(NackGenerator, BackwardRestartNeedsTwoPackets) {
    NackGenerator nack;
    receive(nack, 20000);
    receive(nack, 20001);
    EXPECT_EQ(receive(nack, 100).arrival, Arrival::TooOld);
    const ArrivalResult r = receive(nack, 101);
    EXPECT_EQ(r.arrival, Arrival::Restart);
    EXPECT_TRUE(r.keyFrameNeeded);
    EXPECT_EQ(receive(nack, 103).newlyMissing, 1);
    EXPECT_EQ(collectAll(nack, 0), Seqs({102}));
    // A lone stray old packet does not restart.
    EXPECT_EQ(receive(nack, 40000).arrival, Arrival::TooOld);
    EXPECT_EQ(receive(nack, 104).arrival, Arrival::InOrder);
    EXPECT_EQ(receive(nack, 40001).arrival, Arrival::TooOld);
}

TEST(NackGenerator, SmallOutputKeepsTheRestDue) {
    NackGenerator nack;
    receive(nack, 0);
    receive(nack, 6); // 1..5
    std::array<uint16_t, 2> out{};
    ASSERT_EQ(nack.collect(0, 100, out), 2u);
    EXPECT_EQ(out[0], 1);
    EXPECT_EQ(out[1], 2);
    EXPECT_EQ(collectAll(nack, 1, 100), Seqs({3, 4, 5}));
    EXPECT_EQ(collectAll(nack, 100, 100), Seqs({1, 2}));
    EXPECT_EQ(collectAll(nack, 101, 100), Seqs({3, 4, 5}));
}

TEST(NackGenerator, ResetForgetsStream) {
    NackGenerator nack;
    receive(nack, 0);
    receive(nack, 5);
    nack.reset();
    EXPECT_EQ(nack.pendingCount(), 0u);
    EXPECT_EQ(receive(nack, 30000).arrival, Arrival::First);
    EXPECT_TRUE(collectAll(nack, 0).empty());
}

TEST(NackGenerator, MemoryIsBounded) {
    NackGenerator nack;
    EXPECT_LT(nack.memoryBytes(), 32u * 1024u);
    EXPECT_GT(nack.memoryBytes(), 1000u * 16u);
}

TEST(NackWriter, ParsesBackToTheSameSeqs) {
    const Seqs seqs{100, 101, 103, 116, 117, 118, 200, 65535, 0};
    std::array<uint8_t, 128> buf{};
    const NackWrite w = writeNackPacket(0x01020304, 0x0a0b0c0d, seqs, buf.data(), buf.size());
    ASSERT_GT(w.bytes, 0u);
    EXPECT_EQ(w.seqs, seqs.size());
    const auto packet = *rtcp::CompoundView(buf.data(), w.bytes).begin();
    const auto view = rtcp::NackView::parse(packet);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->senderSsrc(), 0x01020304u);
    EXPECT_EQ(view->mediaSsrc(), 0x0a0b0c0du);
    EXPECT_EQ(rtcp::expandNack(view->items()), seqs);
}

TEST(NackWriter, SplitsAcrossPackets) {
    // 40 isolated seqs need 40 entries; a 100-byte buffer takes 22.
    Seqs seqs;
    for (uint16_t i = 0; i < 40; ++i) {
        seqs.push_back(static_cast<uint16_t>(i * 20));
    }
    std::array<uint8_t, 100> buf{};
    std::span<const uint16_t> rest(seqs);
    Seqs all;
    int packets = 0;
    while (!rest.empty()) {
        const NackWrite w = writeNackPacket(1, 2, rest, buf.data(), buf.size());
        ASSERT_GT(w.bytes, 0u);
        ASSERT_LE(w.bytes, buf.size());
        const auto view = rtcp::NackView::parse(*rtcp::CompoundView(buf.data(), w.bytes).begin());
        ASSERT_TRUE(view);
        const Seqs got = rtcp::expandNack(view->items());
        EXPECT_EQ(got, Seqs(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(w.seqs)));
        all.insert(all.end(), got.begin(), got.end());
        rest = rest.subspan(w.seqs);
        ++packets;
    }
    EXPECT_EQ(all, seqs);
    EXPECT_EQ(packets, 2);
    EXPECT_EQ(writeNackPacket(1, 2, seqs, buf.data(), 15).bytes, 0u);
}
