// Layer policy of a layered consumer (simulcast or SVC): which
// spatial and temporal layer to forward, from the layers the host prefers
// and the health of the producer's streams. Kept apart from the consumers,
// which only act on its choice (switch at a key frame, filter temporal
// layers). A transport's bitrate allocation narrows the choice: it picks
// among candidates() and select() is then capped at its grant.
#pragma once

#include "protocol/bwe/BitrateAllocator.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace sfu::rtc {

class LayerSelector {
public:
    // {spatial, temporal}, ordered spatial first; {-1, -1}: none.
    using Layers = bwe::BitrateAllocator::Layer;

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
    // The same, at most `cap` (nothing when cap is {-1, -1}): the highest
    // alive stream up to cap.spatial, at cap.temporal on that stream and at
    // its full frame rate below it.
    Layers select(const std::vector<uint8_t>& scores, const Layers& cap) const;
    // What an allocation may choose from, lowest first: each temporal layer
    // of the lowest alive stream, then of each alive stream above it up to
    // the preferred layers its temporal layers from half the frame rate up
    // (all of them when it has two or fewer), or, when no stream is alive
    // up to there, the one select() falls back to.
    void candidates(const std::vector<uint8_t>& scores, std::vector<Layers>& out) const;

    // The preferred, target and current layers, as a consumer's dump has
    // them.
    void dumpLayers(nlohmann::json& out, const Layers& target, const Layers& current) const;

private:
    int spatialLayers_;
    int temporalLayers_;
    Layers preferred_;
};

} // namespace sfu::rtc
