#include "rtc/PortManager.hpp"

#include "deps/UvHandles.hpp"
#include "utils/Errors.hpp"
#include "utils/Random.hpp"

#include <bitset>
#include <cstring>
#include <unordered_map>

namespace sfu::rtc {

namespace {

constexpr size_t kPortCount = 65536;

// Identifies an IP and protocol by bytes rather than text, so that
// "::1" and "0:0::1" are one and the same.
std::string tableKey(Protocol protocol, const sockaddr_storage& addr) {
    std::string key;
    key += static_cast<char>(protocol);
    key += static_cast<char>(addr.ss_family);
    if (addr.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
        key.append(reinterpret_cast<const char*>(&v4.sin_addr), sizeof(v4.sin_addr));
    } else {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
        key.append(reinterpret_cast<const char*>(&v6.sin6_addr), sizeof(v6.sin6_addr));
    }
    return key;
}

void setPort(sockaddr_storage& addr, uint16_t port) {
    if (addr.ss_family == AF_INET) {
        reinterpret_cast<sockaddr_in&>(addr).sin_port = htons(port);
    } else {
        reinterpret_cast<sockaddr_in6&>(addr).sin6_port = htons(port);
    }
}

sockaddr_storage parseIp(std::string_view ip) {
    sockaddr_storage addr;
    if (!deps::parseAddress(ip, 0, addr)) {
        throw TypeError("invalid IP '" + std::string(ip) + "'");
    }
    return addr;
}

std::string describe(Protocol protocol, std::string_view ip) {
    return "IP '" + std::string(ip) + "' (" + std::string(protocolName(protocol)) + ")";
}

} // namespace

struct PortManager::Table {
    struct Entry {
        std::bitset<kPortCount> ports;
        size_t count = 0;
    };

    bool inUse(const std::string& key, uint16_t port) const {
        const auto it = entries.find(key);
        return it != entries.end() && it->second.ports.test(port);
    }

    void take(const std::string& key, uint16_t port) {
        Entry& entry = entries[key];
        entry.ports.set(port);
        ++entry.count;
    }

    void release(const std::string& key, uint16_t port) {
        const auto it = entries.find(key);
        if (it == entries.end() || !it->second.ports.test(port)) {
            return;
        }
        it->second.ports.reset(port);
        if (--it->second.count == 0) {
            entries.erase(it);
        }
    }

    std::unordered_map<std::string, Entry> entries;
};

PortManager::PortManager(uint16_t minPort, uint16_t maxPort)
    // Port 0 means "any port" to the kernel and is never handed out; a
    // range starting at 0 starts at 1.
    : table_(std::make_shared<Table>()), minPort_(minPort == 0 ? 1 : minPort), maxPort_(maxPort) {
    if (minPort > maxPort) {
        throw TypeError("invalid RTC port range " + std::to_string(minPort) + "-" +
                        std::to_string(maxPort));
    }
}

PortManager::~PortManager() = default;

uint16_t PortManager::allocate(Protocol protocol, std::string_view ip, const sockaddr_storage& addr,
                               uint16_t fixedPort, const std::function<int(uint16_t)>& attempt) {
    const std::string key = tableKey(protocol, addr);
    if (fixedPort != 0) {
        int error = table_->inUse(key, fixedPort) ? UV_EADDRINUSE : attempt(fixedPort);
        if (error == UV_EADDRINUSE) {
            throw Error("port " + std::to_string(fixedPort) + " already in use for " +
                        describe(protocol, ip));
        }
        if (error != 0) {
            throw Error("cannot bind port " + std::to_string(fixedPort) + " for " +
                        describe(protocol, ip) + ": " + uv_strerror(error));
        }
        table_->take(key, fixedPort);
        return fixedPort;
    }

    if (maxPort_ < minPort_) {
        throw Error("no available ports for " + describe(protocol, ip) + ": empty range");
    }
    const size_t count = size_t{maxPort_} - minPort_ + 1;
    // A random start spreads transports over the range and makes ports
    // harder to guess; walking on from there finds any port left.
    const size_t start = randomBetween(0, static_cast<uint32_t>(count - 1));
    for (size_t i = 0; i < count; ++i) {
        const auto port = static_cast<uint16_t>(minPort_ + (start + i) % count);
        if (table_->inUse(key, port)) {
            continue;
        }
        const int error = attempt(port);
        if (error == 0) {
            table_->take(key, port);
            return port;
        }
        // Held by another process, or privileged: try the next one. Anything
        // else (e.g. an IP not on this host) fails for every port alike.
        if (error != UV_EADDRINUSE && error != UV_EACCES) {
            throw Error("cannot bind " + describe(protocol, ip) + ": " + uv_strerror(error));
        }
    }
    throw Error("no more available ports for " + describe(protocol, ip) + " in range " +
                std::to_string(minPort_) + "-" + std::to_string(maxPort_));
}

std::unique_ptr<deps::UdpSocket> PortManager::bindUdp(uv_loop_t* loop, std::string_view ip,
                                                      deps::UdpSocket::Listener* listener,
                                                      uint16_t port) {
    sockaddr_storage addr = parseIp(ip);
    uv_udp_t* handle = nullptr;
    const uint16_t bound = allocate(Protocol::Udp, ip, addr, port, [&](uint16_t candidate) {
        setPort(addr, candidate);
        int error = 0;
        handle = deps::UdpSocket::bindHandle(loop, reinterpret_cast<const sockaddr*>(&addr), error);
        return error;
    });
    const std::string key = tableKey(Protocol::Udp, addr);
    std::unique_ptr<deps::UdpSocket> socket;
    try {
        socket = std::make_unique<deps::UdpSocket>(handle, listener);
    } catch (...) {
        table_->release(key, bound);
        throw;
    }
    socket->setCloseCallback([table = table_, key, bound]() { table->release(key, bound); });
    return socket;
}

std::unique_ptr<deps::TcpListenSocket>
PortManager::bindTcp(uv_loop_t* loop, std::string_view ip,
                     deps::TcpListenSocket::Listener* listener, uint16_t port) {
    sockaddr_storage addr = parseIp(ip);
    uv_tcp_t* handle = nullptr;
    const uint16_t bound = allocate(Protocol::Tcp, ip, addr, port, [&](uint16_t candidate) {
        setPort(addr, candidate);
        int error = 0;
        handle = deps::TcpListenSocket::bindHandle(loop, reinterpret_cast<const sockaddr*>(&addr),
                                                   error);
        return error;
    });
    const std::string key = tableKey(Protocol::Tcp, addr);
    std::unique_ptr<deps::TcpListenSocket> socket;
    try {
        socket = std::make_unique<deps::TcpListenSocket>(handle, listener);
    } catch (...) {
        table_->release(key, bound);
        throw;
    }
    socket->setCloseCallback([table = table_, key, bound]() { table->release(key, bound); });
    return socket;
}

size_t PortManager::portsInUse(std::string_view ip, Protocol protocol) const {
    sockaddr_storage addr;
    if (!deps::parseAddress(ip, 0, addr)) {
        return 0;
    }
    const auto it = table_->entries.find(tableKey(protocol, addr));
    return it == table_->entries.end() ? 0 : it->second.count;
}

bool PortManager::inUse(std::string_view ip, Protocol protocol, uint16_t port) const {
    sockaddr_storage addr;
    return deps::parseAddress(ip, 0, addr) && table_->inUse(tableKey(protocol, addr), port);
}

} // namespace sfu::rtc
