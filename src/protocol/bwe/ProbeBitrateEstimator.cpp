#include "protocol/bwe/ProbeBitrateEstimator.hpp"

namespace sfu::bwe {

ProbeBitrateEstimator::Cluster* ProbeBitrateEstimator::find(int32_t id, int64_t nowUs,
                                                            bool create) {
    Cluster* oldest = &clusters_[0];
    for (Cluster& c : clusters_) {
        if (c.id != kNoProbeCluster && nowUs - c.touchedUs > kClusterTimeoutUs) {
            c = Cluster{};
        }
        if (c.id == id && id != kNoProbeCluster) {
            return &c;
        }
        if (c.id == kNoProbeCluster) {
            oldest = &c;
        } else if (oldest->id != kNoProbeCluster && c.touchedUs < oldest->touchedUs) {
            oldest = &c;
        }
    }
    if (!create) {
        return nullptr;
    }
    *oldest = Cluster{};
    oldest->id = id;
    oldest->touchedUs = nowUs;
    return oldest;
}

void ProbeBitrateEstimator::onClusterStarted(int32_t id, uint32_t minPackets, int64_t minBytes,
                                             int64_t nowUs) {
    if (id == kNoProbeCluster) {
        return;
    }
    Cluster* c = find(id, nowUs, true);
    c->minPackets = minPackets;
    c->minBytes = minBytes;
    c->touchedUs = nowUs;
}

std::optional<int64_t> ProbeBitrateEstimator::onPacket(const PacketResult& p, int64_t nowUs) {
    if (p.probeClusterId == kNoProbeCluster || !p.received) {
        return std::nullopt;
    }
    Cluster* c = find(p.probeClusterId, nowUs, true);
    c->touchedUs = nowUs;
    if (c->received == 0) {
        c->firstSendUs = c->lastSendUs = p.sendUs;
        c->lastSendSize = p.size;
        c->firstArrivalUs = c->lastArrivalUs = p.arrivalUs;
        c->firstTickBytes = p.size;
    } else {
        if (p.sendUs < c->firstSendUs) {
            c->firstSendUs = p.sendUs;
        }
        if (p.sendUs >= c->lastSendUs) {
            c->lastSendUs = p.sendUs;
            c->lastSendSize = p.size;
        }
        if (p.arrivalUs < c->firstArrivalUs) {
            const bool sameTick = c->firstArrivalUs - p.arrivalUs < kArrivalTickUs;
            c->firstTickBytes = sameTick ? c->firstTickBytes + p.size : p.size;
            c->firstArrivalUs = p.arrivalUs;
        } else if (p.arrivalUs - c->firstArrivalUs < kArrivalTickUs) {
            c->firstTickBytes += p.size;
        }
        if (p.arrivalUs > c->lastArrivalUs) {
            c->lastArrivalUs = p.arrivalUs;
        }
    }
    ++c->received;
    c->bytes += p.size;

    if (c->received * 5 < c->minPackets * 4 || c->bytes * 5 < c->minBytes * 4) {
        return std::nullopt;
    }
    const int64_t sendInterval = c->lastSendUs - c->firstSendUs;
    const int64_t recvInterval = c->lastArrivalUs - c->firstArrivalUs;
    if (sendInterval <= 0 || sendInterval > kMaxIntervalUs || recvInterval <= 0 ||
        recvInterval > kMaxIntervalUs) {
        return std::nullopt;
    }
    const int64_t sendRate = bitrateOf(c->bytes - c->lastSendSize, sendInterval);
    const int64_t recvRate = bitrateOf(c->bytes - c->firstTickBytes, recvInterval);
    if (recvRate <= 0 || recvRate > 2 * sendRate) {
        return std::nullopt;
    }
    int64_t result = sendRate < recvRate ? sendRate : recvRate;
    saturated_ = recvRate * 10 < sendRate * 9;
    bunched_ = recvRate * 4 > sendRate * 5;
    if (saturated_) {
        result = recvRate * 95 / 100;
    }
    estimate_ = result;
    receiveBps_ = recvRate;
    clusterId_ = p.probeClusterId;
    return result;
}

std::optional<int64_t> ProbeBitrateEstimator::takeEstimate() {
    const auto e = estimate_;
    estimate_.reset();
    return e;
}

} // namespace sfu::bwe
