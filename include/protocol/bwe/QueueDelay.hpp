// The queueing delay on the path to the receiver, from transport-wide
// feedback: each received packet's one-way offset (its arrival in the
// receiver's clock minus its send time in ours: the clocks' difference plus
// the path's delay) against the smallest offset of the last two windows of
// kWindowUs (by send time), which stands for the path with nothing queued;
// within two windows the clocks drift apart by far less than a queue holds.
//
// Contract: delayMs() is that of the last packet sent among those reported
// received, at least 0; 0 before any. baseOffsetUs() is the offset
// it is taken against (meaningful once a packet is in). Nothing is
// allocated.
#pragma once

#include "protocol/bwe/Types.hpp"

#include <algorithm>
#include <cstdint>

namespace sfu::bwe {

class QueueDelay {
public:
    static constexpr int64_t kWindowUs = 10'000'000;

    void onPacket(const PacketResult& p) {
        if (!p.received) {
            return;
        }
        const int64_t offset = p.arrivalUs - p.sendUs;
        if (!have_) {
            have_ = true;
            windowStartUs_ = p.sendUs;
            minCurrent_ = minPrevious_ = offset;
            newestSendUs_ = p.sendUs;
            newestOffset_ = offset;
            return;
        }
        if (p.sendUs - windowStartUs_ >= kWindowUs) {
            windowStartUs_ = p.sendUs;
            minPrevious_ = minCurrent_;
            minCurrent_ = offset;
        }
        minCurrent_ = std::min(minCurrent_, offset);
        if (p.sendUs >= newestSendUs_) {
            newestSendUs_ = p.sendUs;
            newestOffset_ = offset;
        }
    }

    int64_t delayMs() const {
        return have_ ? std::max<int64_t>(0, newestOffset_ - baseOffsetUs()) / 1000 : 0;
    }
    // The offset that stands for the path with nothing queued.
    int64_t baseOffsetUs() const { return std::min(minCurrent_, minPrevious_); }

private:
    bool have_ = false;
    int64_t windowStartUs_ = 0;
    int64_t minCurrent_ = 0;
    int64_t minPrevious_ = 0;
    int64_t newestSendUs_ = 0;
    int64_t newestOffset_ = 0;
};

} // namespace sfu::bwe
