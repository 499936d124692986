// Feeds arbitrary datagrams to a fresh server-role DtlsTransport, as a peer
// or an attacker on the ICE tuple could before and during the handshake.
// Input: datagrams as [16-bit big-endian length][bytes], the last one taking
// whatever remains. The first byte picks options: bit 0 sets a remote
// fingerprint, bit 1 fires the timer after each datagram, bit 2 closes at
// the end.
#include "protocol/dtls/DtlsTransport.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>

using namespace sfu::dtls;

namespace {

std::shared_ptr<const DtlsContext> context;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

class Sink : public DtlsTransport::Listener {
public:
    void onDtlsConnected(SrtpProfile, std::span<const uint8_t> localKey,
                         std::span<const uint8_t> remoteKey, const std::string&) override {
        check(localKey.size() == remoteKey.size());
    }
    void onDtlsFailed() override {}
    void onDtlsClosed() override {}
    void sendDtlsData(const uint8_t* data, size_t len) override {
        // Whatever the input, we never emit an empty or oversized datagram
        // during a handshake.
        check(data != nullptr && len > 0 && len <= DtlsTransport::kMtu);
    }
    void onDtlsApplicationData(const uint8_t*, size_t) override {}
    void startTimer(uint64_t ms) override { check(ms <= 60'000); }
    void stopTimer() override {}
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    context = std::make_shared<const DtlsContext>(Certificate::generate());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const uint8_t options = data[0];
    ++data;
    --size;

    Sink sink;
    DtlsTransport server(context, sink);
    if ((options & 1) != 0) {
        server.setRemoteFingerprint(
            FingerprintAlgorithm::Sha256,
            context->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    }
    server.run(Role::Server);
    while (size > 0) {
        size_t len = size;
        if (size >= 2) {
            const size_t prefixed = static_cast<size_t>(data[0]) << 8 | data[1];
            if (prefixed <= size - 2) {
                data += 2;
                size -= 2;
                len = prefixed;
            }
        }
        server.processDtlsData(data, len);
        data += len;
        size -= len;
        if ((options & 2) != 0) {
            server.handleTimeout();
        }
        check(server.state() != State::New);
    }
    const uint8_t message[] = {1, 2, 3};
    server.sendApplicationData(message, sizeof(message));
    if ((options & 4) != 0) {
        server.close();
        check(server.state() == State::Closed);
    }
    return 0;
}
