// The queued send path. A loopback socket practically never refuses a
// datagram, so this binary interposes sendmsg(), which libuv's try-send
// uses, and makes it report EAGAIN on demand. libuv's queued sends go out
// through sendmmsg and are unaffected, so what is queued is really sent.
#include "TestLoop.hpp"
#include "deps/UdpSocket.hpp"

#include <cerrno>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <vector>

namespace {

bool refuseSendmsg = false;
int refusedCalls = 0;

} // namespace

extern "C" ssize_t sendmsg(int fd, const struct msghdr* message, int flags) {
    using Real = ssize_t (*)(int, const struct msghdr*, int);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "sendmsg"));
    if (refuseSendmsg) {
        ++refusedCalls;
        errno = EAGAIN;
        return -1;
    }
    return real(fd, message, flags);
}

using namespace sfu::deps;
using sfu::test::TestLoop;

namespace {

class Counter : public UdpSocket::Listener {
public:
    void onUdpPacket(UdpSocket*, const uint8_t* data, size_t len, const sockaddr*) override {
        sizes.push_back(len);
        firstBytes.push_back(data[0]);
    }
    std::vector<size_t> sizes;
    std::vector<uint8_t> firstBytes;
};

class RefusedSends : public ::testing::Test {
protected:
    void SetUp() override {
        refusedCalls = 0;
        refuseSendmsg = true;
    }
    void TearDown() override { refuseSendmsg = false; }
};

TEST_F(RefusedSends, AreQueuedCopiedAndDelivered) {
    TestLoop loop;
    Counter listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    std::vector<uint8_t> packet(5000);
    for (uint8_t i = 0; i < 50; ++i) {
        packet[0] = i;
        // Small and large (not recycled) sizes alike.
        const size_t len = i % 10 == 0 ? 5000 : 1200;
        ASSERT_TRUE(sender.send(packet.data(), len, receiver.localAddress()));
        // The caller's buffer is reused at once; the queue has its own copy.
        packet[0] = 0xff;
    }
    EXPECT_GT(refusedCalls, 0);
    ASSERT_TRUE(loop.runUntil([&] { return listener.sizes.size() == 50; }));
    for (uint8_t i = 0; i < 50; ++i) {
        EXPECT_EQ(listener.firstBytes[i], i);
        EXPECT_EQ(listener.sizes[i], i % 10 == 0 ? 5000u : 1200u);
    }
    ASSERT_TRUE(loop.runUntil([&] { return sender.stats().packetsSent == 50; }));
    EXPECT_EQ(sender.stats().bytesSent, 45u * 1200 + 5 * 5000);
    EXPECT_EQ(sender.queuedPackets(), 0u);
    EXPECT_EQ(sender.stats().sendDrops, 0u);
}

TEST_F(RefusedSends, PastTheQueueLimitAreDropped) {
    TestLoop loop;
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, nullptr);
    const uint8_t data[100] = {};
    sender.setSendQueueLimits(0, 0);
    EXPECT_FALSE(sender.send(data, sizeof(data), receiver.localAddress()));
    EXPECT_EQ(sender.stats().sendDrops, 1u);
    // A byte limit smaller than the packet drops it too.
    sender.setSendQueueLimits(10, 50);
    EXPECT_FALSE(sender.send(data, sizeof(data), receiver.localAddress()));
    EXPECT_EQ(sender.stats().sendDrops, 2u);
    EXPECT_EQ(sender.stats().sendErrors, 0u);
}

TEST_F(RefusedSends, PendingOnCloseAreCancelledQuietly) {
    TestLoop loop;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, nullptr);
    auto sender = std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, nullptr);
    const uint8_t data[100] = {};
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(sender->send(data, sizeof(data), receiver.localAddress()));
    }
    // Completions (or cancellations) run after the socket is gone.
    sender.reset();
    loop.drain();
}

} // namespace
