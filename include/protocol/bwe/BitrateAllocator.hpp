// Distributes a transport's estimated outgoing bitrate over its consumers:
// which layer each layered consumer may send, given what each layer costs.
//
// Contract:
//  - Input per run: the available bitrate, the time, and one Request per
//    consumer (in a stable order, the tie-break among equal priorities).
//    Inactive requests (paused) get nothing and cost nothing; when active
//    again they keep what they had if it still fits. A request
//    without layers is a fixed cost (audio, single-stream consumers), taken
//    off the available bitrate first. A layered request lists its layers
//    lowest first, up to its preferred layers (never above them), each with
//    what it costs.
//  - Lowest layers first: every layered consumer gets its lowest layer if
//    what is left covers it, higher priorities first where not all fit.
//    Then layers are raised one step at a time, higher priorities first;
//    consumers of equal priority take their steps in turn.
//  - A consumer's first grant needs no hold: it starts on the highest layer
//    its share covers, once that layer's bitrate is known (until then, on
//    its lowest layer, still starting).
//  - Hysteresis: a layer above the one a consumer has now costs
//    (1 + upMargin) times its bitrate, and it is granted only once the
//    consumer has wanted more than it has for upHoldMs without a break;
//    the layer granted then is the lowest wanted during that time. The
//    bitrate of the wanted layer is kept for it meanwhile, so that others
//    do not take it. Going down (the budget no longer covers the current
//    layer) happens at once; the lowest layer needs no hold.
//  - A tight fit holds longer: when the budget, less what the others are
//    granted, does not cover (1 + looseMargin) times the layer to be
//    granted, the hold is tightHoldMs (if set and longer). A layer that
//    takes most of the link has to fit for longer before it is tried; one
//    with room to spare is not slowed. Fitness is judged at each run, so
//    a fit that loosens during the hold is granted once upHoldMs is over.
//  - Back-off: a switch up that goes down again within failWindowMs
//    failed (the link could not carry the layer, though the budget said
//    so); that layer and those above it are then not granted again for
//    backoffMs (doubling with each failure in a row, up to maxBackoffMs),
//    unless the budget reaches twice what it was when the switch was made.
//    A switch up that holds past the window ends the series.
//  - Deterministic: the same inputs and times give the same answers. The
//    allocator keeps state per consumer key; keys absent from a run and
//    keys given to forget() start over. A run allocates only for keys it
//    has not seen before (and its first runs' buffers).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace sfu::bwe {

// A spatial and temporal layer, ordered spatial first; {-1, -1}: none.
struct AllocationLayer {
    int spatial = -1;
    int temporal = -1;
    auto operator<=>(const AllocationLayer&) const = default;
};

class BitrateAllocator {
public:
    using Layer = AllocationLayer;
    static constexpr Layer kNoLayer{};

    struct LayerCost {
        Layer layer;
        int64_t bps = 0;
    };

    struct Request {
        uint64_t key = 0;
        uint32_t priority = 1;
        bool active = true;
        // Requests without layers: their cost.
        int64_t fixedBps = 0;
        // Lowest first; empty for a fixed cost.
        std::vector<LayerCost> layers;
    };

    struct Config {
        double upMargin = 0.1;
        int64_t upHoldMs = 3000;
        int64_t failWindowMs = 5000;
        int64_t backoffMs = 10000;
        int64_t maxBackoffMs = 60000;
        // A tight fit: a switch up whose layer (1 + looseMargin) times its
        // bitrate would not fit in the budget waits tightHoldMs instead of
        // upHoldMs (when longer; 0: no such longer hold).
        double looseMargin = 0.5;
        int64_t tightHoldMs = 0;
    };

    BitrateAllocator() = default;
    explicit BitrateAllocator(Config config) : config_(config) {}

    const Config& config() const { return config_; }

    // One run: `out[i]` is the layer granted to requests[i] (kNoLayer when
    // none, and for fixed costs).
    void allocate(int64_t availableBps, int64_t nowMs, std::span<const Request> requests,
                  std::vector<Layer>& out);
    void forget(uint64_t key) { states_.erase(key); }

private:
    struct State {
        Layer current = kNoLayer;
        // Since when the consumer has wanted more than it has (-1: not),
        // and the lowest layer it wanted meanwhile.
        int64_t upSinceMs = -1;
        Layer upFloor = kNoLayer;
        bool seen = false;
        // Granted a layer of known bitrate: from then on, up takes the hold.
        bool started = false;
        // The last switch up (-1: none within the window), and the budget
        // then.
        int64_t raisedAtMs = -1;
        Layer raisedTo = kNoLayer;
        int64_t raisedBudget = 0;
        // Layers from `blocked` up are not granted before blockedUntilMs
        // while the budget stays under twice blockedBudget.
        Layer blocked = kNoLayer;
        int64_t blockedUntilMs = 0;
        int64_t blockedBudget = 0;
        int64_t backoffMs = 0; // of the last failure in a row, 0: none
    };

    // After a run decided `state.current` (from `before`): starts, ends or
    // fails the window of a switch up.
    void noteSwitch(State& state, Layer before, bool raised, int64_t availableBps, int64_t nowMs);

    Config config_;
    std::map<uint64_t, State> states_;
    // Reused by every run.
    std::vector<size_t> order_;
    std::vector<int> levels_;
    std::vector<int> currentIndex_;
    // Per request, the highest level the back-off allows.
    std::vector<int> maxLevel_;
};

} // namespace sfu::bwe
