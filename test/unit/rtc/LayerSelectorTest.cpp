#include "rtc/LayerSelector.hpp"

#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::LayerSelector;
using Layers = LayerSelector::Layers;

TEST(LayerSelector, PrefersTheHighestLayersUntilTold) {
    LayerSelector selector(3, 3);
    EXPECT_EQ(selector.preferred(), (Layers{2, 2}));
    EXPECT_EQ(selector.select({10, 10, 10}), (Layers{2, 2}));
    EXPECT_EQ(selector.preferredJson(), (json{{"spatialLayer", 2}, {"temporalLayer", 2}}));
}

TEST(LayerSelector, FallsBackBelowThenAboveThePreferredLayer) {
    LayerSelector selector(3, 3);
    selector.setPreferred(json{{"spatialLayer", 1}, {"temporalLayer", 1}});
    EXPECT_EQ(selector.select({10, 10, 10}), (Layers{1, 1}));
    // The preferred stream dies: the one below, with all its frame rate.
    EXPECT_EQ(selector.select({10, 0, 10}), (Layers{0, 2}));
    // Nothing at or below it: the lowest above, with the least frame rate.
    EXPECT_EQ(selector.select({0, 0, 7}), (Layers{2, 0}));
    EXPECT_EQ(selector.select({0, 0, 0}), (Layers{-1, -1}));
    // Scores of streams not yet known count as dead.
    EXPECT_EQ(selector.select({}), (Layers{-1, -1}));
}

TEST(LayerSelector, ClampsAndValidatesPreferredLayers) {
    LayerSelector selector(2, 3);
    selector.setPreferred(json{{"spatialLayer", 9}});
    EXPECT_EQ(selector.preferred(), (Layers{1, 2}));
    selector.setPreferred(json{{"spatialLayer", 0}, {"temporalLayer", 7}});
    EXPECT_EQ(selector.preferred(), (Layers{0, 2}));
    EXPECT_THROW(selector.setPreferred(json{{"temporalLayer", 1}}), sfu::TypeError);
    EXPECT_THROW(selector.setPreferred(json{{"spatialLayer", -1}}), sfu::TypeError);
    EXPECT_THROW(selector.setPreferred(json{{"spatialLayer", 1.5}}), sfu::TypeError);
    EXPECT_THROW(selector.setPreferred(json::array()), sfu::TypeError);
    EXPECT_EQ(selector.preferred(), (Layers{0, 2}));
}

TEST(LayerSelector, CandidatesAreEveryAliveLayerUpToThePreferredOnes) {
    LayerSelector selector(3, 2);
    std::vector<Layers> out;
    selector.candidates({10, 10, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}}));
    selector.setPreferred(json{{"spatialLayer", 1}, {"temporalLayer", 0}});
    selector.candidates({10, 0, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{0, 0}, {0, 1}}));
    selector.candidates({10, 10, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{0, 0}, {0, 1}, {1, 0}}));
    // Nothing alive up to the preferred stream: select()'s fallback only.
    selector.candidates({0, 0, 3}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{2, 0}}));
    selector.candidates({0, 0, 0}, out);
    EXPECT_TRUE(out.empty());
}

// With three temporal layers, a stream above the lowest alive one is a
// candidate from its temporal layer 1 (half the frame rate) up, or at the
// preferred temporal layer when that is lower.
TEST(LayerSelector, CandidatesAboveTheLowestStreamKeepHalfTheFrameRate) {
    LayerSelector selector(3, 3);
    std::vector<Layers> out;
    selector.candidates({10, 10, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 1}, {2, 2}}));
    selector.candidates({0, 10, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}}));
    selector.setPreferred(json{{"spatialLayer", 2}, {"temporalLayer", 0}});
    selector.candidates({10, 10, 10}, out);
    EXPECT_EQ(out, (std::vector<Layers>{{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 0}}));
}

TEST(LayerSelector, AnAllocationCapsTheChoice) {
    LayerSelector selector(3, 3);
    EXPECT_EQ(selector.select({10, 10, 10}, Layers{1, 1}), (Layers{1, 1}));
    EXPECT_EQ(selector.select({10, 10, 10}, Layers{2, 0}), (Layers{2, 0}));
    EXPECT_EQ(selector.select({10, 10, 10}, Layers{-1, -1}), (Layers{-1, -1}));
    // The granted stream died: the highest alive below, at full frame rate.
    EXPECT_EQ(selector.select({10, 10, 0}, Layers{2, 1}), (Layers{1, 2}));
    // A grant above what is preferred changes nothing.
    selector.setPreferred(json{{"spatialLayer", 0}, {"temporalLayer", 1}});
    EXPECT_EQ(selector.select({10, 10, 10}, Layers{2, 2}), (Layers{0, 1}));
    EXPECT_EQ(selector.select({0, 0, 0}, Layers{2, 2}), (Layers{-1, -1}));
}

} // namespace
