// Transport-wide congestion control, receiving side
// (draft-holmer-rmcat-transport-wide-cc-extensions-01): remembers when each
// packet carrying a transport-wide sequence number arrived and reports the
// arrivals to the sender in feedback packets (RTPFB FMT 15), one batch per
// interval. The sender (a browser) estimates the available bandwidth from
// them; without them its estimate stays at its low start value and it sends
// only its smallest simulcast stream.
#pragma once

#include "protocol/rtcp/TransportCc.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::rtc {

class TransportCcFeedback {
public:
    // Arrivals held between two flushes: 100 ms at 10,000 packets/s.
    static constexpr size_t kMaxPending = 1024;
    static constexpr uint64_t kIntervalMs = 100;
    // Longest gap reported as lost packets rather than skipped.
    static constexpr int64_t kMaxLostRun = 1000;

    void onPacket(uint16_t seq, int64_t arrivalUs, uint32_t mediaSsrc);

    // Builds the feedback for what arrived since the last flush and hands
    // each packet to send(const uint8_t*, size_t). Arrivals older than what
    // an earlier feedback already covered are left out (it reported them
    // lost). Allocates nothing.
    template <typename Send>
    void flush(uint32_t senderSsrc, Send&& send);

    uint64_t feedbackPackets() const { return feedbackPackets_; }
    // Arrivals that found the batch full, or came too late to be reported.
    uint64_t arrivalsDropped() const { return arrivalsDropped_; }

private:
    struct Arrival {
        int64_t seq; // unwrapped
        int64_t us;
    };

    template <typename Send>
    void emit(const rtcp::TransportCcBuilder& builder, Send& send);

    std::array<Arrival, kMaxPending> pending_{};
    size_t count_ = 0;
    bool started_ = false;
    int64_t highest_ = 0;  // newest unwrapped sequence number seen
    int64_t nextBase_ = 0; // first sequence number not yet covered by feedback
    uint32_t mediaSsrc_ = 0;
    uint8_t fbCount_ = 0;
    uint64_t feedbackPackets_ = 0;
    uint64_t arrivalsDropped_ = 0;
    std::array<uint8_t, rtcp::TransportCcBuilder::kMaxSize> buffer_{};
};

template <typename Send>
void TransportCcFeedback::emit(const rtcp::TransportCcBuilder& builder, Send& send) {
    if (const size_t size = builder.serialize(buffer_.data(), buffer_.size()); size > 0) {
        ++feedbackPackets_;
        ++fbCount_;
        send(buffer_.data(), size);
    }
}

template <typename Send>
void TransportCcFeedback::flush(uint32_t senderSsrc, Send&& send) {
    if (count_ == 0) {
        return;
    }
    Arrival* const first = pending_.data();
    Arrival* const last = first + count_;
    std::sort(first, last, [](const Arrival& a, const Arrival& b) { return a.seq < b.seq; });
    count_ = 0;

    std::optional<rtcp::TransportCcBuilder> builder;
    int64_t previous = nextBase_ - 1;
    for (const Arrival* a = first; a != last; ++a) {
        if (a->seq <= previous) {
            // A duplicate, or already reported (as lost) by earlier feedback.
            ++arrivalsDropped_;
            continue;
        }
        const auto seq = static_cast<uint16_t>(a->seq);
        if (builder &&
            builder->addReceived(seq, a->us) != rtcp::TransportCcBuilder::AddResult::Ok) {
            emit(*builder, send);
            builder.reset();
        }
        if (!builder) {
            // Starting right after the last number covered reports the
            // packets in between as lost; a long jump (a sender restart)
            // is not worth thousands of "lost" statuses.
            const int64_t base = a->seq - previous <= kMaxLostRun ? previous + 1 : a->seq;
            builder.emplace(senderSsrc, mediaSsrc_, static_cast<uint16_t>(base), a->us, fbCount_);
            if (builder->addReceived(seq, a->us) != rtcp::TransportCcBuilder::AddResult::Ok) {
                ++arrivalsDropped_;
                builder.reset();
                continue;
            }
        }
        previous = a->seq;
    }
    if (builder && !builder->empty()) {
        emit(*builder, send);
    }
    nextBase_ = previous + 1;
}

} // namespace sfu::rtc
