// MSB-first bit reader over a bounded buffer, for the few codec headers read
// bit by bit (VP9 uncompressed header, H.264 SPS). A read past the end
// returns 0 and latches failed(); callers check once after a group of reads
// and keep their loops bounded on their own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sfu::codecs::detail {

class BitReader {
public:
    // With `emulationPrevention`, a 0x03 that follows two zero bytes is
    // skipped, which turns an H.264 NAL unit payload into its RBSP.
    BitReader(const uint8_t* data, size_t len, bool emulationPrevention = false)
        : data_(data), len_(len), epb_(emulationPrevention) {}

    bool failed() const { return failed_; }

    uint32_t bits(unsigned n) {
        uint32_t v = 0;
        for (unsigned i = 0; i < n; ++i) {
            v = (v << 1) | bit();
        }
        return failed_ ? 0 : v;
    }

    uint32_t bit() {
        if (left_ == 0) {
            if (!nextByte()) {
                return 0;
            }
        }
        --left_;
        return (cur_ >> left_) & 1u;
    }

    // Exp-Golomb ue(v); more than 31 leading zeros cannot fit and fails.
    uint32_t ue() {
        unsigned zeros = 0;
        while (bit() == 0) {
            if (failed_ || ++zeros > 31) {
                failed_ = true;
                return 0;
            }
        }
        const uint32_t rest = bits(zeros);
        return failed_ ? 0 : static_cast<uint32_t>((uint64_t{1} << zeros) - 1 + rest);
    }

    // Exp-Golomb se(v).
    int32_t se() {
        const uint32_t k = ue();
        const auto magnitude = static_cast<int32_t>((k + 1) / 2);
        return (k & 1) ? magnitude : -magnitude;
    }

private:
    bool nextByte() {
        if (failed_ || pos_ >= len_) {
            failed_ = true;
            return false;
        }
        uint8_t b = data_[pos_++];
        if (epb_ && zeros_ >= 2 && b == 0x03) {
            zeros_ = 0;
            if (pos_ >= len_) {
                failed_ = true;
                return false;
            }
            b = data_[pos_++];
        }
        zeros_ = (b == 0) ? zeros_ + 1 : 0;
        cur_ = b;
        left_ = 8;
        return true;
    }

    const uint8_t* data_;
    size_t len_;
    size_t pos_ = 0;
    bool epb_;
    bool failed_ = false;
    uint8_t cur_ = 0;
    unsigned left_ = 0;
    unsigned zeros_ = 0;
};

} // namespace sfu::codecs::detail
