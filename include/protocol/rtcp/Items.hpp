// Fixed-size item lists (report blocks, NACK entries, FIR entries, SSRC
// lists...) read lazily from validated bytes. A codec type supplies the item
// size and how one item is read and written.
#pragma once

#include "protocol/rtcp/InputIterator.hpp"
#include "utils/Bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>

namespace sfu::rtcp {

// A plain 32-bit SSRC as a list item.
struct SsrcCodec {
    static constexpr size_t kSize = 4;
    static uint32_t read(const uint8_t* p) { return bytes::get32(p); }
    static void write(uint8_t* p, uint32_t ssrc) { bytes::set32(p, ssrc); }
};

template <typename Codec>
class ItemRange {
public:
    using value_type = decltype(Codec::read(std::declval<const uint8_t*>()));

    class Iterator : public InputIterator<Iterator, ItemRange::value_type> {
    public:
        // Spelled out: the base depends on Codec, so its name is not in scope.
        using InputIterator<Iterator, ItemRange::value_type>::operator++;

        Iterator() = default;
        explicit Iterator(const uint8_t* p) : p_(p) {}
        value_type operator*() const { return Codec::read(p_); }
        Iterator& operator++() {
            p_ += Codec::kSize;
            return *this;
        }
        bool operator==(const Iterator& o) const { return p_ == o.p_; }

    private:
        const uint8_t* p_ = nullptr;
    };

    ItemRange() = default;
    // `data` must hold count * Codec::kSize readable bytes.
    ItemRange(const uint8_t* data, size_t count) : data_(data), count_(count) {}

    size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    value_type operator[](size_t i) const { return Codec::read(data_ + i * Codec::kSize); }
    Iterator begin() const { return Iterator(data_); }
    Iterator end() const { return Iterator(data_ + count_ * Codec::kSize); }

private:
    const uint8_t* data_ = nullptr;
    size_t count_ = 0;
};

} // namespace sfu::rtcp
