// The one place that tells which producer stream an incoming RTP packet
// belongs to: by its SSRC (declared by the producer or learnt from an
// earlier packet), else by the MID and then the RID (or repaired RID)
// header extension. A match by MID or RID teaches the SSRC for the next
// packets. Which of the stream's packets are RTX the stream itself knows.
#pragma once

#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sfu::rtc {

class Producer;

class RtpListener {
public:
    struct Target {
        Producer* producer = nullptr;
        size_t encodingIndex = 0;
    };

    // Throws sfu::Error, registering nothing, when one of the producer's
    // SSRCs or its MID is taken.
    void addProducer(Producer& producer);
    void removeProducer(const Producer& producer);

    // The stream the packet belongs to, or nullopt.
    std::optional<Target> find(const rtp::RtpPacket& packet);
    // The stream that has sent with this SSRC (or declared it), for RTCP.
    std::optional<Target> findBySsrc(uint32_t ssrc) const;

    // The ids of the header extensions the producers receive, merged.
    const rtp::ExtensionIds& extensionIds() const { return extensionIds_; }

    // {ssrcTable, midTable, ridTable}, as the host's transport dump has it.
    nlohmann::json dump() const;

private:
    // Looked up by the string_view read from a packet, without building a
    // std::string per packet.
    struct StringHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    template <typename Value>
    using StringTable = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

    std::optional<std::string_view> readSdes(const rtp::RtpPacket& packet,
                                             rtp::ExtensionType type) const;
    // The encoding of `producer` a packet's RID or repaired RID names.
    std::optional<size_t> encodingByRid(const Producer& producer,
                                        const rtp::RtpPacket& packet) const;

    std::unordered_map<uint32_t, Target> ssrcTable_;
    StringTable<Producer*> midTable_;
    // For producers without a MID: a RID names a stream across the
    // transport.
    StringTable<Target> ridTable_;
    rtp::ExtensionIds extensionIds_;
};

} // namespace sfu::rtc
