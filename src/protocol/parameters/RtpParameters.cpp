#include "protocol/parameters/RtpParameters.hpp"

#include "JsonFields.hpp"
#include "utils/Errors.hpp"
#include "utils/Strings.hpp"

#include <cmath>
#include <limits>
#include <set>

namespace sfu::params {

using nlohmann::json;
using namespace detail;

namespace {

constexpr uint64_t kMaxPayloadType = 127;
constexpr uint64_t kMaxU8 = std::numeric_limits<uint8_t>::max();
constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

using strings::toLower;

// "type/subtype" with type audio or video, any case. Known subtypes are
// respelled canonically so dumps match what the router advertises.
void readMimeType(const json& v, RtpCodecParameters& codec) {
    const std::string mime = readString(v, "codec.mimeType");
    const auto slash = mime.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == mime.size()) {
        throwInvalid("codec.mimeType");
    }
    const auto kind = mediaKindFromString(toLower(std::string_view(mime).substr(0, slash)));
    if (!kind) {
        throwInvalid("codec.mimeType");
    }
    codec.kind = *kind;
    codec.subtype = codecSubtypeFromString(std::string_view(mime).substr(slash + 1));
    if (codec.subtype == CodecSubtype::Unknown) {
        codec.mimeType = mime;
    } else {
        codec.mimeType =
            std::string(toString(codec.kind)) + "/" + std::string(toString(codec.subtype));
    }
}

std::optional<uint8_t> readPayloadType(const json& v) {
    const auto pt = asUnsigned(v);
    if (!pt || *pt > kMaxPayloadType) {
        return std::nullopt;
    }
    return static_cast<uint8_t>(*pt);
}

json parameterToJson(const ParameterValue& value) {
    return std::visit([](const auto& v) { return json(v); }, value);
}

} // namespace

std::optional<int64_t> getInteger(const ParameterMap& map, std::string_view key) {
    const auto it = map.find(key);
    if (it == map.end()) {
        return std::nullopt;
    }
    if (const auto* i = std::get_if<int64_t>(&it->second)) {
        return *i;
    }
    if (const auto* d = std::get_if<double>(&it->second)) {
        // Only when exactly representable; the range check keeps the cast defined.
        if (*d == std::trunc(*d) && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0) {
            return static_cast<int64_t>(*d);
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> getString(const ParameterMap& map, std::string_view key) {
    const auto it = map.find(key);
    if (it == map.end()) {
        return std::nullopt;
    }
    if (const auto* s = std::get_if<std::string>(&it->second)) {
        return std::string_view(*s);
    }
    return std::nullopt;
}

std::optional<uint8_t> RtpCodecParameters::apt() const {
    const auto apt = getInteger(parameters, "apt");
    if (!apt || *apt < 0 || *apt > static_cast<int64_t>(kMaxPayloadType)) {
        return std::nullopt;
    }
    return static_cast<uint8_t>(*apt);
}

bool RtpCodecParameters::hasFeedback(std::string_view type, std::string_view parameter) const {
    for (const auto& fb : rtcpFeedback) {
        if (fb.type == type && fb.parameter == parameter) {
            return true;
        }
    }
    return false;
}

ScalabilityMode RtpEncodingParameters::scalability() const {
    return scalabilityMode ? parseScalabilityMode(*scalabilityMode) : ScalabilityMode{};
}

const RtpCodecParameters* RtpParameters::findCodec(uint8_t payloadType) const {
    for (const auto& codec : codecs) {
        if (codec.payloadType == payloadType) {
            return &codec;
        }
    }
    return nullptr;
}

const RtpCodecParameters*
RtpParameters::codecForEncoding(const RtpEncodingParameters& encoding) const {
    if (encoding.codecPayloadType) {
        return findCodec(*encoding.codecPayloadType);
    }
    for (const auto& codec : codecs) {
        if (codec.isMediaCodec()) {
            return &codec;
        }
    }
    return nullptr;
}

const RtpCodecParameters* RtpParameters::rtxCodecFor(uint8_t mediaPayloadType) const {
    for (const auto& codec : codecs) {
        if (codec.isRtx() && codec.apt() == mediaPayloadType) {
            return &codec;
        }
    }
    return nullptr;
}

std::optional<uint8_t> RtpParameters::headerExtensionId(HeaderExtensionUri type) const {
    for (const auto& ext : headerExtensions) {
        if (ext.type == type) {
            return ext.id;
        }
    }
    return std::nullopt;
}

std::optional<RtpParametersType> classify(const RtpParameters& params) {
    if (params.encodings.size() > 1) {
        return RtpParametersType::Simulcast;
    }
    if (params.encodings.empty()) {
        return std::nullopt;
    }
    const auto& encoding = params.encodings.front();
    const auto layers = encoding.scalability();
    if (layers.spatialLayers == 1 && layers.temporalLayers == 1) {
        return RtpParametersType::Simple;
    }
    const auto* codec = params.codecForEncoding(encoding);
    if (codec == nullptr || codec->kind != MediaKind::Video) {
        return std::nullopt;
    }
    switch (codec->subtype) {
    case CodecSubtype::Vp9:
        return RtpParametersType::Svc;
    // Temporal layers of a single VP8/H264 stream go through the simulcast
    // consumer, which already switches temporal layers.
    case CodecSubtype::Vp8:
    case CodecSubtype::H264:
        return RtpParametersType::Simulcast;
    default:
        return std::nullopt;
    }
}

RtcpFeedback parseRtcpFeedback(const json& data) {
    requireObject(data, "codec.rtcpFeedback");
    RtcpFeedback fb;
    fb.type = readString(requiredField(data, "type", "codec.rtcpFeedback.type"),
                         "codec.rtcpFeedback.type");
    if (fb.type.empty()) {
        throwInvalid("codec.rtcpFeedback.type");
    }
    if (const json* p = optionalField(data, "parameter")) {
        fb.parameter = readString(*p, "codec.rtcpFeedback.parameter");
    }
    return fb;
}

RtpCodecParameters parseRtpCodecParameters(const json& data) {
    requireObject(data, "codec");
    RtpCodecParameters codec;
    readMimeType(requiredField(data, "mimeType", "codec.mimeType"), codec);

    const auto pt = readPayloadType(requiredField(data, "payloadType", "codec.payloadType"));
    if (!pt) {
        throwInvalid("codec.payloadType");
    }
    codec.payloadType = *pt;

    codec.clockRate = static_cast<uint32_t>(readUnsigned(
        requiredField(data, "clockRate", "codec.clockRate"), 1, kMaxU32, "codec.clockRate"));

    if (const json* v = optionalField(data, "channels")) {
        // The host drops channels from video codecs, so one here is a bug.
        if (codec.kind != MediaKind::Audio) {
            throwInvalid("codec.channels");
        }
        codec.channels = static_cast<uint8_t>(readUnsigned(*v, 1, kMaxU8, "codec.channels"));
    }

    if (const json* v = optionalField(data, "parameters")) {
        codec.parameters = readParameterMap(*v, "codec.parameters");
    }

    if (const json* v = optionalField(data, "rtcpFeedback")) {
        if (!v->is_array()) {
            throwInvalid("codec.rtcpFeedback");
        }
        codec.rtcpFeedback.reserve(v->size());
        for (const auto& entry : *v) {
            codec.rtcpFeedback.push_back(parseRtcpFeedback(entry));
        }
    }

    if (codec.isRtx()) {
        if (codec.parameters.find("apt") == codec.parameters.end()) {
            throwMissing("codec.parameters.apt");
        }
        if (!codec.apt()) {
            throwInvalid("codec.parameters.apt");
        }
    }
    return codec;
}

RtpEncodingParameters parseRtpEncodingParameters(const json& data) {
    requireObject(data, "encoding");
    RtpEncodingParameters enc;

    // 0 and "" mean unset, as they do for the host's truthiness checks and
    // the reference worker's dumps.
    if (const json* v = optionalField(data, "ssrc")) {
        const auto ssrc = static_cast<uint32_t>(readUnsigned(*v, 0, kMaxU32, "encoding.ssrc"));
        if (ssrc != 0) {
            enc.ssrc = ssrc;
        }
    }
    if (const json* v = optionalField(data, "rid")) {
        auto rid = readString(*v, "encoding.rid");
        if (!rid.empty()) {
            enc.rid = std::move(rid);
        }
    }
    if (const json* v = optionalField(data, "codecPayloadType")) {
        const auto pt = readPayloadType(*v);
        if (!pt) {
            throwInvalid("encoding.codecPayloadType");
        }
        enc.codecPayloadType = *pt;
    }
    if (const json* v = optionalField(data, "rtx")) {
        requireObject(*v, "encoding.rtx");
        enc.rtx = RtxParameters{static_cast<uint32_t>(readUnsigned(
            requiredField(*v, "ssrc", "encoding.rtx.ssrc"), 0, kMaxU32, "encoding.rtx.ssrc"))};
    }
    if (const json* v = optionalField(data, "dtx")) {
        enc.dtx = readBool(*v, "encoding.dtx");
    }
    if (const json* v = optionalField(data, "scalabilityMode")) {
        auto mode = readString(*v, "encoding.scalabilityMode");
        if (!mode.empty()) {
            enc.scalabilityMode = std::move(mode);
        }
    }
    if (const json* v = optionalField(data, "scaleResolutionDownBy")) {
        const double scale = readNumber(*v, "encoding.scaleResolutionDownBy");
        if (scale <= 0.0) {
            throwInvalid("encoding.scaleResolutionDownBy");
        }
        enc.scaleResolutionDownBy = scale;
    }
    if (const json* v = optionalField(data, "maxBitrate")) {
        const double bitrate = readNumber(*v, "encoding.maxBitrate");
        if (bitrate < 0.0 || bitrate >= static_cast<double>(kMaxU32) + 1.0) {
            throwInvalid("encoding.maxBitrate");
        }
        // The host sends whatever the application computed; fractions of a
        // bit per second mean nothing, and 0 means no limit.
        const auto truncated = static_cast<uint32_t>(bitrate);
        if (truncated != 0) {
            enc.maxBitrate = truncated;
        }
    }
    if (const json* v = optionalField(data, "maxFramerate")) {
        const double framerate = readNumber(*v, "encoding.maxFramerate");
        if (framerate < 0.0) {
            throwInvalid("encoding.maxFramerate");
        }
        enc.maxFramerate = framerate;
    }
    if (const json* v = optionalField(data, "adaptivePtime")) {
        enc.adaptivePtime = readBool(*v, "encoding.adaptivePtime");
    }
    if (const json* v = optionalField(data, "priority")) {
        enc.priority = readString(*v, "encoding.priority");
    }
    if (const json* v = optionalField(data, "networkPriority")) {
        enc.networkPriority = readString(*v, "encoding.networkPriority");
    }
    return enc;
}

RtpHeaderExtensionParameters parseRtpHeaderExtensionParameters(const json& data) {
    requireObject(data, "headerExtension");
    RtpHeaderExtensionParameters ext;
    ext.uri = readString(requiredField(data, "uri", "headerExtension.uri"), "headerExtension.uri");
    if (ext.uri.empty()) {
        throwInvalid("headerExtension.uri");
    }
    ext.type = headerExtensionUriFromString(ext.uri);
    // 1..255: 0 is padding in both header forms, 255 is the two-byte maximum.
    ext.id = static_cast<uint8_t>(readUnsigned(requiredField(data, "id", "headerExtension.id"), 1,
                                               kMaxU8, "headerExtension.id"));
    if (const json* v = optionalField(data, "encrypt")) {
        ext.encrypt = readBool(*v, "headerExtension.encrypt");
    }
    if (const json* v = optionalField(data, "parameters")) {
        ext.parameters = readParameterMap(*v, "headerExtension.parameters");
    }
    return ext;
}

RtcpParameters parseRtcpParameters(const json& data) {
    requireObject(data, "rtcp");
    RtcpParameters rtcp;
    if (const json* v = optionalField(data, "cname")) {
        rtcp.cname = readString(*v, "rtcp.cname");
    }
    if (const json* v = optionalField(data, "reducedSize")) {
        rtcp.reducedSize = readBool(*v, "rtcp.reducedSize");
    }
    if (const json* v = optionalField(data, "mux")) {
        rtcp.mux = readBool(*v, "rtcp.mux");
    }
    return rtcp;
}

RtpParameters parseRtpParameters(const json& data) {
    if (data.is_null()) {
        throwMissing("rtpParameters");
    }
    requireObject(data, "rtpParameters");
    RtpParameters params;

    if (const json* v = optionalField(data, "mid")) {
        auto mid = readString(*v, "rtpParameters.mid");
        if (mid.empty()) {
            throwInvalid("rtpParameters.mid");
        }
        params.mid = std::move(mid);
    }

    const json& codecs = requiredField(data, "codecs", "rtpParameters.codecs");
    if (!codecs.is_array()) {
        throwInvalid("rtpParameters.codecs");
    }
    if (codecs.empty()) {
        throwMissing("rtpParameters.codecs");
    }
    params.codecs.reserve(codecs.size());
    for (const auto& entry : codecs) {
        params.codecs.push_back(parseRtpCodecParameters(entry));
    }

    if (const json* v = optionalField(data, "headerExtensions")) {
        if (!v->is_array()) {
            throwInvalid("rtpParameters.headerExtensions");
        }
        params.headerExtensions.reserve(v->size());
        for (const auto& entry : *v) {
            params.headerExtensions.push_back(parseRtpHeaderExtensionParameters(entry));
        }
    }

    const json& encodings = requiredField(data, "encodings", "rtpParameters.encodings");
    if (!encodings.is_array()) {
        throwInvalid("rtpParameters.encodings");
    }
    if (encodings.empty()) {
        throwMissing("rtpParameters.encodings");
    }
    params.encodings.reserve(encodings.size());
    for (const auto& entry : encodings) {
        params.encodings.push_back(parseRtpEncodingParameters(entry));
    }

    if (const json* v = optionalField(data, "rtcp")) {
        params.rtcp = parseRtcpParameters(*v);
    }

    // Payload types identify codecs on the wire, so they must be unique.
    std::set<uint8_t> payloadTypes;
    for (const auto& codec : params.codecs) {
        if (!payloadTypes.insert(codec.payloadType).second) {
            throw TypeError("duplicated codec.payloadType " + std::to_string(codec.payloadType));
        }
    }

    // RTX retransmits a media stream; pointing it at RTX or FEC is meaningless.
    for (const auto& codec : params.codecs) {
        if (!codec.isRtx()) {
            continue;
        }
        const auto* target = params.findCodec(*codec.apt());
        if (target == nullptr || !target->isMediaCodec()) {
            throw TypeError("invalid codec.parameters.apt " + std::to_string(*codec.apt()) +
                            " (no such media codec)");
        }
    }

    const RtpCodecParameters* firstMedia = nullptr;
    for (const auto& codec : params.codecs) {
        if (codec.isMediaCodec()) {
            firstMedia = &codec;
            break;
        }
    }
    if (firstMedia == nullptr) {
        throw TypeError("invalid rtpParameters.codecs (no media codec)");
    }

    for (auto& enc : params.encodings) {
        // Simulcast streams each carry one spatial layer; mixing both would
        // leave no way to pick a layer.
        if (params.encodings.size() > 1 && enc.scalability().spatialLayers > 1) {
            throw TypeError(
                "invalid encoding.scalabilityMode (spatial layers with several encodings)");
        }
        if (!enc.codecPayloadType) {
            enc.codecPayloadType = firstMedia->payloadType;
        } else {
            const auto* codec = params.findCodec(*enc.codecPayloadType);
            if (codec == nullptr || !codec->isMediaCodec()) {
                throwInvalid("encoding.codecPayloadType");
            }
        }
    }

    std::set<uint8_t> extIds;
    for (const auto& ext : params.headerExtensions) {
        if (!extIds.insert(ext.id).second) {
            throw TypeError("duplicated headerExtension.id " + std::to_string(ext.id));
        }
    }
    return params;
}

std::vector<RtpEncodingParameters> parseConsumableRtpEncodings(const json& data) {
    if (data.is_null()) {
        throwMissing("consumableRtpEncodings");
    }
    if (!data.is_array()) {
        throwInvalid("consumableRtpEncodings");
    }
    if (data.empty()) {
        throwMissing("consumableRtpEncodings");
    }
    std::vector<RtpEncodingParameters> encodings;
    encodings.reserve(data.size());
    for (const auto& entry : data) {
        encodings.push_back(parseRtpEncodingParameters(entry));
        // The consumer finds the producer's streams by these SSRCs.
        if (!encodings.back().ssrc) {
            throwMissing("consumableRtpEncodings.ssrc");
        }
    }
    return encodings;
}

json toJson(const ParameterMap& map) {
    json out = json::object();
    for (const auto& [key, value] : map) {
        out[key] = parameterToJson(value);
    }
    return out;
}

json toJson(const RtcpFeedback& fb) {
    json out = json::object();
    out["type"] = fb.type;
    if (!fb.parameter.empty()) {
        out["parameter"] = fb.parameter;
    }
    return out;
}

json toJson(const RtpCodecParameters& codec) {
    json out = json::object();
    out["mimeType"] = codec.mimeType;
    out["payloadType"] = codec.payloadType;
    out["clockRate"] = codec.clockRate;
    if (codec.channels) {
        out["channels"] = *codec.channels;
    }
    out["parameters"] = toJson(codec.parameters);
    json fbs = json::array();
    for (const auto& fb : codec.rtcpFeedback) {
        fbs.push_back(toJson(fb));
    }
    out["rtcpFeedback"] = std::move(fbs);
    return out;
}

json toJson(const RtpEncodingParameters& enc) {
    json out = json::object();
    if (enc.ssrc) {
        out["ssrc"] = *enc.ssrc;
    }
    if (enc.rid) {
        out["rid"] = *enc.rid;
    }
    if (enc.codecPayloadType) {
        out["codecPayloadType"] = *enc.codecPayloadType;
    }
    if (enc.rtx) {
        out["rtx"] = json{{"ssrc", enc.rtx->ssrc}};
    }
    if (enc.dtx) {
        out["dtx"] = true;
    }
    if (enc.scalabilityMode) {
        out["scalabilityMode"] = *enc.scalabilityMode;
    }
    if (enc.scaleResolutionDownBy) {
        out["scaleResolutionDownBy"] = *enc.scaleResolutionDownBy;
    }
    if (enc.maxBitrate) {
        out["maxBitrate"] = *enc.maxBitrate;
    }
    if (enc.maxFramerate) {
        out["maxFramerate"] = *enc.maxFramerate;
    }
    if (enc.adaptivePtime) {
        out["adaptivePtime"] = *enc.adaptivePtime;
    }
    if (enc.priority) {
        out["priority"] = *enc.priority;
    }
    if (enc.networkPriority) {
        out["networkPriority"] = *enc.networkPriority;
    }
    return out;
}

json toJson(const std::vector<RtpEncodingParameters>& encodings) {
    json out = json::array();
    for (const auto& enc : encodings) {
        out.push_back(toJson(enc));
    }
    return out;
}

json toJson(const RtpHeaderExtensionParameters& ext) {
    json out = json::object();
    out["uri"] = ext.uri;
    out["id"] = ext.id;
    out["encrypt"] = ext.encrypt;
    out["parameters"] = toJson(ext.parameters);
    return out;
}

json toJson(const RtcpParameters& rtcp) {
    json out = json::object();
    if (rtcp.cname) {
        out["cname"] = *rtcp.cname;
    }
    out["reducedSize"] = rtcp.reducedSize;
    if (rtcp.mux) {
        out["mux"] = *rtcp.mux;
    }
    return out;
}

json toJson(const RtpParameters& params) {
    json out = json::object();
    if (params.mid) {
        out["mid"] = *params.mid;
    }
    json codecs = json::array();
    for (const auto& codec : params.codecs) {
        codecs.push_back(toJson(codec));
    }
    out["codecs"] = std::move(codecs);
    json exts = json::array();
    for (const auto& ext : params.headerExtensions) {
        exts.push_back(toJson(ext));
    }
    out["headerExtensions"] = std::move(exts);
    out["encodings"] = toJson(params.encodings);
    out["rtcp"] = toJson(params.rtcp);
    return out;
}

} // namespace sfu::params
