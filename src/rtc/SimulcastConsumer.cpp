#include "rtc/SimulcastConsumer.hpp"

#include "protocol/parameters/ScalabilityMode.hpp"
#include "protocol/rtp/SeqNum.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// Timestamps aligned through sender reports are trusted only this close
// ahead of what was sent (seconds); anything else means the reports are
// stale or inconsistent and the wall clock is used instead.
constexpr double kMaxAlignedAheadSeconds = 2.0;

} // namespace

SimulcastConsumer::SimulcastConsumer(std::string id, std::string producerId, Shared& shared,
                                     Listener& listener, const json& data)
    : LayeredConsumer(std::move(id), std::move(producerId), shared, listener, data,
                      params::RtpParametersType::Simulcast) {
    if (kind_ != params::MediaKind::Video) {
        throw TypeError("a simulcast consumer is for video");
    }
    if (rtpParameters_.encodings.size() != 1) {
        throw TypeError("a simulcast consumer needs exactly one encoding");
    }
    if (consumableEncodings_.size() < 2) {
        throw TypeError("a simulcast consumer needs two or more consumableRtpEncodings");
    }
    for (const auto& encoding : consumableEncodings_) {
        if (!encoding.ssrc) {
            throw TypeError("missing consumableRtpEncodings[].ssrc");
        }
        producerSsrcs_.push_back(*encoding.ssrc);
    }
    const auto& encoding = rtpParameters_.encodings[0];
    createStreams({producerSsrcs_[0]});
    const auto* codec = rtpParameters_.codecForEncoding(encoding);
    clockRate_ = codec->clockRate != 0 ? codec->clockRate : 90000;
    context_ = codecs::EncodingContext(codecs::codecFromMimeType(codec->mimeType));
    initLayers(static_cast<int>(consumableEncodings_.size()),
               params::parseScalabilityMode(encoding.scalabilityMode.value_or("")).temporalLayers,
               data);
}

uint64_t SimulcastConsumer::layerBitrate(const LayerSelector::Layers& layers,
                                         uint64_t nowMs) const {
    return producer_ != nullptr && static_cast<size_t>(layers.spatial) < producer_->encodingCount()
               ? producer_->producerStream(static_cast<size_t>(layers.spatial))
                     .bitrateUpTo(layers.temporal, nowMs)
               : 0;
}

void SimulcastConsumer::updateTarget(bool forceKeyFrame) {
    const auto [spatial, temporal] = selectTarget();
    const bool spatialChanged = spatial != targetSpatial_;
    targetSpatial_ = spatial;
    targetTemporal_ = temporal;
    context_.setTargetLayers(0, static_cast<uint8_t>(std::max(temporal, 0)));

    if (spatial < 0) {
        // Nothing alive to forward.
        if (currentSpatial_ >= 0) {
            currentSpatial_ = -1;
            streams_[0]->requireSync();
            reportCurrentLayers();
        }
        return;
    }
    const bool switchDue = spatial != currentSpatial_ || streams_[0]->syncRequired();
    if (active() && switchDue && (spatialChanged || forceKeyFrame)) {
        requestKeyFrameOf(spatial);
    }
}

void SimulcastConsumer::requestKeyFrameOf(int spatialLayer) {
    if (spatialLayer >= 0 && static_cast<size_t>(spatialLayer) < producerSsrcs_.size()) {
        listener_.onConsumerKeyFrameRequested(*this, producerSsrcs_[spatialLayer]);
    }
}

void SimulcastConsumer::requestKeyFrame() {
    requestKeyFrameOf(targetSpatial_ >= 0 ? targetSpatial_ : currentSpatial_);
}

uint8_t SimulcastConsumer::producerScore() const {
    const int layer = currentSpatial_ >= 0 ? currentSpatial_ : targetSpatial_;
    return layer >= 0 && static_cast<size_t>(layer) < producerScores_.size()
               ? producerScores_[layer]
               : 0;
}

void SimulcastConsumer::sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) {
    const auto params = decide(packet, info);
    if (!params) {
        return;
    }
    auto copy = streams_[0]->send(packet, *params, info);
    if (!copy) {
        return;
    }
    if (!sentAny_ || rtp::isNewer(copy->timestamp(), maxTimestamp_)) {
        maxTimestamp_ = copy->timestamp();
    }
    sentAny_ = true;
    lastSentMs_ = info.nowMs;
    sendCopy(*copy, info);
    reportCurrentLayers();
}

std::optional<ForwardParams> SimulcastConsumer::decide(const rtp::RtpPacket& packet,
                                                       const RtpForwardInfo& info) {
    if (!active()) {
        return std::nullopt;
    }
    const uint8_t payloadType = payloadTypes_[packet.payloadType()];
    if (payloadType == 0) {
        return std::nullopt;
    }
    const auto spatial = static_cast<int>(info.encodingIndex);
    ConsumerStream& out = *streams_[0];
    if (spatial == targetSpatial_ && info.keyFrame &&
        (spatial != currentSpatial_ || out.syncRequired())) {
        startRun(spatial, packet, info);
    }
    if (spatial != currentSpatial_ || out.syncRequired()) {
        return std::nullopt;
    }
    const auto decision = context_.decide(packet.payload(), packet.payloadLength());
    if (!decision.forward) {
        // A layer above the target: leave no hole in the numbering.
        out.seq().drop(packet.sequenceNumber());
        return std::nullopt;
    }
    const auto seq = out.seq().rewrite(packet.sequenceNumber());
    if (!seq) {
        out.rtp().countDiscarded();
        return std::nullopt;
    }
    ForwardParams params;
    params.sequenceNumber = *seq;
    params.timestampOffset = timestampOffset_;
    params.payloadType = payloadType;
    params.setMarker = decision.setMarker;
    params.payload = decision.rewrite;
    return params;
}

void SimulcastConsumer::startRun(int spatial, const rtp::RtpPacket& packet,
                                 const RtpForwardInfo& info) {
    timestampOffset_ = timestampOffsetFor(spatial, packet.timestamp(), info.nowMs);
    streams_[0]->sync(packet.sequenceNumber());
    // Picture ids continue from the last one sent.
    context_.requestSync();
    currentSpatial_ = spatial;
    currentStore_ = info.store;
}

uint32_t SimulcastConsumer::timestampOffsetFor(int spatial, uint32_t timestamp,
                                               uint64_t nowMs) const {
    if (!sentAny_) {
        // The first run keeps the producer's timestamps.
        return timestampOffset_;
    }
    const auto isAhead = [&](uint32_t offset) {
        const uint32_t output = timestamp + offset;
        return rtp::isNewer(output, maxTimestamp_) &&
               output - maxTimestamp_ <=
                   static_cast<uint32_t>(kMaxAlignedAheadSeconds * clockRate_);
    };
    if (spatial == currentSpatial_) {
        // The same stream again (after a pause): its own timeline holds.
        if (isAhead(timestampOffset_)) {
            return timestampOffset_;
        }
    } else if (producer_ != nullptr && currentSpatial_ >= 0) {
        // Both streams' sender reports tie their RTP clocks to one wall
        // clock: express the new stream in the old one's timeline.
        const RtpStreamRecv* from = producer_->stream(static_cast<size_t>(currentSpatial_));
        const RtpStreamRecv* to = producer_->stream(static_cast<size_t>(spatial));
        if (from != nullptr && to != nullptr && from->lastSenderInfo() && to->lastSenderInfo()) {
            const rtcp::SenderInfo& a = *from->lastSenderInfo();
            const rtcp::SenderInfo& b = *to->lastSenderInfo();
            const double seconds =
                static_cast<double>(static_cast<int64_t>(b.ntp - a.ntp)) / 4294967296.0;
            const auto ticks = static_cast<int64_t>(std::llround(seconds * clockRate_));
            // b.rtpTimestamp on stream `to` is a.rtpTimestamp + ticks on
            // `from`, which came out with the current offset added.
            const uint32_t offset =
                a.rtpTimestamp + static_cast<uint32_t>(ticks) - b.rtpTimestamp + timestampOffset_;
            if (isAhead(offset)) {
                return offset;
            }
        }
    }
    // The wall clock since the last packet sent, at least one tick.
    const uint64_t elapsedMs = nowMs > lastSentMs_ ? nowMs - lastSentMs_ : 0;
    const auto ticks = static_cast<uint32_t>(
        std::max<uint64_t>(1, std::min<uint64_t>(elapsedMs, 60000) * clockRate_ / 1000));
    return maxTimestamp_ + ticks - timestamp;
}

int SimulcastConsumer::currentTemporalLayer() const {
    return currentSpatial_ < 0 ? -1 : std::max<int>(0, context_.currentTemporalLayer());
}

void SimulcastConsumer::reportCurrentLayers() {
    reportLayers(currentSpatial_, currentTemporalLayer());
}

bool SimulcastConsumer::rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket& sent) {
    if (context_.codec() != codecs::Codec::Vp8 && context_.codec() != codecs::Codec::Vp9) {
        return true;
    }
    // Picture ids were renumbered for the current run only; the context
    // gives a picture it forwarded the same id again.
    if (sent.store != currentStore_ || currentStore_ == nullptr) {
        return false;
    }
    return context_.rewriteResend(packet.payload(), packet.payloadLength());
}

json SimulcastConsumer::dump() const {
    json out = Consumer::dump();
    out["rtpStream"] = streams_[0]->dump();
    selector_.dumpLayers(out, {targetSpatial_, targetTemporal_},
                         {currentSpatial_, currentTemporalLayer()});
    return out;
}

json SimulcastConsumer::stats(uint64_t nowMs) {
    json out = Consumer::stats(nowMs);
    if (currentSpatial_ >= 0) {
        appendProducerStats(out, static_cast<size_t>(currentSpatial_), nowMs);
    }
    return out;
}

} // namespace sfu::rtc
