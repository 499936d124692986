// Media for tests of the entities: VP8 packets as a browser sends them and
// non-blocking loopback UDP sockets to send them from.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

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
