// Feeds arbitrary bytes to what an attacker controls: inbound SRTP/SRTCP
// packets and base64 keys. Also protects arbitrary bytes as RTP/RTCP and
// checks that whatever protects unprotects back to the same bytes. The first
// input byte picks the suite and what to do.
#include "protocol/srtp/Base64.hpp"
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace sfu::srtp;

namespace {

struct Pair {
    std::unique_ptr<SrtpSession> out;
    std::unique_ptr<SrtpSession> in;
};

// Sessions persist across inputs, as on a long-lived transport, so replay
// state and many SSRCs get exercised too.
std::array<Pair, kAllCryptoSuites.size()> sessions;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    for (size_t i = 0; i < kAllCryptoSuites.size(); ++i) {
        const CryptoSuite suite = kAllCryptoSuites[i];
        std::vector<uint8_t> key(keyLength(suite), static_cast<uint8_t>(i + 1));
        sessions[i].out = std::make_unique<SrtpSession>(Direction::Outbound, suite, key);
        sessions[i].in = std::make_unique<SrtpSession>(Direction::Inbound, suite, key);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const uint8_t selector = data[0];
    ++data;
    --size;
    Pair& pair = sessions[selector % kAllCryptoSuites.size()];
    const int mode = (selector / kAllCryptoSuites.size()) % 5;

    if (mode == 4) {
        const std::string_view text(reinterpret_cast<const char*>(data), size);
        if (const auto decoded = base64Decode(text)) {
            check(base64Encode(*decoded) == text);
        }
        return 0;
    }

    // Exactly sized heap buffers, so the sanitizers see any overrun of ours.
    if (mode < 2) {
        std::vector<uint8_t> packet(data, data + size);
        size_t len = packet.size();
        if (mode == 0) {
            pair.in->unprotectRtp(packet.data(), len);
        } else {
            pair.in->unprotectRtcp(packet.data(), len);
        }
        check(len <= size);
        return 0;
    }

    // A fresh pair: on the persistent one an earlier input may have moved
    // this SSRC's rollover counter, which a new receiver cannot follow.
    const CryptoSuite suite = pair.out->suite();
    const std::vector<uint8_t> key(keyLength(suite),
                                   static_cast<uint8_t>(selector % kAllCryptoSuites.size() + 1));
    SrtpSession out(Direction::Outbound, suite, key);
    SrtpSession in(Direction::Inbound, suite, key);
    const bool rtcp = mode == 3;
    const size_t trailer = rtcp ? out.rtcpTrailerLength() : out.rtpTrailerLength();
    std::vector<uint8_t> packet(size + trailer);
    std::memcpy(packet.data(), data, size);
    size_t len = size;
    const bool ok = rtcp ? out.protectRtcp(packet.data(), len, packet.size())
                         : out.protectRtp(packet.data(), len, packet.size());
    if (!ok) {
        return 0;
    }
    check(len == size + trailer);
    const bool back =
        rtcp ? in.unprotectRtcp(packet.data(), len) : in.unprotectRtp(packet.data(), len);
    check(back);
    check(len == size && std::memcmp(packet.data(), data, size) == 0);
    return 0;
}
