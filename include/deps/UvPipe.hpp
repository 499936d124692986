// One end of an inherited pipe or socket (the host's fds 3-6) as a libuv
// stream. Reads are delivered to a listener; writes go out at once when the
// fd takes them and are otherwise copied and queued in order, never dropped
// and never blocking the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <uv.h>

namespace sfu::deps {

class UvPipe {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // `data` is valid only during the call.
        virtual void onPipeData(const uint8_t* data, size_t length) = 0;
        // End of file or a read error: the other side is gone.
        virtual void onPipeEnd() = 0;
    };

    // Opens `fd` on `loop`. With a listener the pipe starts reading at once.
    // Throws std::runtime_error when libuv cannot open the fd.
    UvPipe(uv_loop_t* loop, int fd, Listener* listener);
    ~UvPipe();
    UvPipe(const UvPipe&) = delete;
    UvPipe& operator=(const UvPipe&) = delete;

    // Writes the buffers in order as one unit.
    void write(const uv_buf_t* bufs, unsigned count);
    // Stops reading and closes the handle once queued writes have drained
    // (or failed). Safe to call more than once.
    void close();
    bool closed() const { return closed_; }
    // Bytes waiting in the write queue.
    size_t queuedBytes() const;

    // The libuv side, defined in the .cpp; it may outlive the UvPipe while
    // closing.
    struct Handle;

private:
    static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
    static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

    Handle* handle_;
    Listener* listener_;
    bool closed_ = false;
};

} // namespace sfu::deps
