// Standard base64 (RFC 4648 section 4, with padding) for SDES keys
// (srtpParameters.keyBase64). Decoding is strict: whatever a conforming
// encoder would not have produced is rejected rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::srtp {

std::string base64Encode(std::span<const uint8_t> data);

// Returns nothing for a length that is not a multiple of 4, a character
// outside the alphabet (whitespace included), misplaced or excess '=', or
// non-zero bits in the unused tail of the last character.
std::optional<std::vector<uint8_t>> base64Decode(std::string_view text);

} // namespace sfu::srtp
