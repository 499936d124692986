#include "protocol/bwe/InterArrival.hpp"

#include <algorithm>

namespace sfu::bwe {

void InterArrival::reset() {
    current_ = Group{};
    previous_ = Group{};
    consecutiveNegative_ = 0;
    ++resets_;
}

void InterArrival::start(Group& g, int64_t sendUs, int64_t arrivalUs, uint32_t size) {
    g.valid = true;
    g.firstSendUs = sendUs;
    g.lastSendUs = sendUs;
    g.firstArrivalUs = arrivalUs;
    g.lastArrivalUs = arrivalUs;
    g.size = size;
}

bool InterArrival::belongsToBurst(int64_t sendUs, int64_t arrivalUs) const {
    const int64_t arrivalDelta = arrivalUs - current_.lastArrivalUs;
    const int64_t sendDelta = sendUs - current_.lastSendUs;
    if (sendDelta == 0) {
        return true;
    }
    const int64_t propagationDelta = arrivalDelta - sendDelta;
    return propagationDelta < 0 && arrivalDelta <= burstUs_ &&
           arrivalUs - current_.firstArrivalUs < kMaxBurstDurationUs;
}

bool InterArrival::onPacket(int64_t sendUs, int64_t arrivalUs, uint32_t size, Deltas& out) {
    if (!current_.valid) {
        start(current_, sendUs, arrivalUs, size);
        return false;
    }
    if (sendUs < current_.firstSendUs) {
        return false; // reordered on the way
    }
    const bool sameGroup =
        sendUs - current_.firstSendUs <= burstUs_ || belongsToBurst(sendUs, arrivalUs);
    if (sameGroup) {
        current_.lastSendUs = std::max(current_.lastSendUs, sendUs);
        current_.lastArrivalUs = std::max(current_.lastArrivalUs, arrivalUs);
        current_.size += size;
        return false;
    }
    bool produced = false;
    if (previous_.valid) {
        const int64_t sendDelta = current_.lastSendUs - previous_.lastSendUs;
        const int64_t arrivalDelta = current_.lastArrivalUs - previous_.lastArrivalUs;
        if (arrivalDelta - sendDelta > kArrivalJumpUs) {
            reset();
            start(current_, sendUs, arrivalUs, size);
            return false;
        }
        if (arrivalDelta < 0) {
            if (++consecutiveNegative_ >= 3) {
                reset();
                start(current_, sendUs, arrivalUs, size);
                return false;
            }
        } else {
            consecutiveNegative_ = 0;
            out.sendDeltaUs = sendDelta;
            out.arrivalDeltaUs = arrivalDelta;
            out.arrivalUs = current_.lastArrivalUs;
            out.sizeDelta = current_.size - previous_.size;
            produced = true;
        }
    }
    previous_ = current_;
    start(current_, sendUs, arrivalUs, size);
    return produced;
}

} // namespace sfu::bwe
