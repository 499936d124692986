#include "protocol/recovery/KeyFrameRequestManager.hpp"

#include <gtest/gtest.h>

using namespace sfu::recovery;

TEST(KeyFrameRequest, SendsOnceWhileOutstanding) {
    KeyFrameRequestManager kf;
    EXPECT_FALSE(kf.nextTickMs());
    EXPECT_TRUE(kf.request(0));
    EXPECT_TRUE(kf.outstanding());
    EXPECT_FALSE(kf.request(10));
    EXPECT_FALSE(kf.request(500));
    EXPECT_EQ(kf.counters().sent, 1u);
    EXPECT_EQ(kf.counters().merged, 2u);
    kf.keyFrameReceived(600);
    EXPECT_FALSE(kf.outstanding());
    EXPECT_FALSE(kf.tick(5000));
    // Without a delay a new need is served at once.
    EXPECT_TRUE(kf.request(601));
}

TEST(KeyFrameRequest, RetriesWhenNoKeyFrameArrives) {
    KeyFrameRequestConfig config;
    config.retryTimeoutMs = 1000;
    config.maxRetries = 2;
    KeyFrameRequestManager kf(config);
    ASSERT_TRUE(kf.request(100));
    EXPECT_EQ(kf.nextTickMs(), 1100u);
    EXPECT_FALSE(kf.tick(1099));
    EXPECT_TRUE(kf.tick(1100));
    EXPECT_FALSE(kf.tick(1500));
    EXPECT_TRUE(kf.tick(2100));
    // Retries exhausted: given up, not repeated forever.
    EXPECT_FALSE(kf.tick(3100));
    EXPECT_FALSE(kf.outstanding());
    EXPECT_FALSE(kf.nextTickMs());
    EXPECT_EQ(kf.counters().sent, 3u);
    EXPECT_EQ(kf.counters().retries, 2u);
    EXPECT_EQ(kf.counters().abandoned, 1u);
    // A later need starts a new request.
    EXPECT_TRUE(kf.request(3200));
}

TEST(KeyFrameRequest, KeyFrameStopsRetries) {
    KeyFrameRequestManager kf;
    ASSERT_TRUE(kf.request(0));
    kf.keyFrameReceived(300);
    EXPECT_FALSE(kf.tick(1000));
    EXPECT_FALSE(kf.tick(2000));
    EXPECT_EQ(kf.counters().sent, 1u);
    EXPECT_EQ(kf.counters().keyFrames, 1u);
}

TEST(KeyFrameRequest, DelayDefersButNeverDrops) {
    KeyFrameRequestConfig config;
    config.delayMs = 1000;
    KeyFrameRequestManager kf(config);
    ASSERT_TRUE(kf.request(0));
    kf.keyFrameReceived(200);
    // A new need within the delay of the last request is held back...
    EXPECT_FALSE(kf.request(300));
    EXPECT_TRUE(kf.deferred());
    EXPECT_EQ(kf.nextTickMs(), 1000u);
    EXPECT_FALSE(kf.request(400)); // merged into the deferred one
    EXPECT_FALSE(kf.tick(999));
    // ...and sent when the delay has passed, even after a key frame.
    kf.keyFrameReceived(500);
    EXPECT_TRUE(kf.tick(1000));
    EXPECT_FALSE(kf.deferred());
    EXPECT_TRUE(kf.outstanding());
    EXPECT_EQ(kf.counters().sent, 2u);
    EXPECT_EQ(kf.counters().deferred, 1u);
    EXPECT_EQ(kf.counters().merged, 1u);
    // After the delay, requests go out at once again.
    kf.keyFrameReceived(1100);
    EXPECT_TRUE(kf.request(2000));
}

TEST(KeyFrameRequest, RetryRespectsDelay) {
    KeyFrameRequestConfig config;
    config.retryTimeoutMs = 500;
    config.delayMs = 800;
    KeyFrameRequestManager kf(config);
    ASSERT_TRUE(kf.request(0));
    EXPECT_FALSE(kf.tick(500));
    EXPECT_TRUE(kf.tick(800));
}

TEST(KeyFrameRequest, FirSequenceNumber) {
    KeyFrameRequestConfig config;
    config.maxRetries = 3;
    KeyFrameRequestManager kf(config);
    ASSERT_TRUE(kf.request(0));
    const uint8_t first = kf.firSequenceNumber();
    // Repetitions of the same request keep the number (RFC 5104 4.3.1.1).
    ASSERT_TRUE(kf.tick(1000));
    EXPECT_EQ(kf.firSequenceNumber(), first);
    ASSERT_TRUE(kf.tick(2000));
    EXPECT_EQ(kf.firSequenceNumber(), first);
    kf.keyFrameReceived(2100);
    // A new request takes the next one, modulo 256.
    ASSERT_TRUE(kf.request(2200));
    EXPECT_EQ(kf.firSequenceNumber(), static_cast<uint8_t>(first + 1));
    uint8_t last = kf.firSequenceNumber();
    for (int i = 0; i < 300; ++i) {
        kf.keyFrameReceived(3000);
        ASSERT_TRUE(kf.request(3000));
        EXPECT_EQ(kf.firSequenceNumber(), static_cast<uint8_t>(last + 1));
        last = kf.firSequenceNumber();
    }
}
