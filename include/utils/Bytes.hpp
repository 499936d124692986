// Big-endian loads and stores over raw bytes: the one place the media path
// converts network byte order. Callers check bounds before calling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sfu::bytes {

inline uint8_t get8(const uint8_t* p) {
    return p[0];
}

inline uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>((uint16_t{p[0]} << 8) | uint16_t{p[1]});
}

inline uint32_t get24(const uint8_t* p) {
    return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[2]};
}

inline uint32_t get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline uint64_t get64(const uint8_t* p) {
    return (uint64_t{get32(p)} << 32) | uint64_t{get32(p + 4)};
}

inline void set8(uint8_t* p, uint8_t v) {
    p[0] = v;
}

inline void set16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

inline void set24(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 16);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v);
}

inline void set32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

inline void set64(uint8_t* p, uint64_t v) {
    set32(p, static_cast<uint32_t>(v >> 32));
    set32(p + 4, static_cast<uint32_t>(v));
}

// Number of zero bytes needed to pad `len` to a multiple of four.
constexpr size_t padTo4(size_t len) {
    return (4 - (len & 3)) & 3;
}

} // namespace sfu::bytes
