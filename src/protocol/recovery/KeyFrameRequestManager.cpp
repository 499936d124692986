#include "protocol/recovery/KeyFrameRequestManager.hpp"

#include <algorithm>

namespace sfu::recovery {

void KeyFrameRequestManager::send(uint64_t nowMs, bool repeat) {
    if (!repeat) {
        ++firSeq_;
        retries_ = 0;
    }
    outstanding_ = true;
    hasSent_ = true;
    lastSentMs_ = nowMs;
    ++counters_.sent;
}

bool KeyFrameRequestManager::request(uint64_t nowMs) {
    if (outstanding_ || deferred_) {
        ++counters_.merged;
        return false;
    }
    if (config_.delayMs > 0 && hasSent_ && nowMs < lastSentMs_ + config_.delayMs) {
        deferred_ = true;
        ++counters_.deferred;
        return false;
    }
    send(nowMs, false);
    return true;
}

bool KeyFrameRequestManager::tick(uint64_t nowMs) {
    const std::optional<uint64_t> due = nextTickMs();
    if (!due || nowMs < *due) {
        return false;
    }
    if (deferred_) {
        deferred_ = false;
        send(nowMs, false);
        return true;
    }
    // Outstanding and unanswered for too long.
    if (retries_ >= config_.maxRetries) {
        outstanding_ = false;
        ++counters_.abandoned;
        return false;
    }
    ++retries_;
    ++counters_.retries;
    send(nowMs, true);
    return true;
}

void KeyFrameRequestManager::keyFrameReceived(uint64_t /*nowMs*/) {
    ++counters_.keyFrames;
    outstanding_ = false;
    retries_ = 0;
}

std::optional<uint64_t> KeyFrameRequestManager::nextTickMs() const {
    if (deferred_) {
        return lastSentMs_ + config_.delayMs;
    }
    if (outstanding_) {
        // A repeat is a request too: it respects the delay as well.
        return lastSentMs_ + std::max(config_.retryTimeoutMs, config_.delayMs);
    }
    return std::nullopt;
}

} // namespace sfu::recovery
