// Fresh SRTP master keys from the worker's random source.
#pragma once

#include "protocol/srtp/CryptoSuite.hpp"

#include <cstdint>
#include <vector>

namespace sfu::srtp {

// A fresh master key and salt for `suite`: keyLength(suite) random bytes.
std::vector<uint8_t> generateKey(CryptoSuite suite);

} // namespace sfu::srtp
