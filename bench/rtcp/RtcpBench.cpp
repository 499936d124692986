// RTCP hot paths: walking a received compound (SR + SDES + NACK) through the
// views, and building a transport-cc feedback for 100 packets. Heap
// allocations are counted by replacing the global operator new; the parse
// path must make none.
#include "protocol/rtcp/Rtcp.hpp"

#include <benchmark/benchmark.h>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace {

uint64_t gAllocations = 0;

// Out of line so the compiler does not pair an inlined free() with the
// replaced operator new and flag a mismatch.
[[gnu::noinline]] void* countedAlloc(size_t size) {
    ++gAllocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}

[[gnu::noinline]] void countedFree(void* p) noexcept {
    std::free(p);
}

} // namespace

void* operator new(size_t size) {
    return countedAlloc(size);
}
void* operator new[](size_t size) {
    return countedAlloc(size);
}
void operator delete(void* p) noexcept {
    countedFree(p);
}
void operator delete[](void* p) noexcept {
    countedFree(p);
}
void operator delete(void* p, size_t) noexcept {
    countedFree(p);
}
void operator delete[](void* p, size_t) noexcept {
    countedFree(p);
}

using namespace sfu::rtcp;

namespace {

// SR with one report block, SDES with a 16-character CNAME, and a NACK of 3
// entries: a typical compound from a sending browser that lost a few packets.
std::vector<uint8_t> makeCompound() {
    std::vector<uint8_t> buf(512);
    CompoundWriter w(buf.data(), buf.size());
    const ReportBlock blocks[] = {{0x01932db4, 3, 17, 0x00014000, 120, 0xc1b47654, 6554}};
    w.advance(writeSenderReport(0x5d931534, {0xdd3ac1b476547171ULL, 577280, 3608, 577280}, blocks,
                                w.cursor(), w.room()));
    w.advance(writeSdesCname(0x5d931534, "t7mkYnCm46OcINy/", w.cursor(), w.room()));
    const NackItem items[] = {{2959, 0x0003}, {2990, 0x8001}, {3100, 0}};
    w.advance(writeNack(0x5d931534, 0x0330bdee, items, w.cursor(), w.room()));
    buf.resize(w.size());
    return buf;
}

void BM_ParseCompoundSrSdesNack(benchmark::State& state) {
    const auto buf = makeCompound();
    uint64_t allocs = 0;
    for (auto _ : state) {
        const uint64_t before = gAllocations;
        uint64_t sum = 0;
        const CompoundView compound(buf.data(), buf.size());
        if (!compound.valid()) {
            state.SkipWithError("invalid compound");
            break;
        }
        for (const PacketView pkt : compound) {
            switch (static_cast<PacketType>(pkt.type())) {
            case PacketType::SR:
                if (const auto sr = SenderReportView::parse(pkt)) {
                    sum += sr->ssrc() + sr->senderInfo().compactNtp();
                    for (const ReportBlock b : sr->reportBlocks()) {
                        sum += b.ssrc + b.highestSeq + b.jitter + b.lastSr + b.delaySinceLastSr;
                    }
                }
                break;
            case PacketType::SDES:
                if (const auto sdes = SdesView::parse(pkt)) {
                    for (const SdesChunkView c : *sdes) {
                        if (const auto cname = c.cname()) {
                            sum += c.ssrc() + cname->size();
                        }
                    }
                }
                break;
            case PacketType::RTPFB:
                if (const auto nack = NackView::parse(pkt)) {
                    for (const NackItem item : nack->items()) {
                        forEachNacked(item, [&](uint16_t seq) { sum += seq; });
                    }
                }
                break;
            default:
                break;
            }
        }
        benchmark::DoNotOptimize(sum);
        allocs += gAllocations - before;
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_ParseCompoundSrSdesNack);

// 100 packets from seq 1000, 2-8 ms apart, every 13th lost, one late arrival.
struct Arrival {
    uint16_t seq;
    int64_t us;
};

std::vector<Arrival> makeArrivals() {
    std::vector<Arrival> a;
    int64_t t = 123'456'789;
    for (uint16_t seq = 1000; seq < 1100; ++seq) {
        t += 2000 + (seq * 7919 % 6000);
        if (seq % 13 == 5) {
            continue;
        }
        a.push_back({seq, seq == 1040 ? t + 90'000 : t});
    }
    return a;
}

void BM_BuildTransportCc100(benchmark::State& state) {
    const auto arrivals = makeArrivals();
    uint8_t out[TransportCcBuilder::kMaxSize];
    uint64_t allocs = 0;
    size_t size = 0;
    for (auto _ : state) {
        const uint64_t before = gAllocations;
        TransportCcBuilder b(1, 0x11223344, arrivals.front().seq, arrivals.front().us, 7);
        for (const Arrival& a : arrivals) {
            if (b.addReceived(a.seq, a.us) != TransportCcBuilder::AddResult::Ok) {
                state.SkipWithError("add failed");
                break;
            }
        }
        size = b.serialize(out, sizeof out);
        benchmark::DoNotOptimize(out);
        allocs += gAllocations - before;
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.counters["bytes"] = static_cast<double>(size);
}
BENCHMARK(BM_BuildTransportCc100);

void BM_ParseTransportCc100(benchmark::State& state) {
    const auto arrivals = makeArrivals();
    TransportCcBuilder b(1, 0x11223344, arrivals.front().seq, arrivals.front().us, 7);
    for (const Arrival& a : arrivals) {
        b.addReceived(a.seq, a.us);
    }
    std::vector<uint8_t> buf(b.size());
    b.serialize(buf.data(), buf.size());
    uint64_t allocs = 0;
    for (auto _ : state) {
        const uint64_t before = gAllocations;
        int64_t sum = 0;
        const auto pkt = PacketView::parse(buf.data(), buf.size());
        if (const auto tcc = TransportCcView::parse(*pkt)) {
            for (const TccPacket p : *tcc) {
                sum += p.received() ? p.arrivalUs : p.seq;
            }
        }
        benchmark::DoNotOptimize(sum);
        allocs += gAllocations - before;
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ParseTransportCc100);

// The convenient value form, for comparison: it allocates.
void BM_DecodeCompoundValues(benchmark::State& state) {
    const auto buf = makeCompound();
    uint64_t allocs = 0;
    for (auto _ : state) {
        const uint64_t before = gAllocations;
        auto packets = decodeCompound(buf.data(), buf.size());
        benchmark::DoNotOptimize(packets);
        allocs += gAllocations - before;
    }
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_DecodeCompoundValues);

} // namespace

BENCHMARK_MAIN();
