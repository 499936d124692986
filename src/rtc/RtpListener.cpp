#include "rtc/RtpListener.hpp"

#include "rtc/Producer.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// The header extensions a producer's packets are demultiplexed and timed by.
constexpr rtp::ExtensionType kListenedExtensions[] = {
    rtp::ExtensionType::Mid, rtp::ExtensionType::RtpStreamId,
    rtp::ExtensionType::RepairedRtpStreamId, rtp::ExtensionType::AbsSendTime,
    rtp::ExtensionType::TransportWideCc01};

} // namespace

void RtpListener::addProducer(Producer& producer) {
    const auto& parameters = producer.rtpParameters();
    for (const auto& encoding : parameters.encodings) {
        for (const auto ssrc :
             {encoding.ssrc, encoding.rtx ? std::optional(encoding.rtx->ssrc) : std::nullopt}) {
            if (ssrc && ssrcTable_.count(*ssrc) != 0) {
                throw Error("ssrc already exists in RTP listener [ssrc:" + std::to_string(*ssrc) +
                            "]");
            }
        }
    }
    if (parameters.mid && midTable_.count(*parameters.mid) != 0) {
        throw Error("MID already exists in RTP listener [mid:" + *parameters.mid + "]");
    }

    for (size_t i = 0; i < parameters.encodings.size(); ++i) {
        const auto& encoding = parameters.encodings[i];
        const Target target{&producer, i};
        if (encoding.ssrc) {
            ssrcTable_[*encoding.ssrc] = target;
        }
        if (encoding.rtx) {
            ssrcTable_[encoding.rtx->ssrc] = target;
        }
        if (encoding.rid) {
            ridTable_.try_emplace(*encoding.rid, target);
        }
    }
    if (parameters.mid) {
        midTable_[*parameters.mid] = &producer;
    }
    for (const auto type : kListenedExtensions) {
        if (const uint8_t id = producer.extensionIds().get(type); id != 0) {
            extensionIds_.set(type, id);
        }
    }
}

void RtpListener::removeProducer(const Producer& producer) {
    std::erase_if(ssrcTable_,
                  [&](const auto& entry) { return entry.second.producer == &producer; });
    std::erase_if(midTable_, [&](const auto& entry) { return entry.second == &producer; });
    std::erase_if(ridTable_, [&](const auto& entry) { return entry.second.producer == &producer; });
}

std::optional<std::string_view> RtpListener::readSdes(const rtp::RtpPacket& packet,
                                                      rtp::ExtensionType type) const {
    const uint8_t id = extensionIds_.get(type);
    return id != 0 ? rtp::readSdes(packet.extension(id)) : std::nullopt;
}

std::optional<size_t> RtpListener::encodingByRid(const Producer& producer,
                                                 const rtp::RtpPacket& packet) const {
    // A RID names a media stream, a repaired RID its RTX stream.
    for (const auto type :
         {rtp::ExtensionType::RtpStreamId, rtp::ExtensionType::RepairedRtpStreamId}) {
        if (const auto rid = readSdes(packet, type)) {
            return producer.encodingIndexByRid(*rid);
        }
    }
    return std::nullopt;
}

std::optional<RtpListener::Target> RtpListener::find(const rtp::RtpPacket& packet) {
    if (const auto it = ssrcTable_.find(packet.ssrc()); it != ssrcTable_.end()) {
        return it->second;
    }
    std::optional<Target> target;
    if (const auto mid = readSdes(packet, rtp::ExtensionType::Mid)) {
        if (const auto it = midTable_.find(*mid); it != midTable_.end()) {
            Producer& producer = *it->second;
            if (const auto index = encodingByRid(producer, packet)) {
                target = Target{&producer, *index};
            } else if (producer.encodingCount() == 1) {
                target = Target{&producer, 0};
            }
        }
    }
    if (!target) {
        for (const auto type :
             {rtp::ExtensionType::RtpStreamId, rtp::ExtensionType::RepairedRtpStreamId}) {
            const auto rid = readSdes(packet, type);
            if (const auto it = rid ? ridTable_.find(*rid) : ridTable_.end();
                it != ridTable_.end()) {
                target = it->second;
                break;
            }
        }
    }
    if (target) {
        // Learnt: the next packets of this SSRC are found at once.
        ssrcTable_[packet.ssrc()] = *target;
    }
    return target;
}

std::optional<RtpListener::Target> RtpListener::findBySsrc(uint32_t ssrc) const {
    const auto it = ssrcTable_.find(ssrc);
    return it != ssrcTable_.end() ? std::optional(it->second) : std::nullopt;
}

json RtpListener::dump() const {
    json ssrcTable = json::object();
    for (const auto& [ssrc, target] : ssrcTable_) {
        ssrcTable[std::to_string(ssrc)] = target.producer->id();
    }
    json midTable = json::object();
    for (const auto& [mid, producer] : midTable_) {
        midTable[mid] = producer->id();
    }
    json ridTable = json::object();
    for (const auto& [rid, target] : ridTable_) {
        ridTable[rid] = target.producer->id();
    }
    return json{{"ssrcTable", std::move(ssrcTable)},
                {"midTable", std::move(midTable)},
                {"ridTable", std::move(ridTable)}};
}

} // namespace sfu::rtc
