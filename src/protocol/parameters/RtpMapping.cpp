#include "protocol/parameters/RtpMapping.hpp"

#include "JsonFields.hpp"
#include "utils/Errors.hpp"

#include <limits>
#include <set>

namespace sfu::params {

using nlohmann::json;
using namespace detail;

namespace {

constexpr uint64_t kMaxPayloadType = 127;
constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

RtpMappingCodec parseMappingCodec(const json& data) {
    requireObject(data, "rtpMapping.codecs entry");
    RtpMappingCodec codec;
    codec.payloadType = static_cast<uint8_t>(
        readUnsigned(requiredField(data, "payloadType", "rtpMapping.codecs.payloadType"), 0,
                     kMaxPayloadType, "rtpMapping.codecs.payloadType"));
    codec.mappedPayloadType = static_cast<uint8_t>(readUnsigned(
        requiredField(data, "mappedPayloadType", "rtpMapping.codecs.mappedPayloadType"), 0,
        kMaxPayloadType, "rtpMapping.codecs.mappedPayloadType"));
    return codec;
}

RtpMappingEncoding parseMappingEncoding(const json& data) {
    requireObject(data, "rtpMapping.encodings entry");
    RtpMappingEncoding enc;
    if (const json* v = optionalField(data, "ssrc")) {
        enc.ssrc = static_cast<uint32_t>(readUnsigned(*v, 0, kMaxU32, "rtpMapping.encodings.ssrc"));
    }
    if (const json* v = optionalField(data, "rid")) {
        enc.rid = readString(*v, "rtpMapping.encodings.rid");
    }
    if (const json* v = optionalField(data, "scalabilityMode")) {
        enc.scalabilityMode = readString(*v, "rtpMapping.encodings.scalabilityMode");
    }
    enc.mappedSsrc = static_cast<uint32_t>(
        readUnsigned(requiredField(data, "mappedSsrc", "rtpMapping.encodings.mappedSsrc"), 0,
                     kMaxU32, "rtpMapping.encodings.mappedSsrc"));
    return enc;
}

} // namespace

std::optional<uint8_t> RtpMapping::mappedPayloadType(uint8_t payloadType) const {
    for (const auto& codec : codecs) {
        if (codec.payloadType == payloadType) {
            return codec.mappedPayloadType;
        }
    }
    return std::nullopt;
}

RtpMapping parseRtpMapping(const json& data) {
    if (data.is_null()) {
        throwMissing("rtpMapping");
    }
    requireObject(data, "rtpMapping");
    RtpMapping mapping;

    const json& codecs = requiredField(data, "codecs", "rtpMapping.codecs");
    if (!codecs.is_array()) {
        throwInvalid("rtpMapping.codecs");
    }
    std::set<uint8_t> payloadTypes;
    mapping.codecs.reserve(codecs.size());
    for (const auto& entry : codecs) {
        mapping.codecs.push_back(parseMappingCodec(entry));
        // One payload type cannot map to two router payload types.
        if (!payloadTypes.insert(mapping.codecs.back().payloadType).second) {
            throw TypeError("duplicated rtpMapping.codecs.payloadType " +
                            std::to_string(mapping.codecs.back().payloadType));
        }
    }

    const json& encodings = requiredField(data, "encodings", "rtpMapping.encodings");
    if (!encodings.is_array()) {
        throwInvalid("rtpMapping.encodings");
    }
    mapping.encodings.reserve(encodings.size());
    for (const auto& entry : encodings) {
        mapping.encodings.push_back(parseMappingEncoding(entry));
    }
    return mapping;
}

void checkRtpMapping(const RtpMapping& mapping, const RtpParameters& params) {
    if (mapping.encodings.size() != params.encodings.size()) {
        throw TypeError("invalid rtpMapping.encodings (size does not match "
                        "rtpParameters.encodings)");
    }
    // Several streams are told apart by SSRC or RID; a single one may also be
    // found by MID alone.
    for (const auto& enc : mapping.encodings) {
        if (enc.ssrc || enc.rid) {
            continue;
        }
        if (mapping.encodings.size() > 1) {
            throwMissing("rtpMapping.encodings.ssrc or rid");
        }
        if (!params.mid) {
            throwMissing("rtpMapping.encodings.ssrc or rid, or rtpParameters.mid");
        }
    }
    for (const auto& codec : params.codecs) {
        if (!mapping.mappedPayloadType(codec.payloadType)) {
            throwMissing("rtpMapping.codecs entry for payloadType " +
                         std::to_string(codec.payloadType));
        }
    }
    for (const auto& entry : mapping.codecs) {
        if (params.findCodec(entry.payloadType) == nullptr) {
            throwInvalid("rtpMapping.codecs.payloadType " + std::to_string(entry.payloadType) +
                         " (no such codec)");
        }
    }
}

json toJson(const RtpMapping& mapping) {
    json codecs = json::array();
    for (const auto& codec : mapping.codecs) {
        codecs.push_back(json{{"payloadType", codec.payloadType},
                              {"mappedPayloadType", codec.mappedPayloadType}});
    }
    json encodings = json::array();
    for (const auto& enc : mapping.encodings) {
        json e = json::object();
        if (enc.ssrc) {
            e["ssrc"] = *enc.ssrc;
        }
        if (enc.rid) {
            e["rid"] = *enc.rid;
        }
        if (enc.scalabilityMode) {
            e["scalabilityMode"] = *enc.scalabilityMode;
        }
        e["mappedSsrc"] = enc.mappedSsrc;
        encodings.push_back(std::move(e));
    }
    return json{{"codecs", std::move(codecs)}, {"encodings", std::move(encodings)}};
}

} // namespace sfu::params
