// Per-SSRC bookkeeping of the media path: what a producer receives
// (RtpStreamRecv) and what a consumer sends (RtpStreamSend). They count,
// compute RFC 3550 statistics (loss, jitter, RTT), build the report blocks
// and sender info of the RTCP schedule and keep the 0-10 stream score.
#pragma once

#include "protocol/parameters/Enums.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtp/RateCalculator.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

struct RtpStreamParams {
    uint32_t ssrc = 0;
    uint8_t payloadType = 0;
    std::string mimeType;
    uint32_t clockRate = 0;
    params::MediaKind kind = params::MediaKind::Audio;
    std::string rid;
    std::string cname;
    std::optional<uint32_t> rtxSsrc;
    uint8_t rtxPayloadType = 0;
    bool useNack = false;
    bool usePli = false;
    bool useFir = false;
};

// What a stream counts besides packets and bytes: discards and the loss
// recovery and key frame request traffic about it.
struct RtpStreamCounters {
    uint64_t packetsDiscarded = 0;
    uint64_t packetsRepaired = 0;
    uint64_t packetsRetransmitted = 0;
    uint64_t nackCount = 0;
    uint64_t nackPacketCount = 0;
    uint64_t pliCount = 0;
    uint64_t firCount = 0;
    uint64_t rtxPacketsDiscarded = 0;

    void countNack(size_t packets) {
        ++nackCount;
        nackPacketCount += packets;
    }
    // Adds the counters to a getStats entry.
    void addTo(nlohmann::json& stats) const;
};

// Scores of the last few report intervals, weighted towards the newest, so
// a single bad interval does not swing the score from 10 to 0.
class ScoreHistory {
public:
    // Adds an interval's score; returns whether the reported score changed.
    bool add(uint8_t intervalScore);
    // Forces the score (stream start, stream inactivity).
    bool reset(uint8_t score);
    uint8_t score() const { return score_; }

private:
    static constexpr size_t kSize = 8;
    std::array<uint8_t, kSize> scores_{};
    size_t count_ = 0;
    size_t next_ = 0;
    uint8_t score_ = 0;
};

// Score of an interval from the share of packets that arrived.
uint8_t scoreFromDeliveredRatio(double ratio);

class RtpStreamRecv {
public:
    explicit RtpStreamRecv(RtpStreamParams params);

    const RtpStreamParams& params() const { return params_; }
    uint32_t ssrc() const { return params_.ssrc; }

    // Updates sequence state, counters and jitter. False when the packet is
    // to be discarded (a jump the RFC 3550 rules do not accept yet).
    // A retransmitted packet counts as received but says nothing about
    // network jitter.
    bool receivePacket(const rtp::RtpPacket& packet, uint64_t nowMs, bool retransmitted = false);

    // The report block of the next RR; closes the loss interval, updates the
    // score and tells whether it changed.
    rtcp::ReportBlock buildReportBlock(uint64_t nowMs, bool& scoreChanged);
    void receiveSenderReport(const rtcp::SenderInfo& info, uint64_t nowMs);
    // The sender's last SR (NTP and RTP time of one instant), if any.
    const std::optional<rtcp::SenderInfo>& lastSenderInfo() const { return lastSenderInfo_; }

    uint8_t score() const { return scores_.score(); }
    uint64_t packetCount() const { return packetCount_; }
    uint64_t lastPacketMs() const { return lastPacketMs_; }
    bool started() const { return started_; }
    uint32_t maxSeq() const { return cycles_ + maxSeq_; }
    int64_t packetsLost() const;
    uint8_t fractionLost() const { return fractionLost_; }
    uint32_t jitter() const { return static_cast<uint32_t>(jitter_); }
    uint64_t bitrate(uint64_t nowMs) { return rate_.rate(nowMs); }

    // Loss recovery and key frame requests, as the ProducerStream does them.
    void countDiscarded() { ++counters_.packetsDiscarded; }
    void countRtxDiscarded() { ++counters_.rtxPacketsDiscarded; }
    void countRepaired() { ++counters_.packetsRepaired; }
    void countRetransmitted() { ++counters_.packetsRetransmitted; }
    void countNackSent(size_t packets) { counters_.countNack(packets); }
    void countPliSent() { ++counters_.pliCount; }
    void countFirSent() { ++counters_.firCount; }
    const RtpStreamCounters& counters() const { return counters_; }

    // The inbound-rtp entry of a getStats answer.
    nlohmann::json stats(uint64_t nowMs);

private:
    void initSequence(uint16_t seq);
    bool updateSequence(uint16_t seq);

    RtpStreamParams params_;
    bool started_ = false;
    uint16_t maxSeq_ = 0;
    uint32_t cycles_ = 0;
    uint32_t baseSeq_ = 0;
    uint32_t badSeq_ = 0;
    // Since the sequence base (RFC 3550's loss figures; a restart of the
    // sequence resets it), and in all (the stats).
    uint64_t received_ = 0;
    uint64_t packetCount_ = 0;
    uint64_t bytes_ = 0;
    uint64_t lastPacketMs_ = 0;
    // Interval bookkeeping for fraction lost and scores.
    uint64_t expectedPrior_ = 0;
    uint64_t receivedPrior_ = 0;
    uint8_t fractionLost_ = 0;
    // Jitter state (RFC 3550 A.8), in timestamp units.
    double jitter_ = 0;
    int64_t lastTransit_ = 0;
    bool haveTransit_ = false;
    // From the sender's last SR.
    uint32_t lastSrCompact_ = 0;
    uint64_t lastSrReceivedMs_ = 0;
    std::optional<rtcp::SenderInfo> lastSenderInfo_;
    ScoreHistory scores_;
    rtp::BasicRateCalculator<100> rate_;
    RtpStreamCounters counters_;
};

class RtpStreamSend {
public:
    explicit RtpStreamSend(RtpStreamParams params);

    const RtpStreamParams& params() const { return params_; }
    uint32_t ssrc() const { return params_.ssrc; }

    void sentPacket(const rtp::RtpPacket& packet, uint64_t nowMs);
    void countRetransmission(size_t bytes, uint64_t nowMs);

    // The sender info of the next SR, or nothing before the first packet.
    std::optional<rtcp::SenderInfo> buildSenderInfo(uint64_t nowMs);
    // A receiver's report about this stream: loss, RTT, score. Returns
    // whether the score changed.
    bool receiveReportBlock(const rtcp::ReportBlock& block);

    uint8_t score() const { return scores_.score(); }
    uint64_t packetCount() const { return packets_; }
    double roundTripTimeMs() const { return rttMs_; }
    bool hasRoundTripTime() const { return haveRtt_; }
    uint64_t bitrate(uint64_t nowMs) { return rate_.rate(nowMs); }

    // What the receiver asked for and what could not be sent, as the
    // ConsumerStream answers it.
    void countDiscarded() { ++counters_.packetsDiscarded; }
    void countNackReceived(size_t packets) { counters_.countNack(packets); }
    void countNackedPacket() { ++counters_.nackPacketCount; }
    void countKeyFrameRequest(bool fir) { ++(fir ? counters_.firCount : counters_.pliCount); }
    const RtpStreamCounters& counters() const { return counters_; }

    // The outbound-rtp entry of a getStats answer.
    nlohmann::json stats(uint64_t nowMs);

private:
    RtpStreamParams params_;
    uint64_t packets_ = 0;
    uint64_t bytes_ = 0;
    bool started_ = false;
    uint32_t lastTimestamp_ = 0;
    uint64_t lastPacketMs_ = 0;
    int64_t packetsLost_ = 0;
    uint8_t fractionLost_ = 0;
    double rttMs_ = 0;
    bool haveRtt_ = false;
    ScoreHistory scores_;
    rtp::BasicRateCalculator<100> rate_;
    RtpStreamCounters counters_;
};

} // namespace sfu::rtc
