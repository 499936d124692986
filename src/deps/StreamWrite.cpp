#include "deps/StreamWrite.hpp"

#include <cstring>
#include <new>

namespace sfu::deps {

namespace {

// A queued write owns a copy of its bytes until libuv is done with them.
struct QueuedWrite {
    uv_write_t req;
    uv_buf_t buf;
    // Bytes follow the struct.
};

} // namespace

bool writeOrQueue(uv_stream_t* stream, const uv_buf_t* bufs, unsigned count) {
    size_t total = 0;
    for (unsigned i = 0; i < count; ++i) {
        total += bufs[i].len;
    }
    // uv_try_write refuses while earlier writes are queued, which keeps order.
    const int written = uv_try_write(stream, bufs, count);
    if (written < 0 && written != UV_EAGAIN) {
        return false;
    }
    size_t done = written > 0 ? static_cast<size_t>(written) : 0;
    if (done == total) {
        return true;
    }
    const size_t rest = total - done;
    auto* queued = static_cast<QueuedWrite*>(::operator new(sizeof(QueuedWrite) + rest));
    auto* bytes = reinterpret_cast<char*>(queued + 1);
    size_t copied = 0;
    for (unsigned i = 0; i < count; ++i) {
        const size_t len = bufs[i].len;
        if (done >= len) {
            done -= len;
            continue;
        }
        std::memcpy(bytes + copied, bufs[i].base + done, len - done);
        copied += len - done;
        done = 0;
    }
    queued->buf = uv_buf_init(bytes, static_cast<unsigned>(rest));
    const int err = uv_write(&queued->req, stream, &queued->buf, 1, [](uv_write_t* req, int) {
        ::operator delete(reinterpret_cast<QueuedWrite*>(req));
    });
    if (err != 0) {
        ::operator delete(queued);
        return false;
    }
    return true;
}

} // namespace sfu::deps
