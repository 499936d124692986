// Media path cost of the RTP packet view: parsing and rewriting a 1,200-byte
// video packet with mid, abs-send-time and transport-wide-cc extensions, as a
// consumer does for every packet it forwards. The global allocation functions
// are replaced with the unit tests' counting ones; every benchmark reports
// allocs_per_iter, which must stay 0.
#include "AllocationCounter.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqRewriter.hpp"
#include "protocol/rtp/Time.hpp"

#include <array>
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <cstring>

namespace {

using namespace sfu::rtp;

constexpr size_t kPacketSize = 1200;
constexpr size_t kBufferSize = 1500;
constexpr uint8_t kMidId = 1;
constexpr uint8_t kAbsSendTimeId = 4;
constexpr uint8_t kTransportCcId = 5;

// A browser-like VP8 packet of exactly kPacketSize bytes.
struct Fixture {
    std::array<uint8_t, kBufferSize> original{};
    size_t size = 0;

    Fixture() {
        const std::array<uint8_t, 3> absSendTime{0xc4, 0x6a, 0x0b};
        const std::array<uint8_t, 2> transportSeq{0x01, 0x87};
        const std::array<uint8_t, 1> mid{'0'};
        const ExtensionElement extensions[] = {
            {kAbsSendTimeId, absSendTime}, {kTransportCcId, transportSeq}, {kMidId, mid}};
        // 12 header + 16 extension block.
        std::array<uint8_t, kPacketSize - 28> payload{};
        for (size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<uint8_t>(i * 31 + 7);
        }
        RtpPacketSpec spec;
        spec.marker = true;
        spec.payloadType = 96;
        spec.sequenceNumber = 0x3a4c;
        spec.timestamp = 0x5d8c71f0;
        spec.ssrc = 0x4a5f1c3e;
        spec.extensions = extensions;
        spec.payload = payload;
        auto packet = RtpPacket::build(original.data(), original.size(), spec);
        if (!packet || packet->size() != kPacketSize) {
            std::abort();
        }
        size = packet->size();
    }
};

const Fixture& fixture() {
    static const Fixture instance;
    return instance;
}

// Swaps the producer's ids with the consumer's, so applying it on every
// iteration keeps the buffer cycling between two valid states.
ExtensionIdMap consumerMap() {
    ExtensionIdMap map;
    const std::pair<uint8_t, uint8_t> pairs[] = {
        {kMidId, 3}, {kAbsSendTimeId, 2}, {kTransportCcId, 7}};
    for (const auto& [producerId, consumerId] : pairs) {
        map.set(producerId, consumerId);
        map.set(consumerId, producerId);
    }
    return map;
}

void reportAllocations(benchmark::State& state, size_t before) {
    state.counters["allocs_per_iter"] =
        benchmark::Counter(static_cast<double>(sfu::test::allocationCount.load() - before),
                           benchmark::Counter::kAvgIterations);
}

void BM_Parse(benchmark::State& state) {
    std::array<uint8_t, kBufferSize> buffer = fixture().original;
    const size_t size = fixture().size;
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        auto packet = RtpPacket::parse(buffer.data(), size, buffer.size());
        benchmark::DoNotOptimize(packet);
        benchmark::DoNotOptimize(readAbsSendTime(packet->extension(kAbsSendTimeId)));
    }
    reportAllocations(state, before);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_Parse);

// Parse, then rewrite in place what a consumer changes: ssrc, sequence number,
// timestamp, payload type, extension ids, abs-send-time and transport seq.
void BM_ParseAndRewrite(benchmark::State& state) {
    std::array<uint8_t, kBufferSize> buffer = fixture().original;
    const size_t size = fixture().size;
    const ExtensionIdMap map = consumerMap();
    SeqRewriter seq(1000);
    seq.sync(0x3a4c);
    TimestampRewriter timestamps;
    timestamps.syncTo(0x5d8c71f0, 90000);
    uint64_t nowMs = 1700000000000ULL;
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        auto packet = RtpPacket::parse(buffer.data(), size, buffer.size());
        packet->setSsrc(0x01020304);
        packet->setSequenceNumber(seq.rewrite(0x3a4c).value_or(0));
        packet->setTimestamp(timestamps.rewrite(packet->timestamp()));
        packet->setPayloadType(101);
        packet->remapExtensionIds(map);
        const uint8_t absId = packet->hasExtension(2) ? 2 : kAbsSendTimeId;
        writeAbsSendTime(packet->extension(absId), absSendTimeFromMs(++nowMs));
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_ParseAndRewrite);

// The forwarding path with a copy per consumer: copy into the consumer's own
// buffer, then rewrite there.
void BM_CopyAndRewrite(benchmark::State& state) {
    std::array<uint8_t, kBufferSize> buffer = fixture().original;
    std::array<uint8_t, kBufferSize> out{};
    const size_t size = fixture().size;
    const ExtensionIdMap map = consumerMap();
    auto incoming = RtpPacket::parse(buffer.data(), size, buffer.size());
    uint64_t nowMs = 1700000000000ULL;
    uint16_t transportSeq = 0;
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        auto packet = incoming->copyTo(out.data(), out.size());
        packet->setSsrc(0x01020304);
        packet->setSequenceNumber(static_cast<uint16_t>(packet->sequenceNumber() + 17));
        packet->setTimestamp(packet->timestamp() + 3000);
        packet->setPayloadType(101);
        packet->remapExtensionIds(map);
        setAbsSendTime(*packet, 2, absSendTimeFromMs(++nowMs));
        setTransportWideSeq(*packet, 7, ++transportSeq);
        benchmark::DoNotOptimize(out.data());
    }
    reportAllocations(state, before);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_CopyAndRewrite);

// Growing the block: adds a fourth element, which moves the payload.
void BM_CopyAndAddExtension(benchmark::State& state) {
    std::array<uint8_t, kBufferSize> buffer = fixture().original;
    std::array<uint8_t, kBufferSize> out{};
    auto incoming = RtpPacket::parse(buffer.data(), fixture().size, buffer.size());
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        auto packet = incoming->copyTo(out.data(), out.size());
        setVideoOrientation(*packet, 11, {false, false, 90});
        benchmark::DoNotOptimize(out.data());
    }
    reportAllocations(state, before);
}
BENCHMARK(BM_CopyAndAddExtension);

void BM_RtxRoundTrip(benchmark::State& state) {
    std::array<uint8_t, kBufferSize> buffer = fixture().original;
    auto packet = RtpPacket::parse(buffer.data(), fixture().size, buffer.size());
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        packet->rtxEncode(97, 0x0a0b0c0d, 7);
        packet->rtxDecode(96, 0x4a5f1c3e);
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
}
BENCHMARK(BM_RtxRoundTrip);

void BM_SeqRewriterWithDrops(benchmark::State& state) {
    SeqRewriter rewriter(0);
    uint16_t input = 0;
    rewriter.sync(input);
    uint64_t sum = 0;
    const size_t before = sfu::test::allocationCount.load();
    for (auto _ : state) {
        if ((input & 7) == 3) {
            rewriter.drop(input);
        } else {
            sum += rewriter.rewrite(input).value_or(0);
        }
        ++input;
    }
    benchmark::DoNotOptimize(sum);
    reportAllocations(state, before);
}
BENCHMARK(BM_SeqRewriterWithDrops);

} // namespace

BENCHMARK_MAIN();
