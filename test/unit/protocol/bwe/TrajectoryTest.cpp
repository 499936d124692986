// The estimator driven through the simulated link: expected trajectories.
#include "protocol/bwe/LinkSimulator.hpp"

#include <cstdio>
#include <gtest/gtest.h>

namespace sfu::bwe::test {
namespace {

SendSideBandwidthEstimator::Config startAt(int64_t bps) {
    SendSideBandwidthEstimator::Config c;
    c.startBps = bps;
    return c;
}

void dump(const LinkSimulator& sim, int64_t everyMs = 1000) {
    if (std::getenv("BWE_TRACE") == nullptr) {
        return;
    }
    for (const Sample& s : sim.samples()) {
        if (s.timeMs % everyMs == 0) {
            std::printf("t=%6.1fs target=%8lld queue=%4lldms\n",
                        static_cast<double>(s.timeMs) / 1000, static_cast<long long>(s.targetBps),
                        static_cast<long long>(s.queueMs));
        }
    }
}

TEST(BweTrajectory, RampUpTo2Mbps) {
    LinkConfig link;
    link.capacityBps = 2'000'000;
    LinkSimulator sim(link, startAt(300'000));
    sim.run(30'000);
    dump(sim);
}

TEST(BweTrajectory, StepDown) {
    LinkConfig link;
    link.capacityBps = 2'000'000;
    LinkSimulator sim(link, startAt(300'000));
    sim.run(20'000);
    sim.link().capacityBps = 500'000;
    sim.run(20'000);
    dump(sim, 500);
}

TEST(BweTrajectory, StepUp) {
    LinkConfig link;
    link.capacityBps = 500'000;
    LinkSimulator sim(link, startAt(300'000));
    sim.run(20'000);
    sim.link().capacityBps = 3'000'000;
    sim.run(20'000);
    dump(sim, 500);
}

} // namespace
} // namespace sfu::bwe::test
