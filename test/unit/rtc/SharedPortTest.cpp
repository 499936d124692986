// The worker's shared WebRTC ports: the demux maps alone, then transports
// of a router in process sharing one UDP and one TCP port over loopback.
#include "rtc/SharedPort.hpp"

#include "protocol/ice/IceTestUtil.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using sfu::channel::json;
using sfu::ice::test::build;
using sfu::ice::test::Check;
using sfu::ice::test::ipv4;
using sfu::ice::test::sa;
using sfu::rtc::SharedPortDemux;
using sfu::rtc::SharedPortUser;

struct FakeUser : SharedPortUser {
    void onSharedUdpPacket(sfu::deps::UdpSocket*, const uint8_t*, size_t,
                           const sockaddr*) override {}
    void adoptTcpConnection(std::unique_ptr<sfu::deps::TcpConnection>,
                            const sfu::deps::TcpListenSocket*, const uint8_t*, size_t,
                            const uint8_t*, size_t) override {}
};

std::vector<uint8_t> checkFor(const std::string& ufrag, const std::string& password = "pw") {
    Check check;
    check.username = ufrag + ":peer";
    check.password = password;
    return build(check);
}

// An RTP-looking datagram (version 2, payload type 96).
const std::vector<uint8_t> kRtp{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB};

TEST(SharedPortDemux, LocalUfragIsThePartBeforeTheColon) {
    EXPECT_EQ(sfu::rtc::localUfragOf("ours:theirs"), "ours");
    EXPECT_EQ(sfu::rtc::localUfragOf("a:b:c"), "a");
    EXPECT_EQ(sfu::rtc::localUfragOf("nocolon"), "");
    EXPECT_EQ(sfu::rtc::localUfragOf(":theirs"), "");
    EXPECT_EQ(sfu::rtc::localUfragOf("ours:"), "");
    EXPECT_EQ(sfu::rtc::localUfragOf(""), "");
}

TEST(SharedPortDemux, StunRequestsGoByUfragAndTheRestByAddress) {
    SharedPortDemux demux;
    FakeUser a, b;
    ASSERT_TRUE(demux.addUfrag("ufraga", &a));
    ASSERT_TRUE(demux.addUfrag("ufragb", &b));
    const auto peerA = ipv4("192.0.2.1", 5000);
    const auto peerB = ipv4("192.0.2.2", 5000);

    // A check names its transport whatever address it comes from.
    const auto checkB = checkFor("ufragb");
    EXPECT_EQ(demux.route(checkB.data(), checkB.size(), sa(peerA)), &b);
    const auto checkA = checkFor("ufraga");
    EXPECT_EQ(demux.route(checkA.data(), checkA.size(), sa(peerB)), &a);

    // Media only from addresses registered by the transports.
    EXPECT_EQ(demux.route(kRtp.data(), kRtp.size(), sa(peerA)), nullptr);
    demux.addAddress(sa(peerA), &a);
    demux.addAddress(sa(peerB), &b);
    EXPECT_EQ(demux.route(kRtp.data(), kRtp.size(), sa(peerA)), &a);
    EXPECT_EQ(demux.route(kRtp.data(), kRtp.size(), sa(peerB)), &b);
    // Same IP, other port: another peer.
    const auto other = ipv4("192.0.2.1", 5001);
    EXPECT_EQ(demux.route(kRtp.data(), kRtp.size(), sa(other)), nullptr);
    EXPECT_EQ(demux.counters().unknownAddress, 2u);
    EXPECT_EQ(demux.counters().unknownUfrag, 0u);
}

TEST(SharedPortDemux, UnknownUfragIsACountedDropEvenFromAKnownAddress) {
    SharedPortDemux demux;
    FakeUser a;
    demux.addUfrag("ufraga", &a);
    const auto peer = ipv4("192.0.2.1", 5000);
    demux.addAddress(sa(peer), &a);
    const auto stranger = checkFor("nobody");
    EXPECT_EQ(demux.route(stranger.data(), stranger.size(), sa(peer)), nullptr);
    EXPECT_EQ(demux.counters().unknownUfrag, 1u);
    // A USERNAME without the "ours:theirs" shape names nobody either.
    Check check;
    check.username = "ufraga";
    check.password = "pw";
    const auto bare = build(check);
    EXPECT_EQ(demux.route(bare.data(), bare.size(), sa(peer)), nullptr);
    EXPECT_EQ(demux.counters().unknownUfrag, 2u);
    EXPECT_EQ(demux.routeFirstTcpFrame(stranger.data(), stranger.size()), nullptr);
    EXPECT_EQ(demux.routeFirstTcpFrame(kRtp.data(), kRtp.size()), nullptr);
    EXPECT_EQ(demux.counters().unknownUfrag, 4u);
    const auto known = checkFor("ufraga");
    EXPECT_EQ(demux.routeFirstTcpFrame(known.data(), known.size()), &a);
}

TEST(SharedPortDemux, UfragBelongsToOneUserAndGoesOnlyWithIt) {
    SharedPortDemux demux;
    FakeUser a, b;
    EXPECT_TRUE(demux.addUfrag("same", &a));
    EXPECT_TRUE(demux.addUfrag("same", &a));
    EXPECT_FALSE(demux.addUfrag("same", &b));
    EXPECT_EQ(demux.userOfUfrag("same"), &a);
    demux.removeUfrag("same", &b);
    EXPECT_EQ(demux.userOfUfrag("same"), &a);
    // An ICE restart: the old ufrag goes, the new one comes.
    demux.removeUfrag("same", &a);
    EXPECT_TRUE(demux.addUfrag("fresh", &a));
    EXPECT_EQ(demux.userOfUfrag("same"), nullptr);
    EXPECT_EQ(demux.userOfUfrag("fresh"), &a);
    EXPECT_EQ(demux.ufragCount(), 1u);
}

TEST(SharedPortDemux, AddressesMoveToTheLatestCheckAndGoWithTheirOwner) {
    SharedPortDemux demux;
    FakeUser a, b;
    const auto peer = ipv4("192.0.2.1", 5000);
    demux.addAddress(sa(peer), &a);
    demux.addAddress(sa(peer), &b);
    EXPECT_EQ(demux.userOfAddress(sa(peer)), &b);
    // The former owner forgetting its tuple leaves the new owner's.
    demux.removeAddress(sa(peer), &a);
    EXPECT_EQ(demux.userOfAddress(sa(peer)), &b);
    demux.removeAddress(sa(peer), &b);
    EXPECT_EQ(demux.userOfAddress(sa(peer)), nullptr);
    EXPECT_EQ(demux.addressCount(), 0u);
}

TEST(SharedPortDemux, RemovingAUserRemovesAllItsRegistrations) {
    SharedPortDemux demux;
    FakeUser a, b;
    demux.addUfrag("ufraga", &a);
    demux.addUfrag("ufragb", &b);
    const auto v4 = ipv4("192.0.2.1", 5000);
    const auto v6 = sfu::ice::test::ipv6("2001:db8::1", 5000);
    const auto peerB = ipv4("192.0.2.9", 7);
    demux.addAddress(sa(v4), &a);
    demux.addAddress(sa(v6), &a);
    demux.addAddress(sa(peerB), &b);
    demux.removeUser(&a);
    EXPECT_EQ(demux.ufragCount(), 1u);
    EXPECT_EQ(demux.addressCount(), 1u);
    EXPECT_EQ(demux.userOfUfrag("ufraga"), nullptr);
    EXPECT_EQ(demux.userOfAddress(sa(v6)), nullptr);
    EXPECT_EQ(demux.userOfAddress(sa(peerB)), &b);
}

// ---- transports on shared ports ---------------------------------------------

sockaddr_in loopback(uint16_t port) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    return to;
}

// A loopback port of `type` (SOCK_DGRAM, SOCK_STREAM) that nothing holds
// now: the kernel's pick for port 0.
uint16_t freePort(int type) {
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in at = loopback(0);
    socklen_t length = sizeof(at);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof(at)), 0);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &length), 0);
    ::close(fd);
    return ntohs(at.sin_port);
}

// Waits for something that should happen (generous on a loaded machine),
// and for something that should not (an answer on loopback comes at once).
constexpr int kWaitMs = 10000;
constexpr int kQuietMs = 1000;

class SharedPorts : public sfu::test::RouterFixture {
protected:
    void SetUp() override {
        env_.shareWebRtcPorts(udpPort_, tcpPort_);
        RouterFixture::SetUp();
    }
    void TearDown() override {
        for (const int fd : fds_) {
            ::close(fd);
        }
        RouterFixture::TearDown();
    }

    json create(const std::string& id) {
        return request(
            "router.createWebRtcTransport", {{"transportId", id}},
            {{"listenIps", {{{"ip", "127.0.0.1"}}}}, {"enableUdp", true}, {"enableTcp", true}});
    }
    json dump(const std::string& id) {
        return request("transport.dump", {{"transportId", id}}, json::object());
    }
    uint64_t bytesReceived(const std::string& id) {
        return request("transport.getStats", {{"transportId", id}},
                       json::object())[0]["bytesReceived"]
            .get<uint64_t>();
    }
    std::shared_ptr<sfu::rtc::SharedUdpPort> udp() { return env_.sharedPorts()->udp("127.0.0.1"); }

    int udpSocket() {
        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in local = loopback(0);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
        fds_.push_back(fd);
        return fd;
    }
    void sendUdp(int fd, const std::vector<uint8_t>& data) {
        const sockaddr_in to = loopback(udpPort_);
        ASSERT_EQ(::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                           sizeof(to)),
                  static_cast<ssize_t>(data.size()));
    }
    // Runs the loop until `done()` or about `ms`.
    template <typename F>
    bool runUntil(F&& done, int ms = kWaitMs) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < deadline) {
            uv_run(loop(), UV_RUN_NOWAIT);
            drainChannel();
            if (done()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }
    // The first datagram `fd` received while the loop ran (about `ms`).
    std::optional<std::vector<uint8_t>> receiveUdp(int fd, int ms) {
        std::vector<uint8_t> buffer(2048);
        ssize_t n = -1;
        runUntil(
            [&] {
                n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
                return n > 0;
            },
            ms);
        if (n <= 0) {
            return std::nullopt;
        }
        buffer.resize(static_cast<size_t>(n));
        return buffer;
    }
    // Sends a check with `ice`'s credentials; true when it was answered
    // with a success response within `ms`.
    bool check(int fd, const json& ice, bool useCandidate = true, int ms = kWaitMs) {
        Check c;
        c.username = ice["usernameFragment"].get<std::string>() + ":peer";
        c.password = ice["password"].get<std::string>();
        c.useCandidate = useCandidate;
        sendUdp(fd, build(c));
        const auto response = receiveUdp(fd, ms);
        return response && response->size() >= 2 && (*response)[0] == 0x01 &&
               (*response)[1] == 0x01;
    }
    // Runs the loop a little so that anything the worker would answer does.
    bool silent(int fd) {
        uint8_t byte[2048];
        return !runUntil([&] { return ::recv(fd, byte, sizeof(byte), MSG_DONTWAIT) > 0; },
                         kQuietMs);
    }

    uint16_t udpPort_ = freePort(SOCK_DGRAM);
    uint16_t tcpPort_ = freePort(SOCK_STREAM);
    std::vector<int> fds_;
};

TEST_F(SharedPorts, EveryTransportAnnouncesTheSharedPorts) {
    const json a = create("a");
    const json b = create("b");
    for (const json* t : {&a, &b}) {
        ASSERT_EQ((*t)["iceCandidates"].size(), 2u);
        EXPECT_EQ((*t)["iceCandidates"][0]["protocol"], "udp");
        EXPECT_EQ((*t)["iceCandidates"][0]["port"], udpPort_);
        EXPECT_EQ((*t)["iceCandidates"][1]["protocol"], "tcp");
        EXPECT_EQ((*t)["iceCandidates"][1]["port"], tcpPort_);
    }
    EXPECT_NE(a["iceParameters"]["usernameFragment"], b["iceParameters"]["usernameFragment"]);
    // One socket each, not one per transport.
    EXPECT_EQ(env_.shared().portManager.portsInUse("127.0.0.1", sfu::Protocol::Udp), 1u);
    EXPECT_EQ(env_.shared().portManager.portsInUse("127.0.0.1", sfu::Protocol::Tcp), 1u);
    EXPECT_EQ(udp()->demux().ufragCount(), 2u);
}

TEST_F(SharedPorts, ChecksReachTheirTransportAndSelectTheSharedPort) {
    const json a = create("a");
    const json b = create("b");
    const int peerA = udpSocket();
    const int peerB = udpSocket();
    ASSERT_TRUE(check(peerA, a["iceParameters"]));
    ASSERT_TRUE(check(peerB, b["iceParameters"]));
    const json dumpA = dump("a");
    EXPECT_EQ(dumpA["iceState"], "completed");
    EXPECT_EQ(dumpA["iceSelectedTuple"]["localPort"], udpPort_);
    EXPECT_EQ(dumpA["iceChecks"]["valid"], 1);
    EXPECT_EQ(dump("b")["iceChecks"]["valid"], 1);
    EXPECT_EQ(udp()->demux().addressCount(), 2u);
}

TEST_F(SharedPorts, UnknownUfragAndUnknownSourceAreDroppedUnanswered) {
    const json a = create("a");
    const int stranger = udpSocket();
    json wrong = a["iceParameters"];
    wrong["usernameFragment"] = "nobodyhasthisone";
    EXPECT_FALSE(check(stranger, wrong, true, kQuietMs));
    EXPECT_EQ(udp()->demux().counters().unknownUfrag, 1u);
    sendUdp(stranger, kRtp);
    EXPECT_TRUE(runUntil([&] { return udp()->demux().counters().unknownAddress == 1; }));
    EXPECT_TRUE(silent(stranger));
    // Nothing of it reached the transport.
    EXPECT_EQ(bytesReceived("a"), 0u);
}

TEST_F(SharedPorts, IceRestartMovesTheUfrag) {
    const json a = create("a");
    const int peer = udpSocket();
    const json fresh =
        request("transport.restartIce", {{"transportId", "a"}}, json::object())["iceParameters"];
    EXPECT_FALSE(check(peer, a["iceParameters"], true, kQuietMs));
    EXPECT_EQ(udp()->demux().counters().unknownUfrag, 1u);
    EXPECT_EQ(udp()->demux().userOfUfrag(a["iceParameters"]["usernameFragment"].get<std::string>()),
              nullptr);
    EXPECT_TRUE(check(peer, fresh));
    EXPECT_EQ(udp()->demux().ufragCount(), 1u);
}

TEST_F(SharedPorts, ClosingATransportUnregistersItAndTheLastOneClosesThePort) {
    const json a = create("a");
    const json b = create("b");
    const int peerA = udpSocket();
    const int peerB = udpSocket();
    ASSERT_TRUE(check(peerA, a["iceParameters"]));
    ASSERT_TRUE(check(peerB, b["iceParameters"]));
    request("transport.close", {{"transportId", "a"}}, json::object());
    EXPECT_EQ(udp()->demux().ufragCount(), 1u);
    EXPECT_EQ(udp()->demux().addressCount(), 1u);
    // A's peer is now an unknown source; B's still checks.
    EXPECT_FALSE(check(peerA, a["iceParameters"], true, kQuietMs));
    EXPECT_TRUE(check(peerB, b["iceParameters"]));
    request("transport.close", {{"transportId", "b"}}, json::object());
    EXPECT_FALSE(env_.shared().portManager.inUse("127.0.0.1", sfu::Protocol::Udp, udpPort_));
    EXPECT_FALSE(env_.shared().portManager.inUse("127.0.0.1", sfu::Protocol::Tcp, tcpPort_));
    // A transport created after opens it again.
    const json c = create("c");
    EXPECT_EQ(c["iceCandidates"][0]["port"], udpPort_);
    EXPECT_TRUE(check(peerA, c["iceParameters"]));
}

TEST_F(SharedPorts, AddressesAreBoundedByTheTuplesIceKeeps) {
    const json a = create("a");
    constexpr size_t kPeers = sfu::ice::IceServer::kMaxTuples + 3;
    for (size_t i = 0; i < kPeers; ++i) {
        ASSERT_TRUE(check(udpSocket(), a["iceParameters"], false));
    }
    EXPECT_EQ(udp()->demux().addressCount(), sfu::ice::IceServer::kMaxTuples);
    // The evicted peers' media is no longer routed (the first peer's tuple,
    // selected, stayed; the least recently checked of the others went).
    const uint64_t before = udp()->demux().counters().unknownAddress;
    sendUdp(fds_[1], kRtp);
    EXPECT_TRUE(runUntil([&] { return udp()->demux().counters().unknownAddress == before + 1; }));
}

TEST_F(SharedPorts, BindFailureFailsTheTransport) {
    // Another socket holds the shared UDP port.
    const int holder = ::socket(AF_INET, SOCK_DGRAM, 0);
    fds_.push_back(holder);
    const sockaddr_in at = loopback(udpPort_);
    ASSERT_EQ(::bind(holder, reinterpret_cast<const sockaddr*>(&at), sizeof(at)), 0);
    const json response = env_.request([&](sfu::channel::Request& r) { router_->handleRequest(r); },
                                       "router.createWebRtcTransport", {{"transportId", "a"}},
                                       {{"listenIps", {{{"ip", "127.0.0.1"}}}}});
    EXPECT_FALSE(response.value("accepted", false));
    EXPECT_NE(response.value("reason", "").find("shared WebRTC UDP port"), std::string::npos)
        << response;
}

// ---- TCP --------------------------------------------------------------------

class SharedTcpPort : public SharedPorts {
protected:
    int connectTcp() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in to = loopback(tcpPort_);
        EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);
        fds_.push_back(fd);
        return fd;
    }
    void sendFramed(int fd, const std::vector<uint8_t>& payload) {
        std::vector<uint8_t> frame{static_cast<uint8_t>(payload.size() >> 8),
                                   static_cast<uint8_t>(payload.size())};
        frame.insert(frame.end(), payload.begin(), payload.end());
        ASSERT_EQ(::send(fd, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
    }
    // Bytes received while the loop ran (until `want` bytes or the peer
    // closed, or about kWaitMs); `closed` tells which.
    std::vector<uint8_t> readTcp(int fd, size_t want, bool& closed) {
        std::vector<uint8_t> got;
        closed = false;
        runUntil([&] {
            uint8_t buffer[2048];
            const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
            if (n == 0) {
                closed = true;
            } else if (n > 0) {
                got.insert(got.end(), buffer, buffer + n);
            }
            return closed || got.size() >= want;
        });
        return got;
    }
    std::shared_ptr<sfu::rtc::SharedTcpPort> tcp() { return env_.sharedPorts()->tcp("127.0.0.1"); }
};

TEST_F(SharedTcpPort, FirstFrameWithAKnownUfragHandsTheConnectionToItsTransport) {
    create("a");
    const json b = create("b");
    const int client = connectTcp();
    Check c;
    c.username = b["iceParameters"]["usernameFragment"].get<std::string>() + ":peer";
    c.password = b["iceParameters"]["password"].get<std::string>();
    c.useCandidate = true;
    // The check and a DTLS-looking record in one write: the record follows
    // the connection to its transport.
    const std::vector<uint8_t> dtls{22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0,
                                    0,  0,    7,    1, 2, 3, 4, 5, 6, 7};
    const auto stun = build(c);
    std::vector<uint8_t> both{static_cast<uint8_t>(stun.size() >> 8),
                              static_cast<uint8_t>(stun.size())};
    both.insert(both.end(), stun.begin(), stun.end());
    both.push_back(0);
    both.push_back(static_cast<uint8_t>(dtls.size()));
    both.insert(both.end(), dtls.begin(), dtls.end());
    ASSERT_EQ(::send(client, both.data(), both.size(), 0), static_cast<ssize_t>(both.size()));
    bool closed = false;
    const auto got = readTcp(client, 4, closed);
    ASSERT_GE(got.size(), 4u);
    EXPECT_EQ(got[2], 0x01);
    EXPECT_EQ(got[3], 0x01) << "not a success response";
    EXPECT_TRUE(runUntil([&] { return bytesReceived("b") == stun.size() + dtls.size(); }))
        << dump("b");
    const json dumpB = dump("b");
    EXPECT_EQ(dumpB["iceState"], "completed");
    EXPECT_EQ(dumpB["iceSelectedTuple"]["protocol"], "tcp");
    EXPECT_EQ(dumpB["iceSelectedTuple"]["localPort"], tcpPort_);
    EXPECT_EQ(bytesReceived("a"), 0u);
    EXPECT_EQ(tcp()->counters().assigned, 1u);
    EXPECT_EQ(tcp()->pendingCount(), 0u);
}

TEST_F(SharedTcpPort, ConnectionsWithoutAKnownUfragAreClosed) {
    create("a");
    const int unknown = connectTcp();
    sendFramed(unknown, checkFor("nobodyhasthisone"));
    const int garbage = connectTcp();
    sendFramed(garbage, kRtp);
    const int oversized = connectTcp();
    const uint8_t header[2] = {0xFF, 0xFF};
    ASSERT_EQ(::send(oversized, header, 2, 0), 2);
    for (const int fd : {unknown, garbage, oversized}) {
        bool closed = false;
        const auto got = readTcp(fd, 1, closed);
        EXPECT_TRUE(closed);
        EXPECT_TRUE(got.empty()) << "something was answered";
    }
    EXPECT_EQ(tcp()->counters().rejected, 3u);
    EXPECT_EQ(tcp()->pendingCount(), 0u);
}

TEST_F(SharedTcpPort, SilentConnectionsAreClosedAfterTheTimeout) {
    create("a");
    const int silentClient = connectTcp();
    ASSERT_TRUE(runUntil([&] { return tcp()->pendingCount() == 1; }));
    bool closed = false;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(sfu::rtc::SharedTcpPort::kPendingTimeoutMs) +
                          std::chrono::seconds(5);
    while (!closed && std::chrono::steady_clock::now() < deadline) {
        readTcp(silentClient, 1, closed);
    }
    EXPECT_TRUE(closed);
    EXPECT_EQ(tcp()->counters().timedOut, 1u);
    EXPECT_EQ(tcp()->pendingCount(), 0u);
}

TEST_F(SharedTcpPort, UnassignedConnectionsAreBounded) {
    create("a");
    constexpr size_t kExtra = 3;
    for (size_t i = 0; i < sfu::rtc::SharedTcpPort::kMaxPending + kExtra; ++i) {
        connectTcp();
    }
    EXPECT_TRUE(runUntil([&] {
        return tcp()->counters().accepted == sfu::rtc::SharedTcpPort::kMaxPending + kExtra;
    }));
    EXPECT_EQ(tcp()->pendingCount(), sfu::rtc::SharedTcpPort::kMaxPending);
    EXPECT_EQ(tcp()->counters().evicted, kExtra);
    // The oldest went first.
    bool closed = false;
    readTcp(fds_[0], 1, closed);
    EXPECT_TRUE(closed);
}

} // namespace
