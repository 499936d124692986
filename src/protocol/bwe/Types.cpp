#include "protocol/bwe/Types.hpp"

namespace sfu::bwe {

const char* toString(BandwidthUsage usage) {
    switch (usage) {
    case BandwidthUsage::Normal:
        return "normal";
    case BandwidthUsage::Underusing:
        return "underusing";
    case BandwidthUsage::Overusing:
        return "overusing";
    }
    return "normal";
}

} // namespace sfu::bwe
