#include "protocol/bwe/OveruseDetector.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::bwe {

BandwidthUsage OveruseDetector::detect(double modifiedTrend, double trend, double sendDeltaMs,
                                       int64_t nowUs) {
    if (modifiedTrend > threshold_) {
        if (timeOverusingMs_ < 0) {
            // Assume the overuse began half way through this delta.
            timeOverusingMs_ = sendDeltaMs / 2;
        } else {
            timeOverusingMs_ += sendDeltaMs;
        }
        ++overuseCounter_;
        if (timeOverusingMs_ > config_.overuseTimeMs && overuseCounter_ > 1 &&
            trend >= prevTrend_) {
            timeOverusingMs_ = 0;
            overuseCounter_ = 0;
            state_ = BandwidthUsage::Overusing;
        }
    } else if (modifiedTrend < -threshold_) {
        timeOverusingMs_ = -1;
        overuseCounter_ = 0;
        state_ = BandwidthUsage::Underusing;
    } else {
        timeOverusingMs_ = -1;
        overuseCounter_ = 0;
        state_ = BandwidthUsage::Normal;
    }
    prevTrend_ = trend;
    updateThreshold(modifiedTrend, nowUs);
    return state_;
}

void OveruseDetector::updateThreshold(double modifiedTrend, int64_t nowUs) {
    if (!haveUpdate_) {
        haveUpdate_ = true;
        lastUpdateUs_ = nowUs;
    }
    const double magnitude = std::fabs(modifiedTrend);
    if (magnitude > threshold_ + 15.0) {
        lastUpdateUs_ = nowUs; // a spike: leave the threshold alone
        return;
    }
    const double k = magnitude < threshold_ ? config_.kDown : config_.kUp;
    const double dtMs = std::min(static_cast<double>(nowUs - lastUpdateUs_) / 1000.0, 100.0);
    threshold_ += k * (magnitude - threshold_) * std::max(dtMs, 0.0);
    threshold_ = std::clamp(threshold_, config_.minThreshold, config_.maxThreshold);
    lastUpdateUs_ = nowUs;
}

} // namespace sfu::bwe
