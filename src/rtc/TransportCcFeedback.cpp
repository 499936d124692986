#include "rtc/TransportCcFeedback.hpp"

namespace sfu::rtc {

void TransportCcFeedback::onPacket(uint16_t seq, int64_t arrivalUs, uint32_t mediaSsrc) {
    int64_t unwrapped = seq;
    if (!started_) {
        started_ = true;
        nextBase_ = seq;
    } else {
        unwrapped = highest_ + static_cast<int16_t>(seq - static_cast<uint16_t>(highest_));
    }
    highest_ = std::max(highest_, unwrapped);
    if (count_ == pending_.size()) {
        ++arrivalsDropped_;
        return;
    }
    mediaSsrc_ = mediaSsrc;
    pending_[count_++] = Arrival{unwrapped, arrivalUs};
}

} // namespace sfu::rtc
