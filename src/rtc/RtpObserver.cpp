#include "rtc/RtpObserver.hpp"

#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

bool RtpObserver::observes(const Producer& producer) const {
    return std::find(producers_.begin(), producers_.end(), &producer) != producers_.end();
}

uint8_t RtpObserver::audioLevelId(const Producer& producer) {
    // The producer rewrites its sender's ids to the canonical ones and drops
    // the elements it does not know.
    return producer.extensionIds().get(rtp::ExtensionType::SsrcAudioLevel) != 0
               ? static_cast<uint8_t>(rtp::ExtensionType::SsrcAudioLevel)
               : 0;
}

void RtpObserver::pause() {
    if (!paused_) {
        paused_ = true;
        onPaused();
    }
}

void RtpObserver::resume() {
    if (paused_) {
        paused_ = false;
        onResumed();
    }
}

void RtpObserver::addProducer(Producer& producer) {
    if (producer.kind() != params::MediaKind::Audio) {
        throw TypeError("not an audio producer");
    }
    if (observes(producer)) {
        return;
    }
    producers_.push_back(&producer);
    onProducerAdded(producer);
}

void RtpObserver::removeProducer(Producer& producer) {
    const auto it = std::find(producers_.begin(), producers_.end(), &producer);
    if (it == producers_.end()) {
        return;
    }
    producers_.erase(it);
    onProducerRemoved(producer);
}

void RtpObserver::producerPaused(Producer& producer) {
    if (observes(producer)) {
        onProducerPaused(producer);
    }
}

void RtpObserver::producerResumed(Producer& producer) {
    if (observes(producer)) {
        onProducerResumed(producer);
    }
}

} // namespace sfu::rtc
