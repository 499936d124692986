#include "protocol/recovery/PacketStore.hpp"

#include "protocol/recovery/RecoveryTestUtil.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace sfu;
using namespace sfu::recovery;
using namespace sfu::recovery::test;

namespace {

StoreResult storeSeq(PacketStore& store, uint16_t seq, uint64_t nowMs, size_t payload = 200) {
    OwnedPacket packet(seq, payload);
    return store.store(packet.view(), nowMs);
}

bool holds(const PacketStore& store, uint16_t seq, uint64_t nowMs) {
    const StoredPacket* found = store.find(seq, nowMs);
    if (found == nullptr) {
        return false;
    }
    EXPECT_EQ(found->sequenceNumber(), seq);
    EXPECT_EQ(found->bytes().size(), OwnedPacket(seq).size);
    return found->bytes().size() == OwnedPacket(seq).size &&
           std::equal(found->bytes().begin(), found->bytes().end(),
                      OwnedPacket(seq).buffer.begin());
}

} // namespace

TEST(PacketStore, StoresAndFinds) {
    PacketStore store;
    EXPECT_EQ(store.find(5, 0), nullptr);
    for (uint16_t s = 1000; s < 1100; ++s) {
        EXPECT_EQ(storeSeq(store, s, s - 1000), StoreResult::Stored);
    }
    for (uint16_t s = 1000; s < 1100; ++s) {
        EXPECT_TRUE(holds(store, s, 200)) << s;
    }
    const StoredPacket* p = store.find(1050, 200);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->storedMs(), 50u);
    EXPECT_EQ(store.find(999, 200), nullptr);
    EXPECT_EQ(store.find(1100, 200), nullptr);
    EXPECT_EQ(store.counters().stored, 100u);
}

TEST(PacketStore, TimeBound) {
    PacketStore store; // maxAgeMs = 1000
    storeSeq(store, 1, 0);
    storeSeq(store, 2, 500);
    EXPECT_NE(store.find(1, 1000), nullptr);
    EXPECT_EQ(store.find(1, 1001), nullptr);
    EXPECT_NE(store.find(2, 1500), nullptr);
    EXPECT_EQ(store.find(2, 1501), nullptr);

    PacketStoreConfig config;
    config.maxAgeMs = 300;
    PacketStore shorter(config);
    storeSeq(shorter, 1, 0);
    EXPECT_NE(shorter.find(1, 300), nullptr);
    EXPECT_EQ(shorter.find(1, 301), nullptr);
}

TEST(PacketStore, SlotBound) {
    PacketStoreConfig config;
    config.maxSlots = 64;
    config.initialSlots = 64;
    PacketStore store(config);
    const size_t memory = store.memoryBytes();
    EXPECT_EQ(memory, PacketStore::maxMemoryBytes(config));
    for (uint16_t s = 0; s < 200; ++s) {
        storeSeq(store, s, 0);
    }
    EXPECT_EQ(store.slotCount(), 64u);
    EXPECT_EQ(store.memoryBytes(), memory);
    for (uint16_t s = 0; s < 136; ++s) {
        EXPECT_EQ(store.find(s, 0), nullptr) << s;
    }
    for (uint16_t s = 136; s < 200; ++s) {
        EXPECT_TRUE(holds(store, s, 0)) << s;
    }
    // Everything evicted was younger than maxAgeMs: the bounds were too small.
    EXPECT_EQ(store.counters().evictedEarly, 136u);
    EXPECT_EQ(store.counters().grows, 0u);
}

TEST(PacketStore, GrowsOnlyAsFarAsTheRateNeeds) {
    PacketStoreConfig config; // 64 initial, 2048 max, 1000 ms
    // 50 packets/s (audio): 51 packets within a second fit in 64 slots.
    PacketStore audio(config);
    for (uint32_t i = 0; i < 500; ++i) {
        storeSeq(audio, static_cast<uint16_t>(i), i * 20);
    }
    EXPECT_EQ(audio.slotCount(), 64u);
    EXPECT_EQ(audio.counters().grows, 0u);
    // 2,000 packets/s (video): grows to 2048 and keeps a full second.
    PacketStore video(config);
    for (uint32_t i = 0; i < 6000; ++i) {
        storeSeq(video, static_cast<uint16_t>(i), i / 2);
    }
    EXPECT_EQ(video.slotCount(), 2048u);
    EXPECT_EQ(video.counters().evictedEarly, 0u);
    EXPECT_EQ(video.memoryBytes(), PacketStore::maxMemoryBytes(config));
    const uint64_t now = 5999 / 2;
    for (uint32_t i = 6000 - 2000; i < 6000; ++i) {
        EXPECT_TRUE(holds(video, static_cast<uint16_t>(i), now)) << i;
    }
    // Packets kept across every doubling are intact.
    PacketStore growing(config);
    for (uint16_t s = 0; s < 1000; ++s) {
        storeSeq(growing, s, 0);
    }
    EXPECT_EQ(growing.slotCount(), 1024u);
    EXPECT_EQ(growing.counters().grows, 4u);
    for (uint16_t s = 0; s < 1000; ++s) {
        EXPECT_TRUE(holds(growing, s, 1000)) << s;
    }
}

TEST(PacketStore, SequenceWrap) {
    PacketStore store;
    for (uint32_t i = 0; i < 300; ++i) {
        EXPECT_EQ(storeSeq(store, static_cast<uint16_t>(65400 + i), 0), StoreResult::Stored);
    }
    for (uint32_t i = 0; i < 300; ++i) {
        EXPECT_TRUE(holds(store, static_cast<uint16_t>(65400 + i), 0)) << i;
    }
    EXPECT_EQ(store.counters().restarts, 0u);
}

TEST(PacketStore, ReorderedAndOld) {
    PacketStoreConfig config;
    config.maxSlots = 64;
    PacketStore store(config);
    storeSeq(store, 10, 0);
    storeSeq(store, 12, 0);
    EXPECT_EQ(storeSeq(store, 11, 0), StoreResult::Stored);
    EXPECT_EQ(storeSeq(store, 11, 0), StoreResult::Duplicate);
    for (uint16_t s = 10; s <= 12; ++s) {
        EXPECT_TRUE(holds(store, s, 0));
    }
    for (uint16_t s = 13; s <= 70; ++s) {
        storeSeq(store, s, 0);
    }
    // 65 behind with 64 slots: would evict a newer packet.
    EXPECT_EQ(storeSeq(store, 5, 0), StoreResult::TooOld);
    EXPECT_EQ(storeSeq(store, 7, 0), StoreResult::Stored);
    EXPECT_TRUE(holds(store, 7, 0));
    EXPECT_TRUE(holds(store, 70, 0));
    EXPECT_EQ(store.counters().restarts, 0u);
    EXPECT_EQ(store.counters().tooOld, 1u);
    EXPECT_EQ(store.counters().duplicates, 1u);
}

TEST(PacketStore, RestartForward) {
    PacketStore store;
    for (uint16_t s = 1000; s < 1100; ++s) {
        storeSeq(store, s, 0);
    }
    EXPECT_EQ(storeSeq(store, 20000, 10), StoreResult::Stored);
    EXPECT_EQ(store.counters().restarts, 1u);
    EXPECT_EQ(store.find(1050, 10), nullptr);
    EXPECT_TRUE(holds(store, 20000, 10));
    // A small jump is loss, not a restart: older packets stay.
    storeSeq(store, 20500, 10);
    EXPECT_EQ(store.counters().restarts, 1u);
    EXPECT_TRUE(holds(store, 20000, 10));
}

TEST(PacketStore, RestartBackward) {
    PacketStore store;
    for (uint16_t s = 30000; s < 30100; ++s) {
        storeSeq(store, s, 0);
    }
    // One stray packet far behind is dropped, the store kept.
    EXPECT_EQ(storeSeq(store, 5000, 0), StoreResult::TooOld);
    EXPECT_TRUE(holds(store, 30050, 0));
    // Two consecutive ones mean the sender restarted lower.
    EXPECT_EQ(storeSeq(store, 5001, 0), StoreResult::Stored);
    EXPECT_EQ(store.counters().restarts, 1u);
    EXPECT_EQ(store.find(30050, 0), nullptr);
    EXPECT_TRUE(holds(store, 5001, 0));
    EXPECT_EQ(storeSeq(store, 5002, 0), StoreResult::Stored);
}

TEST(PacketStore, TooLargeNotStored) {
    PacketStoreConfig config;
    config.slotSize = 500;
    PacketStore store(config);
    EXPECT_EQ(storeSeq(store, 1, 0, 1000), StoreResult::TooLarge);
    EXPECT_EQ(store.find(1, 0), nullptr);
    EXPECT_EQ(storeSeq(store, 2, 0, 400), StoreResult::Stored);
    EXPECT_EQ(store.counters().tooLarge, 1u);
}

TEST(PacketStore, ClearDropsEverything) {
    PacketStore store;
    storeSeq(store, 7, 0);
    store.clear();
    EXPECT_EQ(store.find(7, 0), nullptr);
    EXPECT_EQ(storeSeq(store, 7, 0), StoreResult::Stored);
    EXPECT_NE(store.find(7, 0), nullptr);
}

TEST(PacketStore, MemoryFigures) {
    const PacketStoreConfig config;
    const size_t max = PacketStore::maxMemoryBytes(config);
    // 2048 slots of 1500 bytes plus their 24-byte descriptors.
    EXPECT_EQ(max, sizeof(PacketStore) + 2048u * (1500u + sizeof(StoredPacket)));
    EXPECT_EQ(sizeof(StoredPacket), 24u);
    PacketStore store(config);
    EXPECT_EQ(store.memoryBytes(), sizeof(PacketStore) + 64u * (1500u + sizeof(StoredPacket)));
}
