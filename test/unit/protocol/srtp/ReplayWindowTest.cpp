#include "protocol/srtp/ReplayWindow.hpp"

#include <gtest/gtest.h>

using namespace sfu::srtp;

namespace {

constexpr uint64_t index(uint32_t roc, uint16_t seq) {
    return uint64_t{roc} << 16 | seq;
}

// RFC 3711 appendix A: of ROC - 1, ROC and ROC + 1, the one that puts the
// packet closest to the highest index so far.
TEST(EstimateRtpIndex, PicksTheClosestRolloverCounter) {
    // Highest in the lower half of the sequence space.
    EXPECT_EQ(estimateRtpIndex(index(5, 100), 101), index(5, 101));
    EXPECT_EQ(estimateRtpIndex(index(5, 100), 50), index(5, 50));
    EXPECT_EQ(estimateRtpIndex(index(5, 100), 100 + 0x8000), index(5, 100 + 0x8000));
    EXPECT_EQ(estimateRtpIndex(index(5, 100), 101 + 0x8000), index(4, 101 + 0x8000));
    EXPECT_EQ(estimateRtpIndex(index(5, 100), 65535), index(4, 65535));
    // Highest in the upper half.
    EXPECT_EQ(estimateRtpIndex(index(5, 65530), 65535), index(5, 65535));
    EXPECT_EQ(estimateRtpIndex(index(5, 65530), 3), index(6, 3));
    EXPECT_EQ(estimateRtpIndex(index(5, 40000), 40000 - 0x8000), index(5, 40000 - 0x8000));
    EXPECT_EQ(estimateRtpIndex(index(5, 40000), 39999 - 0x8000), index(6, 39999 - 0x8000));
}

TEST(EstimateRtpIndex, NoCounterBelowZeroOrPast32Bits) {
    EXPECT_EQ(estimateRtpIndex(index(0, 10), 60000), std::nullopt);
    EXPECT_EQ(estimateRtpIndex(index(0, 10), 20), index(0, 20));
    EXPECT_EQ(estimateRtpIndex(index(0xffffffff, 65000), 5), std::nullopt);
    EXPECT_EQ(estimateRtpIndex(index(0xffffffff, 65000), 65001), index(0xffffffff, 65001));
}

TEST(ReplayWindow, AcceptsEachIndexOnceWithinTheWindow) {
    ReplayWindow window(1000);
    EXPECT_EQ(window.check(1000), ReplayWindow::Verdict::Seen);
    EXPECT_EQ(window.check(1001), ReplayWindow::Verdict::New);
    EXPECT_EQ(window.check(999), ReplayWindow::Verdict::New);
    window.accept(999);
    EXPECT_EQ(window.check(999), ReplayWindow::Verdict::Seen);
    window.accept(3000);
    EXPECT_EQ(window.highest(), 3000u);
    EXPECT_EQ(window.check(3000 - 1023), ReplayWindow::Verdict::New);
    EXPECT_EQ(window.check(3000 - 1024), ReplayWindow::Verdict::TooOld);
    EXPECT_EQ(window.check(999), ReplayWindow::Verdict::TooOld);
}

// Moving the window by any step, inside a word or across words, keeps
// each seen index where it was.
TEST(ReplayWindow, ShiftsKeepWhatWasSeen) {
    for (const uint64_t step : {1u, 7u, 63u, 64u, 65u, 130u, 500u, 1023u}) {
        ReplayWindow window(0);
        std::vector<uint64_t> seen = {0};
        uint64_t highest = 0;
        for (int round = 0; round < 20; ++round) {
            highest += step;
            window.accept(highest);
            seen.push_back(highest);
            // An older one inside the window, every other round.
            if (round % 2 == 0 && highest > 3) {
                window.accept(highest - 3);
                seen.push_back(highest - 3);
            }
        }
        for (uint64_t i = highest >= 1023 ? highest - 1023 : 0; i <= highest; ++i) {
            const bool wasSeen = std::find(seen.begin(), seen.end(), i) != seen.end();
            EXPECT_EQ(window.check(i),
                      wasSeen ? ReplayWindow::Verdict::Seen : ReplayWindow::Verdict::New)
                << "step " << step << " index " << i;
        }
    }
}

} // namespace
