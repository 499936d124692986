#include "protocol/ice/Tuple.hpp"

#include <cstring>

namespace sfu::ice {

Tuple::Tuple() {
    std::memset(&remote_, 0, sizeof(remote_));
}

Tuple::Tuple(Protocol protocol, const void* local, const sockaddr* remote)
    : protocol_(protocol), local_(local) {
    std::memset(&remote_, 0, sizeof(remote_));
    if (remote == nullptr) {
        return;
    }
    if (remote->sa_family == AF_INET) {
        std::memcpy(&remote_.v4, remote, sizeof(sockaddr_in));
    } else if (remote->sa_family == AF_INET6) {
        std::memcpy(&remote_.v6, remote, sizeof(sockaddr_in6));
    }
}

socklen_t Tuple::remoteLength() const {
    switch (remote_.sa.sa_family) {
    case AF_INET:
        return sizeof(sockaddr_in);
    case AF_INET6:
        return sizeof(sockaddr_in6);
    default:
        return 0;
    }
}

bool Tuple::operator==(const Tuple& other) const {
    if (protocol_ != other.protocol_ || local_ != other.local_ ||
        remote_.sa.sa_family != other.remote_.sa.sa_family) {
        return false;
    }
    switch (remote_.sa.sa_family) {
    case AF_INET:
        return remote_.v4.sin_port == other.remote_.v4.sin_port &&
               remote_.v4.sin_addr.s_addr == other.remote_.v4.sin_addr.s_addr;
    case AF_INET6:
        return remote_.v6.sin6_port == other.remote_.v6.sin6_port &&
               std::memcmp(&remote_.v6.sin6_addr, &other.remote_.v6.sin6_addr, sizeof(in6_addr)) ==
                   0;
    default:
        return true;
    }
}

} // namespace sfu::ice
