// What a producer learnt about a packet, handed with it to every consumer so
// that the packet is parsed once however many consumers there are.
#pragma once

#include "protocol/codecs/Codecs.hpp"

#include <cstddef>
#include <cstdint>

namespace sfu::recovery {
class PacketStore;
} // namespace sfu::recovery

namespace sfu::rtc {

struct RtpForwardInfo {
    // Index of the producer encoding (simulcast stream) it belongs to.
    size_t encodingIndex = 0;
    codecs::Codec codec = codecs::Codec::Unknown;
    bool keyFrame = false;
    // It arrived as an RTX retransmission (RFC 4588) and was decapsulated.
    bool retransmitted = false;
    uint64_t nowMs = 0;
    // The producer stream's packet store consumers answer NACKs from (null
    // when the stream has no loss recovery).
    const recovery::PacketStore* store = nullptr;
};

} // namespace sfu::rtc
