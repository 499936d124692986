#include "rtc/TransportCcFeedback.hpp"

#include "protocol/rtcp/Compound.hpp"

#include <gtest/gtest.h>
#include <map>
#include <vector>

using namespace sfu;
using sfu::rtc::TransportCcFeedback;

namespace {

constexpr uint32_t kSenderSsrc = 0x01020304;
constexpr uint32_t kMediaSsrc = 0x0A0B0C0D;

// Every feedback packet one flush produced, parsed back: the status of each
// sequence number it covers (arrival time relative to the first received
// packet of that feedback, or -1 when reported lost), and the fb counts.
struct Flushed {
    std::vector<std::map<uint16_t, int64_t>> packets;
    std::vector<uint8_t> fbCounts;
};

Flushed flush(TransportCcFeedback& feedback) {
    Flushed out;
    feedback.flush(kSenderSsrc, [&](const uint8_t* data, size_t size) {
        const rtcp::CompoundView compound(data, size);
        EXPECT_TRUE(compound.valid());
        const auto view = rtcp::TransportCcView::parse(*compound.begin());
        EXPECT_TRUE(view);
        if (!view) {
            return;
        }
        EXPECT_EQ(view->senderSsrc(), kSenderSsrc);
        EXPECT_EQ(view->mediaSsrc(), kMediaSsrc);
        out.fbCounts.push_back(view->fbCount());
        std::map<uint16_t, int64_t> statuses;
        int64_t origin = -1;
        for (const rtcp::TccPacket packet : *view) {
            if (packet.received() && origin < 0) {
                origin = packet.arrivalUs;
            }
            statuses[packet.seq] = packet.received() ? packet.arrivalUs - origin : -1;
        }
        out.packets.push_back(std::move(statuses));
    });
    return out;
}

} // namespace

TEST(TransportCcFeedback, ReportsArrivalsInOrderAcrossTheWrap) {
    TransportCcFeedback feedback;
    // 65534, 65535, 0, (1 lost), 2, arriving 1 ms apart, with 0 and 65535
    // swapped on the wire.
    feedback.onPacket(65534, 1'000'000, kMediaSsrc);
    feedback.onPacket(0, 1'002'000, kMediaSsrc);
    feedback.onPacket(65535, 1'001'000, kMediaSsrc);
    feedback.onPacket(2, 1'004'000, kMediaSsrc);
    const Flushed first = flush(feedback);
    ASSERT_EQ(first.packets.size(), 1u);
    const std::map<uint16_t, int64_t> expected{
        {65534, 0}, {65535, 1000}, {0, 2000}, {1, -1}, {2, 4000}};
    EXPECT_EQ(first.packets[0], expected);
    EXPECT_EQ(feedback.feedbackPackets(), 1u);

    // Nothing new: nothing sent.
    EXPECT_TRUE(flush(feedback).packets.empty());

    // The next batch starts after what was covered; the late arrival of 1
    // (already reported lost) and a duplicate of 2 are left out.
    feedback.onPacket(1, 1'010'000, kMediaSsrc);
    feedback.onPacket(2, 1'010'500, kMediaSsrc);
    feedback.onPacket(3, 1'011'000, kMediaSsrc);
    const Flushed second = flush(feedback);
    ASSERT_EQ(second.packets.size(), 1u);
    EXPECT_EQ(second.packets[0], (std::map<uint16_t, int64_t>{{3, 0}}));
    EXPECT_EQ(second.fbCounts[0], static_cast<uint8_t>(first.fbCounts[0] + 1));
    EXPECT_EQ(feedback.arrivalsDropped(), 2u);
}

TEST(TransportCcFeedback, SplitsWhatOnePacketCannotHold) {
    TransportCcFeedback feedback;
    // A 9 s silence between two arrivals is beyond a delta's reach; 1000
    // arrivals with large, varying deltas exceed one packet's size.
    feedback.onPacket(10, 0, kMediaSsrc);
    feedback.onPacket(11, 9'000'000, kMediaSsrc);
    for (uint16_t i = 0; i < 1000; ++i) {
        feedback.onPacket(static_cast<uint16_t>(12 + i * 2), 9'000'000 + i * 70'000 + (i % 3) * 9,
                          kMediaSsrc);
    }
    const Flushed out = flush(feedback);
    ASSERT_GE(out.packets.size(), 3u);
    size_t received = 0;
    uint16_t expectedNext = 10;
    for (size_t i = 0; i < out.packets.size(); ++i) {
        // Consecutive packets cover consecutive sequence numbers.
        EXPECT_EQ(out.packets[i].begin()->first, expectedNext) << i;
        for (const auto& [seq, at] : out.packets[i]) {
            received += at >= 0 ? 1 : 0;
            expectedNext = static_cast<uint16_t>(seq + 1);
        }
        if (i > 0) {
            EXPECT_EQ(out.fbCounts[i], static_cast<uint8_t>(out.fbCounts[i - 1] + 1));
        }
    }
    EXPECT_EQ(received, 1002u);
    EXPECT_EQ(feedback.arrivalsDropped(), 0u);
}

TEST(TransportCcFeedback, ABatchOverflowIsCountedNotStored) {
    TransportCcFeedback feedback;
    for (size_t i = 0; i < TransportCcFeedback::kMaxPending + 10; ++i) {
        feedback.onPacket(static_cast<uint16_t>(i), static_cast<int64_t>(i) * 100, kMediaSsrc);
    }
    EXPECT_EQ(feedback.arrivalsDropped(), 10u);
    size_t received = 0;
    for (const auto& packet : flush(feedback).packets) {
        for (const auto& [seq, at] : packet) {
            received += at >= 0 ? 1 : 0;
        }
    }
    EXPECT_EQ(received, TransportCcFeedback::kMaxPending);
}
