// The transport protocol of a socket, a tuple or an ICE candidate.
#pragma once

#include <cstdint>
#include <string_view>

namespace sfu {

enum class Protocol : uint8_t { Udp, Tcp };

// "udp" / "tcp", as transport tuples and ICE candidates name them.
constexpr std::string_view protocolName(Protocol protocol) {
    return protocol == Protocol::Udp ? "udp" : "tcp";
}

} // namespace sfu
