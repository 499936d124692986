#include "deps/UvHandles.hpp"

#include <stdexcept>
#include <string>

namespace sfu::deps {

UvTimer::UvTimer(uv_loop_t* loop, Callback callback)
    : handle_(new uv_timer_t), callback_(std::move(callback)) {
    uv_timer_init(loop, handle_);
    handle_->data = this;
}

UvTimer::~UvTimer() {
    handle_->data = nullptr;
    closeAndDelete(handle_);
}

void UvTimer::start(uint64_t timeoutMs, uint64_t repeatMs) {
    uv_timer_start(
        handle_,
        [](uv_timer_t* timer) {
            if (auto* self = static_cast<UvTimer*>(timer->data)) {
                self->callback_();
            }
        },
        timeoutMs, repeatMs);
}

void UvTimer::stop() {
    uv_timer_stop(handle_);
}

bool UvTimer::active() const {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0;
}

void UvTimer::unref() {
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
}

UvSignal::UvSignal(uv_loop_t* loop, int signum, Callback callback)
    : handle_(new uv_signal_t), callback_(std::move(callback)) {
    uv_signal_init(loop, handle_);
    handle_->data = this;
    const int err = uv_signal_start(
        handle_,
        [](uv_signal_t* signal, int num) {
            if (auto* self = static_cast<UvSignal*>(signal->data)) {
                self->callback_(num);
            }
        },
        signum);
    if (err != 0) {
        closeAndDelete(handle_);
        throw std::runtime_error(std::string("cannot watch signal: ") + uv_strerror(err));
    }
}

UvSignal::~UvSignal() {
    handle_->data = nullptr;
    closeAndDelete(handle_);
}

} // namespace sfu::deps
