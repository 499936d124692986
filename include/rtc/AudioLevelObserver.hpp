// An AudioLevelObserver (router.createAudioLevelObserver): every `interval`
// ms, the average RFC 6464 level of each observed producer over that
// interval, in dBov (0 loudest, -127 silence). Those at or above `threshold`
// go to the host loudest first, at most `maxEntries` of them, as a `volumes`
// notification ([{producerId, volume}]); when none is, a single `silence`
// follows the last `volumes`. As mediasoup's worker does, a producer that
// sent fewer than 10 levels in the interval is left out, and pausing the
// observer ends a run of volumes with `silence`; while paused nothing is
// counted or notified, and resuming starts a fresh interval.
#pragma once

#include "deps/UvHandles.hpp"
#include "rtc/RtpObserver.hpp"

#include <nlohmann/json.hpp>
#include <vector>

namespace sfu::rtc {

class AudioLevelObserver final : public RtpObserver {
public:
    // The request data: {maxEntries, threshold, interval}; throws
    // sfu::TypeError on a missing or invalid one. The interval is held
    // within 250..5000 ms.
    AudioLevelObserver(std::string id, Shared& shared, const nlohmann::json& data);

    uint16_t maxEntries() const { return maxEntries_; }
    int threshold() const { return threshold_; }
    uint64_t intervalMs() const { return intervalMs_; }

    void receiveRtpPacket(Producer& producer, const rtp::RtpPacket& packet,
                          const RtpForwardInfo& info) override;

    // The end of an interval (the timer calls it; tests may too).
    void update();

private:
    void onPaused() override;
    void onResumed() override;
    void onProducerAdded(Producer& producer) override;
    void onProducerRemoved(Producer& producer) override;
    void onProducerPaused(Producer& producer) override;
    void onProducerResumed(Producer& producer) override;

    void resetSums();

    struct Levels {
        Producer* producer;
        uint8_t extensionId;
        // Sum of the interval's levels in -dBov, and how many.
        uint32_t sum = 0;
        uint32_t count = 0;
    };
    struct Entry {
        Producer* producer;
        int volume;
    };

    uint16_t maxEntries_;
    int threshold_;
    uint64_t intervalMs_;
    // Observation order: equal volumes are reported in it.
    std::vector<Levels> levels_;
    std::vector<Entry> entries_;
    // No volumes since the last silence (and none yet).
    bool silence_ = true;
    deps::UvTimer timer_;
};

} // namespace sfu::rtc
