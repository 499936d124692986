// Wrap-around arithmetic for RTP sequence numbers (16 bits) and timestamps
// (32 bits), RFC 3550 style: `a` is newer than `b` when the forward distance
// from b to a is less than half the number space.
#pragma once

#include <cstdint>
#include <type_traits>

namespace sfu::rtp {

template <typename T>
constexpr bool isNewer(T a, T b) {
    static_assert(std::is_unsigned_v<T>);
    constexpr T half = static_cast<T>(T(~T(0)) / 2 + 1);
    if (a == b) {
        return false;
    }
    const T forward = static_cast<T>(a - b);
    // Exactly half way is ambiguous; break the tie by value so that
    // isNewer(a, b) and isNewer(b, a) are never both true.
    return forward == half ? a > b : forward < half;
}

template <typename T>
constexpr bool isNewerOrEqual(T a, T b) {
    return a == b || isNewer(a, b);
}

// Signed distance from b to a (positive when a is newer).
constexpr int32_t seqDiff(uint16_t a, uint16_t b) {
    return static_cast<int16_t>(static_cast<uint16_t>(a - b));
}
constexpr int64_t tsDiff(uint32_t a, uint32_t b) {
    return static_cast<int32_t>(static_cast<uint32_t>(a - b));
}

// The same comparisons for counters narrower than their storage: VP8's 15-bit
// picture id, 8-bit TL0PICIDX... Bits counts the significant low bits.
template <unsigned Bits>
constexpr uint32_t kSeqMask = Bits >= 32 ? ~uint32_t{0} : (uint32_t{1} << (Bits % 32)) - 1;

template <unsigned Bits>
constexpr bool isNewerBits(uint32_t a, uint32_t b) {
    static_assert(Bits >= 1 && Bits <= 32);
    constexpr uint32_t mask = kSeqMask<Bits>;
    constexpr uint32_t half = (mask >> 1) + 1;
    a &= mask;
    b &= mask;
    if (a == b) {
        return false;
    }
    const uint32_t forward = (a - b) & mask;
    return forward == half ? a > b : forward < half;
}

// Forward distance from b to a, modulo 2^Bits.
template <unsigned Bits>
constexpr uint32_t forwardDistance(uint32_t a, uint32_t b) {
    return (a - b) & kSeqMask<Bits>;
}

} // namespace sfu::rtp
