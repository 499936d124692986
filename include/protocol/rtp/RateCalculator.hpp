// Bit rate over a sliding window, in constant memory: the window is split in
// Buckets equal slices and a slice's bytes leave the sum once the window has
// moved past it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sfu::rtp {

template <size_t Buckets = 100>
class BasicRateCalculator {
public:
    static_assert(Buckets >= 1);

    // With the defaults, rate() is bits per second over the last second. The
    // window is rounded down to a whole number of bucket widths (at least one
    // millisecond each). `scale` turns bytes per window into the unit wanted:
    // 8000 gives bits per second for a window expressed in milliseconds.
    explicit BasicRateCalculator(uint32_t windowMs = 1000, uint32_t scale = 8000)
        : bucketMs_(windowMs / Buckets > 0 ? windowMs / Buckets : 1), scale_(scale) {}

    void update(size_t bytes, uint64_t nowMs) {
        advance(nowMs);
        counts_[newestBucket_ % Buckets] += bytes;
        windowBytes_ += bytes;
        totalBytes_ += bytes;
        ++totalPackets_;
    }

    // Rate over the window ending at nowMs.
    uint64_t rate(uint64_t nowMs) {
        advance(nowMs);
        return windowBytes_ * scale_ / windowMs();
    }

    uint32_t windowMs() const { return static_cast<uint32_t>(bucketMs_ * Buckets); }
    // Bytes currently inside the window (as of the last update or rate call).
    uint64_t windowBytes() const { return windowBytes_; }
    // Since construction or reset().
    uint64_t totalBytes() const { return totalBytes_; }
    uint64_t totalPackets() const { return totalPackets_; }

    void reset() {
        counts_.fill(0);
        windowBytes_ = 0;
        totalBytes_ = 0;
        totalPackets_ = 0;
        started_ = false;
        newestBucket_ = 0;
    }

private:
    void advance(uint64_t nowMs) {
        const uint64_t bucket = nowMs / bucketMs_;
        if (!started_) {
            started_ = true;
            newestBucket_ = bucket;
            return;
        }
        // A clock that steps back keeps counting into the newest bucket.
        if (bucket <= newestBucket_) {
            return;
        }
        if (bucket - newestBucket_ >= Buckets) {
            counts_.fill(0);
            windowBytes_ = 0;
        } else {
            for (uint64_t b = newestBucket_ + 1; b <= bucket; ++b) {
                windowBytes_ -= counts_[b % Buckets];
                counts_[b % Buckets] = 0;
            }
        }
        newestBucket_ = bucket;
    }

    uint64_t bucketMs_;
    uint64_t scale_;
    bool started_ = false;
    uint64_t newestBucket_ = 0;
    uint64_t windowBytes_ = 0;
    uint64_t totalBytes_ = 0;
    uint64_t totalPackets_ = 0;
    std::array<uint64_t, Buckets> counts_{};
};

using RateCalculator = BasicRateCalculator<100>;

} // namespace sfu::rtp
