// Classifies arbitrary bytes as RFC 7983 says and checks the verdict against
// the rules restated independently here; whatever claims to be STUN is also
// handed to the parser.
#include "protocol/ice/Demux.hpp"
#include "protocol/ice/StunMessage.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace sfu::ice;

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

PacketKind expected(const uint8_t* data, size_t size) {
    if (size == 0) {
        return PacketKind::Unknown;
    }
    const unsigned b = data[0];
    if (b < 4) {
        const bool cookie =
            size >= 8 && data[4] == 0x21 && data[5] == 0x12 && data[6] == 0xA4 && data[7] == 0x42;
        return size >= 20 && cookie ? PacketKind::Stun : PacketKind::Unknown;
    }
    if (b >= 20 && b < 64) {
        return size >= 13 ? PacketKind::Dtls : PacketKind::Unknown;
    }
    if (b >= 128 && b < 192) {
        if (size < 4) {
            return PacketKind::Unknown;
        }
        if (data[1] >= 192 && data[1] < 224) {
            return PacketKind::Rtcp;
        }
        return size >= 12 ? PacketKind::Rtp : PacketKind::Unknown;
    }
    return PacketKind::Unknown;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Exact-size copy so that any overread hits a redzone.
    auto* exact = static_cast<uint8_t*>(std::malloc(size == 0 ? 1 : size));
    if (size > 0) {
        std::memcpy(exact, data, size);
    }
    // Every prefix, since demux decisions hinge on the length.
    for (size_t n = 0; n <= size && n <= 64; ++n) {
        const PacketKind kind = classifyPacket(exact, n);
        check(kind == expected(exact, n));
        auto message = StunMessage::parse(exact, n);
        // A parsed message is STUN to demux too, unless its method is past
        // 0x0FF: RFC 5389 allows that, RFC 7983 leaves it no first byte.
        check(!message || kind == PacketKind::Stun || exact[0] > 3);
    }
    const PacketKind kind = classifyPacket(exact, size);
    check(kind == expected(exact, size));
    if (kind == PacketKind::Stun) {
        volatile bool parsed = StunMessage::parse(exact, size).has_value();
        (void)parsed;
    }
    std::free(exact);
    return 0;
}
