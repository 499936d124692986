// Packet groups and the deltas between consecutive groups
// (draft-ietf-rmcat-gcc section 5.2).
//
// Contract: feed received packets in arrival order. A group is the packets
// sent within `burstUs` (5 ms) of its first packet; a packet that arrives
// within `burstUs` of the previous one with a negative inter-departure /
// inter-arrival difference (a burst that queued behind something) joins the
// current group as well, as long as the group spans less than 100 ms of
// arrival time. A packet sent before the current group's first packet
// (reordered) is ignored. When a packet opens a new group, the deltas between
// the last two complete groups are produced: send-time delta and arrival-time
// delta of their last packets. A group arriving before the previous one (a
// negative arrival delta) produces nothing; an arrival delta exceeding the
// send delta by more than 3 s (a receiver clock jump) resets the state.
#pragma once

#include <cstdint>

namespace sfu::bwe {

class InterArrival {
public:
    static constexpr int64_t kBurstUs = 5'000;
    static constexpr int64_t kMaxBurstDurationUs = 100'000;
    static constexpr int64_t kArrivalJumpUs = 3'000'000;

    struct Deltas {
        int64_t sendDeltaUs = 0;
        int64_t arrivalDeltaUs = 0;
        int64_t arrivalUs = 0; // the completed group's last arrival
        int64_t sizeDelta = 0; // bytes
    };

    explicit InterArrival(int64_t burstUs = kBurstUs) : burstUs_(burstUs) {}

    // True when `out` holds the deltas of a group just completed.
    bool onPacket(int64_t sendUs, int64_t arrivalUs, uint32_t size, Deltas& out);
    void reset();
    uint64_t resets() const { return resets_; }

private:
    struct Group {
        bool valid = false;
        int64_t firstSendUs = 0;
        int64_t lastSendUs = 0;
        int64_t firstArrivalUs = 0;
        int64_t lastArrivalUs = 0;
        int64_t size = 0;
    };

    bool belongsToBurst(int64_t sendUs, int64_t arrivalUs) const;
    void start(Group& g, int64_t sendUs, int64_t arrivalUs, uint32_t size);

    int64_t burstUs_;
    Group current_;
    Group previous_;
    int consecutiveNegative_ = 0;
    uint64_t resets_ = 0;
};

} // namespace sfu::bwe
