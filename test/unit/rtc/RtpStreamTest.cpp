#include "rtc/RtpStream.hpp"

#include "protocol/rtp/Time.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

using sfu::rtc::RtpStreamParams;
using sfu::rtc::RtpStreamRecv;
using sfu::rtc::RtpStreamSend;
using sfu::rtc::scoreFromDeliveredRatio;
using sfu::rtc::ScoreHistory;

namespace {

// A minimal RTP packet (12-byte header + payload) in its own buffer.
struct TestPacket {
    std::array<uint8_t, 64> bytes{};
    std::optional<sfu::rtp::RtpPacket> packet;

    TestPacket(uint16_t seq, uint32_t timestamp, uint32_t ssrc = 1234) {
        bytes[0] = 0x80;
        bytes[1] = 100;
        bytes[2] = static_cast<uint8_t>(seq >> 8);
        bytes[3] = static_cast<uint8_t>(seq);
        for (int i = 0; i < 4; ++i) {
            bytes[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
            bytes[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
        }
        packet = sfu::rtp::RtpPacket::parse(bytes.data(), 32, bytes.size());
    }
};

RtpStreamParams videoParams() {
    RtpStreamParams p;
    p.ssrc = 1234;
    p.clockRate = 90000;
    p.mimeType = "video/VP8";
    p.kind = sfu::params::MediaKind::Video;
    return p;
}

} // namespace

TEST(ScoreHistory, WeightedTowardsRecentIntervals) {
    ScoreHistory h;
    EXPECT_TRUE(h.add(10));
    EXPECT_EQ(h.score(), 10);
    EXPECT_FALSE(h.add(10));
    EXPECT_TRUE(h.add(0));
    // (10*1 + 10*2 + 0*3) / 6 = 5
    EXPECT_EQ(h.score(), 5);
    EXPECT_TRUE(h.reset(7));
    EXPECT_EQ(h.score(), 7);
    EXPECT_FALSE(h.reset(7));
}

TEST(ScoreHistory, FromDeliveredRatio) {
    EXPECT_EQ(scoreFromDeliveredRatio(1.0), 10);
    EXPECT_EQ(scoreFromDeliveredRatio(0.0), 0);
    EXPECT_EQ(scoreFromDeliveredRatio(0.95), 8);
    EXPECT_EQ(scoreFromDeliveredRatio(2.0), 10);
    EXPECT_EQ(scoreFromDeliveredRatio(-1.0), 0);
}

TEST(RtpStreamRecv, CountsLossAcrossWrapAndReportsFractionLost) {
    RtpStreamRecv stream(videoParams());
    uint64_t now = 1000;
    // 200 packets around the 16-bit wrap, every 10th missing.
    int received = 0;
    for (int i = 0; i < 200; ++i) {
        const uint16_t seq = static_cast<uint16_t>(65436 + i);
        if (i % 10 == 5) {
            continue;
        }
        TestPacket p(seq, static_cast<uint32_t>(i * 3000));
        ASSERT_TRUE(stream.receivePacket(*p.packet, now));
        now += 33;
        ++received;
    }
    EXPECT_EQ(stream.packetCount(), static_cast<uint64_t>(received));
    EXPECT_EQ(stream.packetsLost(), 20);
    bool changed = false;
    const auto block = stream.buildReportBlock(now, changed);
    EXPECT_EQ(block.ssrc, 1234u);
    EXPECT_EQ(block.totalLost, 20);
    // 20 of 200: 25/256.
    EXPECT_EQ(block.fractionLost, (20u << 8) / 200u);
    // One wrap: cycles 65536, highest 65436 + 199 - 65536.
    EXPECT_EQ(block.highestSeq, 65536u + 99u);
    EXPECT_TRUE(changed);
    EXPECT_EQ(stream.score(), scoreFromDeliveredRatio(0.9));
}

TEST(RtpStreamRecv, NextIntervalWithoutLossIsClean) {
    RtpStreamRecv stream(videoParams());
    bool changed = false;
    for (uint16_t seq = 0; seq < 10; seq += 2) {
        TestPacket p(seq, seq * 3000u);
        stream.receivePacket(*p.packet, 1000 + seq);
    }
    stream.buildReportBlock(2000, changed);
    for (uint16_t seq = 9; seq < 20; ++seq) {
        TestPacket p(seq, seq * 3000u);
        stream.receivePacket(*p.packet, 2000 + seq);
    }
    const auto block = stream.buildReportBlock(3000, changed);
    EXPECT_EQ(block.fractionLost, 0);
    EXPECT_EQ(block.totalLost, 4);
}

TEST(RtpStreamRecv, BigJumpNeedsConfirmation) {
    RtpStreamRecv stream(videoParams());
    TestPacket a(100, 0);
    ASSERT_TRUE(stream.receivePacket(*a.packet, 1000));
    TestPacket jump(30000, 3000);
    EXPECT_FALSE(stream.receivePacket(*jump.packet, 1001));
    EXPECT_EQ(stream.counters().packetsDiscarded, 1u);
    TestPacket next(30001, 6000);
    EXPECT_TRUE(stream.receivePacket(*next.packet, 1002));
    // The stream restarted at the confirmed sequence.
    EXPECT_EQ(stream.maxSeq(), 30001u);
    EXPECT_EQ(stream.packetsLost(), 0);
    // The packet count of the stats goes on across the restart.
    EXPECT_EQ(stream.packetCount(), 2u);
    EXPECT_EQ(stream.stats(1002)["packetCount"], 2u);
}

TEST(RtpStreamRecv, JitterGrowsWithIrregularArrival) {
    RtpStreamRecv steady(videoParams());
    RtpStreamRecv bursty(videoParams());
    for (uint16_t i = 0; i < 100; ++i) {
        TestPacket p(i, i * 3000u); // 33.3 ms of media each
        steady.receivePacket(*p.packet, 1000 + i * 100 / 3);
        bursty.receivePacket(*p.packet, 1000 + (i / 10) * 333 + (i % 2) * 40);
    }
    EXPECT_LT(steady.jitter(), 200u);
    EXPECT_GT(bursty.jitter(), 1000u);
}

TEST(RtpStreamRecv, EchoesLastSenderReport) {
    RtpStreamRecv stream(videoParams());
    TestPacket p(1, 0);
    stream.receivePacket(*p.packet, 1000);
    sfu::rtcp::SenderInfo info;
    info.ntp = (uint64_t{0x11223344} << 32) | 0x55667788;
    stream.receiveSenderReport(info, 5000);
    bool changed = false;
    const auto block = stream.buildReportBlock(5500, changed);
    EXPECT_EQ(block.lastSr, 0x33445566u);
    // 500 ms in 1/65536 s.
    EXPECT_EQ(block.delaySinceLastSr, 32768u);
}

TEST(RtpStreamRecv, SilentVideoScoresZero) {
    RtpStreamRecv stream(videoParams());
    TestPacket p(1, 0);
    stream.receivePacket(*p.packet, 1000);
    EXPECT_EQ(stream.score(), 10);
    bool changed = false;
    stream.buildReportBlock(2000, changed);
    stream.buildReportBlock(3000, changed);
    EXPECT_TRUE(changed);
    EXPECT_EQ(stream.score(), 0);
}

TEST(RtpStreamSend, SenderInfoExtrapolatesRtpClock) {
    RtpStreamSend stream(videoParams());
    EXPECT_FALSE(stream.buildSenderInfo(1000).has_value());
    TestPacket p(1, 90000);
    stream.sentPacket(*p.packet, 1000);
    const auto info = stream.buildSenderInfo(1500);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->rtpTimestamp, 90000u + 45000u);
    EXPECT_EQ(info->packetCount, 1u);
    EXPECT_EQ(info->octetCount, 32u);
}

TEST(RtpStreamSend, ReceiverReportGivesLossScoreAndRtt) {
    RtpStreamSend stream(videoParams());
    TestPacket p(1, 0);
    stream.sentPacket(*p.packet, 1000);
    sfu::rtcp::ReportBlock block;
    block.ssrc = 1234;
    block.fractionLost = 128; // half lost
    block.totalLost = 50;
    // An SR sent 100 ms ago, held 20 ms by the receiver: RTT ~ 80 ms.
    const uint32_t now = sfu::rtp::ntpNow().compact();
    block.lastSr = now - sfu::rtp::compactNtpFromMs(100);
    block.delaySinceLastSr = sfu::rtp::compactNtpFromMs(20);
    EXPECT_TRUE(stream.receiveReportBlock(block));
    EXPECT_TRUE(stream.hasRoundTripTime());
    EXPECT_NEAR(stream.roundTripTimeMs(), 80.0, 5.0);
    EXPECT_LT(stream.score(), 10);
    const auto stats = stream.stats(2000);
    EXPECT_EQ(stats["packetsLost"], 50);
    EXPECT_EQ(stats["type"], "outbound-rtp");
    EXPECT_TRUE(stats.contains("roundTripTime"));
}
