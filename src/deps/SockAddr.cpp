#include "deps/SockAddr.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace sfu::deps {

namespace {

// Long enough for any valid textual IP; longer input is rejected unseen.
constexpr size_t kMaxIpInput = 64;

// inet_pton needs a terminated string; copies `ip` into `buffer`.
bool terminated(std::string_view ip, char (&buffer)[kMaxIpInput]) {
    if (ip.empty() || ip.size() >= kMaxIpInput) {
        return false;
    }
    std::memcpy(buffer, ip.data(), ip.size());
    buffer[ip.size()] = '\0';
    // An embedded NUL would make inet_pton see a shorter string.
    return std::memchr(ip.data(), '\0', ip.size()) == nullptr;
}

} // namespace

std::string_view ipFamilyName(IpFamily family) {
    return family == IpFamily::Ipv4 ? "ipv4" : "ipv6";
}

int addressFamily(IpFamily family) {
    return family == IpFamily::Ipv4 ? AF_INET : AF_INET6;
}

bool parseAddress(std::string_view ip, uint16_t port, sockaddr_storage& out) {
    char text[kMaxIpInput];
    if (!terminated(ip, text)) {
        return false;
    }
    std::memset(&out, 0, sizeof(out));
    // glibc's inet_pton takes neither shorthand IPv4 ("127.1") nor zones.
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return true;
    }
    return false;
}

std::optional<IpFamily> ipFamily(std::string_view ip) {
    sockaddr_storage addr;
    if (!parseAddress(ip, 0, addr)) {
        return std::nullopt;
    }
    return familyOf(reinterpret_cast<const sockaddr*>(&addr));
}

std::string normalizeIp(std::string_view ip) {
    sockaddr_storage addr;
    char text[kMaxIpTextLength];
    if (!parseAddress(ip, 0, addr) ||
        !formatIp(reinterpret_cast<const sockaddr*>(&addr), text, sizeof(text))) {
        return {};
    }
    return text;
}

bool formatIp(const sockaddr* addr, char* buffer, size_t size) {
    const void* raw = nullptr;
    switch (addr->sa_family) {
    case AF_INET:
        raw = &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr;
        break;
    case AF_INET6:
        raw = &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
        break;
    default:
        return false;
    }
    char text[kMaxIpTextLength];
    if (inet_ntop(addr->sa_family, raw, text, sizeof(text)) == nullptr) {
        return false;
    }
    const size_t length = std::strlen(text);
    if (length >= size) {
        return false;
    }
    std::memcpy(buffer, text, length + 1);
    return true;
}

bool formatAddress(const sockaddr* addr, std::string& ip, uint16_t& port) {
    char text[kMaxIpTextLength];
    if (!formatIp(addr, text, sizeof(text))) {
        return false;
    }
    ip = text;
    port = portOf(addr);
    return true;
}

uint16_t portOf(const sockaddr* addr) {
    switch (addr->sa_family) {
    case AF_INET:
        return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
    case AF_INET6:
        return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
    default:
        return 0;
    }
}

std::optional<IpFamily> familyOf(const sockaddr* addr) {
    switch (addr->sa_family) {
    case AF_INET:
        return IpFamily::Ipv4;
    case AF_INET6:
        return IpFamily::Ipv6;
    default:
        return std::nullopt;
    }
}

socklen_t addressLength(const sockaddr* addr) {
    switch (addr->sa_family) {
    case AF_INET:
        return sizeof(sockaddr_in);
    case AF_INET6:
        return sizeof(sockaddr_in6);
    default:
        return 0;
    }
}

bool sameAddress(const sockaddr* a, const sockaddr* b) {
    if (a->sa_family != b->sa_family) {
        return false;
    }
    switch (a->sa_family) {
    case AF_INET: {
        const auto* x = reinterpret_cast<const sockaddr_in*>(a);
        const auto* y = reinterpret_cast<const sockaddr_in*>(b);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    case AF_INET6: {
        const auto* x = reinterpret_cast<const sockaddr_in6*>(a);
        const auto* y = reinterpret_cast<const sockaddr_in6*>(b);
        return x->sin6_port == y->sin6_port &&
               std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    default:
        return false;
    }
}

size_t hashAddress(const sockaddr* addr) {
    // FNV-1a over the bytes sameAddress compares: cheap, and spreads the
    // low-entropy addresses a server sees well enough for a hash map.
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](const void* data, size_t length) {
        const auto* bytes = static_cast<const uint8_t*>(data);
        for (size_t i = 0; i < length; ++i) {
            h = (h ^ bytes[i]) * 0x100000001b3ull;
        }
    };
    const uint8_t family = static_cast<uint8_t>(addr->sa_family);
    mix(&family, 1);
    switch (addr->sa_family) {
    case AF_INET: {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
        mix(&v4->sin_port, sizeof(v4->sin_port));
        mix(&v4->sin_addr, sizeof(v4->sin_addr));
        break;
    }
    case AF_INET6: {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(addr);
        mix(&v6->sin6_port, sizeof(v6->sin6_port));
        mix(&v6->sin6_addr, sizeof(v6->sin6_addr));
        break;
    }
    default:
        break;
    }
    return static_cast<size_t>(h);
}

} // namespace sfu::deps
