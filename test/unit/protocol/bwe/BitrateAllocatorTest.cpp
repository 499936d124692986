// The bitrate allocator against its contract: lowest layers first, raising
// by priority, preferred caps, fixed costs, and the hysteresis that keeps a
// noisy estimate from switching layers back and forth.
#include "protocol/bwe/BitrateAllocator.hpp"

#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace sfu::bwe::test {
namespace {

using Layer = BitrateAllocator::Layer;
using Request = BitrateAllocator::Request;

constexpr int64_t kHold = 3000;

// Three streams of one temporal layer each: 100, 300 and 900 kbit/s, the
// top `top` of them offered (a preferred cap).
Request simulcast(uint64_t key, uint32_t priority = 1, int top = 2) {
    Request r;
    r.key = key;
    r.priority = priority;
    const int64_t bps[] = {100'000, 300'000, 900'000};
    for (int s = 0; s <= top; ++s) {
        r.layers.push_back({{s, 0}, bps[s]});
    }
    return r;
}

Request fixed(uint64_t key, int64_t bps) {
    Request r;
    r.key = key;
    r.fixedBps = bps;
    return r;
}

class Allocator : public ::testing::Test {
protected:
    std::vector<Layer> run(int64_t available, int64_t nowMs) {
        std::vector<Layer> out;
        allocator_.allocate(available, nowMs, requests_, out);
        return out;
    }
    // A first run whose budget covers only the lowest layers: every
    // consumer has started, on its lowest layer; the time moves on 1 ms.
    void start() {
        run(150'000 * static_cast<int64_t>(requests_.size()), now_);
        ++now_;
    }
    // Runs twice, a hold apart: what the allocation settles on.
    std::vector<Layer> settle(int64_t available) {
        run(available, now_);
        now_ += kHold;
        return run(available, now_);
    }

    BitrateAllocator allocator_{BitrateAllocator::Config{0.1, kHold}};
    std::vector<Request> requests_;
    int64_t now_ = 1000;
};

constexpr Layer L(int spatial) {
    return Layer{spatial, 0};
}
constexpr Layer kNone = BitrateAllocator::kNoLayer;

TEST_F(Allocator, EveryoneGetsTheLowestLayerBeforeAnyoneGoesHigher) {
    requests_ = {simulcast(1), simulcast(2), simulcast(3)};
    // 350 kbit/s: three lowest layers (300), not one more step (+ 220).
    EXPECT_EQ(settle(350'000), (std::vector<Layer>{L(0), L(0), L(0)}));
}

TEST_F(Allocator, PriorityDecidesWhoGetsTheLowestLayerWhenNotAllFit) {
    requests_ = {simulcast(1, 1), simulcast(2, 3), simulcast(3, 2)};
    EXPECT_EQ(run(250'000, now_), (std::vector<Layer>{kNone, L(0), L(0)}));
}

TEST_F(Allocator, HigherPriorityIsRaisedFirst) {
    requests_ = {simulcast(1, 1), simulcast(2, 2)};
    // Lowest for both (200), then the priority 2 one to the top
    // (990 - 100 more); the rest (110) does not lift the other to 330.
    EXPECT_EQ(settle(1'200'000), (std::vector<Layer>{L(0), L(2)}));
    // Swapping the priorities swaps the outcome (down at once for one, up
    // after the hold for the other).
    requests_[0].priority = 2;
    requests_[1].priority = 1;
    EXPECT_EQ(run(1'200'000, now_), (std::vector<Layer>{L(0), L(0)}));
    now_ += kHold;
    EXPECT_EQ(run(1'200'000, now_), (std::vector<Layer>{L(2), L(0)}));
}

TEST_F(Allocator, EqualPrioritiesAreRaisedInTurn) {
    requests_ = {simulcast(1), simulcast(2)};
    // 700 kbit/s: both at the middle (2 x 330), rather than one at the top.
    EXPECT_EQ(settle(700'000), (std::vector<Layer>{L(1), L(1)}));
}

TEST_F(Allocator, PreferredLayersCapEvenWithBitrateToSpare) {
    requests_ = {simulcast(1, 1, 1), simulcast(2, 1, 0)};
    EXPECT_EQ(settle(100'000'000), (std::vector<Layer>{L(1), L(0)}));
}

TEST_F(Allocator, FixedCostsAreTakenFirst) {
    requests_ = {simulcast(1), fixed(2, 64'000)};
    EXPECT_EQ(run(150'000, now_), (std::vector<Layer>{kNone, kNone}));
    EXPECT_EQ(run(170'000, now_), (std::vector<Layer>{L(0), kNone}));
    // An inactive fixed cost costs nothing.
    requests_[1].active = false;
    requests_[1].fixedBps = 10'000'000;
    EXPECT_EQ(run(170'000, now_), (std::vector<Layer>{L(0), kNone}));
}

TEST_F(Allocator, GoingUpWaitsForTheHoldAndGoingDownIsPrompt) {
    requests_ = {simulcast(1)};
    start();
    EXPECT_EQ(run(2'000'000, now_), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(2'000'000, now_ + kHold - 1), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(2'000'000, now_ + kHold), std::vector<Layer>{L(2)});
    // The estimate falls below the top layer: down on the next run.
    EXPECT_EQ(run(800'000, now_ + kHold + 1), std::vector<Layer>{L(1)});
    EXPECT_EQ(run(50'000, now_ + kHold + 2), std::vector<Layer>{kNone});
    // The lowest layer comes back without a hold.
    EXPECT_EQ(run(150'000, now_ + kHold + 3), std::vector<Layer>{L(0)});
}

TEST_F(Allocator, GoingUpNeedsTheMarginKeepingDoesNot) {
    requests_ = {simulcast(1)};
    // 300 kbit/s covers the middle layer but not with a 10% margin.
    EXPECT_EQ(settle(300'000), std::vector<Layer>{L(0)});
    EXPECT_EQ(settle(330'000), std::vector<Layer>{L(1)});
    // Once held, it is kept as long as its bitrate is covered.
    EXPECT_EQ(settle(300'000), std::vector<Layer>{L(1)});
    EXPECT_EQ(run(299'999, now_), std::vector<Layer>{L(0)});
}

TEST_F(Allocator, ADipRestartsTheHold) {
    requests_ = {simulcast(1)};
    start();
    run(400'000, now_);
    run(400'000, now_ + 2000);
    // One run where the middle layer does not fit with its margin.
    run(320'000, now_ + 2100);
    EXPECT_EQ(run(400'000, now_ + 2200), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(400'000, now_ + 2200 + kHold - 1), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(400'000, now_ + 2200 + kHold), std::vector<Layer>{L(1)});
}

TEST_F(Allocator, AfterTheHoldTheLowestLayerWantedThroughoutIsGranted) {
    requests_ = {simulcast(1)};
    start();
    run(2'000'000, now_);
    // The top fitted only part of the time, the middle all of it.
    run(400'000, now_ + 1000);
    EXPECT_EQ(run(2'000'000, now_ + kHold), std::vector<Layer>{L(1)});
    // The top takes a hold of its own from there.
    EXPECT_EQ(run(2'000'000, now_ + 2 * kHold - 1), std::vector<Layer>{L(1)});
    EXPECT_EQ(run(2'000'000, now_ + 2 * kHold), std::vector<Layer>{L(2)});
}

TEST_F(Allocator, BitrateWaitingForAHoldIsKeptFromLowerPriorities) {
    requests_ = {simulcast(1, 1)};
    EXPECT_EQ(settle(1'200'000), std::vector<Layer>{L(2)});
    // A priority 2 consumer joins: the bitrate of the top layer it is to get
    // after its hold is kept for it, so the other one drops at once.
    requests_.push_back(simulcast(2, 2));
    run(300'000, now_ + 1); // it starts on its lowest layer
    EXPECT_EQ(run(1'200'000, now_ + 2), (std::vector<Layer>{L(0), L(0)}));
    EXPECT_EQ(run(1'200'000, now_ + 2 + kHold), (std::vector<Layer>{L(0), L(2)}));
}

TEST_F(Allocator, EverythingPausedGetsNothingAndCostsNothing) {
    requests_ = {simulcast(1), simulcast(2), fixed(3, 500'000)};
    EXPECT_EQ(settle(10'000'000), (std::vector<Layer>{L(2), L(2), kNone}));
    for (auto& r : requests_) {
        r.active = false;
    }
    EXPECT_EQ(run(10'000'000, now_ + 1), (std::vector<Layer>{kNone, kNone, kNone}));
    // While the others are paused the first one's fixed cost is not
    // counted: the second one keeps its top layer on 1 Mbit/s.
    requests_[1].active = true;
    EXPECT_EQ(run(1'000'000, now_ + 2), (std::vector<Layer>{kNone, L(2), kNone}));
    // Resumed, the first one takes its top layer again without a hold.
    requests_[0].active = true;
    EXPECT_EQ(run(2'000'000, now_ + 3), (std::vector<Layer>{L(2), L(2), kNone}));
}

TEST_F(Allocator, LayersThatVanishMapToTheHighestOneBelow) {
    requests_ = {simulcast(1)};
    EXPECT_EQ(settle(10'000'000), std::vector<Layer>{L(2)});
    // The top stream died: what the consumer has now is the middle one, so
    // it is kept without a hold; no more is offered.
    requests_[0].layers.pop_back();
    EXPECT_EQ(run(10'000'000, now_ + 1), std::vector<Layer>{L(1)});
}

TEST_F(Allocator, ANoisyEstimateDoesNotMakeLayersOscillate) {
    requests_ = {simulcast(1)};
    start();
    std::mt19937 rng(7);
    // Every 100 ms for 60 s, an estimate of 320 kbit/s +-15%: around the
    // middle layer's 300 kbit/s and its 330 kbit/s with the margin.
    int switches = 0;
    int runsAtMiddle = 0;
    Layer last = kNone;
    for (int step = 0; step < 600; ++step) {
        const double noise = (static_cast<double>(rng() % 3001) / 1000.0 - 1.5) / 10.0;
        const auto estimate = static_cast<int64_t>(320'000 * (1.0 + noise));
        const Layer layer = run(estimate, now_ + step * 100)[0];
        switches += step > 0 && layer != last ? 1 : 0;
        runsAtMiddle += layer == L(1) ? 1 : 0;
        last = layer;
    }
    // Going down happens when the estimate dips below 300 kbit/s; going up
    // needs 3 s above 330 kbit/s, which this noise never gives.
    EXPECT_LE(switches, 2);
    EXPECT_EQ(runsAtMiddle, 0);
}

TEST_F(Allocator, ASteadyEstimateAboveTheMarginClimbsOnceAndStays) {
    requests_ = {simulcast(1)};
    start();
    std::mt19937 rng(11);
    int switches = 0;
    Layer last = kNone;
    for (int step = 0; step < 600; ++step) {
        // 1.2 Mbit/s +-10%: always above the top layer's 990 kbit/s.
        const double noise = (static_cast<double>(rng() % 2001) / 1000.0 - 1.0) / 10.0;
        const Layer layer =
            run(static_cast<int64_t>(1'200'000 * (1.0 + noise)), now_ + step * 100)[0];
        switches += step > 0 && layer != last ? 1 : 0;
        last = layer;
    }
    EXPECT_EQ(last, L(2));
    EXPECT_EQ(switches, 1);
}

// With a longer hold for tight fits (the worker's transports: 10 s where
// the budget does not cover the layer with a 50% margin).
BitrateAllocator::Config tightHoldConfig(double upMargin, int64_t tightHoldMs) {
    BitrateAllocator::Config config;
    config.upMargin = upMargin;
    config.upHoldMs = kHold;
    config.looseMargin = 0.5;
    config.tightHoldMs = tightHoldMs;
    return config;
}

TEST_F(Allocator, ATightFitHoldsLongerOneWithRoomDoesNot) {
    allocator_ = BitrateAllocator(tightHoldConfig(0.1, 10'000));
    requests_ = {simulcast(1)};
    start();
    // 400 kbit/s: the middle layer (300) fits with its 10% margin, not with
    // 50% (450).
    EXPECT_EQ(run(400'000, now_), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(400'000, now_ + kHold), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(400'000, now_ + 9'999), std::vector<Layer>{L(0)});
    EXPECT_EQ(run(400'000, now_ + 10'000), std::vector<Layer>{L(1)});
    // 1.4 Mbit/s: the top (900) with room for 50%, 1,350: the usual hold.
    now_ += 10'001;
    EXPECT_EQ(run(1'400'000, now_), std::vector<Layer>{L(1)});
    EXPECT_EQ(run(1'400'000, now_ + kHold), std::vector<Layer>{L(2)});
}

TEST_F(Allocator, ATightFitThatLoosensDuringTheHoldIsGrantedAfterTheUsualHold) {
    allocator_ = BitrateAllocator(tightHoldConfig(0.1, 10'000));
    requests_ = {simulcast(1)};
    start();
    run(400'000, now_);
    EXPECT_EQ(run(400'000, now_ + 2'000), std::vector<Layer>{L(0)});
    // Room for the larger margin by the end of the usual hold.
    EXPECT_EQ(run(500'000, now_ + kHold), std::vector<Layer>{L(1)});
}

TEST_F(Allocator, ATightFitIsJudgedOnWhatTheOthersLeave) {
    allocator_ = BitrateAllocator(tightHoldConfig(0.1, 10'000));
    requests_ = {simulcast(1), fixed(2, 0)};
    start();
    // 520 kbit/s alone leaves room: 190 over the 330 of the middle layer
    // with its margin, where the larger margin needs 120 more ...
    EXPECT_EQ(run(520'000, now_), (std::vector<Layer>{L(0), kNone}));
    EXPECT_EQ(run(520'000, now_ + kHold), (std::vector<Layer>{L(1), kNone}));
    // ... with 100 kbit/s of audio beside it, 90: the longer hold.
    requests_ = {simulcast(3), fixed(4, 100'000)};
    now_ += kHold + 1;
    start();
    run(520'000, now_);
    EXPECT_EQ(run(520'000, now_ + kHold), (std::vector<Layer>{L(0), kNone}));
    EXPECT_EQ(run(520'000, now_ + 10'000), (std::vector<Layer>{L(1), kNone}));
}

// A layer that takes most of the link: what it costs from second to second
// (454-600 kbit/s, as VP9's 1/2 on a 600 kbit/s link) and the budget
// (560-640 kbit/s) vary, so that with a 20% margin it fits about a third
// of the runs. With the usual 3 s hold, in some minutes a stretch of fits
// comes along and the layer is tried (to fail on the link); with the
// longer hold for a tight fit it is not, in any of 100 minutes.
TEST_F(Allocator, ALayerThatTakesMostOfTheLinkIsNotTriedOnAFewLuckySeconds) {
    const auto raisesOverAMinute = [](BitrateAllocator::Config config, uint32_t seed) {
        BitrateAllocator allocator(config);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int64_t> cost(454'000, 600'000);
        std::uniform_int_distribution<int64_t> budget(560'000, 640'000);
        Request request;
        request.key = 1;
        request.layers = {{{1, 0}, 200'000}, {{1, 1}, 340'000}, {{1, 2}, 0}};
        std::vector<Layer> out;
        int raises = 0;
        for (int64_t t = 0; t < 60'000; t += 1000) {
            request.layers[2].bps = cost(rng);
            allocator.allocate(t == 0 ? 400'000 : budget(rng), t, std::span(&request, 1), out);
            raises += out[0] == Layer{1, 2} ? 1 : 0;
        }
        return raises;
    };
    int seedsRaisedWithoutTheLongerHold = 0;
    for (uint32_t seed = 1; seed <= 100; ++seed) {
        EXPECT_EQ(raisesOverAMinute(tightHoldConfig(0.2, 10'000), seed), 0) << "seed " << seed;
        seedsRaisedWithoutTheLongerHold += raisesOverAMinute(tightHoldConfig(0.2, 0), seed) > 0;
    }
    // The scenario does catch the usual hold out (in 28 of the 100).
    EXPECT_GE(seedsRaisedWithoutTheLongerHold, 10);
}

TEST_F(Allocator, StateOfForgottenOrAbsentKeysStartsOver) {
    requests_ = {simulcast(1)};
    EXPECT_EQ(settle(10'000'000), std::vector<Layer>{L(2)});
    // Starting over: a first grant, at once, at what the budget covers.
    allocator_.forget(1);
    EXPECT_EQ(run(400'000, now_ + 1), std::vector<Layer>{L(1)});
    settle(10'000'000);
    requests_ = {simulcast(2)};
    run(10'000'000, now_ + 1);
    requests_ = {simulcast(1)};
    EXPECT_EQ(run(400'000, now_ + 2), std::vector<Layer>{L(1)});
}

// A consumer's first grant needs no hold: the highest layer its share
// covers, at once. Until the layers' bitrates are known (a producer that
// just started), it starts on its lowest layer and is still starting; once
// they are, it goes to its share at once, and from then on up takes the
// hold.
TEST_F(Allocator, AFirstGrantNeedsNoHold) {
    requests_ = {simulcast(1)};
    EXPECT_EQ(run(400'000, now_), std::vector<Layer>{L(1)});
    EXPECT_EQ(run(2'000'000, now_ + 1), std::vector<Layer>{L(1)});

    requests_ = {simulcast(2)};
    for (auto& layer : requests_[0].layers) {
        layer.bps = 0;
    }
    EXPECT_EQ(run(2'000'000, now_ + 2), std::vector<Layer>{L(0)});
    requests_ = {simulcast(2)};
    EXPECT_EQ(run(2'000'000, now_ + 3), std::vector<Layer>{L(2)});
    // A budget too small for anything: nothing yet, and its share at once
    // when there is one.
    requests_ = {simulcast(3)};
    EXPECT_EQ(run(50'000, now_ + 4), std::vector<Layer>{kNone});
    EXPECT_EQ(run(400'000, now_ + 5), std::vector<Layer>{L(1)});
}

// A switch up that goes down again within the window failed: the layer is
// not granted again for the back-off (10 s, then 20 s), though the budget
// says it fits, unless the budget doubles; one that holds past the window
// ends the series.
TEST_F(Allocator, AFailedSwitchUpBacksOff) {
    requests_ = {simulcast(1)};
    EXPECT_EQ(settle(1'200'000)[0], L(2));
    const int64_t raised = now_;
    EXPECT_EQ(run(500'000, raised + 1000)[0], L(1)); // failed
    for (int64_t t = raised + 2000; t < raised + 11'000; t += 500) {
        EXPECT_EQ(run(1'200'000, t)[0], L(1)) << t - raised;
    }
    // Wanted again from the end of the back-off, granted after the hold.
    EXPECT_EQ(run(1'200'000, raised + 11'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 14'000)[0], L(2));
    // Failing again doubles the back-off.
    EXPECT_EQ(run(500'000, raised + 15'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 33'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 36'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 39'000)[0], L(2));
    // This one holds past the window: a later drop blocks nothing.
    EXPECT_EQ(run(1'200'000, raised + 45'000)[0], L(2));
    EXPECT_EQ(run(500'000, raised + 46'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 47'000)[0], L(1));
    EXPECT_EQ(run(1'200'000, raised + 50'000)[0], L(2));
}

TEST_F(Allocator, ABudgetTwiceAsLargeEndsTheBackOff) {
    requests_ = {simulcast(1)};
    EXPECT_EQ(settle(1'200'000)[0], L(2));
    const int64_t raised = now_;
    EXPECT_EQ(run(500'000, raised + 1000)[0], L(1));
    EXPECT_EQ(run(2'400'000, raised + 2000)[0], L(1));
    EXPECT_EQ(run(2'400'000, raised + 5000)[0], L(2));
}

} // namespace
} // namespace sfu::bwe::test
