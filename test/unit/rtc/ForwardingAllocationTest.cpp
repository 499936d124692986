// The media path end to end inside one process: RTP into a PlainTransport
// producer, out of a PlainTransport consumer, over real loopback UDP. Once
// warmed up, forwarding a packet allocates nothing: global operator new is
// counted around a window of packets (RTCP and loss-recovery timers
// included). The same holds for audio that RTP observers watch.
#include "AllocationCounter.hpp"
#include "channel/ChannelSocket.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
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

} // namespace
