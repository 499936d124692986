// Cryptographically secure random bytes for SRTP master keys.
#pragma once

#include "rtc/srtp/CryptoSuite.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sfu::srtp {

// Fills `out` from the kernel's CSPRNG (getrandom(2), the source OpenSSL
// seeds from too). Throws sfu::Error if the kernel refuses, which only a
// broken system does.
void randomBytes(std::span<uint8_t> out);

// A fresh master key and salt for `suite`: keyLength(suite) random bytes.
std::vector<uint8_t> generateKey(CryptoSuite suite);

} // namespace sfu::srtp
