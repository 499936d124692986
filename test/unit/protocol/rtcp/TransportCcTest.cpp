#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

namespace {

using Add = TransportCcBuilder::AddResult;

std::optional<TransportCcView> parseTcc(const std::vector<uint8_t>& b) {
    const auto pkt = PacketView::parse(b.data(), b.size());
    if (!pkt || pkt->size() != b.size()) {
        return std::nullopt;
    }
    return TransportCcView::parse(*pkt);
}

// Views borrow the bytes: refuse temporaries.
std::optional<TransportCcView> parseTcc(std::vector<uint8_t>&&) = delete;

bool tccValid(const std::vector<uint8_t>& b) {
    return parseTcc(b).has_value();
}

std::vector<TccPacket> packetsOf(const TransportCcView& v) {
    return {v.begin(), v.end()};
}

std::vector<uint8_t> build(const TransportCcBuilder& b) {
    std::vector<uint8_t> out(b.size());
    EXPECT_EQ(b.serialize(out.data(), out.size()), out.size());
    return out;
}

// The chunk words of a parsed packet.
std::vector<uint16_t> chunksOf(const TransportCcView& v) {
    std::vector<uint16_t> c;
    const uint8_t* p = v.feedback().fci().data() + 8;
    for (size_t i = 0; i < v.chunkCount(); ++i) {
        c.push_back(static_cast<uint16_t>(p[2 * i] << 8 | p[2 * i + 1]));
    }
    return c;
}

} // namespace

TEST(RtcpTcc, BrowserPacketWithOneRun) {
    const auto b = fromHex(vectors::kTccRun1);
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->senderSsrc(), 0xfa17fa17u);
    EXPECT_EQ(v->mediaSsrc(), 0x43032fa0u);
    EXPECT_EQ(v->baseSeq(), 153);
    EXPECT_EQ(v->statusCount(), 1);
    EXPECT_EQ(v->referenceTime(), 4057090);
    EXPECT_EQ(v->fbCount(), 23);
    EXPECT_TRUE(v->padded());
    EXPECT_EQ(v->receivedCount(), 1u);
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].seq, 153);
    EXPECT_EQ(packets[0].status, TccStatus::SmallDelta);
    EXPECT_EQ(packets[0].delta, 148);
    EXPECT_EQ(packets[0].arrivalUs, int64_t{4057090} * 64000 + 37000);
    EXPECT_EQ(bytesOf(TransportCc::from(*v)), b);
}

TEST(RtcpTcc, BrowserPacketWithSevenReceived) {
    const auto b = fromHex(vectors::kTccRun7);
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->baseSeq(), 4);
    EXPECT_EQ(v->statusCount(), 7);
    EXPECT_EQ(v->referenceTime(), 1074030);
    EXPECT_EQ(v->fbCount(), 1);
    const std::vector<int16_t> deltas = {76, 36, 36, 16, 12, 12, 16};
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 7u);
    int64_t t = v->referenceTimeUs();
    for (size_t i = 0; i < 7; ++i) {
        EXPECT_EQ(packets[i].seq, 4 + i);
        EXPECT_EQ(packets[i].delta, deltas[i]);
        t += deltas[i] * 250;
        EXPECT_EQ(packets[i].arrivalUs, t);
    }
    EXPECT_EQ(bytesOf(TransportCc::from(*v)), b);
}

TEST(RtcpTcc, OneBitVectorWithLosses) {
    const auto b = fromHex(vectors::kTccOneBit);
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->padded());
    EXPECT_EQ(v->baseSeq(), 39);
    EXPECT_EQ(v->statusCount(), 13);
    EXPECT_EQ(v->referenceTime(), 6275825);
    EXPECT_EQ(v->fbCount(), 3);
    EXPECT_EQ(v->receivedCount(), 10u);
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 13u);
    for (size_t i = 0; i < 13; ++i) {
        EXPECT_EQ(packets[i].received(), i < 7 || i >= 10) << i;
    }
    EXPECT_EQ(packets[0].delta, 0x10);
    EXPECT_EQ(packets[10].delta, 0x1c);
    EXPECT_EQ(packets[11].delta, 0x04);
    EXPECT_EQ(packets[7].arrivalUs, 0);
    // The encoder picks the same one-bit vector with a trailing zero symbol.
    TransportCc value = TransportCc::from(*v);
    value.paddingBit = true; // no padding needed either way
    EXPECT_EQ(bytesOf(value), b);
}

TEST(RtcpTcc, NegativeReferenceTimeAndNoStatuses) {
    const auto b = fromHex(vectors::kTccNegativeRef);
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->referenceTime(), -2);
    EXPECT_EQ(v->referenceTimeUs(), -128000);
    EXPECT_EQ(v->statusCount(), 0);
    EXPECT_TRUE(v->begin() == v->end());
    EXPECT_EQ(bytesOf(TransportCc::from(*v)), b);
}

TEST(RtcpTcc, RunLongerThanTheStatusCount) {
    const auto b = fromHex(vectors::kTccLongRun);
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->baseSeq(), 34108);
    EXPECT_EQ(v->statusCount(), 9);
    EXPECT_EQ(v->fbCount(), 179);
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 9u);
    const std::vector<int> status = {1, 1, 1, 1, 1, 0, 2, 0, 0};
    for (size_t i = 0; i < 9; ++i) {
        EXPECT_EQ(static_cast<int>(packets[i].status), status[i]) << i;
    }
    EXPECT_EQ(packets[0].delta, 155);
    EXPECT_EQ(packets[6].delta, 265);
    // The canonical rebuild ends with a run of 2 instead of 48 but carries
    // the same statuses and times.
    const auto rebuilt = bytesOf(TransportCc::from(*v));
    ASSERT_FALSE(rebuilt.empty());
    EXPECT_NE(rebuilt, b);
    const auto again = parseTcc(rebuilt);
    ASSERT_TRUE(again);
    EXPECT_EQ(packetsOf(*again), packets);
    EXPECT_EQ(chunksOf(*again), (std::vector<uint16_t>{0xd552, 0x0002}));
}

TEST(RtcpTcc, DraftChunkExamples) {
    // Run of 221 "not received" (0x00DD), then one received.
    const auto b = fromHex("8fcd0006 00000001 00000002 000000de 00000100 00dd 2001 05 000000");
    const auto v = parseTcc(b);
    ASSERT_TRUE(v);
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 222u);
    EXPECT_FALSE(packets[220].received());
    EXPECT_TRUE(packets[221].received());
    EXPECT_EQ(packets[221].arrivalUs, 64000 + 5 * 250);
    TransportCc value = TransportCc::from(*v);
    value.paddingBit = false;
    EXPECT_EQ(bytesOf(value), b);

    // One-bit vector 0x9F1C: lost, 5 received, 3 lost, 3 received, 2 lost.
    const auto ob =
        fromHex("8fcd0007 00000001 00000002 0000000e 00000000 9f1c 0102 03040506 07080000");
    const auto ov = parseTcc(ob);
    ASSERT_TRUE(ov);
    std::string pattern;
    for (const TccPacket p : *ov) {
        pattern += p.received() ? 'R' : '.';
    }
    EXPECT_EQ(pattern, ".RRRRR...RRR..");

    // Two-bit vector 0xCD50 carries symbol 3, reserved in -01: rejected.
    const auto tb = fromHex("8fcd0006 00000001 00000002 00000007 00000000 cd50 0102 03000000");
    EXPECT_FALSE(parseTcc(tb));
}

TEST(RtcpTcc, HostilePackets) {
    // Status count larger than the chunks present.
    EXPECT_FALSE(tccValid(fromHex("afcd0005 00000001 00000002 00000003 00000000 20010501")));
    // Deltas missing.
    EXPECT_FALSE(tccValid(fromHex("8fcd0005 00000001 00000002 00000003 00000000 20030500")));
    // Large deltas missing their second octets.
    EXPECT_FALSE(tccValid(fromHex("8fcd0005 00000001 00000002 00000002 00000000 40020001")));
    // Reserved symbol in a run.
    EXPECT_FALSE(tccValid(fromHex("8fcd0005 00000001 00000002 00000001 00000000 60010000")));
    // FCI shorter than the fixed fields.
    EXPECT_FALSE(tccValid(fromHex("8fcd0003 00000001 00000002 00000001")));
    // The padding (P bit, count 3) hides what the chunks need.
    EXPECT_FALSE(tccValid(fromHex("afcd0005 00000001 00000002 00000003 00000000 20030503")));
    // Empty runs are walked over.
    const auto emptyBytes =
        fromHex("8fcd0006 00000001 00000002 00000001 00000000 00000000 20010700");
    const auto empty = parseTcc(emptyBytes);
    ASSERT_TRUE(empty);
    const auto packets = packetsOf(*empty);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].delta, 7);
    // The largest status count: 65535 received would need as many deltas.
    EXPECT_FALSE(tccValid(fromHex("8fcd0009 00000001 00000002 0000ffff 00000000"
                                  "3fff 3fff 3fff 3fff 3fff 3fff 3fff 3fff 2007 0000")));
    // ... but 65535 lost ones fit in nine runs.
    const auto allLostBytes = fromHex("8fcd0009 00000001 00000002 0000ffff 00000000"
                                      "1fff 1fff 1fff 1fff 1fff 1fff 1fff 1fff 0007 0000");
    const auto allLost = parseTcc(allLostBytes);
    ASSERT_TRUE(allLost);
    EXPECT_EQ(allLost->receivedCount(), 0u);
    size_t n = 0;
    for (const TccPacket p : *allLost) {
        EXPECT_FALSE(p.received());
        ++n;
    }
    EXPECT_EQ(n, 65535u);
    const auto rebuilt = bytesOf(TransportCc::from(*allLost));
    ASSERT_FALSE(rebuilt.empty());
    EXPECT_EQ(packetsOf(*parseTcc(rebuilt)).size(), 65535u);
}

TEST(RtcpTcc, BuildHundredPacketsRoundTrip) {
    const int64_t start = 10'000'000;
    TransportCcBuilder b(1, 2, 1000, start, 7);
    std::vector<std::pair<uint16_t, int64_t>> sent;
    int64_t t = start;
    uint32_t rnd = 99;
    for (uint16_t seq = 1000; seq < 1100; ++seq) {
        rnd = rnd * 1103515245u + 12345u;
        t += 1000 + (rnd >> 16) % 9000; // 1..10 ms apart
        if (seq % 9 == 4) {
            continue; // lost
        }
        int64_t arrival = t;
        if (seq == 1050) {
            arrival += 120'000; // a late one: large delta, then a negative one
        }
        ASSERT_EQ(b.addReceived(seq, arrival), Add::Ok) << seq;
        sent.emplace_back(seq, arrival);
    }
    EXPECT_EQ(b.statusCount(), 100u);
    EXPECT_EQ(b.receivedCount(), sent.size());
    const auto bytes = build(b);
    const auto v = parseTcc(bytes);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->baseSeq(), 1000);
    EXPECT_EQ(v->statusCount(), 100);
    EXPECT_EQ(v->fbCount(), 7);
    EXPECT_EQ(v->referenceTimeUs(), b.referenceTimeUs());
    EXPECT_EQ(v->referenceTimeUs(), start / 64000 * 64000);
    size_t i = 0;
    bool sawLarge = false;
    bool sawNegative = false;
    for (const TccPacket p : *v) {
        if (i < sent.size() && p.seq == sent[i].first) {
            ASSERT_TRUE(p.received());
            // Quantized to 250 us without drift.
            EXPECT_LE(std::llabs(p.arrivalUs - sent[i].second), 125) << p.seq;
            sawLarge = sawLarge || p.status == TccStatus::LargeDelta;
            sawNegative = sawNegative || p.delta < 0;
            ++i;
        } else {
            EXPECT_FALSE(p.received()) << p.seq;
        }
    }
    EXPECT_EQ(i, sent.size());
    EXPECT_TRUE(sawLarge);
    EXPECT_TRUE(sawNegative);
    // Build, parse, build again: identical.
    EXPECT_EQ(bytesOf(TransportCc::from(*v)), bytes);
}

TEST(RtcpTcc, ChunkSelection) {
    auto chunksFor = [](const std::string& pattern) {
        // 'r' small delta, 'L' large delta, '.' lost.
        TransportCcBuilder b(1, 2, 0, 0, 0, TransportCcBuilder::kMaxSize);
        int64_t t = 0;
        for (size_t i = 0; i < pattern.size(); ++i) {
            const uint16_t seq = static_cast<uint16_t>(i);
            if (pattern[i] == '.') {
                EXPECT_EQ(b.addLost(seq), Add::Ok);
                continue;
            }
            t += pattern[i] == 'L' ? 100'000 : 1000;
            EXPECT_EQ(b.addReceived(seq, t), Add::Ok);
        }
        const auto bytes = build(b);
        const auto v = parseTcc(bytes);
        EXPECT_TRUE(v);
        return v ? chunksOf(*v) : std::vector<uint16_t>{};
    };
    EXPECT_EQ(chunksFor("rrrrrrrrrrrrrrrrrrrr"), (std::vector<uint16_t>{0x2014}));
    EXPECT_EQ(chunksFor("r"), (std::vector<uint16_t>{0x2001}));
    EXPECT_EQ(chunksFor("LL"), (std::vector<uint16_t>{0x4002}));
    // Mixed small and lost: one-bit vectors of 14.
    EXPECT_EQ(chunksFor("r.r.r.r.r.r.r.r.r.r.r.r.r.r."), (std::vector<uint16_t>{0xaaaa, 0xaaaa}));
    // A large delta among them: a two-bit vector of 7.
    EXPECT_EQ(chunksFor("rLr.rrr"), (std::vector<uint16_t>{0xd915}));
    // Mixed with a large delta, then a long run: two-bit vector, then run.
    EXPECT_EQ(chunksFor("rL.rrrr" + std::string(30, 'r')), (std::vector<uint16_t>{0xd855, 0x201e}));
    // Mixed without one: the one-bit vector takes 14, the run the rest.
    EXPECT_EQ(chunksFor("r.rrrrr" + std::string(30, 'r')), (std::vector<uint16_t>{0xafff, 0x2017}));
}

TEST(RtcpTcc, LongLossesUseRuns) {
    TransportCcBuilder b(1, 2, 100, 0, 0);
    ASSERT_EQ(b.addReceived(100, 1000), Add::Ok);
    ASSERT_EQ(b.addReceived(100 + 20000, 2000), Add::Ok); // 19999 lost between
    const auto bytes = build(b);
    EXPECT_EQ(bytes.size(), 20u + 2 * 5 + 2);
    const auto v = parseTcc(bytes);
    ASSERT_TRUE(v);
    // The first received packet and 13 losses share a one-bit vector.
    EXPECT_EQ(chunksOf(*v), (std::vector<uint16_t>{0xa000, 0x1fff, 0x1fff, 0x0e14, 0x2001}));
    EXPECT_EQ(v->statusCount(), 20001);
}

TEST(RtcpTcc, DeltaTooLargeStartsANewFeedback) {
    TransportCcBuilder first(1, 2, 10, 5'000'000, 0);
    ASSERT_EQ(first.addReceived(10, 5'000'000), Add::Ok);
    ASSERT_EQ(first.addReceived(11, 5'010'000), Add::Ok);
    // 9 s later: beyond the signed 16-bit delta (8191.75 ms).
    const int64_t late = 14'010'000;
    EXPECT_EQ(first.addReceived(12, late), Add::DeltaTooLarge);
    EXPECT_EQ(first.statusCount(), 2u); // unchanged
    TransportCcBuilder second(1, 2, 12, late, 1);
    ASSERT_EQ(second.addReceived(12, late), Add::Ok);
    const auto b1 = build(first);
    const auto b2 = build(second);
    const auto v1 = parseTcc(b1);
    const auto v2 = parseTcc(b2);
    ASSERT_TRUE(v1 && v2);
    EXPECT_EQ(v1->statusCount(), 2);
    EXPECT_EQ(v2->baseSeq(), 12);
    EXPECT_EQ(v2->fbCount(), 1);
    EXPECT_EQ(packetsOf(*v2)[0].arrivalUs, late);
    // Exactly at the limits.
    TransportCcBuilder edge(1, 2, 0, 0, 0);
    EXPECT_EQ(edge.addReceived(0, 32767 * 250), Add::Ok);
    EXPECT_EQ(edge.addReceived(1, 32767 * 250 - 32768 * 250), Add::Ok);
    EXPECT_EQ(edge.addReceived(2, -250 - 32769 * 250), Add::DeltaTooLarge);
}

TEST(RtcpTcc, OrderingRules) {
    TransportCcBuilder b(1, 2, 65530, 0, 0);
    EXPECT_EQ(b.addReceived(65529, 0), Add::OutOfOrder); // before the base
    EXPECT_EQ(b.addReceived(65531, 1000), Add::Ok);      // base itself lost
    EXPECT_EQ(b.addReceived(65531, 2000), Add::OutOfOrder);
    EXPECT_EQ(b.addReceived(2, 3000), Add::Ok); // across the wrap
    EXPECT_EQ(b.addLost(3), Add::Ok);
    EXPECT_EQ(b.statusCount(), 10u);
    const auto built = build(b);
    const auto v = parseTcc(built);
    ASSERT_TRUE(v);
    const auto packets = packetsOf(*v);
    ASSERT_EQ(packets.size(), 10u);
    EXPECT_EQ(packets[0].seq, 65530);
    EXPECT_FALSE(packets[0].received());
    EXPECT_EQ(packets[8].seq, 2);
    EXPECT_EQ(packets[8].arrivalUs, 3000);
    EXPECT_FALSE(packets[9].received());
}

TEST(RtcpTcc, FullLeavesTheBuilderUnchanged) {
    TransportCcBuilder b(1, 2, 0, 0, 0, 60);
    int64_t t = 0;
    uint16_t seq = 0;
    while (true) {
        t += 100'000; // large deltas: 2 octets each
        const auto before = build(b);
        const auto r = b.addReceived(seq, t);
        if (r == Add::Full) {
            EXPECT_EQ(build(b), before);
            break;
        }
        ASSERT_EQ(r, Add::Ok);
        ++seq;
    }
    EXPECT_LE(b.size(), 60u);
    EXPECT_GT(b.size(), 52u);
    EXPECT_TRUE(tccValid(build(b)));
}

TEST(RtcpTcc, ZeroPaddingWithoutThePBit) {
    TransportCcBuilder b(1, 2, 0, 0, 0);
    b.setPaddingBit(false);
    ASSERT_EQ(b.addReceived(0, 250), Add::Ok);
    const auto bytes = build(b);
    EXPECT_EQ(toHex(bytes), "8fcd0005 00000001 00000002 00000001 00000000 20010100");
    const auto v = parseTcc(bytes);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->padded());
    TransportCcBuilder p(1, 2, 0, 0, 0);
    ASSERT_EQ(p.addReceived(0, 250), Add::Ok);
    EXPECT_EQ(toHex(build(p)), "afcd0005 00000001 00000002 00000001 00000000 20010101");
    EXPECT_EQ(p.serialize(nullptr, 100), 0u);
    uint8_t small[23];
    EXPECT_EQ(p.serialize(small, sizeof small), 0u);
}

TEST(RtcpTcc, ReferenceTimeWrapsTo24Bits) {
    const int64_t ref = (int64_t{1} << 24) * 64000 + 3 * 64000 + 5;
    TransportCcBuilder b(1, 2, 0, ref, 0);
    EXPECT_EQ(b.referenceTime(), 3u);
    ASSERT_EQ(b.addReceived(0, ref + 1000), Add::Ok);
    const auto built = build(b);
    const auto v = parseTcc(built);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->referenceTime(), 3);
    // Delta counted from the 64 ms boundary: 5 us + 1000 us rounds to 4 ticks.
    EXPECT_EQ(packetsOf(*v)[0].delta, 4);
    TransportCcBuilder neg(1, 2, 0, -1, 0);
    EXPECT_EQ(neg.referenceTime(), 0xFFFFFFu);
    EXPECT_EQ(neg.referenceTimeUs(), -64000);
}
