// Output numbering for a consumer: every forwarded packet gets
// output = input + offset, so the endpoint sees one contiguous stream even
// when the SFU drops packets (layer switches) or switches to another input
// stream altogether.
#pragma once

#include "protocol/rtp/SeqNum.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace sfu::rtp {

// Bits is the counter width (16 for RTP sequence numbers, 15 for VP8 picture
// ids, 8 for TL0PICIDX). Memory is fixed: the dropped inputs are remembered
// as up to MaxDropRanges runs of consecutive numbers.
template <unsigned Bits = 16, size_t MaxDropRanges = 32>
class BasicSeqRewriter {
public:
    static_assert(Bits >= 2 && Bits <= 32);
    static_assert(MaxDropRanges >= 1);
    using Value = std::conditional_t<(Bits <= 8), uint8_t,
                                     std::conditional_t<(Bits <= 16), uint16_t, uint32_t>>;

    // Inputs older than the newest one by more than this are too old to be
    // mapped without ambiguity and are rejected.
    static constexpr uint32_t kMaxAge = (kSeqMask<Bits> >> 2) + 1;

    // `lastOutput` is the value output before the first packet: a sync()
    // before any input makes the stream start at lastOutput + 1.
    explicit BasicSeqRewriter(Value lastOutput = 0) : maxOutput_(lastOutput) {}

    // The output for `input`, or nullopt when the input was dropped, precedes
    // the last sync(), or is too old to place.
    std::optional<Value> rewrite(Value input) {
        if (!started_) {
            started_ = true;
            maxInput_ = input;
            maxOutput_ = mask(input + offset_);
            return static_cast<Value>(maxOutput_);
        }
        if (isNewerBits<Bits>(maxInput_, input) &&
            forwardDistance<Bits>(maxInput_, input) > kMaxAge) {
            return std::nullopt;
        }
        if (hasFloor_ && !isNewerBits<Bits>(input, floor_)) {
            return std::nullopt;
        }
        // Walk the drop runs from the newest: an input after a run takes the
        // offset that followed it, one inside a run was dropped.
        uint32_t offset = offset_;
        for (size_t i = rangeCount_; i-- > 0;) {
            const DropRange& range = rangeAt(i);
            if (isNewerBits<Bits>(input, range.last)) {
                break;
            }
            if (!isNewerBits<Bits>(range.first, input)) {
                return std::nullopt;
            }
            offset = range.offsetBefore;
        }
        const uint32_t output = mask(input + offset);
        if (isNewerBits<Bits>(input, maxInput_)) {
            maxInput_ = input;
            expire();
        }
        if (isNewerBits<Bits>(output, maxOutput_)) {
            maxOutput_ = output;
        }
        return static_cast<Value>(output);
    }

    // The SFU chose not to forward `input`: later inputs shift down by one so
    // the output has no hole. Only inputs newer than any seen can be closed
    // up; an older one is left as a gap (its successors were already sent).
    void drop(Value input) {
        if (!started_) {
            started_ = true;
            maxInput_ = input;
            offset_ = mask(offset_ - 1);
            maxOutput_ = mask(input + offset_);
            floor_ = input;
            hasFloor_ = true;
            return;
        }
        if (!isNewerBits<Bits>(input, maxInput_)) {
            return;
        }
        const bool extendsNewest = rangeCount_ > 0 && rangeAt(rangeCount_ - 1).last == maxInput_ &&
                                   mask(maxInput_ + 1) == input;
        if (extendsNewest) {
            rangeAt(rangeCount_ - 1).last = input;
        } else {
            if (rangeCount_ == MaxDropRanges) {
                // Forgetting the oldest run: inputs up to its end can no
                // longer be placed safely.
                floor_ = rangeAt(0).last;
                hasFloor_ = true;
                popOldest();
            }
            rangeAt(rangeCount_) = {input, input, offset_};
            ++rangeCount_;
        }
        offset_ = mask(offset_ - 1);
        maxInput_ = input;
        expire();
    }

    // Starts mapping a new input stream (or the same one after a pause):
    // `nextInput` will come out as maxOutput() + 1 and older inputs are
    // rejected, as they would collide with outputs already sent.
    void sync(Value nextInput) {
        started_ = true;
        offset_ = mask(maxOutput_ + 1 - nextInput);
        maxInput_ = mask(nextInput - 1);
        floor_ = maxInput_;
        hasFloor_ = true;
        rangeCount_ = 0;
        head_ = 0;
    }

    bool started() const { return started_; }
    Value maxInput() const { return static_cast<Value>(maxInput_); }
    Value maxOutput() const { return static_cast<Value>(maxOutput_); }
    // The offset applied to inputs newer than every drop.
    Value offset() const { return static_cast<Value>(offset_); }

private:
    struct DropRange {
        uint32_t first;
        uint32_t last;
        uint32_t offsetBefore;
    };

    static constexpr uint32_t mask(uint32_t value) { return value & kSeqMask<Bits>; }

    DropRange& rangeAt(size_t i) { return ranges_[(head_ + i) % MaxDropRanges]; }

    void popOldest() {
        head_ = (head_ + 1) % MaxDropRanges;
        --rangeCount_;
    }

    // Runs and the floor that fell behind kMaxAge would soon compare the wrong
    // way round; inputs that old are rejected anyway.
    void expire() {
        while (rangeCount_ > 0 && forwardDistance<Bits>(maxInput_, rangeAt(0).last) > kMaxAge) {
            popOldest();
        }
        if (hasFloor_ && forwardDistance<Bits>(maxInput_, floor_) > kMaxAge) {
            hasFloor_ = false;
        }
    }

    bool started_ = false;
    bool hasFloor_ = false;
    uint32_t maxInput_ = 0;
    uint32_t maxOutput_ = 0;
    uint32_t offset_ = 0;
    // Inputs at or before the floor are rejected.
    uint32_t floor_ = 0;
    size_t head_ = 0;
    size_t rangeCount_ = 0;
    std::array<DropRange, MaxDropRanges> ranges_{};
};

using SeqRewriter = BasicSeqRewriter<16>;

// Output timestamp = input + offset, tracking the newest output so a new
// input stream can be made to continue after it.
class TimestampRewriter {
public:
    uint32_t rewrite(uint32_t input) {
        const uint32_t output = input + offset_;
        if (!started_ || isNewer(output, maxOutput_)) {
            maxOutput_ = output;
            started_ = true;
        }
        return output;
    }

    // `input` will come out as exactly `output`.
    void syncTo(uint32_t input, uint32_t output) { offset_ = output - input; }
    // `input` will come out `gap` ticks after the newest output so far (e.g.
    // the elapsed wall time in media ticks after a pause or a switch).
    void syncAfterMax(uint32_t input, uint32_t gap) { offset_ = maxOutput_ + gap - input; }

    void setOffset(uint32_t offset) { offset_ = offset; }
    uint32_t offset() const { return offset_; }
    bool started() const { return started_; }
    uint32_t maxOutput() const { return maxOutput_; }

private:
    bool started_ = false;
    uint32_t offset_ = 0;
    uint32_t maxOutput_ = 0;
};

} // namespace sfu::rtp
