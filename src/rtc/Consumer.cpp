#include "rtc/Consumer.hpp"

#include "Logger.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

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
        rembFeedback_ = rembFeedback_ || codec.supportsRemb();
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
        listener_.onConsumerAllocationInputChanged(*this);
    }
}

void Consumer::createStreams(const std::vector<uint32_t>& producerSsrcs) {
    const ConsumerStream::Endpoint endpoint{rtpParameters_, kind_, cname_, extensionIdMap_};
    for (size_t i = 0; i < rtpParameters_.encodings.size(); ++i) {
        streams_.push_back(std::make_unique<ConsumerStream>(endpoint, rtpParameters_.encodings[i],
                                                            producerSsrcs.at(i)));
    }
}

void Consumer::setProducer(Producer& producer) {
    producer_ = &producer;
    producerPaused_ = producer.paused();
    producerScores_ = producer.encodingScores();
    onProducerScores();
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
    // The target may move with the scores, and the score reported with it.
    onProducerScores();
    emitScore();
    listener_.onConsumerAllocationInputChanged(*this);
}

void Consumer::setTransportConnected(bool connected) {
    if (transportConnected_ == connected) {
        return;
    }
    const bool wasActive = active();
    transportConnected_ = connected;
    updateActive(wasActive);
}

std::optional<size_t> Consumer::streamIndexBySsrc(uint32_t ssrc) const {
    for (size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i]->ssrc() == ssrc) {
            return i;
        }
    }
    return std::nullopt;
}

std::vector<uint32_t> Consumer::ssrcs() const {
    std::vector<uint32_t> out;
    for (const auto& stream : streams_) {
        out.push_back(stream->ssrc());
    }
    return out;
}

std::vector<uint32_t> Consumer::rtxSsrcs() const {
    std::vector<uint32_t> out;
    for (const auto& stream : streams_) {
        if (const auto rtx = stream->rtxSsrc()) {
            out.push_back(*rtx);
        }
    }
    return out;
}

void Consumer::collectSenderReports(std::vector<std::pair<uint32_t, rtcp::SenderInfo>>& reports,
                                    uint64_t nowMs) {
    for (const auto& stream : streams_) {
        if (const auto info = stream->rtp().buildSenderInfo(nowMs)) {
            reports.emplace_back(stream->ssrc(), *info);
        }
    }
}

void Consumer::receiveRtcp(const rtcp::AddressedItem& item, uint64_t nowMs) {
    if (const auto* block = std::get_if<rtcp::ReportBlock>(&item.body)) {
        receiveReportBlock(*block);
    } else if (const auto* nack = std::get_if<rtcp::NackView>(&item.body)) {
        receiveNack(*nack, nowMs);
    } else if (const auto* request = std::get_if<rtcp::KeyFrameRequestItem>(&item.body)) {
        receiveKeyFrameRequest(request->fir, item.ssrc, nowMs);
    }
}

void Consumer::receiveReportBlock(const rtcp::ReportBlock& block) {
    const auto index = streamIndexBySsrc(block.ssrc);
    if (index && streams_[*index]->rtp().receiveReportBlock(block)) {
        emitScore();
    }
}

uint32_t Consumer::roundTripTimeMs() const {
    double rtt = 0;
    for (const auto& stream : streams_) {
        if (stream->rtp().hasRoundTripTime()) {
            rtt = std::max(rtt, stream->rtp().roundTripTimeMs());
        }
    }
    return static_cast<uint32_t>(rtt);
}

void Consumer::receiveKeyFrameRequest(bool fir, uint32_t ssrc, uint64_t nowMs) {
    (void)nowMs;
    const auto index = streamIndexBySsrc(ssrc);
    if (!index) {
        return;
    }
    streams_[*index]->rtp().countKeyFrameRequest(fir);
    const TraceEventType type = fir ? TraceEventType::Fir : TraceEventType::Pli;
    if (traceEvents_.enabled(type)) {
        emitTrace(type, "in", json{{"ssrc", ssrc}});
    }
    if (active()) {
        requestKeyFrame(*index);
    }
}

void Consumer::receiveNack(const rtcp::NackView& nack, uint64_t nowMs) {
    const auto index = streamIndexBySsrc(nack.mediaSsrc());
    if (!index) {
        return;
    }
    ConsumerStream* stream = streams_[*index].get();
    if (traceEvents_.enabled(TraceEventType::Nack)) {
        emitTrace(TraceEventType::Nack, "in", json{{"ssrc", stream->ssrc()}});
    }
    stream->receiveNack(nack, nowMs, active(), resendHook(), [&](rtp::RtpPacket& packet, bool rtx) {
        listener_.onConsumerRetransmitRtpPacket(*this, packet, rtx);
    });
}

void Consumer::sendCopy(rtp::RtpPacket& copy, const RtpForwardInfo& info) {
    if (const auto traceType = packetTraceType(traceEvents_, info.keyFrame)) {
        emitTrace(*traceType, "out", packetTraceInfo(copy, info.keyFrame));
    }
    listener_.onConsumerSendRtpPacket(*this, copy);
}

uint64_t Consumer::sendBitrate(uint64_t nowMs) {
    uint64_t bps = 0;
    for (const auto& stream : streams_) {
        bps += stream->rtp().bitrate(nowMs);
    }
    return bps;
}

uint8_t Consumer::score() const {
    return streams_.empty() ? 0 : streams_[0]->rtp().score();
}

json Consumer::setPreferredLayers(const json& data) {
    (void)data;
    return nullptr;
}

json Consumer::stats(uint64_t nowMs) {
    json out = json::array();
    for (const auto& stream : streams_) {
        out.push_back(stream->stats(nowMs));
    }
    return out;
}

void Consumer::appendProducerStats(json& out, size_t encodingIndex, uint64_t nowMs) {
    if (producer_ == nullptr || encodingIndex >= producer_->encodingCount()) {
        return;
    }
    if (RtpStreamRecv* stream = producer_->producerStream(encodingIndex).rtp()) {
        out.push_back(stream->stats(nowMs));
    }
}

json Consumer::scoreJson() const {
    return json{{"score", score()},
                {"producerScore", producerScore()},
                {"producerScores", producerScores_}};
}

void Consumer::emitScore() {
    shared_.channel.notify(id_, "score", scoreJson());
}

void Consumer::reportLayers(int spatial, int temporal) {
    if (spatial < 0) {
        temporal = -1;
    }
    if (spatial == reportedSpatial_ && temporal == reportedTemporal_) {
        return;
    }
    const bool spatialChanged = spatial != reportedSpatial_;
    reportedSpatial_ = spatial;
    reportedTemporal_ = temporal;
    shared_.channel.notify(
        id_, "layerschange",
        spatial < 0 ? json(nullptr) : json{{"spatialLayer", spatial}, {"temporalLayer", temporal}});
    if (spatialChanged) {
        emitScore();
    }
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
        // Checked as a double, which every JSON number converts to, so that
        // the conversion below is defined (a fraction is dropped).
        const double value =
            priority != request.data().end() && priority->is_number() ? priority->get<double>() : 0;
        if (!(value >= 1) || value >= 4294967296.0) {
            throw TypeError("wrong priority (must be a number from 1 to 4294967295)");
        }
        priority_ = static_cast<uint32_t>(value);
        listener_.onConsumerAllocationInputChanged(*this);
        request.accept(json{{"priority", priority_}});
        return;
    }
    case Method::ConsumerSetPreferredLayers: {
        auto layers = setPreferredLayers(request.data());
        listener_.onConsumerAllocationInputChanged(*this);
        if (layers.is_null()) {
            request.accept();
        } else {
            request.accept(std::move(layers));
        }
        return;
    }
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
