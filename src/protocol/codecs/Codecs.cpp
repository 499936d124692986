#include "protocol/codecs/Codecs.hpp"

#include "utils/Strings.hpp"

namespace sfu::codecs {

namespace {

using strings::equalsIgnoreCase;

template <typename Desc>
PayloadInfo infoOf(Codec codec, const Desc& d) {
    PayloadInfo info;
    info.codec = codec;
    info.isKeyFrame = d.isKeyFrame;
    info.spatialLayer = d.spatialLayer();
    info.temporalLayer = d.temporalLayer();
    return info;
}

} // namespace

Codec codecFromMimeType(std::string_view mimeType) {
    for (Codec c : {Codec::Vp8, Codec::Vp9, Codec::H264, Codec::Opus}) {
        if (equalsIgnoreCase(mimeType, mimeTypeOf(c))) {
            return c;
        }
    }
    return Codec::Unknown;
}

std::string_view mimeTypeOf(Codec codec) {
    switch (codec) {
    case Codec::Vp8:
        return "video/VP8";
    case Codec::Vp9:
        return "video/VP9";
    case Codec::H264:
        return "video/H264";
    case Codec::Opus:
        return "audio/opus";
    case Codec::Unknown:
        break;
    }
    return {};
}

std::optional<PayloadInfo> parsePayload(Codec codec, const uint8_t* payload, size_t len,
                                        const FrameMarking* frameMarking) {
    switch (codec) {
    case Codec::Vp8: {
        const auto d = vp8::PayloadDescriptor::parse(payload, len);
        if (!d) {
            return std::nullopt;
        }
        PayloadInfo info = infoOf(codec, *d);
        info.hasLayers = d->hasTid;
        info.isStartOfFrame = d->isStartOfFrame;
        info.hasFrameSize = d->isKeyFrame;
        info.width = d->width;
        info.height = d->height;
        return info;
    }
    case Codec::Vp9: {
        const auto d = vp9::PayloadDescriptor::parse(payload, len);
        if (!d) {
            return std::nullopt;
        }
        PayloadInfo info = infoOf(codec, *d);
        info.hasLayers = d->hasLayerIndices;
        info.isStartOfFrame = d->startOfLayerFrame;
        info.hasFrameSize = d->hasFrameSize;
        info.width = d->width;
        info.height = d->height;
        return info;
    }
    case Codec::H264: {
        const auto d = frameMarking != nullptr
                           ? h264::PayloadDescriptor::parse(payload, len, *frameMarking)
                           : h264::PayloadDescriptor::parse(payload, len);
        if (!d) {
            return std::nullopt;
        }
        PayloadInfo info = infoOf(codec, *d);
        info.hasLayers = d->hasFrameMarking;
        info.isStartOfFrame = d->hasFrameMarking ? d->layers.isStartOfFrame
                                                 : (d->packetization != h264::Packetization::FuA &&
                                                    d->packetization != h264::Packetization::FuB) ||
                                                       d->fuStart;
        info.hasFrameSize = d->hasFrameSize;
        info.width = d->width;
        info.height = d->height;
        return info;
    }
    case Codec::Opus: {
        const auto d = opus::PayloadDescriptor::parse(payload, len);
        if (!d) {
            return std::nullopt;
        }
        PayloadInfo info = infoOf(codec, *d);
        info.isStartOfFrame = true;
        info.isDtx = d->isDtx;
        return info;
    }
    case Codec::Unknown:
        break;
    }
    return std::nullopt;
}

bool isKeyFrame(Codec codec, const uint8_t* payload, size_t len, const FrameMarking* frameMarking) {
    const auto info = parsePayload(codec, payload, len, frameMarking);
    return info && info->isKeyFrame;
}

EncodingContext::EncodingContext(Codec codec) : codec_(codec) {
    switch (codec) {
    case Codec::Vp8:
        context_.emplace<vp8::EncodingContext>();
        break;
    case Codec::Vp9:
        context_.emplace<vp9::EncodingContext>();
        break;
    case Codec::H264:
        context_.emplace<h264::EncodingContext>();
        break;
    case Codec::Opus:
    case Codec::Unknown:
        break;
    }
}

void EncodingContext::setTargetLayers(uint8_t spatial, uint8_t temporal) {
    if (auto* c = std::get_if<vp8::EncodingContext>(&context_)) {
        c->setTargetTemporalLayer(temporal);
    } else if (auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        c9->setTargetSpatialLayer(spatial);
        c9->setTargetTemporalLayer(temporal);
    } else if (auto* ch = std::get_if<h264::EncodingContext>(&context_)) {
        ch->setTargetTemporalLayer(temporal);
    }
}

int8_t EncodingContext::currentSpatialLayer() const {
    if (const auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        return c9->currentSpatialLayer();
    }
    return 0;
}

int8_t EncodingContext::currentTemporalLayer() const {
    if (const auto* c = std::get_if<vp8::EncodingContext>(&context_)) {
        return c->currentTemporalLayer();
    }
    if (const auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        return c9->currentTemporalLayer();
    }
    if (const auto* ch = std::get_if<h264::EncodingContext>(&context_)) {
        return ch->currentTemporalLayer();
    }
    return 0;
}

bool EncodingContext::rewriteResend(uint8_t* payload, size_t len) const {
    PayloadRewrite rewrite;
    if (const auto* c8 = std::get_if<vp8::EncodingContext>(&context_)) {
        if (const auto d = vp8::PayloadDescriptor::parse(payload, len)) {
            if (!c8->rewriteResend(*d, rewrite)) {
                return false;
            }
        }
    } else if (const auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        if (const auto d = vp9::PayloadDescriptor::parse(payload, len)) {
            if (!c9->rewriteResend(*d, rewrite)) {
                return false;
            }
        }
    }
    return rewrite.apply(payload, len);
}

void EncodingContext::requestSync() {
    if (auto* c = std::get_if<vp8::EncodingContext>(&context_)) {
        c->requestSync();
    } else if (auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        c9->requestSync();
    }
}

EncodingContext::Result EncodingContext::decide(const uint8_t* payload, size_t len,
                                                const FrameMarking* frameMarking) {
    Result r;
    // get_if rather than get: the media path never throws.
    if (auto* c8 = std::get_if<vp8::EncodingContext>(&context_)) {
        if (const auto d = vp8::PayloadDescriptor::parse(payload, len)) {
            r.parsed = true;
            r.isKeyFrame = d->isKeyFrame;
            r.forward = c8->decide(*d, r.rewrite);
        }
    } else if (auto* c9 = std::get_if<vp9::EncodingContext>(&context_)) {
        if (const auto d = vp9::PayloadDescriptor::parse(payload, len)) {
            r.parsed = true;
            r.isKeyFrame = d->isKeyFrame;
            const auto v = c9->decide(*d, r.rewrite);
            r.forward = v.forward;
            r.setMarker = v.setMarker;
        }
    } else if (auto* ch = std::get_if<h264::EncodingContext>(&context_)) {
        const auto d = frameMarking != nullptr
                           ? h264::PayloadDescriptor::parse(payload, len, *frameMarking)
                           : h264::PayloadDescriptor::parse(payload, len);
        if (d) {
            r.parsed = true;
            r.isKeyFrame = d->isKeyFrame;
            r.forward = ch->process(*d);
        }
    } else if (codec_ == Codec::Opus) {
        r.parsed = opus::PayloadDescriptor::parse(payload, len).has_value();
    }
    return r;
}

} // namespace sfu::codecs
