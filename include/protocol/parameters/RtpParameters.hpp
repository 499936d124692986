// RTP parameters as the host sends them in transport.produce and
// transport.consume, and as dumps hand them back.
//
// Parsing throws sfu::TypeError naming the offending field ("missing
// codec.mimeType", "invalid encoding.ssrc"). A JSON null in an optional field
// counts as absent: the host's own checks let falsy values through and the
// reference worker ignores them. The top-level parsers take the request
// member itself and accept a null json for an absent member (reported as
// "missing ..."), so callers can pass data.value(key, json()).
//
// toJson writes the shape the host sent: optional scalars are written only
// when they were given. Where the reference worker's dumps differ from its
// input, toJson follows the dumps, because the host's tests compare against
// them:
//  - a known codec's mimeType is written in canonical case ("video/H264");
//  - an empty rtcpFeedback parameter is left out, and so is dtx: false;
//  - encoding ssrc 0, rid "" and scalabilityMode "" count as absent;
//  - parseRtpParameters fills codecPayloadType of every encoding lacking one;
//  - containers (codec parameters and rtcpFeedback, header extension
//    parameters and encrypt, headerExtensions, rtcp.reducedSize) are always
//    written; the host always sends them.
#pragma once

#include "protocol/parameters/Enums.hpp"
#include "protocol/parameters/ScalabilityMode.hpp"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sfu::params {

// A codec or header extension parameter: the host allows strings and
// numbers, and integers and fractions must come back as they came
// (useinbandfec: 1 vs foo: 222.222).
using ParameterValue = std::variant<std::string, int64_t, double>;
using ParameterMap = std::map<std::string, ParameterValue, std::less<>>;

// The value as an integer when it is one (or a number with no fraction).
std::optional<int64_t> getInteger(const ParameterMap& map, std::string_view key);
std::optional<std::string_view> getString(const ParameterMap& map, std::string_view key);

struct RtcpFeedback {
    std::string type;
    // Empty means none ("nack" alone vs "nack pli").
    std::string parameter;

    bool operator==(const RtcpFeedback&) const = default;
};

struct RtpCodecParameters {
    // Canonical spelling for known subtypes, as given otherwise.
    std::string mimeType;
    MediaKind kind{MediaKind::Audio};
    CodecSubtype subtype{CodecSubtype::Unknown};
    uint8_t payloadType{0};
    uint32_t clockRate{0};
    // Audio only.
    std::optional<uint8_t> channels;
    ParameterMap parameters;
    std::vector<RtcpFeedback> rtcpFeedback;

    bool isRtx() const { return subtype == CodecSubtype::Rtx; }
    bool isMediaCodec() const { return isMediaSubtype(subtype); }
    // The associated payload type of an RTX codec (checked at parse time).
    std::optional<uint8_t> apt() const;

    bool hasFeedback(std::string_view type, std::string_view parameter = {}) const;
    bool supportsNack() const { return hasFeedback("nack"); }
    bool supportsPli() const { return hasFeedback("nack", "pli"); }
    bool supportsFir() const { return hasFeedback("ccm", "fir"); }
    bool supportsRemb() const { return hasFeedback("goog-remb"); }
    bool supportsTransportCc() const { return hasFeedback("transport-cc"); }

    bool operator==(const RtpCodecParameters&) const = default;
};

struct RtxParameters {
    uint32_t ssrc{0};

    bool operator==(const RtxParameters&) const = default;
};

struct RtpEncodingParameters {
    std::optional<uint32_t> ssrc;
    std::optional<std::string> rid;
    std::optional<uint8_t> codecPayloadType;
    std::optional<RtxParameters> rtx;
    bool dtx{false};
    std::optional<std::string> scalabilityMode;
    std::optional<double> scaleResolutionDownBy;
    // Bits per second; a fractional value is truncated.
    std::optional<uint32_t> maxBitrate;
    std::optional<double> maxFramerate;
    // Passed through from the client side, not used by the worker.
    std::optional<bool> adaptivePtime;
    std::optional<std::string> priority;
    std::optional<std::string> networkPriority;

    // Layers of scalabilityMode; 1/1 when absent or unparsable.
    ScalabilityMode scalability() const;

    bool operator==(const RtpEncodingParameters&) const = default;
};

struct RtpHeaderExtensionParameters {
    std::string uri;
    HeaderExtensionUri type{HeaderExtensionUri::Unknown};
    uint8_t id{0};
    bool encrypt{false};
    ParameterMap parameters;

    bool operator==(const RtpHeaderExtensionParameters&) const = default;
};

struct RtcpParameters {
    std::optional<std::string> cname;
    bool reducedSize{true};
    std::optional<bool> mux;

    bool operator==(const RtcpParameters&) const = default;
};

struct RtpParameters {
    std::optional<std::string> mid;
    std::vector<RtpCodecParameters> codecs;
    std::vector<RtpHeaderExtensionParameters> headerExtensions;
    std::vector<RtpEncodingParameters> encodings;
    RtcpParameters rtcp;

    const RtpCodecParameters* findCodec(uint8_t payloadType) const;
    // The media codec an encoding uses (its codecPayloadType, else the first
    // media codec).
    const RtpCodecParameters* codecForEncoding(const RtpEncodingParameters& encoding) const;
    // The RTX codec whose apt is the given media payload type.
    const RtpCodecParameters* rtxCodecFor(uint8_t mediaPayloadType) const;
    std::optional<uint8_t> headerExtensionId(HeaderExtensionUri type) const;

    bool operator==(const RtpParameters&) const = default;
};

// Stream type the way the reference worker derives it for a producer: one
// encoding with a single layer is simple, several encodings are simulcast,
// one encoding with several layers is SVC for VP9 and simulcast (temporal
// layers only) for VP8/H264. Nothing when the combination is unusable.
std::optional<RtpParametersType> classify(const RtpParameters& params);

RtcpFeedback parseRtcpFeedback(const nlohmann::json& data);
RtpCodecParameters parseRtpCodecParameters(const nlohmann::json& data);
RtpEncodingParameters parseRtpEncodingParameters(const nlohmann::json& data);
RtpHeaderExtensionParameters parseRtpHeaderExtensionParameters(const nlohmann::json& data);
RtcpParameters parseRtcpParameters(const nlohmann::json& data);
// Whole-object checks on top of the per-field ones: codecs and encodings
// non-empty, unique payload types, RTX apt pointing at a media codec,
// codecPayloadType pointing at a media codec, unique header extension ids,
// no SVC spatial layers together with simulcast.
RtpParameters parseRtpParameters(const nlohmann::json& data);
// The consume request's consumableRtpEncodings: non-empty, every entry with
// an ssrc.
std::vector<RtpEncodingParameters> parseConsumableRtpEncodings(const nlohmann::json& data);

nlohmann::json toJson(const ParameterMap& map);
nlohmann::json toJson(const RtcpFeedback& fb);
nlohmann::json toJson(const RtpCodecParameters& codec);
nlohmann::json toJson(const RtpEncodingParameters& encoding);
nlohmann::json toJson(const std::vector<RtpEncodingParameters>& encodings);
nlohmann::json toJson(const RtpHeaderExtensionParameters& ext);
nlohmann::json toJson(const RtcpParameters& rtcp);
nlohmann::json toJson(const RtpParameters& params);

} // namespace sfu::params
