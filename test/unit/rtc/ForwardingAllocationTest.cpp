// The media path end to end inside one process: RTP into a PlainTransport
// producer, out of a PlainTransport consumer, over real loopback UDP. Once
// warmed up, forwarding a packet allocates nothing: global operator new is
// counted around a window of packets (RTCP and loss-recovery timers
// included). The same holds for audio that RTP observers watch, and for an
// SVC consumer dropping the layers above its preferred ones, and for the
// shared WebRTC port telling its transports' packets apart.
#include "AllocationCounter.hpp"
#include "channel/ChannelSocket.hpp"
#include "protocol/ice/IceTestUtil.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/RouterFixture.hpp"
#include "rtc/SharedPort.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using sfu::channel::json;

class Forwarding : public sfu::test::RouterFixture {};

TEST_F(Forwarding, SteadyStateForwardingDoesNotAllocate) {
    const json codec = {
        {"mimeType", "video/VP8"},
        {"payloadType", 96},
        {"clockRate", 90000},
        {"parameters", json::object()},
        {"rtcpFeedback", {{{"type", "nack"}}, {{"type", "nack"}, {"parameter", "pli"}}}}};
    const json producerTransport =
        request("router.createPlainTransport", {{"transportId", "t1"}},
                {{"listenIp", {{"ip", "127.0.0.1"}}}, {"comedia", true}, {"rtcpMux", true}});
    request("router.createPlainTransport", {{"transportId", "t2"}},
            {{"listenIp", {{"ip", "127.0.0.1"}}}, {"rtcpMux", true}});
    uint16_t receiverPort = 0;
    const int receiver = sfu::test::udpSocket(receiverPort);
    uint16_t senderPort = 0;
    const int sender = sfu::test::udpSocket(senderPort);
    request("transport.connect", {{"transportId", "t2"}},
            {{"ip", "127.0.0.1"}, {"port", receiverPort}});
    request("transport.produce", {{"transportId", "t1"}, {"producerId", "p"}},
            {{"kind", "video"},
             {"rtpParameters",
              {{"codecs", {codec}},
               {"headerExtensions", json::array()},
               {"encodings", {{{"ssrc", 0x11223344}}}},
               {"rtcp", {{"cname", "c"}}}}},
             {"rtpMapping",
              {{"codecs", {{{"payloadType", 96}, {"mappedPayloadType", 101}}}},
               {"encodings", {{{"ssrc", 0x11223344}, {"mappedSsrc", 5555}}}}}}});
    json consumerCodec = codec;
    consumerCodec["payloadType"] = 101;
    request("transport.consume", {{"transportId", "t2"}, {"producerId", "p"}, {"consumerId", "c"}},
            {{"kind", "video"},
             {"type", "simple"},
             {"rtpParameters",
              {{"codecs", {consumerCodec}},
               {"headerExtensions", json::array()},
               {"encodings", {{{"ssrc", 7777}}}},
               {"rtcp", {{"cname", "c"}}}}},
             {"consumableRtpEncodings", {{{"ssrc", 5555}}}}});

    sockaddr_in to = sfu::test::loopback(producerTransport["tuple"]["localPort"].get<uint16_t>());
    uint8_t packet[1100];
    uint8_t in[2048];
    size_t received = 0;
    uint16_t seq = 1000;
    auto sendBatch = [&](int count, int pauseUs) {
        for (int i = 0; i < count; ++i, ++seq) {
            if (pauseUs > 0) {
                ::usleep(static_cast<useconds_t>(pauseUs));
            }
            const size_t size = sfu::test::vp8Packet(
                packet,
                {.seq = seq, .timestamp = seq * 3000u, .keyFrame = seq % 100 == 0 || seq == 1000});
            ::sendto(sender, packet, size, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
            uv_run(loop(), UV_RUN_NOWAIT);
            while (::recv(receiver, in, sizeof(in), 0) > 0) {
                if ((in[1] & 0x7F) == 101) {
                    ++received;
                }
            }
        }
        drainChannel();
    };

    // Warm-up: streams start, and the packet store (which grows while it
    // holds less than a second of packets, up to 2048) reaches its size.
    // Then paced for a while, so that the RTCP schedule has run once.
    sendBatch(2500, 0);
    sendBatch(1500, 750);
    const size_t warmReceived = received;
    EXPECT_GT(warmReceived, 3900u);

    // Paced over ~1.5 s so that the RTCP schedule and the recovery timer
    // run inside the window too.
    const size_t before = sfu::test::allocationCount.load();
    sendBatch(2000, 750);
    const size_t allocations = sfu::test::allocationCount.load() - before;
    EXPECT_GT(received - warmReceived, 1900u);
    EXPECT_EQ(allocations, 0u) << "allocations while forwarding 2000 packets";

    ::close(sender);
    ::close(receiver);
}

// Packets of a producer that both observers watch: reading its audio level
// and adding it to the observers' state allocates nothing either.
TEST_F(Forwarding, ObservedAudioDoesNotAllocate) {
    request("router.createDirectTransport", {{"transportId", "t"}}, {{"direct", true}});
    request("transport.produce", {{"transportId", "t"}, {"producerId", "p"}},
            {{"kind", "audio"},
             {"rtpParameters",
              {{"codecs",
                {{{"mimeType", "audio/opus"},
                  {"payloadType", 100},
                  {"clockRate", 48000},
                  {"channels", 2},
                  {"parameters", json::object()},
                  {"rtcpFeedback", json::array()}}}},
               {"headerExtensions",
                {{{"uri", "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}, {"id", 1}}}},
               {"encodings", {{{"ssrc", 1234}}}},
               {"rtcp", {{"cname", "c"}}}}},
             {"rtpMapping",
              {{"codecs", {{{"payloadType", 100}, {"mappedPayloadType", 100}}}},
               {"encodings", {{{"ssrc", 1234}, {"mappedSsrc", 4321}}}}}}});
    request("router.createAudioLevelObserver", {{"rtpObserverId", "alo"}},
            {{"maxEntries", 1}, {"threshold", -127}, {"interval", 5000}});
    request("router.createActiveSpeakerObserver", {{"rtpObserverId", "aso"}}, {{"interval", 5000}});
    for (const char* observer : {"alo", "aso"}) {
        request("rtpObserver.addProducer", {{"rtpObserverId", observer}}, {{"producerId", "p"}});
    }

    const json internal{{"transportId", "t"}, {"producerId", "p"}};
    const json data = json::object();
    std::vector<uint8_t> buffer(256);
    uint16_t seq = 1;
    auto sendBatch = [&](int count) {
        for (int i = 0; i < count; ++i, ++seq) {
            const uint8_t level = static_cast<uint8_t>(0x80 | (seq % 128));
            const sfu::rtp::ExtensionElement element{1, {&level, 1}};
            const uint8_t payload[40] = {0xfc};
            sfu::rtp::RtpPacketSpec spec;
            spec.payloadType = 100;
            spec.sequenceNumber = seq;
            spec.timestamp = seq * 960u;
            spec.ssrc = 1234;
            spec.extensions = {&element, 1};
            spec.payload = payload;
            const auto packet = sfu::rtp::RtpPacket::build(buffer.data(), buffer.size(), spec);
            ASSERT_TRUE(packet.has_value());
            router_->handlePayloadNotification(
                sfu::channel::PayloadNotification{sfu::channel::PayloadEvent::ProducerSend,
                                                  internal, data, buffer.data(), packet->size()});
        }
    };
    sendBatch(3000);
    const size_t before = sfu::test::allocationCount.load();
    sendBatch(2000);
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 0u)
        << "allocations while observing 2000 packets";
    const json dump = request("router.dump", json::object(), json::object());
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["p"], json::array({"alo", "aso"}));
}

// VP9 pictures of three spatial and three temporal layers, sent through a
// DirectTransport producer to an SVC consumer that keeps two of each: once
// warmed up, neither the layer filter nor the marker rewrite allocates.
TEST_F(Forwarding, SvcLayerFilteringDoesNotAllocate) {
    const json codec = {{"mimeType", "video/VP9"},
                        {"payloadType", 98},
                        {"clockRate", 90000},
                        {"parameters", json::object()},
                        {"rtcpFeedback", {{{"type", "nack"}, {"parameter", "pli"}}}}};
    request("router.createDirectTransport", {{"transportId", "t1"}}, {{"direct", true}});
    request("router.createPlainTransport", {{"transportId", "t2"}},
            {{"listenIp", {{"ip", "127.0.0.1"}}}, {"rtcpMux", true}});
    uint16_t receiverPort = 0;
    const int receiver = sfu::test::udpSocket(receiverPort);
    request("transport.connect", {{"transportId", "t2"}},
            {{"ip", "127.0.0.1"}, {"port", receiverPort}});
    request(
        "transport.produce", {{"transportId", "t1"}, {"producerId", "p"}},
        {{"kind", "video"},
         {"rtpParameters",
          {{"codecs", {codec}},
           {"headerExtensions", json::array()},
           {"encodings", {{{"ssrc", 1111}, {"scalabilityMode", "L3T3"}}}},
           {"rtcp", {{"cname", "c"}}}}},
         {"rtpMapping",
          {{"codecs", {{{"payloadType", 98}, {"mappedPayloadType", 101}}}},
           {"encodings", {{{"ssrc", 1111}, {"mappedSsrc", 5555}, {"scalabilityMode", "L3T3"}}}}}}});
    json consumerCodec = codec;
    consumerCodec["payloadType"] = 101;
    request("transport.consume", {{"transportId", "t2"}, {"producerId", "p"}, {"consumerId", "c"}},
            {{"kind", "video"},
             {"type", "svc"},
             {"rtpParameters",
              {{"codecs", {consumerCodec}},
               {"headerExtensions", json::array()},
               {"encodings", {{{"ssrc", 7777}, {"scalabilityMode", "L3T3"}}}},
               {"rtcp", {{"cname", "c"}}}}},
             {"consumableRtpEncodings", {{{"ssrc", 5555}, {"scalabilityMode", "L3T3"}}}},
             {"preferredLayers", {{"spatialLayer", 1}, {"temporalLayer", 1}}}});

    const json internal{{"transportId", "t1"}, {"producerId", "p"}};
    const json data = json::object();
    std::vector<uint8_t> buffer(1500);
    uint8_t in[2048];
    size_t received = 0;
    size_t markers = 0;
    uint16_t seq = 1;
    uint16_t pictureId = 0;
    constexpr std::array<uint8_t, 4> kTemporalPattern = {0, 2, 1, 2};
    auto sendPictures = [&](int count) {
        for (int picture = 0; picture < count; ++picture, ++pictureId) {
            const bool key = pictureId % 60 == 0;
            const uint8_t tid = kTemporalPattern[pictureId % 4];
            for (uint8_t sid = 0; sid < 3; ++sid, ++seq) {
                // Full SVC: the upper layers depend on the lower ones.
                std::array<uint8_t, 640> payload{};
                sfu::test::vp9LayerPayload(payload,
                                           {.keyPicture = key,
                                            .pictureId = pictureId,
                                            .tid = tid,
                                            .sid = sid,
                                            .tl0PicIdx = static_cast<uint8_t>(pictureId / 4),
                                            .interLayerDependency = sid > 0,
                                            .switchingUp = tid > 0});
                sfu::rtp::RtpPacketSpec spec;
                spec.payloadType = 98;
                spec.sequenceNumber = seq;
                spec.timestamp = pictureId * 3000u;
                spec.ssrc = 1111;
                spec.marker = sid == 2;
                spec.payload = payload;
                const auto packet = sfu::rtp::RtpPacket::build(buffer.data(), buffer.size(), spec);
                ASSERT_TRUE(packet.has_value());
                router_->handlePayloadNotification(sfu::channel::PayloadNotification{
                    sfu::channel::PayloadEvent::ProducerSend, internal, data, buffer.data(),
                    packet->size()});
            }
            uv_run(loop(), UV_RUN_NOWAIT);
            while (::recv(receiver, in, sizeof(in), 0) > 0) {
                ++received;
                markers += (in[1] & 0x80) != 0;
            }
        }
        drainChannel();
    };
    sendPictures(1200);
    const size_t warmReceived = received;
    const size_t warmMarkers = markers;
    const size_t before = sfu::test::allocationCount.load();
    sendPictures(600);
    const size_t allocations = sfu::test::allocationCount.load() - before;
    // Two of three spatial layers of the two of four pictures with TID 0
    // or 1, each picture ending with the marker on its layer 1 packet.
    EXPECT_EQ(received - warmReceived, 600u / 2 * 2);
    EXPECT_EQ(markers - warmMarkers, 600u / 2);
    EXPECT_EQ(allocations, 0u) << "allocations while filtering 600 SVC pictures";
    ::close(receiver);
}

struct CountingUser : sfu::rtc::SharedPortUser {
    void onSharedUdpPacket(sfu::deps::UdpSocket*, const uint8_t*, size_t,
                           const sockaddr*) override {
        ++packets;
    }
    void adoptTcpConnection(std::unique_ptr<sfu::deps::TcpConnection>,
                            const sfu::deps::TcpListenSocket*, const uint8_t*, size_t,
                            const uint8_t*, size_t) override {}
    size_t packets = 0;
};

// Every datagram of a shared port is routed by its ufrag or its source:
// neither lookup allocates, for media, checks or drops.
TEST(SharedPortRouting, RoutingDoesNotAllocate) {
    sfu::rtc::SharedPortDemux demux;
    std::vector<CountingUser> users(50);
    std::vector<sockaddr_storage> peers;
    std::vector<std::vector<uint8_t>> checks;
    for (size_t i = 0; i < users.size(); ++i) {
        // 16 characters, as the worker's: longer than a short string holds.
        const std::string ufrag = "ufrag" + std::string(9, 'x') + std::to_string(10 + i);
        ASSERT_TRUE(demux.addUfrag(ufrag, &users[i]));
        peers.push_back(sfu::ice::test::ipv4("192.0.2.1", static_cast<uint16_t>(5000 + i)));
        demux.addAddress(sfu::ice::test::sa(peers.back()), &users[i]);
        sfu::ice::test::Check check;
        check.username = ufrag + ":peer";
        check.password = "pw";
        checks.push_back(sfu::ice::test::build(check));
    }
    const std::vector<uint8_t> rtp{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB};
    const auto stranger = sfu::ice::test::ipv4("198.51.100.7", 9);
    const size_t before = sfu::test::allocationCount.load();
    size_t routed = 0;
    for (int round = 0; round < 40; ++round) {
        for (size_t i = 0; i < users.size(); ++i) {
            routed +=
                demux.route(rtp.data(), rtp.size(), sfu::ice::test::sa(peers[i])) == &users[i];
            routed += demux.route(checks[i].data(), checks[i].size(),
                                  sfu::ice::test::sa(stranger)) == &users[i];
        }
        demux.route(rtp.data(), rtp.size(), sfu::ice::test::sa(stranger));
    }
    const size_t allocations = sfu::test::allocationCount.load() - before;
    EXPECT_EQ(routed, 40u * users.size() * 2);
    EXPECT_EQ(demux.counters().unknownAddress, 40u);
    EXPECT_EQ(allocations, 0u) << "allocations while routing 4,040 datagrams";
}

} // namespace
