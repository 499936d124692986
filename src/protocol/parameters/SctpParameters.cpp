#include "protocol/parameters/SctpParameters.hpp"

#include "JsonFields.hpp"
#include "utils/Errors.hpp"

namespace sfu::params {

using nlohmann::json;
using namespace detail;

namespace {

// Stream 65535 is reserved by RFC 8831; the host never hands it out.
constexpr uint64_t kMaxStreamId = 65534;
constexpr uint64_t kMaxU16 = 65535;

std::optional<uint16_t> readLimit(const json& data, std::string_view key, const std::string& name) {
    const json* v = optionalField(data, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    return static_cast<uint16_t>(readUnsigned(*v, 0, kMaxU16, name));
}

} // namespace

SctpStreamParameters parseSctpStreamParameters(const json& data) {
    if (data.is_null()) {
        throwMissing("sctpStreamParameters");
    }
    requireObject(data, "sctpStreamParameters");
    SctpStreamParameters params;
    params.streamId = static_cast<uint16_t>(
        readUnsigned(requiredField(data, "streamId", "sctpStreamParameters.streamId"), 0,
                     kMaxStreamId, "sctpStreamParameters.streamId"));

    std::optional<bool> ordered;
    if (const json* v = optionalField(data, "ordered")) {
        ordered = readBool(*v, "sctpStreamParameters.ordered");
    }
    params.maxPacketLifeTime =
        readLimit(data, "maxPacketLifeTime", "sctpStreamParameters.maxPacketLifeTime");
    params.maxRetransmits =
        readLimit(data, "maxRetransmits", "sctpStreamParameters.maxRetransmits");
    // A zero limit is real on an unordered stream (maxRetransmits: 0 sends
    // once); beside ordered: true it is unset, as a falsy value is on the
    // host.
    if (ordered.value_or(false)) {
        if (params.maxPacketLifeTime == 0) {
            params.maxPacketLifeTime.reset();
        }
        if (params.maxRetransmits == 0) {
            params.maxRetransmits.reset();
        }
    }

    // A message is either retransmitted for a time or a number of times.
    if (params.maxPacketLifeTime && params.maxRetransmits) {
        throw TypeError("invalid sctpStreamParameters.maxRetransmits (cannot be given with "
                        "maxPacketLifeTime)");
    }
    const bool partial = params.maxPacketLifeTime || params.maxRetransmits;
    // Same rule as the host: an explicit ordered: true excludes the limits.
    if (ordered.value_or(false) && partial) {
        throw TypeError("invalid sctpStreamParameters.ordered (cannot be ordered with "
                        "maxPacketLifeTime or maxRetransmits)");
    }
    params.ordered = ordered.value_or(!partial);
    return params;
}

json toJson(const SctpStreamParameters& params) {
    json out = json::object();
    out["streamId"] = params.streamId;
    out["ordered"] = params.ordered;
    if (params.maxPacketLifeTime) {
        out["maxPacketLifeTime"] = *params.maxPacketLifeTime;
    }
    if (params.maxRetransmits) {
        out["maxRetransmits"] = *params.maxRetransmits;
    }
    return out;
}

} // namespace sfu::params
