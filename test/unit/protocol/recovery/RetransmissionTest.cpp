#include "protocol/recovery/Retransmission.hpp"

#include "protocol/recovery/PacketStore.hpp"
#include "protocol/recovery/RecoveryTestUtil.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <array>
#include <gtest/gtest.h>
#include <map>
#include <vector>

using namespace sfu;
using namespace sfu::recovery;
using namespace sfu::recovery::test;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t kConsumerSsrc = 0xC0C0C0C0;
constexpr uint8_t kConsumerPt = 101;
constexpr uint32_t kRtxSsrc = 0xD0D0D0D0;
constexpr uint8_t kRtxPt = 102;

// One producer stream fanned out to a consumer whose numbering is offset
// and which skips some packets (as a layer switch would), written the way a
// consumer writes its first send, independently of the recovery helpers.
struct Fixture {
    PacketStore store;
    SendSeqMap map;
    rtp::ExtensionIdMap ids;
    Rewrite rewrite;
    std::map<uint16_t, Bytes> firstSends; // by output seq
    uint16_t nextOut = 60000;

    Fixture() {
        ids.set(1, 5);
        ids.set(3, 12); // forces the two-byte form on the consumer side
        rewrite = Rewrite{kConsumerSsrc, kConsumerPt, &ids};
    }

    void forward(uint16_t inSeq, uint64_t nowMs, uint32_t tsOffset = 0) {
        OwnedPacket in(inSeq);
        rtp::RtpPacket producer = in.view();
        store.store(producer, nowMs);
        Bytes out(1600);
        auto copy = producer.copyTo(out.data(), out.size());
        ASSERT_TRUE(copy);
        copy->setSsrc(kConsumerSsrc);
        copy->setSequenceNumber(nextOut);
        copy->setPayloadType(kConsumerPt);
        copy->setTimestamp(copy->timestamp() + tsOffset);
        // Where a layered consumer ends its pictures, whatever the
        // producer's marker said.
        copy->setMarker(inSeq % 4 == 0);
        ASSERT_TRUE(copy->remapExtensionIds(ids));
        out.resize(copy->size());
        firstSends[nextOut] = out;
        map.record(nextOut, inSeq, tsOffset, &store, copy->marker());
        ++nextOut;
    }
};

Bytes nackFor(const std::vector<uint16_t>& seqs) {
    const auto items = rtcp::compressNack(seqs);
    Bytes buf(1500);
    buf.resize(rtcp::writeNack(1, kConsumerSsrc, items, buf.data(), buf.size()));
    return buf;
}

} // namespace

TEST(SendSeqMap, MapsOutputToInput) {
    SendSeqMap map;
    EXPECT_FALSE(map.lookup(0));
    for (uint32_t i = 0; i < 3000; ++i) {
        map.record(static_cast<uint16_t>(65000 + i), static_cast<uint16_t>(100 + i * 2), i * 10);
    }
    const uint16_t newest = static_cast<uint16_t>(65000 + 2999);
    for (uint32_t back = 0; back < SendSeqMap::kSize; ++back) {
        const auto sent = map.lookup(static_cast<uint16_t>(newest - back));
        ASSERT_TRUE(sent) << back;
        const uint32_t i = 2999 - back;
        EXPECT_EQ(sent->inputSeq, static_cast<uint16_t>(100 + i * 2));
        EXPECT_EQ(sent->timestampOffset, i * 10);
    }
    EXPECT_FALSE(map.lookup(static_cast<uint16_t>(newest - SendSeqMap::kSize)));
    EXPECT_FALSE(map.lookup(static_cast<uint16_t>(newest + 1)));
    // A jump leaves the skipped numbers unmapped even though their slots
    // hold older entries.
    map.record(static_cast<uint16_t>(newest + 10), 7);
    EXPECT_FALSE(map.lookup(static_cast<uint16_t>(newest + 5)));
    EXPECT_TRUE(map.lookup(static_cast<uint16_t>(newest + 10)));
    EXPECT_TRUE(map.lookup(newest));
    // Jumping all the way round the 16-bit space never brings back an entry
    // recorded 65536 numbers earlier.
    SendSeqMap jumps;
    jumps.record(5, 50);
    uint16_t out = 5;
    for (int i = 0; i < 66; ++i) {
        out = static_cast<uint16_t>(out + 1000);
        jumps.record(out, 1);
        EXPECT_EQ(jumps.lookup(5).has_value(), i == 0) << i; // 1000 back: still held
    }
    jumps.record(static_cast<uint16_t>(out + 500), 2); // window now covers 5 again
    EXPECT_FALSE(jumps.lookup(5));
    map.clear();
    EXPECT_FALSE(map.lookup(newest));
    EXPECT_LT(SendSeqMap::memoryBytes(), 13u * 1024u);
}

TEST(SendSeqMap, RemembersTheStoreOfEachRun) {
    // A simulcast consumer sends runs from one producer stream after
    // another; every packet must be resent from the store it came from.
    std::array<PacketStore, 3> stores;
    SendSeqMap map;
    uint16_t out = 65530;
    for (int run = 0; run < 3; ++run) {
        for (int i = 0; i < 10; ++i) {
            map.record(out++, static_cast<uint16_t>(i), 0, &stores[run]);
        }
    }
    for (uint16_t back = 1; back <= 30; ++back) {
        const auto sent = map.lookup(static_cast<uint16_t>(out - back));
        ASSERT_TRUE(sent);
        EXPECT_EQ(sent->store, &stores[2 - (back - 1) / 10]) << back;
    }
    // A late packet of an older run does not start a run of its own.
    map.record(static_cast<uint16_t>(out - 15), 99, 0, &stores[0]);
    EXPECT_EQ(map.lookup(static_cast<uint16_t>(out - 15))->store, &stores[1]);
    EXPECT_EQ(map.lookup(static_cast<uint16_t>(out - 5))->store, &stores[2]);
    // Past kMaxRuns switches, the oldest runs are forgotten and their packets
    // can no longer be resent even though the ring still maps them.
    for (size_t run = 0; run < SendSeqMap::kMaxRuns; ++run) {
        map.record(out++, 0, 0, &stores[run % 2]);
    }
    EXPECT_FALSE(map.lookup(static_cast<uint16_t>(out - SendSeqMap::kMaxRuns - 1)));
    EXPECT_EQ(map.lookup(static_cast<uint16_t>(out - 1))->store,
              &stores[(SendSeqMap::kMaxRuns - 1) % 2]);
}

TEST(Retransmission, ResendIsExactlyTheFirstSend) {
    Fixture f;
    for (uint16_t s = 500; s < 600; ++s) {
        if (s % 10 == 3) {
            continue; // not forwarded to this consumer
        }
        f.forward(s, 0, s < 550 ? 0 : 123456);
    }
    std::vector<uint16_t> asked;
    for (const auto& [out, bytes] : f.firstSends) {
        asked.push_back(out);
    }
    const Bytes nack = nackFor(asked);
    const auto view = rtcp::NackView::parse(*rtcp::CompoundView(nack.data(), nack.size()).begin());
    ASSERT_TRUE(view);
    size_t checked = 0;
    const NackResponse r = respondToNack(
        view->items(), f.map, 100, 0, [&](const StoredPacket& stored, const SentPacket& sent) {
            uint8_t buf[1600];
            auto packet = buildRetransmission(stored, sent, f.rewrite, nullptr, buf, sizeof(buf));
            ASSERT_TRUE(packet);
            const Bytes got(packet->data(), packet->data() + packet->size());
            EXPECT_EQ(got, f.firstSends.at(sent.outputSeq)) << sent.outputSeq;
            ++checked;
        });
    EXPECT_EQ(r.requested, asked.size());
    EXPECT_EQ(r.resent, asked.size());
    EXPECT_EQ(checked, asked.size());
    EXPECT_EQ(r.unknown + r.notStored + r.throttled, 0u);
}

TEST(Retransmission, RtxDecapsulatesToTheFirstSend) {
    Fixture f;
    for (uint16_t s = 65530; s != 10; ++s) {
        f.forward(s, 0, 777);
    }
    RtxStream rtx{kRtxSsrc, kRtxPt, 65535};
    const NackResponse r = respondToNack(
        rtcp::compressNack(std::vector<uint16_t>{static_cast<uint16_t>(f.nextOut - 3),
                                                 static_cast<uint16_t>(f.nextOut - 2)}),
        f.map, 10, 0, [&](const StoredPacket& stored, const SentPacket& sent) {
            uint8_t buf[1600];
            const uint16_t rtxSeq = rtx.nextSeq;
            auto packet = buildRetransmission(stored, sent, f.rewrite, &rtx, buf, sizeof(buf));
            ASSERT_TRUE(packet);
            EXPECT_EQ(packet->ssrc(), kRtxSsrc);
            EXPECT_EQ(packet->payloadType(), kRtxPt);
            EXPECT_EQ(packet->sequenceNumber(), rtxSeq);
            // OSN: the consumer's original sequence number.
            EXPECT_EQ(packet->payload()[0] << 8 | packet->payload()[1], sent.outputSeq);
            const Bytes& first = f.firstSends.at(sent.outputSeq);
            EXPECT_EQ(packet->size(), first.size() + 2);
            auto parsed = rtp::RtpPacket::parse(buf, packet->size(), sizeof(buf));
            ASSERT_TRUE(parsed);
            ASSERT_TRUE(parsed->rtxDecode(kConsumerPt, kConsumerSsrc));
            EXPECT_EQ(Bytes(parsed->data(), parsed->data() + parsed->size()), first);
        });
    EXPECT_EQ(r.resent, 2u);
    EXPECT_EQ(rtx.nextSeq, 1); // 65535 then 0, wrapping
}

TEST(Retransmission, CountsPacketsNoLongerAvailable) {
    Fixture f;
    for (uint16_t s = 0; s < 10; ++s) {
        f.forward(s, s < 5 ? 0 : 600);
    }
    const uint16_t first = 60000;
    std::vector<uint16_t> asked;
    for (uint16_t i = 0; i < 10; ++i) {
        asked.push_back(static_cast<uint16_t>(first + i));
    }
    asked.push_back(static_cast<uint16_t>(first + 20));   // never sent
    asked.push_back(static_cast<uint16_t>(first - 2000)); // too old for the map
    size_t calls = 0;
    // At 1200 ms the first five (stored at 0) are past the 1 s bound.
    const NackResponse r = respondToNack(rtcp::compressNack(asked), f.map, 1200, 0,
                                         [&](const StoredPacket&, const SentPacket&) { ++calls; });
    EXPECT_EQ(r.requested, 12u);
    EXPECT_EQ(r.resent, 5u);
    EXPECT_EQ(r.notStored, 5u);
    EXPECT_EQ(r.unknown, 2u);
    EXPECT_EQ(calls, 5u);
}

TEST(Retransmission, RepeatedNacksAreThrottled) {
    Fixture f;
    for (uint16_t s = 0; s < 5; ++s) {
        f.forward(s, 0);
    }
    const auto items = rtcp::compressNack(std::vector<uint16_t>{60001, 60002});
    auto count = [](const StoredPacket&, const SentPacket&) {};
    EXPECT_EQ(respondToNack(items, f.map, 100, 50, count).resent, 2u);
    const NackResponse again = respondToNack(items, f.map, 120, 50, count);
    EXPECT_EQ(again.resent, 0u);
    EXPECT_EQ(again.throttled, 2u);
    EXPECT_EQ(respondToNack(items, f.map, 150, 50, count).resent, 2u);
    // Recording the number anew (not expected in practice) resets it.
    f.map.record(60001, 1);
    EXPECT_TRUE(f.map.allowResend(60001, 151, 50));
}

TEST(Retransmission, SmallBufferFails) {
    Fixture f;
    f.forward(1, 0);
    const auto sent = f.map.lookup(60000);
    ASSERT_TRUE(sent);
    const StoredPacket* stored = f.store.find(1, 0);
    ASSERT_NE(stored, nullptr);
    const size_t firstSize = f.firstSends.at(60000).size();
    std::vector<uint8_t> buf(firstSize + 1);
    RtxStream rtx{kRtxSsrc, kRtxPt, 5};
    EXPECT_FALSE(buildRetransmission(*stored, *sent, f.rewrite, &rtx, buf.data(), buf.size()));
    EXPECT_EQ(rtx.nextSeq, 5); // an RTX number is used only by a packet built
    buf.resize(firstSize + 2);
    EXPECT_TRUE(buildRetransmission(*stored, *sent, f.rewrite, &rtx, buf.data(), buf.size()));
    EXPECT_EQ(rtx.nextSeq, 6);
    EXPECT_FALSE(buildRetransmission(*stored, *sent, f.rewrite, nullptr, buf.data(), 20));
}
