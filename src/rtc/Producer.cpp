#include "rtc/Producer.hpp"

#include "Logger.hpp"
#include "rtc/recovery/NackGenerator.hpp"
#include "rtc/rtcp/Feedback.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

namespace {

// Round trip assumed for NACK spacing until the transport has measured one.
constexpr uint32_t kDefaultRttMs = 100;

// The SSRC our feedback claims to come from; any value works for senders.
constexpr uint32_t kFeedbackSenderSsrc = 1;

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
    encodings_.resize(rtpParameters_.encodings.size());
    for (size_t i = 0; i < encodings_.size(); ++i) {
        Encoding& encoding = encodings_[i];
        encoding.params = rtpParameters_.encodings[i];
        encoding.mappedSsrc = rtpMapping_.encodings[i].mappedSsrc;
        encoding.codec = rtpParameters_.codecForEncoding(encoding.params);
        if (encoding.codec == nullptr) {
            throw TypeError("no media codec for encoding " + std::to_string(i));
        }
        encoding.codecType = codecs::codecFromMimeType(encoding.codec->mimeType);
        encoding.rtxCodec = rtpParameters_.rtxCodecFor(encoding.codec->payloadType);
        if (encoding.params.rtx) {
            encoding.rtxSsrc = encoding.params.rtx->ssrc;
        }
        if (kind_ == params::MediaKind::Video && encoding.codec->supportsNack()) {
            encoding.nack = std::make_unique<recovery::NackGenerator>();
            encoding.store = std::make_unique<recovery::PacketStore>();
        }
        recovery::KeyFrameRequestConfig keyFrameConfig;
        keyFrameConfig.delayMs = keyFrameRequestDelayMs_;
        encoding.keyFrames = recovery::KeyFrameRequestManager(keyFrameConfig);
    }
}

Producer::Encoding* Producer::findEncoding(const rtp::RtpPacket& packet) {
    const uint32_t ssrc = packet.ssrc();
    for (auto& encoding : encodings_) {
        if ((encoding.stream && encoding.stream->ssrc() == ssrc) ||
            (encoding.rtxSsrc && *encoding.rtxSsrc == ssrc)) {
            return &encoding;
        }
    }
    for (auto& encoding : encodings_) {
        if (encoding.params.ssrc && *encoding.params.ssrc == ssrc) {
            return &encoding;
        }
    }
    // A stream named by RID, or its RTX stream named by repaired RID.
    for (const auto type :
         {rtp::ExtensionType::RtpStreamId, rtp::ExtensionType::RepairedRtpStreamId}) {
        const uint8_t id = extensionIds_.get(type);
        const auto rid = id != 0 ? rtp::readSdes(packet.extension(id)) : std::nullopt;
        if (!rid) {
            continue;
        }
        for (auto& encoding : encodings_) {
            if (encoding.params.rid && *encoding.params.rid == *rid) {
                return &encoding;
            }
        }
    }
    if (encodings_.size() == 1 && encodings_[0].rtxCodec != nullptr &&
        packet.payloadType() == encodings_[0].rtxCodec->payloadType) {
        return &encodings_[0];
    }
    // A single encoding known by neither SSRC nor RID (matched by MID at the
    // transport) takes the first stream that comes.
    if (encodings_.size() == 1 && !encodings_[0].params.ssrc && !encodings_[0].params.rid &&
        !encodings_[0].stream) {
        return &encodings_[0];
    }
    return nullptr;
}

RtpStreamRecv& Producer::startStream(Encoding& encoding, uint32_t ssrc) {
    RtpStreamParams p;
    p.ssrc = ssrc;
    p.payloadType = encoding.codec->payloadType;
    p.mimeType = encoding.codec->mimeType;
    p.clockRate = encoding.codec->clockRate;
    p.kind = kind_;
    p.rid = encoding.params.rid.value_or("");
    p.cname = rtpParameters_.rtcp.cname.value_or("");
    if (encoding.params.rtx) {
        p.rtxSsrc = encoding.params.rtx->ssrc;
    }
    if (encoding.rtxCodec != nullptr) {
        p.rtxPayloadType = encoding.rtxCodec->payloadType;
    }
    p.useNack = encoding.codec->supportsNack();
    p.usePli = encoding.codec->supportsPli();
    p.useFir = encoding.codec->supportsFir();
    encoding.stream = std::make_unique<RtpStreamRecv>(std::move(p));
    SFU_DEBUG(Rtp, "producer %s: new stream [ssrc:%u, rid:%s]", id_.c_str(), ssrc,
              encoding.params.rid.value_or("").c_str());
    return *encoding.stream;
}

Producer::ReceiveResult Producer::receiveRtpPacket(rtp::RtpPacket& packet, uint64_t nowMs,
                                                   RtpForwardInfo& info) {
    Encoding* encoding = findEncoding(packet);
    if (encoding == nullptr) {
        SFU_DEBUG(Rtp, "producer %s: no encoding for packet [ssrc:%u], discarded", id_.c_str(),
                  packet.ssrc());
        return ReceiveResult::Discarded;
    }
    bool retransmitted = false;
    if (encoding->rtxCodec != nullptr && packet.payloadType() == encoding->rtxCodec->payloadType) {
        if (!decapsulateRtx(*encoding, packet)) {
            return ReceiveResult::Discarded;
        }
        retransmitted = true;
    } else if (packet.payloadType() != encoding->codec->payloadType) {
        if (encoding->stream) {
            ++encoding->stream->packetsDiscarded;
        }
        return ReceiveResult::Discarded;
    }
    bool firstPacket = false;
    if (!encoding->stream) {
        startStream(*encoding, packet.ssrc());
        firstPacket = true;
    }
    RtpStreamRecv& stream = *encoding->stream;
    const bool keyFrame =
        kind_ == params::MediaKind::Video &&
        codecs::isKeyFrame(encoding->codecType, packet.payload(), packet.payloadLength());
    if (encoding->nack) {
        const auto arrival =
            encoding->nack->onPacket(packet.sequenceNumber(), keyFrame, retransmitted, nowMs);
        switch (arrival.arrival) {
        case recovery::Arrival::Duplicate:
        case recovery::Arrival::TooOld:
            if (retransmitted) {
                ++stream.rtxPacketsDiscarded;
            } else {
                ++stream.packetsDiscarded;
            }
            return ReceiveResult::Discarded;
        case recovery::Arrival::Repaired:
            ++stream.packetsRepaired;
            break;
        default:
            break;
        }
        if (arrival.keyFrameNeeded && encoding->keyFrames.request(nowMs)) {
            sendKeyFrameRequest(*encoding);
        }
        if (arrival.newlyMissing > 0) {
            sendNacks(*encoding, nowMs);
        }
    }
    if (!stream.receivePacket(packet, nowMs, retransmitted)) {
        return ReceiveResult::Discarded;
    }
    if (firstPacket) {
        emitScore();
    }
    if (keyFrame) {
        encoding->keyFrames.keyFrameReceived(nowMs);
    }

    info.encodingIndex = static_cast<size_t>(encoding - encodings_.data());
    info.codec = encoding->codecType;
    info.keyFrame = keyFrame;
    info.retransmitted = retransmitted;
    info.nowMs = nowMs;

    if (kind_ == params::MediaKind::Video) {
        checkVideoOrientation(packet);
    }
    if (traceEvents_.enabled(TraceEventType::Rtp) ||
        (info.keyFrame && traceEvents_.enabled(TraceEventType::KeyFrame))) {
        json traceInfo{{"payloadType", packet.payloadType()},
                       {"sequenceNumber", packet.sequenceNumber()},
                       {"timestamp", packet.timestamp()},
                       {"marker", packet.marker()},
                       {"ssrc", packet.ssrc()},
                       {"isKeyFrame", info.keyFrame},
                       {"size", packet.size()},
                       {"payloadSize", packet.payloadLength()}};
        if (traceEvents_.enabled(TraceEventType::Rtp)) {
            emitTrace(TraceEventType::Rtp, "in", traceInfo);
        }
        if (info.keyFrame && traceEvents_.enabled(TraceEventType::KeyFrame)) {
            emitTrace(TraceEventType::KeyFrame, "in", std::move(traceInfo));
        }
    }

    // Into the router's space: consumers see mapped payload types and
    // SSRCs and canonical extension ids.
    packet.setPayloadType(mappedPayloadTypes_[packet.payloadType()]);
    packet.setSsrc(encoding->mappedSsrc);
    packet.remapExtensionIds(canonicalIds_);
    if (encoding->store) {
        encoding->store->store(packet, nowMs);
        info.store = encoding->store.get();
    }

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

bool Producer::receiveSenderReport(uint32_t ssrc, const rtcp::SenderInfo& info, uint64_t nowMs) {
    for (auto& encoding : encodings_) {
        if (encoding.stream && encoding.stream->ssrc() == ssrc) {
            encoding.stream->receiveSenderReport(info, nowMs);
            return true;
        }
    }
    return false;
}

void Producer::collectReportBlocks(std::vector<rtcp::ReportBlock>& blocks, uint64_t nowMs) {
    bool scoreChanged = false;
    for (auto& encoding : encodings_) {
        if (!encoding.stream || !encoding.stream->started()) {
            continue;
        }
        bool changed = false;
        blocks.push_back(encoding.stream->buildReportBlock(nowMs, changed));
        scoreChanged = scoreChanged || changed;
    }
    if (scoreChanged) {
        emitScore();
    }
}

bool Producer::decapsulateRtx(Encoding& encoding, rtp::RtpPacket& packet) {
    if (!encoding.stream) {
        // Nothing to repair before the media stream itself has started.
        return false;
    }
    RtpStreamRecv& stream = *encoding.stream;
    if (!encoding.rtxSsrc) {
        encoding.rtxSsrc = packet.ssrc();
    } else if (*encoding.rtxSsrc != packet.ssrc()) {
        ++stream.rtxPacketsDiscarded;
        return false;
    }
    // Padding-only RTX packets are bandwidth probes, not retransmissions.
    if (packet.payloadLength() < 2 ||
        !packet.rtxDecode(encoding.codec->payloadType, stream.ssrc())) {
        ++stream.rtxPacketsDiscarded;
        return false;
    }
    ++stream.packetsRetransmitted;
    return true;
}

void Producer::sendNacks(Encoding& encoding, uint64_t nowMs) {
    uint16_t seqs[512];
    const size_t count = encoding.nack->collect(nowMs, rttMs_ != 0 ? rttMs_ : kDefaultRttMs, seqs);
    RtpStreamRecv& stream = *encoding.stream;
    size_t done = 0;
    while (done < count) {
        uint8_t buffer[1200];
        const auto written =
            recovery::writeNackPacket(kFeedbackSenderSsrc, stream.ssrc(),
                                      std::span(seqs + done, count - done), buffer, sizeof(buffer));
        if (written.bytes == 0 || written.seqs == 0) {
            break;
        }
        ++stream.nackCount;
        stream.nackPacketCount += written.seqs;
        done += written.seqs;
        listener_.onProducerSendRtcp(*this, buffer, written.bytes);
    }
    if (count > 0 && traceEvents_.enabled(TraceEventType::Nack)) {
        emitTrace(TraceEventType::Nack, "out", json{{"ssrc", stream.ssrc()}, {"count", count}});
    }
}

void Producer::tick(uint64_t nowMs) {
    for (auto& encoding : encodings_) {
        if (!encoding.stream) {
            continue;
        }
        if (encoding.nack && encoding.nack->pendingCount() > 0) {
            sendNacks(encoding, nowMs);
        }
        if (encoding.keyFrames.tick(nowMs)) {
            sendKeyFrameRequest(encoding);
        }
    }
}

void Producer::requestKeyFrame(uint32_t mappedSsrc, uint64_t nowMs) {
    if (kind_ != params::MediaKind::Video || paused_) {
        return;
    }
    for (auto& encoding : encodings_) {
        if (encoding.mappedSsrc == mappedSsrc && encoding.stream &&
            encoding.keyFrames.request(nowMs)) {
            sendKeyFrameRequest(encoding);
        }
    }
}

void Producer::sendKeyFrameRequest(Encoding& encoding) {
    RtpStreamRecv& stream = *encoding.stream;
    uint8_t buffer[64];
    size_t length = 0;
    // PLI where the sender supports it; FIR (RFC 5104) otherwise.
    const bool usePli = stream.params().usePli || !stream.params().useFir;
    if (usePli) {
        length = rtcp::writePli(kFeedbackSenderSsrc, stream.ssrc(), buffer, sizeof(buffer));
        ++stream.pliCount;
    } else {
        const rtcp::FirItem item{stream.ssrc(), encoding.keyFrames.firSequenceNumber()};
        length = rtcp::writeFir(kFeedbackSenderSsrc, std::span(&item, 1), buffer, sizeof(buffer));
        ++stream.firCount;
    }
    const TraceEventType traceType = usePli ? TraceEventType::Pli : TraceEventType::Fir;
    if (traceEvents_.enabled(traceType)) {
        emitTrace(traceType, "out", json{{"ssrc", stream.ssrc()}});
    }
    listener_.onProducerSendRtcp(*this, buffer, length);
}

json Producer::scores() const {
    json out = json::array();
    for (const auto& encoding : encodings_) {
        if (!encoding.stream) {
            continue;
        }
        json entry{{"ssrc", encoding.stream->ssrc()}, {"score", encoding.stream->score()}};
        if (encoding.params.rid) {
            entry["rid"] = *encoding.params.rid;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<uint8_t> Producer::encodingScores() const {
    std::vector<uint8_t> out;
    out.reserve(encodings_.size());
    for (const auto& encoding : encodings_) {
        out.push_back(encoding.stream ? encoding.stream->score() : 0);
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
    for (const auto& encoding : encodings_) {
        if (encoding.stream) {
            streams.push_back(json{{"params",
                                    {{"ssrc", encoding.stream->ssrc()},
                                     {"payloadType", encoding.stream->params().payloadType},
                                     {"mimeType", encoding.stream->params().mimeType},
                                     {"clockRate", encoding.stream->params().clockRate},
                                     {"rid", encoding.stream->params().rid},
                                     {"cname", encoding.stream->params().cname}}},
                                   {"score", encoding.stream->score()}});
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
    for (auto& encoding : encodings_) {
        if (encoding.stream) {
            out.push_back(encoding.stream->stats(nowMs));
        }
    }
    return out;
}

} // namespace sfu::rtc
