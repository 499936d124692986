// The payload fields a consumer rewrites in a packet it forwards (the VP8
// and VP9 picture id and TL0PICIDX), as its encoding context decided them
// from the producer's packet. They are applied to the consumer's own copy:
// deciding never touches the packet every consumer shares.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sfu::codecs {

struct PayloadRewrite {
    bool hasPictureId = false;
    bool pictureIdIs15Bit = false;
    uint8_t pictureIdOffset = 0;
    uint16_t pictureId = 0;
    bool hasTl0PicIdx = false;
    uint8_t tl0PicIdxOffset = 0;
    uint8_t tl0PicIdx = 0;

    // The picture id field keeps its width (a 7-bit one gets the low bits).
    void setPictureId(uint8_t offset, bool is15Bit, uint16_t id) {
        hasPictureId = true;
        pictureIdOffset = offset;
        pictureIdIs15Bit = is15Bit;
        pictureId = id;
    }
    void setTl0PicIdx(uint8_t offset, uint8_t value) {
        hasTl0PicIdx = true;
        tl0PicIdxOffset = offset;
        tl0PicIdx = value;
    }
    bool empty() const { return !hasPictureId && !hasTl0PicIdx; }

    // Writes the fields into a copy of the payload they were decided for;
    // false when one lies outside `len` (nothing is written past it).
    bool apply(uint8_t* payload, size_t len) const;
};

} // namespace sfu::codecs
