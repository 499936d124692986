// Per-consumer renumbering of the picture ids and TL0PICIDX values that VP8
// and VP9 payload descriptors carry. A consumer that drops whole pictures
// (temporal layers above its target) or switches between source streams must
// still send ids the receiver sees as one continuous stream, or the receiver
// waits for pictures that will never come. Fixed size, no heap.
#pragma once

#include "protocol/codecs/PayloadRewrite.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::codecs {

class PictureIdSequencer {
public:
    // Pictures older than this (behind the newest one seen) are forgotten;
    // late packets for them can no longer be placed and must be dropped.
    static constexpr uint16_t kWindow = 128;

    enum class State : uint8_t {
        Unknown,   // never seen, or too old to tell
        Pending,   // a gap: newer pictures already arrived, this one did not
        Forwarded, // decided: sent under `outputId`
        Dropped,   // decided: not sent, and its id was given to later pictures
    };

    struct Lookup {
        State state = State::Unknown;
        uint16_t outputId = 0;
        bool isNew = false; // newer than every picture seen since the last resync
    };

    // `wide` tells whether the sender's field is 15 bits (M=1) or 7 bits.
    Lookup lookup(uint16_t id, bool wide) const;

    // Decide a new or pending picture. forward() returns the id to write;
    // output ids are 15-bit and are written masked to the field's width.
    uint16_t forward(uint16_t id, bool wide);
    void drop(uint16_t id, bool wide);

    // The next new picture continues right after the last id sent, whatever
    // its own id (a switch to another source stream).
    void resync();
    // The same, continuing right after `lastSentId`: for a caller that
    // decides after forward() and so may have given ids to pictures it then
    // did not send (VP9, whose ids are never compacted).
    void resync(uint16_t lastSentId);

    bool started() const { return started_; }

private:
    struct Slot {
        uint16_t id = 0;
        uint16_t outputId = 0;
        State state = State::Unknown;
    };

    static constexpr uint16_t mask(bool wide) { return wide ? 0x7FFF : 0x7F; }
    uint16_t place(uint16_t id, bool wide, State state);
    Slot& slotFor(uint16_t id) { return slots_[(id & mask(wide_)) % kWindow]; }
    void clear();

    std::array<Slot, kWindow> slots_{};
    bool started_ = false;
    bool wide_ = true;
    bool haveOutput_ = false;
    uint16_t highest_ = 0; // newest input id seen
    uint16_t nextOut_ = 0; // output id the picture after `highest_` would take
};

// TL0PICIDX only advances on temporal layer 0 pictures, which a temporal
// filter never drops, so an offset is enough; it changes only on resync.
class Tl0PicIdxSequencer {
public:
    uint8_t map(uint8_t tl0PicIdx, bool isBaseLayer);
    void resync() { syncPending_ = true; }
    // What map() gives `tl0PicIdx` now, without moving anything; none while
    // a resync is pending.
    std::optional<uint8_t> mapped(uint8_t tl0PicIdx) const {
        if (syncPending_) {
            return std::nullopt;
        }
        return static_cast<uint8_t>(tl0PicIdx - offset_);
    }

private:
    bool syncPending_ = true;
    bool haveOutput_ = false;
    uint8_t offset_ = 0;
    uint8_t lastOut_ = 0;
};

// The fields a picture forwarded before is sent with again (a
// retransmission): its output id and TL0PICIDX as they were, whatever layers
// are forwarded now. False when the picture is not known as forwarded (too
// old, or from before a resync). `Descriptor` is a VP8 or VP9 payload
// descriptor.
template <typename Descriptor>
bool rewriteAsSent(const PictureIdSequencer& ids, const Tl0PicIdxSequencer& tl0s,
                   const Descriptor& desc, PayloadRewrite& rewrite) {
    if (desc.hasPictureId) {
        const auto found = ids.lookup(desc.pictureId, desc.pictureIdIs15Bit);
        if (found.state != PictureIdSequencer::State::Forwarded) {
            return false;
        }
        rewrite.setPictureId(desc.pictureIdOffset, desc.pictureIdIs15Bit, found.outputId);
    }
    if (desc.hasTl0PicIdx) {
        const auto tl0 = tl0s.mapped(desc.tl0PicIdx);
        if (!tl0) {
            return false;
        }
        rewrite.setTl0PicIdx(desc.tl0PicIdxOffset, *tl0);
    }
    return true;
}

} // namespace sfu::codecs
