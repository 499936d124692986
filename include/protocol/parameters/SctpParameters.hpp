// SCTP stream parameters of transport.produceData / consumeData.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace sfu::params {

struct SctpStreamParameters {
    uint16_t streamId{0};
    // Defaults to true, or to false when a partial-reliability limit is set.
    bool ordered{true};
    // Zero is a real limit (maxRetransmits: 0 sends once) unless ordered is
    // explicitly true, where it counts as unset, as a falsy value does on
    // the host.
    std::optional<uint16_t> maxPacketLifeTime;
    std::optional<uint16_t> maxRetransmits;

    bool operator==(const SctpStreamParameters&) const = default;
};

// streamId 0..65534; not both limits; not ordered together with a limit.
SctpStreamParameters parseSctpStreamParameters(const nlohmann::json& data);

// ordered is always written, the limits only when set.
nlohmann::json toJson(const SctpStreamParameters& params);

} // namespace sfu::params
