// Sender-side retransmission buffer for one producer stream, stored once and
// shared by every consumer of that stream (each consumer keeps only a small
// SendSeqMap from its own sequence numbers to these).
//
// Slots are indexed by sequence number modulo the ring size, so store and
// find are O(1) and never search. The ring starts small and doubles, up to
// maxSlots, only when it would otherwise evict a packet younger than
// maxAgeMs: an audio stream stays at a few dozen slots, a 2,000 packet/s
// video stream grows to 2,048 once and then never allocates again.
#pragma once

#include "protocol/rtp/RtpPacket.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace sfu::recovery {

struct PacketStoreConfig {
    // Upper bound on the ring (rounded up to a power of two).
    size_t maxSlots = 2048;
    // Ring size before any growth (rounded up to a power of two, at most
    // maxSlots). Set it to maxSlots to allocate everything up front.
    size_t initialSlots = 64;
    // Bytes per slot; larger packets are not stored (and counted).
    size_t slotSize = 1500;
    // Stored packets older than this are never returned: a retransmission
    // that late would arrive after the receiver gave up on it.
    uint32_t maxAgeMs = 1000;
};

class StoredPacket {
public:
    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint16_t sequenceNumber() const { return seq_; }
    uint64_t storedMs() const { return storedMs_; }

private:
    friend class PacketStore;

    uint8_t* data_ = nullptr;
    uint64_t storedMs_ = 0;
    uint32_t generation_ = 0;
    uint16_t seq_ = 0;
    uint16_t size_ = 0; // 0 when the slot never held a packet
};

enum class StoreResult : uint8_t {
    Stored,
    TooLarge,  // larger than slotSize
    TooOld,    // further behind the newest packet than the ring reaches
    Duplicate, // the same sequence number is already held
};

struct PacketStoreCounters {
    uint64_t stored = 0;
    uint64_t tooLarge = 0;
    uint64_t tooOld = 0;
    uint64_t duplicates = 0;
    uint64_t restarts = 0;
    // Packets overwritten while still younger than maxAgeMs because the ring
    // was already at maxSlots: the stream's rate exceeds what the bounds hold.
    uint64_t evictedEarly = 0;
    uint64_t grows = 0;
};

class PacketStore {
public:
    explicit PacketStore(const PacketStoreConfig& config = {});

    // Copies the packet into its slot. A forward jump of maxSlots or more, or
    // two consecutive packets that far behind, restart the stream: all
    // previously stored packets are dropped at once.
    StoreResult store(const rtp::RtpPacket& packet, uint64_t nowMs);

    // The packet with this sequence number, or nullptr when it is not held or
    // is older than maxAgeMs. Valid until the next store() or clear().
    const StoredPacket* find(uint16_t seq, uint64_t nowMs) const;

    // Drops every stored packet (keeps the memory).
    void clear();

    size_t slotCount() const { return mask_ + 1; }
    const PacketStoreConfig& config() const { return config_; }
    const PacketStoreCounters& counters() const { return counters_; }

    // Bytes held now, the object included.
    size_t memoryBytes() const { return sizeof(*this) + slotCount() * bytesPerSlot(); }
    // Bytes held once grown to maxSlots.
    static size_t maxMemoryBytes(const PacketStoreConfig& config);

private:
    size_t bytesPerSlot() const { return config_.slotSize + sizeof(StoredPacket); }
    bool isLive(const StoredPacket& slot) const {
        return slot.size_ != 0 && slot.generation_ == generation_;
    }
    bool isFresh(const StoredPacket& slot, uint64_t nowMs) const {
        return isLive(slot) &&
               (nowMs < slot.storedMs_ || nowMs - slot.storedMs_ <= config_.maxAgeMs);
    }
    void allocate(size_t slots);
    // Doubles the ring, keeping the live packets of the current window.
    void grow(uint64_t nowMs);
    void restart(uint16_t seq);

    PacketStoreConfig config_;
    size_t maxSlots_ = 0;
    size_t mask_ = 0;
    std::unique_ptr<uint8_t[]> data_;
    std::unique_ptr<StoredPacket[]> slots_;
    // Bumped by a restart: slots of an older generation read as empty, so a
    // restart costs O(1) instead of a sweep.
    uint32_t generation_ = 1;
    bool started_ = false;
    uint16_t newest_ = 0;
    bool hasProbation_ = false;
    uint16_t probationSeq_ = 0;
    PacketStoreCounters counters_;
};

} // namespace sfu::recovery
