// VP8 RTP payload descriptor (RFC 7741 section 4.2), the start of the VP8
// payload header for key frame detection and size (RFC 6386 section 9.1),
// and the per-consumer temporal layer filter.
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |X|R|N|S|R| PID | (REQUIRED)
//       +-+-+-+-+-+-+-+-+
//  X:   |I|L|T|K| RSV   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+
//  I:   |M| PictureID   | (OPTIONAL, 7 or 15 bits)
//       +-+-+-+-+-+-+-+-+
//  L:   |   TL0PICIDX   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+
//  T/K: |TID|Y| KEYIDX  | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+
#pragma once

#include "protocol/codecs/PayloadRewrite.hpp"
#include "protocol/codecs/PictureIdSequencer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::codecs::vp8 {

struct PayloadDescriptor {
    // Mandatory octet.
    bool extended = false;         // X
    bool nonReference = false;     // N: the frame can be discarded
    bool startOfPartition = false; // S
    uint8_t partitionIndex = 0;    // PID (3 bits)

    // Extension octets; each value is meaningful only when its flag is set.
    bool hasPictureId = false;     // I
    bool hasTl0PicIdx = false;     // L
    bool hasTid = false;           // T
    bool hasKeyIdx = false;        // K
    bool pictureIdIs15Bit = false; // M
    uint16_t pictureId = 0;
    uint8_t tl0PicIdx = 0;
    uint8_t tid = 0;
    bool layerSync = false; // Y: depends only on the base layer (TID 0)
    uint8_t keyIdx = 0;

    // Where the fields sit, so they can be rewritten in place.
    uint8_t pictureIdOffset = 0;
    uint8_t tl0PicIdxOffset = 0;
    // Descriptor size: the VP8 payload starts at this offset.
    uint8_t headerLength = 0;

    // First packet of a frame (S=1, PID=0): the VP8 payload header follows.
    bool isStartOfFrame = false;
    // Key frame: start of frame, P bit clear, and a complete key frame
    // header (start code 9d 01 2a). Only the first packet of the frame.
    bool isKeyFrame = false;
    // From the key frame header.
    bool showFrame = false;
    uint8_t version = 0;
    uint16_t width = 0;
    uint16_t height = 0;
    uint8_t horizontalScale = 0;
    uint8_t verticalScale = 0;

    uint8_t spatialLayer() const { return 0; }
    uint8_t temporalLayer() const { return hasTid ? tid : 0; }

    // Rejects truncated descriptors and descriptors with no payload after them.
    static std::optional<PayloadDescriptor> parse(const uint8_t* payload, size_t len);

    // Rewrite in place; the field keeps its width (a 7-bit picture id gets the
    // low 7 bits). False when the field is absent or out of `len`.
    bool writePictureId(uint8_t* payload, size_t len, uint16_t pictureId) const;
    bool writeTl0PicIdx(uint8_t* payload, size_t len, uint8_t tl0PicIdx) const;
};

// What one consumer keeps for one VP8 stream: drops pictures of temporal
// layers above the target, moves up a layer only where the stream allows
// it (layer sync bit or key frame), and rewrites picture id and TL0PICIDX
// so that the ids it sends stay continuous.
class EncodingContext {
public:
    static constexpr uint8_t kMaxTemporalLayer = 3; // TID has two bits

    // Clamped to kMaxTemporalLayer; the default forwards every layer.
    void setTargetTemporalLayer(uint8_t layer);
    uint8_t targetTemporalLayer() const { return targetTemporal_; }
    // Highest temporal layer being forwarded; -1 before the first picture.
    int8_t currentTemporalLayer() const { return currentTemporal_; }

    // Call when the packets start coming from another source stream (a
    // simulcast switch, normally at a key frame): the next picture continues
    // the ids sent so far.
    void requestSync();

    // True to forward the packet, with the fields to rewrite in its copy in
    // `rewrite`. `desc` must come from parse() of the packet's payload.
    bool decide(const PayloadDescriptor& desc, PayloadRewrite& rewrite);
    // The rewrite of a packet forwarded before, as it was sent (see
    // rewriteAsSent()); nothing decided changes.
    bool rewriteResend(const PayloadDescriptor& desc, PayloadRewrite& rewrite) const {
        return rewriteAsSent(pictureIds_, tl0PicIdxs_, desc, rewrite);
    }
    // decide(), then the rewrite applied to `payload` itself.
    bool process(const PayloadDescriptor& desc, uint8_t* payload, size_t len) {
        PayloadRewrite rewrite;
        const bool forward = decide(desc, rewrite);
        if (forward) {
            rewrite.apply(payload, len);
        }
        return forward;
    }

private:
    bool admits(const PayloadDescriptor& desc) const;
    bool acceptsNewPicture(const PayloadDescriptor& desc);

    PictureIdSequencer pictureIds_;
    Tl0PicIdxSequencer tl0PicIdxs_;
    uint8_t targetTemporal_ = kMaxTemporalLayer;
    int8_t currentTemporal_ = -1;
    // Since the last key frame every picture up to this layer was forwarded,
    // so a picture up to it cannot refer to anything the receiver lacks.
    int8_t freeUpTo_ = -1;
};

} // namespace sfu::codecs::vp8
