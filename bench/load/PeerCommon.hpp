// What the load peers (load_peer.cpp, sctp_peer.cpp) share: the clock, the
// process's CPU time, and their UDP sockets.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>

namespace sfu::bench {

inline uint64_t nowUs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

// User + system CPU seconds of this process.
inline double cpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A non-blocking UDP/IPv4 socket with `bufferBytes` of receive and send
// buffer: SO_RCVBUFFORCE/SO_SNDBUFFORCE (root) go past net.core.[rw]mem_max,
// the plain options are the fallback. Throws std::runtime_error.
inline int openUdpSocket(int bufferBytes) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    }
    for (const int option : {SO_RCVBUFFORCE, SO_SNDBUFFORCE}) {
        if (setsockopt(fd, SOL_SOCKET, option, &bufferBytes, sizeof(bufferBytes)) != 0) {
            const int fallback = option == SO_RCVBUFFORCE ? SO_RCVBUF : SO_SNDBUF;
            setsockopt(fd, SOL_SOCKET, fallback, &bufferBytes, sizeof(bufferBytes));
        }
    }
    return fd;
}

} // namespace sfu::bench
