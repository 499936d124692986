// Small RAII owners of libuv timers and signal handles. The handle memory is
// freed in libuv's close callback, so an owner may be destroyed at any time,
// even from inside its own callback.
#pragma once

#include <cstdint>
#include <functional>
#include <uv.h>

namespace sfu::deps {

// Closes a heap-allocated handle of type T and deletes it afterwards.
template <typename T>
void closeAndDelete(T* handle) {
    auto* h = reinterpret_cast<uv_handle_t*>(handle);
    if (uv_is_closing(h) == 0) {
        uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
    }
}

class UvTimer {
public:
    using Callback = std::function<void()>;

    UvTimer(uv_loop_t* loop, Callback callback);
    ~UvTimer();
    UvTimer(const UvTimer&) = delete;
    UvTimer& operator=(const UvTimer&) = delete;

    // Fires after `timeoutMs`, then every `repeatMs` when non-zero.
    void start(uint64_t timeoutMs, uint64_t repeatMs = 0);
    void stop();
    bool active() const;
    // An unreferenced timer does not keep the loop alive.
    void unref();

private:
    uv_timer_t* handle_;
    Callback callback_;
};

class UvSignal {
public:
    using Callback = std::function<void(int signum)>;

    UvSignal(uv_loop_t* loop, int signum, Callback callback);
    ~UvSignal();
    UvSignal(const UvSignal&) = delete;
    UvSignal& operator=(const UvSignal&) = delete;

private:
    uv_signal_t* handle_;
    Callback callback_;
};

} // namespace sfu::deps
