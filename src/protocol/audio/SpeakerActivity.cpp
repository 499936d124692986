#include "protocol/audio/SpeakerActivity.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::audio {

namespace {

constexpr uint8_t kMaxActivity = 127;
// The level range cut into N1 sub-bands of this many activity units.
constexpr unsigned kSubbandWidth = (kMaxActivity + kImmediateSubbands - 1) / kImmediateSubbands;
// Speech: each sub-band active with even odds.
constexpr double kSpeechP = 0.5;
// Noise: the parameters of the exponential model, one per span.
constexpr double kImmediateLambda = 0.78;
constexpr double kMediumLambda = 24.0;
constexpr double kLongLambda = 47.0;
// Scores are log likelihood ratios, negative for what looks like noise;
// they are floored at a positive value so that ratios of them exist.
constexpr double kMinScore = 1e-10;

double logBinomial(unsigned n, unsigned k) {
    double sum = 0.0;
    for (unsigned i = 1; i <= k; ++i) {
        sum += std::log(static_cast<double>(n - k + i) / i);
    }
    return sum;
}

} // namespace

ActivityScores silentScores() {
    return ActivityScores{activityScore(0, kImmediateSubbands, kImmediateLambda),
                          activityScore(0, kMediumSubbands, kMediumLambda),
                          activityScore(0, kLongSubbands, kLongLambda)};
}

double activityScore(unsigned active, unsigned subbands, double lambda) {
    active = std::min(active, subbands);
    // log( C(n,k) p^k (1-p)^(n-k) / (lambda e^(-lambda k)) )
    const double score = logBinomial(subbands, active) + active * std::log(kSpeechP) +
                         (subbands - active) * std::log(1.0 - kSpeechP) - std::log(lambda) +
                         lambda * active;
    return std::max(score, kMinScore);
}

void SpeakerActivity::addLevel(uint8_t minusDbov, uint64_t nowMs) {
    const auto activity = static_cast<uint8_t>(kMaxActivity - std::min(minusDbov, kMaxActivity));
    push(activity);
    trackFloor(activity);
    heard_ = true;
    lastLevelMs_ = nowMs;
}

void SpeakerActivity::idle(uint64_t nowMs) {
    if (!heard_ || nowMs < lastLevelMs_ + kLevelIdleMs) {
        return;
    }
    const uint64_t frames = (nowMs - lastLevelMs_) / kFrameMs;
    for (uint64_t i = 0; i < std::min<uint64_t>(frames, kLevelFrames); ++i) {
        push(0);
    }
    lastLevelMs_ += frames * kFrameMs;
}

void SpeakerActivity::reset() {
    *this = SpeakerActivity{};
}

void SpeakerActivity::push(uint8_t activity) {
    head_ = (head_ + 1) % kLevelFrames;
    levels_[head_] = activity;
}

void SpeakerActivity::trackFloor(uint8_t activity) {
    // Digital silence (no sender noise at all) says nothing of the room.
    if (activity == 0) {
        return;
    }
    // The floor falls at once to the quietest level heard, and rises only
    // when a whole window stayed above it: halfway to that window's minimum,
    // so that a louder room is learnt without taking speech for noise.
    if (floor_ == 0 || activity < floor_) {
        floor_ = activity;
        nextFloor_ = 0;
        nextFloorFrames_ = 0;
        return;
    }
    nextFloor_ = nextFloor_ == 0 ? activity : std::min(nextFloor_, activity);
    if (++nextFloorFrames_ >= kFloorWindowFrames) {
        floor_ = static_cast<uint8_t>((floor_ + nextFloor_ + 1) / 2);
        nextFloor_ = 0;
        nextFloorFrames_ = 0;
    }
}

unsigned SpeakerActivity::immediateOf(uint8_t activity) const {
    // Within one sub-band of the noise floor is no activity at all.
    if (activity < floor_ + kSubbandWidth) {
        return 0;
    }
    return std::min(activity / kSubbandWidth, kImmediateSubbands - 1);
}

unsigned SpeakerActivity::activeFrames(size_t firstAge) const {
    unsigned count = 0;
    for (size_t age = firstAge; age < firstAge + kMediumSubbands; ++age) {
        if (immediateOf(levelAt(age)) > kMediumThreshold) {
            ++count;
        }
    }
    return count;
}

unsigned SpeakerActivity::medium() const {
    return activeFrames(0);
}

unsigned SpeakerActivity::longTerm() const {
    unsigned count = 0;
    for (size_t span = 0; span < kLongSubbands; ++span) {
        if (activeFrames(span * kMediumSubbands) > kLongThreshold) {
            ++count;
        }
    }
    return count;
}

ActivityScores SpeakerActivity::scores() const {
    return ActivityScores{activityScore(immediate(), kImmediateSubbands, kImmediateLambda),
                          activityScore(medium(), kMediumSubbands, kMediumLambda),
                          activityScore(longTerm(), kLongSubbands, kLongLambda)};
}

ScoreRatios compareScores(const ActivityScores& candidate, const ActivityScores& reference) {
    return ScoreRatios{std::log(candidate.immediate / reference.immediate),
                       std::log(candidate.medium / reference.medium),
                       std::log(candidate.longTerm / reference.longTerm)};
}

bool outdoes(const ScoreRatios& ratios) {
    return ratios.immediate > kC1 && ratios.medium > kC2 && ratios.longTerm > kC3;
}

} // namespace sfu::audio
