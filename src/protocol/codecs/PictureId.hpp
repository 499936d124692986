// The picture id and TL0PICIDX fields as the VP8 and VP9 payload descriptors
// both lay them out: an M bit then 7 or 15 bits of id, and one TL0PICIDX
// octet. Shared so that parsing and in-place rewriting cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sfu::codecs::detail {

// Reads the picture id at payload[off] and advances `off` past it. False if
// it is cut short.
inline bool readPictureId(const uint8_t* payload, size_t len, size_t& off, uint16_t& id,
                          bool& is15Bit) {
    if (len <= off) {
        return false;
    }
    is15Bit = (payload[off] & 0x80) != 0;
    if (is15Bit) {
        if (len <= off + 1) {
            return false;
        }
        id = static_cast<uint16_t>(((payload[off] & 0x7F) << 8) | payload[off + 1]);
        off += 2;
    } else {
        id = payload[off] & 0x7F;
        off += 1;
    }
    return true;
}

// The field keeps its width: a 7-bit one gets the low 7 bits of `id`. An
// offset of 0 means the field was never located.
inline bool writePictureId(uint8_t* payload, size_t len, uint8_t offset, bool is15Bit,
                           uint16_t id) {
    const size_t need = size_t{offset} + (is15Bit ? 2 : 1);
    if (payload == nullptr || offset == 0 || need > len) {
        return false;
    }
    if (is15Bit) {
        payload[offset] = static_cast<uint8_t>(0x80 | ((id >> 8) & 0x7F));
        payload[offset + 1] = static_cast<uint8_t>(id);
    } else {
        payload[offset] = static_cast<uint8_t>(id & 0x7F);
    }
    return true;
}

inline bool writeTl0PicIdx(uint8_t* payload, size_t len, uint8_t offset, uint8_t value) {
    if (payload == nullptr || offset == 0 || offset >= len) {
        return false;
    }
    payload[offset] = value;
    return true;
}

} // namespace sfu::codecs::detail
