// Per-packet cost of parsing and of the per-consumer decision, on payloads
// shaped like real ones.
#include "protocol/codecs/Codecs.hpp"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdint>
#include <iterator>
#include <vector>

using namespace sfu::codecs;

namespace {

std::vector<uint8_t> vp8Packet(uint16_t pictureId, uint8_t tl0, uint8_t tid) {
    std::vector<uint8_t> p(1200, 0x11);
    p[0] = 0x90; // X, S
    p[1] = 0xE0; // I, L, T
    p[2] = static_cast<uint8_t>(0x80 | (pictureId >> 8));
    p[3] = static_cast<uint8_t>(pictureId);
    p[4] = tl0;
    p[5] = static_cast<uint8_t>(tid << 6);
    p[6] = 0xB1; // inter frame tag
    return p;
}

void BM_Vp8Parse(benchmark::State& state) {
    const auto p = vp8Packet(1234, 5, 1);
    for (auto _ : state) {
        auto d = vp8::PayloadDescriptor::parse(p.data(), p.size());
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_Vp8Parse);

void BM_Vp8ContextL1T3(benchmark::State& state) {
    vp8::EncodingContext ctx;
    ctx.setTargetTemporalLayer(1);
    const uint8_t tids[] = {0, 2, 1, 2};
    uint16_t id = 0;
    uint8_t tl0 = 0;
    auto p = vp8Packet(0, 0, 0);
    for (auto _ : state) {
        const uint8_t tid = tids[id & 3];
        tl0 = static_cast<uint8_t>(tl0 + (tid == 0 ? 1 : 0));
        p[2] = static_cast<uint8_t>(0x80 | ((id >> 8) & 0x7F));
        p[3] = static_cast<uint8_t>(id);
        p[4] = tl0;
        p[5] = static_cast<uint8_t>(tid << 6 | 0x20);
        const auto d = vp8::PayloadDescriptor::parse(p.data(), p.size());
        benchmark::DoNotOptimize(ctx.process(*d, p.data(), p.size()));
        id = static_cast<uint16_t>((id + 1) & 0x7FFF);
    }
}
BENCHMARK(BM_Vp8ContextL1T3);

void BM_Vp9ParseWithSs(benchmark::State& state) {
    std::vector<uint8_t> p = {0xAA, 0x80, 0x01, 0x00, 0x00, 0x58, 0x01, 0x40, 0x00,
                              0xB4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xD0,
                              0x04, 0x04, 0x04, 0x54, 0x01, 0x34, 0x02, 0x54, 0x01,
                              0x82, 0x49, 0x83, 0x42, 0x00, 0x15, 0xF0, 0x11, 0xF6};
    p.resize(1200, 0x22);
    for (auto _ : state) {
        auto d = vp9::PayloadDescriptor::parse(p.data(), p.size());
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_Vp9ParseWithSs);

void BM_H264StapA(benchmark::State& state) {
    const std::vector<uint8_t> p = {0x18, 0x00, 0x19, 0x67, 0x42, 0xC0, 0x1E, 0xD9, 0x00,
                                    0xA0, 0x2F, 0xF9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00,
                                    0x01, 0x00, 0x00, 0x03, 0x00, 0x3C, 0x8F, 0x16, 0x2E,
                                    0x48, 0x00, 0x04, 0x68, 0xCB, 0x8C, 0xB2};
    for (auto _ : state) {
        auto d = h264::PayloadDescriptor::parse(p.data(), p.size());
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_H264StapA);

void BM_DispatchOpus(benchmark::State& state) {
    std::vector<uint8_t> p(120, 0x33);
    p[0] = 0xFC;
    const Codec codec = codecFromMimeType("audio/opus");
    for (auto _ : state) {
        auto info = parsePayload(codec, p.data(), p.size());
        benchmark::DoNotOptimize(info);
    }
}
BENCHMARK(BM_DispatchOpus);

} // namespace

BENCHMARK_MAIN();
