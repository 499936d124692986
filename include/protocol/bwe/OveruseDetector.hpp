// The overuse detector with an adaptive threshold (draft-ietf-rmcat-gcc
// section 5.4).
//
// Contract: detect() takes the trendline's modified trend m, its raw trend,
// the send-time delta of the group pair (ms) and the local time. State:
//  - m > gamma: overuse is signalled once m has stayed above gamma for more
//    than `overuseTimeMs` (10 ms, counting send-time deltas) over at least
//    two groups while the trend is not falling; the timer then restarts.
//  - m < -gamma: underusing.  - otherwise: normal.
// gamma adapts: gamma += dt * k * (|m| - gamma), k = k_up (0.0087) when |m|
// is above gamma, k_down (0.039) below, dt the time since the last update
// capped at 100 ms; not adapted when |m| exceeds gamma by more than 15
// (spikes); kept in [6, 600]. Initial gamma 12.5.
#pragma once

#include "protocol/bwe/Types.hpp"

#include <cstdint>

namespace sfu::bwe {

class OveruseDetector {
public:
    struct Config {
        double kUp = 0.0087;
        double kDown = 0.039;
        double initialThreshold = 12.5;
        double minThreshold = 6.0;
        double maxThreshold = 600.0;
        double overuseTimeMs = 10.0;
    };

    OveruseDetector() : OveruseDetector(Config{}) {}
    explicit OveruseDetector(const Config& config)
        : config_(config), threshold_(config.initialThreshold) {}

    BandwidthUsage detect(double modifiedTrend, double trend, double sendDeltaMs, int64_t nowUs);

    BandwidthUsage state() const { return state_; }
    double threshold() const { return threshold_; }

private:
    void updateThreshold(double modifiedTrend, int64_t nowUs);

    Config config_;
    double threshold_;
    double timeOverusingMs_ = -1;
    int overuseCounter_ = 0;
    double prevTrend_ = 0;
    bool haveUpdate_ = false;
    int64_t lastUpdateUs_ = 0;
    BandwidthUsage state_ = BandwidthUsage::Normal;
};

} // namespace sfu::bwe
