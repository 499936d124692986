#include "rtc/recovery/Retransmission.hpp"

#include "rtc/rtp/SeqNum.hpp"

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

void SendSeqMap::record(uint16_t outputSeq, uint16_t inputSeq, uint32_t timestampOffset) {
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
    const size_t index = outputSeq % kSize;
    entries_[index] = Entry{timestampOffset, 0, inputSeq, outputSeq};
    valid_.set(index);
    resent_.reset(index);
}

std::optional<SentPacket> SendSeqMap::lookup(uint16_t outputSeq) const {
    const std::optional<size_t> index = indexOf(outputSeq);
    if (!index) {
        return std::nullopt;
    }
    const Entry& entry = entries_[*index];
    return SentPacket{entry.outputSeq, entry.inputSeq, entry.timestampOffset};
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
