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
#include "deps/UdpSocket.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <uv.h>

namespace sfu::rtc {

enum class Protocol : uint8_t { Udp, Tcp };

// "udp" / "tcp", as transport tuples and ICE candidates name them.
std::string_view protocolName(Protocol protocol);

// A listening TCP socket. Its handle is freed in libuv's close callback, so
// it may be closed or destroyed at any time, even from its own callback.
class TcpListenSocket {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // A connection is waiting: accept() it. Until it is accepted libuv
        // takes no further connections. `status` < 0 is a libuv error.
        virtual void onTcpConnection(TcpListenSocket* server, int status) = 0;
    };

    // Adopts a handle from bindHandle(). The socket owns it from here, also
    // when this throws (sfu::Error).
    TcpListenSocket(uv_tcp_t* handle, Listener* listener);
    ~TcpListenSocket();
    TcpListenSocket(const TcpListenSocket&) = delete;
    TcpListenSocket& operator=(const TcpListenSocket&) = delete;

    // Creates a handle bound to `addr` and listening, without throwing:
    // returns nullptr and sets `error` (a libuv code) on failure.
    static uv_tcp_t* bindHandle(uv_loop_t* loop, const sockaddr* addr, int& error);

    // Accepts the waiting connection into `client` (initialised on the same
    // loop). Returns 0 or a libuv error.
    int accept(uv_tcp_t* client);

    // Stops listening and frees the port at once. Safe to call more than once.
    void close();
    bool closed() const { return closed_; }

    void setListener(Listener* listener) { listener_ = listener; }
    void setCloseCallback(std::function<void()> callback) { onClose_ = std::move(callback); }

    uv_loop_t* loop() const { return loop_; }
    const sockaddr* localAddress() const { return reinterpret_cast<const sockaddr*>(&local_); }
    const std::string& localIp() const { return localIp_; }
    uint16_t localPort() const { return localPort_; }
    deps::IpFamily family() const { return family_; }

    static constexpr int kBacklog = 256;

private:
    static void onConnection(uv_stream_t* server, int status);

    uv_tcp_t* handle_;
    uv_loop_t* loop_;
    Listener* listener_;
    std::function<void()> onClose_;
    sockaddr_storage local_{};
    std::string localIp_;
    uint16_t localPort_ = 0;
    deps::IpFamily family_ = deps::IpFamily::Ipv4;
    bool closed_ = false;
};

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
    std::unique_ptr<TcpListenSocket> bindTcp(uv_loop_t* loop, std::string_view ip,
                                             TcpListenSocket::Listener* listener,
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
    std::mt19937 random_;
};

} // namespace sfu::rtc
