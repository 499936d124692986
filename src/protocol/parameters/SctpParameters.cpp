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

// A limit field: -1 when absent or null.
int32_t readLimit(const json& data, std::string_view key, const std::string& name) {
    const json* v = optionalField(data, key);
    if (v == nullptr) {
        return -1;
    }
    return static_cast<int32_t>(readUnsigned(*v, 0, kMaxU16, name));
}

std::optional<uint16_t> limitOf(int32_t value) {
    if (value < 0) {
        return std::nullopt;
    }
    return static_cast<uint16_t>(value);
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

    // Plain values until the end: every branch below reads initialised
    // memory.
    bool orderedGiven = false;
    bool ordered = false;
    if (const json* v = optionalField(data, "ordered")) {
        orderedGiven = true;
        ordered = readBool(*v, "sctpStreamParameters.ordered");
    }
    int32_t lifeTime =
        readLimit(data, "maxPacketLifeTime", "sctpStreamParameters.maxPacketLifeTime");
    int32_t retransmits = readLimit(data, "maxRetransmits", "sctpStreamParameters.maxRetransmits");
    // A zero limit is real on an unordered stream (maxRetransmits: 0 sends
    // once); beside ordered: true it is unset, as a falsy value is on the
    // host.
    if (orderedGiven && ordered) {
        lifeTime = lifeTime == 0 ? -1 : lifeTime;
        retransmits = retransmits == 0 ? -1 : retransmits;
    }

    // A message is either retransmitted for a time or a number of times.
    if (lifeTime >= 0 && retransmits >= 0) {
        throw TypeError("invalid sctpStreamParameters.maxRetransmits (cannot be given with "
                        "maxPacketLifeTime)");
    }
    const bool partial = lifeTime >= 0 || retransmits >= 0;
    // Same rule as the host: an explicit ordered: true excludes the limits.
    if (orderedGiven && ordered && partial) {
        throw TypeError("invalid sctpStreamParameters.ordered (cannot be ordered with "
                        "maxPacketLifeTime or maxRetransmits)");
    }
    params.maxPacketLifeTime = limitOf(lifeTime);
    params.maxRetransmits = limitOf(retransmits);
    params.ordered = orderedGiven ? ordered : !partial;
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
