// One accepted TCP connection on the loop. Reads go to a listener; writes go
// out at once when the kernel takes them and are otherwise copied into a
// bounded queue (past it, writes are dropped and counted: media is better
// lost than late). The handle frees itself in libuv's close callback, so the
// connection may be closed or destroyed at any time, even from its own
// listener call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

namespace sfu::deps {

class TcpConnection {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onTcpData(TcpConnection* connection, const uint8_t* data, size_t length) = 0;
        // The peer closed or reset the connection (not called for close()).
        virtual void onTcpClosed(TcpConnection* connection) = 0;
    };

    // Takes a handle initialised with uv_tcp_init and accepted; starts reading.
    TcpConnection(uv_tcp_t* handle, Listener* listener);
    ~TcpConnection();
    TcpConnection(const TcpConnection&) = delete;
    TcpConnection& operator=(const TcpConnection&) = delete;

    // Writes the buffers as one unit. False when dropped (closed, or the
    // queue is over its bound).
    bool write(const uv_buf_t* bufs, unsigned count);
    void close();
    bool closed() const { return closed_; }
    // Hands the connection's reads to another listener (from inside a read
    // too: the rest of that read goes nowhere else).
    void setListener(Listener* listener) { listener_ = listener; }

    const sockaddr* remoteAddress() const { return reinterpret_cast<const sockaddr*>(&remote_); }
    uint64_t bytesReceived() const { return bytesReceived_; }
    uint64_t bytesSent() const { return bytesSent_; }
    uint64_t writesDropped() const { return writesDropped_; }

    static constexpr size_t kMaxQueuedBytes = 1024 * 1024;

private:
    static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
    static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

    uv_tcp_t* handle_;
    Listener* listener_;
    sockaddr_storage remote_{};
    bool closed_ = false;
    uint64_t bytesReceived_ = 0;
    uint64_t bytesSent_ = 0;
    uint64_t writesDropped_ = 0;
};

} // namespace sfu::deps
