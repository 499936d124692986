#include "protocol/recovery/PacketStore.hpp"

#include "protocol/rtp/SeqNum.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sfu::recovery {

namespace {

size_t roundUp(size_t n) {
    return std::bit_ceil(std::max<size_t>(n, 1));
}

} // namespace

PacketStore::PacketStore(const PacketStoreConfig& config) : config_(config) {
    // Sequence numbers are 16 bits: a larger ring could not be indexed by
    // them unambiguously.
    maxSlots_ = std::min<size_t>(roundUp(config.maxSlots), 32768);
    config_.maxSlots = maxSlots_;
    config_.slotSize = std::min(config_.slotSize, rtp::kMaxPacketSize);
    allocate(std::min(roundUp(config.initialSlots), maxSlots_));
}

size_t PacketStore::maxMemoryBytes(const PacketStoreConfig& config) {
    const size_t slots = std::min<size_t>(roundUp(config.maxSlots), 32768);
    const size_t slotSize = std::min(config.slotSize, rtp::kMaxPacketSize);
    return sizeof(PacketStore) + slots * (slotSize + sizeof(StoredPacket));
}

void PacketStore::allocate(size_t slots) {
    // The packet bytes are written before they are ever read, so they are
    // left uninitialized (no page is touched until a slot is used).
    data_ = std::make_unique_for_overwrite<uint8_t[]>(slots * config_.slotSize);
    slots_ = std::make_unique<StoredPacket[]>(slots);
    for (size_t i = 0; i < slots; ++i) {
        slots_[i].data_ = data_.get() + i * config_.slotSize;
    }
    mask_ = slots - 1;
}

void PacketStore::grow(uint64_t nowMs) {
    auto oldData = std::move(data_);
    auto oldSlots = std::move(slots_);
    const size_t oldCount = mask_ + 1;
    allocate(oldCount * 2);
    ++counters_.grows;
    const size_t window = mask_ + 1;
    for (size_t i = 0; i < oldCount; ++i) {
        const StoredPacket& old = oldSlots[i];
        if (!isFresh(old, nowMs)) {
            continue;
        }
        // Packets outside the new window would collide with newer ones.
        const int32_t behind = rtp::seqDiff(newest_, old.seq_);
        if (behind < 0 || static_cast<size_t>(behind) >= window) {
            continue;
        }
        StoredPacket& slot = slots_[old.seq_ & mask_];
        uint8_t* data = slot.data_;
        slot = old;
        slot.data_ = data;
        std::memcpy(data, old.data_, old.size_);
    }
}

void PacketStore::restart(uint16_t seq) {
    ++generation_;
    ++counters_.restarts;
    newest_ = seq;
    hasProbation_ = false;
}

void PacketStore::clear() {
    ++generation_;
    started_ = false;
    hasProbation_ = false;
}

StoreResult PacketStore::store(const rtp::RtpPacket& packet, uint64_t nowMs) {
    if (packet.size() > config_.slotSize) {
        ++counters_.tooLarge;
        return StoreResult::TooLarge;
    }
    const uint16_t seq = packet.sequenceNumber();
    if (!started_) {
        started_ = true;
        newest_ = seq;
    } else {
        const int32_t diff = rtp::seqDiff(seq, newest_);
        if (diff > 0) {
            if (static_cast<size_t>(diff) >= maxSlots_) {
                restart(seq);
            } else {
                newest_ = seq;
                hasProbation_ = false;
            }
        } else if (static_cast<size_t>(-diff) > mask_) {
            // Storing it would evict a newer packet. Far enough behind that
            // it cannot be reordering, two in a row mean a restart.
            if (static_cast<size_t>(-diff) >= maxSlots_ && hasProbation_ && seq == probationSeq_) {
                restart(seq);
            } else {
                if (static_cast<size_t>(-diff) >= maxSlots_) {
                    hasProbation_ = true;
                    probationSeq_ = static_cast<uint16_t>(seq + 1);
                }
                ++counters_.tooOld;
                return StoreResult::TooOld;
            }
        }
    }

    StoredPacket* slot = &slots_[seq & mask_];
    if (isFresh(*slot, nowMs) && slot->seq_ == seq) {
        ++counters_.duplicates;
        return StoreResult::Duplicate;
    }
    while (isFresh(*slot, nowMs) && slot->seq_ != seq) {
        if (mask_ + 1 >= maxSlots_) {
            ++counters_.evictedEarly;
            break;
        }
        grow(nowMs);
        slot = &slots_[seq & mask_];
    }
    std::memcpy(slot->data_, packet.data(), packet.size());
    slot->size_ = static_cast<uint16_t>(packet.size());
    slot->seq_ = seq;
    slot->storedMs_ = nowMs;
    slot->generation_ = generation_;
    ++counters_.stored;
    return StoreResult::Stored;
}

const StoredPacket* PacketStore::find(uint16_t seq, uint64_t nowMs) const {
    if (!started_) {
        return nullptr;
    }
    const StoredPacket& slot = slots_[seq & mask_];
    if (!isFresh(slot, nowMs) || slot.seq_ != seq) {
        return nullptr;
    }
    return &slot;
}

} // namespace sfu::recovery
