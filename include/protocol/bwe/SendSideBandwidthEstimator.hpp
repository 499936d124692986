// The sender-side bandwidth estimator (draft-ietf-rmcat-gcc with
// draft-holmer-rmcat-transport-wide-cc-extensions feedback): the parts in
// this directory put together.
//
// Contract:
//  - Inputs: every packet sent with a transport-wide sequence number
//    (onPacketSent, tagged with its probe cluster when it belongs to one),
//    every transport-wide feedback received (onTransportCcFeedback), REMB
//    values (onRemb), receiver-report loss for endpoints without
//    transport-wide feedback (onLossReport), bounds, start and desired
//    bitrates, and process() now and then (every 25 to 100 ms) for the timers.
//  - Feedback goes through the send history (matching), the acknowledged
//    bitrate, the probe estimator, and, sorted by arrival time, the packet
//    groups, trendline and overuse detector; the AIMD controller then moves
//    the delay-based estimate (a probe result above it replaces it unless
//    overusing; a decrease only once per RTT, from the delivered bitrate:
//    the backlogged one when known (what arrived in the last 150 ms, when it
//    was sent faster than it arrived: a building queue delivers at the
//    bottleneck's rate), else the acknowledged one; at an overuse's start
//    never less than the receive rate of a probe that
//    saturated the link in the last kSaturatedProbeUs: a probe that fills
//    the queue while the media sends less than the link carries has just
//    measured the bottleneck). A decrease goes to 0.85 x that. Within one
//    overuse, a further decrease needs a queue still building
//    (the backlogged bitrate known) that kept the link busy through the
//    backlogged window (AcknowledgedBitrate::keptBusy()): otherwise the
//    queue drains already, and less acknowledged is the sender sending
//    less, not a thinner link (the loss-based bound still answers a queue
//    that overflows). Frames sent in bursts, or a probe's burst between an
//    application-limited sender's frames, each queue behind their first
//    packet and pass the backlogged test while the link idles between
//    them: their rate, over the gaps, is below the link's.
//  - The loss-based bound takes the loss of the packets sent since the
//    last decrease (its window restarts there): what a queue lost before
//    it is what that decrease answered.
//  - targetBitrate() = min(delay-based estimate, loss-based bound, REMB,
//    maximum), at least the minimum. Before any transport-wide feedback the
//    delay-based estimate is the start bitrate; an endpoint that only sends
//    REMB therefore gets min(REMB, loss bound, max).
//  - Feedback that stops while packets are in flight (the endpoint's link
//    went dark, or its feedback is lost on the way): once none came for
//    kFeedbackTimeoutUs, the delay-based estimate is cut by
//    kFeedbackTimeoutFactor, and again every kFeedbackTimeoutCutUs until
//    feedback returns (counted in Stats::feedbackTimeouts).
//  - The validated bitrate, what the link has shown it carries: none (no
//    bound) until the delay-based detector first finds overuse or loss
//    first cuts the loss-based bound; then the delivered bitrate at an
//    overuse (not above the higher of the bitrate validated before and the
//    acknowledged one: a rate over 150 ms is no proof of more, as a
//    receiver's late reads shorten its span; and never a saturated probe's
//    receive rate, which bounds the decrease alone; left as it is at an
//    overuse within kSaturatedProbeUs of a saturated probe's result with
//    no queue building at the media's rate: that is the probe's queue, and
//    what is acknowledged then is the media, not the link), lowered to the
//    backlogged one at each further decrease while a queue builds, and the
//    acknowledged one at a loss cut (a bitrate validated
//    before kept down to the new bound, not below), raised by the result
//    of a probe the link carried whole (not saturated), by the smaller
//    result of two saturated probes in a row (within kSaturatedPairUs)
//    that agree within kSaturatedAgreement (one alone may have been read
//    late), and by an
//    acknowledged bitrate above it whose window (and an RTT) holds nothing
//    from before that overuse or cut. allocatableBitrate() is the target
//    within it: what consumers may be given. The target itself may grow
//    past it while the media sends less than the link could carry (the
//    AIMD increase allows 1.5x the acknowledged bitrate), and giving that
//    to a layer would send into a queue, until a probe validates it.
//  - RTT: setRtt() (from RTCP) when known, else the time between sending the
//    newest packet a feedback reports and receiving that feedback, smoothed.
//  - Probing: the first packet sent starts the probe controller; requests
//    are taken with takeProbeRequest(now) and the caller sends each as a
//    cluster (at its rate, at least its packets and bytes) tagged with its
//    id.
//  - Trace: every change of the target by 1% or more, and every change of the
//    bounds or desired bitrate, queues a BweTrace (a fixed ring of
//    kTraceCapacity, the oldest dropped); popTrace() takes them in order.
//  - Nothing is allocated after construction.
#pragma once

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
#include "protocol/bwe/TrendlineEstimator.hpp"
#include "protocol/bwe/Types.hpp"
#include "protocol/rtcp/TransportCc.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sfu::bwe {

// One state of the estimate, for the transport's "bwe" trace events.
struct BweTrace {
    int64_t timeMs = 0;
    int64_t availableBitrate = 0; // the target
    int64_t desiredBitrate = 0;
    int64_t effectiveDesiredBitrate = 0; // desired within [min, max]
    int64_t allocatableBitrate = 0;      // the target within the validated
    int64_t minBitrate = 0;
    int64_t maxBitrate = 0;
    int64_t startBitrate = 0;
    int64_t delayBasedBitrate = 0;
    int64_t lossBasedBound = kNoBitrate; // kNoBitrate: none
    int64_t rembBitrate = kNoBitrate;    // kNoBitrate: none received
    int64_t ackedBitrate = 0;            // 0: not known yet
    double lossFraction = 0;
    BandwidthUsage usage = BandwidthUsage::Normal;
    bool inAlr = false;
    bool transportCc = false; // false while driven by REMB alone
};

class SendSideBandwidthEstimator {
public:
    static constexpr int64_t kDefaultStartBps = 600'000;
    static constexpr int64_t kDefaultMinBps = 30'000;
    static constexpr int64_t kDefaultMaxBps = 100'000'000;
    static constexpr size_t kTraceCapacity = 32;
    static constexpr int64_t kFeedbackTimeoutUs = 1'000'000;
    static constexpr int64_t kFeedbackTimeoutCutUs = 500'000;
    static constexpr double kFeedbackTimeoutFactor = 0.8;
    static constexpr int64_t kSaturatedProbeUs = 1'000'000;
    // Two saturated probes within this time whose results differ by at most
    // kSaturatedAgreement of the larger validate the smaller.
    static constexpr int64_t kSaturatedPairUs = 15'000'000;
    static constexpr double kSaturatedAgreement = 0.2;

    struct Config {
        int64_t startBps = kDefaultStartBps;
        int64_t minBps = kDefaultMinBps;
        int64_t maxBps = kDefaultMaxBps;
        size_t historyCapacity = SendHistory::kDefaultCapacity;
        bool probing = true;
    };

    struct Stats {
        uint64_t feedbacks = 0;
        uint64_t packetsReceived = 0;
        uint64_t packetsLost = 0;
        uint64_t unknown = 0;
        uint64_t expired = 0;
        uint64_t duplicated = 0;
        uint64_t overuses = 0;
        uint64_t probeResults = 0;
        uint64_t feedbackTimeouts = 0;
    };

    SendSideBandwidthEstimator() : SendSideBandwidthEstimator(Config{}) {}
    explicit SendSideBandwidthEstimator(const Config& config);

    // Bounds of the estimate. `maxBps` 0 or less means the default maximum.
    void setBounds(int64_t minBps, int64_t maxBps, int64_t nowMs);
    // Meaningful before the first packet; afterwards it resets the estimate.
    void setStartBitrate(int64_t bps, int64_t nowMs);
    // What the consumers would send if they could; probing goes after it.
    void setDesiredBitrate(int64_t bps, int64_t nowMs);
    // RTT known from RTCP; 0 returns to the feedback-based one.
    void setRtt(int64_t rttMs);

    void onPacketSent(uint16_t seq, uint32_t size, int64_t nowMs,
                      int32_t probeClusterId = kNoProbeCluster,
                      PacketKind kind = PacketKind::Media);
    void onTransportCcFeedback(const rtcp::TransportCcView& feedback, int64_t nowMs);
    // The same for results matched elsewhere (tests, tools).
    void onPacketResults(std::span<const PacketResult> results, int64_t nowMs);
    void onRemb(int64_t bps, int64_t nowMs);
    void onLossReport(uint32_t lost, uint32_t expected, int64_t nowMs);
    void process(int64_t nowMs);

    int64_t targetBitrate() const { return target_; }
    int64_t validatedBitrate() const { return validatedBps_; }
    int64_t allocatableBitrate() const;
    int64_t delayBasedBitrate() const { return aimd_.estimate(); }
    int64_t lossBasedBound() const { return loss_.bound(); }
    std::optional<int64_t> ackedBitrate() const { return acked_.bitrate(); }
    BandwidthUsage usage() const { return usage_; }
    bool inAlr() const { return alr_.inAlr(); }
    int64_t rttMs() const { return rttUs_ / 1000; }
    int64_t inFlightBytes() const { return history_.inFlightBytes(); }
    // How long the packet last sent among those reported received waited in
    // queues on the way (QueueDelay).
    int64_t queueDelayMs() const { return queueDelay_.delayMs(); }
    double lossFraction() const { return loss_.lossFraction(); }
    const Stats& stats() const;

    std::optional<ProbeRequest> takeProbeRequest(int64_t nowMs);
    bool popTrace(BweTrace& out);
    BweTrace snapshot(int64_t nowMs) const;

    // The parts, for inspection.
    const TrendlineEstimator& trendline() const { return trendline_; }
    const OveruseDetector& detector() const { return detector_; }
    const AimdRateControl& aimd() const { return aimd_; }

private:
    void updateTarget(int64_t nowUs, bool force);
    // The cut of a feedback time-out, when one is due.
    void checkFeedbackTimeout(int64_t nowUs);
    void pushTrace(int64_t nowUs);
    int64_t effectiveRttUs() const { return externalRttUs_ > 0 ? externalRttUs_ : rttUs_; }

    Config config_;
    int64_t minBps_;
    int64_t maxBps_;
    int64_t startBps_;
    int64_t desiredBps_ = 0;
    int64_t rembBps_ = kNoBitrate;
    int64_t target_;
    int64_t lastTracedBps_ = 0;
    bool started_ = false;
    bool haveTcc_ = false;
    bool haveRtt_ = false;
    int64_t validatedBps_ = kNoBitrate;
    int64_t validatedCutUs_ = 0; // when it was last set at an overuse or loss cut
    // The receive rate of the latest probe that saturated the link, and when.
    int64_t saturatedProbeBps_ = kNoBitrate;
    int64_t saturatedProbeUs_ = 0;
    // The results of the last two clusters that saturated the link (the
    // latest cluster's updated as more of it is reported; it came at
    // saturatedProbeUs_), and when the earlier one came.
    int32_t saturatedCluster_ = kNoProbeCluster;
    int64_t saturatedResultBps_ = kNoBitrate;
    int64_t earlierSaturatedBps_ = kNoBitrate;
    int64_t earlierSaturatedUs_ = 0;
    // Packets sent before this (the last delay-based decrease) do not count
    // towards the loss-based bound.
    int64_t lossFromUs_ = 0;
    int64_t lastFeedbackUs_ = 0;
    int64_t lastTimeoutCutUs_ = 0;
    int64_t rttUs_ = AimdRateControl::kDefaultRttUs;
    int64_t externalRttUs_ = 0;
    BandwidthUsage usage_ = BandwidthUsage::Normal;

    SendHistory history_;
    AcknowledgedBitrate acked_;
    QueueDelay queueDelay_;
    InterArrival interArrival_;
    TrendlineEstimator trendline_;
    OveruseDetector detector_;
    AimdRateControl aimd_;
    LossBasedBound loss_;
    AlrDetector alr_;
    ProbeController probes_;
    ProbeBitrateEstimator probeEstimator_;
    std::vector<PacketResult> sorted_;

    std::array<BweTrace, kTraceCapacity> traces_{};
    size_t traceHead_ = 0;
    size_t traceCount_ = 0;
    mutable Stats stats_;
};

} // namespace sfu::bwe
