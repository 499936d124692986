// The batched send path. This binary interposes sendmmsg(), through which
// the socket sends its batch, to see each call and to make the kernel take
// only part of a batch (EAGAIN after that) on demand. libuv's own queue
// sends with the raw system call and is unaffected, so what the socket
// falls back to queueing is really sent.
#include "TestLoop.hpp"
#include "deps/UdpSocket.hpp"

#include <algorithm>
#include <cerrno>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <memory>
#include <sys/socket.h>
#include <vector>

namespace {

struct Interposer {
    bool recording = false;
    // Datagrams each call was given, while recording.
    std::vector<unsigned> calls;
    // Datagrams the kernel still takes before it answers EAGAIN; -1: all.
    int room = -1;
    int refusals = 0;
    // Taken but not sent: batches larger than a receiver's buffer.
    bool swallow = false;
};
Interposer interposer;

} // namespace

extern "C" int sendmmsg(int fd, struct mmsghdr* messages, unsigned int count, int flags) {
    using Real = int (*)(int, struct mmsghdr*, unsigned int, int);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "sendmmsg"));
    if (interposer.recording) {
        interposer.calls.push_back(count);
    }
    if (interposer.swallow) {
        for (unsigned i = 0; i < count; ++i) {
            messages[i].msg_len = static_cast<unsigned>(messages[i].msg_hdr.msg_iov[0].iov_len);
        }
        return static_cast<int>(count);
    }
    if (interposer.room >= 0) {
        if (interposer.room == 0) {
            ++interposer.refusals;
            errno = EAGAIN;
            return -1;
        }
        const int taken = real(fd, messages, std::min<unsigned>(count, interposer.room), flags);
        if (taken > 0) {
            interposer.room -= taken;
        }
        return taken;
    }
    return real(fd, messages, count, flags);
}

using namespace sfu::deps;
using sfu::test::TestLoop;

namespace {

struct Datagram {
    std::vector<uint8_t> data;
    uint16_t fromPort;
};

class Collector : public UdpSocket::Listener {
public:
    void onUdpPacket(UdpSocket*, const uint8_t* data, size_t len, const sockaddr* from) override {
        packets.push_back({std::vector<uint8_t>(data, data + len), portOf(from)});
    }
    // First bytes of what came from `port`, in arrival order.
    std::vector<uint8_t> firstBytesFrom(uint16_t port) const {
        std::vector<uint8_t> bytes;
        for (const auto& packet : packets) {
            if (packet.fromPort == port) {
                bytes.push_back(packet.data[0]);
            }
        }
        return bytes;
    }
    std::vector<Datagram> packets;
};

class BatchedSends : public ::testing::Test {
protected:
    void SetUp() override { interposer = Interposer{}; }
    void TearDown() override { interposer = Interposer{}; }
};

TEST_F(BatchedSends, OfOneIterationGoOutInOneCallPerSocketInOrder) {
    TestLoop loop;
    Collector one;
    Collector two;
    UdpSocket r1(loop.get(), "127.0.0.1", 0, &one);
    UdpSocket r2(loop.get(), "127.0.0.1", 0, &two);
    UdpSocket a(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket b(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.recording = true;
    std::vector<uint8_t> packet(1000);
    size_t bytes = 0;
    // a: r1, r2, r1, r2, r1 (sizes differ); b: r1, r1.
    for (uint8_t i = 0; i < 5; ++i) {
        packet[0] = i;
        packet[1] = static_cast<uint8_t>(0xa0 + i);
        const size_t len = 100 + i;
        ASSERT_TRUE(a.send(packet.data(), len, i % 2 == 0 ? r1.localAddress() : r2.localAddress()));
        bytes += len;
        // The caller's buffer is reused at once; the batch has its own copy.
        packet[0] = 0xff;
    }
    for (uint8_t i = 10; i < 12; ++i) {
        packet[0] = i;
        ASSERT_TRUE(b.send(packet.data(), 50, r1.localAddress()));
    }
    EXPECT_EQ(a.batchedPackets(), 5u);
    EXPECT_EQ(b.batchedPackets(), 2u);
    EXPECT_EQ(a.stats().packetsSent, 0u);
    EXPECT_TRUE(interposer.calls.empty());

    ASSERT_TRUE(loop.runUntil([&] { return one.packets.size() == 5 && two.packets.size() == 2; }));
    EXPECT_EQ(interposer.calls, (std::vector<unsigned>{5, 2}));
    EXPECT_EQ(one.firstBytesFrom(a.localPort()), (std::vector<uint8_t>{0, 2, 4}));
    EXPECT_EQ(two.firstBytesFrom(a.localPort()), (std::vector<uint8_t>{1, 3}));
    EXPECT_EQ(one.firstBytesFrom(b.localPort()), (std::vector<uint8_t>{10, 11}));
    for (const auto& received : {one.packets[0], two.packets[1]}) {
        const uint8_t i = received.data[0];
        EXPECT_EQ(received.data.size(), 100u + i);
        EXPECT_EQ(received.data[1], 0xa0 + i);
    }
    EXPECT_EQ(a.stats().packetsSent, 5u);
    EXPECT_EQ(a.stats().bytesSent, bytes);
    EXPECT_EQ(b.stats().packetsSent, 2u);
    EXPECT_EQ(b.stats().bytesSent, 100u);
    EXPECT_EQ(a.batchedPackets(), 0u);
    EXPECT_EQ(a.stats().sendErrors + a.stats().sendDrops, 0u);
}

TEST_F(BatchedSends, GoOutEarlyWhenASocketHasAFullBatch) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.recording = true;
    uint8_t packet[200] = {};
    const size_t bound = UdpSocket::kMaxBatchedPerSocket;
    for (size_t i = 0; i + 1 < bound; ++i) {
        packet[0] = static_cast<uint8_t>(i);
        sender.send(packet, sizeof(packet), receiver.localAddress());
    }
    EXPECT_EQ(sender.batchedPackets(), bound - 1);
    EXPECT_EQ(sender.stats().packetsSent, 0u);
    // The bound-th datagram sends the whole batch at once, no loop needed.
    packet[0] = static_cast<uint8_t>(bound - 1);
    sender.send(packet, sizeof(packet), receiver.localAddress());
    EXPECT_EQ(interposer.calls, (std::vector<unsigned>{static_cast<unsigned>(bound)}));
    EXPECT_EQ(sender.stats().packetsSent, bound);
    EXPECT_EQ(sender.batchedPackets(), 0u);
    packet[0] = static_cast<uint8_t>(bound);
    sender.send(packet, sizeof(packet), receiver.localAddress());
    EXPECT_EQ(sender.batchedPackets(), 1u);

    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == bound + 1; }));
    for (size_t i = 0; i <= bound; ++i) {
        EXPECT_EQ(listener.packets[i].data[0], static_cast<uint8_t>(i));
    }
    EXPECT_EQ(sender.stats().packetsSent, bound + 1);
}

TEST_F(BatchedSends, GoOutEarlyWhenTheLoopsBatchIsFull) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket a(loop.get(), "127.0.0.1", 0, nullptr);
    UdpSocket b(loop.get(), "127.0.0.1", 0, nullptr);
    std::vector<uint8_t> big(60000);
    const size_t fit = UdpSocket::kMaxBatchedBytes / big.size();
    ASSERT_GE(fit, 2u);
    // More bytes than a receive buffer holds: what the kernel is given is
    // recorded, not sent.
    interposer.recording = true;
    interposer.swallow = true;
    for (size_t i = 0; i < fit; ++i) {
        (i % 2 == 0 ? a : b).send(big.data(), big.size(), receiver.localAddress());
    }
    EXPECT_EQ(a.stats().packetsSent + b.stats().packetsSent, 0u);
    EXPECT_TRUE(interposer.calls.empty());
    // One more does not fit: every socket's datagrams go out first, one
    // call each.
    big[0] = 0x5A;
    a.send(big.data(), big.size(), receiver.localAddress());
    EXPECT_EQ(interposer.calls, (std::vector<unsigned>{static_cast<unsigned>((fit + 1) / 2),
                                                       static_cast<unsigned>(fit / 2)}));
    EXPECT_EQ(a.stats().packetsSent + b.stats().packetsSent, fit);
    EXPECT_EQ(a.batchedPackets(), 1u);
    EXPECT_EQ(b.batchedPackets(), 0u);
    // The last one at the end of the iteration, for real.
    interposer.swallow = false;
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 1; }));
    EXPECT_EQ(listener.packets[0].data[0], 0x5A);
    EXPECT_EQ(a.stats().bytesSent + b.stats().bytesSent, (fit + 1) * big.size());
}

// A burst as a fan-out makes it: 10 full-size packets read in one go, each
// copied to 100 consumer sockets. The batch holds all of it, so each socket
// makes one call for its 10 (a batch full after a fifth of the burst made
// every socket call five times).
TEST_F(BatchedSends, AFanOutBurstGoesOutInOneCallPerSocket) {
    TestLoop loop;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, nullptr);
    std::vector<std::unique_ptr<UdpSocket>> consumers;
    for (int i = 0; i < 100; ++i) {
        consumers.push_back(std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, nullptr));
    }
    interposer.recording = true;
    interposer.swallow = true;
    std::vector<uint8_t> packet(1200);
    for (int k = 0; k < 10; ++k) {
        for (auto& consumer : consumers) {
            consumer->send(packet.data(), packet.size(), receiver.localAddress());
        }
    }
    EXPECT_TRUE(interposer.calls.empty());
    ASSERT_TRUE(loop.runUntil([&] { return !interposer.calls.empty(); }));
    EXPECT_EQ(interposer.calls, std::vector<unsigned>(100, 10));
}

TEST_F(BatchedSends, TheKernelTakingPartLeavesTheRestQueuedInOrder) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.room = 3;
    uint8_t packet[300] = {};
    for (uint8_t i = 0; i < 10; ++i) {
        packet[0] = i;
        ASSERT_TRUE(sender.send(packet, sizeof(packet), receiver.localAddress()));
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 10; }));
    EXPECT_GT(interposer.refusals, 0);
    for (uint8_t i = 0; i < 10; ++i) {
        EXPECT_EQ(listener.packets[i].data[0], i);
    }
    ASSERT_TRUE(loop.runUntil([&] { return sender.stats().packetsSent == 10; }));
    EXPECT_EQ(sender.stats().bytesSent, 10u * sizeof(packet));
    EXPECT_EQ(sender.queuedPackets(), 0u);
    EXPECT_EQ(sender.stats().sendDrops + sender.stats().sendErrors, 0u);

    // Sent while the queue still holds datagrams, a new batch goes behind
    // them even when the kernel has room again.
    interposer.room = 0;
    for (uint8_t i = 10; i < 15; ++i) {
        packet[0] = i;
        sender.send(packet, sizeof(packet), receiver.localAddress());
    }
    uv_run(loop.get(), UV_RUN_NOWAIT);
    interposer.room = -1;
    for (uint8_t i = 15; i < 20; ++i) {
        packet[0] = i;
        sender.send(packet, sizeof(packet), receiver.localAddress());
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 20; }));
    for (uint8_t i = 10; i < 20; ++i) {
        EXPECT_EQ(listener.packets[i].data[0], i);
    }
}

TEST_F(BatchedSends, RefusedAreQueuedCopiedAndDelivered) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.room = 0;
    std::vector<uint8_t> packet(5000);
    for (uint8_t i = 0; i < 50; ++i) {
        packet[0] = i;
        // Small and large (not recycled) sizes alike.
        const size_t len = i % 10 == 0 ? 5000 : 1200;
        ASSERT_TRUE(sender.send(packet.data(), len, receiver.localAddress()));
        packet[0] = 0xff;
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 50; }));
    EXPECT_GT(interposer.refusals, 0);
    for (uint8_t i = 0; i < 50; ++i) {
        EXPECT_EQ(listener.packets[i].data[0], i);
        EXPECT_EQ(listener.packets[i].data.size(), i % 10 == 0 ? 5000u : 1200u);
    }
    ASSERT_TRUE(loop.runUntil([&] { return sender.stats().packetsSent == 50; }));
    EXPECT_EQ(sender.stats().bytesSent, 45u * 1200 + 5 * 5000);
    EXPECT_EQ(sender.queuedPackets(), 0u);
    EXPECT_EQ(sender.stats().sendDrops, 0u);
}

TEST_F(BatchedSends, RefusedPastTheQueueLimitAreDropped) {
    TestLoop loop;
    Collector listener;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, &listener);
    UdpSocket sender(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.room = 0;
    uint8_t data[100] = {};
    sender.setSendQueueLimits(4, 1000);
    for (uint8_t i = 0; i < 10; ++i) {
        data[0] = i;
        ASSERT_TRUE(sender.send(data, sizeof(data), receiver.localAddress()));
    }
    ASSERT_TRUE(loop.runUntil([&] { return listener.packets.size() == 4; }));
    EXPECT_EQ(sender.stats().sendDrops, 6u);
    for (uint8_t i = 0; i < 4; ++i) {
        EXPECT_EQ(listener.packets[i].data[0], i);
    }
    // A byte limit smaller than the datagram drops it too.
    sender.setSendQueueLimits(10, 50);
    sender.send(data, sizeof(data), receiver.localAddress());
    loop.drain();
    EXPECT_EQ(sender.stats().sendDrops, 7u);
    EXPECT_EQ(sender.stats().sendErrors, 0u);
}

TEST_F(BatchedSends, QueuedOnCloseAreCancelledQuietly) {
    TestLoop loop;
    UdpSocket receiver(loop.get(), "127.0.0.1", 0, nullptr);
    auto sender = std::make_unique<UdpSocket>(loop.get(), "127.0.0.1", 0, nullptr);
    interposer.room = 0;
    const uint8_t data[100] = {};
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(sender->send(data, sizeof(data), receiver.localAddress()));
    }
    uv_run(loop.get(), UV_RUN_NOWAIT);
    // Completions (or cancellations) run after the socket is gone.
    sender.reset();
    loop.drain();
}

} // namespace
