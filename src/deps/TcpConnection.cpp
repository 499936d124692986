#include "deps/TcpConnection.hpp"

#include "deps/StreamWrite.hpp"
#include "deps/UvHandles.hpp"

namespace sfu::deps {

namespace {

// Shared by every connection: the loop is single-threaded and a read is
// handled before the next one starts.
constexpr size_t kReadBufferSize = 65536;
alignas(16) uint8_t readBuffer[kReadBufferSize];

} // namespace

TcpConnection::TcpConnection(uv_tcp_t* handle, Listener* listener)
    : handle_(handle), listener_(listener) {
    handle_->data = this;
    int length = sizeof(remote_);
    uv_tcp_getpeername(handle_, reinterpret_cast<sockaddr*>(&remote_), &length);
    uv_tcp_nodelay(handle_, 1);
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(handle_), onAlloc, onRead) != 0) {
        close();
    }
}

TcpConnection::~TcpConnection() {
    close();
}

void TcpConnection::onAlloc(uv_handle_t* /*handle*/, size_t /*suggested*/, uv_buf_t* buf) {
    *buf = uv_buf_init(reinterpret_cast<char*>(readBuffer), kReadBufferSize);
}

void TcpConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<TcpConnection*>(stream->data);
    if (self == nullptr || self->closed_) {
        return;
    }
    if (nread > 0) {
        self->bytesReceived_ += static_cast<uint64_t>(nread);
        self->listener_->onTcpData(self, reinterpret_cast<const uint8_t*>(buf->base),
                                   static_cast<size_t>(nread));
    } else if (nread < 0) {
        self->close();
        self->listener_->onTcpClosed(self);
    }
}

bool TcpConnection::write(const uv_buf_t* bufs, unsigned count) {
    if (closed_) {
        return false;
    }
    auto* stream = reinterpret_cast<uv_stream_t*>(handle_);
    size_t total = 0;
    for (unsigned i = 0; i < count; ++i) {
        total += bufs[i].len;
    }
    // Over the bound only whole new frames are refused, so a queued frame is
    // always completed and the stream keeps its framing.
    if (uv_stream_get_write_queue_size(stream) + total > kMaxQueuedBytes ||
        !writeOrQueue(stream, bufs, count)) {
        ++writesDropped_;
        return false;
    }
    bytesSent_ += total;
    return true;
}

void TcpConnection::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    handle_->data = nullptr;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(handle_));
    closeAndDelete(handle_);
}

} // namespace sfu::deps
