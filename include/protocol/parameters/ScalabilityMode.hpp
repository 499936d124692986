// Scalability mode strings ("L1T3", "S3T3", "L3T3_KEY", "L2T2_KEY_SHIFT"...)
// read the way the host reads them: a prefix match of [LS]<1-99>T<1-99> with
// an optional "_KEY" right after; trailing text is ignored, and anything that
// does not match means one spatial and one temporal layer.
#pragma once

#include <cstdint>
#include <string_view>

namespace sfu::params {

struct ScalabilityMode {
    uint8_t spatialLayers{1};
    uint8_t temporalLayers{1};
    bool ksvc{false};

    bool operator==(const ScalabilityMode&) const = default;
};

ScalabilityMode parseScalabilityMode(std::string_view mode);

} // namespace sfu::params
