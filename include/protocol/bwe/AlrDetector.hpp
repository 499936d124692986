// Application-limited region detection: the sender has been sending well
// below the estimate for a while, so the estimate is not being tested by the
// traffic (and probing is the only way to learn whether it still holds).
//
// Contract: a byte budget fills at `fraction` (65%) of the estimate and
// drains with every byte sent, bounded to +/- `windowUs` (500 ms) of that
// rate. ALR starts when the budget is more than 80% full and ends when it
// falls below 50%. Call onSent() for every packet and advance() now and then
// (the budget also fills while nothing is sent).
#pragma once

#include <cstdint>
#include <optional>

namespace sfu::bwe {

class AlrDetector {
public:
    struct Config {
        double fraction = 0.65;
        int64_t windowUs = 500'000;
        double startRatio = 0.80;
        double stopRatio = 0.50;
    };

    AlrDetector() : AlrDetector(Config{}) {}
    explicit AlrDetector(const Config& config) : config_(config) {}

    void setEstimate(int64_t bps) { estimateBps_ = bps; }
    void onSent(uint32_t bytes, int64_t nowUs);
    void advance(int64_t nowUs) { onSent(0, nowUs); }

    bool inAlr() const { return alrStartUs_.has_value(); }
    std::optional<int64_t> alrStartUs() const { return alrStartUs_; }
    // Time the last ALR period ended, if one did.
    std::optional<int64_t> alrEndUs() const { return alrEndUs_; }

private:
    Config config_;
    int64_t estimateBps_ = 0;
    double budgetBytes_ = 0;
    bool haveTime_ = false;
    int64_t lastUs_ = 0;
    std::optional<int64_t> alrStartUs_;
    std::optional<int64_t> alrEndUs_;
};

} // namespace sfu::bwe
