#include "protocol/bwe/LossBasedBound.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::bwe {

bool LossBasedBound::onPackets(uint32_t lost, uint32_t received, int64_t targetBps, int64_t nowUs) {
    if (!haveStart_) {
        haveStart_ = true;
        windowStartUs_ = nowUs;
    }
    lost_ += lost;
    expected_ += lost + received;
    if (expected_ < config_.minPackets || nowUs - windowStartUs_ < config_.windowUs) {
        return false;
    }
    windowStartUs_ = nowUs;
    lossFraction_ = static_cast<double>(lost_) / static_cast<double>(expected_);
    lost_ = 0;
    expected_ = 0;
    const int64_t dtUs = haveWindow_ ? std::clamp<int64_t>(nowUs - lastWindowUs_, 0, 1'000'000) : 0;
    haveWindow_ = true;
    lastWindowUs_ = nowUs;

    if (lossFraction_ < config_.lowLoss) {
        if (bound_ != kNoBitrate) {
            const double dt = static_cast<double>(dtUs) / 1e6;
            bound_ = static_cast<int64_t>(static_cast<double>(bound_) * std::pow(1.08, dt) +
                                          1000.0 * dt);
            if (bound_ >= 2 * targetBps) {
                bound_ = kNoBitrate;
            }
        }
    } else if (lossFraction_ <= config_.highLoss) {
        if (bound_ == kNoBitrate) {
            bound_ = targetBps;
        }
    } else if (!haveDecrease_ || nowUs - lastDecreaseUs_ >= rttUs_ + config_.decreaseIntervalUs) {
        haveDecrease_ = true;
        lastDecreaseUs_ = nowUs;
        const int64_t base = std::min(bound_, targetBps);
        bound_ = std::max(
            minBps_, static_cast<int64_t>(static_cast<double>(base) * (1.0 - 0.5 * lossFraction_)));
    }
    return true;
}

} // namespace sfu::bwe
