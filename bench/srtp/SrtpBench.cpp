// Cost of SRTP on the media path: protecting a 1,200-byte video packet per
// crypto suite (what every forwarded packet costs), and protect + unprotect
// (what a packet costs end to end; unprotect alone is the difference).
// malloc, calloc and realloc are counted for the whole process, libsrtp and
// its crypto back end included; allocs_per_iter must stay 0.
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"

#include <array>
#include <atomic>
#include <benchmark/benchmark.h>
#include <cstring>
#include <srtp2/srtp.h>
#include <vector>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* memory, size_t size);
}

namespace {

std::atomic<size_t> allocationCount{0};

} // namespace

extern "C" void* malloc(size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(size);
}

extern "C" void* calloc(size_t count, size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(count, size);
}

extern "C" void* realloc(void* memory, size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(memory, size);
}

using namespace sfu::srtp;

namespace {

constexpr size_t kPacketLength = 1200;

std::vector<uint8_t> key(CryptoSuite suite) {
    std::vector<uint8_t> k(keyLength(suite));
    for (size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<uint8_t>(i * 31 + 7);
    }
    return k;
}

// A 1,200-byte RTP packet with one header extension, as a video sender
// produces.
void fillPacket(uint8_t* p, uint16_t seq) {
    const uint8_t header[] = {0x90, 0x60, 0,    0,    0, 0, 0x10, 0,    0x12, 0x34,
                              0x56, 0x78, 0xbe, 0xde, 0, 1, 0x10, 0xab, 0,    0};
    std::memcpy(p, header, sizeof(header));
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    for (size_t i = sizeof(header); i < kPacketLength; ++i) {
        p[i] = static_cast<uint8_t>(i);
    }
}

void reportAllocations(benchmark::State& state, size_t before) {
    state.counters["allocs_per_iter"] =
        benchmark::Counter(static_cast<double>(allocationCount.load() - before) /
                           static_cast<double>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPacketLength));
}

void BM_ProtectRtp(benchmark::State& state) {
    const auto suite = static_cast<CryptoSuite>(state.range(0));
    state.SetLabel(std::string(cryptoSuiteName(suite)));
    SrtpSession out(Direction::Outbound, suite, key(suite));
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    uint16_t seq = 0;
    // The first packet sets up the stream for the SSRC: not per packet.
    fillPacket(buffer.data(), seq++);
    size_t len = kPacketLength;
    out.protectRtp(buffer.data(), len, buffer.size());
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        // The sequence number advances as in a real stream; rewriting it
        // alone keeps the copy out of the measurement.
        buffer[2] = static_cast<uint8_t>(seq >> 8);
        buffer[3] = static_cast<uint8_t>(seq);
        ++seq;
        len = kPacketLength;
        if (!out.protectRtp(buffer.data(), len, buffer.size())) {
            state.SkipWithError("protect failed");
            break;
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
}

void BM_ProtectUnprotectRtp(benchmark::State& state) {
    const auto suite = static_cast<CryptoSuite>(state.range(0));
    state.SetLabel(std::string(cryptoSuiteName(suite)));
    SrtpSession out(Direction::Outbound, suite, key(suite));
    SrtpSession in(Direction::Inbound, suite, key(suite));
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    uint16_t seq = 0;
    fillPacket(buffer.data(), seq++);
    size_t len = kPacketLength;
    out.protectRtp(buffer.data(), len, buffer.size());
    in.unprotectRtp(buffer.data(), len);
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        // Unprotecting restores the plaintext, so only the sequence number
        // needs to change between rounds.
        buffer[2] = static_cast<uint8_t>(seq >> 8);
        buffer[3] = static_cast<uint8_t>(seq);
        ++seq;
        len = kPacketLength;
        if (!out.protectRtp(buffer.data(), len, buffer.size()) ||
            !in.unprotectRtp(buffer.data(), len)) {
            state.SkipWithError("round trip failed");
            break;
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
}

void suites(benchmark::internal::Benchmark* b) {
    for (const CryptoSuite suite : kAllCryptoSuites) {
        b->Arg(static_cast<int64_t>(suite));
    }
}

BENCHMARK(BM_ProtectRtp)->Apply(suites);
BENCHMARK(BM_ProtectUnprotectRtp)->Apply(suites);

} // namespace

int main(int argc, char** argv) {
    if (srtp_init() != srtp_err_status_ok) {
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    srtp_shutdown();
    return 0;
}
