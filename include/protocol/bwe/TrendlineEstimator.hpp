// The delay trend: the slope of the accumulated inter-group delay variation
// over the last groups (draft-ietf-rmcat-gcc, the trendline filter that
// replaced its Kalman filter in practice).
//
// Contract: update() takes one pair of group deltas (from InterArrival).
// The delay variation d = arrival delta - send delta is accumulated,
// exponentially smoothed (`smoothing`, 0.9), and the pair (arrival time since
// the first group, smoothed delay) kept in a window of `windowSize` (20)
// groups. Once the window is full, trend() is the least-squares slope of that
// window (ms of delay per ms of time: > 0 while a queue builds), and
// modifiedTrend() = min(groups seen, 60) * trend * `thresholdGain` (4), the
// value the overuse detector compares to its threshold. Before the window
// fills, both stay 0. Nothing is allocated after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sfu::bwe {

class TrendlineEstimator {
public:
    static constexpr size_t kMaxWindow = 64;

    struct Config {
        size_t windowSize = 20;
        double smoothing = 0.9;
        double thresholdGain = 4.0;
    };

    TrendlineEstimator() : TrendlineEstimator(Config{}) {}
    explicit TrendlineEstimator(const Config& config);

    void update(int64_t sendDeltaUs, int64_t arrivalDeltaUs, int64_t arrivalUs);
    void reset();

    double trend() const { return trend_; }
    double modifiedTrend() const { return modifiedTrend_; }
    uint32_t numDeltas() const { return numDeltas_; }
    double smoothedDelayMs() const { return smoothedDelayMs_; }

private:
    Config config_;
    std::array<double, kMaxWindow> x_{};
    std::array<double, kMaxWindow> y_{};
    size_t count_ = 0;
    size_t next_ = 0;
    uint32_t numDeltas_ = 0;
    bool haveFirst_ = false;
    int64_t firstArrivalUs_ = 0;
    double accumulatedDelayMs_ = 0;
    double smoothedDelayMs_ = 0;
    double trend_ = 0;
    double modifiedTrend_ = 0;
};

} // namespace sfu::bwe
