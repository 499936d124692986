// VP9 RTP payload descriptor (draft-ietf-payload-vp9, now RFC 9628), the
// key frame size from the VP9 uncompressed header, and the per-consumer
// spatial/temporal layer filter for SVC and K-SVC streams.
//
//         0 1 2 3 4 5 6 7
//        +-+-+-+-+-+-+-+-+
//        |I|P|L|F|B|E|V|Z| (REQUIRED)
//        +-+-+-+-+-+-+-+-+
//   I:   |M| PICTURE ID  | (M=1: one more octet, 15 bits in all)
//        +-+-+-+-+-+-+-+-+
//   L:   | TID |U| SID |D| (then TL0PICIDX when F=0)
//        +-+-+-+-+-+-+-+-+
//  P,F:  | P_DIFF      |N| (up to 3 times)
//        +-+-+-+-+-+-+-+-+
//   V:   | SS            |
#pragma once

#include "protocol/codecs/PayloadRewrite.hpp"
#include "protocol/codecs/PictureIdSequencer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::codecs::vp9 {

// One entry of the SS picture group: a picture's temporal layer, switching
// up point, and the picture id distances of the pictures it refers to.
struct PictureGroupEntry {
    uint8_t tid = 0;
    bool switchingUpPoint = false;
    uint8_t numRefs = 0; // R, at most 3
    std::array<uint8_t, 3> pDiffs{};
};

// Scalability structure (V bit). All of it is validated; only the first
// kMaxStoredPictureGroups picture group entries are kept, to keep the
// descriptor small (senders use a handful).
struct ScalabilityStructure {
    static constexpr size_t kMaxSpatialLayers = 8;
    static constexpr size_t kMaxStoredPictureGroups = 16;

    uint8_t numSpatialLayers = 0;  // N_S + 1
    bool hasResolutions = false;   // Y
    bool hasPictureGroups = false; // G
    std::array<uint16_t, kMaxSpatialLayers> widths{};
    std::array<uint16_t, kMaxSpatialLayers> heights{};
    uint8_t numPictureGroups = 0; // N_G as sent
    std::array<PictureGroupEntry, kMaxStoredPictureGroups> pictureGroups{};

    uint8_t storedPictureGroups() const {
        return numPictureGroups < kMaxStoredPictureGroups
                   ? numPictureGroups
                   : static_cast<uint8_t>(kMaxStoredPictureGroups);
    }
};

struct PayloadDescriptor {
    // Mandatory octet.
    bool hasPictureId = false;                   // I
    bool interPicturePredicted = false;          // P
    bool hasLayerIndices = false;                // L
    bool flexibleMode = false;                   // F
    bool startOfLayerFrame = false;              // B
    bool endOfLayerFrame = false;                // E
    bool hasScalabilityStructure = false;        // V
    bool notUsedForInterLayerPrediction = false; // Z

    bool pictureIdIs15Bit = false; // M
    uint16_t pictureId = 0;

    // Layer indices (L); in non-flexible mode TL0PICIDX follows.
    uint8_t tid = 0;
    bool switchingUpPoint = false; // U
    uint8_t sid = 0;
    bool interLayerDependency = false; // D: depends on layer sid-1 of this picture
    bool hasTl0PicIdx = false;
    uint8_t tl0PicIdx = 0;

    // Reference picture id distances (flexible mode with P=1).
    uint8_t numPDiffs = 0;
    std::array<uint8_t, 3> pDiffs{};

    ScalabilityStructure ss; // valid when hasScalabilityStructure

    uint8_t pictureIdOffset = 0;
    uint8_t tl0PicIdxOffset = 0;
    uint16_t headerLength = 0; // the VP9 frame data starts here (SS can be long)

    // First packet of a picture's base layer frame that refers to no earlier
    // picture: B=1, P=0, SID=0.
    bool isKeyFrame = false;
    // Read from the VP9 uncompressed header of a key frame's first packet.
    bool hasFrameSize = false;
    uint8_t profile = 0;
    uint16_t width = 0;
    uint16_t height = 0;

    uint8_t spatialLayer() const { return hasLayerIndices ? sid : 0; }
    uint8_t temporalLayer() const { return hasLayerIndices ? tid : 0; }

    // Rejects truncated descriptors, more than three P_DIFFs, and a
    // descriptor with no frame data after it.
    static std::optional<PayloadDescriptor> parse(const uint8_t* payload, size_t len);

    bool writePictureId(uint8_t* payload, size_t len, uint16_t pictureId) const;
    bool writeTl0PicIdx(uint8_t* payload, size_t len, uint8_t tl0PicIdx) const;
};

// What one consumer keeps for one VP9 SVC stream.
//
// Spatial layers go up only at a key frame: there every upper layer frame
// refers at most to the layer below in the same picture (P=0, D=1), while in
// other pictures upper layers refer to earlier frames of their own layer.
// A layer frame with P=0 in a later picture is not used as a switching
// point: by the time it arrives, the layer below has already been sent with
// the marker bit that ends the picture. Going down drops the upper layers
// from the next picture on, in full SVC and in K-SVC alike: lower layers
// never refer to upper ones, and every forwarded layer was forwarded in
// each picture before. Temporal layers go up at a
// switching up point (U), or freely after a key frame or a base (TID 0)
// picture, to which the pictures up to the next base one refer; they go
// down at the next picture. Nothing is forwarded before the first key frame.
//
// Picture ids are only shifted (on requestSync), never compacted: in
// flexible mode P_DIFFs refer to pictures by id distance, so pictures a
// temporal filter drops must keep their ids. After requestSync the ids
// continue from the last one sent, not from pictures dropped after it.
class EncodingContext {
public:
    static constexpr uint8_t kMaxLayer = 7; // SID and TID have three bits

    struct Result {
        bool forward = false;
        // Set the RTP marker bit of this packet: it ends the highest layer
        // forwarded for its picture, and the packet that had the marker was
        // of a dropped layer. When false, leave the packet's marker alone.
        bool setMarker = false;
    };

    // Clamped to kMaxLayer; the defaults forward every layer.
    void setTargetSpatialLayer(uint8_t layer);
    void setTargetTemporalLayer(uint8_t layer);
    uint8_t targetSpatialLayer() const { return targetSpatial_; }
    uint8_t targetTemporalLayer() const { return targetTemporal_; }
    // -1 until the first key frame. At a key frame the spatial layer is the
    // target, capped by the layer count of the last SS seen.
    int8_t currentSpatialLayer() const { return currentSpatial_; }
    int8_t currentTemporalLayer() const { return currentTemporal_; }

    // Call before the first packet from another source stream: forwarding
    // stops until its next key frame, and ids continue those sent so far.
    void requestSync();

    // `desc` must come from parse() of the packet's payload; the fields to
    // rewrite in the forwarded copy go to `rewrite`.
    Result decide(const PayloadDescriptor& desc, PayloadRewrite& rewrite);
    // The rewrite of a packet forwarded before, as it was sent (see
    // rewriteAsSent()); nothing decided changes.
    bool rewriteResend(const PayloadDescriptor& desc, PayloadRewrite& rewrite) const {
        return rewriteAsSent(pictureIds_, tl0PicIdxs_, desc, rewrite);
    }
    // decide(), then the rewrite applied to `payload` itself.
    Result process(const PayloadDescriptor& desc, uint8_t* payload, size_t len) {
        PayloadRewrite rewrite;
        const Result result = decide(desc, rewrite);
        if (result.forward) {
            rewrite.apply(payload, len);
        }
        return result;
    }

private:
    PictureIdSequencer pictureIds_;
    Tl0PicIdxSequencer tl0PicIdxs_;
    uint8_t targetSpatial_ = kMaxLayer;
    uint8_t targetTemporal_ = kMaxLayer;
    int8_t currentSpatial_ = -1;
    int8_t currentTemporal_ = -1;
    int8_t freeUpTo_ = -1;           // see vp8::EncodingContext
    uint8_t knownSpatialLayers_ = 0; // from the last SS; 0 when none seen
    // The output picture id of the last packet forwarded, if any.
    bool haveSentId_ = false;
    uint16_t lastSentId_ = 0;
};

} // namespace sfu::codecs::vp9
