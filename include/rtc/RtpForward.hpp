// What a producer learnt about a packet, handed with it to every consumer so
// that the packet is parsed once however many consumers there are.
#pragma once

#include "rtc/codecs/Codecs.hpp"

#include <cstddef>
#include <cstdint>

namespace sfu::rtc {

struct RtpForwardInfo {
    // Index of the producer encoding (simulcast stream) it belongs to.
    size_t encodingIndex = 0;
    codecs::Codec codec = codecs::Codec::Unknown;
    bool keyFrame = false;
    uint64_t nowMs = 0;
};

// Trace event types an entity can be asked to emit ("trace" notifications).
enum class TraceEventType : uint8_t { Rtp, KeyFrame, Nack, Pli, Fir, Probation, Bwe };

} // namespace sfu::rtc
