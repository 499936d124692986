#include "protocol/codecs/Opus.hpp"

namespace sfu::codecs::opus {

namespace {

constexpr size_t kMaxFrameLength = 1275;   // R2
constexpr uint32_t kMaxPacketUs = 120'000; // R5

// Frame lengths of code 2 and code 3 VBR packets take one octet below 252,
// else two: len = first + 4 * second.
bool readFrameLength(const uint8_t* p, size_t avail, size_t& consumed, size_t& value) {
    if (avail < 1) {
        return false;
    }
    if (p[0] < 252) {
        consumed = 1;
        value = p[0];
        return true;
    }
    if (avail < 2) {
        return false;
    }
    consumed = 2;
    value = size_t{p[0]} + 4 * size_t{p[1]};
    return true;
}

void describeConfig(PayloadDescriptor& d) {
    const uint8_t c = d.config;
    if (c < 12) {
        d.mode = Mode::Silk;
        d.bandwidth = c < 4   ? Bandwidth::Narrowband
                      : c < 8 ? Bandwidth::Mediumband
                              : Bandwidth::Wideband;
        constexpr uint32_t kSilkUs[] = {10'000, 20'000, 40'000, 60'000};
        d.frameDurationUs = kSilkUs[c & 3];
    } else if (c < 16) {
        d.mode = Mode::Hybrid;
        d.bandwidth = c < 14 ? Bandwidth::SuperWideband : Bandwidth::Fullband;
        d.frameDurationUs = (c & 1) ? 20'000 : 10'000;
    } else {
        d.mode = Mode::Celt;
        constexpr Bandwidth kCeltBw[] = {Bandwidth::Narrowband, Bandwidth::Wideband,
                                         Bandwidth::SuperWideband, Bandwidth::Fullband};
        d.bandwidth = kCeltBw[(c - 16) / 4];
        constexpr uint32_t kCeltUs[] = {2'500, 5'000, 10'000, 20'000};
        d.frameDurationUs = kCeltUs[c & 3];
    }
}

} // namespace

std::optional<PayloadDescriptor> PayloadDescriptor::parse(const uint8_t* payload, size_t len) {
    if (payload == nullptr || len < 1) { // R1
        return std::nullopt;
    }
    PayloadDescriptor d;
    const uint8_t toc = payload[0];
    d.config = toc >> 3;
    d.stereo = (toc & 0x04) != 0;
    d.frameCountCode = toc & 0x03;
    describeConfig(d);

    const uint8_t* p = payload + 1;
    const size_t n = len - 1;
    switch (d.frameCountCode) {
    case 0:
        d.frameCount = 1;
        if (n > kMaxFrameLength) {
            return std::nullopt;
        }
        break;
    case 1: // R3: two frames of equal size
        d.frameCount = 2;
        if ((n & 1) != 0 || n / 2 > kMaxFrameLength) {
            return std::nullopt;
        }
        break;
    case 2: { // R4: the first frame's size is given, the second takes the rest
        d.frameCount = 2;
        d.vbr = true;
        size_t used = 0;
        size_t first = 0;
        if (!readFrameLength(p, n, used, first) || first > n - used || first > kMaxFrameLength ||
            n - used - first > kMaxFrameLength) {
            return std::nullopt;
        }
        break;
    }
    default: { // code 3: frame count octet |v|p|  M  |
        if (n < 1) {
            return std::nullopt;
        }
        const uint8_t fc = p[0];
        d.vbr = (fc & 0x80) != 0;
        const bool padded = (fc & 0x40) != 0;
        d.frameCount = fc & 0x3F;
        if (d.frameCount == 0 || d.frameCount * d.frameDurationUs > kMaxPacketUs) { // R5
            return std::nullopt;
        }
        size_t off = 1;
        size_t padding = 0; // trailing padding octets
        if (padded) {
            // Each 255 means 254 octets and another length octet.
            for (;;) {
                if (off >= n) {
                    return std::nullopt;
                }
                const uint8_t b = p[off++];
                padding += b == 255 ? 254 : b;
                if (b != 255) {
                    break;
                }
            }
            if (padding > n - off) { // R6, R7
                return std::nullopt;
            }
            const size_t total = off - 1 + padding;
            d.paddingLength = total > UINT16_MAX ? UINT16_MAX : static_cast<uint16_t>(total);
        }
        const size_t end = n - padding; // frame lengths and frames lie in [off, end)
        if (d.vbr) {                    // R7
            size_t sum = 0;
            for (unsigned i = 0; i + 1 < d.frameCount; ++i) {
                size_t used = 0;
                size_t frame = 0;
                if (!readFrameLength(p + off, end - off, used, frame) || frame > kMaxFrameLength) {
                    return std::nullopt;
                }
                off += used;
                sum += frame;
            }
            if (sum > end - off || end - off - sum > kMaxFrameLength) {
                return std::nullopt;
            }
        } else { // R6: equal frames fill what is left
            const size_t data = end - off;
            if (data % d.frameCount != 0 || data / d.frameCount > kMaxFrameLength) {
                return std::nullopt;
            }
        }
        break;
    }
    }
    d.packetDurationUs = d.frameCount * d.frameDurationUs;
    d.isDtx = len <= 2;
    return d;
}

} // namespace sfu::codecs::opus
