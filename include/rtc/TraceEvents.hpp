// The set of trace event types an entity emits, as set by the host's
// enableTraceEvent requests and shown in dumps ("rtp,pli").
#pragma once

#include "protocol/rtp/RtpPacket.hpp"

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

// Trace event types an entity can be asked to emit ("trace" notifications).
enum class TraceEventType : uint8_t { Rtp, KeyFrame, Nack, Pli, Fir, Probation, Bwe };

class TraceEvents {
public:
    // Which types this entity supports; others in a request are ignored.
    explicit TraceEvents(std::initializer_list<TraceEventType> supported);

    // data.types: array of strings. Throws sfu::TypeError when it is not one.
    void set(const nlohmann::json& data);
    bool enabled(TraceEventType type) const { return (enabled_ & bit(type)) != 0; }
    // "rtp,pli" in the order the types are declared.
    std::string toString() const;

private:
    static uint32_t bit(TraceEventType type) { return 1u << static_cast<uint32_t>(type); }
    uint32_t supported_ = 0;
    uint32_t enabled_ = 0;
};

const char* traceEventName(TraceEventType type);

// The event a media packet gives, if any: "keyframe" for the first packet of
// a key frame when those are enabled, otherwise "rtp" when enabled (as
// mediasoup: never both for one packet).
std::optional<TraceEventType> packetTraceType(const TraceEvents& events, bool keyFrame);

// The info of a "rtp" or "keyframe" event: the packet's header fields and
// sizes, as mediasoup's RtpPacket::FillJson() names them.
nlohmann::json packetTraceInfo(const rtp::RtpPacket& packet, bool keyFrame);

} // namespace sfu::rtc
