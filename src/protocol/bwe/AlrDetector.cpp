#include "protocol/bwe/AlrDetector.hpp"

#include <algorithm>

namespace sfu::bwe {

void AlrDetector::onSent(uint32_t bytes, int64_t nowUs) {
    if (!haveTime_) {
        haveTime_ = true;
        lastUs_ = nowUs;
    }
    const int64_t dtUs = std::clamp<int64_t>(nowUs - lastUs_, 0, config_.windowUs);
    lastUs_ = std::max(lastUs_, nowUs);
    const double rateBytesPerUs = config_.fraction * static_cast<double>(estimateBps_) / 8.0 / 1e6;
    const double maxBudget = rateBytesPerUs * static_cast<double>(config_.windowUs);
    budgetBytes_ += rateBytesPerUs * static_cast<double>(dtUs);
    budgetBytes_ -= bytes;
    budgetBytes_ = std::clamp(budgetBytes_, -maxBudget, maxBudget);
    if (maxBudget <= 0) {
        return;
    }
    const double ratio = budgetBytes_ / maxBudget;
    if (!alrStartUs_ && ratio > config_.startRatio) {
        alrStartUs_ = nowUs;
    } else if (alrStartUs_ && ratio < config_.stopRatio) {
        alrStartUs_.reset();
        alrEndUs_ = nowUs;
    }
}

} // namespace sfu::bwe
