#include "deps/UdpSocket.hpp"

#include "Logger.hpp"
#include "deps/UvHandles.hpp"
#include "utils/Errors.hpp"

#include <cstring>
#include <new>

namespace sfu::deps {

namespace {

// Shared by every socket: libuv reads one datagram at a time on the single
// loop thread and the listener is done with it before the next read.
// Aligned so that SRTP can work on the packet in place.
alignas(16) uint8_t receiveBuffer[UdpSocket::kReceiveBufferSize];

// Largest datagram the kernel can take.
constexpr size_t kMaxDatagram = 65535;

// A queued send owns a copy of the datagram until libuv is done with it.
struct SendRequest {
    uv_udp_send_t req;
    SendRequest* nextFree;
    size_t capacity;
    size_t length;
    // `capacity` bytes follow.
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
};

// Requests sized for media packets are recycled, so that a socket whose
// kernel buffer is full does not allocate per packet either. Bounded so an
// occasional burst does not hold memory for ever.
constexpr size_t kPooledCapacity = 2048;
constexpr size_t kMaxPooled = 256;
SendRequest* freeRequests = nullptr;
size_t freeCount = 0;

SendRequest* acquireRequest(size_t length) {
    if (length <= kPooledCapacity && freeRequests != nullptr) {
        SendRequest* request = freeRequests;
        freeRequests = request->nextFree;
        --freeCount;
        return request;
    }
    const size_t capacity = length <= kPooledCapacity ? kPooledCapacity : length;
    void* memory = ::operator new(sizeof(SendRequest) + capacity);
    auto* request = new (memory) SendRequest;
    request->capacity = capacity;
    return request;
}

void releaseRequest(SendRequest* request) {
    if (request->capacity == kPooledCapacity && freeCount < kMaxPooled) {
        request->nextFree = freeRequests;
        freeRequests = request;
        ++freeCount;
        return;
    }
    request->~SendRequest();
    ::operator delete(request);
}

uv_udp_t* bindOrThrow(uv_loop_t* loop, std::string_view ip, uint16_t port) {
    sockaddr_storage addr;
    if (!parseAddress(ip, port, addr)) {
        throw TypeError("invalid IP '" + std::string(ip) + "'");
    }
    int error = 0;
    uv_udp_t* handle = UdpSocket::bindHandle(loop, reinterpret_cast<sockaddr*>(&addr), error);
    if (handle == nullptr) {
        throw Error("cannot bind UDP socket on IP '" + std::string(ip) + "' port " +
                    std::to_string(port) + ": " + uv_strerror(error));
    }
    return handle;
}

} // namespace

uv_udp_t* UdpSocket::bindHandle(uv_loop_t* loop, const sockaddr* addr, int& error) {
    auto* handle = new uv_udp_t;
    // Creating the socket with its family now lets bind() fail cleanly.
    error = uv_udp_init_ex(loop, handle, addr->sa_family);
    if (error != 0) {
        delete handle;
        return nullptr;
    }
    handle->data = nullptr;
    // No SO_REUSEADDR: a port must belong to one socket only. IPv6 sockets
    // stay off IPv4, so both families can use the same port.
    const unsigned flags = addr->sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0;
    error = uv_udp_bind(handle, addr, flags);
    if (error != 0) {
        closeAndDelete(handle);
        return nullptr;
    }
    return handle;
}

UdpSocket::UdpSocket(uv_udp_t* handle, Listener* listener) : handle_(handle), listener_(listener) {
    handle_->data = this;
    // Best effort: the kernel caps these at net.core.[rw]mem_max.
    int size = kSocketBufferSize;
    uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(handle_), &size);
    size = kSocketBufferSize;
    uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(handle_), &size);

    int length = sizeof(local_);
    int error = uv_udp_getsockname(handle_, reinterpret_cast<sockaddr*>(&local_), &length);
    const auto family = familyOf(localAddress());
    if (error == 0 && !family) {
        error = UV_EAFNOSUPPORT;
    }
    if (error == 0) {
        family_ = *family;
        formatAddress(localAddress(), localIp_, localPort_);
        error = uv_udp_recv_start(handle_, onAlloc, onReceive);
    }
    if (error != 0) {
        // The destructor will not run: give the handle back to libuv here.
        handle_->data = nullptr;
        closeAndDelete(handle_);
        throw Error(std::string("cannot use UDP socket: ") + uv_strerror(error));
    }
}

UdpSocket::UdpSocket(uv_loop_t* loop, std::string_view ip, uint16_t port, Listener* listener)
    : UdpSocket(bindOrThrow(loop, ip, port), listener) {}

UdpSocket::~UdpSocket() {
    close();
}

void UdpSocket::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    uv_udp_recv_stop(handle_);
    // Callbacks still to come (cancelled sends) see no owner.
    handle_->data = nullptr;
    // uv_close releases the fd right away; libuv frees the handle later.
    closeAndDelete(handle_);
    handle_ = nullptr;
    if (onClose_) {
        // Moved out first: the callback may destroy this socket's owner.
        auto callback = std::move(onClose_);
        onClose_ = nullptr;
        callback();
    }
}

size_t UdpSocket::queuedPackets() const {
    return closed_ ? 0 : uv_udp_get_send_queue_count(handle_);
}

size_t UdpSocket::queuedBytes() const {
    return closed_ ? 0 : uv_udp_get_send_queue_size(handle_);
}

void UdpSocket::onAlloc(uv_handle_t* /*handle*/, size_t /*suggested*/, uv_buf_t* buf) {
    *buf = uv_buf_init(reinterpret_cast<char*>(receiveBuffer), sizeof(receiveBuffer));
}

void UdpSocket::onReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                          const sockaddr* addr, unsigned flags) {
    auto* self = static_cast<UdpSocket*>(handle->data);
    if (self == nullptr) {
        return;
    }
    if (nread < 0) {
        ++self->stats_.receiveErrors;
        SFU_DEBUG(Info, "UDP read error on %s:%u: %s", self->localIp_.c_str(),
                  unsigned{self->localPort_}, uv_strerror(static_cast<int>(nread)));
        return;
    }
    // Zero bytes with no address: the socket has nothing more to read.
    // Empty datagrams carry nothing for us either.
    if (nread == 0 || addr == nullptr) {
        return;
    }
    if ((flags & UV_UDP_PARTIAL) != 0) {
        ++self->stats_.receiveErrors;
        return;
    }
    ++self->stats_.packetsReceived;
    self->stats_.bytesReceived += static_cast<uint64_t>(nread);
    if (self->listener_ != nullptr) {
        // Nothing touches `self` after this: the listener may destroy it.
        self->listener_->onUdpPacket(self, reinterpret_cast<const uint8_t*>(buf->base),
                                     static_cast<size_t>(nread), addr);
    }
}

bool UdpSocket::send(const uint8_t* data, size_t len, const sockaddr* to) {
    if (closed_) {
        return false;
    }
    if (len > kMaxDatagram) {
        ++stats_.sendErrors;
        return false;
    }
    // libuv does not write through the buffer; its type is just not const.
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)),
                               static_cast<unsigned>(len));
    // Refused with EAGAIN while sends are queued, which keeps the order.
    const int sent = uv_udp_try_send(handle_, &buf, 1, to);
    if (sent >= 0) {
        ++stats_.packetsSent;
        stats_.bytesSent += len;
        return true;
    }
    if (sent != UV_EAGAIN) {
        ++stats_.sendErrors;
        SFU_DEBUG(Info, "UDP send error on %s:%u: %s", localIp_.c_str(), unsigned{localPort_},
                  uv_strerror(sent));
        return false;
    }
    if (uv_udp_get_send_queue_count(handle_) >= maxQueuedPackets_ ||
        uv_udp_get_send_queue_size(handle_) + len > maxQueuedBytes_) {
        ++stats_.sendDrops;
        return false;
    }
    SendRequest* request = acquireRequest(len);
    std::memcpy(request->bytes(), data, len);
    request->length = len;
    buf = uv_buf_init(request->bytes(), static_cast<unsigned>(len));
    // libuv copies the buffer array and the address; the bytes stay ours.
    const int error = uv_udp_send(&request->req, handle_, &buf, 1, to, onSent);
    if (error != 0) {
        releaseRequest(request);
        ++stats_.sendErrors;
        return false;
    }
    return true;
}

void UdpSocket::onSent(uv_udp_send_t* req, int status) {
    // `req` is the first member of its SendRequest.
    auto* request = reinterpret_cast<SendRequest*>(req);
    if (auto* self = static_cast<UdpSocket*>(req->handle->data)) {
        if (status == 0) {
            ++self->stats_.packetsSent;
            self->stats_.bytesSent += request->length;
        } else if (status != UV_ECANCELED) {
            ++self->stats_.sendErrors;
        }
    }
    releaseRequest(request);
}

} // namespace sfu::deps
