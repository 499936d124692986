// H.264 RTP payloads (RFC 6184): single NAL unit packets, STAP-A and FU-A
// (FU-B is read as well), key frame detection from IDR slices and SPS, the
// picture size from an SPS, and layers from the frame marking extension
// (H.264 has no layer information of its own in non-interleaved mode).
#pragma once

#include "protocol/codecs/FrameMarking.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::codecs::h264 {

// NAL unit types (H.264 table 7-1) and RFC 6184 packetization types.
inline constexpr uint8_t kNalSlice = 1;
inline constexpr uint8_t kNalIdr = 5;
inline constexpr uint8_t kNalSei = 6;
inline constexpr uint8_t kNalSps = 7;
inline constexpr uint8_t kNalPps = 8;
inline constexpr uint8_t kNalAud = 9;
inline constexpr uint8_t kStapA = 24;
inline constexpr uint8_t kStapB = 25;
inline constexpr uint8_t kMtap16 = 26;
inline constexpr uint8_t kMtap24 = 27;
inline constexpr uint8_t kFuA = 28;
inline constexpr uint8_t kFuB = 29;

enum class Packetization : uint8_t { SingleNal, StapA, FuA, FuB };

// Layers as the frame marking extension gives them.
struct LayerInfo {
    uint8_t spatialLayer = 0;  // LID dependency_id (bits 6-4) in H.264 SVC
    uint8_t qualityLayer = 0;  // LID quality_id (bits 3-0)
    uint8_t temporalLayer = 0; // TID
    bool hasTl0PicIdx = false;
    uint8_t tl0PicIdx = 0;
    bool isKeyFrame = false;       // S and I: first packet of an independent frame
    bool switchingUpPoint = false; // B or I: a temporal layer may start here
    bool discardable = false;
    bool isStartOfFrame = false;
    bool isEndOfFrame = false;
};

LayerInfo layerInfo(const FrameMarking& fm);

struct SpsInfo {
    uint8_t profileIdc = 0;
    uint8_t levelIdc = 0;
    uint8_t spsId = 0;
    uint16_t width = 0; // after cropping
    uint16_t height = 0;
};

// `nal` is a whole SPS NAL unit, header octet included, emulation
// prevention bytes still in. Nullopt when cut short or out of range.
std::optional<SpsInfo> parseSps(const uint8_t* nal, size_t len);

struct PayloadDescriptor {
    Packetization packetization = Packetization::SingleNal;
    uint8_t nri = 0; // nal_ref_idc of the outer header: 0 means never referred to
    // Type of the NAL unit carried: the first one of a STAP-A, the
    // fragmented one of an FU.
    uint8_t nalType = 0;
    uint16_t nalCount = 0; // NAL units in a STAP-A; 1 otherwise
    bool fuStart = false;
    bool fuEnd = false;

    // Over the NAL units this packet starts (an FU only counts on its first
    // fragment, as the type matters only where decoding can begin).
    bool hasIdr = false;
    bool hasSps = false;
    bool hasPps = false;

    // IDR or SPS at its start, or frame marking S and I.
    bool isKeyFrame = false;

    // From an SPS found complete in the packet.
    bool hasFrameSize = false;
    uint16_t width = 0;
    uint16_t height = 0;

    bool hasFrameMarking = false;
    FrameMarking frameMarking;
    LayerInfo layers; // from frameMarking; all zero without it

    uint8_t spatialLayer() const { return layers.spatialLayer; }
    uint8_t temporalLayer() const { return layers.temporalLayer; }

    // Nullopt for an empty payload, NAL type 0, 30, 31, STAP-B and MTAPs
    // (interleaved mode, not negotiated in WebRTC), STAP-A units that are
    // empty, cut short, or themselves aggregates or fragments, and FUs
    // without data or with both start and end bits.
    static std::optional<PayloadDescriptor> parse(const uint8_t* payload, size_t len);
    static std::optional<PayloadDescriptor> parse(const uint8_t* payload, size_t len,
                                                  const FrameMarking& frameMarking);
};

// What one consumer keeps to filter temporal layers by frame marking: drop
// frames above the target, go up at a base layer sync or independent frame,
// go down at the next frame. Without frame marking every packet passes.
class EncodingContext {
public:
    static constexpr uint8_t kMaxTemporalLayer = 7;

    void setTargetTemporalLayer(uint8_t layer);
    uint8_t targetTemporalLayer() const { return targetTemporal_; }
    int8_t currentTemporalLayer() const { return currentTemporal_; }

    // Nothing to rewrite in H.264 payloads: true to forward.
    bool process(const PayloadDescriptor& desc);

private:
    uint8_t targetTemporal_ = kMaxTemporalLayer;
    int8_t currentTemporal_ = -1;
    int8_t freeUpTo_ = -1; // see vp8::EncodingContext
};

} // namespace sfu::codecs::h264
