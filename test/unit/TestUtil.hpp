// Byte helpers shared by the unit tests of every module: test vectors are
// written as hex the way captures and specs print them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::test {

// Parses hex digits into `out`, skipping whitespace, and returns how many
// bytes it wrote. Allocates nothing unless the text is malformed, so tests
// that count allocations can use it too. A stray character or an odd digit
// count throws: a typo in a vector must fail the test, not shift its bytes.
inline size_t hexInto(std::string_view hex, std::span<uint8_t> out) {
    size_t size = 0;
    int high = -1;
    for (const char c : hex) {
        int nibble = -1;
        if (c >= '0' && c <= '9') {
            nibble = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            nibble = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            nibble = c - 'A' + 10;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        } else {
            throw std::invalid_argument("bad hex digit");
        }
        if (high < 0) {
            high = nibble;
        } else {
            if (size == out.size()) {
                throw std::length_error("hex does not fit the buffer");
            }
            out[size++] = static_cast<uint8_t>((high << 4) | nibble);
            high = -1;
        }
    }
    if (high >= 0) {
        throw std::invalid_argument("odd number of hex digits");
    }
    return size;
}

inline std::vector<uint8_t> fromHex(std::string_view hex) {
    std::vector<uint8_t> out(hex.size() / 2);
    out.resize(hexInto(hex, out));
    return out;
}

// Lower-case hex; with `group` set, a space after every `group` bytes.
inline std::string toHex(std::span<const uint8_t> bytes, size_t group = 0) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (group != 0 && i != 0 && i % group == 0) {
            out.push_back(' ');
        }
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0x0F]);
    }
    return out;
}

inline std::string toHex(const uint8_t* data, size_t size, size_t group = 0) {
    return toHex(std::span<const uint8_t>(data, size), group);
}

inline std::vector<uint8_t> bytesOf(std::string_view text) {
    return {text.begin(), text.end()};
}

inline std::vector<uint8_t> copyOf(std::span<const uint8_t> bytes) {
    return {bytes.begin(), bytes.end()};
}

inline std::vector<uint8_t> concat(std::vector<uint8_t> a, std::span<const uint8_t> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace sfu::test
