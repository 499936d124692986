#include "protocol/bwe/AimdRateControl.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::bwe {

void LinkCapacityEstimator::update(int64_t sampleBps) {
    const double sample = static_cast<double>(sampleBps) / 1000.0;
    if (!have_) {
        have_ = true;
        estimateKbps_ = sample;
        return;
    }
    constexpr double kAlpha = 0.05;
    estimateKbps_ = (1 - kAlpha) * estimateKbps_ + kAlpha * sample;
    const double norm = std::max(estimateKbps_, 1.0);
    const double error = estimateKbps_ - sample;
    deviation_ = (1 - kAlpha) * deviation_ + kAlpha * error * error / norm;
    deviation_ = std::clamp(deviation_, 0.4, 2.5);
}

double LinkCapacityEstimator::deviationKbps() const {
    return std::sqrt(deviation_ * estimateKbps_);
}

int64_t LinkCapacityEstimator::upperBound() const {
    return static_cast<int64_t>((estimateKbps_ + 3 * deviationKbps()) * 1000.0);
}

int64_t LinkCapacityEstimator::lowerBound() const {
    return static_cast<int64_t>(std::max(0.0, estimateKbps_ - 3 * deviationKbps()) * 1000.0);
}

AimdRateControl::AimdRateControl() = default;

int64_t AimdRateControl::clamp(int64_t bps) const {
    return std::clamp(bps, minBps_, std::max(minBps_, maxBps_));
}

void AimdRateControl::setBounds(int64_t minBps, int64_t maxBps) {
    minBps_ = std::max<int64_t>(minBps, 0);
    maxBps_ = std::max(maxBps, minBps_);
    estimate_ = clamp(estimate_);
}

void AimdRateControl::setEstimate(int64_t bps, int64_t nowUs) {
    estimate_ = clamp(bps);
    haveChange_ = true;
    lastChangeUs_ = nowUs;
}

bool AimdRateControl::timeToReduceFurther(int64_t nowUs, std::optional<int64_t> ackedBps) const {
    if (!haveDecrease_) {
        return true;
    }
    const int64_t interval = std::clamp<int64_t>(rttUs_, 10'000, 200'000);
    if (nowUs - lastDecreaseUs_ >= interval) {
        return true;
    }
    return ackedBps && *ackedBps < estimate_ / 2;
}

int64_t AimdRateControl::additiveIncreasePerSecond() const {
    // One packet of an average frame per response time.
    const double bitsPerFrame = static_cast<double>(estimate_) / 30.0;
    const double packetsPerFrame = std::ceil(bitsPerFrame / (1200.0 * 8.0));
    const double packetBits = bitsPerFrame / std::max(packetsPerFrame, 1.0);
    const double responseS = static_cast<double>(rttUs_ + 100'000) / 1e6;
    return std::max<int64_t>(4000, static_cast<int64_t>(packetBits / responseS));
}

int64_t AimdRateControl::update(BandwidthUsage usage, std::optional<int64_t> ackedBps,
                                int64_t nowUs) {
    if (!haveChange_) {
        haveChange_ = true;
        lastChangeUs_ = nowUs;
    }
    switch (usage) {
    case BandwidthUsage::Overusing:
        state_ = State::Decrease;
        break;
    case BandwidthUsage::Underusing:
        state_ = State::Hold;
        break;
    case BandwidthUsage::Normal:
        if (state_ == State::Hold) {
            state_ = State::Increase;
            lastChangeUs_ = nowUs;
        }
        break;
    }

    const int64_t dtUs = std::clamp<int64_t>(nowUs - lastChangeUs_, 0, 1'000'000);
    switch (state_) {
    case State::Hold:
        lastChangeUs_ = nowUs;
        break;
    case State::Increase: {
        if (link_.has() && estimate_ > link_.upperBound()) {
            link_.reset(); // well past where the bottleneck was: search afresh
        }
        int64_t limit = kNoBitrate;
        if (ackedBps) {
            limit = *ackedBps + *ackedBps / 2 + 10'000;
        }
        if (estimate_ < limit) {
            int64_t increase = 0;
            if (link_.has()) {
                increase = additiveIncreasePerSecond() * dtUs / 1'000'000;
            } else {
                const double alpha = std::pow(1.08, std::min(static_cast<double>(dtUs) / 1e6, 1.0));
                increase = std::max<int64_t>(
                    static_cast<int64_t>(static_cast<double>(estimate_) * (alpha - 1.0)),
                    1000 * dtUs / 1'000'000);
            }
            estimate_ = std::min(estimate_ + increase, limit);
        }
        lastChangeUs_ = nowUs;
        break;
    }
    case State::Decrease: {
        int64_t decreased =
            static_cast<int64_t>(kBeta * static_cast<double>(ackedBps ? *ackedBps : estimate_));
        if (decreased > estimate_ && link_.has()) {
            decreased = static_cast<int64_t>(kBeta * static_cast<double>(link_.estimate()));
        }
        if (decreased < estimate_) {
            estimate_ = decreased;
        }
        if (ackedBps) {
            if (link_.has() && *ackedBps < link_.lowerBound()) {
                link_.reset();
            }
            link_.update(*ackedBps);
        }
        haveDecrease_ = true;
        lastDecreaseUs_ = nowUs;
        lastChangeUs_ = nowUs;
        state_ = State::Hold;
        break;
    }
    }
    estimate_ = clamp(estimate_);
    return estimate_;
}

} // namespace sfu::bwe
