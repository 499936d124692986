#include "protocol/parameters/Enums.hpp"

#include "utils/Strings.hpp"

#include <array>
#include <utility>

namespace sfu::params {

namespace {

using strings::equalsIgnoreCase;

// Spellings follow the host's supported capabilities, so a dump shows the
// same mimeType the router advertises.
constexpr std::array<std::pair<CodecSubtype, std::string_view>, 20> kSubtypes{{
    {CodecSubtype::Cn, "CN"},
    {CodecSubtype::TelephoneEvent, "telephone-event"},
    {CodecSubtype::Rtx, "rtx"},
    {CodecSubtype::Ulpfec, "ulpfec"},
    {CodecSubtype::XUlpfec, "x-ulpfec"},
    {CodecSubtype::Flexfec, "flexfec"},
    {CodecSubtype::Red, "red"},
    {CodecSubtype::Opus, "opus"},
    {CodecSubtype::Multiopus, "multiopus"},
    {CodecSubtype::Pcma, "PCMA"},
    {CodecSubtype::Pcmu, "PCMU"},
    {CodecSubtype::Isac, "ISAC"},
    {CodecSubtype::G722, "G722"},
    {CodecSubtype::Ilbc, "iLBC"},
    {CodecSubtype::Silk, "SILK"},
    {CodecSubtype::Vp8, "VP8"},
    {CodecSubtype::Vp9, "VP9"},
    {CodecSubtype::H264, "H264"},
    {CodecSubtype::XH264uc, "X-H264UC"},
    {CodecSubtype::H265, "H265"},
}};

constexpr std::array<std::pair<HeaderExtensionUri, std::string_view>, 10> kUris{{
    {HeaderExtensionUri::Mid, "urn:ietf:params:rtp-hdrext:sdes:mid"},
    {HeaderExtensionUri::RtpStreamId, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"},
    {HeaderExtensionUri::RepairedRtpStreamId,
     "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"},
    {HeaderExtensionUri::AbsSendTime, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
    {HeaderExtensionUri::TransportWideCc01,
     "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
    {HeaderExtensionUri::FrameMarking07,
     "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07"},
    {HeaderExtensionUri::FrameMarking, "urn:ietf:params:rtp-hdrext:framemarking"},
    {HeaderExtensionUri::SsrcAudioLevel, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
    {HeaderExtensionUri::VideoOrientation, "urn:3gpp:video-orientation"},
    {HeaderExtensionUri::TOffset, "urn:ietf:params:rtp-hdrext:toffset"},
}};

constexpr std::array<std::pair<RtpParametersType, std::string_view>, 4> kTypes{{
    {RtpParametersType::Simple, "simple"},
    {RtpParametersType::Simulcast, "simulcast"},
    {RtpParametersType::Svc, "svc"},
    {RtpParametersType::Pipe, "pipe"},
}};

} // namespace

std::optional<MediaKind> mediaKindFromString(std::string_view s) {
    if (s == "audio") {
        return MediaKind::Audio;
    }
    if (s == "video") {
        return MediaKind::Video;
    }
    return std::nullopt;
}

std::string_view toString(MediaKind kind) {
    return kind == MediaKind::Audio ? "audio" : "video";
}

CodecSubtype codecSubtypeFromString(std::string_view subtype) {
    for (const auto& [value, name] : kSubtypes) {
        if (equalsIgnoreCase(name, subtype)) {
            return value;
        }
    }
    return CodecSubtype::Unknown;
}

std::string_view toString(CodecSubtype subtype) {
    for (const auto& [value, name] : kSubtypes) {
        if (value == subtype) {
            return name;
        }
    }
    return {};
}

bool isMediaSubtype(CodecSubtype subtype) {
    switch (subtype) {
    case CodecSubtype::Cn:
    case CodecSubtype::TelephoneEvent:
    case CodecSubtype::Rtx:
    case CodecSubtype::Ulpfec:
    case CodecSubtype::XUlpfec:
    case CodecSubtype::Flexfec:
    case CodecSubtype::Red:
        return false;
    default:
        return true;
    }
}

HeaderExtensionUri headerExtensionUriFromString(std::string_view uri) {
    for (const auto& [value, name] : kUris) {
        if (name == uri) {
            return value;
        }
    }
    return HeaderExtensionUri::Unknown;
}

std::string_view toString(HeaderExtensionUri uri) {
    for (const auto& [value, name] : kUris) {
        if (value == uri) {
            return name;
        }
    }
    return {};
}

std::optional<RtpParametersType> rtpParametersTypeFromString(std::string_view s) {
    for (const auto& [value, name] : kTypes) {
        if (name == s) {
            return value;
        }
    }
    return std::nullopt;
}

std::string_view toString(RtpParametersType type) {
    for (const auto& [value, name] : kTypes) {
        if (value == type) {
            return name;
        }
    }
    return {};
}

} // namespace sfu::params
