#include "rtc/SimpleConsumer.hpp"

#include "Logger.hpp"
#include "rtc/rtp/Extensions.hpp"
#include "rtc/srtp/Random.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// One buffer for the consumer copy of every packet: the worker is single
// threaded and a copy is sent (or queued by the socket) before the next one
// is made. Room for SRTP's tag and header growth.
constexpr size_t kSendBufferSize = 65536 + 256;
uint8_t sendBuffer[kSendBufferSize];

} // namespace

SimpleConsumer::SimpleConsumer(std::string id, std::string producerId, Shared& shared,
                               Listener& listener, const json& data)
    : Consumer(std::move(id), std::move(producerId), shared, listener, data,
               params::RtpParametersType::Simple) {
    if (consumableEncodings_.size() != 1 || rtpParameters_.encodings.empty()) {
        throw TypeError("a simple consumer needs exactly one consumable encoding");
    }
    producerSsrc_ = *consumableEncodings_[0].ssrc;
    isVideo_ = kind_ == params::MediaKind::Video;

    const auto& encoding = rtpParameters_.encodings[0];
    const auto* codec = rtpParameters_.codecForEncoding(encoding);
    if (codec == nullptr) {
        throw TypeError("no media codec in rtpParameters");
    }
    RtpStreamParams p;
    p.ssrc = *encoding.ssrc;
    p.payloadType = codec->payloadType;
    p.mimeType = codec->mimeType;
    p.clockRate = codec->clockRate;
    p.kind = kind_;
    p.cname = cname_;
    if (encoding.rtx) {
        p.rtxSsrc = encoding.rtx->ssrc;
        if (const auto* rtx = rtpParameters_.rtxCodecFor(codec->payloadType)) {
            p.rtxPayloadType = rtx->payloadType;
        }
    }
    p.useNack = codec->supportsNack();
    p.usePli = codec->supportsPli();
    p.useFir = codec->supportsFir();
    stream_ = std::make_unique<RtpStreamSend>(std::move(p));
    rewrite_ = recovery::Rewrite{stream_->ssrc(), codec->payloadType, &extensionIdMap_};
    if (stream_->params().rtxSsrc && stream_->params().rtxPayloadType != 0) {
        uint8_t seq[2];
        srtp::randomBytes(seq);
        rtx_ = recovery::RtxStream{*stream_->params().rtxSsrc, stream_->params().rtxPayloadType,
                                   static_cast<uint16_t>((seq[0] << 8) | seq[1])};
    }
}

void SimpleConsumer::sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) {
    if (!active()) {
        return;
    }
    const uint8_t payloadType = payloadTypes_[packet.payloadType()];
    if (payloadType == 0 && packet.payloadType() != 0) {
        return;
    }
    if (syncRequired_) {
        if (isVideo_ && !info.keyFrame) {
            // Forwarding mid-picture would give the receiver undecodable
            // frames; wait for the key frame asked for on (re)start.
            return;
        }
        seq_.sync(packet.sequenceNumber());
        syncRequired_ = false;
    }
    const auto seq = seq_.rewrite(packet.sequenceNumber());
    if (!seq) {
        ++stream_->packetsDiscarded;
        return;
    }
    auto copy = packet.copyTo(sendBuffer, sizeof(sendBuffer));
    if (!copy) {
        ++stream_->packetsDiscarded;
        return;
    }
    copy->setSsrc(stream_->ssrc());
    copy->setSequenceNumber(*seq);
    copy->setPayloadType(payloadType);
    copy->remapExtensionIds(extensionIdMap_);
    writeMid(*copy);
    stream_->sentPacket(*copy, info.nowMs);
    if (info.store != nullptr) {
        store_ = info.store;
        sentMap_.record(*seq, packet.sequenceNumber());
    }
    if (traceEvents_.enabled(TraceEventType::Rtp)) {
        emitTrace(TraceEventType::Rtp, "out",
                  json{{"payloadType", copy->payloadType()},
                       {"sequenceNumber", copy->sequenceNumber()},
                       {"timestamp", copy->timestamp()},
                       {"marker", copy->marker()},
                       {"ssrc", copy->ssrc()},
                       {"isKeyFrame", info.keyFrame},
                       {"size", copy->size()},
                       {"payloadSize", copy->payloadLength()}});
    }
    listener_.onConsumerSendRtpPacket(*this, *copy);
}

void SimpleConsumer::writeMid(rtp::RtpPacket& packet) const {
    const uint8_t id = extensionIdMap_.get(static_cast<uint8_t>(rtp::ExtensionType::Mid));
    if (id != 0 && rtpParameters_.mid) {
        rtp::setSdes(packet, id, *rtpParameters_.mid);
    }
}

std::vector<uint32_t> SimpleConsumer::ssrcs() const {
    std::vector<uint32_t> out{stream_->ssrc()};
    if (stream_->params().rtxSsrc) {
        out.push_back(*stream_->params().rtxSsrc);
    }
    return out;
}

void SimpleConsumer::collectSenderReports(
    std::vector<std::pair<uint32_t, rtcp::SenderInfo>>& reports, uint64_t nowMs) {
    if (const auto info = stream_->buildSenderInfo(nowMs)) {
        reports.emplace_back(stream_->ssrc(), *info);
    }
}

void SimpleConsumer::receiveReportBlock(const rtcp::ReportBlock& block) {
    if (stream_->receiveReportBlock(block)) {
        emitScore();
    }
}

void SimpleConsumer::receiveKeyFrameRequest(bool fir, uint64_t nowMs) {
    (void)nowMs;
    if (fir) {
        ++stream_->firCount;
    } else {
        ++stream_->pliCount;
    }
    const TraceEventType type = fir ? TraceEventType::Fir : TraceEventType::Pli;
    if (traceEvents_.enabled(type)) {
        emitTrace(type, "in", json{{"ssrc", stream_->ssrc()}});
    }
    if (active()) {
        requestKeyFrame();
    }
}

void SimpleConsumer::receiveNack(const rtcp::NackView& nack, uint64_t nowMs) {
    ++stream_->nackCount;
    if (traceEvents_.enabled(TraceEventType::Nack)) {
        emitTrace(TraceEventType::Nack, "in", json{{"ssrc", stream_->ssrc()}});
    }
    if (store_ == nullptr || !active()) {
        for (const rtcp::NackItem item : nack.items()) {
            rtcp::forEachNacked(item, [&](uint16_t) {
                ++stream_->nackPacketCount;
                ++retransmissionsUnavailable_;
            });
        }
        return;
    }
    // A packet resent less than this ago is not resent again: receivers
    // repeat NACKs about every RTT.
    const auto minInterval = static_cast<uint32_t>(
        stream_->hasRoundTripTime() ? std::max(10.0, stream_->roundTripTimeMs() / 2) : 20.0);
    const auto response = recovery::respondToNack(
        nack.items(), sentMap_, *store_, nowMs, minInterval,
        [&](const recovery::StoredPacket& stored, const recovery::SentPacket& sent) {
            auto packet = recovery::buildRetransmission(
                stored, sent, rewrite_, rtx_ ? &*rtx_ : nullptr, sendBuffer, sizeof(sendBuffer));
            if (packet) {
                writeMid(*packet);
                stream_->countRetransmission(packet->size(), nowMs);
                listener_.onConsumerRetransmitRtpPacket(*this, *packet, rtx_.has_value());
            }
        });
    stream_->nackPacketCount += response.requested;
    retransmissionsUnavailable_ += response.unknown + response.notStored;
}

void SimpleConsumer::onActiveChanged(bool nowActive) {
    if (nowActive) {
        // Continue the stream where it stopped, from a key frame for video.
        syncRequired_ = true;
        requestKeyFrame();
    }
}

uint8_t SimpleConsumer::producerScore() const {
    return producerScores_.empty() ? 0 : producerScores_[0];
}

void SimpleConsumer::requestKeyFrame() {
    if (isVideo_) {
        listener_.onConsumerKeyFrameRequested(*this, producerSsrc_);
    }
}

json SimpleConsumer::dump() const {
    json out = Consumer::dump();
    out["rtpStream"] = json{{"params",
                             {{"ssrc", stream_->ssrc()},
                              {"payloadType", stream_->params().payloadType},
                              {"mimeType", stream_->params().mimeType},
                              {"clockRate", stream_->params().clockRate},
                              {"cname", stream_->params().cname}}},
                            {"score", stream_->score()}};
    return out;
}

json SimpleConsumer::stats(uint64_t nowMs) {
    json stats = stream_->stats(nowMs);
    stats["retransmissionsUnavailable"] = retransmissionsUnavailable_;
    return json::array({std::move(stats)});
}

} // namespace sfu::rtc
