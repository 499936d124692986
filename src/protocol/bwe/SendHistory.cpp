#include "protocol/bwe/SendHistory.hpp"

namespace sfu::bwe {

SendHistory::SendHistory(size_t capacity, int64_t maxAgeUs)
    : ring_(capacity == 0 ? 1 : capacity), maxAgeUs_(maxAgeUs) {
    results_.reserve(ring_.size());
}

int64_t SendHistory::onSent(uint16_t seq, uint32_t size, int64_t sendUs, int32_t probeClusterId,
                            PacketKind kind) {
    int64_t unwrapped = seq;
    if (lastSeq_ >= 0) {
        const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - lastSeq_));
        unwrapped = lastSeq_ + delta;
        if (unwrapped < 0) {
            unwrapped += 65536;
        }
    }
    Entry& e = ring_[static_cast<size_t>(unwrapped) % ring_.size()];
    if (e.state == State::Sent) {
        inFlightBytes_ -= e.size; // overwritten before any feedback
    }
    e = Entry{unwrapped, sendUs, size, probeClusterId, kind, State::Sent};
    inFlightBytes_ += size;
    if (unwrapped > lastSeq_) {
        lastSeq_ = unwrapped;
    }
    return unwrapped;
}

int64_t SendHistory::unwrapReference(int32_t reference) {
    // The field is 24 bits, sign-extended by the parser.
    if (!haveReference_) {
        haveReference_ = true;
        lastReference_ = reference;
        return reference;
    }
    int64_t delta = (int64_t{reference} - lastReference_) & 0xFFFFFF;
    if (delta >= 0x800000) {
        delta -= 0x1000000;
    }
    lastReference_ += delta;
    return lastReference_;
}

void SendHistory::beginFeedback() {
    results_.clear();
}

void SendHistory::addStatus(uint16_t seq, bool received, int64_t arrivalUs, int64_t nowUs) {
    if (lastSeq_ < 0) {
        ++unknown_;
        return;
    }
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - lastSeq_));
    const int64_t unwrapped = lastSeq_ + delta;
    if (delta > 0 || unwrapped < 0) {
        ++unknown_;
        return;
    }
    Entry& e = ring_[static_cast<size_t>(unwrapped) % ring_.size()];
    if (e.seq != unwrapped || e.state == State::Empty) {
        ++expired_; // overwritten by a newer packet, or never held
        return;
    }
    if (nowUs - e.sendUs > maxAgeUs_) {
        ++expired_;
        return;
    }
    if (e.state == State::ReportedReceived || (e.state == State::ReportedLost && !received)) {
        ++duplicated_;
        return;
    }
    if (e.state == State::Sent) {
        inFlightBytes_ -= e.size;
    }
    e.state = received ? State::ReportedReceived : State::ReportedLost;
    if (results_.size() == results_.capacity()) {
        return; // cannot happen: one result per held entry at most
    }
    PacketResult r;
    r.seq = unwrapped;
    r.sendUs = e.sendUs;
    r.arrivalUs = received ? arrivalUs : 0;
    r.size = e.size;
    r.probeClusterId = e.probeClusterId;
    r.kind = e.kind;
    r.received = received;
    results_.push_back(r);
}

std::span<const PacketResult> SendHistory::onFeedback(const rtcp::TransportCcView& feedback,
                                                      int64_t nowUs) {
    beginFeedback();
    const int32_t reference = feedback.referenceTime();
    const int64_t shiftUs = (unwrapReference(reference) - reference) * rtcp::kTccReferenceUs;
    for (const rtcp::TccPacket p : feedback) {
        addStatus(p.seq, p.received(), p.arrivalUs + shiftUs, nowUs);
    }
    return results_;
}

} // namespace sfu::bwe
