// The transport's view of one candidate pair, as IceServer tracks it.
//
// A tuple is a small value: which of the transport's endpoints the packet
// arrived on (`local`: its UDP socket, or one TCP connection), the protocol,
// and the peer's address. IceServer copies tuples, compares them and hands
// them back in callbacks, but never dereferences `local`: the transport
// chooses what it points to and casts it back (the protocol says to what)
// when asked to send. Being a value, a UDP tuple needs no object that
// outlives the datagram it was built for.
#pragma once

#include "utils/Protocol.hpp"

#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>

namespace sfu::ice {

class Tuple {
public:
    Tuple();
    // Copies `remote` if it is AF_INET or AF_INET6; anything else leaves the
    // tuple without an address (valid() false), which IceServer ignores.
    Tuple(Protocol protocol, const void* local, const sockaddr* remote);

    Protocol protocol() const { return protocol_; }
    const void* local() const { return local_; }
    const sockaddr* remote() const { return &remote_.sa; }
    socklen_t remoteLength() const;
    bool valid() const {
        return remote_.sa.sa_family == AF_INET || remote_.sa.sa_family == AF_INET6;
    }

    // Same protocol, endpoint, family, IP and port. IPv6 flow info and scope
    // id are ignored: they do not identify a peer.
    bool operator==(const Tuple& other) const;

private:
    Protocol protocol_ = Protocol::Udp;
    const void* local_ = nullptr;
    // Just large enough for either family (sockaddr_storage would be 128
    // bytes, and tuples are copied and compared per packet).
    union {
        sockaddr sa;
        sockaddr_in v4;
        sockaddr_in6 v6;
    } remote_;
};

} // namespace sfu::ice
