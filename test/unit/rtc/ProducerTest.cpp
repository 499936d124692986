// Producer without a transport: VP8 packets from the sender go straight into
// Producer::receiveRtpPacket, and the notifications it writes (trace, score)
// are read back from the far end of the channel socket.
#include "rtc/Producer.hpp"

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/EntityEnvironment.hpp"
#include "rtc/RtpForwardInfo.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::Producer;
using sfu::rtc::RtpForwardInfo;
using sfu::rtp::RtpPacket;

constexpr uint8_t kPayloadType = 101;
constexpr uint32_t kSsrc = 11111111;

struct FakeListener : Producer::Listener {
    void onProducerPaused(Producer&) override {}
    void onProducerResumed(Producer&) override {}
    void onProducerScore(Producer&) override {}
    void onProducerSendRtcp(Producer&, const uint8_t*, size_t) override {}
};

// 12-byte RTP header, a VP8 descriptor (X=1, S on the first packet of a
// frame, I=1 with a 15-bit picture id), the frame tag (P=0 and the start
// code on a key frame), filler.
std::vector<uint8_t> vp8Packet(uint16_t seq, uint32_t timestamp, bool key, bool first, bool last) {
    std::vector<uint8_t> p(12 + 4 + 10 + 40, 0xAB);
    p[0] = 0x80;
    p[1] = static_cast<uint8_t>((last ? 0x80 : 0x00) | kPayloadType);
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    for (int i = 0; i < 4; ++i) {
        p[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
        p[8 + i] = static_cast<uint8_t>(kSsrc >> (24 - 8 * i));
    }
    p[12] = static_cast<uint8_t>(0x80 | (first ? 0x10 : 0x00));
    p[13] = 0x80;
    p[14] = 0x80;
    p[15] = static_cast<uint8_t>(seq);
    static constexpr uint8_t kKeyTag[10] = {0x10, 0x02, 0x00, 0x9d, 0x01,
                                            0x2a, 0x40, 0x01, 0xf0, 0x00};
    static constexpr uint8_t kInterTag[10] = {0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0};
    if (first) {
        std::copy(key ? kKeyTag : kInterTag, (key ? kKeyTag : kInterTag) + 10, p.begin() + 16);
    }
    return p;
}

json produceData() {
    return json::parse(R"({
        "kind": "video",
        "rtpParameters": {
            "codecs": [{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
                        "parameters": {},
                        "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                                         {"type": "ccm", "parameter": "fir"}]}],
            "headerExtensions": [],
            "encodings": [{"ssrc": 11111111}],
            "rtcp": {"cname": "x", "reducedSize": true}},
        "rtpMapping": {"codecs": [{"payloadType": 101, "mappedPayloadType": 96}],
                       "encodings": [{"ssrc": 11111111, "mappedSsrc": 5555}]},
        "keyFrameRequestDelay": 0,
        "paused": false})");
}

class ProducerTest : public ::testing::Test {
protected:
    void SetUp() override {
        producer_ = std::make_unique<Producer>("p1", env_.shared(), listener_, produceData());
    }

    void TearDown() override { producer_.reset(); }

    // One frame of `packets` packets; the sequence numbers go on.
    void frame(bool key, int packets) {
        for (int i = 0; i < packets; ++i) {
            auto bytes = vp8Packet(seq_++, timestamp_, key, i == 0, i == packets - 1);
            auto packet = RtpPacket::parse(bytes.data(), bytes.size(), bytes.size());
            ASSERT_TRUE(packet.has_value());
            RtpForwardInfo info;
            producer_->receiveRtpPacket(0, *packet, nowMs_, info);
        }
        timestamp_ += 3000;
        nowMs_ += 33;
    }

    json request(const std::string& method, const json& data) {
        return env_.request([&](sfu::channel::Request& r) { producer_->handleRequest(r); }, method,
                            {{"producerId", "p1"}}, data);
    }

    void enableTrace(const json& types) {
        EXPECT_EQ(request("producer.enableTraceEvent", {{"types", types}}).value("accepted", false),
                  true);
    }

    // (type, sequence number) of every trace event so far.
    std::vector<std::pair<std::string, uint16_t>> traces() {
        std::vector<std::pair<std::string, uint16_t>> out;
        for (const auto& t : env_.events("p1", "trace")) {
            EXPECT_EQ(t.value("direction", ""), "in") << t;
            out.emplace_back(t.value("type", ""), t["info"].value("sequenceNumber", 0));
        }
        return out;
    }

    sfu::test::EntityEnvironment env_{44000, 44999};
    FakeListener listener_;
    std::unique_ptr<Producer> producer_;
    uint16_t seq_ = 1000;
    uint32_t timestamp_ = 90000;
    uint64_t nowMs_ = 100000;
};

// A key frame's first packet is a "keyframe" event, not also an "rtp" one;
// the other packets are "rtp" events; each type only while enabled.
TEST_F(ProducerTest, TraceKeyFrameReplacesRtpForTheKeyPacket) {
    enableTrace({"rtp", "keyframe"});
    frame(true, 2);
    frame(false, 1);
    using Trace = std::pair<std::string, uint16_t>;
    EXPECT_EQ(traces(), (std::vector<Trace>{{"keyframe", 1000}, {"rtp", 1001}, {"rtp", 1002}}));

    const auto first = env_.events("p1", "trace").at(0);
    EXPECT_EQ(first["info"], (json{{"payloadType", kPayloadType},
                                   {"sequenceNumber", 1000},
                                   {"timestamp", 90000},
                                   {"marker", false},
                                   {"ssrc", kSsrc},
                                   {"isKeyFrame", true},
                                   {"size", 66},
                                   {"payloadSize", 54}}));

    enableTrace({"keyframe"});
    frame(false, 2);
    frame(true, 2);
    EXPECT_EQ(traces().size(), 4u);
    EXPECT_EQ(traces().back(), (Trace{"keyframe", 1005}));

    enableTrace({"rtp"});
    frame(true, 1);
    EXPECT_EQ(traces().back(), (Trace{"rtp", 1007}));
    EXPECT_EQ(env_.events("p1", "trace").back()["info"].value("isKeyFrame", false), true);

    enableTrace(json::array());
    frame(true, 1);
    frame(false, 1);
    EXPECT_EQ(traces().size(), 5u);
    EXPECT_EQ(producer_->dump().value("traceEventTypes", "?"), "");
}

// The score notification names each stream's encoding index, as mediasoup's
// ({encodingIdx, ssrc, rid?, score}).
TEST_F(ProducerTest, ScoreNamesTheEncodingIndex) {
    frame(true, 1);
    const auto scores = env_.events("p1", "score");
    ASSERT_EQ(scores.size(), 1u);
    EXPECT_EQ(scores[0], json::array({{{"encodingIdx", 0}, {"ssrc", kSsrc}, {"score", 10}}}));
}

} // namespace
