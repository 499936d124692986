// Driver pieces the codec fuzzers share: invariant checks, the packet
// stream format their inputs are read as, and the VP8/VP9 picture id
// rewrite round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sfu::fuzz {

// A broken invariant stops the run as a crash, so the fuzzer keeps the input.
inline void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

// Reads data[off..size) as packets, each behind a length octet and cut
// short by the end of the input; a zero length stands for the source
// switching streams and calls `onSwitch` instead. Each packet comes in a
// vector of its own, so ASan sees any read past its end.
template <typename OnPacket, typename OnSwitch>
void forEachPacket(const uint8_t* data, size_t size, size_t off, OnPacket&& onPacket,
                   OnSwitch&& onSwitch) {
    while (off < size) {
        const size_t want = data[off++];
        if (want == 0) {
            onSwitch();
            continue;
        }
        const size_t n = want < size - off ? want : size - off;
        std::vector<uint8_t> pkt(data + off, data + off + n);
        off += n;
        onPacket(pkt);
    }
}

// Rewrites picture id and TL0PICIDX of the payload `d` was parsed from; a
// fresh parse must find the same descriptor layout and read back the values
// written, a 7-bit picture id keeping only the low 7 bits.
template <typename Descriptor>
void checkIdRewrite(std::vector<uint8_t>& payload, const Descriptor& d, uint16_t pictureId,
                    uint8_t tl0PicIdx) {
    const bool wroteId = d.writePictureId(payload.data(), payload.size(), pictureId);
    const bool wroteTl0 = d.writeTl0PicIdx(payload.data(), payload.size(), tl0PicIdx);
    check(wroteId == d.hasPictureId && wroteTl0 == d.hasTl0PicIdx);
    const auto again = Descriptor::parse(payload.data(), payload.size());
    check(again.has_value());
    check(again->headerLength == d.headerLength);
    check(again->pictureIdIs15Bit == d.pictureIdIs15Bit);
    if (d.hasPictureId) {
        check(again->pictureId == (d.pictureIdIs15Bit ? pictureId : (pictureId & 0x7F)));
    }
    if (d.hasTl0PicIdx) {
        check(again->tl0PicIdx == tl0PicIdx);
    }
}

} // namespace sfu::fuzz
