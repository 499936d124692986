// A Router with PlainTransports over loopback UDP, driven by requests as the
// host would: the RTP listener's demultiplexing, RTCP routed to the stream
// each item names, the round trip reaching the producer streams (from the
// sender's DLRR, else from the consumers' receiver reports on the same
// transport), the RRTR in the worker's reports, and the byte counters.
#include "protocol/rtcp/Addressed.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Xr.hpp"
#include "protocol/rtp/Time.hpp"
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

class TransportTest : public sfu::test::RouterFixture {
protected:
    void SetUp() override {
        RouterFixture::SetUp();
        peer_ = sfu::test::udpSocket(peerPort_);
        const json transport =
            request("router.createPlainTransport", {{"transportId", "t"}},
                    {{"listenIp", {{"ip", "127.0.0.1"}}}, {"rtcpMux", true}, {"comedia", false}});
        to_ = sfu::test::loopback(transport["tuple"]["localPort"].get<uint16_t>());
        request("transport.connect", {{"transportId", "t"}},
                {{"ip", "127.0.0.1"}, {"port", peerPort_}});
        const json codec = {
            {"mimeType", "video/VP8"},
            {"payloadType", 96},
            {"clockRate", 90000},
            {"rtcpFeedback", {{{"type", "nack"}}, {{"type", "nack"}, {"parameter", "pli"}}}}};
        request("transport.produce", {{"transportId", "t"}, {"producerId", "p"}},
                {{"kind", "video"},
                 {"rtpParameters",
                  {{"codecs", {codec}}, {"encodings", {{{"ssrc", kSsrc}}}}, {"mid", "0"}}},
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
                  {{"codecs", {consumerCodec}}, {"encodings", {{{"ssrc", kConsumerSsrc}}}}}},
                 {"consumableRtpEncodings", {{{"ssrc", 9999}}}}});
    }

    void TearDown() override {
        RouterFixture::TearDown();
        ::close(peer_);
    }

    void sendToWorker(const uint8_t* data, size_t size) {
        sentBytes_ += size;
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

    void sendMedia(uint16_t from, uint16_t count) {
        uint8_t packet[1100];
        for (uint16_t seq = from; seq < from + count; ++seq) {
            const size_t size = sfu::test::vp8Packet(
                packet, {.seq = seq, .timestamp = seq * 3000u, .keyFrame = seq == from});
            sendToWorker(packet, size);
        }
    }

    json producerStats() {
        return request("producer.getStats", {{"transportId", "t"}, {"producerId", "p"}},
                       json::object())
            .at(0);
    }

    // The compact NTP time `ms` ago.
    static uint32_t compactNtpAgo(uint32_t ms) {
        return sfu::rtp::ntpNow().compact() - ms * 65536 / 1000;
    }

    int peer_ = -1;
    uint16_t peerPort_ = 0;
    sockaddr_in to_{};
    size_t sentBytes_ = 0;
    std::vector<std::vector<uint8_t>> received_;
};

TEST_F(TransportTest, ConsumerReceiverReportsGiveTheProducersTheirRoundTrip) {
    sendMedia(1, 20);
    EXPECT_FALSE(producerStats().contains("roundTripTime"));
    // The same endpoint reports on what the consumer sends it: LSR and DLSR
    // that make a 150 ms round trip.
    uint8_t rr[64];
    const sfu::rtcp::ReportBlock block{kConsumerSsrc, 0, 0, 20, 0, compactNtpAgo(150), 0};
    const size_t size = sfu::rtcp::writeReceiverReport(4321, std::span(&block, 1), rr, sizeof(rr));
    ASSERT_GT(size, 0u);
    sendToWorker(rr, size);
    const json stats = producerStats();
    ASSERT_TRUE(stats.contains("roundTripTime")) << stats;
    EXPECT_GE(stats["roundTripTime"].get<uint32_t>(), 149u);
    EXPECT_LE(stats["roundTripTime"].get<uint32_t>(), 170u);
}

TEST_F(TransportTest, SenderDlrrAnswerToOurRrtrSetsTheRoundTrip) {
    sendMedia(1, 20);
    // Wait for the worker's receiver report: it carries an RRTR.
    std::optional<uint32_t> rrSsrc;
    for (int i = 0; i < 300 && !rrSsrc; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        pump();
        for (const auto& bytes : received_) {
            const sfu::rtcp::CompoundView compound(bytes.data(), bytes.size());
            if (!compound.valid()) {
                continue;
            }
            std::optional<uint32_t> rr;
            bool rrtr = false;
            for (const auto pkt : compound) {
                if (const auto view = sfu::rtcp::ReceiverReportView::parse(pkt)) {
                    rr = view->ssrc();
                }
                if (const auto xr = sfu::rtcp::XrView::parse(pkt)) {
                    for (const auto block : *xr) {
                        rrtr = rrtr || (block.rrt().has_value() && rr && xr->ssrc() == *rr);
                    }
                }
            }
            if (rr && rrtr) {
                rrSsrc = rr;
            }
        }
    }
    ASSERT_TRUE(rrSsrc) << "no receiver report with an RRTR in 3 s";
    // The sender's answer, for a 40 ms round trip.
    uint8_t xr[64];
    const sfu::rtcp::DlrrItem item{*rrSsrc, compactNtpAgo(40), 0};
    const size_t size = sfu::rtcp::writeXrDlrr(kSsrc, std::span(&item, 1), xr, sizeof(xr));
    ASSERT_GT(size, 0u);
    sendToWorker(xr, size);
    const json stats = producerStats();
    ASSERT_TRUE(stats.contains("roundTripTime")) << stats;
    EXPECT_GE(stats["roundTripTime"].get<uint32_t>(), 39u);
    EXPECT_LE(stats["roundTripTime"].get<uint32_t>(), 60u);
}

TEST_F(TransportTest, ByteCountersCountEveryDatagramOnce) {
    sendMedia(1, 30);
    const uint8_t garbage[7] = {1, 2, 3, 4, 5, 6, 7};
    sendToWorker(garbage, sizeof(garbage));
    const json stats = request("transport.getStats", {{"transportId", "t"}}, json::object()).at(0);
    EXPECT_EQ(stats["bytesReceived"].get<size_t>(), sentBytes_);
    size_t received = 0;
    for (const auto& bytes : received_) {
        received += bytes.size();
    }
    // The consumer forwards to the same peer: everything sent arrived.
    EXPECT_EQ(stats["bytesSent"].get<size_t>(), received);
    EXPECT_GT(received, 30u * 1000);
}

} // namespace
