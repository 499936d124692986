#include "deps/UdpSocket.hpp"

#include "TestLoop.hpp"
#include "utils/Errors.hpp"

#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

using namespace sfu::deps;
using sfu::test::TestLoop;

namespace {

struct Received {
    std::vector<uint8_t> data;
    sockaddr_storage remote;
};

class Collector : public UdpSocket::Listener {
public:
    void onUdpPacket(UdpSocket* socket, const uint8_t* data, size_t len,
                     const sockaddr* remote) override {
        Received r;
        r.data.assign(data, data + len);
        std::memcpy(&r.remote, remote, addressLength(remote));
        packets.push_back(std::move(r));
        if (onPacket) {
            onPacket(socket);
        }
    }
    std::vector<Received> packets;
    std::function<void(UdpSocket*)> onPacket;
};

bool ipv6LoopbackAvailable(uv_loop_t* loop) {
    try {
        UdpSocket probe(loop, "::1", 0, nullptr);
        return true;
    } catch (const sfu::Error&) {
        return false;
    }
}

void exchange(TestLoop& loop, const char* ip) {
    Collector aListener;
    Collector bListener;
    UdpSocket a(loop.get(), ip, 0, &aListener);
    UdpSocket b(loop.get(), ip, 0, &bListener);
    EXPECT_EQ(a.localIp(), ip);
    EXPECT_NE(a.localPort(), 0);
    EXPECT_NE(a.localPort(), b.localPort());

    std::vector<uint8_t> big(60000);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<uint8_t>(i);
    }
    const std::vector<uint8_t> small = {1, 2, 3};
    ASSERT_TRUE(a.send(small.data(), small.size(), b.localAddress()));
    ASSERT_TRUE(a.send(big.data(), big.size(), b.localAddress()));
    ASSERT_TRUE(b.send(small.data(), small.size(), a.localAddress()));
    ASSERT_TRUE(loop.runUntil(
        [&] { return bListener.packets.size() == 2 && aListener.packets.size() == 1; }));

    EXPECT_EQ(bListener.packets[0].data, small);
    EXPECT_EQ(bListener.packets[1].data, big);
    EXPECT_TRUE(sameAddress(reinterpret_cast<const sockaddr*>(&bListener.packets[0].remote),
                            a.localAddress()));
    EXPECT_TRUE(sameAddress(reinterpret_cast<const sockaddr*>(&aListener.packets[0].remote),
                            b.localAddress()));
    EXPECT_EQ(a.stats().packetsSent, 2u);
    EXPECT_EQ(a.stats().bytesSent, small.size() + big.size());
    EXPECT_EQ(b.stats().packetsReceived, 2u);
    EXPECT_EQ(b.stats().bytesReceived, small.size() + big.size());
    EXPECT_EQ(a.stats().sendErrors, 0u);
}

TEST(UdpSocket, ExchangesOverIpv4Loopback) {
    TestLoop loop;
    exchange(loop, "127.0.0.1");
}

TEST(UdpSocket, ExchangesOverIpv6Loopback) {
    TestLoop loop;
    if (!ipv6LoopbackAvailable(loop.get())) {
        GTEST_SKIP() << "::1 not available";
    }
    exchange(loop, "::1");
}

TEST(UdpSocket, Ipv6SocketIsIpv6Only) {
    TestLoop loop;
    if (!ipv6LoopbackAvailable(loop.get())) {
        GTEST_SKIP() << "::1 not available";
    }
    // Both families bind the same port: the IPv6 one does not claim IPv4.
    UdpSocket v6(loop.get(), "::", 0, nullptr);
    UdpSocket v4(loop.get(), "0.0.0.0", v6.localPort(), nullptr);
    EXPECT_EQ(v6.family(), IpFamily::Ipv6);
    EXPECT_EQ(v4.family(), IpFamily::Ipv4);
}

TEST(UdpSocket, ReadsBurstsWithRecvmmsgAndCountsEachDatagram) {
    TestLoop loop;
    Collector listener;
    UdpSocket a(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket b(loop.get(), "127.0.0.1", 0, &listener);
    EXPECT_TRUE(b.receivesInBursts());
    // More than one burst's slots, all waiting in the kernel at once.
    const size_t count = 3 * UdpSocket::kReceiveSlots + 1;
    std::vector<uint8_t> packet(700);
    for (size_t i = 0; i < count; ++i) {
        packet[0] = static_cast<uint8_t>(i);
        ASSERT_TRUE(a.send(packet.data(), 100 + i, b.localAddress()));
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == count; }));
    size_t bytes = 0;
    for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(listener.packets[i].data.size(), 100 + i);
        EXPECT_EQ(listener.packets[i].data[0], static_cast<uint8_t>(i));
        bytes += 100 + i;
    }
    EXPECT_EQ(b.stats().packetsReceived, count);
    EXPECT_EQ(b.stats().bytesReceived, bytes);
    EXPECT_EQ(b.stats().receiveErrors, 0u);
}

TEST(UdpSocket, ManyPacketsArriveInOrder) {
    TestLoop loop;
    Collector listener;
    UdpSocket a(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket b(loop.get(), "127.0.0.1", 0, &listener);
    std::vector<uint8_t> packet(1200);
    for (uint32_t i = 0; i < 500; ++i) {
        packet[0] = static_cast<uint8_t>(i >> 8);
        packet[1] = static_cast<uint8_t>(i);
        ASSERT_TRUE(a.send(packet.data(), packet.size(), b.localAddress()));
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 500; }));
    for (uint32_t i = 0; i < 500; ++i) {
        EXPECT_EQ((listener.packets[i].data[0] << 8) | listener.packets[i].data[1], int(i));
    }
}

TEST(UdpSocket, InvalidIpIsATypeErrorAndBindFailureAnError) {
    TestLoop loop;
    EXPECT_THROW(UdpSocket(loop.get(), "localhost", 0, nullptr), sfu::TypeError);
    EXPECT_THROW(UdpSocket(loop.get(), "1.2.3", 0, nullptr), sfu::TypeError);
    UdpSocket taken(loop.get(), "127.0.0.1", 0, nullptr);
    try {
        UdpSocket(loop.get(), "127.0.0.1", taken.localPort(), nullptr);
        FAIL() << "bound a port in use";
    } catch (const sfu::Error& e) {
        EXPECT_NE(std::string(e.what()).find("address already in use"), std::string::npos)
            << e.what();
    }
    // 192.0.2.0/24 is documentation space, not on this host.
    EXPECT_THROW(UdpSocket(loop.get(), "192.0.2.1", 0, nullptr), sfu::Error);
}

TEST(UdpSocket, BindHandleReportsErrorsWithoutThrowing) {
    TestLoop loop;
    UdpSocket taken(loop.get(), "127.0.0.1", 0, nullptr);
    int error = 0;
    EXPECT_EQ(UdpSocket::bindHandle(loop.get(), taken.localAddress(), error), nullptr);
    EXPECT_EQ(error, UV_EADDRINUSE);
}

TEST(UdpSocket, AdoptsABoundHandle) {
    TestLoop loop;
    Collector listener;
    sockaddr_storage addr;
    ASSERT_TRUE(parseAddress("127.0.0.1", 0, addr));
    int error = 0;
    uv_udp_t* handle = UdpSocket::bindHandle(loop.get(), reinterpret_cast<sockaddr*>(&addr), error);
    ASSERT_NE(handle, nullptr) << uv_strerror(error);
    UdpSocket socket(handle, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    const uint8_t byte = 7;
    sender.send(&byte, 1, socket.localAddress());
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 1; }));
}

TEST(UdpSocket, SendErrorsAreCounted) {
    TestLoop loop;
    UdpSocket v4(loop.get(), "127.0.0.1", 0, nullptr);
    sockaddr_storage v6;
    ASSERT_TRUE(parseAddress("::1", 9, v6));
    const uint8_t data[4] = {};
    // Wrong family for this socket.
    EXPECT_FALSE(v4.send(data, sizeof(data), reinterpret_cast<sockaddr*>(&v6)));
    EXPECT_EQ(v4.stats().sendErrors, 1u);
    std::vector<uint8_t> huge(70000);
    EXPECT_FALSE(v4.send(huge.data(), huge.size(), v4.localAddress()));
    EXPECT_EQ(v4.stats().sendErrors, 2u);
    EXPECT_EQ(v4.stats().packetsSent, 0u);
}

TEST(UdpSocket, ADatagramTheKernelRefusesIsCountedAndTheRestGoOut) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    sockaddr_storage portZero;
    ASSERT_TRUE(parseAddress("127.0.0.1", 0, portZero));
    // Linux refuses UDP to port 0 (EINVAL), in the middle of the batch.
    for (uint8_t i = 0; i < 5; ++i) {
        const sockaddr* to =
            i == 2 ? reinterpret_cast<const sockaddr*>(&portZero) : receiver.localAddress();
        ASSERT_TRUE(sender.send(&i, 1, to));
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 4; }));
    EXPECT_EQ(listener.packets[0].data[0], 0);
    EXPECT_EQ(listener.packets[1].data[0], 1);
    EXPECT_EQ(listener.packets[2].data[0], 3);
    EXPECT_EQ(listener.packets[3].data[0], 4);
    EXPECT_EQ(sender.stats().sendErrors, 1u);
    EXPECT_EQ(sender.stats().packetsSent, 4u);
    EXPECT_EQ(sender.stats().bytesSent, 4u);
}

TEST(UdpSocket, ClosedOrDestroyedWithBatchedDatagramsDropsThem) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket closing(loop.get(), "127.0.0.1", 0, nullptr);
    auto destroyed = std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket other(loop.get(), "127.0.0.1", 0, nullptr);
    const uint8_t data[2] = {1, 2};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(closing.send(data, sizeof(data), receiver.localAddress()));
        ASSERT_TRUE(destroyed->send(data, sizeof(data), receiver.localAddress()));
        ASSERT_TRUE(other.send(data, 1, receiver.localAddress()));
    }
    closing.close();
    destroyed.reset();
    EXPECT_EQ(closing.batchedPackets(), 0u);
    EXPECT_EQ(closing.stats().sendDrops, 3u);
    EXPECT_EQ(closing.stats().packetsSent, 0u);
    // The other socket's datagrams leave in the same flush, and only they.
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 3; }));
    loop.drain();
    EXPECT_EQ(listener.packets.size(), 3u);
    for (const auto& packet : listener.packets) {
        EXPECT_EQ(packet.data.size(), 1u);
    }
    EXPECT_EQ(other.stats().packetsSent, 3u);
}

TEST(UdpSocket, TimerSendsLeaveBeforeTheLoopWaits) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    struct Timers {
        uv_timer_t now;
        uv_timer_t later;
        UdpSocket* sender;
        const sockaddr* to;
    } timers{{}, {}, &sender, receiver.localAddress()};
    uv_timer_init(loop.get(), &timers.now);
    uv_timer_init(loop.get(), &timers.later);
    timers.now.data = &timers;
    uv_timer_start(
        &timers.now,
        [](uv_timer_t* timer) {
            auto* t = static_cast<Timers*>(timer->data);
            const uint8_t byte = 5;
            t->sender->send(&byte, 1, t->to);
        },
        0, 0);
    // Keeps the loop waiting for a long time unless I/O arrives.
    uv_timer_start(
        &timers.later, [](uv_timer_t*) {}, 5000, 0);
    // One iteration: the timer sends, the batch leaves before the poll, so
    // the poll finds the datagram and hands it over in the same iteration.
    uv_run(loop.get(), UV_RUN_ONCE);
    EXPECT_EQ(sender.stats().packetsSent, 1u);
    EXPECT_EQ(listener.packets.size(), 1u);
    uv_close(reinterpret_cast<uv_handle_t*>(&timers.now), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&timers.later), nullptr);
    loop.drain();
}

TEST(UdpSocket, SendsFromAReceiveCallbackLeaveInTheSameIteration) {
    TestLoop loop;
    Collector echoListener;
    Collector listener;
    UdpSocket echo(loop.get(), "127.0.0.1", 0, &echoListener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, &listener);
    echoListener.onPacket = [&](UdpSocket* socket) {
        const auto& packet = echoListener.packets.back();
        socket->send(packet.data.data(), packet.data.size(),
                     reinterpret_cast<const sockaddr*>(&packet.remote));
    };
    uv_timer_t keepAlive;
    uv_timer_init(loop.get(), &keepAlive);
    uv_timer_start(
        &keepAlive, [](uv_timer_t*) {}, 5000, 0);
    const uint8_t data[3] = {1, 2, 3};
    sender.send(data, sizeof(data), echo.localAddress());
    uv_run(loop.get(), UV_RUN_ONCE);
    ASSERT_EQ(echoListener.packets.size(), 1u);
    // The echo left in the check phase of that iteration, not the next one.
    EXPECT_EQ(echo.stats().packetsSent, 1u);
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 1; }));
    EXPECT_EQ(listener.packets[0].data, std::vector<uint8_t>(data, data + 3));
    uv_close(reinterpret_cast<uv_handle_t*>(&keepAlive), nullptr);
    loop.drain();
}

TEST(UdpSocket, CloseFreesThePortAtOnceAndRunsTheCallbackOnce) {
    TestLoop loop;
    auto socket = std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, nullptr);
    const uint16_t port = socket->localPort();
    int calls = 0;
    socket->setCloseCallback([&] { ++calls; });
    socket->close();
    socket->close();
    EXPECT_TRUE(socket->closed());
    EXPECT_EQ(calls, 1);
    const uint8_t byte = 1;
    EXPECT_FALSE(socket->send(&byte, 1, socket->localAddress()));
    EXPECT_EQ(socket->queuedPackets(), 0u);
    // Rebinding needs no loop iteration in between.
    UdpSocket again(loop.get(), "127.0.0.1", port, nullptr);
    socket.reset();
    EXPECT_EQ(calls, 1);
}

TEST(UdpSocket, DestroyedInsideItsOwnCallback) {
    TestLoop loop;
    Collector listener;
    auto receiver = std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    bool closedCalled = false;
    receiver->setCloseCallback([&] { closedCalled = true; });
    listener.onPacket = [&](UdpSocket* socket) {
        EXPECT_EQ(socket, receiver.get());
        receiver.reset();
    };
    const uint8_t data[3] = {1, 2, 3};
    // Several datagrams queued in the kernel: libuv must stop after the
    // first one now that the socket is gone.
    for (int i = 0; i < 5; ++i) {
        sender.send(data, sizeof(data), receiver->localAddress());
    }
    ASSERT_TRUE(loop.runUntil([&] { return receiver == nullptr; }));
    loop.drain();
    EXPECT_EQ(listener.packets.size(), 1u);
    EXPECT_TRUE(closedCalled);
}

TEST(UdpSocket, ClosedInsideItsOwnCallback) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    listener.onPacket = [](UdpSocket* socket) { socket->close(); };
    const uint8_t data[3] = {1, 2, 3};
    for (int i = 0; i < 5; ++i) {
        sender.send(data, sizeof(data), receiver.localAddress());
    }
    ASSERT_TRUE(loop.runUntil([&] { return receiver.closed(); }));
    loop.drain();
    EXPECT_EQ(listener.packets.size(), 1u);
}

TEST(UdpSocket, ListenerCanBeSetLater) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    const uint8_t data[1] = {9};
    sender.send(data, 1, receiver.localAddress());
    ASSERT_TRUE(loop.runUntil([&] { return receiver.stats().packetsReceived == 1; }));
    receiver.setListener(&listener);
    sender.send(data, 1, receiver.localAddress());
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 1; }));
}

} // namespace
