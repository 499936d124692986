// Proves our per-packet path does not touch the heap: this file replaces the
// global allocation functions of the whole test binary with counting ones,
// then runs demux, parse, both checks, both responses and a whole IceServer
// check with the counter watched. (OpenSSL's own HMAC state goes through
// its allocator, not operator new, and is outside what this measures.)
#include "AllocationCounter.hpp"
#include "IceTestUtil.hpp"
#include "protocol/ice/Demux.hpp"

#include <atomic>
#include <cstdlib>
#include <gtest/gtest.h>
#include <new>

namespace sfu::ice::test {
namespace {

// Counts sends and events without storing anything.
class CountingListener : public IceServer::Listener {
public:
    void sendStunPacket(const uint8_t*, size_t size, const Tuple&) override { bytes += size; }
    void onIceSelectedTuple(const Tuple&) override { ++events; }
    void onIceConnected() override { ++events; }
    void onIceCompleted() override { ++events; }
    void onIceDisconnected() override { ++events; }
    size_t bytes = 0;
    int events = 0;
};

Check nominatingCheck(const char* password) {
    Check check;
    check.username = "uf:peer";
    check.password = password;
    check.useCandidate = true;
    return check;
}

TEST(IceNoAllocation, PerPacketPath) {
    const auto request = build(nominatingCheck("pw"));
    const auto badIntegrity = build(nominatingCheck("bad"));
    const auto remote = ipv6("2001:db8::7", 4444);
    int socket = 0;
    const Tuple tuple(Protocol::Udp, &socket, sa(remote));
    HmacSha1 keyed("pw");
    CountingListener listener;
    IceServer server(listener, "uf", "pw");
    std::array<uint8_t, 256> buffer{};

    const size_t before = sfu::test::allocationCount.load();
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(classifyPacket(request.data(), request.size()), PacketKind::Stun);
        const auto message = StunMessage::parse(request.data(), request.size());
        ASSERT_TRUE(message);
        ASSERT_TRUE(message->checkFingerprint());
        ASSERT_TRUE(message->checkIntegrity(keyed));
        ASSERT_GT(buildBindingSuccess(buffer.data(), buffer.size(), message->transactionId(),
                                      sa(remote), keyed),
                  0u);
        ASSERT_GT(buildBindingError(buffer.data(), buffer.size(), message->transactionId(),
                                    kErrorRoleConflict, &keyed),
                  0u);
        ASSERT_EQ(server.processStunPacket(request.data(), request.size(), tuple, 1000u * i),
                  IceResult::Accepted);
        ASSERT_EQ(server.processStunPacket(badIntegrity.data(), badIntegrity.size(), tuple, 0),
                  IceResult::BadIntegrity);
        server.tick(1000u * i);
        ASSERT_TRUE(server.isValidTuple(tuple));
    }
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 0u);
    EXPECT_GT(listener.bytes, 0u);
    EXPECT_EQ(listener.events, 2);
}

} // namespace
} // namespace sfu::ice::test
