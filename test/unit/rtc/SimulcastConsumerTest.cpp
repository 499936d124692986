// SimulcastConsumer and PipeConsumer without a transport or a producer: VP8
// packets in the router's space go straight into Consumer::sendRtpPacket, a
// fake listener records what comes out (and key frame requests and
// retransmissions), and the notifications are read back from the far end of
// the channel socket.
//
// The producer side is three simulcast streams (ssrc 100, 200, 300, encoding
// index 0, 1, 2), each with its own sequence number, timestamp, picture id
// and TL0PICIDX bases, one frame per stream per tick, temporal layers in the
// usual L1T3 pattern 0, 2, 1, 2.
#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "protocol/codecs/Vp8.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqNum.hpp"
#include "rtc/Consumer.hpp"
#include "rtc/ConsumerFactory.hpp"
#include "rtc/EntityEnvironment.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <deque>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::Consumer;
using sfu::rtc::RtpForwardInfo;
using sfu::rtp::RtpPacket;

constexpr uint8_t kPayloadType = 101;
constexpr uint32_t kFrameTicks = 3000; // 30 fps at 90 kHz
constexpr uint64_t kFrameMs = 33;

// ---- What the consumer sent --------------------------------------------------

// One packet out of the consumer, copied (it lives in a shared buffer) and
// decoded.
struct Sent {
    std::vector<uint8_t> bytes;
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint8_t payloadType = 0;
    bool marker = false;
    uint16_t pictureId = 0;
    uint8_t tl0PicIdx = 0;
    uint8_t tid = 0;
    bool keyFrame = false;
    // Which producer stream the payload came from (written by the builder).
    int source = -1;
};

// Offset of the source tag in the VP8 payload: after the descriptor and the
// 10 bytes of (key frame) payload header the builder always writes.
constexpr size_t kTagOffset = 10;

Sent decode(const RtpPacket& packet) {
    Sent out;
    out.bytes.assign(packet.data(), packet.data() + packet.size());
    out.ssrc = packet.ssrc();
    out.seq = packet.sequenceNumber();
    out.timestamp = packet.timestamp();
    out.payloadType = packet.payloadType();
    out.marker = packet.marker();
    const auto desc =
        sfu::codecs::vp8::PayloadDescriptor::parse(packet.payload(), packet.payloadLength());
    if (desc) {
        out.pictureId = desc->pictureId;
        out.tl0PicIdx = desc->tl0PicIdx;
        out.tid = desc->tid;
        out.keyFrame = desc->isKeyFrame;
        if (desc->headerLength + kTagOffset < packet.payloadLength()) {
            out.source = packet.payload()[desc->headerLength + kTagOffset];
        }
    }
    return out;
}

struct FakeListener : Consumer::Listener {
    std::vector<Sent> sent;
    std::vector<Sent> resent;
    std::vector<bool> resentAsRtx;
    std::vector<uint32_t> keyFrameRequests;

    void onConsumerSendRtpPacket(Consumer&, RtpPacket& packet) override {
        sent.push_back(decode(packet));
    }
    void onConsumerRetransmitRtpPacket(Consumer&, RtpPacket& packet, bool rtx) override {
        resent.push_back(decode(packet));
        resentAsRtx.push_back(rtx);
    }
    void onConsumerKeyFrameRequested(Consumer&, uint32_t mappedSsrc) override {
        keyFrameRequests.push_back(mappedSsrc);
    }
    void onConsumerAllocationInputChanged(Consumer&) override { ++allocationInputs; }
    int allocationInputs = 0;
};

// ---- The producer side -------------------------------------------------------

// One producer stream in the router's space, with the packet store the
// producer keeps for it.
class InputStream {
public:
    struct Frame {
        std::vector<std::vector<uint8_t>> packets;
        uint32_t timestamp = 0;
        uint16_t pictureId = 0;
        uint8_t tid = 0;
    };

    InputStream(size_t index, uint32_t ssrc, uint16_t seq, uint32_t timestamp, uint16_t pictureId,
                uint8_t tl0PicIdx)
        : index_(index), ssrc_(ssrc), seq_(seq), timestamp_(timestamp), pictureId_(pictureId),
          tl0PicIdx_(tl0PicIdx) {}

    size_t index() const { return index_; }
    uint32_t ssrc() const { return ssrc_; }
    sfu::recovery::PacketStore& store() { return store_; }
    // Sets the Y bit (depends on the base layer only) on TID 1 and 2 pictures.
    void setLayerSync(bool layerSync) { layerSync_ = layerSync; }

    // The next frame: a key frame restarts the temporal pattern at TID 0.
    Frame next(bool key, int packetCount) {
        static constexpr uint8_t kPattern[4] = {0, 2, 1, 2};
        if (key) {
            cycle_ = 0;
        }
        Frame frame;
        frame.tid = kPattern[cycle_++ % 4];
        if (frame.tid == 0) {
            ++tl0PicIdx_;
        }
        frame.pictureId = pictureId_;
        frame.timestamp = timestamp_;
        for (int i = 0; i < packetCount; ++i) {
            frame.packets.push_back(
                packet(key, i == 0, i == packetCount - 1, frame.tid, static_cast<uint8_t>(i)));
            ++seq_;
        }
        pictureId_ = static_cast<uint16_t>((pictureId_ + 1) & 0x7FFF);
        timestamp_ += kFrameTicks;
        ++frameCount_;
        return frame;
    }

private:
    // 12-byte RTP header, VP8 descriptor X=1 I=1 (M=1) L=1 T=1, a 10-byte
    // VP8 payload header (a real key frame header on the first packet of a
    // key frame), the source tag, filler.
    std::vector<uint8_t> packet(bool key, bool first, bool last, uint8_t tid, uint8_t part) const {
        static constexpr uint8_t kKeyHeader[10] = {0x10, 0x02, 0x00, 0x9d, 0x01,
                                                   0x2a, 0x40, 0x01, 0xf0, 0x00};
        static constexpr uint8_t kInterHeader[10] = {0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0};
        static constexpr uint8_t kContinuation[10] = {};
        std::vector<uint8_t> p(kHeaderSize + 6 + 10 + 3 + 40, 0xAB);
        uint8_t* rtp = p.data();
        rtp[0] = 0x80;
        rtp[1] = static_cast<uint8_t>((last ? 0x80 : 0x00) | kPayloadType);
        put(rtp + 2, seq_, 2);
        put(rtp + 4, timestamp_, 4);
        put(rtp + 8, ssrc_, 4);
        uint8_t* vp8 = rtp + kHeaderSize;
        vp8[0] = static_cast<uint8_t>(0x80 | (first ? 0x10 : 0x00)); // X, S
        vp8[1] = 0xE0;                                               // I, L, T
        put(vp8 + 2, 0x8000u | pictureId_, 2);                       // M=1
        vp8[4] = tl0PicIdx_;
        vp8[5] = static_cast<uint8_t>((tid << 6) | (layerSync_ && tid > 0 ? 0x20 : 0x00));
        const uint8_t* header = !first ? kContinuation : key ? kKeyHeader : kInterHeader;
        std::copy(header, header + 10, vp8 + 6);
        vp8[6 + kTagOffset] = static_cast<uint8_t>(index_);
        vp8[6 + kTagOffset + 1] = frameCount_;
        vp8[6 + kTagOffset + 2] = part;
        return p;
    }

    static constexpr size_t kHeaderSize = 12;

    static void put(uint8_t* out, uint32_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
        }
    }

    size_t index_;
    uint32_t ssrc_;
    uint16_t seq_;
    uint32_t timestamp_;
    uint16_t pictureId_;
    uint8_t tl0PicIdx_;
    bool layerSync_ = false;
    unsigned cycle_ = 0;
    uint8_t frameCount_ = 0;
    sfu::recovery::PacketStore store_;
};

// ---- Consume request data, as the host sends it ------------------------------

json vp8Codec() {
    return json::parse(R"({
        "mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000, "parameters": {},
        "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                         {"type": "ccm", "parameter": "fir"}]})");
}

json simulcastData(const json& preferredLayers = nullptr) {
    json data = json::parse(R"({
        "kind": "video", "type": "simulcast",
        "rtpParameters": {"headerExtensions": [],
                          "encodings": [{"ssrc": 5000, "scalabilityMode": "S3T3"}],
                          "rtcp": {"cname": "x"}},
        "consumableRtpEncodings": [{"ssrc": 100}, {"ssrc": 200}, {"ssrc": 300}]})");
    data["rtpParameters"]["codecs"] = json::array({vp8Codec()});
    if (!preferredLayers.is_null()) {
        data["preferredLayers"] = preferredLayers;
    }
    return data;
}

json pipeData() {
    json data = json::parse(R"({
        "kind": "video", "type": "pipe",
        "rtpParameters": {"headerExtensions": [],
                          "encodings": [{"ssrc": 7000}, {"ssrc": 7001}, {"ssrc": 7002}],
                          "rtcp": {"cname": "x"}},
        "consumableRtpEncodings": [{"ssrc": 100}, {"ssrc": 200}, {"ssrc": 300}]})");
    data["rtpParameters"]["codecs"] = json::array({vp8Codec()});
    return data;
}

// ---- Checks on the output ----------------------------------------------------

::testing::AssertionResult seqsContiguous(const std::vector<Sent>& packets) {
    for (size_t i = 1; i < packets.size(); ++i) {
        if (packets[i].seq != static_cast<uint16_t>(packets[i - 1].seq + 1)) {
            return ::testing::AssertionFailure() << "packet " << i << " has seq " << packets[i].seq
                                                 << " after " << packets[i - 1].seq;
        }
    }
    return ::testing::AssertionSuccess();
}

// Packets of one picture share its id; each new picture takes the next one.
::testing::AssertionResult pictureIdsContiguous(const std::vector<Sent>& packets) {
    for (size_t i = 1; i < packets.size(); ++i) {
        const uint16_t before = packets[i - 1].pictureId;
        const uint16_t now = packets[i].pictureId;
        if (now != before && now != ((before + 1) & 0x7FFF)) {
            return ::testing::AssertionFailure()
                   << "packet " << i << " has picture id " << now << " after " << before;
        }
    }
    return ::testing::AssertionSuccess();
}

// TL0PICIDX goes up by one at each TID 0 picture; the others carry the
// last one.
::testing::AssertionResult tl0PicIdxsContiguous(const std::vector<Sent>& packets) {
    for (size_t i = 1; i < packets.size(); ++i) {
        if (packets[i].pictureId == packets[i - 1].pictureId) {
            continue;
        }
        const auto want = static_cast<uint8_t>(packets[i - 1].tl0PicIdx + (packets[i].tid == 0));
        if (packets[i].tl0PicIdx != want) {
            return ::testing::AssertionFailure()
                   << "packet " << i << " (TID " << int{packets[i].tid} << ") has TL0PICIDX "
                   << int{packets[i].tl0PicIdx} << " after " << int{packets[i - 1].tl0PicIdx};
        }
    }
    return ::testing::AssertionSuccess();
}

std::vector<int> sources(const std::vector<Sent>& packets) {
    std::vector<int> out;
    for (const auto& p : packets) {
        out.push_back(p.source);
    }
    return out;
}

// ---- Fixture -----------------------------------------------------------------

class ConsumerTest : public ::testing::Test {
protected:
    void SetUp() override {
        inputs_.emplace_back(0, 100, 1000, 10000, 1000, 10);
        inputs_.emplace_back(1, 200, 20000, 500000, 2000, 60);
        inputs_.emplace_back(2, 300, 40000, 90000000, 3000, 110);
    }

    void TearDown() override { consumer_.reset(); }

    void create(const json& data) {
        consumer_ = createConsumer("c1", "p1", env_.shared(), listener_, data);
    }

    // Scores for every producer stream, then the transport connects.
    void activate() {
        consumer_->producerScoresChanged({10, 10, 10});
        consumer_->setTransportConnected(true);
    }

    // One frame of input stream `index` through the consumer, as the
    // producer hands it on: stored first, then forwarded.
    InputStream::Frame feed(size_t index, bool key, int packetCount = 1) {
        InputStream& stream = inputs_[index];
        InputStream::Frame frame = stream.next(key, packetCount);
        for (size_t i = 0; i < frame.packets.size(); ++i) {
            auto& bytes = frame.packets[i];
            auto packet = RtpPacket::parse(bytes.data(), bytes.size(), bytes.size());
            EXPECT_TRUE(packet.has_value());
            stream.store().store(*packet, nowMs_);
            RtpForwardInfo info;
            info.encodingIndex = stream.index();
            info.codec = sfu::codecs::Codec::Vp8;
            info.keyFrame = key && i == 0;
            info.nowMs = nowMs_;
            info.store = &stream.store();
            consumer_->sendRtpPacket(*packet, info);
        }
        return frame;
    }

    // One frame of each sending stream (lowest first), key frames on `keys`;
    // then the clock moves one frame on. The frames of the highest stream
    // fed are kept in lastFrames_.
    void tick(const std::vector<size_t>& keys = {}, int packetCount = 1) {
        for (size_t i = 0; i < inputs_.size(); ++i) {
            if (!sending_[i]) {
                continue;
            }
            const bool key = std::find(keys.begin(), keys.end(), i) != keys.end();
            lastFrames_[i] = feed(i, key, packetCount);
        }
        nowMs_ += kFrameMs;
    }

    void ticks(int count) {
        for (int i = 0; i < count; ++i) {
            tick();
        }
    }

    const std::vector<json>& notifications() { return env_.notifications(); }

    // The data of every `event` notification of the consumer so far.
    std::vector<json> events(const std::string& event) {
        std::vector<json> out;
        for (const auto& message : notifications()) {
            if (message.value("targetId", "") == "c1" && message.value("event", "") == event) {
                out.push_back(message.contains("data") ? message["data"] : json(nullptr));
            }
        }
        return out;
    }

    // A request to the consumer; the whole response.
    json request(const std::string& method, const json& data) {
        const std::string text = json{
            {"id", ++requestId_},
            {"method", method},
            {"internal", {{"consumerId", "c1"}}},
            {"data", data}}.dump();
        sfu::test::CaptureResponder capture;
        auto req = sfu::channel::Request::parse(reinterpret_cast<const uint8_t*>(text.data()),
                                                text.size(), &capture);
        sfu::channel::runRequest(req,
                                 [&](sfu::channel::Request& r) { consumer_->handleRequest(r); });
        return capture.last;
    }

    // A generic NACK from the receiver for these output sequence numbers.
    void nack(uint32_t mediaSsrc, const std::vector<uint16_t>& seqs) {
        bool parsed = false;
        sfu::test::withNack(1234, mediaSsrc, seqs, [&](const sfu::rtcp::NackView& view) {
            parsed = true;
            consumer_->receiveNack(view, nowMs_);
        });
        ASSERT_TRUE(parsed);
    }

    uint64_t outboundCount(const char* name) {
        return consumer_->stats(nowMs_).at(0).value(name, uint64_t{0});
    }
    uint64_t retransmissionsUnavailable() { return outboundCount("retransmissionsUnavailable"); }
    // Asked for, but from before the stream last restarted at a key frame.
    uint64_t retransmissionsSuperseded() { return outboundCount("retransmissionsSuperseded"); }

    sfu::test::EntityEnvironment env_{43000, 43999};

    FakeListener listener_;
    std::unique_ptr<Consumer> consumer_;
    std::deque<InputStream> inputs_;
    bool sending_[3] = {true, true, true};
    InputStream::Frame lastFrames_[3];
    uint64_t nowMs_ = 100000;
    uint32_t requestId_ = 0;
};

class SimulcastConsumerTest : public ConsumerTest {};
class PipeConsumerTest : public ConsumerTest {};

json layers(int spatial, int temporal) {
    return json{{"spatialLayer", spatial}, {"temporalLayer", temporal}};
}

// ---- Simulcast ---------------------------------------------------------------

// Spec 1: by default the highest stream, from its first key frame, with the
// producer's timestamps.
TEST_F(SimulcastConsumerTest, DefaultForwardsHighestStreamFromItsKeyFrame) {
    create(simulcastData());
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(2, 2));

    consumer_->producerScoresChanged({10, 10, 10});
    EXPECT_TRUE(listener_.keyFrameRequests.empty()) << "not active yet";
    consumer_->setTransportConnected(true);
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});

    ticks(2);
    tick({0, 1});
    EXPECT_TRUE(listener_.sent.empty()) << "no key frame of stream 2 yet";

    std::vector<uint32_t> inputTimestamps;
    std::vector<uint16_t> inputPictureIds;
    tick({2});
    inputTimestamps.push_back(lastFrames_[2].timestamp);
    inputPictureIds.push_back(lastFrames_[2].pictureId);
    for (int i = 0; i < 7; ++i) {
        tick(i == 3 ? std::vector<size_t>{0, 1} : std::vector<size_t>{});
        inputTimestamps.push_back(lastFrames_[2].timestamp);
        inputPictureIds.push_back(lastFrames_[2].pictureId);
    }

    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 8u);
    EXPECT_EQ(sources(sent), std::vector<int>(8, 2));
    EXPECT_TRUE(sent[0].keyFrame);
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].ssrc, 5000u) << i;
        EXPECT_EQ(sent[i].payloadType, kPayloadType) << i;
        EXPECT_EQ(sent[i].timestamp, inputTimestamps[i]) << "first run keeps timestamps, " << i;
        EXPECT_EQ(sent[i].pictureId, inputPictureIds[i]) << i;
    }
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});

    // Layers as they are forwarded: stream 2 only, the temporal layer
    // reaching 2 once pictures of TID 2 went out; no repeated event.
    const auto changes = events("layerschange");
    ASSERT_FALSE(changes.empty());
    for (size_t i = 0; i < changes.size(); ++i) {
        EXPECT_EQ(changes[i].value("spatialLayer", -1), 2) << changes[i];
        if (i > 0) {
            EXPECT_NE(changes[i], changes[i - 1]);
        }
    }
    EXPECT_EQ(changes.back(), layers(2, 2));
}

// Spec 2: a lower preferred layer switches at that stream's key frame; the
// receiver sees one stream throughout.
TEST_F(SimulcastConsumerTest, SwitchDownAtKeyFrameKeepsNumberingContinuous) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(4);
    ASSERT_EQ(listener_.sent.size(), 5u);
    listener_.keyFrameRequests.clear();

    const json response = request("consumer.setPreferredLayers", {{"spatialLayer", 0}});
    EXPECT_TRUE(response.value("accepted", false)) << response;
    EXPECT_EQ(response.value("data", json()), layers(0, 2));
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(0, 2));
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{100});

    ticks(3);
    ASSERT_EQ(listener_.sent.size(), 8u);
    EXPECT_EQ(sources(listener_.sent), std::vector<int>(8, 2)) << "stream 2 until the switch";

    const uint32_t lastTimestampBefore = listener_.sent.back().timestamp;
    tick({0, 1, 2});
    const uint32_t firstInputTimestamp = lastFrames_[0].timestamp;
    ticks(5);

    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 14u);
    EXPECT_EQ(sources(sent), (std::vector<int>{2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0}));
    EXPECT_TRUE(sent[8].keyFrame);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(sent[8].pictureId, (sent[7].pictureId + 1) & 0x7FFF);
    EXPECT_TRUE(sfu::rtp::isNewer(sent[8].timestamp, lastTimestampBefore))
        << sent[8].timestamp << " after " << lastTimestampBefore;
    // One offset for the whole new run.
    for (size_t i = 8; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].timestamp - sent[8].timestamp, (i - 8) * kFrameTicks) << i;
        EXPECT_EQ(sent[i].ssrc, 5000u);
    }
    EXPECT_NE(sent[8].timestamp, firstInputTimestamp) << "timestamps are rebased on a switch";

    const auto changes = events("layerschange");
    ASSERT_FALSE(changes.empty());
    EXPECT_EQ(changes.back().value("spatialLayer", -1), 0) << changes.back();
    EXPECT_EQ(changes.back(), layers(0, 2));
    // At the switch only the new stream's key frame (TID 0) went out: the
    // layers reported then are its own, not those of the stream before.
    const auto firstOnNew = std::find_if(changes.begin(), changes.end(), [](const json& c) {
        return c.value("spatialLayer", -1) == 0;
    });
    EXPECT_EQ(*firstOnNew, layers(0, 0));
}

// The transport's allocation caps the layers: the candidates it is given
// run lowest first; a lower grant switches at that stream's key frame with
// the temporal layer capped too; no grant stops forwarding. Priority,
// preferred layers and pause tell the listener to allocate again.
TEST_F(SimulcastConsumerTest, AllocationCapsTheLayers) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(3);
    ASSERT_EQ(listener_.sent.size(), 4u);
    listener_.keyFrameRequests.clear();

    ASSERT_TRUE(consumer_->layered());
    std::vector<sfu::bwe::BitrateAllocator::LayerCost> costs;
    consumer_->collectLayerCosts(nowMs_, costs);
    ASSERT_EQ(costs.size(), 7u);
    EXPECT_EQ(costs.front().layer, (sfu::bwe::AllocationLayer{0, 0}));
    EXPECT_EQ(costs[3].layer, (sfu::bwe::AllocationLayer{1, 1}));
    EXPECT_EQ(costs.back().layer, (sfu::bwe::AllocationLayer{2, 2}));

    consumer_->setAllocatedLayers({1, 0});
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{200});
    // Stream 2 until the key frame, its temporal layers capped at once.
    ticks(2);
    const size_t switchAt = listener_.sent.size();
    EXPECT_EQ(sources(listener_.sent), std::vector<int>(switchAt, 2));
    tick({1});
    ticks(7);
    const auto& sent = listener_.sent;
    ASSERT_GT(sent.size(), switchAt + 1);
    for (size_t i = 4; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].source, i < switchAt ? 2 : 1) << i;
        EXPECT_EQ(sent[i].tid, 0) << i;
    }
    EXPECT_TRUE(sent[switchAt].keyFrame);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_EQ(events("layerschange").back(), layers(1, 0));

    consumer_->setAllocatedLayers(sfu::bwe::BitrateAllocator::kNoLayer);
    EXPECT_EQ(events("layerschange").back(), json(nullptr));
    const size_t before = sent.size();
    ticks(4);
    EXPECT_EQ(sent.size(), before) << "nothing granted, nothing sent";

    const int inputs = listener_.allocationInputs;
    EXPECT_TRUE(request("consumer.setPriority", {{"priority", 3}}).value("accepted", false));
    EXPECT_EQ(consumer_->priority(), 3u);
    EXPECT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 1}}).value("accepted", false));
    EXPECT_TRUE(request("consumer.pause", json::object()).value("accepted", false));
    EXPECT_EQ(listener_.allocationInputs, inputs + 3);
}

// Spec 3: temporal target 0 forwards TID 0 pictures only; numbering has no
// holes.
TEST_F(SimulcastConsumerTest, TemporalTargetZeroForwardsBaseLayerOnly) {
    create(simulcastData(layers(2, 0)));
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(2, 0));
    activate();
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});

    tick({2}, 2);
    for (int i = 0; i < 11; ++i) {
        tick({}, 2);
    }
    // 12 pictures in the pattern 0 2 1 2: 3 of TID 0, two packets each.
    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 6u);
    for (const auto& packet : sent) {
        EXPECT_EQ(packet.tid, 0);
        EXPECT_EQ(packet.source, 2);
    }
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(sent[2].pictureId, (sent[0].pictureId + 1) & 0x7FFF);
    EXPECT_EQ(sent[4].pictureId, (sent[0].pictureId + 2) & 0x7FFF);
    EXPECT_EQ(static_cast<uint8_t>(sent[2].tl0PicIdx - sent[0].tl0PicIdx), 1);
    // Markers survive: every second packet ends a picture.
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].marker, i % 2 == 1) << i;
    }

    EXPECT_EQ(events("layerschange"), std::vector<json>{layers(2, 0)});
}

// Spec 4: a dead stream moves the target down; no live stream at all stops
// forwarding.
TEST_F(SimulcastConsumerTest, StreamDeathMovesDownThenStops) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(3);
    ASSERT_EQ(listener_.sent.size(), 4u);
    listener_.keyFrameRequests.clear();

    consumer_->producerScoresChanged({10, 10, 0});
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{200});
    sending_[2] = false;
    ticks(2);
    EXPECT_EQ(listener_.sent.size(), 4u);
    tick({1});
    ticks(3);

    ASSERT_EQ(listener_.sent.size(), 8u);
    EXPECT_EQ(sources(listener_.sent), (std::vector<int>{2, 2, 2, 2, 1, 1, 1, 1}));
    EXPECT_TRUE(listener_.sent[4].keyFrame);
    EXPECT_TRUE(seqsContiguous(listener_.sent));
    EXPECT_TRUE(pictureIdsContiguous(listener_.sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(listener_.sent));
    EXPECT_EQ(events("layerschange").back().value("spatialLayer", -1), 1);

    consumer_->producerScoresChanged({0, 0, 0});
    EXPECT_TRUE(events("layerschange").back().is_null()) << events("layerschange").back();
    sending_[2] = true;
    tick({0, 1, 2});
    ticks(2);
    EXPECT_EQ(listener_.sent.size(), 8u) << "nothing is alive";

    // Stream 1 comes back: asked for, resumed at its key frame, numbering
    // continued.
    listener_.keyFrameRequests.clear();
    sending_[2] = false;
    consumer_->producerScoresChanged({0, 10, 0});
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{200});
    tick();
    EXPECT_EQ(listener_.sent.size(), 8u);
    tick({1});
    ticks(2);
    ASSERT_EQ(listener_.sent.size(), 11u);
    EXPECT_EQ(sources(listener_.sent).back(), 1);
    EXPECT_TRUE(listener_.sent[8].keyFrame);
    EXPECT_TRUE(seqsContiguous(listener_.sent));
    EXPECT_TRUE(pictureIdsContiguous(listener_.sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(listener_.sent));
    EXPECT_TRUE(sfu::rtp::isNewer(listener_.sent[8].timestamp, listener_.sent[7].timestamp));
    EXPECT_EQ(events("layerschange").back().value("spatialLayer", -1), 1);
}

// Spec 5: after a pause, forwarding resumes at a key frame, numbering
// continued.
TEST_F(SimulcastConsumerTest, ResumeWaitsForKeyFrame) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(4);
    ASSERT_EQ(listener_.sent.size(), 5u);
    listener_.keyFrameRequests.clear();

    consumer_->setTransportConnected(false);
    tick({2});
    ticks(2);
    EXPECT_EQ(listener_.sent.size(), 5u) << "inactive";
    EXPECT_TRUE(listener_.keyFrameRequests.empty());

    consumer_->setTransportConnected(true);
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});
    ticks(2);
    EXPECT_EQ(listener_.sent.size(), 5u) << "waits for a key frame";
    tick({2});
    const uint32_t inputTimestamp = lastFrames_[2].timestamp;
    ticks(2);

    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 8u);
    EXPECT_TRUE(sent[5].keyFrame);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(sent[5].pictureId, (sent[4].pictureId + 1) & 0x7FFF);
    // The same stream again keeps its own timeline.
    EXPECT_EQ(sent[5].timestamp, inputTimestamp);
}

// The same through consumer.pause / consumer.resume.
TEST_F(SimulcastConsumerTest, PauseResumeRequests) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(2);
    ASSERT_EQ(listener_.sent.size(), 3u);
    listener_.keyFrameRequests.clear();

    EXPECT_TRUE(request("consumer.pause", json::object()).value("accepted", false));
    tick({2});
    EXPECT_EQ(listener_.sent.size(), 3u);
    EXPECT_TRUE(request("consumer.resume", json::object()).value("accepted", false));
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});
    tick();
    EXPECT_EQ(listener_.sent.size(), 3u);
    tick({2});
    ASSERT_EQ(listener_.sent.size(), 4u);
    EXPECT_TRUE(seqsContiguous(listener_.sent));
    EXPECT_TRUE(pictureIdsContiguous(listener_.sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(listener_.sent));
}

// Spec 6: retransmissions are the first send byte for byte; those of an
// earlier run (another source stream) are superseded by the key frame the
// current run started from, and counted.
TEST_F(SimulcastConsumerTest, NackResendsCurrentRunOnly) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(5);
    ASSERT_EQ(listener_.sent.size(), 6u);
    const std::vector<Sent> firstRun = listener_.sent;

    nack(5000, {firstRun[1].seq, firstRun[3].seq});
    ASSERT_EQ(listener_.resent.size(), 2u);
    EXPECT_EQ(listener_.resent[0].bytes, firstRun[1].bytes);
    EXPECT_EQ(listener_.resent[1].bytes, firstRun[3].bytes);
    EXPECT_FALSE(listener_.resentAsRtx[0]);
    EXPECT_EQ(retransmissionsUnavailable(), 0u);

    // Switch to stream 0.
    ASSERT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 0}}).value("accepted", false));
    tick({0});
    ticks(3);
    ASSERT_EQ(listener_.sent.size(), 10u);
    EXPECT_EQ(sources(listener_.sent).back(), 0);
    const Sent secondRun = listener_.sent[8];
    nowMs_ += 100; // past any resend throttling

    listener_.resent.clear();
    nack(5000, {firstRun[2].seq, secondRun.seq});
    ASSERT_EQ(listener_.resent.size(), 1u);
    EXPECT_EQ(listener_.resent[0].bytes, secondRun.bytes);
    EXPECT_EQ(retransmissionsSuperseded(), 1u) << "the first run's packet";

    // The first run's packets again, twice: still not sent.
    nack(5000, {firstRun[0].seq, firstRun[5].seq});
    EXPECT_EQ(listener_.resent.size(), 1u);
    EXPECT_EQ(retransmissionsSuperseded(), 3u);
    EXPECT_EQ(retransmissionsUnavailable(), 0u);
}

// Back on a stream forwarded before (2 -> 0 -> 2): the first run of stream 2
// shares the store of the current run but not its picture ids.
TEST_F(SimulcastConsumerTest, NackOfEarlierRunOfSameStreamIsNotResent) {
    create(simulcastData());
    activate();
    tick({2});
    ticks(3);
    const std::vector<Sent> firstRun = listener_.sent;
    ASSERT_EQ(firstRun.size(), 4u);

    ASSERT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 0}}).value("accepted", false));
    tick({0});
    ticks(2);
    ASSERT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 2}}).value("accepted", false));
    tick({2}); // stream 0's frame still goes out, then the switch
    ticks(2);
    ASSERT_EQ(listener_.sent.size(), 11u);
    EXPECT_EQ(sources(listener_.sent), (std::vector<int>{2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2}));
    EXPECT_TRUE(seqsContiguous(listener_.sent));
    EXPECT_TRUE(pictureIdsContiguous(listener_.sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(listener_.sent));

    nowMs_ += 50;
    nack(5000, {firstRun[1].seq, firstRun[2].seq, listener_.sent[9].seq});
    // Whatever goes out must be what was sent under that sequence number.
    for (const auto& resent : listener_.resent) {
        bool matches = false;
        for (const auto& sent : listener_.sent) {
            if (sent.seq == resent.seq) {
                matches = sent.bytes == resent.bytes;
            }
        }
        EXPECT_TRUE(matches) << "seq " << resent.seq << " resent with picture id "
                             << resent.pictureId;
    }
    ASSERT_EQ(listener_.resent.size(), 1u);
    EXPECT_EQ(listener_.resent[0].bytes, listener_.sent[9].bytes);
    EXPECT_EQ(retransmissionsSuperseded(), 2u);
}

// Activation in the other order: the transport first, the scores later.
TEST_F(SimulcastConsumerTest, ScoresAfterConnectRequestKeyFrame) {
    create(simulcastData());
    consumer_->setTransportConnected(true);
    EXPECT_TRUE(listener_.keyFrameRequests.empty()) << "no stream known alive";
    consumer_->producerScoresChanged({10, 10, 10});
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});
    tick({2});
    EXPECT_EQ(listener_.sent.size(), 1u);
}

// A PLI from the receiver asks for a key frame of the stream switched to.
TEST_F(SimulcastConsumerTest, ReceiverKeyFrameRequestGoesToTargetStream) {
    create(simulcastData());
    activate();
    tick({2});
    listener_.keyFrameRequests.clear();
    consumer_->receiveKeyFrameRequest(false, 5000, nowMs_);
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{300});
    ASSERT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 1}}).value("accepted", false));
    EXPECT_EQ(listener_.keyFrameRequests, (std::vector<uint32_t>{300, 200}));
    consumer_->receiveKeyFrameRequest(true, 5000, nowMs_);
    EXPECT_EQ(listener_.keyFrameRequests, (std::vector<uint32_t>{300, 200, 200}));
    consumer_->receiveKeyFrameRequest(false, 4444, nowMs_);
    EXPECT_EQ(listener_.keyFrameRequests.size(), 3u) << "not our ssrc";
}

// A higher temporal target is reached at the next picture that depends on
// the base layer only (Y bit), without a key frame.
TEST_F(SimulcastConsumerTest, TemporalUpSwitchAtLayerSyncPicture) {
    inputs_[2].setLayerSync(true);
    create(simulcastData(layers(2, 0)));
    activate();
    tick({2});
    ticks(4); // TIDs 2 1 2 0
    ASSERT_EQ(listener_.sent.size(), 2u);
    listener_.keyFrameRequests.clear();

    const json response =
        request("consumer.setPreferredLayers", {{"spatialLayer", 2}, {"temporalLayer", 2}});
    EXPECT_EQ(response.value("data", json()), layers(2, 2)) << response;
    EXPECT_TRUE(listener_.keyFrameRequests.empty()) << "no switch of stream";
    ticks(4); // TIDs 2 1 2 0
    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 6u);
    EXPECT_EQ(sent[2].tid, 2);
    EXPECT_EQ(sent[3].tid, 1);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(events("layerschange"), (std::vector<json>{layers(2, 0), layers(2, 2)}));

    // And down again at once.
    request("consumer.setPreferredLayers", {{"spatialLayer", 2}, {"temporalLayer", 0}});
    ticks(4); // TIDs 2 1 2 0
    ASSERT_EQ(listener_.sent.size(), 7u);
    EXPECT_EQ(listener_.sent.back().tid, 0);
    EXPECT_TRUE(seqsContiguous(listener_.sent));
    EXPECT_TRUE(pictureIdsContiguous(listener_.sent));
    EXPECT_EQ(events("layerschange").back(), layers(2, 0));
}

// Switching up (0 -> 2) while dropping temporal layers.
TEST_F(SimulcastConsumerTest, SwitchUpWithTemporalFilter) {
    create(simulcastData(layers(0, 1)));
    activate();
    EXPECT_EQ(listener_.keyFrameRequests, std::vector<uint32_t>{100});
    tick({0}, 2);
    for (int i = 0; i < 6; ++i) {
        tick({}, 2);
    }
    // TIDs 0 2 1 2 0 2 1: four pictures up to TID 1.
    ASSERT_EQ(listener_.sent.size(), 8u);
    request("consumer.setPreferredLayers", {{"spatialLayer", 2}, {"temporalLayer", 1}});
    EXPECT_EQ(listener_.keyFrameRequests, (std::vector<uint32_t>{100, 300}));
    tick({}, 2);  // TID 2 of stream 0: dropped
    tick({2}, 2); // TID 0 of stream 0 still goes out, then stream 2's key frame
    for (int i = 0; i < 4; ++i) {
        tick({}, 2);
    }
    // Stream 2 from its key frame: TIDs 0 2 1 2 0 -> 0 1 0.
    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 16u);
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].source, i < 10 ? 0 : 2) << i;
        EXPECT_LE(sent[i].tid, 1) << i;
    }
    EXPECT_TRUE(sent[10].keyFrame);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(events("layerschange").back(), layers(2, 1));
}

// With RTX negotiated, a retransmission is the first send RTX encapsulated:
// the original sequence number, then the very same payload (picture id
// included).
TEST_F(SimulcastConsumerTest, NackAnsweredWithRtx) {
    json data = simulcastData();
    data["rtpParameters"]["codecs"].push_back({{"mimeType", "video/rtx"},
                                               {"payloadType", 102},
                                               {"clockRate", 90000},
                                               {"parameters", {{"apt", 101}}},
                                               {"rtcpFeedback", json::array()}});
    data["rtpParameters"]["encodings"][0]["rtx"] = {{"ssrc", 5001}};
    create(data);
    activate();
    EXPECT_EQ(consumer_->rtxSsrcs(), std::vector<uint32_t>{5001});
    tick({2});
    ticks(3);
    ASSERT_TRUE(
        request("consumer.setPreferredLayers", {{"spatialLayer", 1}}).value("accepted", false));
    tick({1});
    ticks(2);
    ASSERT_EQ(listener_.sent.size(), 7u);
    nowMs_ += 50;
    nack(5000, {listener_.sent[1].seq, listener_.sent[5].seq});
    ASSERT_EQ(listener_.resent.size(), 1u) << "only the current run's packet";
    EXPECT_TRUE(listener_.resentAsRtx[0]);
    const Sent& original = listener_.sent[5];
    const std::vector<uint8_t>& rtx = listener_.resent[0].bytes;
    EXPECT_EQ(listener_.resent[0].ssrc, 5001u);
    EXPECT_EQ(rtx[1] & 0x7F, 102);
    EXPECT_EQ(listener_.resent[0].timestamp, original.timestamp);
    ASSERT_EQ(rtx.size(), original.bytes.size() + 2);
    EXPECT_EQ(rtx[12], original.seq >> 8);
    EXPECT_EQ(rtx[13], original.seq & 0xFF);
    EXPECT_TRUE(std::equal(original.bytes.begin() + 12, original.bytes.end(), rtx.begin() + 14))
        << "payload differs from the first send";
}

// Sequence numbers, picture ids and timestamps wrapping around.
TEST_F(SimulcastConsumerTest, CountersWrapAround) {
    inputs_[2] = InputStream(2, 300, 65533, 0xFFFFF000u, 0x7FFD, 254);
    create(simulcastData());
    activate();
    tick({2});
    ticks(7);
    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 8u);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_EQ(sent[7].pictureId, 4);
    EXPECT_EQ(sent[7].timestamp, 0xFFFFF000u + 7 * kFrameTicks);
    // And a switch right after the wrap.
    request("consumer.setPreferredLayers", {{"spatialLayer", 0}});
    tick({0});
    ticks(2);
    ASSERT_EQ(sent.size(), 11u);
    EXPECT_TRUE(seqsContiguous(sent));
    EXPECT_TRUE(pictureIdsContiguous(sent));
    EXPECT_TRUE(tl0PicIdxsContiguous(sent));
    EXPECT_TRUE(sfu::rtp::isNewer(sent[8].timestamp, sent[7].timestamp));
}

// Trace events of what goes out: the first packet of a key frame is a
// "keyframe" event (and then not also an "rtp" one, as mediasoup), the
// others "rtp" events, each with the packet as sent; only while enabled.
TEST_F(SimulcastConsumerTest, TraceEventsOfSentPackets) {
    create(simulcastData());
    activate();
    EXPECT_EQ(request("consumer.enableTraceEvent", {{"types", {"rtp", "keyframe", "bwe"}}})
                  .value("accepted", false),
              true);
    EXPECT_EQ(consumer_->dump().value("traceEventTypes", ""), "rtp,keyframe");
    tick({2}, 2);
    tick({}, 1);
    const auto& sent = listener_.sent;
    ASSERT_EQ(sent.size(), 3u);
    auto traces = events("trace");
    ASSERT_EQ(traces.size(), 3u);
    const char* types[3] = {"keyframe", "rtp", "rtp"};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(traces[i].value("type", ""), types[i]) << traces[i];
        EXPECT_EQ(traces[i].value("direction", ""), "out") << traces[i];
        const json& info = traces[i]["info"];
        EXPECT_EQ(info.value("ssrc", 0u), 5000u) << info;
        EXPECT_EQ(info.value("sequenceNumber", 0), sent[i].seq) << info;
        EXPECT_EQ(info.value("timestamp", 0u), sent[i].timestamp) << info;
        EXPECT_EQ(info.value("marker", false), sent[i].marker) << info;
        EXPECT_EQ(info.value("isKeyFrame", false), i == 0) << info;
        EXPECT_EQ(info.value("size", size_t{0}), sent[i].bytes.size()) << info;
    }

    request("consumer.enableTraceEvent", {{"types", {"keyframe"}}});
    ticks(2);
    EXPECT_EQ(events("trace").size(), 3u) << "no rtp events once disabled";
    request("consumer.enableTraceEvent", {{"types", json::array()}});
    tick({2});
    EXPECT_EQ(sent.size(), 6u);
    EXPECT_TRUE(sent.back().keyFrame);
    EXPECT_EQ(events("trace").size(), 3u) << "no keyframe events once disabled";
}

// ---- Pipe --------------------------------------------------------------------

// Spec 7: every producer stream on its own ssrc, each from its own key frame.
TEST_F(PipeConsumerTest, ForwardsEveryStreamOnItsOwnSsrc) {
    create(pipeData());
    EXPECT_TRUE(consumer_->preferredLayersJson().is_null());
    activate();
    EXPECT_EQ(listener_.keyFrameRequests, (std::vector<uint32_t>{100, 200, 300}));
    EXPECT_EQ(consumer_->scoreJson(),
              (json{{"score", 10}, {"producerScore", 10}, {"producerScores", {10, 10, 10}}}));

    std::vector<uint32_t> inputTimestamps[3];
    std::vector<uint16_t> inputPictureIds[3];
    const auto record = [&](size_t from) {
        for (size_t i = from; i < 3; ++i) {
            inputTimestamps[i].push_back(lastFrames_[i].timestamp);
            inputPictureIds[i].push_back(lastFrames_[i].pictureId);
        }
    };
    tick();
    EXPECT_TRUE(listener_.sent.empty());
    tick({1});
    record(1);
    tick({0});
    record(0);
    for (int i = 0; i < 5; ++i) {
        tick(i == 2 ? std::vector<size_t>{2} : std::vector<size_t>{});
        record(0);
    }
    // Stream 2 started at its key frame (the fourth of these ticks).
    inputTimestamps[2].erase(inputTimestamps[2].begin(), inputTimestamps[2].begin() + 4);
    inputPictureIds[2].erase(inputPictureIds[2].begin(), inputPictureIds[2].begin() + 4);

    for (size_t i = 0; i < 3; ++i) {
        std::vector<Sent> out;
        for (const auto& packet : listener_.sent) {
            if (packet.source == static_cast<int>(i)) {
                out.push_back(packet);
            }
        }
        ASSERT_EQ(out.size(), inputTimestamps[i].size()) << "stream " << i;
        ASSERT_FALSE(out.empty());
        EXPECT_TRUE(out[0].keyFrame) << "stream " << i;
        EXPECT_TRUE(seqsContiguous(out)) << "stream " << i;
        for (size_t k = 0; k < out.size(); ++k) {
            EXPECT_EQ(out[k].ssrc, 7000 + i) << "stream " << i;
            EXPECT_EQ(out[k].timestamp, inputTimestamps[i][k]) << "stream " << i;
            EXPECT_EQ(out[k].pictureId, inputPictureIds[i][k]) << "stream " << i;
        }
    }
    EXPECT_EQ(listener_.sent.size(), 6u + 7u + 3u);
    for (const auto& packet : listener_.sent) {
        EXPECT_EQ(packet.ssrc, 7000u + static_cast<uint32_t>(packet.source));
    }
    EXPECT_EQ(consumer_->scoreJson(),
              (json{{"score", 10}, {"producerScore", 10}, {"producerScores", {10, 10, 10}}}));
    consumer_->producerScoresChanged({3, 0, 7});
    EXPECT_EQ(consumer_->scoreJson(),
              (json{{"score", 10}, {"producerScore", 10}, {"producerScores", {3, 0, 7}}}));
}

// ---- Validation --------------------------------------------------------------

// Spec 8.
TEST_F(SimulcastConsumerTest, RejectsWrongData) {
    json oneEncoding = simulcastData();
    oneEncoding["consumableRtpEncodings"] = json::parse(R"([{"ssrc": 100}])");
    EXPECT_THROW(create(oneEncoding), sfu::TypeError);

    json noSsrc = simulcastData();
    noSsrc["consumableRtpEncodings"] = json::parse(R"([{"ssrc": 100}, {}, {"ssrc": 300}])");
    EXPECT_THROW(create(noSsrc), sfu::TypeError);

    EXPECT_THROW(create(simulcastData(json{{"temporalLayer", 1}})), sfu::TypeError);
    EXPECT_THROW(create(simulcastData(json{{"spatialLayer", -1}})), sfu::TypeError);
    EXPECT_THROW(create(simulcastData(json{{"spatialLayer", "x"}})), sfu::TypeError);
    EXPECT_THROW(create(simulcastData(json{{"spatialLayer", 1}, {"temporalLayer", -2}})),
                 sfu::TypeError);
}

TEST_F(SimulcastConsumerTest, ClampsPreferredLayers) {
    create(simulcastData(json{{"spatialLayer", 12}}));
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(2, 2));
    create(simulcastData(json{{"spatialLayer", 1}}));
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(1, 2));
    create(simulcastData(json{{"spatialLayer", 0}, {"temporalLayer", 9}}));
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(0, 2));

    // Through the request: the clamped layers are the answer, wrong ones a
    // TypeError that leaves the preference alone.
    json response = request("consumer.setPreferredLayers", {{"spatialLayer", 5}});
    EXPECT_EQ(response.value("data", json()), layers(2, 2)) << response;
    response = request("consumer.setPreferredLayers", {{"temporalLayer", 1}});
    EXPECT_EQ(response.value("error", ""), "TypeError") << response;
    EXPECT_EQ(consumer_->preferredLayersJson(), layers(2, 2));
}

} // namespace
