// Shared helpers for the rtp unit tests: hex vectors and a consistency check
// that a mutated packet still parses to exactly what its view reports.
#pragma once

#include "TestUtil.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <gtest/gtest.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::rtp::test {

using sfu::test::bytesOf;
using sfu::test::copyOf;
using sfu::test::fromHex;
using sfu::test::toHex;

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
