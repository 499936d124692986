#include "protocol/parameters/ScalabilityMode.hpp"

#include "protocol/parameters/RtpParameters.hpp"

#include <gtest/gtest.h>

using sfu::params::parseScalabilityMode;
using sfu::params::ScalabilityMode;

namespace {

struct Case {
    const char* mode;
    ScalabilityMode expected;
};

// Expected values follow the host's pattern ^[LS]([1-9]\d?)T([1-9]\d?)(_KEY)?
// with no end anchor.
const Case kCases[] = {
    {"L1T1", {1, 1, false}},
    {"L1T2", {1, 2, false}},
    {"L1T3", {1, 3, false}},
    {"L2T3", {2, 3, false}},
    {"S3T3", {3, 3, false}},
    {"S2T1", {2, 1, false}},
    {"L3T3_KEY", {3, 3, true}},
    {"L2T2_KEY_SHIFT", {2, 2, true}},
    {"L4T3_KEY", {4, 3, true}},
    {"S3T3h", {3, 3, false}},
    {"L10T12", {10, 12, false}},
    {"L99T99_KEY", {99, 99, true}},
    // Greedy digits: "L1T12" is read, the trailing "3" ignored, so "_KEY"
    // no longer follows directly.
    {"L1T123", {1, 12, false}},
    {"L1T123_KEY", {1, 12, false}},
    {"L12T3_KEY", {12, 3, true}},
    {"L3T3_KE", {3, 3, false}},
    {"L3T3KEY", {3, 3, false}},
    // Invalid: defaults.
    {"", {1, 1, false}},
    {"L", {1, 1, false}},
    {"L1", {1, 1, false}},
    {"L1T", {1, 1, false}},
    {"LT3", {1, 1, false}},
    {"L0T1", {1, 1, false}},
    {"L1T0", {1, 1, false}},
    {"L123T1", {1, 1, false}},
    {"l1t3", {1, 1, false}},
    {"X1T3", {1, 1, false}},
    {" L1T3", {1, 1, false}},
    {"chicken", {1, 1, false}},
};

} // namespace

TEST(ScalabilityMode, ParsesLikeTheHost) {
    for (const auto& c : kCases) {
        const auto got = parseScalabilityMode(c.mode);
        EXPECT_EQ(got.spatialLayers, c.expected.spatialLayers) << c.mode;
        EXPECT_EQ(got.temporalLayers, c.expected.temporalLayers) << c.mode;
        EXPECT_EQ(got.ksvc, c.expected.ksvc) << c.mode;
    }
}

TEST(ScalabilityMode, EncodingWithoutModeHasOneLayer) {
    sfu::params::RtpEncodingParameters enc;
    EXPECT_EQ(enc.scalability(), (ScalabilityMode{1, 1, false}));
    enc.scalabilityMode = "S3T3";
    EXPECT_EQ(enc.scalability(), (ScalabilityMode{3, 3, false}));
}
