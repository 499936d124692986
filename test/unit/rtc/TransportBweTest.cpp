// The sender-side bandwidth estimation of a transport, through a Router
// with a PlainTransport over loopback UDP driven by requests as the host
// would: a consumer that negotiated transport-wide-cc gets the transport's
// own sequence numbers in its extension id, the endpoint's transport-wide
// feedback and REMB move availableOutgoingBitrate, the bounds hold it,
// "bwe" and "probation" trace events come when enabled, and
// setMaxIncomingBitrate sends REMB to the producers' endpoint.
#include "rtc/TransportBwe.hpp"

#include "protocol/rtcp/Compound.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/TransportCc.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/RouterFixture.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

namespace {

using sfu::channel::json;

constexpr uint32_t kSsrc = 0x11223344;
constexpr uint32_t kConsumerSsrc = 5555;
constexpr uint8_t kProducerTccId = 3;
constexpr uint8_t kConsumerTccId = 7;
constexpr uint32_t kStartBps = 800'000;
constexpr const char* kTccUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

class TransportBweTest : public sfu::test::RouterFixture {
protected:
    void SetUp() override {
        RouterFixture::SetUp();
        peer_ = sfu::test::udpSocket(peerPort_);
        const json transport = request("router.createPlainTransport", {{"transportId", "t"}},
                                       {{"listenIp", {{"ip", "127.0.0.1"}}},
                                        {"rtcpMux", true},
                                        {"comedia", false},
                                        {"initialAvailableOutgoingBitrate", kStartBps}});
        to_ = sfu::test::loopback(transport["tuple"]["localPort"].get<uint16_t>());
        request("transport.connect", {{"transportId", "t"}},
                {{"ip", "127.0.0.1"}, {"port", peerPort_}});
        const json codec = {{"mimeType", "video/VP8"},
                            {"payloadType", 96},
                            {"clockRate", 90000},
                            {"rtcpFeedback",
                             {{{"type", "nack"}},
                              {{"type", "nack"}, {"parameter", "pli"}},
                              {{"type", "transport-cc"}}}}};
        request("transport.produce", {{"transportId", "t"}, {"producerId", "p"}},
                {{"kind", "video"},
                 {"rtpParameters",
                  {{"codecs", {codec}},
                   {"headerExtensions", {{{"uri", kTccUri}, {"id", kProducerTccId}}}},
                   {"encodings", {{{"ssrc", kSsrc}}}},
                   {"mid", "0"}}},
                 {"rtpMapping",
                  {{"codecs", {{{"payloadType", 96}, {"mappedPayloadType", 101}}}},
                   {"encodings", {{{"ssrc", kSsrc}, {"mappedSsrc", 9999}}}}}}});
        json consumerCodec = codec;
        consumerCodec["payloadType"] = 101;
        request("transport.consume",
                {{"transportId", "t"}, {"producerId", "p"}, {"consumerId", "c"}},
                {{"kind", "video"},
                 {"type", "simple"},
                 {"rtpParameters",
                  {{"codecs", {consumerCodec}},
                   {"headerExtensions", {{{"uri", kTccUri}, {"id", kConsumerTccId}}}},
                   {"encodings", {{{"ssrc", kConsumerSsrc}}}}}},
                 {"consumableRtpEncodings", {{{"ssrc", 9999}}}}});
    }

    void TearDown() override {
        RouterFixture::TearDown();
        ::close(peer_);
    }

    void sendToWorker(const uint8_t* data, size_t size) {
        ::sendto(peer_, data, size, 0, reinterpret_cast<const sockaddr*>(&to_), sizeof(to_));
        pump();
    }

    // Runs the loop and collects what the worker sent to the peer.
    void pump() {
        for (int i = 0; i < 3; ++i) {
            uv_run(env_.loop(), UV_RUN_NOWAIT);
            uint8_t in[2048];
            ssize_t n = 0;
            while ((n = ::recv(peer_, in, sizeof(in), 0)) > 0) {
                received_.emplace_back(in, in + n);
            }
        }
        env_.notifications();
    }

    // Keeps the loop running for about `ms` (its timers fire).
    void runFor(int ms) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            pump();
        }
    }

    // VP8 packets as a browser sends them, with its own transport-wide
    // sequence numbers (from 500) in the producer's extension id.
    void sendMedia(uint16_t from, uint16_t count) {
        uint8_t buffer[1200];
        for (uint16_t seq = from; seq < from + count; ++seq) {
            const size_t size = sfu::test::vp8Packet(
                buffer, {.seq = seq, .timestamp = seq * 3000u, .keyFrame = seq == from});
            auto packet = sfu::rtp::RtpPacket::parse(buffer, size, sizeof(buffer));
            ASSERT_TRUE(packet);
            ASSERT_TRUE(sfu::rtp::setTransportWideSeq(*packet, kProducerTccId,
                                                      static_cast<uint16_t>(500 + seq)));
            sendToWorker(packet->data(), packet->size());
        }
    }

    json transportStats() {
        return request("transport.getStats", {{"transportId", "t"}}, json::object()).at(0);
    }

    int64_t available() {
        const json stats = transportStats();
        EXPECT_TRUE(stats.contains("availableOutgoingBitrate")) << stats;
        return stats.value("availableOutgoingBitrate", int64_t{-1});
    }

    // Every RTP packet received of `ssrc` (0: any), as (ssrc, transport-wide
    // sequence number in the consumer's id, or -1).
    std::vector<std::pair<uint32_t, int>> receivedRtp(uint32_t ssrc = 0) {
        std::vector<std::pair<uint32_t, int>> out;
        for (auto& bytes : received_) {
            if (bytes.size() < 12 || (bytes[1] >= 192 && bytes[1] <= 223)) {
                continue;
            }
            const auto packet = sfu::rtp::RtpPacket::parse(bytes.data(), bytes.size());
            if (!packet || (ssrc != 0 && packet->ssrc() != ssrc)) {
                continue;
            }
            const auto seq = sfu::rtp::readTransportWideSeq(packet->extension(kConsumerTccId));
            out.emplace_back(packet->ssrc(), seq ? static_cast<int>(*seq) : -1);
        }
        return out;
    }

    // A feedback from the endpoint reporting `from`..`to` lost.
    void sendAllLostFeedback(uint16_t from, uint16_t to, uint8_t fbCount) {
        sfu::rtcp::TransportCcBuilder builder(4321, kConsumerSsrc, from, 0, fbCount);
        for (uint16_t seq = from; seq != static_cast<uint16_t>(to + 1); ++seq) {
            ASSERT_EQ(builder.addLost(seq), sfu::rtcp::TransportCcBuilder::AddResult::Ok);
        }
        uint8_t out[1500];
        const size_t size = builder.serialize(out, sizeof(out));
        ASSERT_GT(size, 0u);
        sendToWorker(out, size);
    }

    std::vector<json> traces(const std::string& type) {
        std::vector<json> out;
        for (const json& event : env_.events("t", "trace")) {
            if (event.value("type", "") == type) {
                out.push_back(event);
            }
        }
        return out;
    }

    int peer_ = -1;
    uint16_t peerPort_ = 0;
    sockaddr_in to_{};
    std::vector<std::vector<uint8_t>> received_;
};

TEST_F(TransportBweTest, OutgoingPacketsCarryTheTransportSequenceInTheConsumersId) {
    sendMedia(1, 30);
    const auto media = receivedRtp(kConsumerSsrc);
    ASSERT_EQ(media.size(), 30u);
    // Not the browser's numbers (500 on): the transport's own, increasing.
    int last = 0;
    for (const auto& [ssrc, seq] : media) {
        EXPECT_GT(seq, last);
        EXPECT_LT(seq, 500);
        last = seq;
    }
    EXPECT_EQ(media.front().second, 1);
    // Probes share the counter: across everything sent, one number each.
    const auto all = receivedRtp();
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].second, static_cast<int>(i + 1)) << i;
    }
}

TEST_F(TransportBweTest, StartsAtTheInitialBitrateAndTransportCcFeedbackMovesIt) {
    EXPECT_EQ(available(), kStartBps);
    sendMedia(1, 30);
    runFor(50);
    auto sent = receivedRtp();
    ASSERT_GE(sent.size(), 30u);
    const auto first = static_cast<uint16_t>(sent.back().second);
    sendAllLostFeedback(1, first, 0);
    // The loss window spans a second.
    runFor(1050);
    sendMedia(31, 30);
    sent = receivedRtp();
    const auto last = static_cast<uint16_t>(sent.back().second);
    sendAllLostFeedback(static_cast<uint16_t>(first + 1), last, 1);
    const int64_t after = available();
    EXPECT_LT(after, kStartBps);
    EXPECT_GE(after, 30'000);
}

TEST_F(TransportBweTest, RembCapsTheEstimate) {
    sendMedia(1, 5);
    uint8_t out[64];
    const uint32_t ssrcs[] = {kConsumerSsrc};
    const size_t size = sfu::rtcp::writeRemb(4321, 150'000, ssrcs, out, sizeof(out));
    ASSERT_GT(size, 0u);
    sendToWorker(out, size);
    EXPECT_EQ(available(), 150'000);
}

TEST_F(TransportBweTest, MaxAndMinOutgoingBitrateBoundTheEstimate) {
    request("transport.setMaxOutgoingBitrate", {{"transportId", "t"}}, {{"bitrate", 300'000}});
    EXPECT_EQ(available(), 300'000);
    request("transport.setMaxOutgoingBitrate", {{"transportId", "t"}}, {{"bitrate", 0}});
    request("transport.setMinOutgoingBitrate", {{"transportId", "t"}}, {{"bitrate", 700'000}});
    uint8_t out[64];
    const uint32_t ssrcs[] = {kConsumerSsrc};
    const size_t size = sfu::rtcp::writeRemb(4321, 100'000, ssrcs, out, sizeof(out));
    sendToWorker(out, size);
    EXPECT_EQ(available(), 700'000);
}

TEST_F(TransportBweTest, BweAndProbationTraceEventsWhenEnabled) {
    sendMedia(1, 10);
    runFor(100);
    EXPECT_TRUE(traces("bwe").empty());
    EXPECT_TRUE(traces("probation").empty());
    request("transport.enableTraceEvent", {{"transportId", "t"}},
            {{"types", {"bwe", "probation"}}});
    // The probe controller asks for its first clusters with the first
    // packet after the estimator exists; later ones follow the estimate.
    request("transport.setMaxOutgoingBitrate", {{"transportId", "t"}}, {{"bitrate", 5'000'000}});
    sendMedia(11, 10);
    runFor(200);
    const auto bwe = traces("bwe");
    ASSERT_FALSE(bwe.empty());
    const json& event = bwe.back();
    EXPECT_EQ(event["direction"], "out");
    EXPECT_TRUE(event.contains("timestamp"));
    const json& info = event["info"];
    EXPECT_EQ(info["type"], "transport-cc");
    EXPECT_EQ(info["startBitrate"], kStartBps);
    EXPECT_EQ(info["maxBitrate"], 5'000'000);
    EXPECT_EQ(info["availableBitrate"], available());
    for (const char* key : {"desiredBitrate", "effectiveDesiredBitrate", "minBitrate",
                            "maxPaddingBitrate", "availableBitrate"}) {
        EXPECT_TRUE(info.contains(key)) << key;
    }
    // Beyond mediasoup's fields, what the estimate is made of: no feedback
    // yet, so the delay-based part is the start, with no loss, no REMB and
    // nothing acknowledged.
    EXPECT_EQ(info["delayBasedBitrate"], kStartBps);
    EXPECT_TRUE(info["lossBasedBound"].is_null());
    EXPECT_TRUE(info["rembBitrate"].is_null());
    EXPECT_EQ(info["ackedBitrate"], 0);
    EXPECT_EQ(info["lossFraction"], 0.0);
    EXPECT_EQ(info["usage"], "normal");
    EXPECT_TRUE(info["inAlr"].is_boolean());
    // At most one every 500 ms.
    EXPECT_LE(bwe.size(), 1u);
}

TEST_F(TransportBweTest, ProbesGoOutOnTheProbationStream) {
    request("transport.enableTraceEvent", {{"transportId", "t"}}, {{"types", {"probation"}}});
    sendMedia(1, 10);
    runFor(150);
    const auto probes = receivedRtp(1234);
    ASSERT_FALSE(probes.empty());
    // The first two clusters (3x and 6x the start bitrate: 4,500 and 9,000
    // bytes, the first raised to the 7,200 bytes a cluster carries at
    // least) and no more, each in few large packets (6 of 1,200 bytes, 8 of
    // 1,125), not in many small padding-only ones that a token bucket would
    // let through faster than its rate.
    EXPECT_LE(probes.size(), 14u);
    size_t probeBytes = 0;
    for (auto& bytes : received_) {
        const auto packet = sfu::rtp::RtpPacket::parse(bytes.data(), bytes.size());
        if (packet && packet->ssrc() == 1234) {
            EXPECT_GE(bytes.size(), 600u);
            EXPECT_LE(bytes.size(), sfu::rtc::TransportBwe::kMaxProbePacketSize);
            probeBytes += bytes.size();
        }
    }
    EXPECT_GE(probeBytes, 7'200u + 9'000u);
    for (const auto& [ssrc, seq] : probes) {
        EXPECT_GT(seq, 0);
    }
    const auto events = traces("probation");
    ASSERT_EQ(events.size(), probes.size());
    EXPECT_EQ(events[0]["info"]["ssrc"], 1234);
    EXPECT_EQ(events[0]["info"]["payloadType"], 127);
    const json stats = transportStats();
    EXPECT_GT(stats["probationBytesSent"].get<uint64_t>(), 0u);
}

// Media that goes out while a cluster is being sent shares the link with
// it, and is counted in it: one probe packet and six media packets sent
// meanwhile make a cluster large enough to give a result, where the probe
// packet alone would not.
TEST(TransportBweCluster, MediaSentDuringAClusterCountsInIt) {
    sfu::rtc::TransportBwe bwe(sfu::rtc::TransportBwe::Type::TransportCc, {.startBps = kStartBps},
                               0);
    uint8_t buffer[1500];
    auto media = [&](uint16_t seq, int64_t nowMs) {
        const size_t size = sfu::test::vp8Packet(buffer, {.seq = seq, .timestamp = seq * 3000u});
        auto packet = sfu::rtp::RtpPacket::parse(buffer, size, sizeof(buffer));
        ASSERT_TRUE(packet);
        bwe.stamp(*packet, kConsumerTccId, 0, sfu::bwe::PacketKind::Media, nowMs);
    };
    media(1, 0); // starts the estimator, which asks for its first probes
    ASSERT_TRUE(bwe.startProbeCluster(true, 1));
    ASSERT_TRUE(bwe.nextProbePacket(kConsumerTccId, 0, 1).has_value());
    for (uint16_t i = 0; i < 6; ++i) {
        media(static_cast<uint16_t>(2 + i), 2 + i);
    }
    ASSERT_TRUE(bwe.probing());
    ASSERT_EQ(bwe.lastTransportWideSeq(), 8);

    // All arrived, 5 ms apart: slower than sent (the link saturated).
    sfu::rtcp::TransportCcBuilder builder(4321, kConsumerSsrc, 1, 0, 0);
    for (uint16_t seq = 1; seq <= 8; ++seq) {
        ASSERT_EQ(builder.addReceived(seq, 20'000 + seq * 5'000),
                  sfu::rtcp::TransportCcBuilder::AddResult::Ok);
    }
    uint8_t out[256];
    const size_t size = builder.serialize(out, sizeof(out));
    const auto packet = sfu::rtcp::PacketView::parse(out, size);
    ASSERT_TRUE(packet);
    const auto feedback = sfu::rtcp::TransportCcView::parse(*packet);
    ASSERT_TRUE(feedback);
    bwe.onTransportCcFeedback(*feedback, 80);
    EXPECT_EQ(bwe.estimator().stats().probeResults, 1u);
}

TEST_F(TransportBweTest, MaxIncomingBitrateSendsRembToTheProducersEndpoint) {
    sendMedia(1, 5);
    request("transport.setMaxIncomingBitrate", {{"transportId", "t"}}, {{"bitrate", 250'000}});
    runFor(100);
    std::vector<uint64_t> rembs;
    for (const auto& bytes : received_) {
        const sfu::rtcp::CompoundView compound(bytes.data(), bytes.size());
        if (!compound.valid()) {
            continue;
        }
        for (const auto pkt : compound) {
            if (const auto remb = sfu::rtcp::RembView::parse(pkt)) {
                rembs.push_back(remb->bitrate());
                bool named = false;
                for (const uint32_t ssrc : remb->ssrcs()) {
                    named = named || ssrc == kSsrc;
                }
                EXPECT_TRUE(named);
            }
        }
    }
    ASSERT_EQ(rembs.size(), 1u);
    EXPECT_EQ(rembs[0], 250'000u);
}

} // namespace
