#include "protocol/bwe/ProbeController.hpp"

#include <algorithm>

namespace sfu::bwe {

void ProbeController::request(int64_t bps, int64_t nowUs) {
    bps = std::min(bps, maxBps_);
    if (bps <= 0) {
        return;
    }
    ProbeRequest r;
    r.id = nextId_++;
    r.bitrateBps = bps;
    if (pendingCount_ == kMaxPending) {
        // Drop the oldest: the newest reflects the latest estimate.
        std::copy(pending_.begin() + 1, pending_.end(), pending_.begin());
        --pendingCount_;
    }
    pending_[pendingCount_++] = r;
    lastProbeUs_ = nowUs;
    state_ = State::Waiting;
    minToProbeFurther_ =
        static_cast<int64_t>(static_cast<double>(bps) * config_.furtherMinFraction);
    if (bps >= maxBps_) {
        minToProbeFurther_ = kNoBitrate; // nothing above the maximum to find
    }
}

std::optional<ProbeRequest> ProbeController::takeRequest() {
    if (pendingCount_ == 0) {
        return std::nullopt;
    }
    const ProbeRequest r = pending_[0];
    std::copy(pending_.begin() + 1, pending_.end(), pending_.begin());
    --pendingCount_;
    return r;
}

void ProbeController::start(int64_t startBps, int64_t nowUs) {
    if (state_ != State::Init) {
        return;
    }
    const auto first =
        static_cast<int64_t>(static_cast<double>(startBps) * config_.firstMultiplier);
    const auto second =
        static_cast<int64_t>(static_cast<double>(startBps) * config_.secondMultiplier);
    request(first, nowUs);
    if (first < maxBps_) {
        request(second, nowUs);
    }
}

void ProbeController::setMaxBitrate(int64_t bps, int64_t estimateBps, int64_t nowUs) {
    const int64_t old = maxBps_;
    maxBps_ = bps;
    if (state_ != State::Init && old != kNoBitrate && bps > old && estimateBps >= old) {
        request(bps, nowUs);
    }
}

void ProbeController::onEstimate(int64_t estimateBps, int64_t nowUs) {
    if (state_ != State::Waiting || estimateBps <= minToProbeFurther_) {
        return;
    }
    const auto next =
        static_cast<int64_t>(static_cast<double>(estimateBps) * config_.furtherMultiplier);
    if (estimateBps >= maxBps_) {
        state_ = State::Done;
        return;
    }
    request(next, nowUs);
}

void ProbeController::process(int64_t estimateBps, bool inAlr, bool atCapacity, int64_t nowUs) {
    if (state_ == State::Init) {
        return;
    }
    if (state_ == State::Waiting && nowUs - lastProbeUs_ > config_.waitUs) {
        state_ = State::Done;
    }
    if (state_ != State::Done || estimateBps >= maxBps_ ||
        nowUs - lastProbeUs_ < config_.periodicIntervalUs) {
        return;
    }
    const bool wantMore = static_cast<double>(desiredBps_) >=
                          static_cast<double>(estimateBps) * config_.desiredMargin;
    if (!inAlr && (!wantMore || atCapacity)) {
        return;
    }
    const int64_t target =
        std::min(static_cast<int64_t>(static_cast<double>(estimateBps) * config_.furtherMultiplier),
                 maxBps_);
    if (target * 5 < estimateBps * 6) {
        return;
    }
    request(target, nowUs);
}

} // namespace sfu::bwe
