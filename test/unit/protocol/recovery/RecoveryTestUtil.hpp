// Shared helpers for the recovery unit tests: building RTP packets into
// caller buffers.
#pragma once

#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <gtest/gtest.h>
#include <vector>

namespace sfu::recovery::test {

// A video-like packet: one-byte extensions 1 (3 bytes) and 3 (2 bytes), a
// payload whose bytes depend on the sequence number, so packets differ.
inline rtp::RtpPacket makePacket(uint8_t* buffer, size_t capacity, uint16_t seq,
                                 size_t payloadSize = 200, uint32_t ssrc = 0x11223344,
                                 uint8_t payloadType = 96) {
    std::array<uint8_t, 1400> payload{};
    if (payloadSize > payload.size()) {
        std::abort();
    }
    for (size_t i = 0; i < payloadSize; ++i) {
        payload[i] = static_cast<uint8_t>(seq * 7 + i);
    }
    const std::array<uint8_t, 3> abs{0x12, 0x34, static_cast<uint8_t>(seq)};
    const std::array<uint8_t, 2> tcc{static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
    const std::array<rtp::ExtensionElement, 2> extensions{rtp::ExtensionElement{1, abs},
                                                          rtp::ExtensionElement{3, tcc}};
    rtp::RtpPacketSpec spec;
    spec.marker = (seq % 3) == 0;
    spec.payloadType = payloadType;
    spec.sequenceNumber = seq;
    spec.timestamp = 90000u + seq * 3000u;
    spec.ssrc = ssrc;
    spec.extensions = extensions;
    spec.payload = std::span<const uint8_t>(payload.data(), payloadSize);
    auto packet = rtp::RtpPacket::build(buffer, capacity, spec);
    if (!packet) {
        std::abort();
    }
    return *packet;
}

// A packet with its own buffer, for tests that keep many around.
struct OwnedPacket {
    std::vector<uint8_t> buffer;
    size_t size = 0;

    explicit OwnedPacket(uint16_t seq, size_t payloadSize = 200) : buffer(1600) {
        size = makePacket(buffer.data(), buffer.size(), seq, payloadSize).size();
    }
    rtp::RtpPacket view() {
        auto packet = rtp::RtpPacket::parse(buffer.data(), size, buffer.size());
        if (!packet) {
            std::abort();
        }
        return *packet;
    }
    std::vector<uint8_t> bytes() const { return {buffer.begin(), buffer.begin() + size}; }
};

} // namespace sfu::recovery::test
