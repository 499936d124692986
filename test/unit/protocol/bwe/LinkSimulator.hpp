// A deterministic link for driving the estimator: a sender pacing at the
// target (plus probe clusters), a bottleneck of a given capacity with a FIFO
// queue (drop-tail past a delay limit), optional random loss and reordering,
// a receiver building real transport-wide feedback packets every 50-100 ms,
// and a return path that may lose them. Time advances in 1 ms steps.
#pragma once

#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/TransportCc.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace sfu::bwe::test {

// splitmix64: the same numbers on every platform.
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
    bool chance(double p) { return p > 0 && uniform() < p; }

private:
    uint64_t state_;
};

struct LinkConfig {
    int64_t capacityBps = 2'000'000;
    int64_t propagationMs = 25;
    int64_t queueLimitMs = 500; // drop-tail beyond this much queueing
    double loss = 0;
    double reorder = 0; // fraction of packets delayed by 5-30 ms more
    int64_t feedbackMinMs = 50;
    int64_t feedbackMaxMs = 100;
    double feedbackLoss = 0;
    // A receiver short of CPU: each ms it stalls with this chance, for
    // 10-40 ms, and stamps what arrived meanwhile with the time it reads it.
    double receiverStall = 0;
    uint64_t seed = 1;
};

struct Sample {
    int64_t timeMs;
    int64_t targetBps;
    int64_t queueMs;
    int64_t allocatableBps;
};

class LinkSimulator {
public:
    static constexpr uint32_t kPacketSize = 1200;
    static constexpr int64_t kRemoteClockOffsetUs = 1'000'000'000; // unrelated origins

    LinkSimulator(const LinkConfig& link, const SendSideBandwidthEstimator::Config& bwe)
        : link_(link), bwe_(bwe), rng_(link.seed) {
        bwe_.setDesiredBitrate(desiredBps, 0);
        nextFeedbackMs_ = link_.feedbackMinMs;
    }

    SendSideBandwidthEstimator& bwe() { return bwe_; }
    LinkConfig& link() { return link_; }
    int64_t nowMs() const { return nowMs_; }
    // Queueing delay a packet entering the bottleneck now would see.
    int64_t queueMs() const { return std::max<int64_t>(0, linkFreeUs_ - nowMs_ * 1000) / 1000; }
    const std::vector<Sample>& samples() const { return samples_; }

    int64_t desiredBps = 10'000'000;
    // What the consumers want, told to the estimator as well.
    void want(int64_t bps) {
        desiredBps = bps;
        bwe_.setDesiredBitrate(bps, nowMs_);
    }
    // When set, the sender offers at most this (application limited).
    std::optional<int64_t> appLimitBps;
    // When set, the media leaves in bursts, one every frameMs (a video
    // frame's packets at once), rather than paced.
    int64_t frameMs = 0;
    // With frameMs: each frame's size as a share of the average, in turn
    // (temporal layers: a base layer frame is larger than the others).
    std::vector<double> frameShares;
    // When set, the sender offers at most what may be allocated (the
    // consumers' layers follow the allocation).
    bool sendAllocatable = false;
    // When set, no feedback is sent and REMB is sent instead, every 200 ms.
    std::optional<int64_t> rembOnlyBps;
    // When set, REMB is sent along with the feedback, every 200 ms.
    std::optional<int64_t> rembBps;
    uint64_t probesSent = 0;
    uint64_t packetsSent = 0;
    uint64_t packetsDropped = 0;
    uint64_t feedbacksDelivered = 0;

    void run(int64_t durationMs, const std::function<void(LinkSimulator&)>& everyMs = nullptr) {
        const int64_t end = nowMs_ + durationMs;
        while (nowMs_ < end) {
            step();
            if (everyMs) {
                everyMs(*this);
            }
            if (nowMs_ % 100 == 0) {
                samples_.push_back(
                    {nowMs_, bwe_.targetBitrate(), queueMs(), bwe_.allocatableBitrate()});
            }
            ++nowMs_;
        }
    }

    // Target at a time already simulated (the sample at or before it).
    int64_t targetAt(int64_t ms) const {
        int64_t v = 0;
        for (const Sample& s : samples_) {
            if (s.timeMs > ms) {
                break;
            }
            v = s.targetBps;
        }
        return v;
    }
    int64_t minTarget(int64_t fromMs, int64_t toMs) const {
        return extreme(fromMs, toMs, &Sample::targetBps, false);
    }
    int64_t maxTarget(int64_t fromMs, int64_t toMs) const {
        return extreme(fromMs, toMs, &Sample::targetBps, true);
    }
    int64_t minAllocatable(int64_t fromMs, int64_t toMs) const {
        return extreme(fromMs, toMs, &Sample::allocatableBps, false);
    }
    int64_t maxAllocatable(int64_t fromMs, int64_t toMs) const {
        return extreme(fromMs, toMs, &Sample::allocatableBps, true);
    }
    // The largest (or smallest) `field` sampled in [fromMs, toMs].
    int64_t extreme(int64_t fromMs, int64_t toMs, int64_t Sample::*field, bool largest) const {
        int64_t v = largest ? 0 : INT64_MAX;
        for (const Sample& s : samples_) {
            if (s.timeMs >= fromMs && s.timeMs <= toMs) {
                v = largest ? std::max(v, s.*field) : std::min(v, s.*field);
            }
        }
        return v;
    }
    int64_t meanTarget(int64_t fromMs, int64_t toMs) const {
        int64_t sum = 0;
        int64_t n = 0;
        for (const Sample& s : samples_) {
            if (s.timeMs >= fromMs && s.timeMs <= toMs) {
                sum += s.targetBps;
                ++n;
            }
        }
        return n > 0 ? sum / n : 0;
    }
    // First sampled time in [fromMs, ...) where `pred(sample)` holds, or -1.
    int64_t firstTime(int64_t fromMs, const std::function<bool(const Sample&)>& pred) const {
        for (const Sample& s : samples_) {
            if (s.timeMs >= fromMs && pred(s)) {
                return s.timeMs;
            }
        }
        return -1;
    }

private:
    struct InFlight {
        uint16_t seq;
        int64_t arrivalUs;
    };
    struct Received {
        int64_t seq; // unwrapped
        int64_t arrivalUs;
    };
    struct Feedback {
        int64_t deliverMs;
        std::vector<uint8_t> bytes;
    };
    struct Cluster {
        int32_t id;
        int64_t bitrateBps;
        uint32_t packets;
        uint32_t left;
        double nextUs;
    };

    void send(uint32_t size, int32_t cluster, PacketKind kind) {
        const uint16_t seq = seq_++;
        bwe_.onPacketSent(seq, size, nowMs_, cluster, kind);
        ++packetsSent;
        const int64_t nowUs = nowMs_ * 1000;
        if (linkFreeUs_ - nowUs > link_.queueLimitMs * 1000) {
            ++packetsDropped;
            return; // drop-tail
        }
        const int64_t start = std::max(nowUs, linkFreeUs_);
        linkFreeUs_ = start + static_cast<int64_t>(size) * 8'000'000 / link_.capacityBps;
        if (rng_.chance(link_.loss)) {
            return;
        }
        int64_t arrival = linkFreeUs_ + link_.propagationMs * 1000;
        if (rng_.chance(link_.reorder)) {
            arrival += 5000 + static_cast<int64_t>(rng_.uniform() * 25000);
        }
        inFlight_.push_back({seq, arrival});
    }

    void step() {
        const int64_t nowUs = nowMs_ * 1000;
        // Feedback and REMB arriving at the sender.
        for (size_t i = 0; i < feedbackBack_.size();) {
            if (feedbackBack_[i].deliverMs <= nowMs_) {
                const auto& b = feedbackBack_[i].bytes;
                const auto pkt = rtcp::PacketView::parse(b.data(), b.size());
                const auto tcc = pkt ? rtcp::TransportCcView::parse(*pkt) : std::nullopt;
                if (tcc) {
                    bwe_.onTransportCcFeedback(*tcc, nowMs_);
                    ++feedbacksDelivered;
                }
                feedbackBack_.erase(feedbackBack_.begin() + static_cast<ptrdiff_t>(i));
            } else {
                ++i;
            }
        }
        const std::optional<int64_t> remb = rembOnlyBps ? rembOnlyBps : rembBps;
        if (remb && nowMs_ % 200 == 0) {
            bwe_.onRemb(*remb, nowMs_);
        }
        if (nowMs_ % 10 == 0) {
            bwe_.process(nowMs_);
        }
        while (auto r = bwe_.takeProbeRequest(nowMs_)) {
            const auto byBytes =
                static_cast<uint32_t>((r->minBytes() + kPacketSize - 1) / kPacketSize);
            const uint32_t packets = std::max(r->minPackets, byBytes);
            clusters_.push_back(
                {r->id, r->bitrateBps, packets, packets, static_cast<double>(nowUs)});
            ++probesSent;
        }
        // Probe clusters first (one at a time, as a pacer sends them), then
        // media paced at the target.
        if (!clusters_.empty()) {
            Cluster& c = clusters_.front();
            c.nextUs = std::max(c.nextUs, static_cast<double>(nowUs));
            while (c.left > 0 && c.nextUs < static_cast<double>(nowUs + 1000)) {
                send(kPacketSize, c.id, PacketKind::Padding);
                --c.left;
                c.nextUs += kPacketSize * 8e6 / static_cast<double>(c.bitrateBps);
            }
        }
        int32_t probing = kNoProbeCluster;
        if (!clusters_.empty() && clusters_.front().left == 0) {
            clusters_.erase(clusters_.begin());
        } else if (!clusters_.empty() && clusters_.front().left < clusters_.front().packets) {
            probing = clusters_.front().id;
        }
        int64_t rate = bwe_.targetBitrate();
        if (appLimitBps) {
            rate = std::min(rate, *appLimitBps);
        }
        if (sendAllocatable) {
            rate = std::min({rate, bwe_.allocatableBitrate(), desiredBps});
        }
        budget_ += static_cast<double>(rate) / 8000.0;
        const double frameBytes = static_cast<double>(rate) * static_cast<double>(frameMs) / 8000.0;
        budget_ = std::min(budget_, std::max(2.0 * kPacketSize, frameBytes + kPacketSize));
        const bool frameDue = frameMs <= 0 || nowMs_ % frameMs == 0;
        if (frameDue && frameMs > 0 && !frameShares.empty()) {
            frameCarry_ += frameBytes * frameShares[frameIndex_++ % frameShares.size()];
            while (frameCarry_ >= kPacketSize) {
                frameCarry_ -= kPacketSize;
                send(kPacketSize, probing, PacketKind::Media);
            }
            budget_ = 0;
        }
        // Media sent while a cluster is under way belongs to it (as
        // TransportBwe tags it).
        while (frameDue && budget_ >= kPacketSize) {
            budget_ -= kPacketSize;
            send(kPacketSize, probing, PacketKind::Media);
        }
        // Arrivals at the receiver, read when it is not stalled.
        if (nowMs_ >= stalledUntilMs_ && rng_.chance(link_.receiverStall)) {
            stalledUntilMs_ = nowMs_ + 10 + static_cast<int64_t>(rng_.next() % 31);
        }
        const bool stalled = nowMs_ < stalledUntilMs_;
        for (size_t i = 0; i < inFlight_.size() && !stalled;) {
            if (inFlight_[i].arrivalUs <= nowUs + 999) {
                const int64_t readUs = std::max(inFlight_[i].arrivalUs, nowUs);
                const auto delta = static_cast<int16_t>(
                    static_cast<uint16_t>(inFlight_[i].seq - static_cast<uint16_t>(rxMaxSeq_)));
                const int64_t seq = rxMaxSeq_ < 0 ? inFlight_[i].seq : rxMaxSeq_ + delta;
                rxMaxSeq_ = std::max(rxMaxSeq_, seq);
                if (rxNextSeq_ < 0) {
                    rxNextSeq_ = seq;
                }
                if (seq >= rxNextSeq_) {
                    received_.push_back({seq, readUs + kRemoteClockOffsetUs});
                }
                inFlight_[i] = inFlight_.back();
                inFlight_.pop_back();
            } else {
                ++i;
            }
        }
        if (nowMs_ >= nextFeedbackMs_ && !stalled) {
            sendFeedback();
            const int64_t span = link_.feedbackMaxMs - link_.feedbackMinMs;
            nextFeedbackMs_ =
                nowMs_ + link_.feedbackMinMs +
                (span > 0 ? static_cast<int64_t>(rng_.next() % static_cast<uint64_t>(span + 1))
                          : 0);
        }
    }

    void sendFeedback() {
        if (received_.empty() || rembOnlyBps) {
            received_.clear();
            return;
        }
        std::sort(received_.begin(), received_.end(),
                  [](const Received& a, const Received& b) { return a.seq < b.seq; });
        size_t i = 0;
        while (i < received_.size()) {
            const auto base = static_cast<uint16_t>(rxNextSeq_);
            rtcp::TransportCcBuilder b(1, 2, base, received_[i].arrivalUs, fbCount_++);
            int64_t last = rxNextSeq_ - 1;
            while (i < received_.size()) {
                const auto r =
                    b.addReceived(static_cast<uint16_t>(received_[i].seq), received_[i].arrivalUs);
                if (r != rtcp::TransportCcBuilder::AddResult::Ok) {
                    break;
                }
                last = received_[i].seq;
                ++i;
            }
            if (b.empty()) {
                ++i; // cannot happen with these sizes; skip rather than loop
                continue;
            }
            std::vector<uint8_t> bytes(b.size());
            b.serialize(bytes.data(), bytes.size());
            rxNextSeq_ = last + 1;
            if (!rng_.chance(link_.feedbackLoss)) {
                feedbackBack_.push_back({nowMs_ + link_.propagationMs, std::move(bytes)});
            }
        }
        received_.clear();
    }

    LinkConfig link_;
    SendSideBandwidthEstimator bwe_;
    Rng rng_;
    int64_t nowMs_ = 0;
    uint16_t seq_ = 65000; // wraps early in every run
    double budget_ = 0;
    double frameCarry_ = 0;
    size_t frameIndex_ = 0;
    int64_t linkFreeUs_ = 0;
    std::vector<InFlight> inFlight_;
    std::vector<Cluster> clusters_;
    std::vector<Received> received_;
    std::vector<Feedback> feedbackBack_;
    int64_t rxMaxSeq_ = -1;
    int64_t rxNextSeq_ = -1;
    uint8_t fbCount_ = 0;
    int64_t nextFeedbackMs_ = 0;
    int64_t stalledUntilMs_ = 0;
    std::vector<Sample> samples_;
};

} // namespace sfu::bwe::test
