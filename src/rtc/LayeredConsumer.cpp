#include "rtc/LayeredConsumer.hpp"

namespace sfu::rtc {

using nlohmann::json;

LayeredConsumer::LayeredConsumer(std::string id, std::string producerId, Shared& shared,
                                 Listener& listener, const json& data,
                                 params::RtpParametersType type)
    : Consumer(std::move(id), std::move(producerId), shared, listener, data, type) {}

void LayeredConsumer::initLayers(int spatialLayers, int temporalLayers, const json& data) {
    selector_ = LayerSelector(spatialLayers, temporalLayers);
    if (const auto layers = data.find("preferredLayers");
        layers != data.end() && !layers->is_null()) {
        selector_.setPreferred(*layers);
    }
}

json LayeredConsumer::setPreferredLayers(const json& data) {
    selector_.setPreferred(data);
    updateTarget(false);
    return preferredLayersJson();
}

void LayeredConsumer::onActiveChanged(bool nowActive) {
    if (nowActive) {
        // Continue where it stopped, from a key frame.
        streams_[0]->requireSync();
        updateTarget(true);
    }
}

void LayeredConsumer::collectLayerCosts(uint64_t nowMs,
                                        std::vector<bwe::BitrateAllocator::LayerCost>& out) {
    selector_.candidates(layerScores(), candidates_);
    out.clear();
    for (const auto& layers : candidates_) {
        out.push_back({layers, static_cast<int64_t>(layerBitrate(layers, nowMs))});
    }
}

void LayeredConsumer::setAllocatedLayers(const bwe::BitrateAllocator::Layer& layer) {
    if (allocated_ == layer) {
        return;
    }
    allocated_ = layer;
    updateTarget(false);
}

bool LayeredConsumer::heldBackByAllocation(const LayerSelector::Layers& target) {
    return allocated_ && target < selector_.select(layerScores());
}

LayerSelector::Layers LayeredConsumer::selectTarget() {
    const auto& scores = layerScores();
    return allocated_ ? selector_.select(scores, *allocated_) : selector_.select(scores);
}

} // namespace sfu::rtc
