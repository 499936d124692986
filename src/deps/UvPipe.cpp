#include "deps/UvPipe.hpp"

#include "deps/StreamWrite.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace sfu::deps {

namespace {

// Size of the read buffer: large enough that a burst of requests or a large
// message takes few reads.
constexpr size_t kReadBufferSize = 65536;

} // namespace

// The libuv handle outlives the UvPipe when closing is asynchronous, so it
// lives on its own and frees itself in the close callback.
struct UvPipe::Handle {
    uv_pipe_t pipe;
    // Bounds how long a closing pipe waits for the host to read what is
    // queued, so that a host that stopped reading cannot hold the worker.
    uv_timer_t drainTimer;
    int openHandles = 0;
    UvPipe* owner = nullptr;
    uv_shutdown_t shutdownReq;
    uint8_t readBuffer[kReadBufferSize];
};

namespace {

constexpr uint64_t kDrainTimeoutMs = 1000;

void releaseHandle(uv_handle_t* handle) {
    auto* h = static_cast<UvPipe::Handle*>(handle->data);
    if (--h->openHandles == 0) {
        delete h;
    }
}

void closeHandle(UvPipe::Handle* h) {
    for (auto* handle : {reinterpret_cast<uv_handle_t*>(&h->pipe),
                         reinterpret_cast<uv_handle_t*>(&h->drainTimer)}) {
        if (uv_is_closing(handle) == 0) {
            uv_close(handle, releaseHandle);
        }
    }
}

} // namespace

UvPipe::UvPipe(uv_loop_t* loop, int fd, Listener* listener)
    : handle_(new Handle), listener_(listener) {
    handle_->owner = this;
    handle_->pipe.data = handle_;
    handle_->drainTimer.data = handle_;
    int err = uv_pipe_init(loop, &handle_->pipe, 0);
    if (err == 0) {
        uv_timer_init(loop, &handle_->drainTimer);
        handle_->openHandles = 2;
        err = uv_pipe_open(&handle_->pipe, fd);
        if (err != 0) {
            closeHandle(handle_);
        }
    } else {
        delete handle_;
    }
    if (err != 0) {
        handle_ = nullptr;
        closed_ = true;
        throw std::runtime_error("cannot open fd " + std::to_string(fd) + ": " + uv_strerror(err));
    }
    if (listener_ != nullptr) {
        err = uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_->pipe), onAlloc, onRead);
        if (err != 0) {
            close();
            throw std::runtime_error("cannot read fd " + std::to_string(fd) + ": " +
                                     uv_strerror(err));
        }
    }
}

UvPipe::~UvPipe() {
    close();
}

void UvPipe::onAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
    auto* h = static_cast<Handle*>(handle->data);
    *buf = uv_buf_init(reinterpret_cast<char*>(h->readBuffer), sizeof(h->readBuffer));
}

void UvPipe::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* h = static_cast<Handle*>(stream->data);
    UvPipe* self = h->owner;
    if (self == nullptr || self->closed_) {
        return;
    }
    if (nread > 0) {
        self->listener_->onPipeData(reinterpret_cast<const uint8_t*>(buf->base),
                                    static_cast<size_t>(nread));
    } else if (nread < 0) {
        uv_read_stop(stream);
        self->listener_->onPipeEnd();
    }
}

void UvPipe::write(const uv_buf_t* bufs, unsigned count) {
    if (!closed_) {
        // A failure means the reader is gone; nothing more can be delivered.
        writeOrQueue(reinterpret_cast<uv_stream_t*>(&handle_->pipe), bufs, count);
    }
}

size_t UvPipe::queuedBytes() const {
    return handle_ == nullptr ? 0
                              : uv_stream_get_write_queue_size(
                                    reinterpret_cast<const uv_stream_t*>(&handle_->pipe));
}

void UvPipe::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    // From here the handle belongs to libuv's close path and frees itself.
    Handle* h = handle_;
    handle_ = nullptr;
    h->owner = nullptr;
    auto* stream = reinterpret_cast<uv_stream_t*>(&h->pipe);
    uv_read_stop(stream);
    if (uv_stream_get_write_queue_size(stream) > 0) {
        // Let what is queued reach the host first: the shutdown completes
        // (or fails) once the queue has drained; the timer bounds the wait.
        h->shutdownReq.data = h;
        const int err = uv_shutdown(&h->shutdownReq, stream, [](uv_shutdown_t* req, int) {
            closeHandle(static_cast<Handle*>(req->data));
        });
        if (err == 0) {
            uv_timer_start(
                &h->drainTimer,
                [](uv_timer_t* timer) { closeHandle(static_cast<Handle*>(timer->data)); },
                kDrainTimeoutMs, 0);
            uv_unref(reinterpret_cast<uv_handle_t*>(&h->drainTimer));
            return;
        }
    }
    closeHandle(h);
}

} // namespace sfu::deps
