// CRC-32 with the IEEE 802.3 polynomial (reflected, init and final XOR all
// ones), the checksum STUN's FINGERPRINT uses (RFC 5389 15.5).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sfu::ice {

// CRC of `size` bytes. Pass the previous result as `crc` to continue over a
// message given in pieces: crc32(b, n, crc32(a, m)) == crc32(a ++ b).
uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

} // namespace sfu::ice
