// What the consumers of layered producers (simulcast streams, SVC layers)
// share: the host's preferred layers, the transport's bitrate allocation,
// and the LayerSelector that turns both, with the producer's scores, into
// a target. Each subclass says what its layers' scores are and what each
// layer costs, and acts on a new target (updateTarget()).
#pragma once

#include "rtc/Consumer.hpp"
#include "rtc/LayerSelector.hpp"

#include <optional>
#include <vector>

namespace sfu::rtc {

class LayeredConsumer : public Consumer {
public:
    nlohmann::json preferredLayersJson() const final { return selector_.preferredJson(); }

    bool layered() const final { return true; }
    // Each candidate layer (lowest first, up to the preferred ones) costs
    // what layerBitrate() says of it now.
    void collectLayerCosts(uint64_t nowMs,
                           std::vector<bwe::BitrateAllocator::LayerCost>& out) final;
    void setAllocatedLayers(const bwe::BitrateAllocator::Layer& layer) final;

protected:
    LayeredConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                    const nlohmann::json& data, params::RtpParametersType type);

    // Sets the layers there are and takes transport.consume's
    // preferredLayers from `data`; for the constructor of a subclass, once
    // it has checked its parameters.
    void initLayers(int spatialLayers, int temporalLayers, const nlohmann::json& data);

    // The health of each spatial layer, as the selector reads it.
    virtual const std::vector<uint8_t>& layerScores() = 0;
    // What the producer sends now of `layers` and of everything they need.
    virtual uint64_t layerBitrate(const LayerSelector::Layers& layers, uint64_t nowMs) const = 0;
    // Acts on selectTarget(): where a switch needs a key frame, asks for one
    // (also when `forceKeyFrame` and forwarding must restart).
    virtual void updateTarget(bool forceKeyFrame) = 0;

    // The preferred layers among those alive, capped by the allocation once
    // the transport runs one.
    LayerSelector::Layers selectTarget();
    // Whether the allocation holds `target` below what the preferred layers
    // alone would select (the link, not the host, wants less).
    bool heldBackByAllocation(const LayerSelector::Layers& target);

    LayerSelector selector_{1, 1};

private:
    void onActiveChanged(bool active) final;
    void onProducerScores() final { updateTarget(false); }
    nlohmann::json setPreferredLayers(const nlohmann::json& data) final;

    // The allocation's grant; none while the transport has no estimate.
    std::optional<LayerSelector::Layers> allocated_;
    std::vector<LayerSelector::Layers> candidates_;
};

} // namespace sfu::rtc
