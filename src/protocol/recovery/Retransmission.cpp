#include "protocol/recovery/Retransmission.hpp"

#include "protocol/rtp/SeqNum.hpp"

#include <cstring>

namespace sfu::recovery {

std::optional<size_t> SendSeqMap::indexOf(uint16_t outputSeq) const {
    if (!started_) {
        return std::nullopt;
    }
    const int32_t behind = rtp::seqDiff(newest_, outputSeq);
    if (behind < 0 || static_cast<size_t>(behind) >= kSize) {
        return std::nullopt;
    }
    const size_t index = outputSeq % kSize;
    // Belt and braces: record() clears skipped slots, and the entry's own
    // number must match too.
    if (!valid_[index] || entries_[index].outputSeq != outputSeq) {
        return std::nullopt;
    }
    return index;
}

void SendSeqMap::noteStore(uint16_t outputSeq, const PacketStore* store) {
    if (runCount_ > 0) {
        // A late packet from before the oldest run it belongs to.
        Run& oldest = runs_[runHead_];
        if (oldest.store == store && rtp::isNewer(oldest.firstOutputSeq, outputSeq)) {
            oldest.firstOutputSeq = outputSeq;
            return;
        }
        const Run& newest = runs_[(runHead_ + runCount_ - 1) % kMaxRuns];
        // A late packet older than the newest run stays in the run it
        // falls in: switches only happen at the newest output.
        if (newest.store == store || !rtp::isNewer(outputSeq, newest.firstOutputSeq)) {
            return;
        }
        if (runCount_ == kMaxRuns) {
            runHead_ = (runHead_ + 1) % kMaxRuns;
            --runCount_;
        }
    }
    runs_[(runHead_ + runCount_) % kMaxRuns] = Run{outputSeq, store};
    ++runCount_;
}

const PacketStore* SendSeqMap::storeOf(uint16_t outputSeq, bool& known) const {
    // The newest run that starts at or before it.
    for (size_t i = runCount_; i-- > 0;) {
        const Run& run = runs_[(runHead_ + i) % kMaxRuns];
        if (!rtp::isNewer(run.firstOutputSeq, outputSeq)) {
            known = true;
            return run.store;
        }
    }
    known = false;
    return nullptr;
}

void SendSeqMap::record(uint16_t outputSeq, uint16_t inputSeq, uint32_t timestampOffset,
                        const PacketStore* store, bool marker) {
    if (!started_) {
        started_ = true;
        newest_ = outputSeq;
    } else {
        const int32_t diff = rtp::seqDiff(outputSeq, newest_);
        if (diff > 0) {
            // Slots skipped over hold entries that left the window: clear
            // them so none can be taken for a number 65536 later.
            if (static_cast<size_t>(diff) > kSize) {
                valid_.reset();
            } else {
                for (int32_t skipped = 1; skipped < diff; ++skipped) {
                    valid_.reset(static_cast<uint16_t>(newest_ + skipped) % kSize);
                }
            }
            newest_ = outputSeq;
        } else if (static_cast<size_t>(-diff) >= kSize) {
            return;
        }
    }
    noteStore(outputSeq, store);
    const size_t index = outputSeq % kSize;
    entries_[index] = Entry{timestampOffset, 0, inputSeq, outputSeq};
    valid_.set(index);
    resent_.reset(index);
    marker_[index] = marker;
}

std::optional<SentPacket> SendSeqMap::lookup(uint16_t outputSeq) const {
    const std::optional<size_t> index = indexOf(outputSeq);
    if (!index) {
        return std::nullopt;
    }
    const Entry& entry = entries_[*index];
    bool known = false;
    const PacketStore* store = storeOf(outputSeq, known);
    if (!known) {
        return std::nullopt;
    }
    return SentPacket{entry.outputSeq, entry.inputSeq, entry.timestampOffset, store,
                      marker_[*index]};
}

bool SendSeqMap::allowResend(uint16_t outputSeq, uint64_t nowMs, uint32_t minIntervalMs) {
    const std::optional<size_t> index = indexOf(outputSeq);
    if (!index) {
        return false;
    }
    Entry& entry = entries_[*index];
    const auto now = static_cast<uint32_t>(nowMs);
    if (resent_[*index] && now - entry.resentMs < minIntervalMs) {
        return false;
    }
    resent_.set(*index);
    entry.resentMs = now;
    return true;
}

void SendSeqMap::clear() {
    valid_.reset();
    resent_.reset();
    started_ = false;
    runCount_ = 0;
    runHead_ = 0;
}

bool applyRewrite(rtp::RtpPacket& packet, const Rewrite& rewrite, const SentPacket& sent) {
    packet.setSsrc(rewrite.ssrc);
    packet.setSequenceNumber(sent.outputSeq);
    packet.setPayloadType(rewrite.payloadType);
    packet.setTimestamp(packet.timestamp() + sent.timestampOffset);
    if (rewrite.extensionIds != nullptr) {
        return packet.remapExtensionIds(*rewrite.extensionIds);
    }
    return true;
}

std::optional<rtp::RtpPacket> rewriteForResend(const StoredPacket& stored, const SentPacket& sent,
                                               const Rewrite& rewrite, uint8_t* out, size_t cap) {
    const std::span<const uint8_t> bytes = stored.bytes();
    if (out == nullptr || bytes.size() > cap) {
        return std::nullopt;
    }
    std::memcpy(out, bytes.data(), bytes.size());
    // The store only holds packets that parsed, so this parse only rebuilds
    // the extension index over the copy.
    std::optional<rtp::RtpPacket> packet = rtp::RtpPacket::parse(out, bytes.size(), cap);
    if (!packet || !applyRewrite(*packet, rewrite, sent)) {
        return std::nullopt;
    }
    packet->setMarker(sent.marker);
    return packet;
}

std::optional<rtp::RtpPacket> buildRetransmission(const StoredPacket& stored,
                                                  const SentPacket& sent, const Rewrite& rewrite,
                                                  RtxStream* rtx, uint8_t* out, size_t cap) {
    std::optional<rtp::RtpPacket> packet = rewriteForResend(stored, sent, rewrite, out, cap);
    if (!packet) {
        return std::nullopt;
    }
    if (rtx != nullptr) {
        if (!packet->rtxEncode(rtx->payloadType, rtx->ssrc, rtx->nextSeq)) {
            return std::nullopt;
        }
        ++rtx->nextSeq;
    }
    return packet;
}

} // namespace sfu::recovery
