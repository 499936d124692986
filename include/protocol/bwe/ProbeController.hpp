// When to probe for more bandwidth, and at which rates.
//
// Contract:
//  - start() (once the bounds and start bitrate are known and packets can
//    flow) asks for two clusters at 3x and 6x the start bitrate, capped at the
//    maximum, and waits for their result.
//  - While waiting, an estimate above 70% of the last probe's rate asks for
//    the next probe at 2x that estimate (exponential probing); waiting ends
//    1 s after the last probe without such an estimate.
//  - Afterwards, a probe at 2x the estimate (capped at the maximum) is asked
//    for every `periodicIntervalUs` (5 s) while in ALR, or while the desired
//    bitrate (what consumers want) is above the estimate by 10% or more and
//    the estimate is not known to sit at the link's capacity (`atCapacity`:
//    the delay-based controller found the bottleneck there); it starts a new
//    exponential search. Raising the maximum above an estimate
//    that was held at the old maximum probes at the new maximum.
//  - No probe is asked for at or above the maximum once the estimate is
//    there, nor below 1.2x the estimate.
// Requests queue in a small fixed array; takeRequest() pops the oldest.
// Cluster ids increase from 1.
#pragma once

#include "protocol/bwe/Types.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::bwe {

struct ProbeRequest {
    int32_t id = kNoProbeCluster;
    int64_t bitrateBps = 0;
    uint32_t minPackets = 5;
    int64_t durationUs = 15'000;
    // A link's token bucket lets a burst of a packet or two through at line
    // rate, which would make a smaller cluster look like a faster link than
    // it is: no cluster holds less than this.
    static constexpr int64_t kMinClusterBytes = 7'200;
    // The bytes the cluster should hold at least: the rate over its
    // duration, or kMinClusterBytes (sent at the rate, over a longer time).
    int64_t minBytes() const {
        return std::max(bitrateBps * durationUs / 8'000'000, kMinClusterBytes);
    }
};

class ProbeController {
public:
    struct Config {
        double firstMultiplier = 3.0;
        double secondMultiplier = 6.0;
        double furtherMultiplier = 2.0;
        double furtherMinFraction = 0.7;
        int64_t waitUs = 1'000'000;
        int64_t periodicIntervalUs = 5'000'000;
        double desiredMargin = 1.1;
    };
    static constexpr size_t kMaxPending = 4;

    ProbeController() : ProbeController(Config{}) {}
    explicit ProbeController(const Config& config) : config_(config) {}

    void setMaxBitrate(int64_t bps, int64_t estimateBps, int64_t nowUs);
    void setDesiredBitrate(int64_t bps) { desiredBps_ = bps; }
    void start(int64_t startBps, int64_t nowUs);
    void onEstimate(int64_t estimateBps, int64_t nowUs);
    void process(int64_t estimateBps, bool inAlr, bool atCapacity, int64_t nowUs);

    std::optional<ProbeRequest> takeRequest();
    bool waiting() const { return state_ == State::Waiting; }
    bool started() const { return state_ != State::Init; }
    uint32_t probesRequested() const { return static_cast<uint32_t>(nextId_ - 1); }

private:
    enum class State : uint8_t { Init, Waiting, Done };

    void request(int64_t bps, int64_t nowUs);

    Config config_;
    State state_ = State::Init;
    int64_t maxBps_ = kNoBitrate;
    int64_t desiredBps_ = 0;
    int64_t minToProbeFurther_ = kNoBitrate;
    int64_t lastProbeUs_ = 0;
    int32_t nextId_ = 1;
    std::array<ProbeRequest, kMaxPending> pending_{};
    size_t pendingCount_ = 0;
};

} // namespace sfu::bwe
