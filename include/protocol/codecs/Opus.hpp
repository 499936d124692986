// Opus RTP payloads (RFC 7587): one Opus packet, whose TOC octet
// (RFC 6716 section 3.1) tells mode, bandwidth, frame duration, channels
// and how many frames follow. The whole packet is checked against the
// framing rules R1-R7 of RFC 6716 section 3.4.
//
//   TOC: | config  |s| c |
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::codecs::opus {

enum class Mode : uint8_t { Silk, Hybrid, Celt };

enum class Bandwidth : uint8_t {
    Narrowband,    // 4 kHz
    Mediumband,    // 6 kHz
    Wideband,      // 8 kHz
    SuperWideband, // 12 kHz
    Fullband,      // 20 kHz
};

struct PayloadDescriptor {
    uint8_t config = 0; // 0-31
    Mode mode = Mode::Silk;
    Bandwidth bandwidth = Bandwidth::Narrowband;
    bool stereo = false;
    uint8_t frameCountCode = 0;    // c: 0 one frame, 1 two equal, 2 two sized, 3 signalled
    uint8_t frameCount = 0;        // 1-48
    uint32_t frameDurationUs = 0;  // 2500 to 60000
    uint32_t packetDurationUs = 0; // at most 120 ms
    bool vbr = false;              // frames of different sizes (code 2, or code 3 with v)
    uint16_t paddingLength = 0;    // code 3 padding, length octets included

    // WebRTC sends packets of at most two octets during discontinuous
    // transmission (comfort noise updates or nothing at all).
    bool isDtx = false;

    bool isKeyFrame = false; // audio has no key frames
    uint8_t spatialLayer() const { return 0; }
    uint8_t temporalLayer() const { return 0; }

    // Nullopt for an empty payload or one breaking the framing rules.
    static std::optional<PayloadDescriptor> parse(const uint8_t* payload, size_t len);
};

} // namespace sfu::codecs::opus
