// The bitrate a probe cluster found (the probing of draft-ietf-rmcat-gcc's
// implementations): the rate it was sent at and the rate it arrived at.
//
// Contract: onPacket() takes feedback results of packets sent in a probe
// cluster. Once a cluster has had at least 80% of its packets and bytes
// received (as registered with onClusterStarted(), 5 packets and no byte
// floor for a cluster not registered), each further packet recomputes:
//   send rate = bytes but the last sent / (last send - first send)
//   receive rate = bytes but those of the first arrival tick (250 us: a
//     burst read late is stamped with one time) / (last arrival - first)
// A cluster whose intervals are empty or longer than 1 s, or whose receive
// rate is over twice its send rate (arrivals bunched), gives nothing. The
// result is min(send, receive), and 0.95 x receive when the receive rate is under 90% of the send
// rate (the link saturated: what arrived is the capacity). takeEstimate()
// returns the latest result once. Clusters not touched for 1 s are dropped;
// at most kMaxClusters are tracked (the oldest replaced).
#pragma once

#include "protocol/bwe/Types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::bwe {

class ProbeBitrateEstimator {
public:
    static constexpr size_t kMaxClusters = 8;
    static constexpr int64_t kMaxIntervalUs = 1'000'000;
    static constexpr int64_t kClusterTimeoutUs = 1'000'000;

    void onClusterStarted(int32_t id, uint32_t minPackets, int64_t minBytes, int64_t nowUs);
    // Returns the cluster's result when this packet produced one.
    std::optional<int64_t> onPacket(const PacketResult& p, int64_t nowUs);
    std::optional<int64_t> takeEstimate();
    // Whether the latest result came from a saturated link (receive rate
    // under 90% of the send rate): then it rests on the receiver's arrival
    // times alone, which a receiver that reads late bunches together.
    bool lastSaturated() const { return saturated_; }
    // The receive rate of the latest result's cluster.
    int64_t lastReceiveRate() const { return receiveBps_; }
    // The id of the latest result's cluster.
    int32_t lastClusterId() const { return clusterId_; }
    // Whether the link carried the latest result's cluster whole: neither
    // saturated nor arriving bunched (receive rate over 1.25 x the send
    // rate: the receiver read the packets late, so its times say nothing
    // of how the link spread them).
    bool lastCarriedWhole() const { return !saturated_ && !bunched_; }

private:
    struct Cluster {
        int32_t id = kNoProbeCluster;
        uint32_t minPackets = 5;
        int64_t minBytes = 0;
        int64_t touchedUs = 0;
        uint32_t received = 0;
        int64_t bytes = 0;
        int64_t firstSendUs = 0;
        int64_t lastSendUs = 0;
        uint32_t lastSendSize = 0;
        int64_t firstArrivalUs = 0;
        int64_t firstTickBytes = 0; // arrived within kArrivalTickUs of the first
        int64_t lastArrivalUs = 0;
    };

    Cluster* find(int32_t id, int64_t nowUs, bool create);

    std::array<Cluster, kMaxClusters> clusters_{};
    std::optional<int64_t> estimate_;
    int64_t receiveBps_ = 0;
    int32_t clusterId_ = kNoProbeCluster;
    bool saturated_ = false;
    bool bunched_ = false;
};

} // namespace sfu::bwe
