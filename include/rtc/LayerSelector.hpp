// Layer policy of a layered consumer (simulcast or SVC): which
// spatial and temporal layer to forward, from the layers the host prefers
// and the health of the producer's streams. Kept apart from the consumers,
// which only act on its choice (switch at a key frame, filter temporal
// layers), so that a bitrate allocation can later narrow the choice here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace sfu::rtc {

class LayerSelector {
public:
    struct Layers {
        int spatial = -1;
        int temporal = -1;
        bool operator==(const Layers&) const = default;
    };

    // `spatialLayers` streams (or layers), each with `temporalLayers`. The
    // preferred layers start at the highest.
    LayerSelector(int spatialLayers, int temporalLayers);

    int spatialLayers() const { return spatialLayers_; }
    int maxTemporalLayer() const { return temporalLayers_ - 1; }

    // {spatialLayer, temporalLayer?} as transport.consume and
    // consumer.setPreferredLayers give them, clamped to what exists.
    // Throws sfu::TypeError.
    void setPreferred(const nlohmann::json& layers);
    const Layers& preferred() const { return preferred_; }
    nlohmann::json preferredJson() const;

    // The target: the highest spatial layer not above the preferred one
    // whose stream is alive (score > 0), else the lowest alive one above it;
    // {-1, -1} when none is. Below the preferred picture size all of its
    // frame rate is taken, above it the least.
    Layers select(const std::vector<uint8_t>& scores) const;

    // The preferred, target and current layers, as a consumer's dump has
    // them.
    void dumpLayers(nlohmann::json& out, const Layers& target, const Layers& current) const;

private:
    int spatialLayers_;
    int temporalLayers_;
    Layers preferred_;
};

} // namespace sfu::rtc
