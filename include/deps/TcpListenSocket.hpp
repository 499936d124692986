// A listening TCP socket (libuv), for ICE-TCP. Ports come from the
// PortManager, which binds the handle and hands it over.
#pragma once

#include "deps/SockAddr.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <uv.h>

namespace sfu::deps {

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

    // Accepts the waiting connection into a new handle on the same loop,
    // which the caller owns (deps::closeAndDelete); nullptr when it could
    // not be accepted.
    uv_tcp_t* accept();

    // Stops listening and frees the port at once. Safe to call more than once.
    void close();
    bool closed() const { return closed_; }

    void setListener(Listener* listener) { listener_ = listener; }
    void setCloseCallback(std::function<void()> callback) { onClose_ = std::move(callback); }

    const sockaddr* localAddress() const { return reinterpret_cast<const sockaddr*>(&local_); }
    const std::string& localIp() const { return localIp_; }
    uint16_t localPort() const { return localPort_; }
    IpFamily family() const { return family_; }

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
    IpFamily family_ = IpFamily::Ipv4;
    bool closed_ = false;
};

} // namespace sfu::deps
