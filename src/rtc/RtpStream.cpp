#include "rtc/RtpStream.hpp"

#include "protocol/rtp/SeqNum.hpp"
#include "protocol/rtp/Time.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// RFC 3550 A.1: a forward jump this large is accepted at once, a larger one
// only when the next packet confirms it. A packet up to kMaxMisorder behind
// is a late one, not a restart: repairs by retransmission arrive a round
// trip (or several) late, hence far more than the RFC's 100.
constexpr uint16_t kMaxDropout = 3000;
constexpr uint16_t kMaxMisorder = 1500;
constexpr uint32_t kSeqMod = 1u << 16;

const char* kindName(params::MediaKind kind) {
    return kind == params::MediaKind::Audio ? "audio" : "video";
}

json commonStats(const RtpStreamParams& p, const char* type, uint64_t nowMs) {
    json s{{"type", type},
           {"timestamp", nowMs},
           {"ssrc", p.ssrc},
           {"kind", kindName(p.kind)},
           {"mimeType", p.mimeType}};
    if (p.rtxSsrc) {
        s["rtxSsrc"] = *p.rtxSsrc;
    }
    if (!p.rid.empty()) {
        s["rid"] = p.rid;
    }
    return s;
}

} // namespace

void RtpStreamCounters::addTo(json& stats) const {
    stats["packetsDiscarded"] = packetsDiscarded;
    stats["packetsRetransmitted"] = packetsRetransmitted;
    stats["packetsRepaired"] = packetsRepaired;
    stats["nackCount"] = nackCount;
    stats["nackPacketCount"] = nackPacketCount;
    stats["pliCount"] = pliCount;
    stats["firCount"] = firCount;
}

bool ScoreHistory::add(uint8_t intervalScore) {
    scores_[next_] = intervalScore;
    next_ = (next_ + 1) % kSize;
    count_ = std::min(count_ + 1, kSize);
    // Weights 1..count, the newest heaviest.
    uint32_t weighted = 0;
    uint32_t weights = 0;
    for (size_t i = 0; i < count_; ++i) {
        const size_t index = (next_ + kSize - count_ + i) % kSize;
        weighted += static_cast<uint32_t>(scores_[index]) * static_cast<uint32_t>(i + 1);
        weights += static_cast<uint32_t>(i + 1);
    }
    const auto score = static_cast<uint8_t>(std::lround(static_cast<double>(weighted) / weights));
    const bool changed = score != score_;
    score_ = score;
    return changed;
}

bool ScoreHistory::reset(uint8_t score) {
    count_ = 0;
    next_ = 0;
    const bool changed = score != score_;
    score_ = score;
    return changed;
}

uint8_t scoreFromDeliveredRatio(double ratio) {
    ratio = std::clamp(ratio, 0.0, 1.0);
    // Loss hurts perceived quality faster than linearly: 5% loss is ~8.
    return static_cast<uint8_t>(std::lround(std::pow(ratio, 4) * 10));
}

RtpStreamRecv::RtpStreamRecv(RtpStreamParams params) : params_(std::move(params)) {}

void RtpStreamRecv::initSequence(uint16_t seq) {
    baseSeq_ = seq;
    maxSeq_ = seq;
    badSeq_ = kSeqMod + 1; // so seq == badSeq is false
    cycles_ = 0;
    received_ = 0;
    expectedPrior_ = 0;
    receivedPrior_ = 0;
}

bool RtpStreamRecv::updateSequence(uint16_t seq) {
    const uint16_t delta = static_cast<uint16_t>(seq - maxSeq_);
    if (delta < kMaxDropout) {
        if (seq < maxSeq_) {
            cycles_ += kSeqMod;
        }
        maxSeq_ = seq;
    } else if (delta <= kSeqMod - kMaxMisorder) {
        // A big jump: accept it only when the next packet follows it, as
        // happens when the sender restarts.
        if (seq == badSeq_) {
            initSequence(seq);
        } else {
            badSeq_ = (static_cast<uint32_t>(seq) + 1) & (kSeqMod - 1);
            return false;
        }
    }
    // Otherwise a duplicate or a reordered packet: counted, max unchanged.
    return true;
}

bool RtpStreamRecv::receivePacket(const rtp::RtpPacket& packet, uint64_t nowMs,
                                  bool retransmitted) {
    const uint16_t seq = packet.sequenceNumber();
    if (!started_) {
        started_ = true;
        initSequence(seq);
        // A stream that starts flowing is healthy until reports say otherwise.
        scores_.reset(10);
    } else if (!updateSequence(seq)) {
        ++counters_.packetsDiscarded;
        return false;
    }
    ++received_;
    ++packetCount_;
    bytes_ += packet.size();
    rate_.update(packet.size(), nowMs);
    lastPacketMs_ = nowMs;

    // Interarrival jitter in timestamp units.
    if (params_.clockRate != 0 && !retransmitted) {
        const int64_t arrival = static_cast<int64_t>(nowMs * params_.clockRate / 1000);
        const int64_t transit = arrival - static_cast<int64_t>(packet.timestamp());
        if (haveTransit_) {
            // Timestamps wrap at 32 bits; the difference is taken in that space.
            int64_t d = static_cast<int32_t>(static_cast<uint32_t>(transit - lastTransit_));
            d = d < 0 ? -d : d;
            jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
        }
        lastTransit_ = transit;
        haveTransit_ = true;
    }
    return true;
}

int64_t RtpStreamRecv::packetsLost() const {
    if (!started_) {
        return 0;
    }
    const int64_t expected = static_cast<int64_t>(cycles_ + maxSeq_) - baseSeq_ + 1;
    // Retransmitted packets went through receivePacket() too: this is the
    // loss left after repair.
    return expected - static_cast<int64_t>(received_);
}

rtcp::ReportBlock RtpStreamRecv::buildReportBlock(uint64_t nowMs, bool& scoreChanged) {
    scoreChanged = false;
    rtcp::ReportBlock block;
    block.ssrc = params_.ssrc;
    if (!started_) {
        return block;
    }
    const uint64_t expected = static_cast<uint64_t>(cycles_ + maxSeq_) - baseSeq_ + 1;
    const uint64_t received = received_;
    const uint64_t expectedInterval = expected - std::min(expected, expectedPrior_);
    const uint64_t receivedInterval = received - std::min(received, receivedPrior_);
    expectedPrior_ = expected;
    receivedPrior_ = received;
    const int64_t lostInterval =
        static_cast<int64_t>(expectedInterval) - static_cast<int64_t>(receivedInterval);
    fractionLost_ = (expectedInterval == 0 || lostInterval <= 0)
                        ? 0
                        : static_cast<uint8_t>(std::min<uint64_t>(
                              255, (static_cast<uint64_t>(lostInterval) << 8) / expectedInterval));

    if (expectedInterval > 0) {
        scoreChanged = scores_.add(scoreFromDeliveredRatio(static_cast<double>(receivedInterval) /
                                                           static_cast<double>(expectedInterval)));
    } else if (params_.kind == params::MediaKind::Video) {
        // Video that stopped flowing is unusable; silent audio (DTX) is not.
        scoreChanged = scores_.reset(0);
    }

    block.fractionLost = fractionLost_;
    block.totalLost = static_cast<int32_t>(std::clamp<int64_t>(packetsLost(), -0x800000, 0x7FFFFF));
    block.highestSeq = cycles_ + maxSeq_;
    block.jitter = static_cast<uint32_t>(jitter_);
    if (lastSrReceivedMs_ != 0) {
        block.lastSr = lastSrCompact_;
        block.delaySinceLastSr = rtp::compactNtpFromMs(nowMs - lastSrReceivedMs_);
    }
    return block;
}

void RtpStreamRecv::receiveSenderReport(const rtcp::SenderInfo& info, uint64_t nowMs) {
    lastSrCompact_ = info.compactNtp();
    lastSrReceivedMs_ = nowMs;
    lastSenderInfo_ = info;
}

json RtpStreamRecv::stats(uint64_t nowMs) {
    json s = commonStats(params_, "inbound-rtp", nowMs);
    s["packetsLost"] = packetsLost();
    s["fractionLost"] = fractionLost_;
    counters_.addTo(s);
    s["score"] = score();
    s["packetCount"] = packetCount_;
    s["byteCount"] = bytes_;
    s["bitrate"] = rate_.rate(nowMs);
    s["jitter"] = jitter();
    if (params_.rtxSsrc) {
        s["rtxPacketsDiscarded"] = counters_.rtxPacketsDiscarded;
    }
    return s;
}

RtpStreamSend::RtpStreamSend(RtpStreamParams params) : params_(std::move(params)) {
    // A consumer starts healthy; its receiver's reports take it from there.
    scores_.reset(10);
}

void RtpStreamSend::sentPacket(const rtp::RtpPacket& packet, uint64_t nowMs) {
    ++packets_;
    bytes_ += packet.size();
    rate_.update(packet.size(), nowMs);
    if (!started_ || rtp::isNewerOrEqual(packet.timestamp(), lastTimestamp_)) {
        lastTimestamp_ = packet.timestamp();
        lastPacketMs_ = nowMs;
    }
    started_ = true;
}

void RtpStreamSend::countRetransmission(size_t bytes, uint64_t nowMs) {
    ++counters_.packetsRetransmitted;
    rate_.update(bytes, nowMs);
}

std::optional<rtcp::SenderInfo> RtpStreamSend::buildSenderInfo(uint64_t nowMs) {
    if (!started_) {
        return std::nullopt;
    }
    rtcp::SenderInfo info;
    const rtp::NtpTime ntp = rtp::ntpNow();
    info.ntp = ntp.toU64();
    // The RTP clock extrapolated from the last packet sent to now.
    info.rtpTimestamp =
        rtp::rtpTimestampAt(nowMs, lastPacketMs_, lastTimestamp_, params_.clockRate);
    info.packetCount = static_cast<uint32_t>(packets_);
    info.octetCount = static_cast<uint32_t>(bytes_);
    return info;
}

bool RtpStreamSend::receiveReportBlock(const rtcp::ReportBlock& block) {
    fractionLost_ = block.fractionLost;
    packetsLost_ = block.totalLost;
    if (block.lastSr != 0) {
        // RTT = now - LSR - DLSR, all in compact NTP units.
        const uint32_t now = rtp::ntpNow().compact();
        const uint32_t rtt = now - block.lastSr - block.delaySinceLastSr;
        if (static_cast<int32_t>(rtt) >= 0) {
            rttMs_ = static_cast<double>(rtt) * 1000.0 / 65536.0;
            haveRtt_ = true;
        }
    }
    return scores_.add(scoreFromDeliveredRatio(1.0 - block.fractionLost / 256.0));
}

json RtpStreamSend::stats(uint64_t nowMs) {
    json s = commonStats(params_, "outbound-rtp", nowMs);
    s["packetsLost"] = packetsLost_;
    s["fractionLost"] = fractionLost_;
    counters_.addTo(s);
    s["score"] = score();
    s["packetCount"] = packets_;
    s["byteCount"] = bytes_;
    s["bitrate"] = rate_.rate(nowMs);
    if (haveRtt_) {
        s["roundTripTime"] = rttMs_;
    }
    return s;
}

} // namespace sfu::rtc
