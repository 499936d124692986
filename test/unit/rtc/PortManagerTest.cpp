#include "rtc/PortManager.hpp"

#include "TestLoop.hpp"
#include "deps/UvHandles.hpp"
#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace sfu;
using namespace sfu::rtc;
using sfu::deps::UdpSocket;
using sfu::test::TestLoop;

namespace {

// Whether UDP and TCP `port` are free on 127.0.0.1 right now.
bool portFree(uv_loop_t* loop, uint16_t port) {
    sockaddr_storage addr;
    sfu::deps::parseAddress("127.0.0.1", port, addr);
    int error = 0;
    uv_udp_t* udp = UdpSocket::bindHandle(loop, reinterpret_cast<sockaddr*>(&addr), error);
    if (udp == nullptr) {
        return false;
    }
    sfu::deps::UdpSocket closer(udp, nullptr);
    uv_tcp_t* tcp =
        deps::TcpListenSocket::bindHandle(loop, reinterpret_cast<sockaddr*>(&addr), error);
    if (tcp == nullptr) {
        return false;
    }
    deps::TcpListenSocket tcpCloser(tcp, nullptr);
    return true;
}

// The first of `count` consecutive free ports below the kernel's ephemeral
// range, so that other traffic is unlikely to take them mid-test.
uint16_t freeRange(uv_loop_t* loop, uint16_t count) {
    for (uint16_t base = 21000; base < 32000; base += 37) {
        bool free = true;
        for (uint16_t p = base; p < base + count && free; ++p) {
            free = portFree(loop, p);
        }
        if (free) {
            return base;
        }
    }
    ADD_FAILURE() << "no free port range";
    return 0;
}

template <typename F>
std::string errorOf(F&& f) {
    try {
        f();
    } catch (const sfu::Error& e) {
        return e.what();
    }
    return "(no sfu::Error)";
}

TEST(PortManager, BindsWithinTheRange) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 20);
    PortManager ports(base, base + 19);
    std::vector<std::unique_ptr<UdpSocket>> sockets;
    for (int i = 0; i < 10; ++i) {
        sockets.push_back(ports.bindUdp(loop.get(), "127.0.0.1", nullptr));
        EXPECT_GE(sockets.back()->localPort(), base);
        EXPECT_LE(sockets.back()->localPort(), base + 19);
        EXPECT_EQ(sockets.back()->localIp(), "127.0.0.1");
        EXPECT_TRUE(ports.inUse("127.0.0.1", Protocol::Udp, sockets.back()->localPort()));
    }
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Udp), 10u);
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Tcp), 0u);
}

TEST(PortManager, ARangeOfThreeGivesThreeSocketsThenThrows) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 3);
    PortManager ports(base, base + 2);
    std::set<uint16_t> seen;
    std::vector<std::unique_ptr<UdpSocket>> sockets;
    for (int i = 0; i < 3; ++i) {
        sockets.push_back(ports.bindUdp(loop.get(), "127.0.0.1", nullptr));
        seen.insert(sockets.back()->localPort());
    }
    EXPECT_EQ(seen, (std::set<uint16_t>{base, uint16_t(base + 1), uint16_t(base + 2)}));
    EXPECT_EQ(errorOf([&] { ports.bindUdp(loop.get(), "127.0.0.1", nullptr); }),
              "no more available ports for IP '127.0.0.1' (udp) in range " + std::to_string(base) +
                  "-" + std::to_string(base + 2));
}

TEST(PortManager, PortsAreReleasedOnCloseAndReused) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 3);
    PortManager ports(base, base + 2);
    std::vector<std::unique_ptr<UdpSocket>> sockets;
    for (int i = 0; i < 3; ++i) {
        sockets.push_back(ports.bindUdp(loop.get(), "127.0.0.1", nullptr));
    }
    const uint16_t freed = sockets[1]->localPort();
    sockets[1]->close();
    EXPECT_FALSE(ports.inUse("127.0.0.1", Protocol::Udp, freed));
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Udp), 2u);
    // At once, without a loop iteration.
    auto again = ports.bindUdp(loop.get(), "127.0.0.1", nullptr);
    EXPECT_EQ(again->localPort(), freed);

    sockets.clear();
    again.reset();
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Udp), 0u);
    for (int i = 0; i < 3; ++i) {
        sockets.push_back(ports.bindUdp(loop.get(), "127.0.0.1", nullptr));
    }
}

TEST(PortManager, SkipsPortsTakenByOthers) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 3);
    UdpSocket outsider(loop.get(), "127.0.0.1", base + 1, nullptr);
    PortManager ports(base, base + 2);
    auto a = ports.bindUdp(loop.get(), "127.0.0.1", nullptr);
    auto b = ports.bindUdp(loop.get(), "127.0.0.1", nullptr);
    EXPECT_NE(a->localPort(), base + 1);
    EXPECT_NE(b->localPort(), base + 1);
    EXPECT_THROW(ports.bindUdp(loop.get(), "127.0.0.1", nullptr), sfu::Error);
}

TEST(PortManager, FixedPorts) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 3);
    PortManager ports(base, base + 2);
    // Outside the range is fine when asked for explicitly.
    UdpSocket probe(loop.get(), "127.0.0.1", 0, nullptr);
    const uint16_t outside = probe.localPort();
    probe.close();
    auto fixed = ports.bindUdp(loop.get(), "127.0.0.1", nullptr, outside);
    EXPECT_EQ(fixed->localPort(), outside);
    EXPECT_TRUE(ports.inUse("127.0.0.1", Protocol::Udp, outside));

    // Held by us.
    EXPECT_EQ(errorOf([&] { ports.bindUdp(loop.get(), "127.0.0.1", nullptr, outside); }),
              "port " + std::to_string(outside) + " already in use for IP '127.0.0.1' (udp)");
    // Held by someone else.
    UdpSocket outsider(loop.get(), "127.0.0.1", base, nullptr);
    EXPECT_EQ(errorOf([&] { ports.bindUdp(loop.get(), "127.0.0.1", nullptr, base); }),
              "port " + std::to_string(base) + " already in use for IP '127.0.0.1' (udp)");
    EXPECT_FALSE(ports.inUse("127.0.0.1", Protocol::Udp, base));

    fixed.reset();
    EXPECT_FALSE(ports.inUse("127.0.0.1", Protocol::Udp, outside));
    EXPECT_EQ(ports.bindUdp(loop.get(), "127.0.0.1", nullptr, outside)->localPort(), outside);
}

TEST(PortManager, InvalidIpIsATypeError) {
    TestLoop loop;
    PortManager ports(30000, 30010);
    for (const char* bad : {"", "localhost", "1.2.3", "::1%lo", "[::1]", "127.0.0.1:5"}) {
        try {
            ports.bindUdp(loop.get(), bad, nullptr);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const sfu::TypeError& e) {
            EXPECT_EQ(std::string(e.what()), "invalid IP '" + std::string(bad) + "'");
        }
        EXPECT_THROW(ports.bindTcp(loop.get(), bad, nullptr), sfu::TypeError);
    }
    EXPECT_EQ(ports.portsInUse("nope", Protocol::Udp), 0u);
}

TEST(PortManager, AnIpNotOnThisHostFailsAtOnce) {
    TestLoop loop;
    PortManager ports(30000, 59999);
    const std::string message = errorOf([&] { ports.bindUdp(loop.get(), "192.0.2.1", nullptr); });
    EXPECT_EQ(message.rfind("cannot bind IP '192.0.2.1' (udp): ", 0), 0u) << message;
}

TEST(PortManager, InvalidRangeIsATypeError) {
    EXPECT_THROW(PortManager(20, 10), sfu::TypeError);
    EXPECT_NO_THROW(PortManager(10, 10));
    // The host allows a range from 0; port 0 itself is never handed out.
    EXPECT_NO_THROW(PortManager(0, 10));
}

TEST(PortManager, IpsAreTrackedByValue) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 1);
    PortManager ports(base, base);
    auto socket = ports.bindUdp(loop.get(), "127.0.0.1", nullptr);
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Udp), 1u);
    try {
        auto v6 = ports.bindUdp(loop.get(), "0:0::1", nullptr);
        // Same port, other family: both fit since IPv6 sockets are IPv6-only.
        EXPECT_EQ(v6->localPort(), base);
        EXPECT_EQ(v6->localIp(), "::1");
        EXPECT_EQ(ports.portsInUse("::1", Protocol::Udp), 1u);
        EXPECT_TRUE(ports.inUse("0::1", Protocol::Udp, base));
        EXPECT_THROW(ports.bindUdp(loop.get(), "::1", nullptr), sfu::Error);
    } catch (const sfu::Error& e) {
        if (std::string(e.what()).find("address not available") == std::string::npos) {
            throw;
        }
    }
}

TEST(PortManager, SocketsMayOutliveTheManager) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 2);
    auto ports = std::make_unique<PortManager>(base, base + 1);
    auto udp = ports->bindUdp(loop.get(), "127.0.0.1", nullptr);
    auto tcp = ports->bindTcp(loop.get(), "127.0.0.1", nullptr);
    ports.reset();
    udp.reset();
    tcp.reset();
}

class Acceptor : public deps::TcpListenSocket::Listener {
public:
    ~Acceptor() override {
        for (auto* client : clients) {
            sfu::deps::closeAndDelete(client);
        }
    }
    void onTcpConnection(deps::TcpListenSocket* server, int status) override {
        ASSERT_EQ(status, 0);
        auto* client = server->accept();
        ASSERT_NE(client, nullptr);
        clients.push_back(client);
    }
    std::vector<uv_tcp_t*> clients;
};

TEST(PortManager, TcpServersListenAndAccept) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 2);
    PortManager ports(base, base + 1);
    Acceptor acceptor;
    auto a = ports.bindTcp(loop.get(), "127.0.0.1", &acceptor);
    auto b = ports.bindTcp(loop.get(), "127.0.0.1", &acceptor);
    EXPECT_NE(a->localPort(), b->localPort());
    EXPECT_EQ(ports.portsInUse("127.0.0.1", Protocol::Tcp), 2u);
    EXPECT_EQ(errorOf([&] { ports.bindTcp(loop.get(), "127.0.0.1", &acceptor); }),
              "no more available ports for IP '127.0.0.1' (tcp) in range " + std::to_string(base) +
                  "-" + std::to_string(base + 1));
    // UDP and TCP ports are separate.
    auto udp = ports.bindUdp(loop.get(), "127.0.0.1", nullptr, a->localPort());

    auto* client = new uv_tcp_t;
    uv_tcp_init(loop.get(), client);
    uv_connect_t connect;
    bool connected = false;
    connect.data = &connected;
    uv_tcp_connect(&connect, client, a->localAddress(), [](uv_connect_t* req, int status) {
        EXPECT_EQ(status, 0);
        *static_cast<bool*>(req->data) = true;
    });
    ASSERT_TRUE(loop.runUntil([&] { return connected && acceptor.clients.size() == 1; }));
    sfu::deps::closeAndDelete(client);

    const uint16_t port = a->localPort();
    a.reset();
    EXPECT_FALSE(ports.inUse("127.0.0.1", Protocol::Tcp, port));
    EXPECT_EQ(ports.bindTcp(loop.get(), "127.0.0.1", &acceptor, port)->localPort(), port);
}

TEST(PortManager, PortsSpreadOverTheRange) {
    TestLoop loop;
    const uint16_t base = freeRange(loop.get(), 50);
    PortManager ports(base, base + 49);
    std::set<uint16_t> firsts;
    for (int i = 0; i < 20; ++i) {
        firsts.insert(ports.bindUdp(loop.get(), "127.0.0.1", nullptr)->localPort());
    }
    // A fixed start would give the same port every time.
    EXPECT_GT(firsts.size(), 3u);
}

} // namespace

TEST(PortManager, RangeOfOnlyPortZeroFailsAtBind) {
    TestLoop loop;
    PortManager ports(0, 0);
    EXPECT_THROW(ports.bindUdp(loop.get(), "127.0.0.1", nullptr), sfu::Error);
}
