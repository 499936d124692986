#include "protocol/bwe/SendSideBandwidthEstimator.hpp"

#include <algorithm>

namespace sfu::bwe {

SendSideBandwidthEstimator::SendSideBandwidthEstimator(const Config& config)
    : config_(config), minBps_(std::max<int64_t>(config.minBps, 0)),
      maxBps_(config.maxBps > 0 ? std::max(config.maxBps, minBps_) : kDefaultMaxBps),
      startBps_(std::clamp(config.startBps, minBps_, maxBps_)), target_(startBps_),
      history_(config.historyCapacity) {
    sorted_.reserve(history_.capacity());
    aimd_.setBounds(minBps_, maxBps_);
    aimd_.setEstimate(startBps_, 0);
    loss_.setMinBitrate(minBps_);
    probes_.setMaxBitrate(maxBps_, target_, 0);
    alr_.setEstimate(target_);
}

const SendSideBandwidthEstimator::Stats& SendSideBandwidthEstimator::stats() const {
    stats_.unknown = history_.unknown();
    stats_.expired = history_.expired();
    stats_.duplicated = history_.duplicated();
    return stats_;
}

void SendSideBandwidthEstimator::setBounds(int64_t minBps, int64_t maxBps, int64_t nowMs) {
    const int64_t nowUs = nowMs * 1000;
    minBps_ = std::max<int64_t>(minBps, 0);
    maxBps_ = maxBps > 0 ? std::max(maxBps, minBps_) : kDefaultMaxBps;
    aimd_.setBounds(minBps_, maxBps_);
    loss_.setMinBitrate(minBps_);
    probes_.setMaxBitrate(maxBps_, target_, nowUs);
    updateTarget(nowUs, true);
}

void SendSideBandwidthEstimator::setStartBitrate(int64_t bps, int64_t nowMs) {
    startBps_ = std::clamp(bps, minBps_, maxBps_);
    aimd_.setEstimate(startBps_, nowMs * 1000);
    updateTarget(nowMs * 1000, true);
}

void SendSideBandwidthEstimator::setDesiredBitrate(int64_t bps, int64_t nowMs) {
    if (bps == desiredBps_) {
        return;
    }
    desiredBps_ = bps;
    probes_.setDesiredBitrate(bps);
    updateTarget(nowMs * 1000, true);
}

void SendSideBandwidthEstimator::setRtt(int64_t rttMs) {
    externalRttUs_ = std::max<int64_t>(rttMs, 0) * 1000;
    aimd_.setRtt(effectiveRttUs());
    loss_.setRtt(effectiveRttUs());
}

void SendSideBandwidthEstimator::onPacketSent(uint16_t seq, uint32_t size, int64_t nowMs,
                                              int32_t probeClusterId, PacketKind kind) {
    const int64_t nowUs = nowMs * 1000;
    if (!started_) {
        started_ = true;
        if (config_.probing) {
            probes_.start(target_, nowUs);
        }
    }
    history_.onSent(seq, size, nowUs, probeClusterId, kind);
    alr_.onSent(size, nowUs);
}

std::optional<ProbeRequest> SendSideBandwidthEstimator::takeProbeRequest(int64_t nowMs) {
    auto r = probes_.takeRequest();
    if (r) {
        // Registered now, so that its feedback is judged on its full size.
        probeEstimator_.onClusterStarted(r->id, r->minPackets, r->minBytes(), nowMs * 1000);
    }
    return r;
}

void SendSideBandwidthEstimator::onTransportCcFeedback(const rtcp::TransportCcView& feedback,
                                                       int64_t nowMs) {
    const auto results = history_.onFeedback(feedback, nowMs * 1000);
    onPacketResults(results, nowMs);
}

void SendSideBandwidthEstimator::onPacketResults(std::span<const PacketResult> results,
                                                 int64_t nowMs) {
    const int64_t nowUs = nowMs * 1000;
    ++stats_.feedbacks;
    haveTcc_ = true;
    lastFeedbackUs_ = nowUs;
    if (results.empty()) {
        return;
    }

    uint32_t lost = 0;
    uint32_t received = 0;
    // The loss-based bound takes what was sent since the last delay-based
    // decrease: what a queue lost before it is what that decrease answered.
    uint32_t lostSinceCut = 0;
    uint32_t receivedSinceCut = 0;
    int64_t newestSendUs = results.front().sendUs;
    sorted_.clear();
    for (const PacketResult& r : results) {
        const bool sinceCut = r.sendUs >= lossFromUs_;
        if (!r.received) {
            ++lost;
            lostSinceCut += sinceCut ? 1 : 0;
            continue;
        }
        ++received;
        receivedSinceCut += sinceCut ? 1 : 0;
        newestSendUs = std::max(newestSendUs, r.sendUs);
        if (sorted_.size() < sorted_.capacity()) {
            sorted_.push_back(r);
        }
    }
    stats_.packetsLost += lost;
    stats_.packetsReceived += received;

    if (received > 0) {
        const int64_t sample = std::max<int64_t>(nowUs - newestSendUs, 1000);
        rttUs_ = haveRtt_ ? (rttUs_ * 7 + sample) / 8 : sample;
        haveRtt_ = true;
        aimd_.setRtt(effectiveRttUs());
        loss_.setRtt(effectiveRttUs());
    }

    std::sort(sorted_.begin(), sorted_.end(), [](const PacketResult& a, const PacketResult& b) {
        return a.arrivalUs != b.arrivalUs ? a.arrivalUs < b.arrivalUs : a.seq < b.seq;
    });
    bool delayUpdated = false;
    bool overuseStarted = false;
    for (const PacketResult& r : sorted_) {
        acked_.onPacket(r);
        queueDelay_.onPacket(r);
        probeEstimator_.onPacket(r, nowUs);
        InterArrival::Deltas d;
        if (interArrival_.onPacket(r.sendUs, r.arrivalUs, r.size, d)) {
            trendline_.update(d.sendDeltaUs, d.arrivalDeltaUs, d.arrivalUs);
            const BandwidthUsage before = detector_.state();
            usage_ = detector_.detect(trendline_.modifiedTrend(), trendline_.trend(),
                                      static_cast<double>(d.sendDeltaUs) / 1000.0, nowUs);
            if (usage_ == BandwidthUsage::Overusing && before != BandwidthUsage::Overusing) {
                ++stats_.overuses;
                overuseStarted = true;
            }
            delayUpdated = true;
        }
    }

    const auto ackedBps = acked_.bitrate();
    const auto probe = probeEstimator_.takeEstimate();
    if (probe) {
        ++stats_.probeResults;
        if (probeEstimator_.lastSaturated()) {
            if (probeEstimator_.lastClusterId() != saturatedCluster_) {
                earlierSaturatedBps_ = saturatedResultBps_;
                earlierSaturatedUs_ = saturatedProbeUs_;
                saturatedCluster_ = probeEstimator_.lastClusterId();
            }
            saturatedResultBps_ = *probe;
            saturatedProbeBps_ = probeEstimator_.lastReceiveRate();
            saturatedProbeUs_ = nowUs;
        }
    }
    // Two saturated probes in a row that agree measured the link: one alone
    // may have been read late and bunched.
    int64_t saturatedPairBps = 0;
    if (probe && probeEstimator_.lastSaturated() && earlierSaturatedBps_ != kNoBitrate &&
        nowUs - earlierSaturatedUs_ <= kSaturatedPairUs) {
        const int64_t lo = std::min(earlierSaturatedBps_, saturatedResultBps_);
        const int64_t hi = std::max(earlierSaturatedBps_, saturatedResultBps_);
        if (static_cast<double>(hi - lo) <= kSaturatedAgreement * static_cast<double>(hi)) {
            saturatedPairBps = lo;
        }
    }
    // While a queue builds, what arrived lately is the link's rate; the
    // whole window mixes in what came before, or a time the sender sent
    // less than the link carries. A probe that lately saturated the link
    // measured it outright.
    const auto backloggedBps = acked_.backloggedBitrate();
    const auto deliveredBps = backloggedBps ? backloggedBps : ackedBps;
    // The rate a decrease starts from. A saturated probe's receive rate
    // bounds it, not the validated bitrate: a receiver that reads late
    // bunches its arrivals and makes it look faster than the link.
    auto cutFromBps = deliveredBps;
    const bool afterSaturatedProbe =
        saturatedProbeBps_ != kNoBitrate && nowUs - saturatedProbeUs_ <= kSaturatedProbeUs;
    if (overuseStarted && afterSaturatedProbe) {
        cutFromBps = std::max(deliveredBps.value_or(0), saturatedProbeBps_);
    }
    // An overuse right after a probe saturated the link, with no queue
    // building at the media's own rate, is the probe's queue: what is
    // acknowledged then is the media, not the link.
    const bool probesQueue = afterSaturatedProbe && !backloggedBps;
    if (overuseStarted && deliveredBps && (validatedBps_ == kNoBitrate || !probesQueue)) {
        // The delivered bitrate, but not above what was validated or
        // acknowledged before: a rate over a short window is no proof the
        // link carries more (late reads shorten it).
        validatedBps_ =
            validatedBps_ == kNoBitrate
                ? *deliveredBps
                : std::min(*deliveredBps, std::max(validatedBps_, ackedBps.value_or(0)));
        validatedCutUs_ = nowUs;
    } else if (validatedBps_ != kNoBitrate) {
        // A probe the link carried whole validates its rate; a saturated
        // one, or one whose arrivals came bunched, does not (see
        // ProbeBitrateEstimator::lastCarriedWhole()). The acknowledged
        // bitrate does once its window holds nothing sent before the
        // validated bitrate was last cut.
        const int64_t carried = probe && probeEstimator_.lastCarriedWhole() ? *probe : 0;
        const bool ackedSinceCut =
            nowUs - validatedCutUs_ >= AcknowledgedBitrate::kDefaultWindowUs + effectiveRttUs();
        validatedBps_ = std::max({validatedBps_, carried, saturatedPairBps,
                                  ackedSinceCut ? ackedBps.value_or(0) : int64_t{0}});
    }
    if (probe && usage_ != BandwidthUsage::Overusing && *probe > aimd_.estimate()) {
        aimd_.setEstimate(*probe, nowUs);
        if (loss_.lossFraction() < 0.02 && loss_.bound() < *probe) {
            loss_.reset();
        }
    } else if (usage_ == BandwidthUsage::Overusing) {
        // Within one overuse, a decrease after the first needs a queue
        // still building: less acknowledged is otherwise the sender sending
        // less (the cut itself, a layer waiting for its key frame), not a
        // thinner link, and the queue drains already.
        // Nor with the link idle at times within the backlogged window:
        // frames sent in bursts each queue behind their own first packet
        // (and a probe's burst behind its first), so they arrive slower
        // than they were sent although the queue between them has
        // drained, and their rate, taken over the gaps, is below the link's.
        const bool draining =
            !overuseStarted && (!backloggedBps || !acked_.keptBusy(queueDelay_.baseOffsetUs()));
        if (!draining && aimd_.timeToReduceFurther(nowUs, cutFromBps)) {
            aimd_.update(usage_, cutFromBps, nowUs);
            lossFromUs_ = nowUs;
            loss_.restartWindow(nowUs);
            if (backloggedBps && validatedBps_ != kNoBitrate) {
                // A queue still builds: the link delivers at this rate now.
                validatedBps_ = std::min(validatedBps_, *backloggedBps);
                validatedCutUs_ = nowUs;
            }
        }
    } else if (delayUpdated || received > 0) {
        aimd_.update(usage_, ackedBps, nowUs);
    }

    const int64_t boundBefore = loss_.bound();
    loss_.onPackets(lostSinceCut, receivedSinceCut, target_, nowUs);
    if (loss_.bound() < boundBefore && ackedBps) {
        // Loss cut the bound: the link showed what it carries, as at an
        // overuse. A bitrate validated before is kept down to the new
        // bound: a sender that sent less meanwhile showed only that.
        validatedBps_ = validatedBps_ == kNoBitrate
                            ? *ackedBps
                            : std::min(validatedBps_, std::max(*ackedBps, loss_.bound()));
        validatedCutUs_ = nowUs;
    }
    updateTarget(nowUs, false);
    if (config_.probing) {
        probes_.onEstimate(target_, nowUs);
    }
}

void SendSideBandwidthEstimator::onRemb(int64_t bps, int64_t nowMs) {
    rembBps_ = std::max<int64_t>(bps, 0);
    updateTarget(nowMs * 1000, false);
}

void SendSideBandwidthEstimator::onLossReport(uint32_t lost, uint32_t expected, int64_t nowMs) {
    if (haveTcc_ || expected == 0) {
        return; // transport-wide feedback reports losses itself
    }
    lost = std::min(lost, expected);
    loss_.onPackets(lost, expected - lost, target_, nowMs * 1000);
    updateTarget(nowMs * 1000, false);
}

void SendSideBandwidthEstimator::process(int64_t nowMs) {
    const int64_t nowUs = nowMs * 1000;
    alr_.advance(nowUs);
    checkFeedbackTimeout(nowUs);
    if (config_.probing && haveTcc_) {
        const auto& link = aimd_.linkCapacity();
        const bool atCapacity = link.has() && aimd_.estimate() >= link.lowerBound() &&
                                aimd_.estimate() <= link.upperBound();
        probes_.process(target_, alr_.inAlr(), atCapacity, nowUs);
    }
}

void SendSideBandwidthEstimator::checkFeedbackTimeout(int64_t nowUs) {
    if (!haveTcc_ || history_.inFlightBytes() == 0 ||
        nowUs - lastFeedbackUs_ < kFeedbackTimeoutUs ||
        nowUs - lastTimeoutCutUs_ < kFeedbackTimeoutCutUs) {
        return;
    }
    lastTimeoutCutUs_ = nowUs;
    ++stats_.feedbackTimeouts;
    aimd_.setEstimate(
        static_cast<int64_t>(static_cast<double>(aimd_.estimate()) * kFeedbackTimeoutFactor),
        nowUs);
    updateTarget(nowUs, false);
}

void SendSideBandwidthEstimator::updateTarget(int64_t nowUs, bool force) {
    int64_t t = aimd_.estimate();
    if (!haveTcc_ && rembBps_ != kNoBitrate) {
        t = rembBps_;
    }
    t = std::min({t, loss_.bound(), rembBps_, maxBps_});
    t = std::max(t, minBps_);
    target_ = t;
    alr_.setEstimate(t);
    const int64_t diff = t > lastTracedBps_ ? t - lastTracedBps_ : lastTracedBps_ - t;
    if (force || diff * 100 >= lastTracedBps_) {
        pushTrace(nowUs);
    }
}

int64_t SendSideBandwidthEstimator::allocatableBitrate() const {
    return validatedBps_ == kNoBitrate ? target_
                                       : std::min(target_, std::max(validatedBps_, minBps_));
}

BweTrace SendSideBandwidthEstimator::snapshot(int64_t nowMs) const {
    BweTrace t;
    t.timeMs = nowMs;
    t.availableBitrate = target_;
    t.desiredBitrate = desiredBps_;
    t.effectiveDesiredBitrate = std::clamp(desiredBps_, minBps_, maxBps_);
    t.allocatableBitrate = allocatableBitrate();
    t.minBitrate = minBps_;
    t.maxBitrate = maxBps_;
    t.startBitrate = startBps_;
    t.delayBasedBitrate = aimd_.estimate();
    t.lossBasedBound = loss_.bound();
    t.rembBitrate = rembBps_;
    t.ackedBitrate = acked_.bitrate().value_or(0);
    t.lossFraction = loss_.lossFraction();
    t.usage = usage_;
    t.inAlr = alr_.inAlr();
    t.transportCc = haveTcc_;
    return t;
}

void SendSideBandwidthEstimator::pushTrace(int64_t nowUs) {
    lastTracedBps_ = target_;
    const size_t slot = (traceHead_ + traceCount_) % kTraceCapacity;
    traces_[slot] = snapshot(nowUs / 1000);
    if (traceCount_ == kTraceCapacity) {
        traceHead_ = (traceHead_ + 1) % kTraceCapacity;
    } else {
        ++traceCount_;
    }
}

bool SendSideBandwidthEstimator::popTrace(BweTrace& out) {
    if (traceCount_ == 0) {
        return false;
    }
    out = traces_[traceHead_];
    traceHead_ = (traceHead_ + 1) % kTraceCapacity;
    --traceCount_;
    return true;
}

} // namespace sfu::bwe
