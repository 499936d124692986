// The RTP header extensions the mediasoup host negotiates: their URIs, and
// typed readers and writers for their values.
//
// Readers take an element's value bytes (RtpPacket::extension(id)) and return
// nullopt when the size is not one the format allows, so an absent element
// (empty span) reads as nullopt too. write*() overwrite a value of the right
// size in place; set*() add the element to a packet or update it.
#pragma once

#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sfu::rtp {

// Values match mediasoup's RtpHeaderExtensionUri::Type.
enum class ExtensionType : uint8_t {
    Unknown = 0,
    Mid = 1,
    RtpStreamId = 2,
    RepairedRtpStreamId = 3,
    AbsSendTime = 4,
    TransportWideCc01 = 5,
    FrameMarking07 = 6, // the draft-07 URI, kept while browsers still offer it
    FrameMarking = 7,
    SsrcAudioLevel = 10,
    VideoOrientation = 11,
    TimeOffset = 12,
};

namespace uri {
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRtpStreamId =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportWideCc01 =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kFrameMarking07 =
    "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07";
inline constexpr std::string_view kFrameMarking = "urn:ietf:params:rtp-hdrext:framemarking";
inline constexpr std::string_view kSsrcAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kVideoOrientation = "urn:3gpp:video-orientation";
inline constexpr std::string_view kTimeOffset = "urn:ietf:params:rtp-hdrext:toffset";
} // namespace uri

// Unknown for any URI not listed above (matching is exact, as mediasoup's).
ExtensionType extensionTypeFromUri(std::string_view uri);
// Empty for Unknown.
std::string_view extensionTypeToUri(ExtensionType type);

// The id negotiated for each known type (0 = not negotiated).
class ExtensionIds {
public:
    uint8_t get(ExtensionType type) const { return ids_[static_cast<uint8_t>(type) % kSlots]; }
    void set(ExtensionType type, uint8_t id) {
        if (type != ExtensionType::Unknown) {
            ids_[static_cast<uint8_t>(type) % kSlots] = id;
        }
    }
    void clear() { ids_.fill(0); }

private:
    static constexpr size_t kSlots = 13;
    std::array<uint8_t, kSlots> ids_{};
};

// RFC 6464: voice activity flag and level in -dBov (0 loudest, 127 silence).
struct AudioLevel {
    bool voiceActivity = false;
    uint8_t level = 0;
};

// 3GPP TS 26.114 coordination of video orientation.
struct VideoOrientation {
    bool camera = false;   // true: back-facing camera
    bool flip = false;     // horizontal flip
    uint16_t rotation = 0; // degrees clockwise: 0, 90, 180 or 270
};

// Frame marking (draft-ietf-avtext-framemarking), read the same way for both
// URIs as mediasoup does: a flags byte |S|E|I|D|B| TID |, then for scalable
// streams the layer id and, in the 3-byte form, TL0PICIDX.
struct FrameMarking {
    bool startOfFrame = false;
    bool endOfFrame = false;
    bool independent = false;
    bool discardable = false;
    bool baseLayerSync = false;
    uint8_t temporalId = 0; // 3 bits
    uint8_t layerId = 0;
    uint8_t tl0PicIdx = 0;
    uint8_t size = 1; // 1, 2 or 3 bytes on the wire
};

inline constexpr size_t kAbsSendTimeSize = 3;
inline constexpr size_t kTransportWideSeqSize = 2;
inline constexpr size_t kAudioLevelSize = 1;
inline constexpr size_t kVideoOrientationSize = 1;
inline constexpr size_t kTimeOffsetSize = 3;
inline constexpr size_t kMaxFrameMarkingSize = 3;

// mid, rid and repaired rid: the text up to the first NUL, if not empty.
std::optional<std::string_view> readSdes(std::span<const uint8_t> value);
// 6.18 fixed point seconds, 24 bits.
std::optional<uint32_t> readAbsSendTime(std::span<const uint8_t> value);
std::optional<uint16_t> readTransportWideSeq(std::span<const uint8_t> value);
std::optional<AudioLevel> readAudioLevel(std::span<const uint8_t> value);
// The ssrc-audio-level element of a packet whose sender uses `id` for it, in
// either extension form: nullopt when id is 0 (not negotiated), the element
// is absent or its size is not 1.
std::optional<AudioLevel> packetAudioLevel(const RtpPacket& packet, uint8_t id);
std::optional<VideoOrientation> readVideoOrientation(std::span<const uint8_t> value);
// RFC 5450 transmission offset, 24-bit signed.
std::optional<int32_t> readTimeOffset(std::span<const uint8_t> value);
std::optional<FrameMarking> readFrameMarking(std::span<const uint8_t> value);

bool writeAbsSendTime(std::span<uint8_t> value, uint32_t absSendTime);
bool writeTransportWideSeq(std::span<uint8_t> value, uint16_t seq);
bool writeAudioLevel(std::span<uint8_t> value, AudioLevel level);
bool writeVideoOrientation(std::span<uint8_t> value, VideoOrientation orientation);
bool writeTimeOffset(std::span<uint8_t> value, int32_t offset);
// Writes as many fields as value.size() (1 to 3) holds.
bool writeFrameMarking(std::span<uint8_t> value, const FrameMarking& marking);

// Add-or-update helpers; false when id is 0 or the packet cannot take it.
bool setSdes(RtpPacket& packet, uint8_t id, std::string_view text);
bool setAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t absSendTime);
bool setTransportWideSeq(RtpPacket& packet, uint8_t id, uint16_t seq);
bool setAudioLevel(RtpPacket& packet, uint8_t id, AudioLevel level);
bool setVideoOrientation(RtpPacket& packet, uint8_t id, VideoOrientation orientation);
bool setTimeOffset(RtpPacket& packet, uint8_t id, int32_t offset);
// Uses marking.size bytes.
bool setFrameMarking(RtpPacket& packet, uint8_t id, const FrameMarking& marking);

} // namespace sfu::rtp
