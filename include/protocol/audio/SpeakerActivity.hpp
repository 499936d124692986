// Dominant speaker identification after Volfin and Cohen, "Dominant speaker
// identification for multipoint videoconferencing" (2012), fed with the
// RFC 6464 audio levels senders put in their RTP packets.
//
// A SpeakerActivity takes one level per audio frame (20 ms) and keeps the
// last second of them. At each decision it scores the speaker's activity
// over three time spans: the newest frame (immediate), the last N2 frames
// (medium) and the last N2 x N3 frames (long). Each score is the log
// likelihood ratio of speech (a binomial count of active sub-bands) against
// noise (an exponential one). A candidate replaces the dominant speaker when
// the log ratios of its three scores to the dominant's exceed C1, C2 and C3;
// of several such candidates the one with the largest medium ratio wins.
// Pure computation: no clock (times are passed in), no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sfu::audio {

// Sub-bands of the immediate span: the level range is cut into N1 steps.
inline constexpr unsigned kImmediateSubbands = 13;
// Frames (immediates) per medium span.
inline constexpr unsigned kMediumSubbands = 5;
// Medium spans per long span.
inline constexpr unsigned kLongSubbands = 10;
// Decision thresholds on the log ratios of the three scores.
inline constexpr double kC1 = 3.0;
inline constexpr double kC2 = 2.0;
inline constexpr double kC3 = 0.0;
// An immediate above this counts as an active frame of a medium span, a
// medium span above kLongThreshold as an active one of the long span.
inline constexpr unsigned kMediumThreshold = 7;
inline constexpr unsigned kLongThreshold = 4;
// A sender puts one level in each packet, one packet per audio frame.
inline constexpr uint64_t kFrameMs = 20;
// No level for this long: the speaker is taken to be silent since.
inline constexpr uint64_t kLevelIdleMs = 40;
// Frames over which the noise floor may rise (15 s).
inline constexpr uint32_t kFloorWindowFrames = 15000 / kFrameMs;
inline constexpr size_t kLevelFrames = kMediumSubbands * kLongSubbands;

struct ActivityScores {
    double immediate;
    double medium;
    double longTerm;
};

// The scores of a speaker that has said nothing (every span inactive).
ActivityScores silentScores();

// The score of `active` active sub-bands out of `subbands`, for a noise
// model of parameter `lambda`; never below a small positive floor, so that
// ratios of scores stay finite.
double activityScore(unsigned active, unsigned subbands, double lambda);

class SpeakerActivity {
public:
    // One frame's RFC 6464 level, in -dBov (0 is the loudest, 127 silence;
    // larger values read as 127).
    void addLevel(uint8_t minusDbov, uint64_t nowMs);
    // When no level came for kLevelIdleMs, the frames since the last one
    // are silent ones: a speaker that stops sending falls silent.
    void idle(uint64_t nowMs);
    // Forgets every level (the noise floor too).
    void reset();

    // The scores of the levels so far.
    ActivityScores scores() const;

    // The active sub-bands of the newest frame (0..N1-1), the active frames
    // of the newest medium span (0..N2) and the active medium spans of the
    // long span (0..N3).
    unsigned immediate() const { return immediateOf(levelAt(0)); }
    unsigned medium() const;
    unsigned longTerm() const;
    // The noise floor in activity units (127 - dBov); 0 while unknown.
    uint8_t noiseFloor() const { return floor_; }

private:
    void push(uint8_t activity);
    void trackFloor(uint8_t activity);
    // The level `age` frames before the newest, in activity units.
    uint8_t levelAt(size_t age) const {
        return levels_[(head_ + kLevelFrames - age) % kLevelFrames];
    }
    unsigned immediateOf(uint8_t activity) const;
    unsigned activeFrames(size_t firstAge) const;

    // Activity units (127 - dBov: louder is larger), a ring; head_ is the
    // newest.
    std::array<uint8_t, kLevelFrames> levels_{};
    size_t head_ = 0;
    bool heard_ = false;
    uint64_t lastLevelMs_ = 0;
    uint8_t floor_ = 0;
    uint8_t nextFloor_ = 0;
    uint32_t nextFloorFrames_ = 0;
};

// Log ratios of a candidate's scores to the reference's (the dominant
// speaker's, or silentScores() when there is none).
struct ScoreRatios {
    double immediate;
    double medium;
    double longTerm;
};
ScoreRatios compareScores(const ActivityScores& candidate, const ActivityScores& reference);
// Whether the candidate outdoes the reference on all three spans.
bool outdoes(const ScoreRatios& ratios);

} // namespace sfu::audio
