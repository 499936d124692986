#include "protocol/codecs/Vp8.hpp"

#include "PictureId.hpp"

#include <algorithm>

namespace sfu::codecs::vp8 {

namespace {

// Key frame header: 3-byte frame tag, start code, 2+2 bytes of size.
constexpr size_t kKeyFrameHeaderLength = 10;

uint16_t getLe16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

} // namespace

std::optional<PayloadDescriptor> PayloadDescriptor::parse(const uint8_t* payload, size_t len) {
    if (payload == nullptr || len < 1) {
        return std::nullopt;
    }
    PayloadDescriptor d;
    const uint8_t b0 = payload[0];
    d.extended = (b0 & 0x80) != 0;
    d.nonReference = (b0 & 0x20) != 0;
    d.startOfPartition = (b0 & 0x10) != 0;
    d.partitionIndex = b0 & 0x07;
    size_t off = 1;

    if (d.extended) {
        if (len <= off) {
            return std::nullopt;
        }
        const uint8_t x = payload[off++];
        d.hasPictureId = (x & 0x80) != 0;
        d.hasTl0PicIdx = (x & 0x40) != 0;
        d.hasTid = (x & 0x20) != 0;
        d.hasKeyIdx = (x & 0x10) != 0;

        if (d.hasPictureId) {
            d.pictureIdOffset = static_cast<uint8_t>(off);
            if (!detail::readPictureId(payload, len, off, d.pictureId, d.pictureIdIs15Bit)) {
                return std::nullopt;
            }
        }
        if (d.hasTl0PicIdx) {
            if (len <= off) {
                return std::nullopt;
            }
            d.tl0PicIdxOffset = static_cast<uint8_t>(off);
            d.tl0PicIdx = payload[off++];
        }
        // One octet carries TID/Y and KEYIDX; it is there if either is.
        if (d.hasTid || d.hasKeyIdx) {
            if (len <= off) {
                return std::nullopt;
            }
            const uint8_t t = payload[off++];
            if (d.hasTid) {
                d.tid = t >> 6;
                d.layerSync = (t & 0x20) != 0;
            }
            if (d.hasKeyIdx) {
                d.keyIdx = t & 0x1F;
            }
        }
    }

    // A descriptor with nothing after it carries no VP8 data.
    if (len <= off) {
        return std::nullopt;
    }
    d.headerLength = static_cast<uint8_t>(off);

    d.isStartOfFrame = d.startOfPartition && d.partitionIndex == 0;
    if (d.isStartOfFrame) {
        const uint8_t* vp8 = payload + off;
        const size_t vp8Len = len - off;
        // Frame tag bit 0 is the inverse key frame flag (P in RFC 7741).
        const bool interFrame = (vp8[0] & 0x01) != 0;
        // A key frame whose header is cut or whose start code is wrong is not
        // one a receiver can start decoding from, so it is not reported.
        if (!interFrame && vp8Len >= kKeyFrameHeaderLength && vp8[3] == 0x9D && vp8[4] == 0x01 &&
            vp8[5] == 0x2A) {
            d.isKeyFrame = true;
            d.version = (vp8[0] >> 1) & 0x07;
            d.showFrame = (vp8[0] & 0x10) != 0;
            const uint16_t w = getLe16(vp8 + 6);
            const uint16_t h = getLe16(vp8 + 8);
            d.width = w & 0x3FFF;
            d.horizontalScale = static_cast<uint8_t>(w >> 14);
            d.height = h & 0x3FFF;
            d.verticalScale = static_cast<uint8_t>(h >> 14);
        }
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

void EncodingContext::setTargetTemporalLayer(uint8_t layer) {
    targetTemporal_ = std::min(layer, kMaxTemporalLayer);
}

void EncodingContext::requestSync() {
    pictureIds_.resync();
    tl0PicIdxs_.resync();
    // Nothing of the new source was forwarded yet, and only its next key
    // frame frees the layers above the base.
    currentTemporal_ = -1;
    freeUpTo_ = -1;
}

bool EncodingContext::admits(const PayloadDescriptor& desc) const {
    const auto target = static_cast<int8_t>(targetTemporal_);
    const auto tid = static_cast<int8_t>(desc.temporalLayer());
    if (tid > target) {
        return false;
    }
    // Going up needs a picture that refers to nothing the receiver lacks:
    // one that depends only on the base layer (Y), or any picture since a
    // key frame from which every layer up to it was forwarded.
    return tid <= std::max<int8_t>(currentTemporal_, 0) || desc.layerSync || tid <= freeUpTo_;
}

bool EncodingContext::acceptsNewPicture(const PayloadDescriptor& desc) {
    const auto target = static_cast<int8_t>(targetTemporal_);
    // Going down is safe at any picture: lower layers never refer to higher ones.
    currentTemporal_ = std::min(currentTemporal_, target);
    freeUpTo_ = std::min(freeUpTo_, target);
    if (desc.isKeyFrame) {
        // Nothing after a key frame refers to anything before it.
        freeUpTo_ = target;
    }
    if (!admits(desc)) {
        return false;
    }
    currentTemporal_ = std::max(currentTemporal_, static_cast<int8_t>(desc.temporalLayer()));
    return true;
}

bool EncodingContext::decide(const PayloadDescriptor& desc, PayloadRewrite& rewrite) {
    const auto tid = static_cast<int8_t>(desc.temporalLayer());

    if (!desc.hasPictureId) {
        // No picture identity to keep decisions per picture: judge each
        // packet on its own layer.
        const auto target = static_cast<int8_t>(targetTemporal_);
        currentTemporal_ = std::min(currentTemporal_, target);
        if (tid > target) {
            return false;
        }
        currentTemporal_ = std::max(currentTemporal_, tid);
        return true;
    }

    const bool wide = desc.pictureIdIs15Bit;
    const PictureIdSequencer::Lookup found = pictureIds_.lookup(desc.pictureId, wide);
    uint16_t outId = 0;
    if (found.isNew) {
        if (!acceptsNewPicture(desc)) {
            pictureIds_.drop(desc.pictureId, wide);
            return false;
        }
        outId = pictureIds_.forward(desc.pictureId, wide);
    } else {
        switch (found.state) {
        case PictureIdSequencer::State::Forwarded:
            outId = found.outputId;
            break;
        case PictureIdSequencer::State::Pending:
            // A late picture: its id is reserved, and it is judged as a new
            // one would be (only a later picture could have switched down).
            if (!admits(desc)) {
                pictureIds_.drop(desc.pictureId, wide);
                return false;
            }
            currentTemporal_ = std::max(currentTemporal_, tid);
            outId = pictureIds_.forward(desc.pictureId, wide);
            break;
        case PictureIdSequencer::State::Dropped:
        case PictureIdSequencer::State::Unknown:
            return false;
        }
    }

    rewrite.setPictureId(desc.pictureIdOffset, desc.pictureIdIs15Bit, outId);
    if (desc.hasTl0PicIdx) {
        rewrite.setTl0PicIdx(desc.tl0PicIdxOffset, tl0PicIdxs_.map(desc.tl0PicIdx, tid == 0));
    }
    return true;
}

} // namespace sfu::codecs::vp8
