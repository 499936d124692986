#include "protocol/bwe/TrendlineEstimator.hpp"

#include <algorithm>

namespace sfu::bwe {

TrendlineEstimator::TrendlineEstimator(const Config& config) : config_(config) {
    config_.windowSize = std::clamp<size_t>(config_.windowSize, 2, kMaxWindow);
}

void TrendlineEstimator::reset() {
    count_ = 0;
    next_ = 0;
    numDeltas_ = 0;
    haveFirst_ = false;
    accumulatedDelayMs_ = 0;
    smoothedDelayMs_ = 0;
    trend_ = 0;
    modifiedTrend_ = 0;
}

void TrendlineEstimator::update(int64_t sendDeltaUs, int64_t arrivalDeltaUs, int64_t arrivalUs) {
    const double deltaMs = static_cast<double>(arrivalDeltaUs - sendDeltaUs) / 1000.0;
    if (!haveFirst_) {
        haveFirst_ = true;
        firstArrivalUs_ = arrivalUs;
    }
    numDeltas_ = std::min<uint32_t>(numDeltas_ + 1, 1000);
    accumulatedDelayMs_ += deltaMs;
    smoothedDelayMs_ =
        config_.smoothing * smoothedDelayMs_ + (1.0 - config_.smoothing) * accumulatedDelayMs_;

    x_[next_] = static_cast<double>(arrivalUs - firstArrivalUs_) / 1000.0;
    y_[next_] = smoothedDelayMs_;
    next_ = (next_ + 1) % config_.windowSize;
    count_ = std::min(count_ + 1, config_.windowSize);
    if (count_ < config_.windowSize) {
        return;
    }

    double meanX = 0;
    double meanY = 0;
    for (size_t i = 0; i < count_; ++i) {
        meanX += x_[i];
        meanY += y_[i];
    }
    meanX /= static_cast<double>(count_);
    meanY /= static_cast<double>(count_);
    double num = 0;
    double den = 0;
    for (size_t i = 0; i < count_; ++i) {
        const double dx = x_[i] - meanX;
        num += dx * (y_[i] - meanY);
        den += dx * dx;
    }
    if (den > 0) {
        trend_ = num / den;
    }
    modifiedTrend_ =
        static_cast<double>(std::min<uint32_t>(numDeltas_, 60)) * trend_ * config_.thresholdGain;
}

} // namespace sfu::bwe
