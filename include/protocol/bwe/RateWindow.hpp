// Bytes counted into fixed time buckets over a sliding window, giving a rate.
//
// Contract: add() counts bytes at a time (any clock, microseconds, possibly
// negative); times may go back by less than the window (older buckets still
// held are counted, anything older is dropped). rate() is the bit rate over
// the window ending at the newest time seen, and is nullopt until the counted
// span reaches `minSpanUs`. A jump forward by more than the window empties
// it. Nothing is allocated after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sfu::bwe {

class RateWindow {
public:
    RateWindow(int64_t windowUs, int64_t bucketUs, int64_t minSpanUs);

    void add(int64_t bytes, int64_t timeUs);
    // Moves the window's end forward without counting anything.
    void advance(int64_t timeUs);
    std::optional<int64_t> rate() const;
    void reset();

    int64_t windowUs() const { return windowUs_; }

private:
    static int64_t floorDiv(int64_t a, int64_t b);

    std::vector<int64_t> buckets_;
    int64_t bucketUs_;
    int64_t windowUs_;
    int64_t minSpanUs_;
    bool empty_ = true;
    int64_t newest_ = 0;  // bucket index of the newest time
    int64_t firstUs_ = 0; // first time counted since the last reset
    int64_t lastUs_ = 0;
    int64_t total_ = 0;
};

} // namespace sfu::bwe
