#include "protocol/rtp/Time.hpp"

#include <chrono>

namespace sfu::rtp {

NtpTime ntpNow() {
    const auto sinceEpoch = std::chrono::system_clock::now().time_since_epoch();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(sinceEpoch).count();
    return ntpFromUnixMicros(static_cast<uint64_t>(micros));
}

} // namespace sfu::rtp
