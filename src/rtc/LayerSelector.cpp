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

LayerSelector::Layers LayerSelector::select(const std::vector<uint8_t>& scores) const {
    const auto alive = [&](int layer) {
        return static_cast<size_t>(layer) < scores.size() && scores[layer] > 0;
    };
    Layers target;
    for (int layer = preferred_.spatial; layer >= 0 && target.spatial < 0; --layer) {
        if (alive(layer)) {
            target.spatial = layer;
        }
    }
    for (int layer = preferred_.spatial + 1; layer < spatialLayers_ && target.spatial < 0;
         ++layer) {
        if (alive(layer)) {
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

void LayerSelector::dumpLayers(json& out, const Layers& target, const Layers& current) const {
    out["preferredSpatialLayer"] = preferred_.spatial;
    out["targetSpatialLayer"] = target.spatial;
    out["currentSpatialLayer"] = current.spatial;
    out["preferredTemporalLayer"] = preferred_.temporal;
    out["targetTemporalLayer"] = target.temporal;
    out["currentTemporalLayer"] = current.temporal;
}

} // namespace sfu::rtc
