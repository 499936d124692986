// Clock conversions for RTP and RTCP: 64-bit NTP timestamps (RFC 3550 sender
// reports), the compact 32-bit NTP form (LSR, DLSR, RTT), RTP media ticks and
// the abs-send-time extension's 6.18 fixed point.
#pragma once

#include <cstdint>

namespace sfu::rtp {

// Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch.
inline constexpr uint64_t kNtpUnixEpochOffset = 2208988800ULL;

// A 64-bit NTP timestamp: 32 bits of seconds, 32 bits of fraction.
struct NtpTime {
    uint32_t seconds = 0;
    uint32_t fraction = 0;

    constexpr uint64_t toU64() const { return (uint64_t{seconds} << 32) | fraction; }
    static constexpr NtpTime fromU64(uint64_t ntp) {
        return {static_cast<uint32_t>(ntp >> 32), static_cast<uint32_t>(ntp)};
    }
    // The middle 32 bits (16.16), as RTCP's LSR field carries them.
    constexpr uint32_t compact() const { return (seconds << 16) | (fraction >> 16); }
    friend constexpr bool operator==(NtpTime, NtpTime) = default;
};

// Rounds to the nearest fraction unit and back, so ms -> NTP -> ms and
// us -> NTP -> us are exact.
constexpr NtpTime ntpFromUnixMs(uint64_t unixMs) {
    const uint64_t fractionMs = unixMs % 1000;
    return {static_cast<uint32_t>(unixMs / 1000 + kNtpUnixEpochOffset),
            static_cast<uint32_t>(((fractionMs << 32) + 500) / 1000)};
}

constexpr uint64_t unixMsFromNtp(NtpTime ntp) {
    const uint64_t seconds = uint64_t{ntp.seconds} - kNtpUnixEpochOffset;
    return seconds * 1000 + ((uint64_t{ntp.fraction} * 1000 + (uint64_t{1} << 31)) >> 32);
}

constexpr NtpTime ntpFromUnixMicros(uint64_t unixMicros) {
    const uint64_t fractionUs = unixMicros % 1000000;
    return {static_cast<uint32_t>(unixMicros / 1000000 + kNtpUnixEpochOffset),
            static_cast<uint32_t>(((fractionUs << 32) + 500000) / 1000000)};
}

constexpr uint64_t unixMicrosFromNtp(NtpTime ntp) {
    const uint64_t seconds = uint64_t{ntp.seconds} - kNtpUnixEpochOffset;
    return seconds * 1000000 + ((uint64_t{ntp.fraction} * 1000000 + (uint64_t{1} << 31)) >> 32);
}

// The wall clock now, as NTP.
NtpTime ntpNow();

// A duration in the compact 16.16 form (DLSR), saturating at its maximum.
constexpr uint32_t compactNtpFromMs(uint64_t ms) {
    const uint64_t compact = ((ms << 16) + 500) / 1000;
    return compact > 0xFFFFFFFFULL ? 0xFFFFFFFFU : static_cast<uint32_t>(compact);
}

// A compact 16.16 duration (e.g. an RTT computed as now - LSR - DLSR) in ms.
constexpr uint64_t msFromCompactNtp(uint32_t compact) {
    return (uint64_t{compact} * 1000 + (1u << 15)) >> 16;
}

// Media ticks for a duration at `clockRate` Hz, modulo 2^32 as RTP wants.
constexpr uint32_t rtpTicksFromMs(uint64_t ms, uint32_t clockRate) {
    return static_cast<uint32_t>(ms * clockRate / 1000);
}

constexpr uint64_t msFromRtpTicks(uint64_t ticks, uint32_t clockRate) {
    return clockRate == 0 ? 0 : ticks * 1000 / clockRate;
}

// The RTP timestamp at `atMs`, given that `referenceTimestamp` was the stream's
// timestamp at `referenceMs` (e.g. from a sender report). Works backwards too.
constexpr uint32_t rtpTimestampAt(uint64_t atMs, uint64_t referenceMs, uint32_t referenceTimestamp,
                                  uint32_t clockRate) {
    if (atMs >= referenceMs) {
        return referenceTimestamp + rtpTicksFromMs(atMs - referenceMs, clockRate);
    }
    return referenceTimestamp - rtpTicksFromMs(referenceMs - atMs, clockRate);
}

// abs-send-time is 6 bits of seconds and 18 bits of fraction, wrapping every
// 64 s; it only measures differences, so any time base works.
constexpr uint32_t absSendTimeFromMs(uint64_t ms) {
    return static_cast<uint32_t>(((ms << 18) + 500) / 1000) & 0x00FFFFFF;
}

constexpr uint32_t absSendTimeFromNtp(NtpTime ntp) {
    return static_cast<uint32_t>(ntp.toU64() >> 14) & 0x00FFFFFF;
}

// The abs-send-time value in microseconds within its 64 s cycle.
constexpr uint64_t microsFromAbsSendTime(uint32_t absSendTime) {
    return ((uint64_t{absSendTime & 0x00FFFFFF} * 1000000) + (1u << 17)) >> 18;
}

} // namespace sfu::rtp
