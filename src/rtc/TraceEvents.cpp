#include "rtc/TraceEvents.hpp"

#include "utils/Errors.hpp"

#include <array>

namespace sfu::rtc {

namespace {

constexpr std::array<const char*, 7> kNames{"rtp", "keyframe",  "nack", "pli",
                                            "fir", "probation", "bwe"};

} // namespace

const char* traceEventName(TraceEventType type) {
    return kNames[static_cast<size_t>(type)];
}

TraceEvents::TraceEvents(std::initializer_list<TraceEventType> supported) {
    for (TraceEventType type : supported) {
        supported_ |= bit(type);
    }
}

void TraceEvents::set(const nlohmann::json& data) {
    const auto types = data.find("types");
    if (types == data.end() || !types->is_array()) {
        throw TypeError("wrong types (not an array)");
    }
    uint32_t enabled = 0;
    for (const auto& type : *types) {
        if (!type.is_string()) {
            throw TypeError("wrong type (not a string)");
        }
        for (size_t i = 0; i < kNames.size(); ++i) {
            if (type.get_ref<const std::string&>() == kNames[i]) {
                enabled |= 1u << i;
            }
        }
    }
    enabled_ = enabled & supported_;
}

std::optional<TraceEventType> packetTraceType(const TraceEvents& events, bool keyFrame) {
    if (keyFrame && events.enabled(TraceEventType::KeyFrame)) {
        return TraceEventType::KeyFrame;
    }
    if (events.enabled(TraceEventType::Rtp)) {
        return TraceEventType::Rtp;
    }
    return std::nullopt;
}

nlohmann::json packetTraceInfo(const rtp::RtpPacket& packet, bool keyFrame) {
    return nlohmann::json{{"payloadType", packet.payloadType()},
                          {"sequenceNumber", packet.sequenceNumber()},
                          {"timestamp", packet.timestamp()},
                          {"marker", packet.marker()},
                          {"ssrc", packet.ssrc()},
                          {"isKeyFrame", keyFrame},
                          {"size", packet.size()},
                          {"payloadSize", packet.payloadLength()}};
}

std::string TraceEvents::toString() const {
    std::string out;
    for (size_t i = 0; i < kNames.size(); ++i) {
        if ((enabled_ & (1u << i)) != 0) {
            if (!out.empty()) {
                out += ',';
            }
            out += kNames[i];
        }
    }
    return out;
}

} // namespace sfu::rtc
