#include "protocol/bwe/AcknowledgedBitrate.hpp"

#include <algorithm>

namespace sfu::bwe {

void AcknowledgedBitrate::onPacket(const PacketResult& p) {
    if (!p.received) {
        return;
    }
    if (havePacket_ && p.arrivalUs < lastArrivalUs_ - window_.windowUs()) {
        window_.reset();
        recentCount_ = 0;
    }
    if (!havePacket_ || p.arrivalUs > lastArrivalUs_) {
        lastArrivalUs_ = p.arrivalUs;
    }
    havePacket_ = true;
    window_.add(p.size, p.arrivalUs);
    recent_[recentNext_] = {p.sendUs, p.arrivalUs, p.size};
    recentNext_ = (recentNext_ + 1) % kRecentPackets;
    recentCount_ = std::min(recentCount_ + 1, kRecentPackets);
}

std::optional<int64_t> AcknowledgedBitrate::backloggedBitrate() const {
    // The packets within the window, newest first, and the extremes of
    // their send and arrival times (the first arrival's and the last send's
    // bytes left out: each rate counts what came after its first packet).
    size_t count = 0;
    int64_t bytes = 0;
    const Recent* firstArrival = nullptr;
    const Recent* lastSend = nullptr;
    int64_t firstSendUs = 0;
    int64_t lastArrivalUs = 0;
    for (size_t i = 0; i < recentCount_; ++i) {
        const Recent& r = recent_[(recentNext_ + kRecentPackets - 1 - i) % kRecentPackets];
        if (r.arrivalUs < lastArrivalUs_ - kRecentWindowUs) {
            continue;
        }
        ++count;
        bytes += r.size;
        if (firstArrival == nullptr || r.arrivalUs < firstArrival->arrivalUs) {
            firstArrival = &r;
        }
        if (lastSend == nullptr || r.sendUs > lastSend->sendUs) {
            lastSend = &r;
        }
        firstSendUs = count == 1 ? r.sendUs : std::min(firstSendUs, r.sendUs);
        lastArrivalUs = count == 1 ? r.arrivalUs : std::max(lastArrivalUs, r.arrivalUs);
    }
    if (count < kRecentMinPackets) {
        return std::nullopt;
    }
    const int64_t arrivalSpanUs = lastArrivalUs - firstArrival->arrivalUs;
    const int64_t sendSpanUs = lastSend->sendUs - firstSendUs;
    if (arrivalSpanUs <= 0) {
        return std::nullopt;
    }
    // What arrived in the first tick of the window (the feedback's
    // resolution) arrived by then: a receiver that read late stamps a
    // burst with one time, and counting it would shorten the span it took.
    int64_t firstTickBytes = 0;
    for (size_t i = 0; i < recentCount_; ++i) {
        const Recent& r = recent_[(recentNext_ + kRecentPackets - 1 - i) % kRecentPackets];
        if (r.arrivalUs >= firstArrival->arrivalUs &&
            r.arrivalUs < firstArrival->arrivalUs + kArrivalTickUs) {
            firstTickBytes += r.size;
        }
    }
    const int64_t arrivedBits = (bytes - firstTickBytes) * 8;
    const int64_t sentBits = (bytes - lastSend->size) * 8;
    // Sent no faster than 1.25x the arrivals: nothing held them back.
    if (sendSpanUs > 0 && sentBits * arrivalSpanUs * 4 < arrivedBits * sendSpanUs * 5) {
        return std::nullopt;
    }
    return arrivedBits * 1'000'000 / arrivalSpanUs;
}

bool AcknowledgedBitrate::keptBusy(int64_t baseOffsetUs) const {
    // Oldest first: the order they were fed in, by arrival within each
    // feedback.
    size_t count = 0;
    const Recent* previous = nullptr;
    for (size_t i = recentCount_; i > 0; --i) {
        const Recent& r = recent_[(recentNext_ + kRecentPackets - i) % kRecentPackets];
        if (r.arrivalUs < lastArrivalUs_ - kRecentWindowUs) {
            continue;
        }
        if (previous != nullptr && r.sendUs + baseOffsetUs > previous->arrivalUs) {
            return false; // the link was idle before this one
        }
        previous = &r;
        ++count;
    }
    return count >= kRecentMinPackets;
}

} // namespace sfu::bwe
