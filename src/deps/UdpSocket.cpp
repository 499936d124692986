#include "deps/UdpSocket.hpp"

#include "Logger.hpp"
#include "deps/UvHandles.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <sys/socket.h>
#include <vector>

namespace sfu::deps {

// The datagrams the sockets of one loop sent since the batch last went out,
// copied, with each socket's datagrams chained in the order they were sent.
// The batch goes out in the loop's prepare phase (which follows the timers
// and the pending callbacks, just before the loop polls) and in its check
// phase (right after the I/O callbacks of the poll), so a datagram sent from
// any callback leaves before the loop waits again. Within a receive burst,
// what every consumer of the burst's packets sends goes out with one
// sendmmsg per socket.
class UdpSendBatch {
public:
    struct Entry {
        uint32_t offset;
        uint32_t length;
        // The socket's next datagram in the batch.
        uint32_t next;
        socklen_t addressLength;
        union {
            sockaddr any;
            sockaddr_in v4;
            sockaddr_in6 v6;
        } address;
    };

    // The batch of `loop`, created with its first socket.
    static UdpSendBatch* attach(uv_loop_t* loop);
    // Forgets `socket` (closing): its datagrams are dropped and counted. The
    // batch closes with the loop's last socket.
    void detach(UdpSocket& socket);

    // Copies a datagram in. Sends the socket's datagrams when it has
    // kMaxBatchedPerSocket, and everything when the batch is full.
    void add(UdpSocket& socket, const uint8_t* data, size_t len, const sockaddr* to);
    // Sends every socket's datagrams and empties the batch.
    void flush();

    const Entry& entry(uint32_t index) const { return entries_[index]; }
    uint8_t* bytes(const Entry& entry) { return bytes_.get() + entry.offset; }
    // Room for one socket's sendmmsg.
    mmsghdr* messages() { return messages_; }
    iovec* vectors() { return vectors_; }

private:
    explicit UdpSendBatch(uv_loop_t* loop);
    ~UdpSendBatch();
    static void onPhaseEnd(uv_handle_t* handle);
    static std::vector<UdpSendBatch*>& batches();

    uv_loop_t* loop_;
    size_t sockets_ = 0;
    uv_prepare_t* prepare_;
    uv_check_t* check_;
    std::unique_ptr<uint8_t[]> bytes_;
    std::unique_ptr<Entry[]> entries_;
    size_t usedBytes_ = 0;
    uint32_t count_ = 0;
    // Sockets with datagrams in the batch, in the order of their first one
    // (a socket flushed early may appear again; it is then sent from once
    // it has datagrams).
    std::vector<UdpSocket*> pending_;
    mmsghdr messages_[UdpSocket::kMaxBatchedPerSocket];
    iovec vectors_[UdpSocket::kMaxBatchedPerSocket];
};

namespace {

// Shared by every socket: libuv reads a burst of datagrams on the single
// loop thread, one slot each, and the listener is done with them before the
// next read. Aligned so that SRTP can work on a packet in place.
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

std::vector<UdpSendBatch*>& UdpSendBatch::batches() {
    static std::vector<UdpSendBatch*> all;
    return all;
}

UdpSendBatch* UdpSendBatch::attach(uv_loop_t* loop) {
    auto& all = batches();
    auto it = std::find_if(all.begin(), all.end(),
                           [loop](const UdpSendBatch* batch) { return batch->loop_ == loop; });
    UdpSendBatch* batch = it != all.end() ? *it : all.emplace_back(new UdpSendBatch(loop));
    ++batch->sockets_;
    return batch;
}

UdpSendBatch::UdpSendBatch(uv_loop_t* loop)
    : loop_(loop), prepare_(new uv_prepare_t), check_(new uv_check_t),
      bytes_(new uint8_t[UdpSocket::kMaxBatchedBytes]),
      entries_(new Entry[UdpSocket::kMaxBatchedDatagrams]) {
    // Never more sockets listed than datagrams in the batch.
    pending_.reserve(UdpSocket::kMaxBatchedDatagrams);
    uv_prepare_init(loop, prepare_);
    uv_check_init(loop, check_);
    prepare_->data = this;
    check_->data = this;
    uv_prepare_start(
        prepare_, [](uv_prepare_t* handle) { onPhaseEnd(reinterpret_cast<uv_handle_t*>(handle)); });
    uv_check_start(check_,
                   [](uv_check_t* handle) { onPhaseEnd(reinterpret_cast<uv_handle_t*>(handle)); });
    // They run every iteration but never keep the loop alive.
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
    uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

UdpSendBatch::~UdpSendBatch() {
    closeAndDelete(prepare_);
    closeAndDelete(check_);
}

void UdpSendBatch::onPhaseEnd(uv_handle_t* handle) {
    auto* batch = static_cast<UdpSendBatch*>(handle->data);
    if (batch->count_ != 0) {
        batch->flush();
    }
}

void UdpSendBatch::detach(UdpSocket& socket) {
    socket.stats_.sendDrops += socket.batchedCount_;
    socket.batchedCount_ = 0;
    pending_.erase(std::remove(pending_.begin(), pending_.end(), &socket), pending_.end());
    if (--sockets_ == 0) {
        auto& all = batches();
        all.erase(std::remove(all.begin(), all.end(), this), all.end());
        delete this;
    }
}

void UdpSendBatch::add(UdpSocket& socket, const uint8_t* data, size_t len, const sockaddr* to) {
    if (count_ == UdpSocket::kMaxBatchedDatagrams ||
        usedBytes_ + len > UdpSocket::kMaxBatchedBytes) {
        flush();
    }
    const uint32_t index = count_++;
    Entry& entry = entries_[index];
    entry.offset = static_cast<uint32_t>(usedBytes_);
    entry.length = static_cast<uint32_t>(len);
    entry.addressLength = addressLength(to);
    std::memcpy(&entry.address, to, entry.addressLength);
    std::memcpy(bytes_.get() + usedBytes_, data, len);
    usedBytes_ += len;
    if (socket.batchedCount_ == 0) {
        socket.batchedFirst_ = index;
        pending_.push_back(&socket);
    } else {
        entries_[socket.batchedLast_].next = index;
    }
    socket.batchedLast_ = index;
    if (++socket.batchedCount_ == UdpSocket::kMaxBatchedPerSocket) {
        socket.flushBatched();
    }
}

void UdpSendBatch::flush() {
    // Sending never calls back into a socket, so the list holds still.
    for (UdpSocket* socket : pending_) {
        socket->flushBatched();
    }
    pending_.clear();
    count_ = 0;
    usedBytes_ = 0;
}

uv_udp_t* UdpSocket::bindHandle(uv_loop_t* loop, const sockaddr* addr, int& error) {
    auto* handle = new uv_udp_t;
    // Creating the socket with its family now lets bind() fail cleanly.
    // Reads go through recvmmsg where the kernel has it.
    error = uv_udp_init_ex(loop, handle, addr->sa_family | UV_UDP_RECVMMSG);
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
    batch_ = UdpSendBatch::attach(handle_->loop);
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
    batch_->detach(*this);
    batch_ = nullptr;
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

bool UdpSocket::receivesInBursts() const {
    return !closed_ && uv_udp_using_recvmmsg(handle_) == 1;
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
    // Zero bytes with no address: the socket has nothing more to read, or
    // (UV_UDP_MMSG_FREE) a burst is over; its buffer is the shared one, so
    // there is nothing to free. Empty datagrams carry nothing for us either.
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
    const auto family = familyOf(to);
    if (len > kMaxDatagram || !family || *family != family_) {
        ++stats_.sendErrors;
        return false;
    }
    batch_->add(*this, data, len, to);
    return true;
}

void UdpSocket::flushBatched() {
    const size_t count = batchedCount_;
    if (count == 0) {
        return;
    }
    batchedCount_ = 0;
    mmsghdr* messages = batch_->messages();
    iovec* vectors = batch_->vectors();
    uint32_t index = batchedFirst_;
    for (size_t i = 0; i < count; ++i) {
        const UdpSendBatch::Entry& entry = batch_->entry(index);
        vectors[i].iov_base = batch_->bytes(entry);
        vectors[i].iov_len = entry.length;
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_name = const_cast<sockaddr*>(&entry.address.any);
        messages[i].msg_hdr.msg_namelen = entry.addressLength;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        index = entry.next;
    }
    size_t next = 0;
    int fd = -1;
    // Datagrams queued earlier go first: then these queue behind them.
    if (uv_udp_get_send_queue_count(handle_) == 0 &&
        uv_fileno(reinterpret_cast<uv_handle_t*>(handle_), &fd) == 0) {
        while (next < count) {
            const int sent =
                ::sendmmsg(fd, messages + next, static_cast<unsigned>(count - next), 0);
            if (sent > 0) {
                for (size_t i = next; i < next + static_cast<size_t>(sent); ++i) {
                    ++stats_.packetsSent;
                    stats_.bytesSent += messages[i].msg_len;
                }
                next += static_cast<size_t>(sent);
                continue;
            }
            if (sent < 0 && errno == EINTR) {
                continue;
            }
            if (sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            // The kernel refused the first datagram left (bad address,
            // unreachable, too big): count it and go on with the rest.
            ++stats_.sendErrors;
            SFU_DEBUG(Info, "UDP send error on %s:%u: %s", localIp_.c_str(), unsigned{localPort_},
                      std::strerror(errno));
            ++next;
        }
    }
    // No room in the kernel's buffer: what is left waits in libuv's queue.
    for (; next < count; ++next) {
        enqueue(static_cast<const uint8_t*>(vectors[next].iov_base), vectors[next].iov_len,
                static_cast<const sockaddr*>(messages[next].msg_hdr.msg_name));
    }
}

void UdpSocket::enqueue(const uint8_t* data, size_t len, const sockaddr* to) {
    if (uv_udp_get_send_queue_count(handle_) >= maxQueuedPackets_ ||
        uv_udp_get_send_queue_size(handle_) + len > maxQueuedBytes_) {
        ++stats_.sendDrops;
        return;
    }
    SendRequest* request = acquireRequest(len);
    std::memcpy(request->bytes(), data, len);
    request->length = len;
    uv_buf_t buf = uv_buf_init(request->bytes(), static_cast<unsigned>(len));
    // libuv copies the buffer array and the address; the bytes stay ours.
    const int error = uv_udp_send(&request->req, handle_, &buf, 1, to, onSent);
    if (error != 0) {
        releaseRequest(request);
        ++stats_.sendErrors;
    }
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
