// Proves the recovery paths leave the heap alone once warmed up: this file
// replaces the global allocation functions of the whole test binary with
// counting ones, then runs a lossy stream through every unit.
#include "AllocationCounter.hpp"
#include "protocol/recovery/KeyFrameRequestManager.hpp"
#include "protocol/recovery/NackGenerator.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/recovery/RecoveryTestUtil.hpp"
#include "protocol/recovery/Retransmission.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <gtest/gtest.h>
#include <new>

namespace sfu::recovery::test {
namespace {

int* volatile escaped = nullptr;

TEST(RecoveryNoAllocation, CounterSeesAllocations) {
    const size_t before = sfu::test::allocationCount.load();
    escaped = new int(3);
    delete escaped;
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 1u);
}

// One receive leg (NACK generation), one producer store, one consumer
// (sequence map, NACK answers with RTX), and key frame requests, at 2,000
// packets per second with 2% loss.
struct Pipeline {
    NackGenerator nack;
    PacketStore store;
    SendSeqMap map;
    KeyFrameRequestManager keyFrames;
    rtp::ExtensionIdMap ids;
    Rewrite rewrite;
    RtxStream rtx{0xABCDEF01, 97, 0};
    std::array<uint8_t, 1600> in{};
    std::array<uint8_t, 1600> out{};
    std::array<uint16_t, 512> due{};
    std::array<uint8_t, 1500> rtcpBuf{};
    std::array<rtcp::NackItem, 128> items{};
    uint64_t checksum = 0;
    uint32_t seq = 0;

    Pipeline() {
        ids.set(1, 4);
        ids.set(3, 6);
        rewrite = Rewrite{0x55667788, 100, &ids};
    }

    void run(uint32_t packets) {
        for (uint32_t i = 0; i < packets; ++i, ++seq) {
            const uint64_t now = seq / 2;
            const auto s = static_cast<uint16_t>(seq);
            if (seq % 50 != 7) { // 2% lost on the way in
                rtp::RtpPacket packet = makePacket(in.data(), in.size(), s, 900);
                const ArrivalResult r = nack.onPacket(s, seq % 3000 == 0, false, now);
                if (r.keyFrameNeeded && keyFrames.request(now)) {
                    checksum += keyFrames.firSequenceNumber();
                }
                store.store(packet, now);
                map.record(static_cast<uint16_t>(s + 1000), s, 0, &store);
            }
            if (seq % 3000 == 0) {
                keyFrames.keyFrameReceived(now);
            }
            if (seq % 40 == 0) { // a 20 ms timer
                const size_t n = nack.collect(now, 30, due);
                std::span<const uint16_t> rest(due.data(), n);
                while (!rest.empty()) {
                    const NackWrite w = writeNackPacket(1, 2, rest, rtcpBuf.data(), rtcpBuf.size());
                    checksum += w.bytes;
                    rest = rest.subspan(w.seqs);
                }
                // The consumer's endpoint lost other packets on its own leg:
                // every 37th of the last 40 it was sent.
                size_t asked = 0;
                for (uint32_t back = 1; back <= 40 && back <= seq; ++back) {
                    const uint32_t sent = seq - back;
                    if (sent % 37 == 0 && sent % 50 != 7) {
                        due[asked++] = static_cast<uint16_t>(sent + 1000);
                    }
                }
                const size_t itemCount = rtcp::compressNack(std::span(due.data(), asked), items);
                respondToNack(std::span(items.data(), itemCount), map, now, 30,
                              [&](const StoredPacket& stored, const SentPacket& sent) {
                                  auto p = buildRetransmission(stored, sent, rewrite, &rtx,
                                                               out.data(), out.size());
                                  checksum += p ? p->size() : 0;
                              });
                if (keyFrames.tick(now)) {
                    checksum += keyFrames.firSequenceNumber();
                }
            }
            if (const StoredPacket* p = store.find(static_cast<uint16_t>(s - 100), now)) {
                checksum += p->bytes().size();
            }
        }
    }
};

TEST(RecoveryNoAllocation, SteadyState) {
    auto pipeline = std::make_unique<Pipeline>();
    // Warm-up: the store grows to the size the rate needs.
    pipeline->run(10000);
    const size_t slots = pipeline->store.slotCount();

    const size_t before = sfu::test::allocationCount.load();
    pipeline->run(100000); // 50 s of media, wrapping the sequence numbers
    const size_t count = sfu::test::allocationCount.load() - before;

    EXPECT_EQ(count, 0u);
    EXPECT_EQ(pipeline->store.slotCount(), slots);
    EXPECT_GT(pipeline->nack.counters().nackPacketCount, 0u);
    EXPECT_GT(pipeline->nack.counters().repaired + pipeline->nack.counters().givenUp[0] +
                  pipeline->nack.counters().givenUp[1],
              0u);
    EXPECT_GT(pipeline->rtx.nextSeq, 0);
    EXPECT_NE(pipeline->checksum, 0u);
}

} // namespace
} // namespace sfu::recovery::test
