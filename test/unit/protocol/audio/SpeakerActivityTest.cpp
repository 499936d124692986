// Dominant speaker scoring: what silence, noise, a steady tone and speech
// score, how the noise floor and idle time shape the spans, and when one
// speaker outdoes another.
#include "protocol/audio/SpeakerActivity.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace sfu::audio {
namespace {

// Feeds `frames` frames of level `minusDbov` from `nowMs` on, one per 20 ms.
uint64_t feed(SpeakerActivity& speaker, uint64_t nowMs, uint8_t minusDbov, int frames) {
    for (int i = 0; i < frames; ++i) {
        speaker.addLevel(minusDbov, nowMs);
        nowMs += kFrameMs;
    }
    return nowMs;
}

// Speech as it comes from a microphone: syllables at `minusDbov` with short
// pauses down to the room noise (-60 dBov): 2 frames off, then 8 on (so
// that whole periods end on a syllable).
uint64_t speak(SpeakerActivity& speaker, uint64_t nowMs, uint8_t minusDbov, int frames) {
    for (int i = 0; i < frames; ++i) {
        speaker.addLevel(i % 10 < 2 ? 60 : minusDbov, nowMs);
        nowMs += kFrameMs;
    }
    return nowMs;
}

bool outdoesSilence(const SpeakerActivity& speaker) {
    return outdoes(compareScores(speaker.scores(), silentScores()));
}

TEST(ActivityScore, FlooredAtPositiveAndGrowingWithActivity) {
    EXPECT_GT(activityScore(0, kImmediateSubbands, 0.78), 0.0);
    EXPECT_LT(activityScore(0, kImmediateSubbands, 0.78), 1e-6);
    for (unsigned k = 1; k < kMediumSubbands; ++k) {
        EXPECT_GT(activityScore(k + 1, kMediumSubbands, 24), activityScore(k, kMediumSubbands, 24));
    }
    for (unsigned k = 1; k < kLongSubbands; ++k) {
        EXPECT_GT(activityScore(k + 1, kLongSubbands, 47), activityScore(k, kLongSubbands, 47));
    }
    // Known value: log(C(5,5) 0.5^5 / 24) + 24 * 5.
    EXPECT_NEAR(activityScore(5, kMediumSubbands, 24), 120 - std::log(32.0 * 24), 1e-9);
    // More active sub-bands than there are count as all of them.
    EXPECT_EQ(activityScore(99, kLongSubbands, 47), activityScore(10, kLongSubbands, 47));
}

TEST(SpeakerActivity, SilenceIsInactive) {
    SpeakerActivity speaker;
    feed(speaker, 1000, 127, 100);
    EXPECT_EQ(speaker.immediate(), 0u);
    EXPECT_EQ(speaker.medium(), 0u);
    EXPECT_EQ(speaker.longTerm(), 0u);
    const auto ratios = compareScores(speaker.scores(), silentScores());
    EXPECT_EQ(ratios.immediate, 0.0);
    EXPECT_EQ(ratios.medium, 0.0);
    EXPECT_EQ(ratios.longTerm, 0.0);
    EXPECT_FALSE(outdoes(ratios));
    EXPECT_EQ(speaker.noiseFloor(), 0) << "digital silence is no noise floor";
}

TEST(SpeakerActivity, RoomNoiseIsInactive) {
    SpeakerActivity speaker;
    feed(speaker, 1000, 60, 100);
    EXPECT_EQ(speaker.noiseFloor(), 127 - 60);
    EXPECT_EQ(speaker.immediate(), 0u);
    EXPECT_FALSE(outdoesSilence(speaker));
}

TEST(SpeakerActivity, SteadyToneIsTakenForTheNoiseFloor) {
    // Nothing quieter was ever heard: the tone is the room.
    SpeakerActivity speaker;
    feed(speaker, 1000, 10, 100);
    EXPECT_EQ(speaker.noiseFloor(), 117);
    EXPECT_EQ(speaker.medium(), 0u);
    EXPECT_FALSE(outdoesSilence(speaker));
}

TEST(SpeakerActivity, SpeechAboveTheRoomIsActive) {
    SpeakerActivity speaker;
    uint64_t now = feed(speaker, 1000, 60, 50);
    EXPECT_FALSE(outdoesSilence(speaker));
    speak(speaker, now, 10, 50);
    // -10 dBov: 117 activity units, sub-band 11 of 13.
    EXPECT_EQ(speaker.immediate(), 11u);
    EXPECT_EQ(speaker.medium(), kMediumSubbands);
    EXPECT_GE(speaker.longTerm(), 5u);
    EXPECT_TRUE(outdoesSilence(speaker));
}

TEST(SpeakerActivity, ClippingIsTheLoudestAndOutOfRangeLevelsAreSilence) {
    SpeakerActivity speaker;
    uint64_t now = feed(speaker, 1000, 60, 10);
    now = feed(speaker, now, 0, 1);
    EXPECT_EQ(speaker.immediate(), kImmediateSubbands - 1) << "0 dBov is the loudest level";
    now = feed(speaker, now, 127, 1);
    EXPECT_EQ(speaker.immediate(), 0u);
    feed(speaker, now, 200, 1);
    EXPECT_EQ(speaker.immediate(), 0u) << "beyond 127 reads as 127";
}

TEST(SpeakerActivity, IdleTimeIsSilence) {
    SpeakerActivity speaker;
    uint64_t now = feed(speaker, 1000, 60, 50);
    now = speak(speaker, now, 10, 50);
    ASSERT_TRUE(outdoesSilence(speaker));
    // Within the idle timeout nothing changes.
    speaker.idle(now + kLevelIdleMs - kFrameMs - 1);
    EXPECT_TRUE(outdoesSilence(speaker));
    // A second without levels fills the whole window with silence.
    speaker.idle(now + 1000);
    EXPECT_EQ(speaker.medium(), 0u);
    EXPECT_EQ(speaker.longTerm(), 0u);
    EXPECT_FALSE(outdoesSilence(speaker));
}

TEST(SpeakerActivity, NeverHeardStaysSilentWhenIdle) {
    SpeakerActivity speaker;
    speaker.idle(5000);
    EXPECT_FALSE(outdoesSilence(speaker));
    EXPECT_EQ(speaker.noiseFloor(), 0);
}

TEST(SpeakerActivity, TheFloorRisesAfterAWindowAboveIt) {
    SpeakerActivity speaker;
    uint64_t now = feed(speaker, 1000, 80, 1); // one quiet frame: floor 47
    ASSERT_EQ(speaker.noiseFloor(), 47);
    now = feed(speaker, now, 40, kFloorWindowFrames - 1);
    EXPECT_EQ(speaker.noiseFloor(), 47) << "not before the window is full";
    feed(speaker, now, 40, 1);
    EXPECT_EQ(speaker.noiseFloor(), (47 + 87 + 1) / 2);
    speaker.reset();
    EXPECT_EQ(speaker.noiseFloor(), 0);
}

// A talks, then falls quiet while B starts: B outdoes A within a bounded
// number of frames, and not while A is still talking as loud.
TEST(SpeakerActivity, TurnTakingHandsOverWithinASecondOrSo) {
    SpeakerActivity a;
    SpeakerActivity b;
    uint64_t now = 1000;
    feed(b, now, 60, 100);
    now = speak(a, now, 10, 100);
    ASSERT_FALSE(outdoes(compareScores(b.scores(), a.scores())));
    ASSERT_TRUE(outdoes(compareScores(a.scores(), b.scores())));

    int frames = 0;
    while (!outdoes(compareScores(b.scores(), a.scores())) && frames < 500) {
        a.addLevel(60, now);
        b.addLevel(frames % 10 < 2 ? 60 : 20, now);
        now += kFrameMs;
        ++frames;
    }
    EXPECT_LT(frames, 75) << "B should take over within 1.5 s of A falling quiet";
    EXPECT_GT(frames, 5) << "not on its first syllable: the long span needs more";
}

TEST(SpeakerActivity, EquallyActiveSpeakersDoNotOutdoEachOther) {
    SpeakerActivity a;
    SpeakerActivity b;
    feed(a, 1000, 60, 20);
    feed(b, 1000, 60, 20);
    speak(a, 1400, 10, 200);
    speak(b, 1400, 30, 200);
    EXPECT_FALSE(outdoes(compareScores(b.scores(), a.scores())));
    EXPECT_FALSE(outdoes(compareScores(a.scores(), b.scores())));
}

// A long run: times crossing 2^32 ms (a host up for 50 days) and the level
// ring wrapping many times, over several noise floor windows. A talker
// stays active at the end of every syllable, room noise and idle time stay
// silent, and talking after a long gap is active again.
TEST(SpeakerActivity, ScoresStaySaneAcrossTimeAndRingWraps) {
    SpeakerActivity speaker;
    const uint64_t wrapMs = uint64_t{1} << 32;
    uint64_t now = wrapMs - 500 * kFrameMs;
    now = feed(speaker, now, 60, 100);
    ASSERT_EQ(speaker.noiseFloor(), 127 - 60);

    // Talking: 3 floor windows, 45 turns of the ring, crossing 2^32 ms.
    const int talkFrames = static_cast<int>(3 * kFloorWindowFrames);
    static_assert(3 * kFloorWindowFrames > 40 * kLevelFrames);
    // A ring of speech first: the long span needs it.
    now = speak(speaker, now, 10, static_cast<int>(kLevelFrames));
    bool crossed = false;
    for (int period = 0; period < talkFrames / 10; ++period) {
        now = speak(speaker, now, 10, 10);
        crossed = crossed || now > wrapMs;
        ASSERT_EQ(speaker.immediate(), 11u) << "period " << period;
        ASSERT_EQ(speaker.medium(), kMediumSubbands) << "period " << period;
        ASSERT_GE(speaker.longTerm(), 5u) << "period " << period;
        ASSERT_TRUE(outdoesSilence(speaker)) << "period " << period;
    }
    EXPECT_TRUE(crossed);
    EXPECT_EQ(speaker.noiseFloor(), 127 - 60) << "the pauses keep the floor at the room";

    // Room noise: silent from the moment the ring holds no speech, every
    // frame, for many more turns of the ring.
    now = feed(speaker, now, 60, static_cast<int>(kLevelFrames));
    for (size_t i = 0; i < 20 * kLevelFrames + 7; ++i) {
        now = feed(speaker, now, 60, 1);
        ASSERT_EQ(speaker.immediate(), 0u) << "frame " << i;
        ASSERT_EQ(speaker.medium(), 0u) << "frame " << i;
        ASSERT_EQ(speaker.longTerm(), 0u) << "frame " << i;
        ASSERT_FALSE(outdoesSilence(speaker)) << "frame " << i;
    }

    // Talking again, then a gap of ten rings without levels: silent; then
    // talking once more: active again.
    now = speak(speaker, now, 10, 50);
    ASSERT_TRUE(outdoesSilence(speaker));
    now += 10 * kLevelFrames * kFrameMs + 3;
    speaker.idle(now);
    EXPECT_EQ(speaker.medium(), 0u);
    EXPECT_EQ(speaker.longTerm(), 0u);
    EXPECT_FALSE(outdoesSilence(speaker));
    speak(speaker, now, 10, 50);
    EXPECT_EQ(speaker.medium(), kMediumSubbands);
    EXPECT_TRUE(outdoesSilence(speaker));
}

} // namespace
} // namespace sfu::audio
