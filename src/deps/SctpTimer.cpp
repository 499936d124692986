#include "deps/SctpTimer.hpp"

#include "deps/UvHandles.hpp"
#include "protocol/sctp/SctpAssociation.hpp"

#include <memory>

namespace sfu::deps {

namespace {

// One timer for the process (the worker runs one loop).
struct Clock {
    explicit Clock(uv_loop_t* loop)
        : last(uv_now(loop)), timer(loop, [this, loop] {
              const uint64_t now = uv_now(loop);
              const uint64_t elapsed = now - last;
              last = now;
              sctp::advanceTimers(static_cast<uint32_t>(elapsed));
          }) {
        timer.start(SctpTimer::kPeriodMs, SctpTimer::kPeriodMs);
    }
    uint64_t last;
    UvTimer timer;
};

size_t holders = 0;
std::unique_ptr<Clock> clock;

} // namespace

SctpTimer::SctpTimer(uv_loop_t* loop) {
    if (holders++ == 0) {
        clock = std::make_unique<Clock>(loop);
    }
}

SctpTimer::~SctpTimer() {
    if (--holders == 0) {
        clock.reset();
    }
}

} // namespace sfu::deps
