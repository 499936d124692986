#include "rtc/SimpleConsumer.hpp"

#include "utils/Errors.hpp"

namespace sfu::rtc {

using nlohmann::json;

SimpleConsumer::SimpleConsumer(std::string id, std::string producerId, Shared& shared,
                               Listener& listener, const json& data)
    : SimpleConsumer(std::move(id), std::move(producerId), shared, listener, data,
                     params::RtpParametersType::Simple) {
    if (streams_.size() != 1) {
        throw TypeError("a simple consumer needs exactly one encoding");
    }
}

SimpleConsumer::SimpleConsumer(std::string id, std::string producerId, Shared& shared,
                               Listener& listener, const json& data, params::RtpParametersType type)
    : Consumer(std::move(id), std::move(producerId), shared, listener, data, type) {
    if (consumableEncodings_.empty() ||
        consumableEncodings_.size() != rtpParameters_.encodings.size()) {
        throw TypeError("rtpParameters.encodings and consumableRtpEncodings must match one to one");
    }
    std::vector<uint32_t> producerSsrcs;
    for (const auto& encoding : consumableEncodings_) {
        if (!encoding.ssrc) {
            throw TypeError("missing consumableRtpEncodings[].ssrc");
        }
        producerSsrcs.push_back(*encoding.ssrc);
    }
    createStreams(producerSsrcs);
}

void SimpleConsumer::sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) {
    if (!active() || info.encodingIndex >= streams_.size()) {
        return;
    }
    const uint8_t payloadType = payloadTypes_[packet.payloadType()];
    if (payloadType == 0 && packet.payloadType() != 0) {
        return;
    }
    ConsumerStream& stream = *streams_[info.encodingIndex];
    if (const auto params = stream.decideAsIs(packet, payloadType, info)) {
        if (auto copy = stream.send(packet, *params, info)) {
            sendCopy(*copy, info);
        }
    }
}

void SimpleConsumer::onActiveChanged(bool nowActive) {
    if (nowActive) {
        // Continue each stream where it stopped, from a key frame for video.
        for (const auto& stream : streams_) {
            stream->requireSync();
        }
        requestKeyFrame();
    }
}

uint8_t SimpleConsumer::producerScore() const {
    return producerScores_.empty() ? 0 : producerScores_[0];
}

void SimpleConsumer::requestKeyFrame() {
    for (size_t i = 0; i < streams_.size(); ++i) {
        requestKeyFrame(i);
    }
}

void SimpleConsumer::requestKeyFrame(size_t streamIndex) {
    if (kind_ == params::MediaKind::Video && streamIndex < streams_.size()) {
        listener_.onConsumerKeyFrameRequested(*this, streams_[streamIndex]->producerSsrc());
    }
}

json SimpleConsumer::dump() const {
    json out = Consumer::dump();
    out["rtpStream"] = streams_[0]->dump();
    return out;
}

} // namespace sfu::rtc
