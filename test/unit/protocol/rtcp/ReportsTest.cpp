#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <gtest/gtest.h>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

namespace {

PacketView first(const std::vector<uint8_t>& b) {
    return *PacketView::parse(b.data(), b.size());
}

} // namespace

TEST(RtcpReports, ChromeSenderReport) {
    const auto b = fromHex(vectors::kChromeSrSdes);
    const auto sr = SenderReportView::parse(first(b));
    ASSERT_TRUE(sr);
    EXPECT_EQ(sr->ssrc(), 0x5d931534u);
    const SenderInfo info = sr->senderInfo();
    EXPECT_EQ(info.ntpSeconds(), 3711615412u);
    EXPECT_EQ(info.ntpFraction(), 1985245553u);
    EXPECT_EQ(info.compactNtp(), 0xc1b47654u);
    EXPECT_EQ(info.rtpTimestamp, 577280u);
    EXPECT_EQ(info.packetCount, 3608u);
    EXPECT_EQ(info.octetCount, 577280u);
    EXPECT_TRUE(sr->reportBlocks().empty());
    EXPECT_TRUE(sr->extension().empty());
    EXPECT_FALSE(ReceiverReportView::parse(first(b)));
}

TEST(RtcpReports, ReceiverReportBlock) {
    const auto b = fromHex(vectors::kRrRemb);
    const auto rr = ReceiverReportView::parse(first(b));
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->ssrc(), 0x5d931534u);
    ASSERT_EQ(rr->reportBlocks().size(), 1u);
    const ReportBlock block = rr->reportBlocks()[0];
    EXPECT_EQ(block.ssrc, 0x01932db4u);
    EXPECT_EQ(block.fractionLost, 0);
    EXPECT_EQ(block.totalLost, 1);
    EXPECT_EQ(block.delaySinceLastSr, 5u);
}

TEST(RtcpReports, NegativeCumulativeLossRoundTrips) {
    ReportBlock b;
    b.ssrc = 7;
    b.fractionLost = 255;
    b.totalLost = -3;
    uint8_t raw[ReportBlock::kSize];
    ReportBlock::write(raw, b);
    EXPECT_EQ(raw[5], 0xff);
    EXPECT_EQ(raw[7], 0xfd);
    EXPECT_EQ(ReportBlock::read(raw), b);
    // Out-of-range values clamp to the 24-bit limits.
    b.totalLost = 1 << 30;
    ReportBlock::write(raw, b);
    EXPECT_EQ(ReportBlock::read(raw).totalLost, 0x7FFFFF);
    b.totalLost = -(1 << 30);
    ReportBlock::write(raw, b);
    EXPECT_EQ(ReportBlock::read(raw).totalLost, -0x800000);
}

TEST(RtcpReports, CountThatOverflowsTheBodyIsRejected) {
    // RC = 2 but only one block present.
    auto b = fromHex("82c90007 5d931534 01932db4 00000001 00000000 00000000 00000000 00000005");
    EXPECT_FALSE(ReceiverReportView::parse(first(b)));
    // RC = 31 on a minimal SR.
    b = fromHex("9fc80006 5d931534 dd3ac1b4 76547171 0008cf00 00000e18 0008cf00");
    EXPECT_FALSE(SenderReportView::parse(first(b)));
    // SR body too short for the sender info.
    b = fromHex("80c80005 5d931534 dd3ac1b4 76547171 0008cf00 00000e18");
    EXPECT_FALSE(SenderReportView::parse(first(b)));
}

TEST(RtcpReports, ProfileExtensionIsKept) {
    const auto b = fromHex("80c90002 11111111 abcdef01");
    const auto rr = ReceiverReportView::parse(first(b));
    ASSERT_TRUE(rr);
    ASSERT_EQ(rr->extension().size(), 4u);
    EXPECT_EQ(rr->extension()[0], 0xab);
    const auto value = ReceiverReport::from(*rr);
    EXPECT_EQ(bytesOf(value), b);
}

TEST(RtcpReports, BuildParseBuild) {
    SenderReport sr;
    sr.ssrc = 0xdeadbeef;
    sr.info = {0x0102030405060708ULL, 90000, 100, 120000};
    for (uint32_t i = 0; i < 31; ++i) {
        sr.reportBlocks.push_back(
            {i, static_cast<uint8_t>(i), -static_cast<int32_t>(i), 65536 + i, i * 3, i * 5, i * 7});
    }
    const auto b = bytesOf(sr);
    ASSERT_EQ(b.size(), sr.size());
    ASSERT_EQ(b.size(), 4u + 24 + 31 * 24);
    EXPECT_EQ(b[0], 0x9f);
    const auto view = SenderReportView::parse(first(b));
    ASSERT_TRUE(view);
    const auto back = SenderReport::from(*view);
    EXPECT_EQ(back, sr);
    EXPECT_EQ(bytesOf(back), b);
}

TEST(RtcpReports, WriterLimits) {
    std::vector<ReportBlock> blocks(32);
    uint8_t buf[1024];
    EXPECT_EQ(writeReceiverReport(1, blocks, buf, sizeof buf), 0u);
    blocks.resize(1);
    EXPECT_EQ(writeReceiverReport(1, blocks, buf, 31), 0u);
    EXPECT_EQ(writeReceiverReport(1, blocks, buf, 32), 32u);
    EXPECT_EQ(writeReceiverReport(1, {}, buf, 8), 8u);
    const uint8_t ext[3] = {1, 2, 3};
    EXPECT_EQ(writeReceiverReport(1, {}, buf, sizeof buf, ext), 0u);
    EXPECT_EQ(writeSenderReport(1, SenderInfo{}, {}, buf, 27), 0u);
    EXPECT_EQ(writeSenderReport(1, SenderInfo{}, {}, buf, 28), 28u);
    EXPECT_EQ(writeSenderReport(1, SenderInfo{}, {}, nullptr, 28), 0u);
}
