#include "protocol/rtp/Extensions.hpp"

#include "utils/Bytes.hpp"

#include <cstring>

namespace sfu::rtp {

namespace {

struct UriEntry {
    std::string_view uri;
    ExtensionType type;
};

constexpr std::array<UriEntry, 10> kUris{{
    {uri::kMid, ExtensionType::Mid},
    {uri::kRtpStreamId, ExtensionType::RtpStreamId},
    {uri::kRepairedRtpStreamId, ExtensionType::RepairedRtpStreamId},
    {uri::kAbsSendTime, ExtensionType::AbsSendTime},
    {uri::kTransportWideCc01, ExtensionType::TransportWideCc01},
    {uri::kFrameMarking07, ExtensionType::FrameMarking07},
    {uri::kFrameMarking, ExtensionType::FrameMarking},
    {uri::kSsrcAudioLevel, ExtensionType::SsrcAudioLevel},
    {uri::kVideoOrientation, ExtensionType::VideoOrientation},
    {uri::kTimeOffset, ExtensionType::TimeOffset},
}};

constexpr uint8_t kVoiceActivityBit = 0x80;
constexpr uint8_t kCameraBit = 0x08;
constexpr uint8_t kFlipBit = 0x04;
constexpr uint8_t kRotationMask = 0x03;

constexpr uint8_t kStartBit = 0x80;
constexpr uint8_t kEndBit = 0x40;
constexpr uint8_t kIndependentBit = 0x20;
constexpr uint8_t kDiscardableBit = 0x10;
constexpr uint8_t kBaseLayerSyncBit = 0x08;
constexpr uint8_t kTemporalIdMask = 0x07;

} // namespace

ExtensionType extensionTypeFromUri(std::string_view uri) {
    for (const UriEntry& entry : kUris) {
        if (entry.uri == uri) {
            return entry.type;
        }
    }
    return ExtensionType::Unknown;
}

std::string_view extensionTypeToUri(ExtensionType type) {
    for (const UriEntry& entry : kUris) {
        if (entry.type == type) {
            return entry.uri;
        }
    }
    return {};
}

std::optional<std::string_view> readSdes(std::span<const uint8_t> value) {
    // Some senders NUL-pad the text; what follows a NUL is not part of it.
    const auto* text = reinterpret_cast<const char*>(value.data());
    const size_t length = value.empty() ? 0 : strnlen(text, value.size());
    if (length == 0) {
        return std::nullopt;
    }
    return std::string_view{text, length};
}

std::optional<uint32_t> readAbsSendTime(std::span<const uint8_t> value) {
    if (value.size() != kAbsSendTimeSize) {
        return std::nullopt;
    }
    return bytes::get24(value.data());
}

std::optional<uint16_t> readTransportWideSeq(std::span<const uint8_t> value) {
    if (value.size() != kTransportWideSeqSize) {
        return std::nullopt;
    }
    return bytes::get16(value.data());
}

std::optional<AudioLevel> readAudioLevel(std::span<const uint8_t> value) {
    if (value.size() != kAudioLevelSize) {
        return std::nullopt;
    }
    return AudioLevel{(value[0] & kVoiceActivityBit) != 0,
                      static_cast<uint8_t>(value[0] & ~kVoiceActivityBit)};
}

std::optional<AudioLevel> packetAudioLevel(const RtpPacket& packet, uint8_t id) {
    if (id == 0) {
        return std::nullopt;
    }
    return readAudioLevel(packet.extension(id));
}

std::optional<VideoOrientation> readVideoOrientation(std::span<const uint8_t> value) {
    if (value.size() != kVideoOrientationSize) {
        return std::nullopt;
    }
    return VideoOrientation{(value[0] & kCameraBit) != 0, (value[0] & kFlipBit) != 0,
                            static_cast<uint16_t>((value[0] & kRotationMask) * 90)};
}

std::optional<int32_t> readTimeOffset(std::span<const uint8_t> value) {
    if (value.size() != kTimeOffsetSize) {
        return std::nullopt;
    }
    const uint32_t raw = bytes::get24(value.data());
    // Sign-extend from 24 bits.
    return static_cast<int32_t>(raw << 8) >> 8;
}

std::optional<FrameMarking> readFrameMarking(std::span<const uint8_t> value) {
    if (value.empty() || value.size() > kMaxFrameMarkingSize) {
        return std::nullopt;
    }
    FrameMarking marking;
    const uint8_t flags = value[0];
    marking.startOfFrame = (flags & kStartBit) != 0;
    marking.endOfFrame = (flags & kEndBit) != 0;
    marking.independent = (flags & kIndependentBit) != 0;
    marking.discardable = (flags & kDiscardableBit) != 0;
    marking.baseLayerSync = (flags & kBaseLayerSyncBit) != 0;
    marking.temporalId = flags & kTemporalIdMask;
    marking.size = static_cast<uint8_t>(value.size());
    if (value.size() >= 2) {
        marking.layerId = value[1];
    }
    if (value.size() >= 3) {
        marking.tl0PicIdx = value[2];
    }
    return marking;
}

bool writeAbsSendTime(std::span<uint8_t> value, uint32_t absSendTime) {
    if (value.size() != kAbsSendTimeSize) {
        return false;
    }
    bytes::set24(value.data(), absSendTime & 0x00FFFFFF);
    return true;
}

bool writeTransportWideSeq(std::span<uint8_t> value, uint16_t seq) {
    if (value.size() != kTransportWideSeqSize) {
        return false;
    }
    bytes::set16(value.data(), seq);
    return true;
}

bool writeAudioLevel(std::span<uint8_t> value, AudioLevel level) {
    if (value.size() != kAudioLevelSize) {
        return false;
    }
    value[0] =
        static_cast<uint8_t>((level.voiceActivity ? kVoiceActivityBit : 0) | (level.level & 0x7F));
    return true;
}

bool writeVideoOrientation(std::span<uint8_t> value, VideoOrientation orientation) {
    if (value.size() != kVideoOrientationSize) {
        return false;
    }
    // Round to the nearest quarter turn.
    const auto quarterTurns = static_cast<uint8_t>(((orientation.rotation + 45u) / 90u) % 4u);
    value[0] = static_cast<uint8_t>((orientation.camera ? kCameraBit : 0) |
                                    (orientation.flip ? kFlipBit : 0) | quarterTurns);
    return true;
}

bool writeTimeOffset(std::span<uint8_t> value, int32_t offset) {
    if (value.size() != kTimeOffsetSize) {
        return false;
    }
    bytes::set24(value.data(), static_cast<uint32_t>(offset) & 0x00FFFFFF);
    return true;
}

bool writeFrameMarking(std::span<uint8_t> value, const FrameMarking& marking) {
    if (value.empty() || value.size() > kMaxFrameMarkingSize) {
        return false;
    }
    value[0] = static_cast<uint8_t>(
        (marking.startOfFrame ? kStartBit : 0) | (marking.endOfFrame ? kEndBit : 0) |
        (marking.independent ? kIndependentBit : 0) | (marking.discardable ? kDiscardableBit : 0) |
        (marking.baseLayerSync ? kBaseLayerSyncBit : 0) | (marking.temporalId & kTemporalIdMask));
    if (value.size() >= 2) {
        value[1] = marking.layerId;
    }
    if (value.size() >= 3) {
        value[2] = marking.tl0PicIdx;
    }
    return true;
}

namespace {

// Encodes into a small stack buffer, then adds or updates in place.
template <size_t N, typename Writer>
bool setFixed(RtpPacket& packet, uint8_t id, size_t size, Writer&& write) {
    std::array<uint8_t, N> value{};
    const std::span<uint8_t> used{value.data(), size};
    if (!write(used)) {
        return false;
    }
    return packet.addExtension(id, used);
}

} // namespace

bool setSdes(RtpPacket& packet, uint8_t id, std::string_view text) {
    if (text.empty() || text.size() > kMaxTwoByteValueSize) {
        return false;
    }
    return packet.addExtension(id, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

bool setAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t absSendTime) {
    return setFixed<kAbsSendTimeSize>(packet, id, kAbsSendTimeSize, [&](std::span<uint8_t> v) {
        return writeAbsSendTime(v, absSendTime);
    });
}

bool setTransportWideSeq(RtpPacket& packet, uint8_t id, uint16_t seq) {
    return setFixed<kTransportWideSeqSize>(
        packet, id, kTransportWideSeqSize,
        [&](std::span<uint8_t> v) { return writeTransportWideSeq(v, seq); });
}

bool setAudioLevel(RtpPacket& packet, uint8_t id, AudioLevel level) {
    return setFixed<kAudioLevelSize>(packet, id, kAudioLevelSize, [&](std::span<uint8_t> v) {
        return writeAudioLevel(v, level);
    });
}

bool setVideoOrientation(RtpPacket& packet, uint8_t id, VideoOrientation orientation) {
    return setFixed<kVideoOrientationSize>(
        packet, id, kVideoOrientationSize,
        [&](std::span<uint8_t> v) { return writeVideoOrientation(v, orientation); });
}

bool setTimeOffset(RtpPacket& packet, uint8_t id, int32_t offset) {
    return setFixed<kTimeOffsetSize>(packet, id, kTimeOffsetSize, [&](std::span<uint8_t> v) {
        return writeTimeOffset(v, offset);
    });
}

bool setFrameMarking(RtpPacket& packet, uint8_t id, const FrameMarking& marking) {
    if (marking.size == 0 || marking.size > kMaxFrameMarkingSize) {
        return false;
    }
    return setFixed<kMaxFrameMarkingSize>(packet, id, marking.size, [&](std::span<uint8_t> v) {
        return writeFrameMarking(v, marking);
    });
}

} // namespace sfu::rtp
