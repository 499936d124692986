// The loss-based bound (draft-ietf-rmcat-gcc section 6).
//
// Contract: onPackets() counts packets reported lost and received; once a
// window spans `windowUs` (1 s) and holds at least `minPackets` (20), the
// loss fraction of that window is acted upon, relative to the current target
// rate (shorter windows would mistake the spread of random loss for
// congestion):
//  - loss < 2%: increases are allowed: a bound, if any, grows by 8% per
//    second (+1 kbit/s) and disappears once it is twice the target.
//  - 2% to 10%: hold: with no bound yet, the bound becomes the target; an
//    existing bound stays (so repeated windows do not ratchet it down).
//  - loss > 10%: the bound becomes min(bound, target) x (1 - 0.5 x loss),
//    at most once per RTT + 300 ms, never below the minimum.
// bound() is kNoBitrate while there is none. setBound() forces one (e.g. a
// probe result); reset() forgets it.
#pragma once

#include "protocol/bwe/Types.hpp"

#include <cstdint>

namespace sfu::bwe {

class LossBasedBound {
public:
    struct Config {
        uint32_t minPackets = 20;
        int64_t windowUs = 1'000'000;
        double lowLoss = 0.02;
        double highLoss = 0.10;
        int64_t decreaseIntervalUs = 300'000; // plus the RTT
    };

    LossBasedBound() : LossBasedBound(Config{}) {}
    explicit LossBasedBound(const Config& config) : config_(config) {}

    void setMinBitrate(int64_t bps) { minBps_ = bps; }
    void setRtt(int64_t rttUs) { rttUs_ = rttUs; }

    // True when a window completed and was acted upon.
    bool onPackets(uint32_t lost, uint32_t received, int64_t targetBps, int64_t nowUs);

    int64_t bound() const { return bound_; }
    // The last complete window's loss fraction (0 before any).
    double lossFraction() const { return lossFraction_; }
    void reset() { bound_ = kNoBitrate; }
    // Drops what the current window counted; a new one starts now.
    void restartWindow(int64_t nowUs) {
        lost_ = 0;
        expected_ = 0;
        haveStart_ = true;
        windowStartUs_ = nowUs;
    }

private:
    Config config_;
    int64_t minBps_ = 0;
    int64_t rttUs_ = 200'000;
    uint32_t lost_ = 0;
    uint32_t expected_ = 0;
    double lossFraction_ = 0;
    int64_t bound_ = kNoBitrate;
    bool haveWindow_ = false;
    bool haveStart_ = false;
    int64_t windowStartUs_ = 0;
    int64_t lastWindowUs_ = 0;
    bool haveDecrease_ = false;
    int64_t lastDecreaseUs_ = 0;
};

} // namespace sfu::bwe
