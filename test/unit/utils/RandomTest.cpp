#include "utils/Random.hpp"

#include <gtest/gtest.h>
#include <set>
#include <vector>

namespace {

using namespace sfu;

TEST(Random, FillsAnyLength) {
    std::vector<uint8_t> a(1000);
    std::vector<uint8_t> b(1000);
    randomBytes(a);
    randomBytes(b);
    EXPECT_NE(a, b);
    randomBytes({});
}

TEST(Random, BetweenStaysInRangeAndCoversIt) {
    std::set<uint32_t> seen;
    for (int i = 0; i < 2000; ++i) {
        const uint32_t v = randomBetween(10, 19);
        ASSERT_GE(v, 10u);
        ASSERT_LE(v, 19u);
        seen.insert(v);
    }
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(randomBetween(7, 7), 7u);
    EXPECT_EQ(randomBetween(9, 3), 9u);
    const uint32_t full = randomBetween(0, 0xffffffff);
    (void)full;
}

TEST(Random, DoubleStaysInRange) {
    double low = 2;
    double high = 0;
    for (int i = 0; i < 2000; ++i) {
        const double v = randomDouble(0.5, 1.5);
        ASSERT_GE(v, 0.5);
        ASSERT_LT(v, 1.5);
        low = std::min(low, v);
        high = std::max(high, v);
    }
    EXPECT_LT(low, 0.6);
    EXPECT_GT(high, 1.4);
}

} // namespace
