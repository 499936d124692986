// An ActiveSpeakerObserver (router.createActiveSpeakerObserver): follows
// the RFC 6464 levels of the observed producers with the dominant speaker
// identification of protocol/audio/SpeakerActivity and, every `interval`
// ms, names the dominant speaker to the host (`dominantspeaker`,
// {producerId}) when it changed. A speaker must speak to become dominant:
// where mediasoup's worker names its first producer at once, this one stays
// quiet while everyone is. Removing the dominant producer reconsiders at
// once. While paused, levels are ignored and nothing is decided; paused
// producers are never candidates.
#pragma once

#include "deps/UvHandles.hpp"
#include "protocol/audio/SpeakerActivity.hpp"
#include "rtc/RtpObserver.hpp"

#include <nlohmann/json.hpp>
#include <vector>

namespace sfu::rtc {

class ActiveSpeakerObserver final : public RtpObserver {
public:
    // The request data: {interval}; throws sfu::TypeError when it is not a
    // number. The interval is held within 100..5000 ms.
    ActiveSpeakerObserver(std::string id, Shared& shared, const nlohmann::json& data);

    uint64_t intervalMs() const { return intervalMs_; }
    const Producer* dominant() const { return dominant_; }

    void receiveRtpPacket(Producer& producer, const rtp::RtpPacket& packet,
                          const RtpForwardInfo& info) override;

    // A decision at `nowMs` (the timer calls it with the loop's time).
    void update(uint64_t nowMs);

private:
    void onPaused() override;
    void onResumed() override;
    void onProducerAdded(Producer& producer) override;
    void onProducerRemoved(Producer& producer) override;
    void onProducerPaused(Producer& producer) override;
    void onProducerResumed(Producer& producer) override;

    void decide();

    struct Speaker {
        Producer* producer;
        uint8_t extensionId;
        bool paused;
        audio::SpeakerActivity activity;
    };

    uint64_t intervalMs_;
    // Observation order: of equal candidates the first one wins.
    std::vector<Speaker> speakers_;
    Producer* dominant_ = nullptr;
    deps::UvTimer timer_;
};

} // namespace sfu::rtc
