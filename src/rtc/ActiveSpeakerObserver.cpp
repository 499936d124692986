#include "rtc/ActiveSpeakerObserver.hpp"

#include "protocol/rtp/Extensions.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::rtc {

using nlohmann::json;

namespace {

constexpr uint64_t kMinIntervalMs = 100;
constexpr uint64_t kMaxIntervalMs = 5000;

uint64_t parseInterval(const json& data) {
    const auto it = data.is_object() ? data.find("interval") : data.end();
    if (it == data.end() || !it->is_number()) {
        throw TypeError("missing interval");
    }
    return static_cast<uint64_t>(
        std::clamp<double>(std::round(it->get<double>()), kMinIntervalMs, kMaxIntervalMs));
}

} // namespace

ActiveSpeakerObserver::ActiveSpeakerObserver(std::string id, Shared& shared, const json& data)
    : RtpObserver(std::move(id), shared), intervalMs_(parseInterval(data)),
      timer_(shared.loop, [this] { update(uv_now(shared_.loop)); }) {
    timer_.start(intervalMs_, intervalMs_);
}

void ActiveSpeakerObserver::receiveRtpPacket(Producer& producer, const rtp::RtpPacket& packet,
                                             const RtpForwardInfo& info) {
    if (paused() || info.retransmitted) {
        return;
    }
    for (Speaker& speaker : speakers_) {
        if (speaker.producer != &producer) {
            continue;
        }
        if (const auto level = rtp::packetAudioLevel(packet, speaker.extensionId)) {
            speaker.activity.addLevel(level->level, info.nowMs);
        }
        return;
    }
}

void ActiveSpeakerObserver::update(uint64_t nowMs) {
    if (paused()) {
        return;
    }
    for (Speaker& speaker : speakers_) {
        speaker.activity.idle(nowMs);
    }
    decide();
}

void ActiveSpeakerObserver::decide() {
    const Speaker* current = nullptr;
    for (const Speaker& speaker : speakers_) {
        if (speaker.producer == dominant_) {
            current = &speaker;
        }
    }
    // With no dominant speaker yet, a candidate has to outdo silence.
    const audio::ActivityScores reference =
        current != nullptr ? current->activity.scores() : audio::silentScores();
    const Speaker* best = nullptr;
    double bestMedium = audio::kC2;
    for (const Speaker& speaker : speakers_) {
        if (&speaker == current || speaker.paused) {
            continue;
        }
        const auto ratios = audio::compareScores(speaker.activity.scores(), reference);
        if (audio::outdoes(ratios) && ratios.medium > bestMedium) {
            best = &speaker;
            bestMedium = ratios.medium;
        }
    }
    if (best == nullptr) {
        return;
    }
    dominant_ = best->producer;
    shared_.channel.notify(id_, "dominantspeaker", json{{"producerId", dominant_->id()}});
}

void ActiveSpeakerObserver::onPaused() {
    timer_.stop();
}

void ActiveSpeakerObserver::onResumed() {
    timer_.start(intervalMs_, intervalMs_);
}

void ActiveSpeakerObserver::onProducerAdded(Producer& producer) {
    speakers_.push_back(Speaker{&producer, audioLevelId(producer), producer.paused(), {}});
}

void ActiveSpeakerObserver::onProducerRemoved(Producer& producer) {
    std::erase_if(speakers_, [&](const Speaker& speaker) { return speaker.producer == &producer; });
    if (dominant_ == &producer) {
        dominant_ = nullptr;
        if (!paused()) {
            decide();
        }
    }
}

void ActiveSpeakerObserver::onProducerPaused(Producer& producer) {
    for (Speaker& speaker : speakers_) {
        if (speaker.producer == &producer) {
            speaker.paused = true;
        }
    }
}

void ActiveSpeakerObserver::onProducerResumed(Producer& producer) {
    for (Speaker& speaker : speakers_) {
        if (speaker.producer == &producer) {
            speaker.paused = false;
        }
    }
}

} // namespace sfu::rtc
