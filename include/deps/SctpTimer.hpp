// The clock of the process's SCTP associations: while at least one
// SctpTimer exists, a libuv timer advances usrsctp's timers
// (sctp::advanceTimers) every 10 ms by the loop time elapsed. Each SCTP
// association's owner holds one; the last one destroyed stops the timer.
#pragma once

#include <cstdint>
#include <uv.h>

namespace sfu::deps {

class SctpTimer {
public:
    explicit SctpTimer(uv_loop_t* loop);
    ~SctpTimer();
    SctpTimer(const SctpTimer&) = delete;
    SctpTimer& operator=(const SctpTimer&) = delete;

    static constexpr uint64_t kPeriodMs = 10;
};

} // namespace sfu::deps
