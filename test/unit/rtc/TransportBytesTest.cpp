// Transport byte counters over real loopback sockets: what crosses the wire
// is counted once, whatever it carries, also when it is dropped.
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using sfu::channel::json;

class TransportBytes : public sfu::test::RouterFixture {
protected:
    json stats(const std::string& transportId) {
        return request("transport.getStats", {{"transportId", transportId}}, json::object())[0];
    }

    // Runs the loop until `done()` or about two seconds.
    template <typename F>
    void runUntil(F&& done) {
        for (int i = 0; i < 400 && !done(); ++i) {
            uv_run(loop(), UV_RUN_NOWAIT);
            drainChannel();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
};

int tcpConnect(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
    return fd;
}

void sendFrame(int fd, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> frame{static_cast<uint8_t>(payload.size() >> 8),
                               static_cast<uint8_t>(payload.size())};
    frame.insert(frame.end(), payload.begin(), payload.end());
    ASSERT_EQ(::send(fd, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
}

// An ICE-TCP frame that is no STUN, DTLS, RTP or RTCP ends its connection,
// but it did cross the wire: its payload counts in bytesReceived (not the
// 2-byte length prefix), like a DTLS record from a tuple ICE never
// validated, which is read and dropped.
TEST_F(TransportBytes, IceTcpFramesCountWhatTheyCarryEvenWhenDropped) {
    const json transport = request(
        "router.createWebRtcTransport", {{"transportId", "t"}},
        {{"listenIps", {{{"ip", "127.0.0.1"}}}}, {"enableUdp", false}, {"enableTcp", true}});
    const auto port = transport["iceCandidates"][0]["port"].get<uint16_t>();
    const int client = tcpConnect(port);

    // A DTLS handshake record (22, DTLS 1.2, epoch 0) of 13 + 7 bytes.
    const std::vector<uint8_t> dtls{22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0,
                                    0,  0,    7,    1, 2, 3, 4, 5, 6, 7};
    sendFrame(client, dtls);
    runUntil([&] { return stats("t")["bytesReceived"] == dtls.size(); });
    EXPECT_EQ(stats("t")["bytesReceived"], dtls.size());

    const std::vector<uint8_t> garbage{0xF0, 1, 2, 3, 4, 5, 6, 7, 8};
    sendFrame(client, garbage);
    uint8_t byte = 0;
    bool closed = false;
    runUntil([&] {
        closed = ::recv(client, &byte, 1, MSG_DONTWAIT) == 0;
        return closed;
    });
    EXPECT_TRUE(closed) << "the worker kept a connection that sent garbage";
    EXPECT_EQ(stats("t")["bytesReceived"], dtls.size() + garbage.size());
    EXPECT_EQ(request("transport.dump", {{"transportId", "t"}}, json::object())["packetsDiscarded"],
              2);
    ::close(client);
}

} // namespace
