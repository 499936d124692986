// The RTP listener with real producers: which stream a packet belongs to by
// SSRC, MID, RID and repaired RID, what it learns, and what it refuses.
#include "rtc/RtpListener.hpp"

#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/EntityEnvironment.hpp"
#include "rtc/Producer.hpp"
#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::Producer;
using sfu::rtc::RtpListener;

constexpr uint8_t kMidId = 1;
constexpr uint8_t kRidId = 2;
constexpr uint8_t kRridId = 3;

struct NoopProducerListener : Producer::Listener {
    void onProducerPaused(Producer&) override {}
    void onProducerResumed(Producer&) override {}
    void onProducerScore(Producer&) override {}
    void onProducerSendRtcp(Producer&, const uint8_t*, size_t) override {}
};

json codecs() {
    return {{{"mimeType", "video/VP8"}, {"payloadType", 96}, {"clockRate", 90000}},
            {{"mimeType", "video/rtx"},
             {"payloadType", 97},
             {"clockRate", 90000},
             {"parameters", {{"apt", 96}}}}};
}

json headerExtensions() {
    return {{{"uri", "urn:ietf:params:rtp-hdrext:sdes:mid"}, {"id", kMidId}},
            {{"uri", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"}, {"id", kRidId}},
            {{"uri", "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"}, {"id", kRridId}}};
}

json produceData(const json& rtpParameters) {
    json mapping = {{"codecs",
                     {{{"payloadType", 96}, {"mappedPayloadType", 101}},
                      {{"payloadType", 97}, {"mappedPayloadType", 102}}}},
                    {"encodings", json::array()}};
    uint32_t mapped = 1000;
    for (const auto& encoding : rtpParameters["encodings"]) {
        json entry{{"mappedSsrc", mapped++}};
        if (encoding.contains("rid")) {
            entry["rid"] = encoding["rid"];
        }
        if (encoding.contains("ssrc")) {
            entry["ssrc"] = encoding["ssrc"];
        }
        mapping["encodings"].push_back(entry);
    }
    return {{"kind", "video"}, {"rtpParameters", rtpParameters}, {"rtpMapping", mapping}};
}

// An RTP packet with the given SDES extensions (one-byte header form).
struct PacketBuilder {
    std::vector<uint8_t> bytes;

    PacketBuilder(uint32_t ssrc, uint8_t pt, std::vector<std::pair<uint8_t, std::string>> sdes) {
        bytes = {static_cast<uint8_t>(sdes.empty() ? 0x80 : 0x90),
                 pt,
                 0,
                 1,
                 0,
                 0,
                 0,
                 1,
                 static_cast<uint8_t>(ssrc >> 24),
                 static_cast<uint8_t>(ssrc >> 16),
                 static_cast<uint8_t>(ssrc >> 8),
                 static_cast<uint8_t>(ssrc)};
        if (!sdes.empty()) {
            std::vector<uint8_t> ext;
            for (const auto& [id, value] : sdes) {
                ext.push_back(static_cast<uint8_t>((id << 4) | (value.size() - 1)));
                ext.insert(ext.end(), value.begin(), value.end());
            }
            while (ext.size() % 4 != 0) {
                ext.push_back(0);
            }
            const auto words = static_cast<uint16_t>(ext.size() / 4);
            const uint8_t header[4] = {0xBE, 0xDE, static_cast<uint8_t>(words >> 8),
                                       static_cast<uint8_t>(words)};
            bytes.insert(bytes.end(), header, header + 4);
            bytes.insert(bytes.end(), ext.begin(), ext.end());
        }
        bytes.push_back(0x10);
        bytes.push_back(0x00);
    }
    sfu::rtp::RtpPacket packet() {
        return *sfu::rtp::RtpPacket::parse(bytes.data(), bytes.size(), bytes.size());
    }
};

class RtpListenerTest : public ::testing::Test {
protected:
    Producer& add(const std::string& id, const json& rtpParameters) {
        producers_.push_back(std::make_unique<Producer>(id, env_.shared(), producerListener_,
                                                        produceData(rtpParameters)));
        listener_.addProducer(*producers_.back());
        return *producers_.back();
    }

    std::optional<std::pair<Producer*, size_t>> find(PacketBuilder builder) {
        const auto packet = builder.packet();
        const auto target = listener_.find(packet);
        if (!target) {
            return std::nullopt;
        }
        return std::pair(target->producer, target->encodingIndex);
    }

    sfu::test::EntityEnvironment env_{45000, 45999};
    NoopProducerListener producerListener_;
    std::vector<std::unique_ptr<Producer>> producers_;
    RtpListener listener_;
};

TEST_F(RtpListenerTest, DeclaredSsrcsAndTheirRtxFindTheirEncoding) {
    Producer& p =
        add("p",
            {{"codecs", codecs()},
             {"encodings",
              {{{"ssrc", 10}, {"rtx", {{"ssrc", 11}}}}, {{"ssrc", 20}, {"rtx", {{"ssrc", 21}}}}}}});
    EXPECT_EQ(find(PacketBuilder(20, 96, {})), std::pair(&p, size_t{1}));
    EXPECT_EQ(find(PacketBuilder(11, 97, {})), std::pair(&p, size_t{0}));
    EXPECT_EQ(find(PacketBuilder(99, 96, {})), std::nullopt);
    EXPECT_THROW(add("q", {{"codecs", codecs()}, {"encodings", {{{"ssrc", 21}}}}}), sfu::Error);
}

TEST_F(RtpListenerTest, MidThenRidNameTheStreamAndTheSsrcIsLearnt) {
    Producer& a = add("a", {{"codecs", codecs()},
                            {"headerExtensions", headerExtensions()},
                            {"mid", "0"},
                            {"encodings", {{{"rid", "r0"}}, {{"rid", "r1"}}}}});
    Producer& b = add("b", {{"codecs", codecs()},
                            {"headerExtensions", headerExtensions()},
                            {"mid", "1"},
                            {"encodings", {{{"rid", "r0"}}, {{"rid", "r1"}}}}});
    // The same RID in two producers: the MID tells them apart.
    EXPECT_EQ(find(PacketBuilder(500, 96, {{kMidId, "1"}, {kRidId, "r1"}})),
              std::pair(&b, size_t{1}));
    EXPECT_EQ(find(PacketBuilder(400, 96, {{kMidId, "0"}, {kRidId, "r0"}})),
              std::pair(&a, size_t{0}));
    // RTX names its stream by the repaired RID.
    EXPECT_EQ(find(PacketBuilder(501, 97, {{kMidId, "1"}, {kRridId, "r1"}})),
              std::pair(&b, size_t{1}));
    // Learnt: later packets carry no extension at all.
    EXPECT_EQ(find(PacketBuilder(500, 96, {})), std::pair(&b, size_t{1}));
    EXPECT_EQ(find(PacketBuilder(501, 97, {})), std::pair(&b, size_t{1}));
    // A multi-encoding producer's MID without a RID names no stream.
    EXPECT_EQ(find(PacketBuilder(600, 96, {{kMidId, "0"}})), std::nullopt);
    EXPECT_THROW(add("c", {{"codecs", codecs()},
                           {"headerExtensions", headerExtensions()},
                           {"mid", "0"},
                           {"encodings", {{{"ssrc", 77}}}}}),
                 sfu::Error);
    // Refused producers leave nothing behind.
    EXPECT_EQ(find(PacketBuilder(77, 96, {})), std::nullopt);

    listener_.removeProducer(b);
    EXPECT_EQ(find(PacketBuilder(500, 96, {})), std::nullopt);
    const json dump = listener_.dump();
    EXPECT_EQ(dump["midTable"], (json{{"0", "a"}}));
    EXPECT_EQ(dump["ssrcTable"], (json{{"400", "a"}}));
}

TEST_F(RtpListenerTest, ARidWithoutMidNamesItsStreamAcrossTheTransport) {
    Producer& p = add("p", {{"codecs", codecs()},
                            {"headerExtensions", headerExtensions()},
                            {"encodings", {{{"rid", "lo"}}, {{"rid", "hi"}}}}});
    EXPECT_EQ(find(PacketBuilder(1, 96, {{kRidId, "hi"}})), std::pair(&p, size_t{1}));
    EXPECT_EQ(find(PacketBuilder(2, 97, {{kRridId, "lo"}})), std::pair(&p, size_t{0}));
    // Neither a known SSRC nor an extension: nobody's.
    EXPECT_EQ(find(PacketBuilder(3, 96, {})), std::nullopt);
    EXPECT_EQ(find(PacketBuilder(4, 96, {{kRidId, "mid"}})), std::nullopt);
}

} // namespace
