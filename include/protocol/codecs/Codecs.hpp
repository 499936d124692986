// One entry point over the codec parsers, chosen by MIME type: what a
// consumer needs per packet (key frame, layers) without knowing the codec,
// and a per-consumer encoding context that filters layers and rewrites
// payloads for the codecs that have them.
#pragma once

#include "protocol/codecs/FrameMarking.hpp"
#include "protocol/codecs/H264.hpp"
#include "protocol/codecs/Opus.hpp"
#include "protocol/codecs/PayloadRewrite.hpp"
#include "protocol/codecs/Vp8.hpp"
#include "protocol/codecs/Vp9.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

namespace sfu::codecs {

enum class Codec : uint8_t { Unknown, Vp8, Vp9, H264, Opus };

// "video/VP8", "video/VP9", "video/H264" and "audio/opus", in any case;
// anything else is Unknown. The kind must match ("audio/VP8" is Unknown).
Codec codecFromMimeType(std::string_view mimeType);
std::string_view mimeTypeOf(Codec codec); // canonical spelling, "" for Unknown

// Whether payloads of this codec can be parsed here at all.
constexpr bool canParse(Codec codec) {
    return codec != Codec::Unknown;
}
constexpr bool isVideo(Codec codec) {
    return codec == Codec::Vp8 || codec == Codec::Vp9 || codec == Codec::H264;
}
inline bool canParse(std::string_view mimeType) {
    return canParse(codecFromMimeType(mimeType));
}

// The codec-independent view of one packet's payload.
struct PayloadInfo {
    Codec codec = Codec::Unknown;
    bool isKeyFrame = false;
    uint8_t spatialLayer = 0;
    uint8_t temporalLayer = 0;
    // Whether the layer values were carried by the packet (else they are 0).
    bool hasLayers = false;
    // First packet of a (layer) frame, where the codec tells.
    bool isStartOfFrame = false;
    // Picture size, when the packet starts a key frame (or carries an SPS).
    bool hasFrameSize = false;
    uint16_t width = 0;
    uint16_t height = 0;
    bool isDtx = false; // Opus
};

// Nullopt when the codec is Unknown or the payload is malformed. The frame
// marking values, when the packet had that extension, give H.264 its layers.
std::optional<PayloadInfo> parsePayload(Codec codec, const uint8_t* payload, size_t len,
                                        const FrameMarking* frameMarking = nullptr);

// False for malformed payloads and codecs without key frames.
bool isKeyFrame(Codec codec, const uint8_t* payload, size_t len,
                const FrameMarking* frameMarking = nullptr);

// A consumer's state for one stream, whatever its codec. Audio and Unknown
// codecs forward everything untouched.
class EncodingContext {
public:
    struct Result {
        bool forward = true;
        // The packet ends the highest forwarded layer of its picture: set
        // its RTP marker bit (VP9 only; otherwise leave the marker alone).
        bool setMarker = false;
        // Whether the payload parsed. Malformed payloads are forwarded as they
        // are, as the receiver is the one to judge them.
        bool parsed = false;
        bool isKeyFrame = false;
        // The payload fields to rewrite in the forwarded copy.
        PayloadRewrite rewrite;
    };

    explicit EncodingContext(Codec codec = Codec::Unknown);

    Codec codec() const { return codec_; }

    // Targets out of a codec's range are clamped; VP8 and H.264 have no
    // spatial layers of their own (simulcast streams are separate contexts
    // or a requestSync() apart).
    void setTargetLayers(uint8_t spatial, uint8_t temporal);
    int8_t currentSpatialLayer() const;
    int8_t currentTemporalLayer() const;

    // The next packet comes from another source stream.
    void requestSync();

    // Parses and decides; the payload itself is left alone (the rewrite to
    // apply to the forwarded copy is in the result).
    Result decide(const uint8_t* payload, size_t len, const FrameMarking* frameMarking = nullptr);
    // decide(), then the rewrite applied to `payload` itself.
    Result process(uint8_t* payload, size_t len, const FrameMarking* frameMarking = nullptr) {
        const Result result = decide(payload, len, frameMarking);
        if (result.forward) {
            result.rewrite.apply(payload, len);
        }
        return result;
    }

    // A packet forwarded before, sent again (a retransmission): its payload
    // rewritten as it was then, whatever the layers forwarded now. False
    // when the context no longer knows how (VP8 and VP9 pictures too old,
    // or from before a requestSync()); other codecs have nothing to rewrite.
    bool rewriteResend(uint8_t* payload, size_t len) const;

private:
    Codec codec_;
    std::variant<std::monostate, vp8::EncodingContext, vp9::EncodingContext, h264::EncodingContext>
        context_;
};

} // namespace sfu::codecs
