// An RTP observer: watches the audio of a set of producers of its router and
// tells the host about it (AudioLevelObserver, ActiveSpeakerObserver). The
// router owns it, resolves the producers of rtpObserver.addProducer and
// .removeProducer, hands it the packets of the producers it observes only,
// and tells it when one of them is paused, resumed or closed (closing is
// removal). Destroying the observer closes it without a word to the host.
// The packet path (receiveRtpPacket) neither allocates nor throws.
#pragma once

#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/Producer.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "rtc/Shared.hpp"

#include <string>
#include <vector>

namespace sfu::rtc {

class RtpObserver {
public:
    RtpObserver(std::string id, Shared& shared) : id_(std::move(id)), shared_(shared) {}
    virtual ~RtpObserver() = default;
    RtpObserver(const RtpObserver&) = delete;
    RtpObserver& operator=(const RtpObserver&) = delete;

    const std::string& id() const { return id_; }
    bool paused() const { return paused_; }
    const std::vector<Producer*>& producers() const { return producers_; }
    bool observes(const Producer& producer) const;

    void pause();
    void resume();
    // Throws sfu::TypeError for a producer this observer cannot watch.
    // Adding an observed producer again, or removing one that is not, does
    // nothing.
    void addProducer(Producer& producer);
    void removeProducer(Producer& producer);
    void producerPaused(Producer& producer);
    void producerResumed(Producer& producer);

    // A packet of an observed producer, in the router's space: canonical
    // header extension ids (rtp::ExtensionType values).
    virtual void receiveRtpPacket(Producer& producer, const rtp::RtpPacket& packet,
                                  const RtpForwardInfo& info) = 0;

protected:
    // The id of ssrc-audio-level in the router's space, when the producer's
    // sender negotiated it (0 otherwise).
    static uint8_t audioLevelId(const Producer& producer);

    virtual void onPaused() = 0;
    virtual void onResumed() = 0;
    virtual void onProducerAdded(Producer& producer) = 0;
    virtual void onProducerRemoved(Producer& producer) = 0;
    virtual void onProducerPaused(Producer& producer) = 0;
    virtual void onProducerResumed(Producer& producer) = 0;

    std::string id_;
    Shared& shared_;

private:
    bool paused_ = false;
    std::vector<Producer*> producers_;
};

} // namespace sfu::rtc
