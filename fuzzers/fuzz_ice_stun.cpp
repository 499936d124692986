// Drives the STUN parser, both checks, the response builders and an
// IceServer with a sequence of records:
//
//   [length: 2 bytes][control: 1 byte][length bytes of message] ...
//
// Every record is parsed and read whole. Control bit 0 first rewrites the
// record's MESSAGE-INTEGRITY and FINGERPRINT (when it has them) to be valid
// under the server's password, so the fuzzer gets past authentication into
// the state machine; bits 1-2 pick one of four tuples, bits 3-6 advance the
// clock by 2.5 s steps, bit 7 removes the tuple afterwards. An empty record
// with bit 7 set restarts ICE with the other of two fixed credential sets.
// Everything the server sends must parse and verify, and its state must stay
// consistent with its tuples.
#include "protocol/ice/Crc32.hpp"
#include "protocol/ice/Demux.hpp"
#include "protocol/ice/IceServer.hpp"
#include "protocol/ice/StunBuilder.hpp"
#include "protocol/ice/StunMessage.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>

using namespace sfu::ice;
using sfu::Protocol;

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

constexpr size_t kMaxInput = 8192;

// Reads everything; the sanitizers flag any access outside the message.
uint64_t readAll(const StunMessage& message) {
    uint64_t sum = message.type() + static_cast<uint64_t>(message.messageClass()) +
                   message.method() + message.fingerprint() + message.useCandidate() +
                   message.priority().value_or(0) + message.iceControlling().value_or(0) +
                   message.iceControlled().value_or(0) + message.nomination().value_or(0) +
                   message.errorCode().value_or(0) + message.unknownRequiredCount();
    for (const uint8_t byte : message.transactionId()) {
        sum += byte;
    }
    for (const char c : message.username()) {
        sum += static_cast<uint8_t>(c);
    }
    for (const char c : message.errorReason()) {
        sum += static_cast<uint8_t>(c);
    }
    for (const uint16_t type : message.unknownRequired()) {
        check(type < 0x8000);
        sum += type;
    }
    sockaddr_storage mapped;
    check(message.xorMappedAddress(mapped) == message.hasXorMappedAddress());
    if (message.hasXorMappedAddress()) {
        check(mapped.ss_family == AF_INET || mapped.ss_family == AF_INET6);
    }
    if (message.hasMessageIntegrity()) {
        check(message.messageIntegrityOffset() >= kStunHeaderSize);
        check(message.messageIntegrityOffset() + 24 <= message.size());
    }
    if (message.hasFingerprint()) {
        check(message.fingerprintOffset() + 8 == message.size());
    }
    check(message.username().size() <= kMaxUsernameSize);
    check(stunType(message.method(), message.messageClass()) == message.type());
    return sum;
}

struct Credentials {
    const char* ufrag;
    const char* password;
};
constexpr Credentials kCredentials[2] = {{"fuzz", "fuzzpassword0123456789"},
                                         {"fuzz2", "otherpassword0123456789"}};

class CheckingListener : public IceServer::Listener {
public:
    void sendStunPacket(const uint8_t* data, size_t size, const Tuple& tuple) override {
        check(tuple.valid());
        auto message = StunMessage::parse(data, size);
        check(message.has_value());
        check(message->messageClass() == StunClass::SuccessResponse ||
              message->messageClass() == StunClass::ErrorResponse);
        check(message->checkFingerprint());
        readAll(*message);
        if (message->hasMessageIntegrity()) {
            check(message->checkIntegrity(*password));
        }
        if (message->messageClass() == StunClass::SuccessResponse) {
            check(message->hasMessageIntegrity());
            sockaddr_storage mapped;
            check(message->xorMappedAddress(mapped));
            const Tuple echoed(tuple.protocol(), tuple.local(),
                               reinterpret_cast<const sockaddr*>(&mapped));
            check(echoed == tuple);
        } else {
            check(message->errorCode().has_value());
        }
    }
    void onIceSelectedTuple(const Tuple& tuple) override { check(tuple.valid()); }
    void onIceConnected() override {}
    void onIceCompleted() override {}
    void onIceDisconnected() override {}
    // Told of every tuple kept and every one forgotten, exactly once each.
    void onIceTupleAdded(const Tuple& tuple) override {
        check(tuple.valid());
        ++kept;
    }
    void onIceTupleRemoved(const Tuple& tuple) override {
        check(tuple.valid());
        check(kept > 0);
        --kept;
    }

    HmacSha1* password = nullptr;
    size_t kept = 0;
};

void checkServer(const IceServer& server, const CheckingListener& listener) {
    check(server.tupleCount() <= IceServer::kMaxTuples);
    check(listener.kept == server.tupleCount());
    switch (server.state()) {
    case IceState::New:
    case IceState::Disconnected:
        check(server.selectedTuple() == nullptr);
        check(server.tupleCount() == 0);
        break;
    case IceState::Connected:
    case IceState::Completed:
        check(server.selectedTuple() != nullptr);
        check(server.isValidTuple(*server.selectedTuple()));
        break;
    }
}

// Makes the message's integrity and fingerprint valid under `keyed`.
void fixUp(uint8_t* data, size_t size, HmacSha1& keyed) {
    auto message = StunMessage::parse(data, size);
    if (!message) {
        return;
    }
    if (message->hasMessageIntegrity()) {
        const size_t at = message->messageIntegrityOffset();
        uint8_t length[2];
        sfu::bytes::set16(length, static_cast<uint16_t>(at + 24 - kStunHeaderSize));
        std::array<uint8_t, HmacSha1::kDigestSize> mac;
        check(keyed.compute({{data, 2}, {length, 2}, {data + 4, at - 4}}, mac));
        std::memcpy(data + at + 4, mac.data(), mac.size());
    }
    if (message->hasFingerprint()) {
        const size_t at = message->fingerprintOffset();
        sfu::bytes::set32(data + at + 4, crc32(data, at) ^ kFingerprintXor);
    }
    auto fixed = StunMessage::parse(data, size);
    check(fixed.has_value());
    check(!fixed->hasMessageIntegrity() || fixed->checkIntegrity(keyed));
    check(!fixed->hasFingerprint() || fixed->checkFingerprint());
}

sockaddr_storage address(int family, const char* ip, uint16_t port) {
    sockaddr_storage storage{};
    if (family == AF_INET) {
        auto& in = reinterpret_cast<sockaddr_in&>(storage);
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        inet_pton(AF_INET, ip, &in.sin_addr);
    } else {
        auto& in = reinterpret_cast<sockaddr_in6&>(storage);
        in.sin6_family = AF_INET6;
        in.sin6_port = htons(port);
        inet_pton(AF_INET6, ip, &in.sin6_addr);
    }
    return storage;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxInput) {
        return 0;
    }
    static int udpSocket = 0;
    static int tcpConnection = 0;
    static const sockaddr_storage remotes[4] = {
        address(AF_INET, "192.0.2.1", 1000),
        address(AF_INET, "192.0.2.2", 2000),
        address(AF_INET6, "2001:db8::1", 3000),
        address(AF_INET, "192.0.2.1", 1000),
    };
    const Tuple tuples[4] = {
        Tuple(Protocol::Udp, &udpSocket, reinterpret_cast<const sockaddr*>(&remotes[0])),
        Tuple(Protocol::Udp, &udpSocket, reinterpret_cast<const sockaddr*>(&remotes[1])),
        Tuple(Protocol::Udp, &udpSocket, reinterpret_cast<const sockaddr*>(&remotes[2])),
        Tuple(Protocol::Tcp, &tcpConnection, reinterpret_cast<const sockaddr*>(&remotes[3])),
    };

    CheckingListener listener;
    size_t credentials = 0;
    HmacSha1 keyed(kCredentials[0].password);
    listener.password = &keyed;
    IceServer server(listener, kCredentials[0].ufrag, kCredentials[0].password);
    uint64_t now = 0;
    volatile uint64_t sink = 0;

    while (size >= 3) {
        size_t length = sfu::bytes::get16(data);
        const uint8_t control = data[2];
        data += 3;
        size -= 3;
        if (length > size) {
            length = size;
        }
        if (length == 0 && (control & 0x80) != 0) {
            credentials ^= 1;
            server.restartIce(kCredentials[credentials].ufrag, kCredentials[credentials].password);
            check(keyed.setKey(std::string_view(kCredentials[credentials].password)));
            continue;
        }

        // Exact-size copy so that any overread hits a redzone.
        auto* exact = static_cast<uint8_t*>(std::malloc(length == 0 ? 1 : length));
        if (length > 0) {
            std::memcpy(exact, data, length);
        }
        data += length;
        size -= length;

        sink = sink + static_cast<uint64_t>(classifyPacket(exact, length));
        if (auto message = StunMessage::parse(exact, length)) {
            sink = sink + readAll(*message) + message->checkFingerprint() +
                   message->checkIntegrity(keyed);
            // Answering it must always produce something we accept back.
            std::array<uint8_t, 256> response;
            const size_t n =
                buildBindingSuccess(response.data(), response.size(), message->transactionId(),
                                    reinterpret_cast<const sockaddr*>(&remotes[2]), keyed);
            check(n > 0);
            auto parsed = StunMessage::parse(response.data(), n);
            check(parsed && parsed->checkFingerprint() && parsed->checkIntegrity(keyed));
        }
        if ((control & 0x01) != 0) {
            fixUp(exact, length, keyed);
        }

        const Tuple& tuple = tuples[(control >> 1) & 0x3];
        now += uint64_t{(control >> 3) & 0x0Fu} * 2500;
        server.processStunPacket(exact, length, tuple, now);
        checkServer(server, listener);
        server.tick(now);
        checkServer(server, listener);
        if ((control & 0x80) != 0) {
            server.removeTuple(tuple);
            check(!server.isValidTuple(tuple));
            checkServer(server, listener);
        }
        std::free(exact);
    }
    return 0;
}
