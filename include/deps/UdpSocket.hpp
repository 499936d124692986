// A bound UDP socket on the loop. Datagrams are received in bursts (one
// recvmmsg for up to kReceiveSlots datagrams) into one buffer shared by every
// socket (the worker is single-threaded) and handed to a listener one by
// one. Sends are copied into a batch shared by the loop's sockets and go out
// with one sendmmsg per socket when the loop iteration's current phase ends
// (before the loop polls, after it handled I/O), or earlier when a socket's
// part of the batch or the batch itself is full: no datagram waits beyond
// the current iteration. What the kernel refuses for lack of room is copied
// into a bounded queue, so neither direction allocates per packet in the
// steady state nor ever blocks the loop.
//
// The libuv handle is freed in its close callback, so a socket may be closed
// or destroyed at any time, even from inside its own listener call.
#pragma once

#include "deps/SockAddr.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <uv.h>

namespace sfu::deps {

class UdpSendBatch;

class UdpSocket {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // `data` and `remote` are valid only during the call. The socket
        // may be closed or destroyed from here.
        virtual void onUdpPacket(UdpSocket* socket, const uint8_t* data, size_t len,
                                 const sockaddr* remote) = 0;
    };

    struct Stats {
        uint64_t packetsReceived = 0;
        uint64_t bytesReceived = 0;
        uint64_t packetsSent = 0;
        uint64_t bytesSent = 0;
        // The kernel refused a datagram (bad address, unreachable, too big).
        uint64_t sendErrors = 0;
        // Dropped because the send queue was full, or still in the batch when
        // the socket closed.
        uint64_t sendDrops = 0;
        // Failed or truncated reads.
        uint64_t receiveErrors = 0;
    };

    // Adopts `handle`: allocated with `new uv_udp_t`, initialised and bound.
    // Starts receiving at once. The socket owns the handle from here, also
    // when this throws (sfu::Error if libuv refuses the handle).
    UdpSocket(uv_udp_t* handle, Listener* listener);
    // Binds `ip`:`port` (port 0: any free port the kernel picks; IPv6
    // sockets are IPv6 only). Throws sfu::TypeError for an invalid IP and
    // sfu::Error when binding fails.
    UdpSocket(uv_loop_t* loop, std::string_view ip, uint16_t port, Listener* listener);
    ~UdpSocket();
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    // Creates a handle bound to `addr` without throwing: returns nullptr and
    // sets `error` (a libuv code such as UV_EADDRINUSE) on failure.
    static uv_udp_t* bindHandle(uv_loop_t* loop, const sockaddr* addr, int& error);

    // Copies one datagram to `to` into the loop's send batch (the caller may
    // reuse `data` at once). Returns false when it was refused (closed
    // socket, a size or address family no datagram of this socket can have);
    // that is counted. Errors the kernel reports when the batch goes out are
    // counted in sendErrors, datagrams without room in the queue in
    // sendDrops.
    bool send(const uint8_t* data, size_t len, const sockaddr* to);
    // Datagrams of this socket waiting in the batch.
    size_t batchedPackets() const { return batchedCount_; }
    // True when the socket reads bursts with recvmmsg.
    bool receivesInBursts() const;

    // Stops receiving, drops what is queued and frees the fd at once (the
    // port is free again when this returns). Safe to call more than once.
    void close();
    bool closed() const { return closed_; }

    void setListener(Listener* listener) { listener_ = listener; }
    // Runs once when the socket closes (close() or destruction); used to
    // give the port back to whoever allocated it.
    void setCloseCallback(std::function<void()> callback) { onClose_ = std::move(callback); }

    const sockaddr* localAddress() const { return reinterpret_cast<const sockaddr*>(&local_); }
    const std::string& localIp() const { return localIp_; }
    uint16_t localPort() const { return localPort_; }
    IpFamily family() const { return family_; }

    const Stats& stats() const { return stats_; }
    // The queue of datagrams the kernel had no room for.
    size_t queuedPackets() const;
    size_t queuedBytes() const;
    // Limits of the send queue; past either, sends are dropped.
    void setSendQueueLimits(size_t packets, size_t bytes) {
        maxQueuedPackets_ = packets;
        maxQueuedBytes_ = bytes;
    }

    static constexpr size_t kDefaultMaxQueuedPackets = 1000;
    static constexpr size_t kDefaultMaxQueuedBytes = 4 * 1024 * 1024;
    // Requested SO_SNDBUF / SO_RCVBUF, so that bursts of video do not
    // overflow the kernel's small defaults.
    static constexpr int kSocketBufferSize = 1024 * 1024;
    // Datagrams read by one recvmmsg. libuv gives each one a slot of 64 KiB,
    // larger than any UDP payload, so nothing is ever truncated; only the
    // pages datagrams touch become resident.
    static constexpr size_t kReceiveSlots = 16;
    static constexpr size_t kReceiveBufferSize = kReceiveSlots * 65536;
    // Bounds of the send batch: datagrams of one socket (one sendmmsg), and
    // datagrams and bytes of all the loop's sockets together. The bytes
    // hold the datagrams at full size (1,536 bytes each), so that a fan-out
    // burst (10 packets to 100 consumers) goes out in one call per socket,
    // not in a call per socket each time a smaller batch fills; only the
    // pages a burst touches become resident.
    static constexpr size_t kMaxBatchedPerSocket = 64;
    static constexpr size_t kMaxBatchedDatagrams = 1024;
    static constexpr size_t kMaxBatchedBytes = 1536 * 1024;

private:
    static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
    static void onReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                          const sockaddr* addr, unsigned flags);
    static void onSent(uv_udp_send_t* req, int status);

    friend class UdpSendBatch;
    // Sends this socket's datagrams in the batch (UdpSendBatch calls it).
    void flushBatched();
    // Sends `data` through libuv's queue, behind what is already queued.
    void enqueue(const uint8_t* data, size_t len, const sockaddr* to);

    uv_udp_t* handle_;
    Listener* listener_;
    std::function<void()> onClose_;
    sockaddr_storage local_{};
    std::string localIp_;
    uint16_t localPort_ = 0;
    IpFamily family_ = IpFamily::Ipv4;
    bool closed_ = false;
    size_t maxQueuedPackets_ = kDefaultMaxQueuedPackets;
    size_t maxQueuedBytes_ = kDefaultMaxQueuedBytes;
    Stats stats_;
    // The loop's send batch, and this socket's datagrams in it: a chain of
    // entries from the first to the last (indices into the batch).
    UdpSendBatch* batch_ = nullptr;
    size_t batchedCount_ = 0;
    uint32_t batchedFirst_ = 0;
    uint32_t batchedLast_ = 0;
};

} // namespace sfu::deps
