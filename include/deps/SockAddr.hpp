// IPv4/IPv6 socket addresses: strict parsing of textual IPs, formatting for
// the host's tuples and candidates, and cheap comparison and hashing for
// looking up the remote end of a packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace sfu::deps {

enum class IpFamily : uint8_t { Ipv4, Ipv6 };

// "ipv4" / "ipv6".
std::string_view ipFamilyName(IpFamily family);
// AF_INET / AF_INET6.
int addressFamily(IpFamily family);

// The family of a textual IP; nothing when `ip` is not an IP. Accepts only
// the plain forms: dotted quad without leading zeros, RFC 4291 text for
// IPv6; no port, brackets, zone or surrounding space.
std::optional<IpFamily> ipFamily(std::string_view ip);

// Fills `out` with `ip` and `port`. Returns false when `ip` is not an IP.
bool parseAddress(std::string_view ip, uint16_t port, sockaddr_storage& out);

// The canonical text of an IP ("0:0::1" -> "::1"); empty when invalid.
std::string normalizeIp(std::string_view ip);

// Longest text formatIp writes, terminator included.
inline constexpr size_t kMaxIpTextLength = INET6_ADDRSTRLEN;

// Writes the IP of an AF_INET/AF_INET6 address into `buffer` (NUL
// terminated). Returns false, writing nothing, for other families or a
// buffer that is too small.
bool formatIp(const sockaddr* addr, char* buffer, size_t size);

// The IP and port of an AF_INET/AF_INET6 address. Returns false for other
// families.
bool formatAddress(const sockaddr* addr, std::string& ip, uint16_t& port);

// Port in host order, 0 for other families.
uint16_t portOf(const sockaddr* addr);
std::optional<IpFamily> familyOf(const sockaddr* addr);
// sizeof(sockaddr_in) or sizeof(sockaddr_in6), 0 for other families.
socklen_t addressLength(const sockaddr* addr);

// Same family, IP and port. Ignores IPv6 flow info and scope id, which do
// not identify a peer.
bool sameAddress(const sockaddr* a, const sockaddr* b);

// Hash of family, IP and port, consistent with sameAddress.
size_t hashAddress(const sockaddr* addr);

} // namespace sfu::deps
