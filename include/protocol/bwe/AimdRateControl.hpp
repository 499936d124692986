// The delay-based rate controller (draft-ietf-rmcat-gcc section 5.5):
// additive increase near the link capacity, multiplicative increase far from
// it, multiplicative decrease on overuse.
//
// Contract: update() takes the detector's state, the acknowledged bitrate
// (when known) and the local time, and returns the new estimate:
//  - State machine: overusing -> Decrease; underusing -> Hold (the queues
//    drain); normal -> Increase from Hold, stays otherwise.
//  - Increase: multiplicative, 8% per second (at least 1 kbit/s), while no
//    link capacity estimate is held or the estimate is well above it (the
//    estimate is then dropped); additive near it: one average packet (the
//    bitrate at 30 frames/s cut in packets of 1200 bytes) per response time
//    (RTT + 100 ms), at least 4 kbit/s per second. Never past
//    1.5 x acknowledged + 10 kbit/s, so that an application-limited sender
//    does not let the estimate run away; never lowered by an increase.
//  - Decrease: to beta (0.85) x acknowledged bitrate (beta x the link capacity
//    estimate when that would not lower it), only ever downwards; the
//    acknowledged bitrate then feeds the link capacity estimate (an average
//    with its variance; reset when a sample falls 3 deviations below it).
//    Then Hold.
//  - setEstimate() jumps to a value (start bitrate, probe result).
//  - Everything is clamped to [min, max].
#pragma once

#include "protocol/bwe/Types.hpp"

#include <cstdint>
#include <optional>

namespace sfu::bwe {

// Average and variance of the acknowledged bitrate at overuse: where the
// bottleneck is believed to be.
class LinkCapacityEstimator {
public:
    void update(int64_t sampleBps);
    void reset() { have_ = false; }
    bool has() const { return have_; }
    int64_t estimate() const { return static_cast<int64_t>(estimateKbps_ * 1000.0); }
    int64_t upperBound() const;
    int64_t lowerBound() const;

private:
    double deviationKbps() const;

    bool have_ = false;
    double estimateKbps_ = 0;
    double deviation_ = 0.4; // normalised variance
};

class AimdRateControl {
public:
    enum class State : uint8_t { Hold, Increase, Decrease };

    static constexpr double kBeta = 0.85;
    static constexpr int64_t kDefaultRttUs = 200'000;

    AimdRateControl();

    void setBounds(int64_t minBps, int64_t maxBps);
    void setEstimate(int64_t bps, int64_t nowUs);
    void setRtt(int64_t rttUs) { rttUs_ = rttUs; }

    int64_t update(BandwidthUsage usage, std::optional<int64_t> ackedBps, int64_t nowUs);

    // Whether another decrease may follow the last one already: an RTT has
    // passed (10 to 200 ms), or the estimate is twice what gets through.
    bool timeToReduceFurther(int64_t nowUs, std::optional<int64_t> ackedBps) const;

    int64_t estimate() const { return estimate_; }
    State state() const { return state_; }
    const LinkCapacityEstimator& linkCapacity() const { return link_; }
    int64_t additiveIncreasePerSecond() const;

private:
    int64_t clamp(int64_t bps) const;

    int64_t minBps_ = 30'000;
    int64_t maxBps_ = 100'000'000;
    int64_t estimate_ = 300'000;
    int64_t rttUs_ = kDefaultRttUs;
    State state_ = State::Hold;
    bool haveChange_ = false;
    int64_t lastChangeUs_ = 0;
    bool haveDecrease_ = false;
    int64_t lastDecreaseUs_ = 0;
    LinkCapacityEstimator link_;
};

} // namespace sfu::bwe
