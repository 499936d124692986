// Small closed vocabularies of the RTP parameters: media kind, codec MIME
// subtype, header extension URI and the producer/consumer stream type. The
// string forms are the ones the host puts on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sfu::params {

enum class MediaKind : uint8_t { Audio, Video };

std::optional<MediaKind> mediaKindFromString(std::string_view s);
std::string_view toString(MediaKind kind);

// Codec subtypes the worker knows by name. Anything else is Unknown and is
// still forwarded; it just gets no codec-specific handling.
enum class CodecSubtype : uint8_t {
    Unknown,
    // Complementary codecs.
    Cn,
    TelephoneEvent,
    // Feature codecs.
    Rtx,
    Ulpfec,
    XUlpfec,
    Flexfec,
    Red,
    // Audio media codecs.
    Opus,
    Multiopus,
    Pcma,
    Pcmu,
    Isac,
    G722,
    Ilbc,
    Silk,
    // Video media codecs.
    Vp8,
    Vp9,
    H264,
    XH264uc,
    H265,
};

// Case-insensitive, as MIME subtypes are.
CodecSubtype codecSubtypeFromString(std::string_view subtype);
// Canonical spelling ("opus", "H264", "telephone-event"...); empty for Unknown.
std::string_view toString(CodecSubtype subtype);
// False for complementary and feature codecs: they never carry a stream of
// their own, so an encoding cannot point at them.
bool isMediaSubtype(CodecSubtype subtype);

enum class HeaderExtensionUri : uint8_t {
    Unknown,
    Mid,
    RtpStreamId,
    RepairedRtpStreamId,
    AbsSendTime,
    TransportWideCc01,
    FrameMarking07,
    FrameMarking,
    SsrcAudioLevel,
    VideoOrientation,
    TOffset,
};

HeaderExtensionUri headerExtensionUriFromString(std::string_view uri);
// The URI string; empty for Unknown.
std::string_view toString(HeaderExtensionUri uri);

// Picks the consumer class; a producer is never Pipe.
enum class RtpParametersType : uint8_t { Simple, Simulcast, Svc, Pipe };

std::optional<RtpParametersType> rtpParametersTypeFromString(std::string_view s);
std::string_view toString(RtpParametersType type);

} // namespace sfu::params
