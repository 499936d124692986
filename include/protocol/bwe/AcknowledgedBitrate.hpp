// The throughput of acknowledged packets: bytes reported received, over a
// sliding window of their arrival times (the receiver's clock), so that it
// measures what the path delivered rather than what the sender offered.
//
// Contract: feed received packets roughly in arrival order (one feedback at a
// time is enough); bitrate() is nullopt until the window spans kMinSpanUs.
// A jump back in arrival time by more than the window (a receiver clock
// reset) starts over. Nothing is allocated after construction.
#pragma once

#include "protocol/bwe/RateWindow.hpp"
#include "protocol/bwe/Types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::bwe {

class AcknowledgedBitrate {
public:
    static constexpr int64_t kDefaultWindowUs = 500'000;
    static constexpr int64_t kBucketUs = 5'000;
    static constexpr int64_t kMinSpanUs = 150'000;
    // The backlogged rate: over at most the last kRecentPackets received,
    // within kRecentWindowUs of arrivals.
    static constexpr size_t kRecentPackets = 64;
    static constexpr int64_t kRecentWindowUs = 150'000;
    static constexpr size_t kRecentMinPackets = 4;

    explicit AcknowledgedBitrate(int64_t windowUs = kDefaultWindowUs)
        : window_(windowUs, kBucketUs, kMinSpanUs) {}

    void onPacket(const PacketResult& p);

    std::optional<int64_t> bitrate() const { return window_.rate(); }
    // The link's rate while a queue built at it: the arrival rate of the
    // packets received lately (within kRecentWindowUs of the newest
    // arrival), when they were sent at least 1.25x faster than they arrived
    // (the bottleneck spread them, not the sender). The bytes of the first
    // arrival tick (kArrivalTickUs) arrived by the window's start and do
    // not count: a receiver that read a burst late stamps it with one time.
    // Nullopt otherwise, and with fewer than kRecentMinPackets of them.
    std::optional<int64_t> backloggedBitrate() const;
    // Whether the bottleneck had a packet waiting throughout that window:
    // each packet in it (after its first) was sent before the one received
    // before it arrived, less the path's offset with nothing queued
    // (`baseOffsetUs`, arrival in the receiver's clock minus send time, as
    // QueueDelay keeps it). False with fewer than kRecentMinPackets.
    bool keptBusy(int64_t baseOffsetUs) const;

private:
    struct Recent {
        int64_t sendUs = 0;
        int64_t arrivalUs = 0;
        uint32_t size = 0;
    };

    RateWindow window_;
    std::array<Recent, kRecentPackets> recent_{};
    size_t recentCount_ = 0;
    size_t recentNext_ = 0;
    bool havePacket_ = false;
    int64_t lastArrivalUs_ = 0;
};

} // namespace sfu::bwe
