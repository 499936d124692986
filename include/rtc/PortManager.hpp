// Allocates ports for the worker's sockets: UDP sockets for ICE and plain
// transports, listening TCP sockets for ICE-TCP. A port comes either from the
// worker's range [rtcMinPort, rtcMaxPort] (random start, then every port in
// turn) or is asked for explicitly. Ports are tracked per IP and protocol and
// handed back automatically when the socket closes.
//
// One instance, owned by the Worker and passed down. Sockets may outlive it:
// the bookkeeping they release into is shared with them.
#pragma once

#include "deps/SockAddr.hpp"
#include "deps/TcpListenSocket.hpp"
#include "deps/UdpSocket.hpp"
#include "utils/Protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <uv.h>

namespace sfu::rtc {

class PortManager {
public:
    // The worker's rtcMinPort / rtcMaxPort. Throws sfu::TypeError for an
    // empty range or port 0.
    PortManager(uint16_t minPort, uint16_t maxPort);
    ~PortManager();
    PortManager(const PortManager&) = delete;
    PortManager& operator=(const PortManager&) = delete;

    // Binds a UDP socket on `ip`: on `port` exactly when non-zero, else on a
    // free port of the range. Throws sfu::TypeError for an invalid IP and
    // sfu::Error when the port is taken, the range is exhausted or the IP
    // cannot be bound. The port is released when the socket closes.
    std::unique_ptr<deps::UdpSocket> bindUdp(uv_loop_t* loop, std::string_view ip,
                                             deps::UdpSocket::Listener* listener,
                                             uint16_t port = 0);

    // Same for a listening TCP socket.
    std::unique_ptr<deps::TcpListenSocket> bindTcp(uv_loop_t* loop, std::string_view ip,
                                                   deps::TcpListenSocket::Listener* listener,
                                                   uint16_t port = 0);

    // Ports we hold on `ip` for `protocol` (0 for an invalid IP).
    size_t portsInUse(std::string_view ip, Protocol protocol) const;
    bool inUse(std::string_view ip, Protocol protocol, uint16_t port) const;

    uint16_t minPort() const { return minPort_; }
    uint16_t maxPort() const { return maxPort_; }

    // The ports in use, shared with the sockets that hold them.
    struct Table;

private:
    // Finds a port for `addr` and calls `attempt(port)`, which binds and
    // returns 0 or a libuv error, until one works; marks that port in use
    // and returns it.
    uint16_t allocate(Protocol protocol, std::string_view ip, const sockaddr_storage& addr,
                      uint16_t fixedPort, const std::function<int(uint16_t)>& attempt);

    std::shared_ptr<Table> table_;
    uint16_t minPort_;
    uint16_t maxPort_;
};

} // namespace sfu::rtc
