// Shared helpers for the rtp unit tests: hex vectors and a consistency check
// that a mutated packet still parses to exactly what its view reports.
#pragma once

#include "rtc/rtp/RtpPacket.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <gtest/gtest.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::rtp::test {

// Hex digits with optional whitespace in between.
inline std::vector<uint8_t> fromHex(std::string_view hex) {
    std::vector<uint8_t> out;
    int high = -1;
    for (const char c : hex) {
        int nibble = -1;
        if (c >= '0' && c <= '9') {
            nibble = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            nibble = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            nibble = c - 'A' + 10;
        } else {
            continue;
        }
        if (high < 0) {
            high = nibble;
        } else {
            out.push_back(static_cast<uint8_t>((high << 4) | nibble));
            high = -1;
        }
    }
    EXPECT_LT(high, 0) << "odd number of hex digits";
    return out;
}

inline std::string toHex(const uint8_t* data, size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[data[i] >> 4]);
        out.push_back(kDigits[data[i] & 0x0F]);
    }
    return out;
}

inline std::vector<uint8_t> bytesOf(std::string_view text) {
    return {text.begin(), text.end()};
}

inline std::vector<uint8_t> copyOf(std::span<const uint8_t> bytes) {
    return {bytes.begin(), bytes.end()};
}

// A vector's bytes in a buffer with `extra` bytes of room after them.
inline std::vector<uint8_t> withRoom(const std::vector<uint8_t>& bytes, size_t extra) {
    std::vector<uint8_t> buffer(bytes.size() + extra, 0xEE);
    std::copy(bytes.begin(), bytes.end(), buffer.begin());
    return buffer;
}

// Parses `buffer`'s first `size` bytes, with the whole buffer as capacity.
inline RtpPacket mustParse(std::vector<uint8_t>& buffer, size_t size) {
    auto packet = RtpPacket::parse(buffer.data(), size, buffer.size());
    EXPECT_TRUE(packet.has_value()) << toHex(buffer.data(), size);
    if (!packet) {
        std::abort();
    }
    return *packet;
}

inline RtpPacket mustParse(std::vector<uint8_t>& buffer) {
    return mustParse(buffer, buffer.size());
}

// The bytes a packet view covers.
inline std::vector<uint8_t> wire(const RtpPacket& packet) {
    return {packet.data(), packet.data() + packet.size()};
}

// A fresh parse of the packet's bytes must agree with the view in every
// respect the view exposes.
inline void expectConsistent(const RtpPacket& packet) {
    auto reparsed =
        RtpPacket::parse(const_cast<uint8_t*>(packet.data()), packet.size(), packet.capacity());
    ASSERT_TRUE(reparsed.has_value()) << toHex(packet.data(), packet.size());
    EXPECT_EQ(reparsed->headerSize(), packet.headerSize());
    EXPECT_EQ(reparsed->payloadLength(), packet.payloadLength());
    EXPECT_EQ(reparsed->paddingLength(), packet.paddingLength());
    EXPECT_EQ(reparsed->hasPadding(), packet.paddingLength() > 0);
    EXPECT_EQ(reparsed->extensionForm(), packet.extensionForm());
    EXPECT_EQ(reparsed->hasHeaderExtension(), packet.extensionForm() != ExtensionForm::None);
    ASSERT_EQ(reparsed->extensionCount(), packet.extensionCount());
    for (size_t i = 0; i < packet.extensionCount(); ++i) {
        const ExtensionElement a = reparsed->extensionAt(i);
        const ExtensionElement b = packet.extensionAt(i);
        EXPECT_EQ(a.id, b.id);
        EXPECT_EQ(copyOf(a.value), copyOf(b.value));
        EXPECT_EQ(a.value.data(), b.value.data());
    }
}

} // namespace sfu::rtp::test
