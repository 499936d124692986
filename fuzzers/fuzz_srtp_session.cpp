// Feeds arbitrary bytes to what an attacker controls: inbound SRTP/SRTCP
// packets and base64 keys, to our receiving session and, beside it, to
// libsrtp2's (the test oracle): both must accept the same packets, to the
// same bytes, and refuse the others. Also protects arbitrary bytes as RTP/RTCP and
// checks that whatever protects unprotects back to the same bytes. The first
// input byte picks the suite and what to do.
#include "protocol/srtp/Base64.hpp"
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "srtp/LibsrtpSession.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <srtp2/srtp.h>
#include <vector>

using namespace sfu::srtp;

namespace {

struct Pair {
    std::unique_ptr<SrtpSession> out;
    std::unique_ptr<SrtpSession> in;
    std::unique_ptr<oracle::LibsrtpSession> theirIn;
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
    check(srtp_init() == srtp_err_status_ok);
    for (size_t i = 0; i < kAllCryptoSuites.size(); ++i) {
        const CryptoSuite suite = kAllCryptoSuites[i];
        std::vector<uint8_t> key(keyLength(suite), static_cast<uint8_t>(i + 1));
        sessions[i].out = std::make_unique<SrtpSession>(Direction::Outbound, suite, key);
        sessions[i].in = std::make_unique<SrtpSession>(Direction::Inbound, suite, key);
        sessions[i].theirIn =
            std::make_unique<oracle::LibsrtpSession>(Direction::Inbound, suite, key);
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
        const bool ours = mode == 0 ? pair.in->unprotectRtp(packet.data(), len)
                                    : pair.in->unprotectRtcp(packet.data(), len);
        check(len <= size);
        std::vector<uint8_t> copy(data, data + size);
        size_t theirLength = copy.size();
        const bool theirs = mode == 0 ? pair.theirIn->unprotectRtp(copy.data(), theirLength)
                                      : pair.theirIn->unprotectRtcp(copy.data(), theirLength);
        check(ours == theirs);
        check(!ours || (len == theirLength && std::memcmp(packet.data(), copy.data(), len) == 0));
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
