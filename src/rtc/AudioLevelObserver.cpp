#include "rtc/AudioLevelObserver.hpp"

#include "protocol/rtp/Extensions.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::rtc {

using nlohmann::json;

namespace {

constexpr uint64_t kMinIntervalMs = 250;
constexpr uint64_t kMaxIntervalMs = 5000;
// Fewer levels than this in an interval: too little to average.
constexpr uint32_t kMinLevels = 10;

const json& field(const json& data, const char* name) {
    const auto it = data.is_object() ? data.find(name) : data.end();
    if (it == data.end() || !it->is_number()) {
        throw TypeError(std::string("missing ") + name);
    }
    return *it;
}

uint16_t parseMaxEntries(const json& data) {
    const json& value = field(data, "maxEntries");
    if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
        value.get<int64_t>() > UINT16_MAX) {
        throw TypeError("invalid maxEntries value " + value.dump());
    }
    return value.get<uint16_t>();
}

int parseThreshold(const json& data) {
    const json& value = field(data, "threshold");
    const double threshold = value.get<double>();
    if (threshold < -127 || threshold > 0) {
        throw TypeError("invalid threshold value " + value.dump());
    }
    return static_cast<int>(std::lround(threshold));
}

uint64_t parseInterval(const json& data) {
    const double interval = field(data, "interval").get<double>();
    return static_cast<uint64_t>(
        std::clamp<double>(std::round(interval), kMinIntervalMs, kMaxIntervalMs));
}

} // namespace

AudioLevelObserver::AudioLevelObserver(std::string id, Shared& shared, const json& data)
    : RtpObserver(std::move(id), shared), maxEntries_(parseMaxEntries(data)),
      threshold_(parseThreshold(data)), intervalMs_(parseInterval(data)),
      timer_(shared.loop, [this] { update(); }) {
    timer_.start(intervalMs_, intervalMs_);
}

void AudioLevelObserver::receiveRtpPacket(Producer& producer, const rtp::RtpPacket& packet,
                                          const RtpForwardInfo& info) {
    // A retransmission repeats a level already counted.
    if (paused() || info.retransmitted) {
        return;
    }
    for (Levels& levels : levels_) {
        if (levels.producer != &producer) {
            continue;
        }
        if (const auto level = rtp::packetAudioLevel(packet, levels.extensionId)) {
            levels.sum += level->level;
            ++levels.count;
        }
        return;
    }
}

void AudioLevelObserver::update() {
    if (paused()) {
        return;
    }
    entries_.clear();
    for (const Levels& levels : levels_) {
        if (levels.count < kMinLevels) {
            continue;
        }
        const int volume = -static_cast<int>(
            std::lround(static_cast<double>(levels.sum) / static_cast<double>(levels.count)));
        if (volume >= threshold_) {
            entries_.push_back(Entry{levels.producer, volume});
        }
    }
    resetSums();

    if (entries_.empty()) {
        if (!silence_) {
            silence_ = true;
            shared_.channel.notify(id_, "silence");
        }
        return;
    }
    silence_ = false;
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.volume > b.volume; });
    json volumes = json::array();
    for (size_t i = 0; i < entries_.size() && i < maxEntries_; ++i) {
        volumes.push_back(
            json{{"producerId", entries_[i].producer->id()}, {"volume", entries_[i].volume}});
    }
    shared_.channel.notify(id_, "volumes", volumes);
}

void AudioLevelObserver::resetSums() {
    for (Levels& levels : levels_) {
        levels.sum = 0;
        levels.count = 0;
    }
}

void AudioLevelObserver::onPaused() {
    timer_.stop();
    resetSums();
    if (!silence_) {
        silence_ = true;
        shared_.channel.notify(id_, "silence");
    }
}

void AudioLevelObserver::onResumed() {
    resetSums();
    timer_.start(intervalMs_, intervalMs_);
}

void AudioLevelObserver::onProducerAdded(Producer& producer) {
    levels_.push_back(Levels{&producer, audioLevelId(producer)});
}

void AudioLevelObserver::onProducerRemoved(Producer& producer) {
    std::erase_if(levels_, [&](const Levels& levels) { return levels.producer == &producer; });
}

void AudioLevelObserver::onProducerPaused(Producer& producer) {
    // What it sent before the pause is not its volume now.
    for (Levels& levels : levels_) {
        if (levels.producer == &producer) {
            levels.sum = 0;
            levels.count = 0;
        }
    }
}

void AudioLevelObserver::onProducerResumed(Producer& producer) {
    (void)producer;
}

} // namespace sfu::rtc
