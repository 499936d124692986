// ProducerStream alone: VP8 packets with NACK negotiated go in, the feedback
// it sends the sender (NACK, PLI) is recorded with the time it left, and the
// spacing of NACK retries is checked against the round trip it measured.
#include "rtc/ProducerStream.hpp"

#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/Time.hpp"
#include "rtc/MediaFixtures.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::ProducerStream;

constexpr uint32_t kSsrc = 1111;
constexpr uint32_t kRtxSsrc = 2222;
constexpr uint8_t kPt = 96;
constexpr uint8_t kRtxPt = 97;
constexpr uint32_t kOurSsrc = 77;

struct Feedback {
    ProducerStream::Feedback type;
    uint64_t atMs;
    std::vector<uint16_t> seqs;
};

struct Recorder : ProducerStream::Listener {
    uint64_t nowMs = 0;
    std::vector<Feedback> sent;

    void onProducerStreamFeedback(ProducerStream&, ProducerStream::Feedback type,
                                  const uint8_t* data, size_t length, size_t) override {
        Feedback f{type, nowMs, {}};
        if (type == ProducerStream::Feedback::Nack) {
            const auto pkt = sfu::rtcp::PacketView::parse(data, length);
            const auto nack = pkt ? sfu::rtcp::NackView::parse(*pkt) : std::nullopt;
            EXPECT_TRUE(nack.has_value());
            if (nack) {
                for (const auto item : nack->items()) {
                    sfu::rtcp::forEachNacked(item, [&](uint16_t seq) { f.seqs.push_back(seq); });
                }
            }
        }
        sent.push_back(std::move(f));
    }

    // When each NACK asking for `seq` left.
    std::vector<uint64_t> nackTimes(uint16_t seq) const {
        std::vector<uint64_t> out;
        for (const auto& f : sent) {
            if (std::find(f.seqs.begin(), f.seqs.end(), seq) != f.seqs.end()) {
                out.push_back(f.atMs);
            }
        }
        return out;
    }
};

sfu::params::RtpParameters parameters() {
    return sfu::params::parseRtpParameters(
        json{{"codecs",
              {{{"mimeType", "video/VP8"},
                {"payloadType", kPt},
                {"clockRate", 90000},
                {"rtcpFeedback", {{{"type", "nack"}}, {{"type", "nack"}, {"parameter", "pli"}}}}},
               {{"mimeType", "video/rtx"},
                {"payloadType", kRtxPt},
                {"clockRate", 90000},
                {"parameters", {{"apt", kPt}}}}}},
             {"encodings", {{{"ssrc", kSsrc}, {"rtx", {{"ssrc", kRtxSsrc}}}}}}});
}

std::vector<uint8_t> vp8Packet(uint16_t seq, bool keyFrame) {
    std::vector<uint8_t> b(25 + 8 + 64); // room to grow
    b.resize(sfu::test::vp8Packet(b.data(), {.seq = seq,
                                             .timestamp = seq * 3000u,
                                             .keyFrame = keyFrame,
                                             .ssrc = kSsrc,
                                             .payloadType = kPt,
                                             .padding = 8}) +
             64);
    return b;
}

class ProducerStreamTest : public ::testing::Test {
protected:
    ProducerStreamTest() : parameters_(parameters()) {
        ProducerStream::Config config;
        config.kind = sfu::params::MediaKind::Video;
        config.encoding = parameters_.encodings[0];
        config.codec = &parameters_.codecs[0];
        config.rtxCodec = &parameters_.codecs[1];
        config.mappedSsrc = 5000;
        stream_ = std::make_unique<ProducerStream>(config, recorder_);
    }

    std::optional<ProducerStream::Received> receive(uint16_t seq, bool keyFrame = false) {
        buffers_.push_back(vp8Packet(seq, keyFrame));
        auto& buffer = buffers_.back();
        auto packet = sfu::rtp::RtpPacket::parse(buffer.data(), buffer.size() - 64, buffer.size());
        EXPECT_TRUE(packet.has_value());
        return stream_->receivePacket(*packet, recorder_.nowMs);
    }

    // Packets 1..3, 5..7: 4 is lost and never repaired. Then ticks every
    // 5 ms for a second, as the transport's 20 ms timer would but finer.
    std::vector<uint64_t> runHole() {
        EXPECT_TRUE(receive(1, true));
        for (uint16_t seq : {2, 3, 5, 6, 7}) {
            EXPECT_TRUE(receive(seq));
        }
        for (recorder_.nowMs = 5; recorder_.nowMs <= 1200; recorder_.nowMs += 5) {
            stream_->tick(recorder_.nowMs);
        }
        return recorder_.nackTimes(4);
    }

    // An RTT as a DLRR answer to an RRTR sent `rttMs` ago (no hold time).
    sfu::rtcp::DlrrItem dlrrFor(uint32_t rttMs) const {
        const uint32_t now = sfu::rtp::ntpNow().compact();
        return sfu::rtcp::DlrrItem{kOurSsrc, now - rttMs * 65536 / 1000, 0};
    }

    static void expectSpacing(const std::vector<uint64_t>& times, uint64_t min, uint64_t max) {
        ASSERT_GE(times.size(), 3u);
        for (size_t i = 1; i < times.size(); ++i) {
            EXPECT_GE(times[i] - times[i - 1], min) << "retry " << i;
            EXPECT_LE(times[i] - times[i - 1], max) << "retry " << i;
        }
    }

    sfu::params::RtpParameters parameters_;
    Recorder recorder_;
    std::unique_ptr<ProducerStream> stream_;
    std::vector<std::vector<uint8_t>> buffers_;
};

TEST_F(ProducerStreamTest, NackRetriesUseTheDefaultRoundTripUntilOneIsMeasured) {
    EXPECT_EQ(stream_->roundTripTimeMs(), ProducerStream::kDefaultRttMs);
    const auto times = runHole();
    EXPECT_EQ(times.front(), 0u); // asked for as soon as the gap showed
    expectSpacing(times, 100, 105);
}

TEST_F(ProducerStreamTest, NackRetriesFollowAMeasuredRoundTripOf40Ms) {
    stream_->receiveDlrr(dlrrFor(40), kOurSsrc);
    EXPECT_GE(stream_->roundTripTimeMs(), 39u);
    EXPECT_LE(stream_->roundTripTimeMs(), 45u);
    const auto times = runHole();
    // Ten retries, a round trip apart, well within the packet's 1 s of use.
    EXPECT_EQ(times.size(), 10u);
    expectSpacing(times, 39, 50);
}

TEST_F(ProducerStreamTest, NackRetriesFollowAMeasuredRoundTripOf300Ms) {
    stream_->receiveDlrr(dlrrFor(300), kOurSsrc);
    EXPECT_GE(stream_->roundTripTimeMs(), 299u);
    EXPECT_LE(stream_->roundTripTimeMs(), 305u);
    const auto times = runHole();
    // Asked for at 0, ~300, ~600 and ~900 ms; the packet is too old after.
    EXPECT_EQ(times.size(), 4u);
    expectSpacing(times, 299, 310);
}

TEST_F(ProducerStreamTest, PathRoundTripServesUntilTheSenderAnswersItself) {
    stream_->setPathRoundTripTime(300);
    EXPECT_EQ(stream_->roundTripTimeMs(), 300u);
    stream_->receiveDlrr(dlrrFor(40), kOurSsrc);
    EXPECT_LE(stream_->roundTripTimeMs(), 45u);
    // A later path measurement does not override the sender's own answer.
    stream_->setPathRoundTripTime(300);
    EXPECT_LE(stream_->roundTripTimeMs(), 45u);
}

TEST_F(ProducerStreamTest, DlrrForAnotherReceiverOrWithoutRrtrIsIgnored) {
    stream_->receiveDlrr(sfu::rtcp::DlrrItem{kOurSsrc + 1, dlrrFor(40).lastRr, 0}, kOurSsrc);
    stream_->receiveDlrr(sfu::rtcp::DlrrItem{kOurSsrc, 0, 0}, kOurSsrc);
    EXPECT_EQ(stream_->roundTripTimeMs(), ProducerStream::kDefaultRttMs);
}

TEST_F(ProducerStreamTest, RefusesOtherSsrcsAndPayloadTypes) {
    ASSERT_TRUE(receive(1, true));
    auto other = vp8Packet(2, false);
    other[11] = 0x99; // another SSRC
    auto packet = sfu::rtp::RtpPacket::parse(other.data(), other.size() - 64, other.size());
    EXPECT_FALSE(stream_->receivePacket(*packet, 0));
    auto wrongPt = vp8Packet(3, false);
    wrongPt[1] = 100;
    packet = sfu::rtp::RtpPacket::parse(wrongPt.data(), wrongPt.size() - 64, wrongPt.size());
    EXPECT_FALSE(stream_->receivePacket(*packet, 0));
    EXPECT_EQ(stream_->rtp()->counters().packetsDiscarded, 2u);
    EXPECT_TRUE(receive(4));
}

TEST_F(ProducerStreamTest, KeyFrameRequestsArePlisMergedWhileOutstanding) {
    stream_->requestKeyFrame(0); // nothing received yet: nothing to ask
    EXPECT_TRUE(recorder_.sent.empty());
    ASSERT_TRUE(receive(1, true));
    stream_->requestKeyFrame(10);
    stream_->requestKeyFrame(20);
    ASSERT_EQ(recorder_.sent.size(), 1u);
    EXPECT_EQ(recorder_.sent[0].type, ProducerStream::Feedback::Pli);
    EXPECT_EQ(stream_->rtp()->counters().pliCount, 1u);
    ASSERT_TRUE(receive(2, true));
    stream_->requestKeyFrame(30);
    EXPECT_EQ(recorder_.sent.size(), 2u);
}

// A 100-byte VP8 packet whose descriptor names temporal layer `tid`.
std::vector<uint8_t> vp8LayerPacket(uint16_t seq, uint8_t tid) {
    std::vector<uint8_t> b(100 + 64, 0xAB);
    const uint8_t head[] = {0x80, kPt, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0,
                            0, 0, static_cast<uint8_t>(seq), 0, 0, kSsrc >> 8, kSsrc & 0xFF,
                            // X, S; I and T; 7-bit picture id; TID
                            0x90, 0xA0, static_cast<uint8_t>(seq & 0x7F),
                            static_cast<uint8_t>(tid << 6),
                            // An inter frame header.
                            0x11, 0x02, 0x00};
    std::copy(std::begin(head), std::end(head), b.begin());
    return b;
}

TEST_F(ProducerStreamTest, MeasuresWhatEachTemporalLayerCarries) {
    ASSERT_TRUE(receive(1, true)); // no TID: counts in layer 0
    // 30 frames in a second, temporal layers 0, 2, 1, 2.
    const uint8_t pattern[] = {0, 2, 1, 2};
    for (uint16_t i = 0; i < 30; ++i) {
        recorder_.nowMs = 1000 + i * 33u;
        buffers_.push_back(vp8LayerPacket(static_cast<uint16_t>(2 + i), pattern[i % 4]));
        auto& buffer = buffers_.back();
        auto packet = sfu::rtp::RtpPacket::parse(buffer.data(), buffer.size() - 64, buffer.size());
        ASSERT_TRUE(packet && stream_->receivePacket(*packet, recorder_.nowMs));
    }
    // The first packet left the window; 8, 7 and 15 packets of 800 bits.
    EXPECT_EQ(stream_->bitrateUpTo(0, 1999), 8u * 800);
    EXPECT_EQ(stream_->bitrateUpTo(1, 1999), 15u * 800);
    EXPECT_EQ(stream_->bitrateUpTo(2, 1999), 30u * 800);
    EXPECT_EQ(stream_->bitrateUpTo(3, 1999), 30u * 800);
    // A second without packets: nothing.
    EXPECT_EQ(stream_->bitrateUpTo(2, 3100), 0u);
}

} // namespace
