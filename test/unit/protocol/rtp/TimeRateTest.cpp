#include "protocol/rtp/RateCalculator.hpp"
#include "protocol/rtp/Time.hpp"

#include <chrono>
#include <gtest/gtest.h>

namespace sfu::rtp {
namespace {

TEST(Ntp, KnownInstants) {
    // The Unix epoch is NTP second 2208988800.
    EXPECT_EQ(ntpFromUnixMs(0), (NtpTime{2208988800u, 0}));
    // Half a second is half the fraction range.
    EXPECT_EQ(ntpFromUnixMs(1500), (NtpTime{2208988801u, 0x80000000u}));
    // 2021-01-01T00:00:00Z = 1609459200 Unix = 3818448000 NTP.
    EXPECT_EQ(ntpFromUnixMs(1609459200000ULL).seconds, 3818448000u);
    EXPECT_EQ(ntpFromUnixMicros(250000).fraction, 0x40000000u);
    EXPECT_EQ(unixMsFromNtp({2208988801u, 0x40000000u}), 1250u);
}

TEST(Ntp, RoundTripsAreExact) {
    for (uint64_t ms = 1700000000000ULL; ms < 1700000000000ULL + 5000; ms += 7) {
        ASSERT_EQ(unixMsFromNtp(ntpFromUnixMs(ms)), ms);
    }
    for (uint64_t us = 1700000000000000ULL; us < 1700000000000000ULL + 3000000; us += 997) {
        ASSERT_EQ(unixMicrosFromNtp(ntpFromUnixMicros(us)), us);
    }
}

TEST(Ntp, U64AndCompact) {
    const NtpTime ntp{0x12345678u, 0x9abcdef0u};
    EXPECT_EQ(ntp.toU64(), 0x123456789abcdef0ULL);
    EXPECT_EQ(NtpTime::fromU64(0x123456789abcdef0ULL), ntp);
    EXPECT_EQ(ntp.compact(), 0x56789abcu);
}

TEST(Ntp, CompactDurations) {
    EXPECT_EQ(compactNtpFromMs(1000), 0x00010000u);
    EXPECT_EQ(compactNtpFromMs(500), 0x00008000u);
    EXPECT_EQ(msFromCompactNtp(0x00018000u), 1500u);
    for (uint64_t ms = 0; ms < 100000; ms += 13) {
        ASSERT_EQ(msFromCompactNtp(compactNtpFromMs(ms)), ms);
    }
    EXPECT_EQ(compactNtpFromMs(uint64_t{1} << 40), 0xffffffffu);
    // An RTT from LSR and DLSR: 1.25 s after the report, held 1 s, = 250 ms.
    const NtpTime sent{3818448000u, 0};
    const NtpTime now{3818448001u, 0x40000000u};
    const uint32_t lsr = sent.compact();
    const uint32_t dlsr = compactNtpFromMs(1000);
    EXPECT_EQ(msFromCompactNtp(now.compact() - lsr - dlsr), 250u);
}

TEST(Ntp, NowIsTheWallClock) {
    const auto unixMs =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    const uint64_t ntpMs = unixMsFromNtp(ntpNow());
    EXPECT_LT(ntpMs > unixMs ? ntpMs - unixMs : unixMs - ntpMs, 1000u);
}

TEST(RtpTime, TicksAndTimestamps) {
    EXPECT_EQ(rtpTicksFromMs(20, 48000), 960u);
    EXPECT_EQ(rtpTicksFromMs(1000, 90000), 90000u);
    EXPECT_EQ(msFromRtpTicks(90000, 90000), 1000u);
    EXPECT_EQ(msFromRtpTicks(960, 48000), 20u);
    EXPECT_EQ(msFromRtpTicks(5, 0), 0u);
    EXPECT_EQ(rtpTimestampAt(1100, 1000, 0xffffff00u, 90000), 0xffffff00u + 9000u);
    EXPECT_EQ(rtpTimestampAt(900, 1000, 100, 90000), 100u - 9000u);
    // Wraps modulo 2^32 after ~13 hours at 90 kHz.
    EXPECT_EQ(rtpTicksFromMs(47721858ULL, 90000), static_cast<uint32_t>(47721858ULL * 90));
}

TEST(AbsSendTime, Conversions) {
    EXPECT_EQ(absSendTimeFromMs(0), 0u);
    EXPECT_EQ(absSendTimeFromMs(1000), 1u << 18);
    EXPECT_EQ(absSendTimeFromMs(64000), 0u); // wraps every 64 s
    EXPECT_EQ(absSendTimeFromMs(63500), (63u << 18) | (1u << 17));
    EXPECT_EQ(absSendTimeFromNtp({3u, 0x80000000u}), (3u << 18) | (1u << 17));
    EXPECT_EQ(absSendTimeFromNtp({67u, 0}), 3u << 18);
    EXPECT_EQ(microsFromAbsSendTime(1u << 18), 1000000u);
    // One unit is 1/2^18 s, about 3.8 us.
    EXPECT_NEAR(static_cast<double>(microsFromAbsSendTime(absSendTimeFromMs(12345))), 12345000.0,
                4.0);
}

TEST(RateCalculator, SteadyStream) {
    RateCalculator rate;
    // 1000 bytes every 10 ms = 800 kbit/s.
    for (uint64_t now = 0; now < 5000; now += 10) {
        rate.update(1000, now);
    }
    EXPECT_EQ(rate.rate(4990), 800000u);
    EXPECT_EQ(rate.totalBytes(), 500u * 1000u);
    EXPECT_EQ(rate.totalPackets(), 500u);
    EXPECT_EQ(rate.windowMs(), 1000u);
}

TEST(RateCalculator, WindowSlides) {
    RateCalculator rate;
    rate.update(1000, 0);
    rate.update(1000, 500);
    EXPECT_EQ(rate.rate(900), 16000u);
    EXPECT_EQ(rate.rate(999), 16000u);
    // The first bucket leaves the window after one second.
    EXPECT_EQ(rate.rate(1000), 8000u);
    EXPECT_EQ(rate.rate(1499), 8000u);
    EXPECT_EQ(rate.rate(1500), 0u);
    // Silence longer than the window clears everything at once.
    rate.update(250, 10000);
    EXPECT_EQ(rate.rate(10000), 2000u);
    EXPECT_EQ(rate.rate(50000), 0u);
    EXPECT_EQ(rate.totalBytes(), 2250u);
}

TEST(RateCalculator, ClockSteppingBackCountsInTheNewestBucket) {
    RateCalculator rate;
    rate.update(100, 1000);
    rate.update(100, 900);
    EXPECT_EQ(rate.rate(1000), 1600u);
}

TEST(RateCalculator, CustomWindowAndScale) {
    // 10 buckets of 50 ms; scale 1000 gives bytes per second.
    BasicRateCalculator<10> rate(500, 1000);
    EXPECT_EQ(rate.windowMs(), 500u);
    rate.update(300, 0);
    rate.update(200, 400);
    EXPECT_EQ(rate.rate(499), 1000u);
    EXPECT_EQ(rate.rate(500), 400u);
    rate.reset();
    EXPECT_EQ(rate.totalBytes(), 0u);
    EXPECT_EQ(rate.rate(600), 0u);

    // A window smaller than the bucket count still works, at 1 ms per bucket.
    BasicRateCalculator<100> tiny(10);
    EXPECT_EQ(tiny.windowMs(), 100u);
}

} // namespace
} // namespace sfu::rtp
