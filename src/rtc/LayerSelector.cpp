#include "rtc/LayerSelector.hpp"

#include "utils/Errors.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// A layer number of a request: a non-negative integer, or nothing.
std::optional<int> layerField(const json& object, const char* name) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_number() || it->get<double>() < 0 ||
        it->get<double>() != std::floor(it->get<double>())) {
        throw TypeError(std::string("wrong ") + name + " (must be an integer >= 0)");
    }
    return static_cast<int>(std::min(it->get<double>(), 255.0));
}

} // namespace

LayerSelector::LayerSelector(int spatialLayers, int temporalLayers)
    : spatialLayers_(std::max(spatialLayers, 1)),
      temporalLayers_(std::max(temporalLayers, 1)), preferred_{spatialLayers_ - 1,
                                                               temporalLayers_ - 1} {}

void LayerSelector::setPreferred(const json& layers) {
    if (!layers.is_object()) {
        throw TypeError("wrong preferredLayers (not an object)");
    }
    const auto spatial = layerField(layers, "spatialLayer");
    if (!spatial) {
        throw TypeError("missing spatialLayer");
    }
    const auto temporal = layerField(layers, "temporalLayer");
    preferred_.spatial = std::min(*spatial, spatialLayers_ - 1);
    preferred_.temporal = std::min(temporal.value_or(maxTemporalLayer()), maxTemporalLayer());
}

json LayerSelector::preferredJson() const {
    return json{{"spatialLayer", preferred_.spatial}, {"temporalLayer", preferred_.temporal}};
}

namespace {

bool alive(const std::vector<uint8_t>& scores, int layer) {
    return layer >= 0 && static_cast<size_t>(layer) < scores.size() && scores[layer] > 0;
}

} // namespace

LayerSelector::Layers LayerSelector::select(const std::vector<uint8_t>& scores) const {
    Layers target;
    for (int layer = preferred_.spatial; layer >= 0 && target.spatial < 0; --layer) {
        if (alive(scores, layer)) {
            target.spatial = layer;
        }
    }
    for (int layer = preferred_.spatial + 1; layer < spatialLayers_ && target.spatial < 0;
         ++layer) {
        if (alive(scores, layer)) {
            target.spatial = layer;
        }
    }
    if (target.spatial >= 0) {
        target.temporal = target.spatial == preferred_.spatial  ? preferred_.temporal
                          : target.spatial < preferred_.spatial ? maxTemporalLayer()
                                                                : 0;
    }
    return target;
}

LayerSelector::Layers LayerSelector::select(const std::vector<uint8_t>& scores,
                                            const Layers& cap) const {
    const Layers uncapped = select(scores);
    if (uncapped.spatial < 0 || cap.spatial < 0) {
        return Layers{};
    }
    if (uncapped <= cap) {
        return uncapped;
    }
    for (int layer = std::min(cap.spatial, uncapped.spatial); layer >= 0; --layer) {
        if (alive(scores, layer)) {
            return Layers{layer, layer == cap.spatial ? cap.temporal : maxTemporalLayer()};
        }
    }
    return Layers{};
}

void LayerSelector::candidates(const std::vector<uint8_t>& scores, std::vector<Layers>& out) const {
    out.clear();
    for (int spatial = 0; spatial <= preferred_.spatial; ++spatial) {
        if (!alive(scores, spatial)) {
            continue;
        }
        const int top = spatial == preferred_.spatial ? preferred_.temporal : maxTemporalLayer();
        // Above the lowest stream, only from half the frame rate up (the
        // two top temporal layers): a larger picture at a quarter of the
        // frame rate looks worse than the smaller one at the full rate, its
        // larger frames come in bigger bursts, and going up costs a key
        // frame.
        const int from = out.empty() ? 0 : std::clamp(maxTemporalLayer() - 1, 0, top);
        for (int temporal = from; temporal <= top; ++temporal) {
            out.push_back(Layers{spatial, temporal});
        }
    }
    if (out.empty()) {
        if (const Layers fallback = select(scores); fallback.spatial >= 0) {
            out.push_back(Layers{fallback.spatial, 0});
        }
    }
}

void LayerSelector::dumpLayers(json& out, const Layers& target, const Layers& current) const {
    out["preferredSpatialLayer"] = preferred_.spatial;
    out["targetSpatialLayer"] = target.spatial;
    out["currentSpatialLayer"] = current.spatial;
    out["preferredTemporalLayer"] = preferred_.temporal;
    out["targetTemporalLayer"] = target.temporal;
    out["currentTemporalLayer"] = current.temporal;
}

} // namespace sfu::rtc
