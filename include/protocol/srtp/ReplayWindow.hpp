// The packet index bookkeeping of SRTP and SRTCP: the RFC 3711 appendix A
// estimate of a packet's 48-bit index from its 16-bit sequence number, and
// a sliding replay window over indexes (RFC 3711 3.3.2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::srtp {

// The index (ROC * 2^16 + SEQ) of a packet with sequence number `seq` on a
// stream whose highest index so far is `highest` (RFC 3711 appendix A): the
// candidate of the rollover counters ROC - 1, ROC and ROC + 1 closest to
// `highest`. Empty when that would be ROC - 1 below zero (a packet from
// before the stream began) or ROC + 1 past 32 bits.
constexpr std::optional<uint64_t> estimateRtpIndex(uint64_t highest, uint16_t seq) {
    const uint32_t roc = static_cast<uint32_t>(highest >> 16);
    const uint16_t last = static_cast<uint16_t>(highest);
    int64_t v = roc;
    if (last < 0x8000) {
        if (seq > last && seq - last > 0x8000) {
            v = static_cast<int64_t>(roc) - 1;
        }
    } else if (last - 0x8000 > seq) {
        v = static_cast<int64_t>(roc) + 1;
    }
    if (v < 0 || v > 0xffffffff) {
        return std::nullopt;
    }
    return (static_cast<uint64_t>(v) << 16) | seq;
}

// Which of the last `kSize` indexes up to the highest one were seen. An
// index is accepted once if it is newer than the highest, or at most
// kSize - 1 behind it and not seen yet.
class ReplayWindow {
public:
    static constexpr size_t kSize = 1024;

    enum class Verdict : uint8_t { New, Seen, TooOld };

    // The window starts at `index`, which counts as seen.
    explicit ReplayWindow(uint64_t index) : highest_(index) { bits_[0] = 1; }

    uint64_t highest() const { return highest_; }

    Verdict check(uint64_t index) const {
        if (index > highest_) {
            return Verdict::New;
        }
        const uint64_t behind = highest_ - index;
        if (behind >= kSize) {
            return Verdict::TooOld;
        }
        return (bits_[behind / 64] >> (behind % 64)) & 1 ? Verdict::Seen : Verdict::New;
    }

    // Marks `index` seen, which check() must have called New.
    void accept(uint64_t index) {
        if (index > highest_) {
            shift(index - highest_);
            highest_ = index;
        }
        const uint64_t behind = highest_ - index;
        bits_[behind / 64] |= uint64_t{1} << (behind % 64);
    }

private:
    // Bit i of the window stands for index highest_ - i: moving the highest
    // index up by `by` moves every bit that far towards the old end.
    void shift(uint64_t by) {
        if (by >= kSize) {
            bits_.fill(0);
            return;
        }
        const size_t words = static_cast<size_t>(by / 64);
        const unsigned bits = static_cast<unsigned>(by % 64);
        for (size_t i = kWords; i-- > 0;) {
            uint64_t word = 0;
            if (i >= words) {
                word = bits_[i - words] << bits;
                if (bits != 0 && i > words) {
                    word |= bits_[i - words - 1] >> (64 - bits);
                }
            }
            bits_[i] = word;
        }
    }

    static constexpr size_t kWords = kSize / 64;

    uint64_t highest_;
    std::array<uint64_t, kWords> bits_{};
};

} // namespace sfu::srtp
