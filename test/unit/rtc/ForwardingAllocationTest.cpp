// The media path end to end inside one process: RTP into a PlainTransport
// producer, out of a PlainTransport consumer, over real loopback UDP. Once
// warmed up, forwarding a packet allocates nothing: global operator new is
// counted around a window of packets (RTCP and loss-recovery timers
// included).
#include "AllocationCounter.hpp"
#include "rtc/MediaFixtures.hpp"
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

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

} // namespace
