#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <gtest/gtest.h>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

namespace {

PacketView pkt(const std::vector<uint8_t>& b, size_t n = 0) {
    auto it = CompoundView(b.data(), b.size()).begin();
    for (size_t i = 0; i < n; ++i) {
        ++it;
    }
    return *it;
}

} // namespace

TEST(RtcpNack, ChromeNack) {
    const auto b = fromHex(vectors::kNack);
    const auto nack = NackView::parse(pkt(b));
    ASSERT_TRUE(nack);
    EXPECT_EQ(nack->senderSsrc(), 1u);
    EXPECT_EQ(nack->mediaSsrc(), 0x0330bdeeu);
    ASSERT_EQ(nack->items().size(), 1u);
    EXPECT_EQ(nack->items()[0], (NackItem{2959, 0x0003}));
    EXPECT_EQ(nack->items()[0].packetCount(), 3u);
    EXPECT_EQ(expandNack(nack->items()), (std::vector<uint16_t>{2959, 2960, 2961}));
    // Not any other feedback type.
    EXPECT_FALSE(TlleiView::parse(pkt(b)));
    EXPECT_FALSE(PliView::parse(pkt(b)));
    EXPECT_FALSE(TransportCcView::parse(pkt(b)));

    uint8_t buf[32];
    const NackItem items[] = {{2959, 3}};
    const size_t n = writeNack(1, 0x0330bdee, items, buf, sizeof buf);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), b);
}

TEST(RtcpNack, CompressAndExpand) {
    const std::vector<uint16_t> seqs = {100, 101, 105, 116, 117, 200, 65534, 65535, 0, 3};
    const auto items = compressNack(seqs);
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0], (NackItem{100, 0x0001 | 0x0010 | 0x8000}));
    EXPECT_EQ(items[1], (NackItem{117, 0}));
    EXPECT_EQ(items[2], (NackItem{200, 0}));
    // Wraps around zero inside one entry.
    EXPECT_EQ(items[3], (NackItem{65534, 0x0001 | 0x0002 | 0x0010}));
    EXPECT_EQ(expandNack(std::span<const NackItem>(items)), seqs);

    // Duplicates are dropped; the output span bounds the entries.
    const std::vector<uint16_t> dup = {5, 5, 6, 40, 80};
    NackItem out[2];
    EXPECT_EQ(compressNack(dup, out), 2u);
    EXPECT_EQ(out[0], (NackItem{5, 1}));
    EXPECT_EQ(out[1], (NackItem{40, 0}));
    EXPECT_TRUE(compressNack(std::span<const uint16_t>()).empty());
}

TEST(RtcpNack, CompressEveryGap) {
    // Each sequence number of a dense range is nacked exactly once.
    std::vector<uint16_t> seqs;
    for (unsigned k = 0; k < 400; ++k) {
        seqs.push_back(static_cast<uint16_t>(65000 + 3 * k));
    }
    EXPECT_EQ(expandNack(std::span<const NackItem>(compressNack(seqs))), seqs);
}

TEST(RtcpPsfb, ChromePli) {
    const auto b = fromHex(vectors::kPli);
    const auto pli = PliView::parse(pkt(b));
    ASSERT_TRUE(pli);
    EXPECT_EQ(pli->senderSsrc(), 0x902f9e2eu);
    EXPECT_EQ(pli->mediaSsrc(), 0x902f9e2eu);
    uint8_t buf[16];
    EXPECT_EQ(writePli(0x902f9e2e, 0x902f9e2e, buf, sizeof buf), 12u);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + 12), b);
    EXPECT_EQ(writePli(1, 2, buf, 11), 0u);
}

TEST(RtcpPsfb, ChromeFir) {
    const auto b = fromHex(vectors::kFir);
    const auto fir = FirView::parse(pkt(b));
    ASSERT_TRUE(fir);
    EXPECT_EQ(fir->senderSsrc(), 0xfa17fa17u);
    EXPECT_EQ(fir->mediaSsrc(), 0u);
    ASSERT_EQ(fir->items().size(), 1u);
    EXPECT_EQ(fir->items()[0], (FirItem{0x02d03702, 4}));
    uint8_t buf[32];
    const FirItem items[] = {{0x02d03702, 4}};
    const size_t n = writeFir(0xfa17fa17, items, buf, sizeof buf);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), b);
    // An FCI that is not a whole number of 8-octet entries.
    const auto bad = fromHex("84ce0003 fa17fa17 00000000 02d03702");
    EXPECT_FALSE(FirView::parse(pkt(bad)));
}

TEST(RtcpPsfb, Remb) {
    const auto b = fromHex(vectors::kRrRemb);
    const auto remb = RembView::parse(pkt(b, 1));
    ASSERT_TRUE(remb);
    EXPECT_EQ(remb->senderSsrc(), 0xfa17fa17u);
    EXPECT_EQ(remb->mediaSsrc(), 0u);
    EXPECT_EQ(remb->exp(), 0);
    EXPECT_EQ(remb->mantissa(), 122754u);
    EXPECT_EQ(remb->bitrate(), 122754u);
    ASSERT_EQ(remb->ssrcs().size(), 2u);
    EXPECT_EQ(remb->ssrcs()[0], 0x02d03702u);
    EXPECT_EQ(remb->ssrcs()[1], 0x04a76747u);

    uint8_t buf[64];
    const uint32_t ssrcs[] = {0x02d03702, 0x04a76747};
    const size_t n = writeRemb(0xfa17fa17, 122754, ssrcs, buf, sizeof buf);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), std::vector<uint8_t>(b.begin() + 32, b.end()));
}

TEST(RtcpPsfb, RembBitrateEncoding) {
    for (const uint64_t bps :
         {0ULL, 1ULL, 262143ULL, 262144ULL, 1000000ULL, 2500000ULL, 123456789ULL, 10000000000ULL}) {
        const Remb r = Remb::make(1, bps, {2});
        EXPECT_LT(r.mantissa, 1u << 18);
        // Precision is the top 18 bits.
        EXPECT_LE(bps - r.bitrate(), bps >> 17) << bps;
        const auto b = bytesOf(r);
        const auto view = RembView::parse(*PacketView::parse(b.data(), b.size()));
        ASSERT_TRUE(view);
        EXPECT_EQ(view->bitrate(), r.bitrate());
    }
    EXPECT_EQ(decodeBitrate(63, 0x3FFFF), UINT64_MAX);
    EXPECT_EQ(decodeBitrate(46, 0x3FFFF), 0x3FFFFULL << 46);
    EXPECT_EQ(decodeBitrate(47, 0x3FFFF), UINT64_MAX);
    EXPECT_EQ(decodeBitrate(63, 0), 0u);
}

TEST(RtcpPsfb, RembHostileAndGenericAfb) {
    // SSRC count says 3, two present: not a REMB, kept as generic AFB.
    auto b = fromHex("8fce0006 fa17fa17 00000000 52454d42 0301df82 02d03702 04a76747");
    EXPECT_FALSE(RembView::parse(pkt(b)));
    const auto decoded = decode(pkt(b));
    ASSERT_TRUE(decoded);
    ASSERT_TRUE(std::holds_alternative<Afb>(*decoded));
    EXPECT_EQ(bytesOf(*decoded), b);
    // Too short for the REMB header.
    b = fromHex("8fce0003 fa17fa17 00000000 52454d42");
    EXPECT_FALSE(RembView::parse(pkt(b)));
    // Zero SSRCs is a valid REMB.
    b = fromHex("8fce0004 fa17fa17 00000000 52454d42 00000000");
    const auto empty = RembView::parse(pkt(b));
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->ssrcs().empty());
    EXPECT_EQ(empty->bitrate(), 0u);
}

TEST(RtcpRtpfb, Tmmbr) {
    // RFC 5104 example shape: 1 entry, exponent and mantissa, overhead 40.
    Tmmbr t{1, 0, {TmmbItem::make(0x11223344, 1000000, 40)}};
    const auto b = bytesOf(t);
    EXPECT_EQ(b[0], 0x83);
    EXPECT_EQ(b[1], 205);
    const auto view = TmmbrView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(view);
    const TmmbItem item = view->items()[0];
    EXPECT_EQ(item.ssrc, 0x11223344u);
    EXPECT_EQ(item.bitrate(), 1000000u);
    EXPECT_EQ(item.overhead, 40);
    EXPECT_EQ(Tmmbr::from(*view), t);
    EXPECT_FALSE(TmmbnView::parse(*PacketView::parse(b.data(), b.size())));

    Tmmbn n{1, 0, {TmmbItem::make(5, 64000, 511), TmmbItem::make(6, 1ULL << 40, 0)}};
    const auto bn = bytesOf(n);
    EXPECT_EQ(Tmmbn::from(*TmmbnView::parse(*PacketView::parse(bn.data(), bn.size()))), n);
    EXPECT_EQ(n.items[1].bitrate(), 1ULL << 40);
}

TEST(RtcpRtpfb, SrReqTlleiEcn) {
    const SrReq req{7, 8};
    const auto b = bytesOf(req);
    EXPECT_EQ(toHex(b), "85cd0002 00000007 00000008");
    EXPECT_EQ(SrReq::from(*SrReqView::parse(*PacketView::parse(b.data(), b.size()))), req);

    const Tllei tllei{7, 8, {{1000, 0x8001}}};
    const auto bt = bytesOf(tllei);
    EXPECT_EQ(toHex(bt), "87cd0003 00000007 00000008 03e88001");
    EXPECT_EQ(Tllei::from(*TlleiView::parse(*PacketView::parse(bt.data(), bt.size()))), tllei);

    const Ecn ecn{7, 8, {{0x00012345, 100, 2, 3, 4, 5, 6}}};
    const auto be = bytesOf(ecn);
    EXPECT_EQ(toHex(be), "88cd0007 00000007 00000008 00012345 00000064 00000002 00030004 00050006");
    EXPECT_EQ(Ecn::from(*EcnView::parse(*PacketView::parse(be.data(), be.size()))), ecn);
}

TEST(RtcpPsfb, SliTstLei) {
    const Sli sli{1, 2, {{0x1FFF, 1, 63}, {0, 0x1FFF, 0}}};
    const auto b = bytesOf(sli);
    EXPECT_EQ(toHex(b), "82ce0004 00000001 00000002 fff8007f 0007ffc0");
    EXPECT_EQ(Sli::from(*SliView::parse(*PacketView::parse(b.data(), b.size()))), sli);

    const Tstr tstr{1, 0, {{0xabcdef01, 9, 31}}};
    const auto br = bytesOf(tstr);
    EXPECT_EQ(toHex(br), "85ce0004 00000001 00000000 abcdef01 0900001f");
    EXPECT_EQ(Tstr::from(*TstrView::parse(*PacketView::parse(br.data(), br.size()))), tstr);
    const Tstn tstn{1, 0, {{0xabcdef01, 9, 3}}};
    const auto bn = bytesOf(tstn);
    EXPECT_EQ(bn[0], 0x86);
    EXPECT_EQ(Tstn::from(*TstnView::parse(*PacketView::parse(bn.data(), bn.size()))), tstn);

    const PsLei lei{1, 2, {0x01020304, 0x05060708}};
    const auto bl = bytesOf(lei);
    EXPECT_EQ(toHex(bl), "88ce0004 00000001 00000002 01020304 05060708");
    EXPECT_EQ(PsLei::from(*PsLeiView::parse(*PacketView::parse(bl.data(), bl.size()))), lei);
}

TEST(RtcpPsfb, Rpsi) {
    // A 16-bit picture ID, no padding bits.
    const Rpsi r{1, 2, 0, 96, {0x12, 0x34}};
    const auto b = bytesOf(r);
    EXPECT_EQ(toHex(b), "83ce0003 00000001 00000002 00601234");
    const auto view = RpsiView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->payloadType(), 96);
    EXPECT_EQ(view->bitLength(), 16u);
    EXPECT_EQ(Rpsi::from(*view), r);
    // An odd-length bit string is padded with zero octets.
    const Rpsi odd{1, 2, 8, 100, {0xab, 0xcd, 0xef}};
    const auto bo = bytesOf(odd);
    EXPECT_EQ(toHex(bo), "83ce0004 00000001 00000002 0864abcd ef000000");
    // Padding bits beyond the bit string.
    const auto bad = fromHex("83ce0003 00000001 00000002 11601234");
    EXPECT_FALSE(RpsiView::parse(*PacketView::parse(bad.data(), bad.size())));
}

TEST(RtcpPsfb, Vbcm) {
    const Vbcm v{1, 2, {{0x0a0b0c0d, 3, 97, {1, 2, 3, 4, 5}}, {0x01010101, 4, 98, {}}}};
    const auto b = bytesOf(v);
    EXPECT_EQ(toHex(b),
              "87ce0008 00000001 00000002 0a0b0c0d 03610005 01020304 05000000 01010101 04620000");
    const auto view = VbcmView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(view);
    size_t n = 0;
    for (const VbcmItemView item : *view) {
        EXPECT_EQ(item.data.size(), n == 0 ? 5u : 0u);
        ++n;
    }
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(Vbcm::from(*view), v);
    // Entry length past the FCI.
    const auto bad = fromHex("87ce0004 00000001 00000002 0a0b0c0d 03610009");
    EXPECT_FALSE(VbcmView::parse(*PacketView::parse(bad.data(), bad.size())));
}

TEST(RtcpFeedback, TooShortForTheSsrcs) {
    const auto b = fromHex("81cd0001 00000001");
    EXPECT_FALSE(FeedbackView::parse(pkt(b)));
    EXPECT_FALSE(NackView::parse(pkt(b)));
    EXPECT_FALSE(PliView::parse(pkt(b)));
    EXPECT_FALSE(decode(pkt(b)));
}

TEST(RtcpFeedback, UnknownFmtIsKeptRaw) {
    const auto b = fromHex("8ccd0003 00000001 00000002 deadbeef"); // RTPFB FMT 12
    const auto p = decode(pkt(b));
    ASSERT_TRUE(p);
    ASSERT_TRUE(std::holds_alternative<UnknownPacket>(*p));
    EXPECT_EQ(bytesOf(*p), b);
}
