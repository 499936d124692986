// Values shared by the sender-side bandwidth estimator's parts
// (draft-ietf-rmcat-gcc, fed by draft-holmer-rmcat-transport-wide-cc).
//
// Rates are in bit/s. Local times (send times, "now") are microseconds on the
// sender's clock; arrival times are microseconds on the receiver's clock,
// whose origin is unrelated: only differences between them mean anything.
#pragma once

#include <cstdint>
#include <limits>

namespace sfu::bwe {

inline constexpr int64_t kNoBitrate = std::numeric_limits<int64_t>::max();
inline constexpr int32_t kNoProbeCluster = -1;
// Arrival times closer than this are one: transport-wide feedback reports
// them in 250 us steps, and a receiver that read a burst late stamps it
// with one time.
inline constexpr int64_t kArrivalTickUs = 250;

// Bits per second of `bytes` over `us` microseconds (0 when `us` <= 0).
inline int64_t bitrateOf(int64_t bytes, int64_t us) {
    return us > 0 ? bytes * 8'000'000 / us : 0;
}

// What the delay-based detector concludes from the latest packet groups.
enum class BandwidthUsage : uint8_t {
    Normal,
    Underusing,
    Overusing,
};

const char* toString(BandwidthUsage usage);

// What kind of packet went out, for accounting.
enum class PacketKind : uint8_t {
    Media,
    Rtx,     // a retransmission (also used for RTX probes)
    Padding, // padding-only
};

// One sent packet matched with the feedback that reported it.
struct PacketResult {
    int64_t seq = 0; // unwrapped transport-wide sequence number
    int64_t sendUs = 0;
    int64_t arrivalUs = 0; // receiver's clock; meaningless when lost
    uint32_t size = 0;     // bytes on the wire as counted by the sender
    int32_t probeClusterId = kNoProbeCluster;
    PacketKind kind = PacketKind::Media;
    bool received = false;
};

} // namespace sfu::bwe
