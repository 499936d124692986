#include "protocol/bwe/RateWindow.hpp"

#include <algorithm>

namespace sfu::bwe {

RateWindow::RateWindow(int64_t windowUs, int64_t bucketUs, int64_t minSpanUs)
    : buckets_(
          static_cast<size_t>(std::max<int64_t>(1, windowUs / std::max<int64_t>(1, bucketUs)))),
      bucketUs_(std::max<int64_t>(1, bucketUs)),
      windowUs_(static_cast<int64_t>(buckets_.size()) * bucketUs_), minSpanUs_(minSpanUs) {}

int64_t RateWindow::floorDiv(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

void RateWindow::reset() {
    std::fill(buckets_.begin(), buckets_.end(), 0);
    empty_ = true;
    total_ = 0;
}

void RateWindow::advance(int64_t timeUs) {
    if (empty_) {
        return;
    }
    const int64_t b = floorDiv(timeUs, bucketUs_);
    if (b <= newest_) {
        return;
    }
    const auto n = static_cast<int64_t>(buckets_.size());
    if (b - newest_ >= n) {
        std::fill(buckets_.begin(), buckets_.end(), 0);
        total_ = 0;
        // Nothing counted within the window: start over from here.
        firstUs_ = timeUs - windowUs_;
    } else {
        for (int64_t i = newest_ + 1; i <= b; ++i) {
            int64_t& slot = buckets_[static_cast<size_t>(((i % n) + n) % n)];
            total_ -= slot;
            slot = 0;
        }
    }
    newest_ = b;
    lastUs_ = timeUs;
}

void RateWindow::add(int64_t bytes, int64_t timeUs) {
    const auto n = static_cast<int64_t>(buckets_.size());
    if (empty_) {
        empty_ = false;
        newest_ = floorDiv(timeUs, bucketUs_);
        firstUs_ = timeUs;
        lastUs_ = timeUs;
    } else {
        advance(timeUs);
    }
    const int64_t b = floorDiv(timeUs, bucketUs_);
    if (b <= newest_ - n) {
        return; // older than the window
    }
    buckets_[static_cast<size_t>(((b % n) + n) % n)] += bytes;
    total_ += bytes;
    firstUs_ = std::min(firstUs_, timeUs);
}

std::optional<int64_t> RateWindow::rate() const {
    if (empty_) {
        return std::nullopt;
    }
    const int64_t span = std::min(windowUs_, lastUs_ - firstUs_ + bucketUs_);
    if (span < minSpanUs_ || span <= 0) {
        return std::nullopt;
    }
    return total_ * 8'000'000 / span;
}

} // namespace sfu::bwe
