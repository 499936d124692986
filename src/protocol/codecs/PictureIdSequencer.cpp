#include "protocol/codecs/PictureIdSequencer.hpp"

#include "protocol/rtp/SeqNum.hpp"

namespace sfu::codecs {

PictureIdSequencer::Lookup PictureIdSequencer::lookup(uint16_t id, bool wide) const {
    if (!started_ || wide != wide_) {
        return {State::Unknown, 0, true};
    }
    const uint16_t m = mask(wide_);
    id &= m;
    const auto ahead = static_cast<uint16_t>((id - highest_) & m);
    // Less than half the id space ahead counts as newer, as for RTP sequence numbers.
    if (ahead != 0 && ahead <= m / 2) {
        return {State::Unknown, 0, true};
    }
    const auto behind = static_cast<uint16_t>((highest_ - id) & m);
    if (behind >= kWindow) {
        return {};
    }
    const Slot& slot = slots_[id % kWindow];
    if (slot.state == State::Unknown || slot.id != id) {
        return {};
    }
    return {slot.state, slot.outputId, false};
}

void PictureIdSequencer::clear() {
    slots_.fill(Slot{});
}

uint16_t PictureIdSequencer::place(uint16_t id, bool wide, State state) {
    const uint16_t m = mask(wide);
    id &= m;
    uint16_t out = 0;
    if (!started_ || wide != wide_) {
        // First picture after a (re)start: continue the output sequence, or
        // pass ids through unchanged when nothing was ever sent.
        clear();
        if (!haveOutput_) {
            nextOut_ = id;
        }
        started_ = true;
        wide_ = wide;
        out = nextOut_;
    } else {
        const auto ahead = static_cast<uint16_t>((id - highest_) & m);
        if (ahead > kWindow) {
            // Too far to track the gap; it stays in the output ids (the
            // receiver must learn that pictures were lost) but late arrivals
            // from it are treated as too old.
            clear();
        } else {
            for (uint16_t k = 1; k < ahead; ++k) {
                const auto gapId = static_cast<uint16_t>((highest_ + k) & m);
                slots_[gapId % kWindow] = {
                    gapId, static_cast<uint16_t>((nextOut_ + k - 1) & 0x7FFF), State::Pending};
            }
        }
        out = static_cast<uint16_t>(nextOut_ + ahead - 1);
    }
    out &= 0x7FFF;
    highest_ = id;
    slots_[id % kWindow] = {id, out, state};
    return out;
}

uint16_t PictureIdSequencer::forward(uint16_t id, bool wide) {
    const Lookup found = lookup(id, wide);
    if (found.isNew) {
        const uint16_t out = place(id, wide, State::Forwarded);
        nextOut_ = static_cast<uint16_t>((out + 1) & 0x7FFF);
        haveOutput_ = true;
        return out;
    }
    if (found.state == State::Pending) {
        slotFor(id).state = State::Forwarded;
    }
    return found.outputId;
}

void PictureIdSequencer::drop(uint16_t id, bool wide) {
    const Lookup found = lookup(id, wide);
    if (found.isNew) {
        // Before the first forwarded picture there is no sequence to keep
        // continuous: leave the picture unseen.
        if (!started_ || wide != wide_) {
            return;
        }
        const uint16_t out = place(id, wide, State::Dropped);
        // The dropped picture gives its id to the next one.
        nextOut_ = out;
        return;
    }
    if (found.state == State::Pending) {
        // Later pictures already took the ids after this one: it leaves a hole.
        slotFor(id).state = State::Dropped;
    }
}

void PictureIdSequencer::resync() {
    started_ = false;
}

void PictureIdSequencer::resync(uint16_t lastSentId) {
    started_ = false;
    haveOutput_ = true;
    nextOut_ = static_cast<uint16_t>((lastSentId + 1) & 0x7FFF);
}

uint8_t Tl0PicIdxSequencer::map(uint8_t tl0PicIdx, bool isBaseLayer) {
    if (syncPending_) {
        syncPending_ = false;
        if (haveOutput_) {
            // A base layer picture starts a new TL0 index; a higher layer
            // picture still refers to the last one sent.
            const auto want = static_cast<uint8_t>(lastOut_ + (isBaseLayer ? 1 : 0));
            offset_ = static_cast<uint8_t>(tl0PicIdx - want);
        } else {
            offset_ = 0;
        }
    }
    const auto out = static_cast<uint8_t>(tl0PicIdx - offset_);
    if (!haveOutput_ || rtp::isNewer(out, lastOut_)) {
        lastOut_ = out;
    }
    haveOutput_ = true;
    return out;
}

} // namespace sfu::codecs
