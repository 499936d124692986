// Proves the estimator leaves the heap alone once built: this file replaces
// the global allocation functions of the whole test binary with counting
// ones, then sends packets and feeds parsed feedback through it.
#include "AllocationCounter.hpp"
#include "protocol/bwe/BitrateAllocator.hpp"
#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

namespace sfu::bwe::test {
namespace {

TEST(BweNoAllocation, SendAndFeedback) {
    SendSideBandwidthEstimator e;
    std::array<uint8_t, 1500> buf{};
    uint16_t seq = 60000;
    int64_t now = 0;
    auto run = [&](int rounds) {
        for (int i = 0; i < rounds; ++i) {
            const uint16_t base = seq;
            for (int p = 0; p < 50; ++p) {
                e.onPacketSent(seq++, 1200, now + p, kNoProbeCluster);
            }
            rtcp::TransportCcBuilder b(1, 2, base, now * 1000, static_cast<uint8_t>(i));
            for (int p = 0; p < 50; ++p) {
                if (p % 25 != 3) {
                    b.addReceived(static_cast<uint16_t>(base + p), (now + p) * 1000 + 20'000);
                }
            }
            const size_t n = b.serialize(buf.data(), buf.size());
            const auto pkt = rtcp::PacketView::parse(buf.data(), n);
            e.onTransportCcFeedback(*rtcp::TransportCcView::parse(*pkt), now + 80);
            e.onRemb(5'000'000, now + 80);
            e.process(now + 80);
            while (e.takeProbeRequest(now + 80)) {
            }
            BweTrace t;
            while (e.popTrace(t)) {
            }
            now += 50;
        }
    };
    run(50); // warm up
    const size_t before = sfu::test::allocationCount.load();
    run(400);
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 0u);
    EXPECT_GT(e.stats().packetsReceived, 10'000u);
}

// Once it has seen its consumers, an allocation run (every tick of a
// transport) leaves the heap alone too.
TEST(BweNoAllocation, AllocatorRuns) {
    BitrateAllocator allocator;
    std::vector<BitrateAllocator::Request> requests(4);
    for (size_t i = 0; i < requests.size(); ++i) {
        requests[i].key = i + 1;
        requests[i].priority = static_cast<uint32_t>(1 + i % 2);
        for (int s = 0; s < 3; ++s) {
            for (int t = 0; t < 3; ++t) {
                requests[i].layers.push_back({{s, t}, (s * 3 + t + 1) * 50'000});
            }
        }
    }
    requests[3].layers.clear();
    requests[3].fixedBps = 64'000;
    std::vector<AllocationLayer> out;
    int64_t now = 0;
    const auto run = [&](int rounds) {
        for (int i = 0; i < rounds; ++i, now += 20) {
            allocator.allocate(500'000 + (i % 50) * 40'000, now, requests, out);
        }
    };
    run(10); // warm up
    const size_t before = sfu::test::allocationCount.load();
    run(1000);
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 0u);
    EXPECT_GE(out[1].spatial, 0);
}

} // namespace
} // namespace sfu::bwe::test
