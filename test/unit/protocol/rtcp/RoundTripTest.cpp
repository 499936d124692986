// Serialize then parse gives the same packet, byte for byte, for every type.
#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

namespace {

// One value of every alternative of Packet.
std::vector<Packet> everyType() {
    std::vector<Packet> v;
    SenderReport sr;
    sr.ssrc = 0x11111111;
    sr.info = {0xe1e2e3e4e5e6e7e8ULL, 123456, 77, 88888};
    sr.reportBlocks.push_back({0x22222222, 25, -1, 0x00015555, 30, 0x55556666, 1000});
    v.emplace_back(sr);

    ReceiverReport rr;
    rr.ssrc = 0x33333333;
    rr.reportBlocks.push_back({0x44444444, 0, 0x123456, 0x10000, 2, 3, 4});
    rr.reportBlocks.push_back({0x55555555, 255, -0x800000, 0xffffffff, 0, 0, 0});
    v.emplace_back(rr);

    Sdes sdes;
    sdes.chunks.push_back({0x11111111, {{1, "user@host"}, {6, "sfu"}}});
    v.emplace_back(sdes);

    v.emplace_back(Bye{{0x11111111, 0x22222222}, std::string("bye")});
    v.emplace_back(App{3, 0x11111111, {'a', 'b', 'c', 'd'}, {0, 1, 2, 3}});

    Xr xr;
    xr.ssrc = 0x66666666;
    xr.blocks.emplace_back(XrRrt{0x0102030405060708ULL});
    xr.blocks.emplace_back(XrDlrr{{{1, 2, 3}, {4, 5, 6}}});
    xr.blocks.emplace_back(XrRawBlock{42, 7, {9, 9, 9, 9}});
    v.emplace_back(xr);

    v.emplace_back(Nack{1, 2, {{100, 0x8001}, {300, 0}}});
    v.emplace_back(Tmmbr{1, 2, {TmmbItem::make(3, 2'000'000, 60)}});
    v.emplace_back(Tmmbn{1, 2, {TmmbItem::make(3, 1'500'000, 60)}});
    v.emplace_back(SrReq{1, 2});
    v.emplace_back(Tllei{1, 2, {{7, 0x00f0}}});
    v.emplace_back(Ecn{1, 2, {{1, 2, 3, 4, 5, 6, 7}}});

    TransportCc tcc;
    tcc.senderSsrc = 1;
    tcc.mediaSsrc = 2;
    tcc.baseSeq = 65533;
    tcc.referenceTime = 100;
    tcc.fbCount = 9;
    int64_t t = 100 * kTccReferenceUs;
    int16_t deltas[] = {4, 0, 300, -20, 255, 256};
    uint16_t seq = 65533;
    for (const int16_t d : deltas) {
        t += d * kTccDeltaUs;
        const TccStatus s = d >= 0 && d <= 255 ? TccStatus::SmallDelta : TccStatus::LargeDelta;
        tcc.packets.push_back({seq++, s, d, t});
        tcc.packets.push_back({seq++, TccStatus::NotReceived, 0, 0});
    }
    v.emplace_back(tcc);

    v.emplace_back(Pli{1, 2});
    v.emplace_back(Sli{1, 2, {{10, 20, 30}}});
    v.emplace_back(Rpsi{1, 2, 4, 100, {0xf0, 0x0f, 0xaa, 0x55, 0x01, 0x10}});
    v.emplace_back(Fir{1, 0, {{2, 1}, {3, 255}}});
    v.emplace_back(Tstr{1, 0, {{2, 5, 6}}});
    v.emplace_back(Tstn{1, 0, {{2, 5, 7}}});
    v.emplace_back(Vbcm{1, 2, {{3, 4, 5, {6, 7, 8}}}});
    v.emplace_back(PsLei{1, 2, {3, 4, 5}});
    v.emplace_back(Remb::make(1, 3'000'000, {2, 3}));
    v.emplace_back(Afb{1, 2, {'a', 'b', 'c', 'd', 1, 2, 3, 4}});
    v.emplace_back(UnknownPacket{222, 17, {1, 2, 3, 4}});
    return v;
}

} // namespace

TEST(RtcpRoundTrip, EveryTypeBuildParseBuild) {
    const auto packets = everyType();
    std::set<size_t> seen;
    for (const Packet& p : packets) {
        SCOPED_TRACE(p.index());
        seen.insert(p.index());
        const auto b1 = bytesOf(p);
        ASSERT_FALSE(b1.empty());
        EXPECT_EQ(b1.size(), packetSize(p));
        EXPECT_EQ(b1.size() % 4, 0u);
        const auto view = PacketView::parse(b1.data(), b1.size());
        ASSERT_TRUE(view);
        EXPECT_EQ(view->size(), b1.size());
        const auto back = decode(*view);
        ASSERT_TRUE(back) << toHex(b1);
        EXPECT_EQ(back->index(), p.index());
        EXPECT_EQ(*back, p);
        EXPECT_EQ(bytesOf(*back), b1);
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<Packet>);
}

TEST(RtcpRoundTrip, EveryTypeInOneCompound) {
    const auto packets = everyType();
    std::vector<uint8_t> buf(4096);
    CompoundWriter w(buf.data(), buf.size());
    for (const Packet& p : packets) {
        ASSERT_TRUE(w.add(p));
    }
    const auto decoded = decodeCompound(buf.data(), w.size());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, packets);
}

TEST(RtcpRoundTrip, RealBytesRebuildIdentically) {
    for (const char* v :
         {vectors::kChromeSrSdes, vectors::kRrRemb, vectors::kFirefoxCompound, vectors::kNack,
          vectors::kPli, vectors::kFir, vectors::kTccRun1, vectors::kTccRun7, vectors::kTccOneBit,
          vectors::kTccNegativeRef, vectors::kXrAllBlocks}) {
        SCOPED_TRACE(v);
        const auto b = fromHex(v);
        const auto packets = decodeCompound(b.data(), b.size());
        ASSERT_TRUE(packets);
        std::vector<uint8_t> out(b.size() + 64);
        CompoundWriter w(out.data(), out.size());
        for (const Packet& p : *packets) {
            ASSERT_TRUE(w.add(p));
        }
        out.resize(w.size());
        EXPECT_EQ(toHex(out), toHex(b));
    }
}

TEST(RtcpRoundTrip, SerializeRefusesTooSmallBuffers) {
    for (const Packet& p : everyType()) {
        SCOPED_TRACE(p.index());
        const size_t size = packetSize(p);
        std::vector<uint8_t> buf(size);
        EXPECT_EQ(serialize(p, buf.data(), size - 1), 0u);
        EXPECT_EQ(serialize(p, buf.data(), size), size);
        EXPECT_EQ(serialize(p, nullptr, size), 0u);
    }
}
