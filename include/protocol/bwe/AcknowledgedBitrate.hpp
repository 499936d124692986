// The throughput of acknowledged packets: bytes reported received, over a
// sliding window of their arrival times (the receiver's clock), so that it
// measures what the path delivered rather than what the sender offered.
//
// Contract: feed received packets roughly in arrival order (one feedback at a
// time is enough); bitrate() is nullopt until the window spans `minSpanUs`.
// A jump back in arrival time by more than the window (a receiver clock
// reset) starts over. Nothing is allocated after construction.
#pragma once

#include "protocol/bwe/RateWindow.hpp"
#include "protocol/bwe/Types.hpp"

#include <cstdint>
#include <optional>

namespace sfu::bwe {

class AcknowledgedBitrate {
public:
    static constexpr int64_t kDefaultWindowUs = 500'000;
    static constexpr int64_t kBucketUs = 5'000;
    static constexpr int64_t kMinSpanUs = 150'000;

    explicit AcknowledgedBitrate(int64_t windowUs = kDefaultWindowUs)
        : window_(windowUs, kBucketUs, kMinSpanUs) {}

    void onPacket(const PacketResult& p) {
        if (!p.received) {
            return;
        }
        if (havePacket_ && p.arrivalUs < lastArrivalUs_ - window_.windowUs()) {
            window_.reset();
        }
        if (!havePacket_ || p.arrivalUs > lastArrivalUs_) {
            lastArrivalUs_ = p.arrivalUs;
        }
        havePacket_ = true;
        window_.add(p.size, p.arrivalUs);
    }

    std::optional<int64_t> bitrate() const { return window_.rate(); }

private:
    RateWindow window_;
    bool havePacket_ = false;
    int64_t lastArrivalUs_ = 0;
};

} // namespace sfu::bwe
