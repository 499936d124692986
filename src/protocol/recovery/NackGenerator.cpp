#include "protocol/recovery/NackGenerator.hpp"

#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/SeqNum.hpp"

#include <algorithm>

namespace sfu::recovery {

namespace {

// Extended sequence numbers start this far up so that stepping back from the
// first packet never goes below zero.
constexpr uint64_t kExtBase = uint64_t{1} << 32;

uint32_t low32(uint64_t ms) {
    return static_cast<uint32_t>(ms);
}

} // namespace

NackGenerator::NackGenerator(const NackConfig& config)
    : config_(config), capacity_(std::max<size_t>(config.maxPending, 1)),
      entries_(std::make_unique<Entry[]>(capacity_)) {
    config_.maxPending = capacity_;
}

uint64_t NackGenerator::extend(uint16_t seq) const {
    return static_cast<uint64_t>(static_cast<int64_t>(highestExt_) +
                                 rtp::seqDiff(seq, highestSeq()));
}

bool NackGenerator::received(uint64_t ext) const {
    const uint64_t bit = ext % kReceivedWindow;
    return (receivedBits_[bit / 64] >> (bit % 64)) & 1U;
}

void NackGenerator::markReceived(uint64_t ext) {
    const uint64_t bit = ext % kReceivedWindow;
    receivedBits_[bit / 64] |= uint64_t{1} << (bit % 64);
}

void NackGenerator::advanceWindow(uint64_t ext) {
    // Positions entering the window held sequence numbers 1024 older: clear
    // them so they read as not received.
    if (ext - highestExt_ >= kReceivedWindow) {
        receivedBits_.fill(0);
        return;
    }
    for (uint64_t e = highestExt_ + 1; e <= ext; ++e) {
        const uint64_t bit = e % kReceivedWindow;
        receivedBits_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
    }
}

void NackGenerator::start(uint16_t seq) {
    started_ = true;
    hasProbation_ = false;
    highestExt_ = kExtBase + seq;
    receivedBits_.fill(0);
    markReceived(highestExt_);
}

void NackGenerator::reset() {
    clearPending(GiveUpReason::Overflow);
    started_ = false;
    hasProbation_ = false;
    receivedBits_.fill(0);
}

void NackGenerator::clearPending(GiveUpReason reason) {
    counters_.givenUp[static_cast<size_t>(reason)] += live_;
    head_ = 0;
    size_ = 0;
    live_ = 0;
}

void NackGenerator::noteKeyFrame(uint64_t ext) {
    if (!haveKeyFrame_ || ext > keyFrameExt_) {
        keyFrameExt_ = ext;
        haveKeyFrame_ = true;
    }
}

void NackGenerator::compact() {
    size_t write = 0;
    for (size_t read = 0; read < size_; ++read) {
        if (at(read).live) {
            at(write++) = at(read);
        }
    }
    size_ = write;
}

size_t NackGenerator::findEntry(uint64_t ext) const {
    // Removed entries keep their sequence number, so the ring stays sorted
    // and a binary search over it is valid.
    size_t lo = 0;
    size_t hi = size_;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (at(mid).ext < ext) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < size_ && at(lo).ext == ext ? lo : size_;
}

bool NackGenerator::isPending(uint16_t seq) const {
    if (!started_) {
        return false;
    }
    const size_t i = findEntry(extend(seq));
    return i < size_ && at(i).live;
}

ArrivalResult NackGenerator::restart(uint16_t seq, bool isKeyFrame) {
    clearPending(GiveUpReason::Overflow);
    start(seq);
    ++counters_.restarts;
    ArrivalResult result{Arrival::Restart, !isKeyFrame, 0};
    if (result.keyFrameNeeded) {
        ++counters_.keyFramesNeeded;
    }
    return result;
}

ArrivalResult NackGenerator::onPacket(uint16_t seq, bool isKeyFrame, bool isRecovered,
                                      uint64_t nowMs) {
    if (isRecovered) {
        ++counters_.recovered;
    }
    if (!started_) {
        start(seq);
        return {Arrival::First, false, 0};
    }

    const int32_t diff = rtp::seqDiff(seq, highestSeq());
    const uint64_t ext = extend(seq);

    if (diff > 0) {
        if (diff > config_.maxGap) {
            return restart(seq, isKeyFrame);
        }
        hasProbation_ = false;
        ArrivalResult result{Arrival::InOrder, false, 0};
        const auto missing = static_cast<uint16_t>(diff - 1);
        if (isKeyFrame) {
            noteKeyFrame(ext);
        }
        if (missing > 0) {
            if (live_ + missing > config_.maxPending) {
                clearPending(GiveUpReason::Overflow);
                result.keyFrameNeeded = true;
                ++counters_.keyFramesNeeded;
            } else {
                if (size_ + missing > capacity_) {
                    compact();
                }
                const uint32_t now = low32(nowMs);
                for (uint64_t e = highestExt_ + 1; e < ext; ++e) {
                    at(size_++) = Entry{e, now, 0, 0, true};
                }
                live_ += missing;
                counters_.missing += missing;
                result.newlyMissing = missing;
            }
        }
        advanceWindow(ext);
        highestExt_ = ext;
        markReceived(ext);
        return result;
    }

    // Older than (or equal to) the newest packet.
    const size_t index = findEntry(ext);
    if (index < size_ && at(index).live) {
        at(index).live = false;
        --live_;
        ++counters_.repaired;
        if (highestExt_ - ext < kReceivedWindow) {
            markReceived(ext);
        }
        if (isKeyFrame) {
            noteKeyFrame(ext);
        }
        return {Arrival::Repaired, false, 0};
    }
    if (highestExt_ - ext < kReceivedWindow) {
        if (received(ext)) {
            ++counters_.duplicates;
            return {Arrival::Duplicate, false, 0};
        }
        markReceived(ext);
        if (isKeyFrame) {
            noteKeyFrame(ext);
        }
        return {Arrival::Late, false, 0};
    }
    if (-diff > config_.maxGap) {
        // Far behind: a stray packet, or a sender that restarted its
        // numbering lower. The second in a row settles it.
        if (hasProbation_ && seq == probationSeq_) {
            return restart(seq, isKeyFrame);
        }
        hasProbation_ = true;
        probationSeq_ = static_cast<uint16_t>(seq + 1);
    }
    ++counters_.tooOld;
    return {Arrival::TooOld, false, 0};
}

size_t NackGenerator::collect(uint64_t nowMs, uint32_t rttMs, std::span<uint16_t> out) {
    const uint32_t now = low32(nowMs);
    const uint32_t interval = std::max(rttMs, config_.minIntervalMs);
    size_t count = 0;
    size_t write = 0;
    // One pass both picks the due packets and sweeps out removed and
    // given-up entries, keeping the order.
    for (size_t read = 0; read < size_; ++read) {
        Entry entry = at(read);
        if (!entry.live) {
            continue;
        }
        if (now - entry.missingSinceMs > config_.maxAgeMs) {
            giveUp(GiveUpReason::Age);
            --live_;
            continue;
        }
        const bool due = entry.sent == 0 || now - entry.lastSentMs >= interval;
        if (due && haveKeyFrame_ && entry.ext < keyFrameExt_ &&
            entry.sent >= config_.keyFrameAttempts) {
            giveUp(GiveUpReason::KeyFrame);
            --live_;
            continue;
        }
        if (due) {
            if (entry.sent >= config_.maxRetries) {
                giveUp(GiveUpReason::Retries);
                --live_;
                continue;
            }
            if (count < out.size()) {
                out[count++] = static_cast<uint16_t>(entry.ext);
                ++entry.sent;
                entry.lastSentMs = now;
            }
        }
        at(write++) = entry;
    }
    size_ = write;
    if (size_ == 0) {
        head_ = 0;
    }
    if (count > 0) {
        ++counters_.nackCount;
        counters_.nackPacketCount += count;
    }
    return count;
}

NackWrite writeNackPacket(uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> seqs,
                          uint8_t* out, size_t cap) {
    if (cap < rtcp::kFeedbackHeaderSize + rtcp::NackItem::kSize || seqs.empty()) {
        return {};
    }
    const size_t maxItems =
        std::min(kMaxNackItems, (cap - rtcp::kFeedbackHeaderSize) / rtcp::NackItem::kSize);
    // Find how many leading seqs fit in maxItems entries, following the same
    // packing rule as compressNack (an entry covers its pid and the 16
    // numbers after it), so the prefix compresses to at most maxItems.
    size_t items = 0;
    uint16_t pid = 0;
    size_t taken = 0;
    for (; taken < seqs.size(); ++taken) {
        const uint16_t seq = seqs[taken];
        if (items > 0) {
            const auto d = static_cast<uint16_t>(seq - pid);
            if (d <= 16) {
                continue;
            }
        }
        if (items == maxItems) {
            break;
        }
        ++items;
        pid = seq;
    }
    std::array<rtcp::NackItem, kMaxNackItems> buffer;
    const size_t n = rtcp::compressNack(seqs.first(taken), std::span(buffer.data(), items));
    const size_t bytes =
        rtcp::writeNack(senderSsrc, mediaSsrc, std::span(buffer.data(), n), out, cap);
    return {bytes, bytes > 0 ? taken : 0};
}

} // namespace sfu::recovery
