// Media for tests of the entities: VP8 packets and VP9 layer frames as a
// browser sends them, NACKs as a receiver sends them, and non-blocking
// loopback UDP sockets to send them from.
#pragma once

#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <span>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace sfu::test {

struct Vp8PacketSpec {
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    bool keyFrame = false;
    uint32_t ssrc = 0x11223344;
    uint8_t payloadType = 96;
    // Bytes of frame data after the frame header.
    size_t padding = 1000;
};

// A VP8 packet into `out` (room for 25 + padding bytes): a descriptor with
// a 7-bit picture id, and for key frames a valid key frame header
// (320x240). Returns its size.
inline size_t vp8Packet(uint8_t* out, const Vp8PacketSpec& spec) {
    const uint8_t header[12] = {0x80,
                                spec.payloadType,
                                static_cast<uint8_t>(spec.seq >> 8),
                                static_cast<uint8_t>(spec.seq),
                                static_cast<uint8_t>(spec.timestamp >> 24),
                                static_cast<uint8_t>(spec.timestamp >> 16),
                                static_cast<uint8_t>(spec.timestamp >> 8),
                                static_cast<uint8_t>(spec.timestamp),
                                static_cast<uint8_t>(spec.ssrc >> 24),
                                static_cast<uint8_t>(spec.ssrc >> 16),
                                static_cast<uint8_t>(spec.ssrc >> 8),
                                static_cast<uint8_t>(spec.ssrc)};
    std::memcpy(out, header, 12);
    const uint8_t descriptor[3] = {0x90, 0x80, static_cast<uint8_t>(spec.seq & 0x7F)};
    std::memcpy(out + 12, descriptor, 3);
    const uint8_t key[10] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
    const uint8_t delta[10] = {0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(out + 15, spec.keyFrame ? key : delta, 10);
    std::memset(out + 25, 0xAB, spec.padding);
    return 25 + spec.padding;
}

struct Vp9LayerSpec {
    bool keyPicture = false;
    uint16_t pictureId = 0;
    uint8_t tid = 0;
    uint8_t sid = 0;
    uint8_t tl0PicIdx = 0;
    // D: depends on layer sid-1 of the same picture.
    bool interLayerDependency = false;
    // U: a switching up point.
    bool switchingUp = false;
};

// The payload of one VP9 layer frame in one packet into `out` (filled with
// 0xAB after the headers): a non-flexible descriptor with I, L, B and E
// (P on delta pictures, V on a key picture's base layer with three layers'
// sizes) and the start of a key (1280x720) or delta frame header.
inline void vp9LayerPayload(std::span<uint8_t> out, const Vp9LayerSpec& spec) {
    const bool withSs = spec.keyPicture && spec.sid == 0;
    const std::array<uint8_t, 5> descriptor = {
        static_cast<uint8_t>(0xAC | (spec.keyPicture ? 0 : 0x40) | (withSs ? 0x02 : 0)),
        static_cast<uint8_t>(0x80 | (spec.pictureId >> 8)), static_cast<uint8_t>(spec.pictureId),
        static_cast<uint8_t>(spec.tid << 5 | (spec.switchingUp ? 0x10 : 0) | spec.sid << 1 |
                             (spec.interLayerDependency ? 1 : 0)),
        spec.tl0PicIdx};
    // Three layer sizes, then a key frame header; or a delta one.
    const std::array<uint8_t, 22> keyStart = {0x50, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01,
                                              0x68, 0x05, 0x00, 0x02, 0xd0, 0x82, 0x49, 0x83,
                                              0x42, 0x00, 0x13, 0xf0, 0x0b, 0x30};
    const std::array<uint8_t, 2> deltaStart = {0x86, 0x00};
    std::fill(out.begin(), out.end(), uint8_t{0xAB});
    auto at = std::copy(descriptor.begin(), descriptor.end(), out.begin());
    if (withSs) {
        std::copy(keyStart.begin(), keyStart.end(), at);
    } else {
        std::copy(deltaStart.begin(), deltaStart.end(), at);
    }
}

// A generic NACK (RFC 4585) from `senderSsrc` for these sequence numbers of
// `mediaSsrc`, in `buffer`; handed to `use` as a parsed view.
template <typename Use>
void withNack(uint32_t senderSsrc, uint32_t mediaSsrc, const std::vector<uint16_t>& seqs,
              Use&& use) {
    const auto items = rtcp::compressNack(seqs);
    uint8_t buffer[1500];
    const size_t size = rtcp::writeNack(senderSsrc, mediaSsrc, items, buffer, sizeof(buffer));
    const auto packet = size > 0 ? rtcp::PacketView::parse(buffer, size) : std::nullopt;
    const auto view = packet ? rtcp::NackView::parse(*packet) : std::nullopt;
    if (view) {
        use(*view);
    }
}

// A non-blocking UDP socket on 127.0.0.1; its port in `port`.
inline int udpSocket(uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

inline sockaddr_in loopback(uint16_t port) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    return to;
}

} // namespace sfu::test
