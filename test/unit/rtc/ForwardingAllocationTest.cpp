// The media path end to end inside one process: RTP into a PlainTransport
// producer, out of a PlainTransport consumer, over real loopback UDP. Once
// warmed up, forwarding a packet allocates nothing: global operator new is
// counted around a window of packets (RTCP and loss-recovery timers
// included).
#include "AllocationCounter.hpp"
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using sfu::channel::json;

int udpSocket(uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

// A VP8 packet: descriptor with a picture id, and for key frames a valid
// key frame header (320x240).
size_t vp8Packet(uint8_t* out, uint16_t seq, uint32_t timestamp, bool keyFrame) {
    const uint8_t header[12] = {0x80,
                                96,
                                static_cast<uint8_t>(seq >> 8),
                                static_cast<uint8_t>(seq),
                                static_cast<uint8_t>(timestamp >> 24),
                                static_cast<uint8_t>(timestamp >> 16),
                                static_cast<uint8_t>(timestamp >> 8),
                                static_cast<uint8_t>(timestamp),
                                0x11,
                                0x22,
                                0x33,
                                0x44};
    std::memcpy(out, header, 12);
    const uint8_t descriptor[3] = {0x90, 0x80, static_cast<uint8_t>(seq & 0x7F)};
    std::memcpy(out + 12, descriptor, 3);
    const uint8_t key[10] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
    const uint8_t delta[10] = {0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(out + 15, keyFrame ? key : delta, 10);
    std::memset(out + 25, 0xAB, 1000);
    return 1025;
}

using Forwarding = sfu::test::RouterFixture;

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
    const int receiver = udpSocket(receiverPort);
    uint16_t senderPort = 0;
    const int sender = udpSocket(senderPort);
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

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(producerTransport["tuple"]["localPort"].get<uint16_t>());
    uint8_t packet[1100];
    uint8_t in[2048];
    size_t received = 0;
    uint16_t seq = 1000;
    auto sendBatch = [&](int count, int pauseUs) {
        for (int i = 0; i < count; ++i, ++seq) {
            if (pauseUs > 0) {
                ::usleep(static_cast<useconds_t>(pauseUs));
            }
            const size_t size = vp8Packet(packet, seq, seq * 3000u, seq % 100 == 0 || seq == 1000);
            ::sendto(sender, packet, size, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
            uv_run(&loop_, UV_RUN_NOWAIT);
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
