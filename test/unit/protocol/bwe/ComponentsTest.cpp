// The estimator's parts, each against its contract.
#include "protocol/bwe/AcknowledgedBitrate.hpp"
#include "protocol/bwe/AimdRateControl.hpp"
#include "protocol/bwe/AlrDetector.hpp"
#include "protocol/bwe/InterArrival.hpp"
#include "protocol/bwe/LossBasedBound.hpp"
#include "protocol/bwe/OveruseDetector.hpp"
#include "protocol/bwe/ProbeBitrateEstimator.hpp"
#include "protocol/bwe/ProbeController.hpp"
#include "protocol/bwe/QueueDelay.hpp"
#include "protocol/bwe/SendHistory.hpp"
#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/bwe/TrendlineEstimator.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

namespace sfu::bwe::test {
namespace {

using rtcp::TransportCcBuilder;

std::vector<uint8_t> feedbackBytes(uint16_t base, int64_t refUs,
                                   const std::vector<std::pair<uint16_t, int64_t>>& received) {
    TransportCcBuilder b(1, 2, base, refUs, 0);
    for (const auto& [seq, at] : received) {
        EXPECT_EQ(b.addReceived(seq, at), TransportCcBuilder::AddResult::Ok);
    }
    std::vector<uint8_t> out(b.size());
    b.serialize(out.data(), out.size());
    return out;
}

rtcp::TransportCcView view(const std::vector<uint8_t>& bytes) {
    const auto pkt = rtcp::PacketView::parse(bytes.data(), bytes.size());
    return *rtcp::TransportCcView::parse(*pkt);
}

TEST(SendHistory, MatchesAcrossTheWrapAndReportsLoss) {
    SendHistory h(64);
    for (uint16_t s = 65530; s != 4; ++s) {
        h.onSent(s, 1000, int64_t{s == 0 ? 70000 : 1000} * 1000);
    }
    EXPECT_EQ(h.lastSeq(), 65539);
    EXPECT_EQ(h.inFlightBytes(), 10 * 1000);
    // 65530..65533 received, 65534..65535 lost, 0..3 received.
    const auto fb = feedbackBytes(65530, 5'000'000,
                                  {{65530, 5'000'000},
                                   {65531, 5'001'000},
                                   {65532, 5'002'000},
                                   {65533, 5'003'000},
                                   {0, 5'010'000},
                                   {3, 5'013'000}});
    const auto r = h.onFeedback(view(fb), 2'000'000);
    ASSERT_EQ(r.size(), 10u);
    EXPECT_EQ(r[0].seq, 65530);
    EXPECT_TRUE(r[0].received);
    EXPECT_FALSE(r[4].received);
    EXPECT_FALSE(r[5].received);
    EXPECT_EQ(r[6].seq, 65536);
    EXPECT_TRUE(r[6].received);
    EXPECT_EQ(r[9].arrivalUs - r[0].arrivalUs, 13'000);
    EXPECT_FALSE(r[7].received); // 1 and 2: gap fillers
    EXPECT_EQ(h.inFlightBytes(), 0);
}

TEST(SendHistory, DuplicatesUnknownExpiredAndLateArrivals) {
    SendHistory h(16, 1'000'000);
    for (uint16_t s = 100; s < 110; ++s) {
        h.onSent(s, 500, 0);
    }
    // 100 received, 101 lost (gap), 102 received.
    const auto a = feedbackBytes(100, 0, {{100, 1000}, {102, 3000}});
    EXPECT_EQ(h.onFeedback(view(a), 100'000).size(), 3u);
    // The same feedback again: all duplicates.
    EXPECT_EQ(h.onFeedback(view(a), 100'000).size(), 0u);
    EXPECT_EQ(h.duplicated(), 3u);
    // 101 arrives late: reported again, received.
    const auto b = feedbackBytes(101, 0, {{101, 4000}});
    const auto r = h.onFeedback(view(b), 100'000);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].received);
    // Ahead of anything sent.
    const auto c = feedbackBytes(110, 0, {{110, 5000}, {111, 6000}});
    EXPECT_EQ(h.onFeedback(view(c), 100'000).size(), 0u);
    EXPECT_EQ(h.unknown(), 2u);
    // Too old.
    const auto d = feedbackBytes(105, 0, {{105, 5000}});
    EXPECT_EQ(h.onFeedback(view(d), 2'000'000).size(), 0u);
    EXPECT_EQ(h.expired(), 1u);
    // Overwritten by the ring.
    for (uint16_t s = 110; s < 130; ++s) {
        h.onSent(s, 500, 2'000'000);
    }
    const auto e = feedbackBytes(106, 0, {{106, 5000}});
    EXPECT_EQ(h.onFeedback(view(e), 2'000'000).size(), 0u);
    EXPECT_EQ(h.expired(), 2u);
}

TEST(SendHistory, ReferenceTimeUnwraps) {
    SendHistory h(64);
    h.onSent(1, 100, 0);
    h.onSent(2, 100, 0);
    // Reference time just below the 24-bit wrap, then just past it.
    const int64_t top = (int64_t{1} << 23) - 1;
    const auto a = feedbackBytes(1, top * 64000, {{1, top * 64000}});
    const auto ra = h.onFeedback(view(a), 0);
    ASSERT_EQ(ra.size(), 1u);
    const int64_t first = ra[0].arrivalUs;
    const auto b = feedbackBytes(2, (top + 1) * 64000, {{2, (top + 1) * 64000}});
    const auto rb = h.onFeedback(view(b), 0);
    ASSERT_EQ(rb.size(), 1u);
    EXPECT_EQ(rb[0].arrivalUs - first, 64000);
}

TEST(InterArrival, GroupsBy5msAndProducesDeltas) {
    InterArrival ia;
    InterArrival::Deltas d;
    // Groups every 10 ms of send time, arriving 12 ms apart (queue building).
    int produced = 0;
    for (int g = 0; g < 5; ++g) {
        for (int p = 0; p < 3; ++p) {
            const int64_t send = g * 10'000 + p * 1000;
            const int64_t arrival = 50'000 + g * 12'000 + p * 1000;
            if (ia.onPacket(send, arrival, 1000, d)) {
                ++produced;
                EXPECT_EQ(d.sendDeltaUs, 10'000);
                EXPECT_EQ(d.arrivalDeltaUs, 12'000);
            }
        }
    }
    EXPECT_EQ(produced, 3); // groups 0-1, 1-2, 2-3 (4 is still open)
    // Reordered: sent before the current group: ignored.
    EXPECT_FALSE(ia.onPacket(1000, 200'000, 1000, d));
}

TEST(Trendline, SlopeOfAGrowingQueue) {
    TrendlineEstimator t;
    for (int i = 0; i < 30; ++i) {
        // Each group arrives 1 ms later than sent: slope 1 ms per 21 ms.
        t.update(20'000, 21'000, i * 21'000);
    }
    EXPECT_GT(t.trend(), 0.03);
    EXPECT_LT(t.trend(), 0.06);
    EXPECT_NEAR(t.modifiedTrend(), 30 * t.trend() * 4, 1e-9);
    TrendlineEstimator flat;
    for (int i = 0; i < 30; ++i) {
        flat.update(20'000, 20'000, i * 20'000);
    }
    EXPECT_NEAR(flat.trend(), 0.0, 1e-9);
}

TEST(OveruseDetector, OveruseNeedsTimeAndUnderuseIsImmediate) {
    OveruseDetector d;
    EXPECT_EQ(d.detect(20, 0.1, 5, 0), BandwidthUsage::Normal); // 2.5 ms so far
    EXPECT_EQ(d.detect(20, 0.1, 5, 5000), BandwidthUsage::Normal);
    EXPECT_EQ(d.detect(20, 0.1, 5, 10'000), BandwidthUsage::Overusing);
    EXPECT_EQ(d.detect(-20, -0.1, 5, 15'000), BandwidthUsage::Underusing);
    EXPECT_EQ(d.detect(0, 0, 5, 20'000), BandwidthUsage::Normal);
    // The threshold falls towards small trends and is bounded.
    for (int i = 0; i < 1000; ++i) {
        d.detect(0, 0, 5, 20'000 + i * 100'000);
    }
    EXPECT_DOUBLE_EQ(d.threshold(), 6.0);
}

TEST(AimdRateControl, DecreaseToBetaTimesAckedAndIncrease) {
    AimdRateControl a;
    a.setBounds(30'000, 10'000'000);
    a.setEstimate(1'000'000, 0);
    EXPECT_EQ(a.update(BandwidthUsage::Overusing, 800'000, 100'000), 680'000);
    EXPECT_EQ(a.state(), AimdRateControl::State::Hold);
    EXPECT_TRUE(a.linkCapacity().has());
    // Normal: increase (additive near the capacity just learnt).
    a.update(BandwidthUsage::Normal, 680'000, 200'000);
    const int64_t r = a.update(BandwidthUsage::Normal, 680'000, 1'200'000);
    EXPECT_GT(r, 680'000);
    EXPECT_LT(r, 720'000); // ~25 kbit/s per second here; 8% would be 734 k
    // Far from any capacity: multiplicative, 8% per second.
    AimdRateControl m;
    m.setEstimate(1'000'000, 0);
    m.update(BandwidthUsage::Normal, 2'000'000, 0);
    EXPECT_EQ(m.update(BandwidthUsage::Normal, 2'000'000, 1'000'000), 1'080'000);
    // Not past 1.5 x acknowledged + 10 k.
    EXPECT_EQ(m.update(BandwidthUsage::Normal, 500'000, 2'000'000), 1'080'000);
    // Bounds.
    m.setBounds(30'000, 900'000);
    EXPECT_EQ(m.estimate(), 900'000);
}

TEST(LossBasedBound, Bands) {
    LossBasedBound l;
    l.setMinBitrate(50'000);
    // 1 s windows of 100 packets.
    EXPECT_TRUE(l.onPackets(0, 100, 1'000'000, 0) || true);
    EXPECT_TRUE(l.onPackets(1, 99, 1'000'000, 1'000'000));
    EXPECT_EQ(l.bound(), kNoBitrate);
    EXPECT_TRUE(l.onPackets(5, 95, 1'000'000, 2'000'000));
    EXPECT_EQ(l.bound(), 1'000'000); // hold
    EXPECT_TRUE(l.onPackets(20, 80, 1'000'000, 3'000'000));
    EXPECT_EQ(l.bound(), 900'000);                        // x (1 - 0.5 x 0.2)
    EXPECT_FALSE(l.onPackets(0, 10, 900'000, 3'500'000)); // window not complete
    EXPECT_TRUE(l.onPackets(0, 100, 900'000, 4'000'000));
    EXPECT_GT(l.bound(), 900'000); // growing again
    EXPECT_LT(l.bound(), 980'000);
}

TEST(AcknowledgedBitrate, ThroughputOfReceived) {
    AcknowledgedBitrate a;
    PacketResult p;
    p.received = true;
    p.size = 1250; // 10 kbit
    for (int i = 0; i < 100; ++i) {
        p.arrivalUs = i * 10'000; // 100 per second: 1 Mbit/s
        a.onPacket(p);
    }
    ASSERT_TRUE(a.bitrate().has_value());
    EXPECT_NEAR(static_cast<double>(*a.bitrate()), 1e6, 3e4);
}

// 1,250-byte packets sent `sendGapUs` apart for a second, arriving 10 ms
// apart (1 Mbit/s) after a 2 Mbit/s start.
AcknowledgedBitrate deliveredAt1Mbps(int64_t sendGapUs) {
    AcknowledgedBitrate a;
    PacketResult p;
    p.received = true;
    p.size = 1250;
    for (int i = 0; i < 100; ++i) {
        p.sendUs = i * sendGapUs;
        p.arrivalUs = 1'000'000 + i * 10'000;
        a.onPacket(p);
    }
    return a;
}

// Sent twice as fast as they arrive: a queue spreads them, and the arrival
// rate is the link's.
TEST(AcknowledgedBitrate, BackloggedRateIsTheArrivalRateOfAQueue) {
    const auto rate = deliveredAt1Mbps(5'000).backloggedBitrate();
    ASSERT_TRUE(rate.has_value());
    EXPECT_NEAR(static_cast<double>(*rate), 1e6, 3e4);
}

// The same queue under a receiver that read the four packets arriving at
// 1,840-1,870 ms at once, stamping them all 1,870 ms, now at the start of
// the 150 ms window (the newest arrived at 1,990 ms). They arrived by then:
// counted, they would make the rate over the window 1.25 Mbit/s.
TEST(AcknowledgedBitrate, ABurstReadLateAtTheWindowsStartDoesNotCount) {
    AcknowledgedBitrate a;
    PacketResult p;
    p.received = true;
    p.size = 1250;
    for (int i = 0; i < 100; ++i) {
        p.sendUs = i * 5'000;
        p.arrivalUs = 1'000'000 + i * 10'000;
        if (p.arrivalUs >= 1'840'000 && p.arrivalUs <= 1'870'000) {
            p.arrivalUs = 1'870'000;
        }
        a.onPacket(p);
    }
    const auto rate = a.backloggedBitrate();
    ASSERT_TRUE(rate.has_value());
    EXPECT_NEAR(static_cast<double>(*rate), 1e6, 3e4);
}

// A 1 Mbit/s link whose path takes 20 ms with nothing queued (the receiver's
// clock 5 s ahead), packets of 1250 bytes (10 ms on the link). Sent one
// every 5 ms, they keep a packet waiting throughout. Sent as frames every
// 40 ms of 1, 1 and 6 packets (temporal layers, 0.67 Mbit/s), the last
// frame's packets queue behind its first, so the window looks backlogged
// (at 0.73 Mbit/s, over the gaps) while the link idled between frames.
TEST(AcknowledgedBitrate, FramesOnAnIdleLinkDoNotKeepItBusy) {
    constexpr int64_t kBaseUs = 5'020'000;
    constexpr int64_t kOnLinkUs = 10'000;
    const auto through = [](int64_t everyUs, const std::vector<int>& frames, int packets) {
        AcknowledgedBitrate a;
        PacketResult p;
        p.received = true;
        p.size = 1250;
        int64_t linkFreeUs = 0;
        for (int i = 0, frame = 0; i < packets; ++frame) {
            p.sendUs = frame * everyUs;
            for (int k = 0; k < frames[frame % frames.size()] && i < packets; ++k, ++i) {
                linkFreeUs = std::max(linkFreeUs, p.sendUs) + kOnLinkUs;
                p.arrivalUs = kBaseUs + linkFreeUs;
                a.onPacket(p);
            }
        }
        return a;
    };
    const AcknowledgedBitrate queued = through(5'000, {1}, 60);
    EXPECT_TRUE(queued.backloggedBitrate().has_value());
    EXPECT_TRUE(queued.keptBusy(kBaseUs + kOnLinkUs));
    const AcknowledgedBitrate frames = through(40'000, {1, 1, 6}, 48);
    const auto rate = frames.backloggedBitrate();
    ASSERT_TRUE(rate.has_value());
    EXPECT_NEAR(static_cast<double>(*rate), 733'333, 1'000);
    EXPECT_FALSE(frames.keptBusy(kBaseUs + kOnLinkUs));
    EXPECT_FALSE(AcknowledgedBitrate().keptBusy(kBaseUs));
}

// Sent at the rate they arrive (or slower): the sender set that rate, and it
// says nothing of what the link could carry.
TEST(AcknowledgedBitrate, NoBackloggedRateWhenTheSenderSetTheRate) {
    EXPECT_FALSE(deliveredAt1Mbps(10'000).backloggedBitrate().has_value());
    EXPECT_FALSE(deliveredAt1Mbps(20'000).backloggedBitrate().has_value());
    EXPECT_FALSE(AcknowledgedBitrate().backloggedBitrate().has_value());
}

// The receiver's clock runs 5 s ahead and the path takes 20 ms: a packet
// that waited 150 ms more than the quickest one shows 150 ms of queueing;
// then the queue drains. Only received packets count, and the newest sent.
// The quickest's offset, 5.02 s, is the base.
TEST(QueueDelay, DelayOverTheQuickestPacket) {
    QueueDelay q;
    EXPECT_EQ(q.delayMs(), 0);
    PacketResult p;
    p.received = true;
    const auto packet = [&](int64_t sendUs, int64_t waitUs) {
        p.sendUs = sendUs;
        p.arrivalUs = 5'000'000 + sendUs + 20'000 + waitUs;
        q.onPacket(p);
    };
    packet(0, 0);
    packet(10'000, 150'000);
    EXPECT_EQ(q.delayMs(), 150);
    packet(5'000, 0); // older: reported late, changes nothing
    EXPECT_EQ(q.delayMs(), 150);
    p.received = false;
    packet(20'000, 400'000);
    EXPECT_EQ(q.delayMs(), 150);
    p.received = true;
    packet(30'000, 2'000);
    EXPECT_EQ(q.delayMs(), 2);
    EXPECT_EQ(q.baseOffsetUs(), 5'020'000);
}

// The quickest packet is forgotten after two windows: the clocks' drift
// (here 1 ms a window) does not add up to a queue.
TEST(QueueDelay, TheQuickestPacketAgesOut) {
    QueueDelay q;
    PacketResult p;
    p.received = true;
    for (int64_t w = 0; w < 5; ++w) {
        p.sendUs = w * QueueDelay::kWindowUs;
        p.arrivalUs = p.sendUs + 20'000 + w * 1'000;
        q.onPacket(p);
    }
    EXPECT_EQ(q.delayMs(), 1);
}

// Six 1,000-byte packets of probe cluster 1 (registered for 5), sent
// `sendGapUs` apart and arriving from `firstArrivalUs` `arrivalGapUs` apart;
// returns the last result the estimator gave.
std::optional<int64_t> probeCluster(ProbeBitrateEstimator& e, int64_t sendGapUs,
                                    int64_t firstArrivalUs, int64_t arrivalGapUs) {
    e.onClusterStarted(1, 5, 0, 0);
    std::optional<int64_t> last;
    for (int i = 0; i < 6; ++i) {
        PacketResult p;
        p.received = true;
        p.probeClusterId = 1;
        p.size = 1000;
        p.sendUs = i * sendGapUs;
        p.arrivalUs = firstArrivalUs + i * arrivalGapUs;
        if (auto r = e.onPacket(p, 0)) {
            last = r;
        }
    }
    return last;
}

TEST(ProbeBitrateEstimator, SaturatedLinkGivesReceiveRate) {
    ProbeBitrateEstimator e;
    // Sent at 4 Mbit/s, arriving at 2.
    const auto last = probeCluster(e, 2000, 0, 4000);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(*last, 1'900'000); // 0.95 x receive rate
    EXPECT_TRUE(e.lastSaturated());
    EXPECT_FALSE(e.lastCarriedWhole());
    EXPECT_EQ(e.takeEstimate(), last);
    EXPECT_FALSE(e.takeEstimate().has_value());
}

TEST(ProbeBitrateEstimator, CarriedWholeGivesSendRate) {
    ProbeBitrateEstimator e;
    probeCluster(e, 2000, 50'000, 2000); // 4 Mbit/s, and so it arrives
    EXPECT_EQ(e.takeEstimate(), 4'000'000);
    EXPECT_FALSE(e.lastSaturated());
    EXPECT_TRUE(e.lastCarriedWhole());
}

// Arrivals closer together than the sends: the receiver read them late, so
// the result (the send rate) is given but not taken as carried whole; at
// over twice the send rate they say nothing at all.
TEST(ProbeBitrateEstimator, BunchedArrivalsAreNotCarriedWhole) {
    ProbeBitrateEstimator e;
    probeCluster(e, 8000, 50'000, 5000); // sent at 1 Mbit/s, arriving at 1.6
    EXPECT_EQ(e.takeEstimate(), 1'000'000);
    EXPECT_FALSE(e.lastSaturated());
    EXPECT_FALSE(e.lastCarriedWhole());
    ProbeBitrateEstimator bunched;
    probeCluster(bunched, 8000, 50'000, 3900); // arriving at just over 2 Mbit/s
    EXPECT_FALSE(bunched.takeEstimate().has_value());
}

// A link that carries a fifth of what was sent: its receive rate is the
// capacity, however far below the send rate.
TEST(ProbeBitrateEstimator, FarSaturatedLinkStillGivesReceiveRate) {
    ProbeBitrateEstimator e;
    probeCluster(e, 2000, 0, 10'000); // sent at 4 Mbit/s, arriving at 800 kbit/s
    EXPECT_EQ(e.takeEstimate(), 760'000);
    EXPECT_TRUE(e.lastSaturated());
}

// Ten packets of 1,000 bytes sent at 4 Mbit/s into an 800 kbit/s link,
// the first three read late by the receiver and stamped with the third's
// arrival time: they arrived by then, and the other seven over 70 ms give
// the link's rate. Counting two of the three would read 1.03 Mbit/s.
TEST(ProbeBitrateEstimator, ABurstReadLateAtTheStartDoesNotCount) {
    ProbeBitrateEstimator e;
    e.onClusterStarted(1, 5, 0, 0);
    for (int i = 0; i < 10; ++i) {
        PacketResult p;
        p.received = true;
        p.probeClusterId = 1;
        p.size = 1000;
        p.sendUs = i * 2'000;
        p.arrivalUs = std::max(i, 2) * 10'000;
        e.onPacket(p, 0);
    }
    EXPECT_EQ(e.takeEstimate(), 760'000);
    EXPECT_TRUE(e.lastSaturated());
    EXPECT_EQ(e.lastClusterId(), 1);
}

TEST(AlrDetector, StartsWhenSendingWellBelow) {
    AlrDetector a;
    a.setEstimate(1'000'000);
    for (int64_t t = 0; t < 2'000'000; t += 10'000) {
        a.onSent(125, t); // 100 kbit/s
    }
    EXPECT_TRUE(a.inAlr());
    for (int64_t t = 2'000'000; t < 3'000'000; t += 10'000) {
        a.onSent(1250, t); // 1 Mbit/s
    }
    EXPECT_FALSE(a.inAlr());
    EXPECT_TRUE(a.alrEndUs().has_value());
}

TEST(ProbeController, StartExponentialAndPeriodic) {
    ProbeController c;
    c.setMaxBitrate(5'000'000, 0, 0);
    c.setDesiredBitrate(4'000'000);
    c.start(300'000, 0);
    EXPECT_EQ(c.takeRequest()->bitrateBps, 900'000);
    EXPECT_EQ(c.takeRequest()->bitrateBps, 1'800'000);
    EXPECT_FALSE(c.takeRequest().has_value());
    c.onEstimate(1'000'000, 100'000); // below 70% of 1.8 M: no further probe
    EXPECT_FALSE(c.takeRequest().has_value());
    c.onEstimate(1'700'000, 200'000);
    EXPECT_EQ(c.takeRequest()->bitrateBps, 3'400'000);
    c.process(1'700'000, false, false, 1'500'000); // waiting ends
    EXPECT_FALSE(c.takeRequest().has_value());
    c.process(1'700'000, false, true, 6'000'000); // at capacity: no probe
    EXPECT_FALSE(c.takeRequest().has_value());
    c.process(1'700'000, false, false, 6'000'000);
    EXPECT_EQ(c.takeRequest()->bitrateBps, 3'400'000);
}

TEST(SendSideBandwidthEstimator, BoundsStartRembAndTrace) {
    SendSideBandwidthEstimator::Config config;
    config.startBps = 500'000;
    SendSideBandwidthEstimator e(config);
    EXPECT_EQ(e.targetBitrate(), 500'000);
    e.setBounds(100'000, 400'000, 0);
    EXPECT_EQ(e.targetBitrate(), 400'000);
    e.setBounds(600'000, 2'000'000, 0);
    EXPECT_EQ(e.targetBitrate(), 600'000);
    e.setBounds(100'000, 2'000'000, 0);
    e.onRemb(250'000, 0);
    EXPECT_EQ(e.targetBitrate(), 250'000);
    e.setDesiredBitrate(1'000'000, 10);
    BweTrace t;
    int n = 0;
    while (e.popTrace(t)) {
        ++n;
    }
    EXPECT_GE(n, 4);
    EXPECT_EQ(t.availableBitrate, 250'000);
    EXPECT_EQ(t.desiredBitrate, 1'000'000);
    EXPECT_EQ(t.rembBitrate, 250'000);
    EXPECT_EQ(t.maxBitrate, 2'000'000);
    EXPECT_FALSE(t.transportCc);
}

// What the link has validated: nothing until loss (or overuse) shows what
// it carries, then the acknowledged bitrate; a probe that saturated the link
// does not raise it (its result rests on arrival times alone, which a
// receiver reading late bunches), one the link carried whole does. The
// allocatable bitrate is the target within it.
// A cluster asked for 5 s into a transport's life is judged on its full
// size (at least 80% of its 7,200 bytes), not forgotten as stale and
// judged on 5 packets: 4 packets of 500 bytes give no result.
TEST(SendSideBandwidthEstimator, ProbeClustersAreRegisteredWhenAskedFor) {
    SendSideBandwidthEstimator e;
    e.onPacketSent(0, 1000, 5'000);
    const auto request = e.takeProbeRequest(5'000);
    ASSERT_TRUE(request.has_value());
    std::vector<PacketResult> results;
    for (uint16_t i = 0; i < 4; ++i) {
        e.onPacketSent(static_cast<uint16_t>(1 + i), 500, 5'001 + i, request->id,
                       PacketKind::Padding);
        PacketResult p;
        p.seq = 1 + i;
        p.sendUs = (5'001 + i) * 1000;
        p.arrivalUs = p.sendUs + 20'000 + i * 2'000;
        p.size = 500;
        p.probeClusterId = request->id;
        p.received = true;
        results.push_back(p);
    }
    e.onPacketResults(results, 5'100);
    EXPECT_EQ(e.stats().probeResults, 0u);
}

TEST(SendSideBandwidthEstimator, ValidatedBitrate) {
    SendSideBandwidthEstimator::Config config;
    config.startBps = 1'000'000;
    config.probing = false;
    SendSideBandwidthEstimator e(config);
    int64_t seq = 0;
    int64_t nowUs = 0;
    // `n` packets of 1,000 bytes sent 10 ms apart (800 kbit/s), every
    // `lossEvery`-th lost, each arriving 20 ms after it was sent.
    const auto feed = [&](int n, int lossEvery) {
        std::vector<PacketResult> results;
        for (int i = 0; i < n; ++i, ++seq, nowUs += 10'000) {
            PacketResult p;
            p.seq = seq;
            p.sendUs = nowUs;
            p.arrivalUs = nowUs + 20'000;
            p.size = 1000;
            p.received = lossEvery == 0 || seq % lossEvery != 0;
            results.push_back(p);
        }
        e.onPacketResults(results, nowUs / 1000);
    };
    // `n` probe packets of cluster `id` sent 2 ms apart (4 Mbit/s), arriving
    // `arrivalGapUs` apart.
    const auto probe = [&](int32_t id, int n, int64_t arrivalGapUs) {
        std::vector<PacketResult> results;
        for (int i = 0; i < n; ++i, ++seq) {
            PacketResult p;
            p.seq = seq;
            p.sendUs = nowUs + i * 2000;
            p.arrivalUs = nowUs + 20'000 + i * arrivalGapUs;
            p.size = 1000;
            p.probeClusterId = id;
            p.received = true;
            results.push_back(p);
        }
        nowUs += n * arrivalGapUs + 20'000;
        e.onPacketResults(results, nowUs / 1000);
    };
    for (int i = 0; i < 20; ++i) {
        feed(10, 0);
    }
    EXPECT_EQ(e.validatedBitrate(), kNoBitrate);
    EXPECT_EQ(e.allocatableBitrate(), e.targetBitrate());
    // A quarter lost: the loss-based bound cuts, and validates what arrived.
    for (int i = 0; i < 10; ++i) {
        feed(10, 4);
    }
    const int64_t validated = e.validatedBitrate();
    ASSERT_NE(validated, kNoBitrate);
    EXPECT_GT(validated, 400'000);
    EXPECT_LT(validated, 900'000);
    // Saturated (sent at 4 Mbit/s, arrived at 2): the target may follow it,
    // the validated bitrate does not.
    probe(1, 8, 4000);
    EXPECT_EQ(e.validatedBitrate(), validated);
    EXPECT_LE(e.allocatableBitrate(), validated);
    // Carried whole at 4 Mbit/s: validated.
    probe(2, 8, 2000);
    EXPECT_GE(e.validatedBitrate(), 3'500'000);
}

} // namespace
} // namespace sfu::bwe::test
