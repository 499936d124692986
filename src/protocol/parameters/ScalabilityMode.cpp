#include "protocol/parameters/ScalabilityMode.hpp"

namespace sfu::params {

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// One or two digits, the first non-zero (1..99). Both digits are taken when
// present, as the host's greedy pattern does.
bool readLayerCount(std::string_view s, size_t& pos, uint8_t& out) {
    if (pos >= s.size() || s[pos] < '1' || s[pos] > '9') {
        return false;
    }
    unsigned value = static_cast<unsigned>(s[pos++] - '0');
    if (pos < s.size() && isDigit(s[pos])) {
        value = value * 10 + static_cast<unsigned>(s[pos++] - '0');
    }
    out = static_cast<uint8_t>(value);
    return true;
}

} // namespace

ScalabilityMode parseScalabilityMode(std::string_view mode) {
    if (mode.empty() || (mode[0] != 'L' && mode[0] != 'S')) {
        return {};
    }
    ScalabilityMode result;
    size_t pos = 1;
    if (!readLayerCount(mode, pos, result.spatialLayers)) {
        return {};
    }
    if (pos >= mode.size() || mode[pos] != 'T') {
        return {};
    }
    ++pos;
    if (!readLayerCount(mode, pos, result.temporalLayers)) {
        return {};
    }
    result.ksvc = mode.substr(pos).starts_with("_KEY");
    return result;
}

} // namespace sfu::params
