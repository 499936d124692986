#include "rtc/Consumer.hpp"

#include "Logger.hpp"
#include "rtc/SimpleConsumer.hpp"
#include "rtc/rtp/Extensions.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

std::unique_ptr<Consumer> Consumer::create(std::string id, std::string producerId, Shared& shared,
                                           Listener& listener, const json& data) {
    const auto type = data.find("type");
    if (type == data.end() || !type->is_string()) {
        throw TypeError("missing type");
    }
    const auto parsed = params::rtpParametersTypeFromString(type->get<std::string>());
    if (!parsed) {
        throw TypeError("invalid type '" + type->get<std::string>() + "'");
    }
    switch (*parsed) {
    case params::RtpParametersType::Simple:
        return std::make_unique<SimpleConsumer>(std::move(id), std::move(producerId), shared,
                                                listener, data);
    default:
        throw Error("not implemented: transport.consume of type '" + type->get<std::string>() +
                    "'");
    }
}

Consumer::Consumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                   const json& data, params::RtpParametersType type)
    : id_(std::move(id)), producerId_(std::move(producerId)), shared_(shared), listener_(listener),
      type_(type) {
    const auto kind = data.find("kind");
    const auto parsedKind = kind != data.end() && kind->is_string()
                                ? params::mediaKindFromString(kind->get<std::string>())
                                : std::nullopt;
    if (!parsedKind) {
        throw TypeError("missing or invalid kind");
    }
    kind_ = *parsedKind;
    rtpParameters_ = params::parseRtpParameters(data.value("rtpParameters", json()));
    for (const auto& encoding : rtpParameters_.encodings) {
        if (!encoding.ssrc) {
            throw TypeError("missing rtpParameters.encodings[].ssrc");
        }
    }
    consumableEncodings_ =
        params::parseConsumableRtpEncodings(data.value("consumableRtpEncodings", json()));
    if (const auto paused = data.find("paused"); paused != data.end() && paused->is_boolean()) {
        paused_ = paused->get<bool>();
    }
    cname_ = rtpParameters_.rtcp.cname.value_or("");
    for (const auto& codec : rtpParameters_.codecs) {
        if (codec.payloadType < 128) {
            payloadTypes_[codec.payloadType] = codec.payloadType;
        }
    }
    for (const auto& ext : rtpParameters_.headerExtensions) {
        const auto extType = rtp::extensionTypeFromUri(ext.uri);
        if (extType != rtp::ExtensionType::Unknown) {
            extensionIdMap_.set(static_cast<uint8_t>(extType), ext.id);
        }
    }
}

void Consumer::updateActive(bool wasActive) {
    if (active() != wasActive) {
        onActiveChanged(active());
    }
}

void Consumer::setInitialProducerState(bool paused, std::vector<uint8_t> scores) {
    producerPaused_ = paused;
    producerScores_ = std::move(scores);
}

void Consumer::setProducerPaused(bool paused) {
    if (producerPaused_ == paused) {
        return;
    }
    const bool wasActive = active();
    producerPaused_ = paused;
    shared_.channel.notify(id_, paused ? "producerpause" : "producerresume");
    updateActive(wasActive);
}

void Consumer::producerClosed() {
    shared_.channel.notify(id_, "producerclose");
}

void Consumer::producerScoresChanged(const std::vector<uint8_t>& scores) {
    if (scores == producerScores_) {
        return;
    }
    producerScores_ = scores;
    emitScore();
}

void Consumer::setTransportConnected(bool connected) {
    if (transportConnected_ == connected) {
        return;
    }
    const bool wasActive = active();
    transportConnected_ = connected;
    updateActive(wasActive);
}

json Consumer::scoreJson() const {
    return json{{"score", score()},
                {"producerScore", producerScore()},
                {"producerScores", producerScores_}};
}

void Consumer::emitScore() {
    shared_.channel.notify(id_, "score", scoreJson());
}

void Consumer::emitTrace(TraceEventType type, const char* direction, json info) {
    shared_.channel.notify(id_, "trace",
                           json{{"type", traceEventName(type)},
                                {"timestamp", uv_now(shared_.loop)},
                                {"direction", direction},
                                {"info", std::move(info)}});
}

void Consumer::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::ConsumerDump:
        request.accept(dump());
        return;
    case Method::ConsumerGetStats:
        request.accept(stats(uv_now(shared_.loop)));
        return;
    case Method::ConsumerPause: {
        const bool wasActive = active();
        paused_ = true;
        updateActive(wasActive);
        request.accept();
        return;
    }
    case Method::ConsumerResume: {
        const bool wasActive = active();
        paused_ = false;
        updateActive(wasActive);
        request.accept();
        return;
    }
    case Method::ConsumerSetPriority: {
        const auto priority = request.data().find("priority");
        if (priority == request.data().end() || !priority->is_number() ||
            priority->get<double>() < 1) {
            throw TypeError("wrong priority (must be a number >= 1)");
        }
        priority_ = priority->get<uint32_t>();
        request.accept(json{{"priority", priority_}});
        return;
    }
    case Method::ConsumerSetPreferredLayers:
        // A single stream has no layers to choose from.
        request.accept();
        return;
    case Method::ConsumerRequestKeyFrame:
        if (active()) {
            requestKeyFrame();
        }
        request.accept();
        return;
    case Method::ConsumerEnableTraceEvent:
        traceEvents_.set(request.data());
        request.accept();
        return;
    default:
        throw Error("unknown method '" + request.methodName() + "'");
    }
}

json Consumer::dump() const {
    json supported = json::array();
    for (const auto& codec : rtpParameters_.codecs) {
        if (codec.isMediaCodec()) {
            supported.push_back(codec.payloadType);
        }
    }
    return json{{"id", id_},
                {"producerId", producerId_},
                {"kind", params::toString(kind_)},
                {"type", params::toString(type_)},
                {"rtpParameters", params::toJson(rtpParameters_)},
                {"consumableRtpEncodings", params::toJson(consumableEncodings_)},
                {"supportedCodecPayloadTypes", std::move(supported)},
                {"paused", paused_},
                {"producerPaused", producerPaused_},
                {"priority", priority_},
                {"traceEventTypes", traceEvents_.toString()}};
}

} // namespace sfu::rtc
