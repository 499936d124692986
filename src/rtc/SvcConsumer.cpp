#include "rtc/SvcConsumer.hpp"

#include "protocol/parameters/ScalabilityMode.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using nlohmann::json;

namespace {

params::ScalabilityMode
scalabilityModeOf(const params::RtpParameters& parameters,
                  const std::vector<params::RtpEncodingParameters>& consumable) {
    for (const auto* encodings : {&parameters.encodings, &consumable}) {
        if (!encodings->empty() && (*encodings)[0].scalabilityMode) {
            return params::parseScalabilityMode(*(*encodings)[0].scalabilityMode);
        }
    }
    return {};
}

} // namespace

SvcConsumer::SvcConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                         const json& data)
    : LayeredConsumer(std::move(id), std::move(producerId), shared, listener, data,
                      params::RtpParametersType::Svc) {
    if (kind_ != params::MediaKind::Video) {
        throw TypeError("an SVC consumer is for video");
    }
    if (rtpParameters_.encodings.size() != 1 || consumableEncodings_.size() != 1) {
        throw TypeError("an SVC consumer needs exactly one encoding and one consumableRtpEncoding");
    }
    if (!consumableEncodings_[0].ssrc) {
        throw TypeError("missing consumableRtpEncodings[].ssrc");
    }
    const auto mode = scalabilityModeOf(rtpParameters_, consumableEncodings_);
    const auto* codec = rtpParameters_.codecForEncoding(rtpParameters_.encodings[0]);
    const auto kind = codecs::codecFromMimeType(codec->mimeType);
    if (mode.spatialLayers > 1 && kind != codecs::Codec::Vp9) {
        throw TypeError("spatial layers in one stream need VP9, not " + codec->mimeType);
    }
    createStreams({*consumableEncodings_[0].ssrc});
    context_ = codecs::EncodingContext(kind);
    initLayers(mode.spatialLayers, mode.temporalLayers, data);
}

const std::vector<uint8_t>& SvcConsumer::layerScores() {
    layerScores_.assign(static_cast<size_t>(selector_.spatialLayers()), producerScore());
    return layerScores_;
}

uint64_t SvcConsumer::layerBitrate(const LayerSelector::Layers& layers, uint64_t nowMs) const {
    return producer_ != nullptr && producer_->encodingCount() > 0
               ? producer_->producerStream(0).bitrateUpTo(layers.spatial, layers.temporal, nowMs)
               : 0;
}

void SvcConsumer::updateTarget(bool forceKeyFrame) {
    // One stream carries every layer: while it is alive, the preferred
    // layers are the target, capped by the allocation.
    const LayerSelector::Layers target = selectTarget();
    const LayerSelector::Layers current = currentLayers();
    const bool spatialChanged = target.spatial != target_.spatial;
    target_ = target;
    if (target.spatial < 0) {
        if (current.spatial >= 0) {
            streams_[0]->requireSync();
            reportLayers(-1, -1);
        }
        return;
    }
    context_.setTargetLayers(static_cast<uint8_t>(target.spatial),
                             static_cast<uint8_t>(target.temporal));
    // Up a spatial layer needs a key frame. Down does not, but when the
    // allocation forces it the stream restarts from a key frame all the
    // same: the congestion behind it has mostly lost packets of the
    // pictures in flight, which would leave the receiver frozen until its
    // own key frame request, seconds later. Until that key frame nothing is
    // sent, resends of what it supersedes included, and it is asked for
    // once the queue on the link has drained (requestDeferredKeyFrame()).
    const bool down = target.spatial < current.spatial;
    if (active() && spatialChanged && down && heldBackByAllocation(target)) {
        streams_[0]->requireSync();
        const int64_t delay = std::min(listener_.linkQueueDelayMs(), kMaxKeyFrameDelayMs);
        if (delay > 0) {
            keyFrameDelayMs_ = delay;
            keyFrameWaitFromMs_.reset();
            return;
        }
    }
    const bool keyFrameDue =
        current.spatial < 0 || streams_[0]->syncRequired() || (spatialChanged && !down);
    if (active() && keyFrameDue && (spatialChanged || forceKeyFrame)) {
        requestKeyFrame();
    }
}

void SvcConsumer::requestDeferredKeyFrame(uint64_t nowMs) {
    if (!keyFrameWaitFromMs_) {
        keyFrameWaitFromMs_ = nowMs;
    }
    if (nowMs - *keyFrameWaitFromMs_ >= static_cast<uint64_t>(*keyFrameDelayMs_)) {
        requestKeyFrame();
    }
}

uint8_t SvcConsumer::producerScore() const {
    return producerScores_.empty() ? 0 : producerScores_[0];
}

void SvcConsumer::requestKeyFrame() {
    keyFrameDelayMs_.reset();
    listener_.onConsumerKeyFrameRequested(*this, streams_[0]->producerSsrc());
}

void SvcConsumer::sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) {
    if (keyFrameDelayMs_ && active()) {
        requestDeferredKeyFrame(info.nowMs);
    }
    const auto params = decide(packet, info);
    if (!params) {
        return;
    }
    if (auto copy = streams_[0]->send(packet, *params, info)) {
        sendCopy(*copy, info);
        const auto current = currentLayers();
        reportLayers(current.spatial, current.temporal);
    }
}

std::optional<ForwardParams> SvcConsumer::decide(const rtp::RtpPacket& packet,
                                                 const RtpForwardInfo& info) {
    if (!active() || target_.spatial < 0) {
        return std::nullopt;
    }
    const uint8_t payloadType = payloadTypes_[packet.payloadType()];
    if (payloadType == 0) {
        return std::nullopt;
    }
    ConsumerStream& out = *streams_[0];
    if (out.syncRequired()) {
        if (!info.keyFrame) {
            return std::nullopt;
        }
        out.sync(packet.sequenceNumber());
        context_.requestSync();
        keyFrameDelayMs_.reset();
    }
    const auto decision = context_.decide(packet.payload(), packet.payloadLength());
    if (!decision.forward) {
        // A dropped layer leaves no hole in the numbering.
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
    params.payloadType = payloadType;
    params.setMarker = decision.setMarker;
    params.payload = decision.rewrite;
    return params;
}

LayerSelector::Layers SvcConsumer::currentLayers() const {
    if (target_.spatial < 0 || streams_[0]->syncRequired() || context_.currentSpatialLayer() < 0) {
        return {};
    }
    return {context_.currentSpatialLayer(), std::max<int>(0, context_.currentTemporalLayer())};
}

bool SvcConsumer::rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket&) {
    // The picture ids it was sent with, whatever layers go out now: a
    // packet of a layer left since is still part of a picture the receiver
    // is completing.
    return context_.rewriteResend(packet.payload(), packet.payloadLength());
}

json SvcConsumer::dump() const {
    json out = Consumer::dump();
    out["rtpStream"] = streams_[0]->dump();
    selector_.dumpLayers(out, target_, currentLayers());
    return out;
}

json SvcConsumer::stats(uint64_t nowMs) {
    json out = Consumer::stats(nowMs);
    appendProducerStats(out, 0, nowMs);
    return out;
}

} // namespace sfu::rtc
