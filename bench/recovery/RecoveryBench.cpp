// Loss recovery hot paths: NACK generation on a lossy stream, storing and
// finding packets, and building an RTX retransmission from the shared store.
#include "protocol/recovery/NackGenerator.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/recovery/Retransmission.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <benchmark/benchmark.h>
#include <cstdint>

using namespace sfu;
using namespace sfu::recovery;

namespace {

rtp::RtpPacket makePacket(uint8_t* buffer, size_t capacity, uint16_t seq) {
    std::array<uint8_t, 1100> payload{};
    payload[0] = static_cast<uint8_t>(seq);
    const std::array<uint8_t, 3> abs{1, 2, 3};
    const std::array<uint8_t, 2> tcc{static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
    const std::array<rtp::ExtensionElement, 2> extensions{rtp::ExtensionElement{1, abs},
                                                          rtp::ExtensionElement{3, tcc}};
    rtp::RtpPacketSpec spec;
    spec.payloadType = 96;
    spec.sequenceNumber = seq;
    spec.timestamp = seq * 3000u;
    spec.ssrc = 0x11223344;
    spec.extensions = extensions;
    spec.payload = payload;
    return *rtp::RtpPacket::build(buffer, capacity, spec);
}

// 2% loss, a collect() every 40 packets (20 ms at 2,000 packets/s).
void BM_NackOnPacketAndCollect(benchmark::State& state) {
    NackGenerator nack;
    std::array<uint16_t, 256> due{};
    uint32_t seq = 0;
    for (auto _ : state) {
        if (seq % 50 != 7) {
            benchmark::DoNotOptimize(
                nack.onPacket(static_cast<uint16_t>(seq), false, false, seq / 2));
        }
        if (seq % 40 == 0) {
            benchmark::DoNotOptimize(nack.collect(seq / 2, 50, due));
        }
        ++seq;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NackOnPacketAndCollect);

void BM_StoreAndFind(benchmark::State& state) {
    PacketStore store;
    std::array<uint8_t, 1500> buffer{};
    rtp::RtpPacket packet = makePacket(buffer.data(), buffer.size(), 0);
    uint32_t seq = 0;
    for (auto _ : state) {
        packet.setSequenceNumber(static_cast<uint16_t>(seq));
        store.store(packet, seq / 2);
        benchmark::DoNotOptimize(store.find(static_cast<uint16_t>(seq - 100), seq / 2));
        ++seq;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreAndFind);

void BM_BuildRtxRetransmission(benchmark::State& state) {
    PacketStore store;
    SendSeqMap map;
    std::array<uint8_t, 1500> buffer{};
    for (uint16_t s = 0; s < 1000; ++s) {
        store.store(makePacket(buffer.data(), buffer.size(), s), 0);
        map.record(static_cast<uint16_t>(s + 5000), s, 0, &store);
    }
    rtp::ExtensionIdMap ids;
    ids.set(1, 4);
    ids.set(3, 6);
    const Rewrite rewrite{0x55667788, 100, &ids};
    RtxStream rtx{0x0A0B0C0D, 97, 0};
    std::array<uint8_t, 1600> out{};
    uint16_t i = 0;
    for (auto _ : state) {
        const auto sent = map.lookup(static_cast<uint16_t>(5000 + i % 1000));
        const StoredPacket* stored = store.find(sent->inputSeq, 10);
        benchmark::DoNotOptimize(
            buildRetransmission(*stored, *sent, rewrite, &rtx, out.data(), out.size()));
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildRtxRetransmission);

} // namespace

BENCHMARK_MAIN();
