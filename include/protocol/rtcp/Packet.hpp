// RTCP common header (RFC 3550 6.4) and the compound walker. Everything here
// is a view over caller-owned bytes: nothing allocates, nothing throws, and no
// accessor reads outside the range that parse() validated.
#pragma once

#include "protocol/rtcp/InputIterator.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sfu::rtcp {

enum class PacketType : uint8_t {
    SR = 200,
    RR = 201,
    SDES = 202,
    BYE = 203,
    APP = 204,
    RTPFB = 205,
    PSFB = 206,
    XR = 207,
};

inline constexpr size_t kHeaderSize = 4;
// The length field counts 32-bit words minus one.
inline constexpr size_t kMaxPacketSize = (size_t{0xFFFF} + 1) * 4;
// RC, SC and similar counts are five bits wide.
inline constexpr size_t kMaxCount = 31;

// RFC 5761 demultiplexing: version 2 and a payload type in 192..223, which no
// RTP payload type may use when RTP and RTCP share a port.
bool isRtcp(const uint8_t* data, size_t len);

// One RTCP packet: header, body and optional padding.
class PacketView {
public:
    // Checks the header at `data`: version 2, the length field fits in `len`,
    // and when the P bit is set the pad count is sane. The packet may be
    // shorter than `len`; size() tells where the next one starts.
    static std::optional<PacketView> parse(const uint8_t* data, size_t len);

    uint8_t count() const { return data_[0] & 0x1F; } // RC, SC, FMT or subtype
    uint8_t type() const { return data_[1]; }
    bool is(PacketType t) const { return data_[1] == static_cast<uint8_t>(t); }
    bool padded() const { return (data_[0] & 0x20) != 0; }
    size_t paddingSize() const { return padding_; }

    // The whole packet, header and padding included.
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    // What follows the 4-byte header, padding excluded.
    const uint8_t* body() const { return data_ + kHeaderSize; }
    size_t bodySize() const { return size_ - kHeaderSize - padding_; }
    std::span<const uint8_t> bodySpan() const { return {body(), bodySize()}; }

private:
    PacketView(const uint8_t* data, size_t size, size_t padding)
        : data_(data), size_(size), padding_(padding) {}

    const uint8_t* data_;
    size_t size_;
    size_t padding_;
};

// Walks the packets of a compound RTCP buffer:
//   for (PacketView pkt : CompoundView(buf, len)) { ... }
// Iteration stops at the first malformed packet; valid() tells whether the
// whole buffer was well formed, which receivers should check before acting on
// any packet of it.
class CompoundView {
public:
    class Iterator : public InputIterator<Iterator, PacketView> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        PacketView operator*() const { return *current_; }
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return pos_ == o.pos_; }

    private:
        friend class CompoundView;
        Iterator(const uint8_t* pos, size_t left);
        void load();

        const uint8_t* pos_ = nullptr; // nullptr once at the end
        size_t left_ = 0;
        std::optional<PacketView> current_;
    };

    CompoundView(const uint8_t* data, size_t len) : data_(data), len_(len) {}

    Iterator begin() const { return Iterator(data_, len_); }
    Iterator end() const { return Iterator(); }

    // True when the buffer is non-empty and made only of well-formed packets.
    bool valid() const { return len_ > 0 && validSize() == len_; }
    // Bytes covered by the well-formed packets before the first bad one.
    size_t validSize() const;
    // Number of well-formed packets before the first bad one.
    size_t packetCount() const;

private:
    const uint8_t* data_;
    size_t len_;
};

namespace detail {

// Writes the common header of a packet that is `size` bytes long in total;
// `size` must be a non-zero multiple of four no larger than kMaxPacketSize.
inline void writeHeader(uint8_t* out, uint8_t count, uint8_t type, size_t size,
                        bool padding = false) {
    out[0] = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (count & 0x1F));
    out[1] = type;
    const size_t words = size / 4 - 1;
    out[2] = static_cast<uint8_t>(words >> 8);
    out[3] = static_cast<uint8_t>(words);
}

} // namespace detail

} // namespace sfu::rtcp
