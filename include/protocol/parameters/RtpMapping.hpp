// The produce request's rtpMapping: how the producer's payload types and
// streams are renumbered into the router's (consumable) space.
#pragma once

#include "protocol/parameters/RtpParameters.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sfu::params {

struct RtpMappingCodec {
    uint8_t payloadType{0};
    uint8_t mappedPayloadType{0};

    bool operator==(const RtpMappingCodec&) const = default;
};

struct RtpMappingEncoding {
    std::optional<uint32_t> ssrc;
    std::optional<std::string> rid;
    std::optional<std::string> scalabilityMode;
    uint32_t mappedSsrc{0};

    bool operator==(const RtpMappingEncoding&) const = default;
};

struct RtpMapping {
    std::vector<RtpMappingCodec> codecs;
    std::vector<RtpMappingEncoding> encodings;

    std::optional<uint8_t> mappedPayloadType(uint8_t payloadType) const;

    bool operator==(const RtpMapping&) const = default;
};

// Field checks only (types, ranges, unique codec payload types).
RtpMapping parseRtpMapping(const nlohmann::json& data);

// Checks the mapping against the producer's parameters: one mapping entry
// per encoding, each with ssrc or rid when there are several (or when there
// is no mid to tell the single stream apart), and every codec mapped.
void checkRtpMapping(const RtpMapping& mapping, const RtpParameters& params);

nlohmann::json toJson(const RtpMapping& mapping);

} // namespace sfu::params
