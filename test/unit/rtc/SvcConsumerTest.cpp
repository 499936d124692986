// SvcConsumer without a transport or a producer: VP9 pictures of three
// spatial and three temporal layers (one packet per layer) go straight into
// Consumer::sendRtpPacket; a fake listener records what comes out, the key
// frame requests with their times, and plays the transport's view of the
// link (its queueing delay) and its allocation (setAllocatedLayers).
#include "protocol/codecs/Vp9.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/Consumer.hpp"
#include "rtc/ConsumerFactory.hpp"
#include "rtc/EntityEnvironment.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/RtpForwardInfo.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::Consumer;
using sfu::rtp::RtpPacket;

constexpr uint32_t kMappedSsrc = 5555;
constexpr uint32_t kConsumerSsrc = 7777;
constexpr uint64_t kFrameMs = 33;

struct FakeListener : Consumer::Listener {
    struct Sent {
        uint16_t seq = 0;
        int spatial = -1;
    };
    std::vector<Sent> sent;
    std::vector<uint16_t> resent;
    std::vector<uint64_t> keyFrameRequestsMs;
    uint64_t nowMs = 0;
    int64_t queueDelayMs = 0;

    void onConsumerSendRtpPacket(Consumer&, RtpPacket& packet) override {
        const auto desc =
            sfu::codecs::vp9::PayloadDescriptor::parse(packet.payload(), packet.payloadLength());
        sent.push_back({packet.sequenceNumber(), desc ? desc->sid : -1});
    }
    void onConsumerRetransmitRtpPacket(Consumer&, RtpPacket& packet, bool) override {
        resent.push_back(packet.sequenceNumber());
    }
    void onConsumerKeyFrameRequested(Consumer&, uint32_t) override {
        keyFrameRequestsMs.push_back(nowMs);
    }
    int64_t linkQueueDelayMs() const override { return queueDelayMs; }
};

json vp9Codec() {
    return {{"mimeType", "video/VP9"},
            {"payloadType", 101},
            {"clockRate", 90000},
            {"parameters", json::object()},
            {"rtcpFeedback", {{{"type", "nack"}}, {{"type", "nack"}, {"parameter", "pli"}}}}};
}

class SvcConsumerTest : public ::testing::Test {
protected:
    void SetUp() override {
        const json data = {
            {"kind", "video"},
            {"type", "svc"},
            {"rtpParameters",
             {{"codecs", {vp9Codec()}},
              {"headerExtensions", json::array()},
              {"encodings", {{{"ssrc", kConsumerSsrc}, {"scalabilityMode", "L3T3_KEY"}}}},
              {"rtcp", {{"cname", "c"}}}}},
            {"consumableRtpEncodings", {{{"ssrc", kMappedSsrc}, {"scalabilityMode", "L3T3_KEY"}}}}};
        consumer_ = sfu::rtc::createConsumer("c1", "p1", env_.shared(), listener_, data);
        consumer_->producerScoresChanged({10});
        consumer_->setTransportConnected(true);
    }
    void TearDown() override { consumer_.reset(); }

    // One picture (a key picture when `key`): a packet per spatial layer,
    // K-SVC (the upper layers depend on the lower ones at key pictures
    // only), temporal layers 0, 2, 1, 2; then the clock moves one frame on.
    void picture(bool key) {
        constexpr std::array<uint8_t, 4> kTemporal = {0, 2, 1, 2};
        const uint8_t tid = key ? 0 : kTemporal[pictureId_ % 4];
        for (uint8_t sid = 0; sid < 3; ++sid, ++seq_) {
            std::array<uint8_t, 300> payload{};
            sfu::test::vp9LayerPayload(payload, {.keyPicture = key,
                                                 .pictureId = pictureId_,
                                                 .tid = tid,
                                                 .sid = sid,
                                                 .tl0PicIdx = tl0PicIdx_,
                                                 .interLayerDependency = key && sid > 0});
            sfu::rtp::RtpPacketSpec spec;
            spec.payloadType = 101;
            spec.sequenceNumber = seq_;
            spec.timestamp = pictureId_ * 3000u;
            spec.ssrc = kMappedSsrc;
            spec.marker = sid == 2;
            spec.payload = payload;
            std::array<uint8_t, 1500> buffer{};
            auto packet = RtpPacket::build(buffer.data(), buffer.size(), spec);
            ASSERT_TRUE(packet.has_value());
            store_.store(*packet, nowMs_);
            sfu::rtc::RtpForwardInfo info;
            info.codec = sfu::codecs::Codec::Vp9;
            info.keyFrame = key && sid == 0;
            info.nowMs = nowMs_;
            info.store = &store_;
            listener_.nowMs = nowMs_;
            consumer_->sendRtpPacket(*packet, info);
        }
        if (tid == 0) {
            ++tl0PicIdx_;
        }
        ++pictureId_;
        nowMs_ += kFrameMs;
    }
    void pictures(int count) {
        for (int i = 0; i < count; ++i) {
            picture(false);
        }
    }

    // The highest spatial layer among the packets sent since `from`.
    int topLayerSince(size_t from) const {
        int top = -1;
        for (size_t i = from; i < listener_.sent.size(); ++i) {
            top = std::max(top, listener_.sent[i].spatial);
        }
        return top;
    }

    void nack(const std::vector<uint16_t>& seqs) {
        bool parsed = false;
        sfu::test::withNack(1234, kConsumerSsrc, seqs, [&](const sfu::rtcp::NackView& view) {
            parsed = true;
            consumer_->receiveNack(view, nowMs_);
        });
        ASSERT_TRUE(parsed);
    }

    uint64_t superseded() {
        return consumer_->stats(nowMs_).at(0).value("retransmissionsSuperseded", uint64_t{0});
    }

    sfu::test::EntityEnvironment env_{44000, 44999};
    FakeListener listener_;
    std::unique_ptr<Consumer> consumer_;
    sfu::recovery::PacketStore store_;
    uint64_t nowMs_ = 1000;
    uint16_t seq_ = 100;
    uint16_t pictureId_ = 0;
    uint8_t tl0PicIdx_ = 0;
};

// The allocation forces the consumer down while the transport sees 200 ms
// of queueing on the link: nothing more goes out, NACKs for what went
// before are not answered (superseded by the coming key frame), and the key
// frame is asked for once those 200 ms have passed; the stream then restarts
// from it on the lower layers.
TEST_F(SvcConsumerTest, AForcedSwitchDownWaitsForTheQueueToDrain) {
    picture(true);
    pictures(11);
    ASSERT_EQ(topLayerSince(0), 2);
    const size_t keyRequestsBefore = listener_.keyFrameRequestsMs.size();
    const uint16_t lastSent = listener_.sent.back().seq;

    listener_.queueDelayMs = 200;
    consumer_->setAllocatedLayers({1, 2});
    const uint64_t switchedMs = nowMs_;
    const size_t sentAtSwitch = listener_.sent.size();
    pictures(3);
    EXPECT_EQ(listener_.sent.size(), sentAtSwitch) << "sent while waiting for the key frame";
    EXPECT_EQ(listener_.keyFrameRequestsMs.size(), keyRequestsBefore) << "asked at once";

    nack({lastSent});
    EXPECT_TRUE(listener_.resent.empty());
    EXPECT_EQ(superseded(), 1u);

    pictures(5);
    ASSERT_EQ(listener_.keyFrameRequestsMs.size(), keyRequestsBefore + 1);
    const uint64_t askedAfter = listener_.keyFrameRequestsMs.back() - switchedMs;
    EXPECT_GE(askedAfter, 200u);
    EXPECT_LE(askedAfter, 200u + 2 * kFrameMs);
    EXPECT_EQ(listener_.sent.size(), sentAtSwitch) << "sent before the key frame";

    picture(true);
    pictures(3);
    ASSERT_GT(listener_.sent.size(), sentAtSwitch);
    EXPECT_EQ(topLayerSince(sentAtSwitch), 1);
    EXPECT_EQ(listener_.sent[sentAtSwitch].seq, static_cast<uint16_t>(lastSent + 1))
        << "the numbering goes on from the last packet sent";
}

// Sequence numbers wrap: long after a restart (here 45,000 packets, past
// half the number space), a NACK for a packet just sent is answered, not
// taken for one from before the restart.
TEST_F(SvcConsumerTest, LongAfterARestartResendsAgain) {
    picture(true);
    pictures(15'000);
    ASSERT_GT(listener_.sent.size(), 40'000u);
    nack({listener_.sent.back().seq});
    EXPECT_EQ(listener_.resent.size(), 1u);
    EXPECT_EQ(superseded(), 0u);
}

// Without a queue on the link (or without an estimate: a REMB-only or
// plain transport), the key frame of a forced switch down is asked for at
// once.
TEST_F(SvcConsumerTest, AForcedSwitchDownWithoutAQueueAsksAtOnce) {
    picture(true);
    pictures(11);
    const size_t keyRequestsBefore = listener_.keyFrameRequestsMs.size();
    consumer_->setAllocatedLayers({1, 2});
    EXPECT_EQ(listener_.keyFrameRequestsMs.size(), keyRequestsBefore + 1);
}

} // namespace
