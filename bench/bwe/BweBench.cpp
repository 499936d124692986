// Bandwidth estimation hot paths: recording a sent packet, and processing a
// transport-wide feedback of 100 packets (parse, match against the send
// history, packet groups, trendline, detector, rate control, loss bound).
// Reported per packet; heap allocations are counted and must be none.
#include "AllocationCounter.hpp"
#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/TransportCc.hpp"

#include <array>
#include <benchmark/benchmark.h>
#include <cstdint>

using namespace sfu;
using namespace sfu::bwe;

namespace {

constexpr int kPerFeedback = 100;

// 100 packets 1 ms apart arriving 20 ms later with a little jitter, one lost.
size_t buildFeedback(uint16_t base, int64_t sendMs, uint8_t count, uint8_t* out, size_t cap) {
    const int64_t ref = (sendMs + 20) * 1000;
    rtcp::TransportCcBuilder b(1, 2, base, ref, count);
    for (int i = 0; i < kPerFeedback; ++i) {
        if (i == 37) {
            continue;
        }
        b.addReceived(static_cast<uint16_t>(base + i), ref + i * 1000 + (i % 3) * 250);
    }
    return b.serialize(out, cap);
}

void BM_OnPacketSent(benchmark::State& state) {
    SendSideBandwidthEstimator e;
    uint16_t seq = 0;
    int64_t now = 0;
    uint64_t allocs = 0;
    for (auto _ : state) {
        const size_t before = sfu::test::allocationCount.load();
        e.onPacketSent(seq++, 1200, now);
        allocs += sfu::test::allocationCount.load() - before;
        if ((seq & 3) == 0) {
            ++now;
        }
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OnPacketSent);

// Each iteration: 100 packets sent, then their feedback processed; the
// feedback is built beforehand for every round, so only the estimator's
// side (parse included) is timed.
void BM_Feedback100(benchmark::State& state) {
    constexpr int kRounds = 64;
    std::array<std::array<uint8_t, 1500>, kRounds> fb{};
    std::array<size_t, kRounds> fbSize{};
    SendSideBandwidthEstimator e;
    uint16_t seq = 0;
    int64_t now = 0;
    uint64_t allocs = 0;
    uint64_t round = 0;
    for (auto _ : state) {
        const auto r = static_cast<size_t>(round % kRounds);
        const uint16_t base = seq;
        state.PauseTiming();
        for (int i = 0; i < kPerFeedback; ++i) {
            e.onPacketSent(seq++, 1200, now + i);
        }
        fbSize[r] = buildFeedback(base, now, static_cast<uint8_t>(round), fb[r].data(), 1500);
        state.ResumeTiming();
        const size_t before = sfu::test::allocationCount.load();
        const auto pkt = rtcp::PacketView::parse(fb[r].data(), fbSize[r]);
        const auto tcc = rtcp::TransportCcView::parse(*pkt);
        e.onTransportCcFeedback(*tcc, now + kPerFeedback + 40);
        allocs += sfu::test::allocationCount.load() - before;
        benchmark::DoNotOptimize(e.targetBitrate());
        now += kPerFeedback;
        ++round;
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.counters["ns/packet"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * kPerFeedback,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.SetItemsProcessed(state.iterations() * kPerFeedback);
}
BENCHMARK(BM_Feedback100);

} // namespace

BENCHMARK_MAIN();
