#include "rtc/Producer.hpp"

#include "Logger.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

namespace {

params::MediaKind parseKind(const json& data) {
    const auto kind = data.find("kind");
    if (kind == data.end() || !kind->is_string()) {
        throw TypeError("missing kind");
    }
    const auto parsed = params::mediaKindFromString(kind->get<std::string>());
    if (!parsed) {
        throw TypeError("invalid kind '" + kind->get<std::string>() + "'");
    }
    return *parsed;
}

} // namespace

Producer::Producer(std::string id, Shared& shared, Listener& listener, const json& data)
    : id_(std::move(id)), shared_(shared), listener_(listener), kind_(parseKind(data)) {
    rtpParameters_ = params::parseRtpParameters(data.value("rtpParameters", json()));
    rtpMapping_ = params::parseRtpMapping(data.value("rtpMapping", json()));
    params::checkRtpMapping(rtpMapping_, rtpParameters_);
    for (const auto& codec : rtpParameters_.codecs) {
        if (codec.kind != kind_) {
            throw TypeError("codec " + codec.mimeType + " does not match kind");
        }
    }
    const auto type = params::classify(rtpParameters_);
    if (!type) {
        throw TypeError("unsupported combination of encodings and codecs");
    }
    type_ = *type;
    if (const auto delay = data.find("keyFrameRequestDelay");
        delay != data.end() && !delay->is_null()) {
        if (!delay->is_number_unsigned() || delay->get<uint64_t>() > UINT32_MAX) {
            throw TypeError("invalid keyFrameRequestDelay");
        }
        keyFrameRequestDelayMs_ = delay->get<uint32_t>();
    }
    if (const auto paused = data.find("paused"); paused != data.end() && !paused->is_null()) {
        if (!paused->is_boolean()) {
            throw TypeError("invalid paused");
        }
        paused_ = paused->get<bool>();
    }

    for (const auto& mapping : rtpMapping_.codecs) {
        if (mapping.payloadType < 128 && mapping.mappedPayloadType < 128) {
            mappedPayloadTypes_[mapping.payloadType] = mapping.mappedPayloadType;
        }
    }
    for (const auto& ext : rtpParameters_.headerExtensions) {
        const auto type = rtp::extensionTypeFromUri(ext.uri);
        if (type != rtp::ExtensionType::Unknown) {
            extensionIds_.set(type, ext.id);
            canonicalIds_.set(ext.id, static_cast<uint8_t>(type));
        }
    }
    for (size_t i = 0; i < rtpParameters_.encodings.size(); ++i) {
        ProducerStream::Config config;
        config.kind = kind_;
        config.encoding = rtpParameters_.encodings[i];
        config.codec = rtpParameters_.codecForEncoding(config.encoding);
        if (config.codec == nullptr) {
            throw TypeError("no media codec for encoding " + std::to_string(i));
        }
        config.rtxCodec = rtpParameters_.rtxCodecFor(config.codec->payloadType);
        config.mappedSsrc = rtpMapping_.encodings[i].mappedSsrc;
        config.cname = rtpParameters_.rtcp.cname.value_or("");
        config.keyFrameRequestDelayMs = keyFrameRequestDelayMs_;
        ProducerStream::Listener& listener = *this;
        streams_.push_back(std::make_unique<ProducerStream>(std::move(config), listener));
    }
}

std::optional<size_t> Producer::encodingIndexByRid(std::string_view rid) const {
    for (size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i]->config().encoding.rid == rid) {
            return i;
        }
    }
    return std::nullopt;
}

Producer::ReceiveResult Producer::receiveRtpPacket(size_t encodingIndex, rtp::RtpPacket& packet,
                                                   uint64_t nowMs, RtpForwardInfo& info) {
    ProducerStream& stream = *streams_[encodingIndex];
    const auto received = stream.receivePacket(packet, nowMs);
    if (!received) {
        return ReceiveResult::Discarded;
    }
    if (received->first) {
        emitScore();
    }
    info.encodingIndex = encodingIndex;
    info.codec = stream.codec();
    info.keyFrame = received->keyFrame;
    info.retransmitted = received->retransmitted;
    info.nowMs = nowMs;

    if (kind_ == params::MediaKind::Video) {
        checkVideoOrientation(packet);
    }
    // As mediasoup: the first packet of a key frame is a "keyframe" event
    // when those are enabled, and then not also an "rtp" one.
    if (const auto traceType = packetTraceType(traceEvents_, info.keyFrame)) {
        emitTrace(*traceType, "in", packetTraceInfo(packet, info.keyFrame));
    }

    // Into the router's space: consumers see mapped payload types and
    // SSRCs and canonical extension ids.
    packet.setPayloadType(mappedPayloadTypes_[packet.payloadType()]);
    packet.setSsrc(stream.mappedSsrc());
    packet.remapExtensionIds(canonicalIds_);
    info.store = stream.store(packet, nowMs);

    return paused_ ? ReceiveResult::Received : ReceiveResult::Forward;
}

void Producer::checkVideoOrientation(const rtp::RtpPacket& packet) {
    const uint8_t id = extensionIds_.get(rtp::ExtensionType::VideoOrientation);
    if (id == 0) {
        return;
    }
    const auto orientation = rtp::readVideoOrientation(packet.extension(id));
    if (!orientation) {
        return;
    }
    if (videoOrientation_.known && videoOrientation_.value.camera == orientation->camera &&
        videoOrientation_.value.flip == orientation->flip &&
        videoOrientation_.value.rotation == orientation->rotation) {
        return;
    }
    videoOrientation_.known = true;
    videoOrientation_.value = *orientation;
    shared_.channel.notify(id_, "videoorientationchange",
                           json{{"camera", orientation->camera},
                                {"flip", orientation->flip},
                                {"rotation", orientation->rotation}});
}

void Producer::receiveRtcp(const rtcp::AddressedItem& item, uint32_t ourSsrc, uint64_t nowMs) {
    if (const auto* report = std::get_if<rtcp::SenderReportItem>(&item.body)) {
        for (auto& stream : streams_) {
            if (stream->rtp() != nullptr && stream->rtp()->ssrc() == item.ssrc) {
                stream->rtp()->receiveSenderReport(report->info, nowMs);
            }
        }
    } else if (const auto* answer = std::get_if<rtcp::DlrrAnswerItem>(&item.body)) {
        // One sender, one path: its answer times every stream it sends.
        for (auto& stream : streams_) {
            stream->receiveDlrr(answer->item, ourSsrc);
        }
    }
}

void Producer::setPathRoundTripTime(uint32_t rttMs) {
    for (auto& stream : streams_) {
        stream->setPathRoundTripTime(rttMs);
    }
}

void Producer::collectReportBlocks(std::vector<rtcp::ReportBlock>& blocks, uint64_t nowMs) {
    bool scoreChanged = false;
    for (auto& stream : streams_) {
        RtpStreamRecv* rtp = stream->rtp();
        if (rtp == nullptr || !rtp->started()) {
            continue;
        }
        bool changed = false;
        blocks.push_back(rtp->buildReportBlock(nowMs, changed));
        scoreChanged = scoreChanged || changed;
    }
    if (scoreChanged) {
        emitScore();
    }
}

void Producer::tick(uint64_t nowMs) {
    for (auto& stream : streams_) {
        stream->tick(nowMs);
    }
}

void Producer::requestKeyFrame(uint32_t mappedSsrc, uint64_t nowMs) {
    if (paused_) {
        return;
    }
    for (auto& stream : streams_) {
        if (stream->mappedSsrc() == mappedSsrc) {
            stream->requestKeyFrame(nowMs);
        }
    }
}

void Producer::onProducerStreamFeedback(ProducerStream& stream, ProducerStream::Feedback type,
                                        const uint8_t* data, size_t length, size_t count) {
    const uint32_t ssrc = stream.rtp()->ssrc();
    switch (type) {
    case ProducerStream::Feedback::Nack:
        if (traceEvents_.enabled(TraceEventType::Nack)) {
            emitTrace(TraceEventType::Nack, "out", json{{"ssrc", ssrc}, {"count", count}});
        }
        break;
    case ProducerStream::Feedback::Pli:
    case ProducerStream::Feedback::Fir: {
        const auto traceType =
            type == ProducerStream::Feedback::Pli ? TraceEventType::Pli : TraceEventType::Fir;
        if (traceEvents_.enabled(traceType)) {
            emitTrace(traceType, "out", json{{"ssrc", ssrc}});
        }
        break;
    }
    }
    listener_.onProducerSendRtcp(*this, data, length);
}

json Producer::scores() const {
    json out = json::array();
    for (size_t i = 0; i < streams_.size(); ++i) {
        const ProducerStream& stream = *streams_[i];
        const RtpStreamRecv* rtp = stream.rtp();
        if (rtp == nullptr) {
            continue;
        }
        json entry{{"encodingIdx", i}, {"ssrc", rtp->ssrc()}, {"score", rtp->score()}};
        if (stream.config().encoding.rid) {
            entry["rid"] = *stream.config().encoding.rid;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<uint8_t> Producer::encodingScores() const {
    std::vector<uint8_t> out;
    out.reserve(streams_.size());
    for (const auto& stream : streams_) {
        out.push_back(stream->score());
    }
    return out;
}

void Producer::emitScore() {
    shared_.channel.notify(id_, "score", scores());
    listener_.onProducerScore(*this);
}

void Producer::emitTrace(TraceEventType type, const char* direction, json info) {
    shared_.channel.notify(id_, "trace",
                           json{{"type", traceEventName(type)},
                                {"timestamp", uv_now(shared_.loop)},
                                {"direction", direction},
                                {"info", std::move(info)}});
}

void Producer::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::ProducerDump:
        request.accept(dump());
        return;
    case Method::ProducerGetStats:
        request.accept(stats(uv_now(shared_.loop)));
        return;
    case Method::ProducerPause:
        if (!paused_) {
            paused_ = true;
            listener_.onProducerPaused(*this);
        }
        request.accept();
        return;
    case Method::ProducerResume:
        if (paused_) {
            paused_ = false;
            listener_.onProducerResumed(*this);
        }
        request.accept();
        return;
    case Method::ProducerEnableTraceEvent:
        traceEvents_.set(request.data());
        request.accept();
        return;
    default:
        throw Error("unknown method '" + request.methodName() + "'");
    }
}

json Producer::dump() const {
    json streams = json::array();
    for (const auto& stream : streams_) {
        if (const RtpStreamRecv* rtp = stream->rtp()) {
            streams.push_back(json{{"params",
                                    {{"ssrc", rtp->ssrc()},
                                     {"payloadType", rtp->params().payloadType},
                                     {"mimeType", rtp->params().mimeType},
                                     {"clockRate", rtp->params().clockRate},
                                     {"rid", rtp->params().rid},
                                     {"cname", rtp->params().cname}}},
                                   {"score", rtp->score()}});
        }
    }
    return json{{"id", id_},
                {"kind", params::toString(kind_)},
                {"type", params::toString(type_)},
                {"rtpParameters", params::toJson(rtpParameters_)},
                {"rtpMapping", params::toJson(rtpMapping_)},
                {"rtpStreams", std::move(streams)},
                {"paused", paused_},
                {"traceEventTypes", traceEvents_.toString()}};
}

json Producer::stats(uint64_t nowMs) {
    json out = json::array();
    for (auto& stream : streams_) {
        if (RtpStreamRecv* rtp = stream->rtp()) {
            json entry = rtp->stats(nowMs);
            if (stream->hasRoundTripTime()) {
                entry["roundTripTime"] = stream->roundTripTimeMs();
            }
            out.push_back(std::move(entry));
        }
    }
    return out;
}

} // namespace sfu::rtc
