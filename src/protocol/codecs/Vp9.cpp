#include "protocol/codecs/Vp9.hpp"

#include "BitReader.hpp"
#include "PictureId.hpp"
#include "utils/Bytes.hpp"

#include <algorithm>

namespace sfu::codecs::vp9 {

namespace {

// Parses the scalability structure at data[off]; advances `off` past it.
bool parseScalabilityStructure(const uint8_t* data, size_t len, size_t& off,
                               ScalabilityStructure& ss) {
    if (len <= off) {
        return false;
    }
    const uint8_t b = data[off++];
    ss.numSpatialLayers = static_cast<uint8_t>((b >> 5) + 1);
    ss.hasResolutions = (b & 0x10) != 0;
    ss.hasPictureGroups = (b & 0x08) != 0;

    if (ss.hasResolutions) {
        if (len - off < size_t{4} * ss.numSpatialLayers) {
            return false;
        }
        for (uint8_t i = 0; i < ss.numSpatialLayers; ++i) {
            ss.widths[i] = bytes::get16(data + off);
            ss.heights[i] = bytes::get16(data + off + 2);
            off += 4;
        }
    }
    if (ss.hasPictureGroups) {
        if (len <= off) {
            return false;
        }
        ss.numPictureGroups = data[off++];
        for (unsigned i = 0; i < ss.numPictureGroups; ++i) {
            if (len <= off) {
                return false;
            }
            const uint8_t g = data[off++];
            PictureGroupEntry entry;
            entry.tid = g >> 5;
            entry.switchingUpPoint = (g & 0x10) != 0;
            entry.numRefs = (g >> 2) & 0x03;
            if (len - off < entry.numRefs) {
                return false;
            }
            for (uint8_t r = 0; r < entry.numRefs; ++r) {
                entry.pDiffs[r] = data[off++];
            }
            if (i < ScalabilityStructure::kMaxStoredPictureGroups) {
                ss.pictureGroups[i] = entry;
            }
        }
    }
    return true;
}

// Reads profile and frame size from the uncompressed header of a key frame
// (VP9 bitstream specification, section 6.2). False if it is not a key
// frame header or is cut short.
bool parseKeyFrameSize(const uint8_t* data, size_t len, PayloadDescriptor& d) {
    detail::BitReader r(data, len);
    if (r.bits(2) != 2) { // frame_marker
        return false;
    }
    const uint32_t low = r.bit();
    const uint32_t high = r.bit();
    const auto profile = static_cast<uint8_t>((high << 1) | low);
    if (profile == 3) {
        r.bit(); // reserved_zero
    }
    if (r.bit() != 0) { // show_existing_frame: no new frame at all
        return false;
    }
    if (r.bit() != 0) { // frame_type: 0 is KEY_FRAME
        return false;
    }
    r.bits(2);                    // show_frame, error_resilient_mode
    if (r.bits(24) != 0x498342) { // frame_sync_code
        return false;
    }
    // color_config()
    if (profile >= 2) {
        r.bit(); // ten_or_twelve_bit
    }
    constexpr uint32_t kCsRgb = 7;
    const uint32_t colorSpace = r.bits(3);
    const bool oddProfile = profile == 1 || profile == 3;
    if (colorSpace != kCsRgb) {
        r.bit(); // color_range
        if (oddProfile) {
            r.bits(3); // subsampling_x, subsampling_y, reserved_zero
        }
    } else if (oddProfile) {
        r.bit(); // reserved_zero
    }
    const uint32_t w = r.bits(16) + 1;
    const uint32_t h = r.bits(16) + 1;
    if (r.failed() || w > 0xFFFF || h > 0xFFFF) {
        return false;
    }
    d.profile = profile;
    d.width = static_cast<uint16_t>(w);
    d.height = static_cast<uint16_t>(h);
    return true;
}

} // namespace

std::optional<PayloadDescriptor> PayloadDescriptor::parse(const uint8_t* payload, size_t len) {
    if (payload == nullptr || len < 1) {
        return std::nullopt;
    }
    PayloadDescriptor d;
    const uint8_t b0 = payload[0];
    d.hasPictureId = (b0 & 0x80) != 0;
    d.interPicturePredicted = (b0 & 0x40) != 0;
    d.hasLayerIndices = (b0 & 0x20) != 0;
    d.flexibleMode = (b0 & 0x10) != 0;
    d.startOfLayerFrame = (b0 & 0x08) != 0;
    d.endOfLayerFrame = (b0 & 0x04) != 0;
    d.hasScalabilityStructure = (b0 & 0x02) != 0;
    d.notUsedForInterLayerPrediction = (b0 & 0x01) != 0;
    size_t off = 1;

    if (d.hasPictureId) {
        d.pictureIdOffset = static_cast<uint8_t>(off);
        if (!detail::readPictureId(payload, len, off, d.pictureId, d.pictureIdIs15Bit)) {
            return std::nullopt;
        }
    }

    if (d.hasLayerIndices) {
        if (len <= off) {
            return std::nullopt;
        }
        const uint8_t l = payload[off++];
        d.tid = l >> 5;
        d.switchingUpPoint = (l & 0x10) != 0;
        d.sid = (l >> 1) & 0x07;
        d.interLayerDependency = (l & 0x01) != 0;
        // Flexible mode carries references explicitly and has no TL0PICIDX.
        if (!d.flexibleMode) {
            if (len <= off) {
                return std::nullopt;
            }
            d.hasTl0PicIdx = true;
            d.tl0PicIdxOffset = static_cast<uint8_t>(off);
            d.tl0PicIdx = payload[off++];
        }
    }

    if (d.flexibleMode && d.interPicturePredicted) {
        bool more = true;
        while (more) {
            if (d.numPDiffs == d.pDiffs.size() || len <= off) {
                return std::nullopt; // a fourth reference, or cut short
            }
            const uint8_t p = payload[off++];
            d.pDiffs[d.numPDiffs++] = p >> 1;
            more = (p & 0x01) != 0;
        }
    }

    if (d.hasScalabilityStructure && !parseScalabilityStructure(payload, len, off, d.ss)) {
        return std::nullopt;
    }

    if (len <= off) {
        return std::nullopt;
    }
    d.headerLength = static_cast<uint16_t>(off);

    d.isKeyFrame = d.startOfLayerFrame && !d.interPicturePredicted && d.spatialLayer() == 0;
    if (d.isKeyFrame) {
        d.hasFrameSize = parseKeyFrameSize(payload + off, len - off, d);
    }
    return d;
}

bool PayloadDescriptor::writePictureId(uint8_t* payload, size_t len, uint16_t id) const {
    return hasPictureId &&
           detail::writePictureId(payload, len, pictureIdOffset, pictureIdIs15Bit, id);
}

bool PayloadDescriptor::writeTl0PicIdx(uint8_t* payload, size_t len, uint8_t value) const {
    return hasTl0PicIdx && detail::writeTl0PicIdx(payload, len, tl0PicIdxOffset, value);
}

void EncodingContext::setTargetSpatialLayer(uint8_t layer) {
    targetSpatial_ = std::min(layer, kMaxLayer);
}

void EncodingContext::setTargetTemporalLayer(uint8_t layer) {
    targetTemporal_ = std::min(layer, kMaxLayer);
}

void EncodingContext::requestSync() {
    if (haveSentId_) {
        pictureIds_.resync(lastSentId_);
    } else {
        pictureIds_.resync();
    }
    tl0PicIdxs_.resync();
    currentSpatial_ = -1;
    currentTemporal_ = -1;
    freeUpTo_ = -1;
    knownSpatialLayers_ = 0;
}

EncodingContext::Result EncodingContext::decide(const PayloadDescriptor& desc,
                                                PayloadRewrite& rewrite) {
    const auto sid = static_cast<int8_t>(desc.spatialLayer());
    const auto tid = static_cast<int8_t>(desc.temporalLayer());
    const auto targetS = static_cast<int8_t>(targetSpatial_);
    const auto targetT = static_cast<int8_t>(targetTemporal_);

    // Nothing can be decoded before a key frame; not even its ids are kept.
    if (currentSpatial_ < 0 && !desc.isKeyFrame) {
        return {};
    }

    bool newPicture = false;
    uint16_t outId = 0;
    if (desc.hasPictureId) {
        const bool wide = desc.pictureIdIs15Bit;
        const PictureIdSequencer::Lookup found = pictureIds_.lookup(desc.pictureId, wide);
        newPicture = found.isNew;
        if (found.isNew || found.state == PictureIdSequencer::State::Pending) {
            outId = pictureIds_.forward(desc.pictureId, wide);
        } else if (found.state == PictureIdSequencer::State::Forwarded) {
            outId = found.outputId;
        } else {
            return {}; // too old to give it a consistent id
        }
    } else {
        newPicture = desc.startOfLayerFrame && sid == 0;
    }

    if (newPicture) {
        if (currentTemporal_ > targetT) {
            currentTemporal_ = targetT;
        }
        // The pictures after a base one refer only to it and to each other
        // (up to the next base picture): every layer up to the target may
        // start after it, switching up point or not.
        freeUpTo_ = tid == 0 ? targetT : std::min(freeUpTo_, targetT);
        // Lower spatial layers never refer to upper ones, so dropping the
        // upper ones is safe from any picture on (in K-SVC too).
        if (currentSpatial_ > targetS) {
            currentSpatial_ = targetS;
        }
    }
    if (desc.hasScalabilityStructure) {
        knownSpatialLayers_ = desc.ss.numSpatialLayers;
    }
    if (desc.isKeyFrame) {
        freeUpTo_ = targetT;
        // Every layer of a key picture refers at most to the layers below it
        // in the same picture, so all layers up to the target can start here
        int8_t top = targetS;
        if (knownSpatialLayers_ > 0) {
            top = std::min(top, static_cast<int8_t>(knownSpatialLayers_ - 1));
        }
        currentSpatial_ = top;
    }

    const int8_t allowedT = std::max<int8_t>(currentTemporal_, 0);
    if (newPicture && tid > allowedT && tid <= targetT &&
        (desc.switchingUpPoint || tid <= freeUpTo_)) {
        currentTemporal_ = tid;
    }
    if (tid > std::max<int8_t>(currentTemporal_, 0)) {
        return {};
    }
    if (sid > currentSpatial_) {
        return {};
    }
    currentTemporal_ = std::max(currentTemporal_, tid);

    Result result;
    result.forward = true;
    result.setMarker = desc.endOfLayerFrame && sid == currentSpatial_;
    if (desc.hasPictureId) {
        rewrite.setPictureId(desc.pictureIdOffset, desc.pictureIdIs15Bit, outId);
        haveSentId_ = true;
        lastSentId_ = outId;
    }
    if (desc.hasTl0PicIdx) {
        rewrite.setTl0PicIdx(desc.tl0PicIdxOffset, tl0PicIdxs_.map(desc.tl0PicIdx, tid == 0));
    }
    return result;
}

} // namespace sfu::codecs::vp9
