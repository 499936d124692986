// A transport's estimate of the bandwidth towards its endpoint, for what its
// consumers send: the sender-side estimator (bwe::SendSideBandwidthEstimator)
// and what the transport feeds it.
//
// Contract:
//  - The transport creates one with its first consumer that negotiated the
//    transport-wide-cc-01 header extension (type TransportCc) or, failing
//    that, abs-send-time with goog-remb feedback (type Remb), and keeps it
//    while the transport lives.
//  - stamp(): every packet sent to the endpoint with a non-zero
//    transport-wide-cc id gets the next number of the transport's one
//    counter in that extension (added when the packet lacks it; a packet
//    without room for it goes out unnumbered and unrecorded) and is recorded
//    with its size and send time. abs-send-time, when negotiated, is
//    rewritten to the send time.
//  - The endpoint's transport-wide feedback, REMB, receiver-report loss (per
//    SSRC, from the cumulative counters of consecutive report blocks) and
//    round trip feed the estimator; process() runs its timers.
//  - Bounds: the start bitrate (initialAvailableOutgoingBitrate), a minimum
//    and a maximum (0: none). The desired bitrate is what the consumers send,
//    or what they would send at the layers they prefer when that is more,
//    with kDesiredHeadroom on top, updated when it moves by 10% or more;
//    probing looks for it when the estimate is below.
//  - Probing (type TransportCc only): each probe request becomes a cluster
//    of probation packets (SSRC kProbationSsrc, payload type
//    kProbationPayloadType, as mediasoup-client's "probator" receiver
//    expects) of the request's bytes (ProbeRequest::minBytes()), in as few
//    packets as the request's minimum packets allows, each at most
//    kMaxProbePacketSize (padding-only when that is enough), paced by
//    nextProbePacket() over the request's duration or the time those bytes
//    take at its rate, whichever is longer; at most kMaxProbePackets per
//    cluster. Media sent between a cluster's first and last packet is
//    recorded as part of it: it shares the link with the probe.
//  - takeTrace() gives the latest state for a "bwe" trace event when it
//    changed, at most every kTraceIntervalMs.
//  - Nothing is allocated after construction.
#pragma once

#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/TransportCc.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::rtc {

class TransportBwe {
public:
    enum class Type : uint8_t { TransportCc, Remb };

    static constexpr uint32_t kProbationSsrc = 1234;
    static constexpr uint8_t kProbationPayloadType = 127;
    static constexpr uint32_t kMaxProbePackets = 64;
    static constexpr size_t kMaxProbePacketSize = 1200;
    // Room past the largest probe for the transport's encryption.
    static constexpr size_t kProbeBufferSize = kMaxProbePacketSize + 256;
    static constexpr int64_t kTraceIntervalMs = 500;
    static constexpr double kDesiredHeadroom = 1.25;
    // Receiver-report counters are kept for this many SSRCs.
    static constexpr size_t kMaxLossSsrcs = 64;

    struct Bounds {
        int64_t startBps = bwe::SendSideBandwidthEstimator::kDefaultStartBps;
        int64_t minBps = bwe::SendSideBandwidthEstimator::kDefaultMinBps;
        int64_t maxBps = 0; // none
    };

    TransportBwe(Type type, const Bounds& bounds, int64_t nowMs);

    Type type() const { return type_; }
    const char* typeName() const { return type_ == Type::TransportCc ? "transport-cc" : "remb"; }
    int64_t availableBitrate() const { return estimator_.targetBitrate(); }
    // What the consumers may be given: the estimate within what the link
    // has shown it carries (SendSideBandwidthEstimator).
    int64_t allocatableBitrate() const { return estimator_.allocatableBitrate(); }
    const bwe::SendSideBandwidthEstimator& estimator() const { return estimator_; }
    const Bounds& bounds() const { return bounds_; }
    uint16_t lastTransportWideSeq() const { return seq_; }

    // Numbers and records a packet about to be sent (see above).
    void stamp(rtp::RtpPacket& packet, uint8_t tccId, uint8_t absSendTimeId, bwe::PacketKind kind,
               int64_t nowMs, int32_t probeClusterId = bwe::kNoProbeCluster);

    void onTransportCcFeedback(const rtcp::TransportCcView& feedback, int64_t nowMs);
    void onRemb(uint64_t bps, int64_t nowMs);
    void onReportBlock(const rtcp::ReportBlock& block, int64_t nowMs);
    void setRtt(uint32_t rttMs) { estimator_.setRtt(rttMs); }

    void setMaxBitrate(int64_t bps, int64_t nowMs);
    void setMinBitrate(int64_t bps, int64_t nowMs);
    // What the consumers send now, and what they would send at their
    // preferred layers, in bit/s.
    void setWantedBitrate(int64_t sentBps, int64_t preferredBps, int64_t nowMs);
    void process(int64_t nowMs);

    // The state to report in a "bwe" trace event now, if any.
    std::optional<bwe::BweTrace> takeTrace(int64_t nowMs);

    // Probing. startProbeCluster() begins the next requested cluster unless
    // one is under way (requests are dropped unless `canProbe`); then
    // nextProbePacket() gives each probe packet when due, built, numbered
    // and recorded, in a buffer of its own (valid until the next one).
    bool startProbeCluster(bool canProbe, int64_t nowMs);
    bool probing() const { return cluster_.active; }
    std::optional<rtp::RtpPacket> nextProbePacket(uint8_t tccId, uint8_t absSendTimeId,
                                                  int64_t nowMs);
    void abortProbeCluster() { cluster_.active = false; }
    uint64_t probeClusters() const { return probeClusters_; }
    uint64_t probePacketsSent() const { return probePacketsSent_; }

private:
    struct Cluster {
        bool active = false;
        int32_t id = bwe::kNoProbeCluster;
        int64_t startMs = 0;
        int64_t durationMs = 0;
        uint32_t packets = 0;
        uint32_t sent = 0;
        size_t packetSize = 0;
    };
    struct LossCounters {
        uint32_t ssrc = 0;
        int32_t totalLost = 0;
        uint32_t highestSeq = 0;
        bool used = false;
    };

    Type type_;
    Bounds bounds_;
    bwe::SendSideBandwidthEstimator estimator_;
    uint16_t seq_ = 0;
    int64_t desiredBps_ = 0;
    std::array<LossCounters, kMaxLossSsrcs> loss_{};
    bool tracePending_ = true;
    bwe::BweTrace lastTrace_{};
    int64_t lastTraceMs_ = 0;
    bool traced_ = false;
    Cluster cluster_;
    uint16_t probeSeq_;
    uint64_t probeClusters_ = 0;
    uint64_t probePacketsSent_ = 0;
    std::array<uint8_t, kProbeBufferSize> probeBuffer_{};
};

} // namespace sfu::rtc
