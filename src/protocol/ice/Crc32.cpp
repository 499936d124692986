#include "protocol/ice/Crc32.hpp"

#include <array>

namespace sfu::ice {

namespace {

// 0x04C11DB7 bit-reversed: the table form processes the least significant
// bit first, as the IEEE CRC-32 defines the bit order.
constexpr uint32_t kReflectedPolynomial = 0xEDB88320u;

constexpr std::array<uint32_t, 256> makeTable() {
    std::array<uint32_t, 256> table{};
    for (uint32_t n = 0; n < 256; ++n) {
        uint32_t c = n;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 1) != 0 ? (c >> 1) ^ kReflectedPolynomial : c >> 1;
        }
        table[n] = c;
    }
    return table;
}

constexpr std::array<uint32_t, 256> kTable = makeTable();

} // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
    // The register starts (and ends) inverted; undoing the final inversion
    // of a previous result lets pieces chain.
    uint32_t c = ~crc;
    for (size_t i = 0; i < size; ++i) {
        c = kTable[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    }
    return ~c;
}

} // namespace sfu::ice
