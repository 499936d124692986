#include "rtc/TransportBwe.hpp"

#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/Time.hpp"
#include "utils/Random.hpp"

#include <algorithm>

namespace sfu::rtc {

namespace {

bwe::SendSideBandwidthEstimator::Config configFor(TransportBwe::Type type,
                                                  const TransportBwe::Bounds& bounds) {
    bwe::SendSideBandwidthEstimator::Config config;
    config.startBps = bounds.startBps;
    config.minBps = bounds.minBps;
    config.maxBps = bounds.maxBps;
    // Without transport-wide feedback nothing would judge a probe.
    config.probing = type == TransportBwe::Type::TransportCc;
    return config;
}

// The RTP header of a probe: fixed part and the one-byte extension block
// with transport-wide-cc (2 bytes) and abs-send-time (3 bytes) when used.
size_t probeHeaderSize(uint8_t tccId, uint8_t absSendTimeId) {
    size_t elements = 0;
    elements += tccId != 0 ? 1 + rtp::kTransportWideSeqSize : 0;
    elements += absSendTimeId != 0 ? 1 + rtp::kAbsSendTimeSize : 0;
    return 12 + (elements > 0 ? 4 + (elements + 3) / 4 * 4 : 0);
}

} // namespace

TransportBwe::TransportBwe(Type type, const Bounds& bounds, int64_t nowMs)
    : type_(type), bounds_(bounds), estimator_(configFor(type, bounds)),
      probeSeq_(static_cast<uint16_t>(randomUint32())) {
    lastTraceMs_ = nowMs;
}

void TransportBwe::stamp(rtp::RtpPacket& packet, uint8_t tccId, uint8_t absSendTimeId,
                         bwe::PacketKind kind, int64_t nowMs, int32_t probeClusterId) {
    if (absSendTimeId != 0) {
        const auto value = packet.extension(absSendTimeId);
        if (!value.empty()) {
            rtp::writeAbsSendTime(value, rtp::absSendTimeFromMs(static_cast<uint64_t>(nowMs)));
        }
    }
    if (tccId == 0) {
        return;
    }
    const auto next = static_cast<uint16_t>(seq_ + 1);
    const auto value = packet.extension(tccId);
    const bool written = value.size() == rtp::kTransportWideSeqSize
                             ? rtp::writeTransportWideSeq(value, next)
                             : rtp::setTransportWideSeq(packet, tccId, next);
    if (!written) {
        return;
    }
    seq_ = next;
    // What goes out while a cluster is being sent shares the link with it:
    // the cluster's rates are those of everything sent meanwhile.
    if (probeClusterId == bwe::kNoProbeCluster && cluster_.active && cluster_.sent > 0) {
        probeClusterId = cluster_.id;
    }
    estimator_.onPacketSent(next, static_cast<uint32_t>(packet.size()), nowMs, probeClusterId,
                            kind);
}

void TransportBwe::onTransportCcFeedback(const rtcp::TransportCcView& feedback, int64_t nowMs) {
    estimator_.onTransportCcFeedback(feedback, nowMs);
}

void TransportBwe::onRemb(uint64_t bps, int64_t nowMs) {
    estimator_.onRemb(static_cast<int64_t>(std::min<uint64_t>(bps, INT64_MAX)), nowMs);
}

void TransportBwe::onReportBlock(const rtcp::ReportBlock& block, int64_t nowMs) {
    LossCounters* slot = nullptr;
    for (auto& entry : loss_) {
        if (entry.used && entry.ssrc == block.ssrc) {
            slot = &entry;
            break;
        }
    }
    if (slot == nullptr) {
        const auto free = std::find_if(loss_.begin(), loss_.end(),
                                       [](const LossCounters& entry) { return !entry.used; });
        slot = free != loss_.end() ? &*free : &loss_[block.ssrc % kMaxLossSsrcs];
        *slot = LossCounters{block.ssrc, block.totalLost, block.highestSeq, true};
        return;
    }
    const auto expected = static_cast<int64_t>(block.highestSeq) - slot->highestSeq;
    const int64_t lost = static_cast<int64_t>(block.totalLost) - slot->totalLost;
    slot->totalLost = block.totalLost;
    slot->highestSeq = block.highestSeq;
    // A reset or reordered report says nothing of the interval.
    if (expected <= 0 || expected > 0x8000) {
        return;
    }
    estimator_.onLossReport(static_cast<uint32_t>(std::clamp<int64_t>(lost, 0, expected)),
                            static_cast<uint32_t>(expected), nowMs);
}

void TransportBwe::setMaxBitrate(int64_t bps, int64_t nowMs) {
    bounds_.maxBps = std::max<int64_t>(bps, 0);
    estimator_.setBounds(bounds_.minBps, bounds_.maxBps, nowMs);
}

void TransportBwe::setMinBitrate(int64_t bps, int64_t nowMs) {
    bounds_.minBps = std::max<int64_t>(bps, 0);
    estimator_.setBounds(bounds_.minBps, bounds_.maxBps, nowMs);
}

void TransportBwe::setWantedBitrate(int64_t sentBps, int64_t preferredBps, int64_t nowMs) {
    const auto desired = static_cast<int64_t>(
        static_cast<double>(std::max<int64_t>({sentBps, preferredBps, 0})) * kDesiredHeadroom);
    const int64_t diff = desired > desiredBps_ ? desired - desiredBps_ : desiredBps_ - desired;
    if (diff == 0 || (desired != 0 && diff * 10 < desiredBps_)) {
        return;
    }
    desiredBps_ = desired;
    estimator_.setDesiredBitrate(desired, nowMs);
}

void TransportBwe::process(int64_t nowMs) {
    estimator_.process(nowMs);
}

std::optional<bwe::BweTrace> TransportBwe::takeTrace(int64_t nowMs) {
    bwe::BweTrace queued;
    while (estimator_.popTrace(queued)) {
        tracePending_ = true;
    }
    if (!tracePending_ || (traced_ && nowMs - lastTraceMs_ < kTraceIntervalMs)) {
        return std::nullopt;
    }
    tracePending_ = false;
    traced_ = true;
    lastTraceMs_ = nowMs;
    return estimator_.snapshot(nowMs);
}

bool TransportBwe::startProbeCluster(bool canProbe, int64_t nowMs) {
    if (cluster_.active) {
        return true;
    }
    const auto request = estimator_.takeProbeRequest(nowMs);
    if (!request || !canProbe || type_ != Type::TransportCc) {
        return false;
    }
    // Few large packets rather than many small ones: a link lets a burst of
    // small packets through at line rate.
    const auto bytes = static_cast<size_t>(std::max<int64_t>(request->minBytes(), 1));
    const size_t wanted = (bytes + kMaxProbePacketSize - 1) / kMaxProbePacketSize;
    cluster_.packets = static_cast<uint32_t>(
        std::clamp<size_t>(wanted, std::max<uint32_t>(request->minPackets, 1), kMaxProbePackets));
    cluster_.packetSize = std::clamp<size_t>((bytes + cluster_.packets - 1) / cluster_.packets, 100,
                                             kMaxProbePacketSize);
    cluster_.id = request->id;
    cluster_.startMs = nowMs;
    const int64_t atRateMs =
        request->bitrateBps > 0 ? static_cast<int64_t>(bytes) * 8'000 / request->bitrateBps : 0;
    cluster_.durationMs = std::max<int64_t>({request->durationUs / 1000, atRateMs, 1});
    cluster_.sent = 0;
    cluster_.active = true;
    ++probeClusters_;
    return true;
}

std::optional<rtp::RtpPacket> TransportBwe::nextProbePacket(uint8_t tccId, uint8_t absSendTimeId,
                                                            int64_t nowMs) {
    if (!cluster_.active) {
        return std::nullopt;
    }
    // A cluster that could not go out in time is given up.
    const int64_t elapsed = nowMs - cluster_.startMs;
    if (tccId == 0 || elapsed > cluster_.durationMs * 4 + 100) {
        cluster_.active = false;
        return std::nullopt;
    }
    // Spread over the duration: the first packet at once, the last one at
    // the end.
    const uint64_t due = std::min<uint64_t>(
        cluster_.packets, 1 + static_cast<uint64_t>(cluster_.packets - 1) *
                                  static_cast<uint64_t>(std::max<int64_t>(elapsed, 0)) /
                                  static_cast<uint64_t>(cluster_.durationMs));
    if (cluster_.sent >= due) {
        return std::nullopt;
    }

    static constexpr std::array<uint8_t, kMaxProbePacketSize> kZeros{};
    const std::array<uint8_t, rtp::kTransportWideSeqSize> tccValue{};
    const std::array<uint8_t, rtp::kAbsSendTimeSize> absValue{};
    std::array<rtp::ExtensionElement, 2> elements{};
    size_t count = 0;
    elements[count++] = {tccId, tccValue};
    if (absSendTimeId != 0) {
        elements[count++] = {absSendTimeId, absValue};
    }
    const size_t header = probeHeaderSize(tccId, absSendTimeId);
    const size_t body = cluster_.packetSize > header ? cluster_.packetSize - header : 1;
    const size_t padding = std::min<size_t>(body, 255);
    rtp::RtpPacketSpec spec;
    spec.payloadType = kProbationPayloadType;
    spec.sequenceNumber = probeSeq_;
    spec.timestamp = static_cast<uint32_t>(static_cast<uint64_t>(nowMs) * 90);
    spec.ssrc = kProbationSsrc;
    spec.extensions = std::span(elements.data(), count);
    spec.payload = std::span(kZeros.data(), std::min(body - padding, kZeros.size()));
    spec.paddingLength = static_cast<uint8_t>(padding);
    auto packet = rtp::RtpPacket::build(probeBuffer_.data(), probeBuffer_.size(), spec);
    if (!packet) {
        cluster_.active = false;
        return std::nullopt;
    }
    ++probeSeq_;
    ++cluster_.sent;
    ++probePacketsSent_;
    if (cluster_.sent >= cluster_.packets) {
        cluster_.active = false;
    }
    stamp(*packet, tccId, absSendTimeId, bwe::PacketKind::Padding, nowMs, cluster_.id);
    return packet;
}

} // namespace sfu::rtc
