#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <memory>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

TEST(RtcpPacket, DemuxByPayloadType) {
    const auto sr = fromHex("80c80000");
    EXPECT_TRUE(isRtcp(sr.data(), sr.size()));
    const auto rtp = fromHex("80600001 00000000 00000001"); // PT 96
    EXPECT_FALSE(isRtcp(rtp.data(), rtp.size()));
    const auto rtpMarker = fromHex("80e00001"); // PT 96 with the marker bit is 224
    EXPECT_FALSE(isRtcp(rtpMarker.data(), rtpMarker.size()));
    EXPECT_FALSE(isRtcp(sr.data(), 3));
    const auto v1 = fromHex("40c80000");
    EXPECT_FALSE(isRtcp(v1.data(), v1.size()));
}

TEST(RtcpPacket, HeaderOnlyPacketIsWellFormed) {
    const auto b = fromHex("80c80000");
    const auto pkt = PacketView::parse(b.data(), b.size());
    ASSERT_TRUE(pkt);
    EXPECT_EQ(pkt->size(), 4u);
    EXPECT_EQ(pkt->bodySize(), 0u);
    EXPECT_TRUE(pkt->is(PacketType::SR));
    // ... but too short to be a sender report.
    EXPECT_FALSE(SenderReportView::parse(*pkt));
    EXPECT_FALSE(decode(*pkt));
}

TEST(RtcpPacket, RejectsBadHeaders) {
    auto b = fromHex("80c80000");
    EXPECT_FALSE(PacketView::parse(b.data(), 3));
    EXPECT_FALSE(PacketView::parse(nullptr, 4));
    b[0] = 0x00; // version 0
    EXPECT_FALSE(PacketView::parse(b.data(), b.size()));
    b[0] = 0x80;
    b[3] = 1; // claims 8 bytes, has 4
    EXPECT_FALSE(PacketView::parse(b.data(), b.size()));
}

TEST(RtcpPacket, Padding) {
    // RR without blocks plus 4 octets of padding (pad count 4).
    const auto ok = fromHex("a0c90002 11223344 00000004");
    const auto pkt = PacketView::parse(ok.data(), ok.size());
    ASSERT_TRUE(pkt);
    EXPECT_TRUE(pkt->padded());
    EXPECT_EQ(pkt->paddingSize(), 4u);
    EXPECT_EQ(pkt->bodySize(), 4u);
    const auto rr = ReceiverReportView::parse(*pkt);
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->ssrc(), 0x11223344u);
    EXPECT_TRUE(rr->extension().empty());

    // A pad count of zero, or one reaching into the header, is invalid.
    const auto zero = fromHex("a0c90002 11223344 00000000");
    EXPECT_FALSE(PacketView::parse(zero.data(), zero.size()));
    const auto tooBig = fromHex("a0c90002 11223344 00000009");
    EXPECT_FALSE(PacketView::parse(tooBig.data(), tooBig.size()));
    // Padding may eat the whole body.
    const auto all = fromHex("a0c90002 00000000 00000008");
    const auto allPkt = PacketView::parse(all.data(), all.size());
    ASSERT_TRUE(allPkt);
    EXPECT_EQ(allPkt->bodySize(), 0u);
    EXPECT_FALSE(ReceiverReportView::parse(*allPkt));
}

TEST(RtcpCompound, WalksEveryPacketOfAChromeCompound) {
    const auto b = fromHex(vectors::kChromeSrSdes);
    const CompoundView c(b.data(), b.size());
    EXPECT_TRUE(c.valid());
    EXPECT_EQ(c.packetCount(), 2u);
    std::vector<uint8_t> types;
    for (const PacketView pkt : c) {
        types.push_back(pkt.type());
    }
    EXPECT_EQ(types, (std::vector<uint8_t>{200, 202}));
}

TEST(RtcpCompound, FirefoxCompound) {
    const auto b = fromHex(vectors::kFirefoxCompound);
    ASSERT_EQ(b.size(), 132u);
    const CompoundView c(b.data(), b.size());
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(c.packetCount(), 6u);
    const auto packets = decodeCompound(b.data(), b.size());
    ASSERT_TRUE(packets);
    ASSERT_EQ(packets->size(), 6u);
    const auto& rr = std::get<ReceiverReport>((*packets)[0]);
    EXPECT_EQ(rr.ssrc, 0x902f9e2eu);
    ASSERT_EQ(rr.reportBlocks.size(), 1u);
    EXPECT_EQ(rr.reportBlocks[0].ssrc, 0xbc5e9a40u);
    EXPECT_EQ(rr.reportBlocks[0].highestSeq, 0x46e1u);
    EXPECT_EQ(rr.reportBlocks[0].jitter, 273u);
    EXPECT_EQ(rr.reportBlocks[0].lastSr, 0x9f36432u);
    EXPECT_EQ(rr.reportBlocks[0].delaySinceLastSr, 150137u);
    const auto& sdes = std::get<Sdes>((*packets)[1]);
    ASSERT_EQ(sdes.chunks.size(), 1u);
    EXPECT_EQ(sdes.chunks[0].items[0].value, "{9c00eb92-1afb-9d49-a47d-91f64eee69f5}");
    EXPECT_EQ(std::get<Bye>((*packets)[2]).ssrcs, std::vector<uint32_t>{0x902f9e2e});
    EXPECT_EQ(std::get<Pli>((*packets)[3]).mediaSsrc, 0x902f9e2eu);
    EXPECT_EQ(std::get<SrReq>((*packets)[4]).senderSsrc, 0x902f9e2eu);
    const auto& app = std::get<App>((*packets)[5]);
    EXPECT_EQ(std::string(app.name.data(), 4), "NAME");
    EXPECT_EQ(app.data, (std::vector<uint8_t>{'A', 'B', 'C', 'D'}));
}

TEST(RtcpCompound, UnknownTypeIsSkippedByItsLength) {
    // SR, then type 210 with 8 body octets, then an RR.
    const auto b = fromHex("80c80000 80d20002 01020304 05060708 80c90001 0badcafe");
    const CompoundView c(b.data(), b.size());
    ASSERT_TRUE(c.valid());
    std::vector<uint8_t> types;
    for (const PacketView pkt : c) {
        types.push_back(pkt.type());
    }
    EXPECT_EQ(types, (std::vector<uint8_t>{200, 210, 201}));
    auto it = c.begin();
    ++it;
    const auto unknown = decode(*it);
    ASSERT_TRUE(unknown);
    const auto& u = std::get<UnknownPacket>(*unknown);
    EXPECT_EQ(u.type, 210);
    EXPECT_EQ(u.body.size(), 8u);
    EXPECT_EQ(bytesOf(*unknown), std::vector<uint8_t>(b.begin() + 4, b.begin() + 16));
}

TEST(RtcpCompound, StopsAtTheFirstBadPacket) {
    // A good RR, then a header claiming 100 words.
    const auto b = fromHex("80c90001 0badcafe 80c90064 00000000");
    const CompoundView c(b.data(), b.size());
    EXPECT_FALSE(c.valid());
    EXPECT_EQ(c.validSize(), 8u);
    EXPECT_EQ(c.packetCount(), 1u);
    EXPECT_FALSE(decodeCompound(b.data(), b.size()));
}

TEST(RtcpCompound, EmptyAndGarbage) {
    EXPECT_FALSE(CompoundView(nullptr, 0).valid());
    EXPECT_EQ(CompoundView(nullptr, 0).packetCount(), 0u);
    const auto junk = fromHex("00000000 00000000");
    EXPECT_FALSE(CompoundView(junk.data(), junk.size()).valid());
    // Trailing octets shorter than a header.
    const auto tail = fromHex("80c90001 0badcafe 80");
    EXPECT_FALSE(CompoundView(tail.data(), tail.size()).valid());
    EXPECT_EQ(CompoundView(tail.data(), tail.size()).packetCount(), 1u);
}

namespace {

// Every prefix of a compound, in a buffer of exactly that size so a sanitizer
// run catches any overread: valid only when it ends on a packet boundary.
void checkTruncations(const std::vector<uint8_t>& full) {
    std::vector<size_t> boundaries;
    size_t off = 0;
    for (const PacketView pkt : CompoundView(full.data(), full.size())) {
        off += pkt.size();
        boundaries.push_back(off);
    }
    ASSERT_EQ(off, full.size());
    for (size_t len = 0; len < full.size(); ++len) {
        auto buf = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
        std::memcpy(buf.get(), full.data(), len);
        const CompoundView c(buf.get(), len);
        const bool boundary =
            len > 0 && std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
        EXPECT_EQ(c.valid(), boundary) << "len " << len;
        walkEverything(buf.get(), len);
        if (const auto packets = decodeCompound(buf.get(), len)) {
            EXPECT_TRUE(boundary);
        }
    }
}

} // namespace

TEST(RtcpCompound, EveryTruncationIsRejectedOrSafe) {
    for (const char* v :
         {vectors::kChromeSrSdes, vectors::kRrRemb, vectors::kFirefoxCompound, vectors::kNack,
          vectors::kPli, vectors::kFir, vectors::kTccRun1, vectors::kTccRun7, vectors::kTccOneBit,
          vectors::kTccLongRun, vectors::kXrAllBlocks}) {
        SCOPED_TRACE(v);
        checkTruncations(fromHex(v));
    }
}

TEST(RtcpCompound, LengthFieldTamperingIsRejectedOrSafe) {
    // Rewrite each packet's length field to every small value and walk.
    const auto full = fromHex(vectors::kFirefoxCompound);
    size_t off = 0;
    for (const PacketView pkt : CompoundView(full.data(), full.size())) {
        for (uint16_t words = 0; words < 40; ++words) {
            auto b = full;
            b[off + 2] = static_cast<uint8_t>(words >> 8);
            b[off + 3] = static_cast<uint8_t>(words);
            auto buf = std::make_unique<uint8_t[]>(b.size());
            std::memcpy(buf.get(), b.data(), b.size());
            walkEverything(buf.get(), b.size());
            decodeCompound(buf.get(), b.size());
        }
        off += pkt.size();
    }
}

TEST(RtcpCompound, CountFieldTamperingIsRejectedOrSafe) {
    // Every count value (RC, SC, FMT) on every packet of every vector.
    for (const char* v : {vectors::kChromeSrSdes, vectors::kRrRemb, vectors::kFirefoxCompound,
                          vectors::kTccOneBit, vectors::kXrAllBlocks, vectors::kFir}) {
        const auto full = fromHex(v);
        size_t off = 0;
        for (const PacketView pkt : CompoundView(full.data(), full.size())) {
            for (uint8_t count = 0; count < 32; ++count) {
                auto b = full;
                b[off] = static_cast<uint8_t>((b[off] & 0xE0) | count);
                auto buf = std::make_unique<uint8_t[]>(b.size());
                std::memcpy(buf.get(), b.data(), b.size());
                walkEverything(buf.get(), b.size());
            }
            off += pkt.size();
        }
    }
}

TEST(RtcpCompound, RandomMutationsAreSafe) {
    // Deterministic byte flips over all vectors: nothing may crash or read
    // outside the buffer, and whatever decodes must re-encode stably.
    uint32_t state = 12345;
    auto next = [&] {
        state = state * 1664525u + 1013904223u;
        return state >> 8;
    };
    for (const char* v :
         {vectors::kChromeSrSdes, vectors::kRrRemb, vectors::kFirefoxCompound, vectors::kTccRun7,
          vectors::kTccOneBit, vectors::kTccLongRun, vectors::kXrAllBlocks}) {
        const auto full = fromHex(v);
        for (int round = 0; round < 2000; ++round) {
            auto b = full;
            const int flips = 1 + static_cast<int>(next() % 4);
            for (int i = 0; i < flips; ++i) {
                b[next() % b.size()] = static_cast<uint8_t>(next());
            }
            auto buf = std::make_unique<uint8_t[]>(b.size());
            std::memcpy(buf.get(), b.data(), b.size());
            walkEverything(buf.get(), b.size());
            for (const PacketView pkt : CompoundView(buf.get(), b.size())) {
                const auto p1 = decode(pkt);
                if (!p1) {
                    continue;
                }
                const auto b1 = bytesOf(*p1);
                if (b1.empty()) {
                    continue;
                }
                const auto pkt1 = PacketView::parse(b1.data(), b1.size());
                ASSERT_TRUE(pkt1);
                const auto p2 = decode(*pkt1);
                ASSERT_TRUE(p2) << toHex(b1);
                EXPECT_EQ(bytesOf(*p2), b1);
            }
        }
    }
}

TEST(RtcpCompound, WriterAppendsPackets) {
    uint8_t buf[256];
    CompoundWriter w(buf, sizeof buf);
    ReceiverReport rr;
    rr.ssrc = 0x11111111;
    rr.reportBlocks.push_back({0x22222222, 12, 34, 56, 78, 90, 12});
    Sdes sdes;
    sdes.chunks.push_back({0x11111111, {{1, "abcd"}}});
    ASSERT_TRUE(w.add(rr));
    ASSERT_TRUE(w.add(Packet(sdes)));
    w.advance(
        writeRemb(0x11111111, 500000, std::vector<uint32_t>{0x33333333}, w.cursor(), w.room()));
    const CompoundView c(buf, w.size());
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(c.packetCount(), 3u);
    const auto packets = decodeCompound(buf, w.size());
    ASSERT_TRUE(packets);
    EXPECT_EQ(std::get<ReceiverReport>((*packets)[0]), rr);
    EXPECT_EQ(std::get<Sdes>((*packets)[1]), sdes);
    EXPECT_EQ(std::get<Remb>((*packets)[2]).bitrate(), 500000u);

    // A packet that does not fit leaves the buffer as it was.
    CompoundWriter small(buf, 40);
    EXPECT_TRUE(small.add(rr));
    EXPECT_FALSE(small.add(sdes));
    EXPECT_EQ(small.size(), rr.size());
}
