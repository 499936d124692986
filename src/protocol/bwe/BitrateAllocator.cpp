#include "protocol/bwe/BitrateAllocator.hpp"

#include <algorithm>

namespace sfu::bwe {

namespace {

using Layer = BitrateAllocator::Layer;
using LayerCost = BitrateAllocator::LayerCost;

// The highest index of `layers` at or below `layer`, -1 when none is.
int indexAtOrBelow(const std::vector<LayerCost>& layers, Layer layer) {
    int found = -1;
    if (layer.spatial < 0) {
        return found;
    }
    for (size_t i = 0; i < layers.size(); ++i) {
        if (layers[i].layer <= layer) {
            found = static_cast<int>(i);
        }
    }
    return found;
}

} // namespace

void BitrateAllocator::allocate(int64_t availableBps, int64_t nowMs,
                                std::span<const Request> requests, std::vector<Layer>& out) {
    const size_t count = requests.size();
    out.assign(count, kNoLayer);
    levels_.assign(count, -1);
    currentIndex_.assign(count, -1);
    maxLevel_.assign(count, -1);
    order_.clear();
    for (auto& [key, state] : states_) {
        state.seen = false;
    }

    int64_t budget = availableBps;
    for (size_t i = 0; i < count; ++i) {
        const Request& request = requests[i];
        State& state = states_[request.key];
        state.seen = true;
        if (!request.active) {
            // It keeps the layer it had for when it is active again.
            state.upSinceMs = -1;
            continue;
        }
        if (request.layers.empty()) {
            budget -= std::max<int64_t>(request.fixedBps, 0);
            continue;
        }
        currentIndex_[i] = indexAtOrBelow(request.layers, state.current);
        maxLevel_[i] = static_cast<int>(request.layers.size()) - 1;
        if (state.blocked.spatial >= 0) {
            if (nowMs >= state.blockedUntilMs || availableBps >= 2 * state.blockedBudget) {
                state.blocked = kNoLayer;
            } else {
                // Below the blocked layer, but never below what it holds.
                int below = static_cast<int>(request.layers.size()) - 1;
                while (below > 0 &&
                       request.layers[static_cast<size_t>(below)].layer >= state.blocked) {
                    --below;
                }
                maxLevel_[i] = std::max(below, currentIndex_[i]);
            }
        }
        order_.push_back(i);
    }
    std::erase_if(states_, [](const auto& entry) { return !entry.second.seen; });

    // Higher priorities first; among equals, those that hold a layer before
    // newcomers (so that a newcomer does not push one out), then the order
    // given.
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
        if (requests[a].priority != requests[b].priority) {
            return requests[a].priority > requests[b].priority;
        }
        const bool aHolds = currentIndex_[a] >= 0;
        const bool bHolds = currentIndex_[b] >= 0;
        return aHolds != bHolds ? aHolds : a < b;
    });

    // What granting `level` to request i takes from the budget.
    const auto need = [&](size_t i, int level) -> int64_t {
        if (level < 0) {
            return 0;
        }
        const int64_t bps = std::max<int64_t>(requests[i].layers[level].bps, 0);
        if (level > 0 && level > currentIndex_[i]) {
            return static_cast<int64_t>(static_cast<double>(bps) * (1.0 + config_.upMargin));
        }
        return bps;
    };

    // Lowest layers first.
    for (const size_t i : order_) {
        if (const int64_t cost = need(i, 0); cost <= budget) {
            levels_[i] = 0;
            budget -= cost;
        }
    }
    // Then one step at a time, a priority group after the other.
    for (size_t begin = 0; begin < order_.size();) {
        size_t end = begin;
        while (end < order_.size() &&
               requests[order_[end]].priority == requests[order_[begin]].priority) {
            ++end;
        }
        for (bool raised = true; raised;) {
            raised = false;
            for (size_t k = begin; k < end; ++k) {
                const size_t i = order_[k];
                const int level = levels_[i];
                if (level < 0 || level >= maxLevel_[i]) {
                    continue;
                }
                const int64_t delta = need(i, level + 1) - need(i, level);
                if (delta <= budget) {
                    levels_[i] = level + 1;
                    budget -= delta;
                    raised = true;
                }
            }
        }
        begin = end;
    }

    // How long a switch up of request i to `floor` (while it wants `wanted`)
    // is held: longer when what is left besides would not cover the layer
    // with the larger margin.
    const auto holdFor = [&](size_t i, int floor, int wanted) -> int64_t {
        if (config_.tightHoldMs <= config_.upHoldMs || floor < 0) {
            return config_.upHoldMs;
        }
        const int64_t slack = budget + need(i, wanted) - need(i, floor);
        const auto bps = static_cast<double>(std::max<int64_t>(requests[i].layers[floor].bps, 0));
        const auto extra = static_cast<int64_t>(bps * (config_.looseMargin - config_.upMargin));
        return extra <= slack ? config_.upHoldMs : config_.tightHoldMs;
    };

    // Hysteresis: down at once, up after the hold.
    for (const size_t i : order_) {
        const Request& request = requests[i];
        State& state = states_[request.key];
        const int wanted = levels_[i];
        const int held = std::max(currentIndex_[i], 0);
        int granted = wanted;
        if (!state.started) {
            // Starting: the share it is given, once what it costs is known
            // (until then its lowest layer).
            if (wanted >= 0 && request.layers[wanted].bps <= 0) {
                granted = 0;
            } else {
                state.started = wanted >= 0;
            }
        } else if (wanted > held) {
            const Layer wantedLayer = request.layers[wanted].layer;
            if (state.upSinceMs < 0) {
                state.upSinceMs = nowMs;
                state.upFloor = wantedLayer;
            } else {
                state.upFloor = std::min(state.upFloor, wantedLayer);
            }
            granted = held;
            const int floor = indexAtOrBelow(request.layers, state.upFloor);
            if (nowMs - state.upSinceMs >= holdFor(i, floor, wanted)) {
                granted = std::max(held, floor);
                state.upSinceMs = -1;
            }
            if (wanted > granted && state.upSinceMs < 0) {
                // Further up takes a hold of its own.
                state.upSinceMs = nowMs;
                state.upFloor = wantedLayer;
            }
        } else {
            state.upSinceMs = -1;
        }
        const Layer before = state.current;
        state.current = granted >= 0 ? request.layers[granted].layer : kNoLayer;
        out[i] = state.current;
        noteSwitch(state, before, granted > held, availableBps, nowMs);
    }
}

void BitrateAllocator::noteSwitch(State& state, Layer before, bool raised, int64_t availableBps,
                                  int64_t nowMs) {
    if (raised) {
        state.raisedAtMs = nowMs;
        state.raisedTo = state.current;
        state.raisedBudget = availableBps;
        return;
    }
    if (state.raisedAtMs < 0) {
        return;
    }
    if (nowMs - state.raisedAtMs > config_.failWindowMs) {
        // It held.
        state.raisedAtMs = -1;
        state.backoffMs = 0;
    } else if (state.current < before && before >= state.raisedTo &&
               state.current < state.raisedTo) {
        state.backoffMs = state.backoffMs == 0
                              ? config_.backoffMs
                              : std::min(2 * state.backoffMs, config_.maxBackoffMs);
        state.blocked = state.raisedTo;
        state.blockedUntilMs = nowMs + state.backoffMs;
        state.blockedBudget = state.raisedBudget;
        state.raisedAtMs = -1;
    }
}

} // namespace sfu::bwe
