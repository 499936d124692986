#include "protocol/srtp/Base64.hpp"

#include <array>

namespace sfu::srtp {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

// Character -> 6-bit value, kInvalid for anything else (including '=').
constexpr std::array<uint8_t, 256> makeDecodeTable() {
    std::array<uint8_t, 256> table{};
    for (auto& entry : table) {
        entry = kInvalid;
    }
    for (uint8_t i = 0; i < 64; ++i) {
        table[static_cast<uint8_t>(kAlphabet[i])] = i;
    }
    return table;
}

constexpr std::array<uint8_t, 256> kDecode = makeDecodeTable();

} // namespace

std::string base64Encode(std::span<const uint8_t> data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    const size_t rest = data.size() - i;
    if (rest > 0) {
        uint32_t v = uint32_t{data[i]} << 16;
        if (rest == 2) {
            v |= uint32_t{data[i + 1]} << 8;
        }
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::vector<uint8_t>> base64Decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    size_t padding = 0;
    if (!text.empty() && text.back() == '=') {
        padding = text[text.size() - 2] == '=' ? 2 : 1;
    }
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3 - padding);
    // Every character but the padding must be in the alphabet; a '=' inside
    // the text or a third '=' fails here as it decodes to kInvalid.
    const size_t dataChars = text.size() - padding;
    for (size_t i = 0; i < text.size(); i += 4) {
        uint32_t v = 0;
        for (size_t j = 0; j < 4; ++j) {
            uint8_t sextet = 0;
            if (i + j < dataChars) {
                sextet = kDecode[static_cast<uint8_t>(text[i + j])];
                if (sextet == kInvalid) {
                    return std::nullopt;
                }
            }
            v = (v << 6) | sextet;
        }
        const size_t bytes = i + 4 <= dataChars ? 3 : 3 - padding;
        // The bits below the last decoded byte must be zero, so that each
        // byte string has exactly one valid encoding.
        if (bytes < 3 && (v & ((1u << (8 * (3 - bytes))) - 1)) != 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<uint8_t>(v >> 16));
        if (bytes > 1) {
            out.push_back(static_cast<uint8_t>(v >> 8));
        }
        if (bytes > 2) {
            out.push_back(static_cast<uint8_t>(v));
        }
    }
    return out;
}

} // namespace sfu::srtp
