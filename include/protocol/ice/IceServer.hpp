// ICE-lite agent (RFC 8445 2.5), always in the controlled role, as a WebRTC
// transport runs it: it answers the peer's connectivity checks, tracks the
// tuples that passed them and follows the peer's nomination. It owns no
// socket and no timer, which makes it testable with plain function calls.
//
// How a transport uses it:
//  - Construct with a Listener; announce usernameFragment() and password()
//    in the transport's ICE parameters.
//  - For every packet classifyPacket() calls STUN, build a Tuple (its socket
//    or TCP connection, the protocol, the sender's address) and call
//    processStunPacket(). Responses come back through sendStunPacket(),
//    addressed to the tuple they answer; the transport adds RFC 4571 framing
//    on TCP.
//  - Accept DTLS and media only from tuples isValidTuple() knows, and send
//    to selectedTuple().
//  - Call removeTuple() when a TCP connection closes, tick() every second or
//    so (consent freshness), restartIce() for transport.restartIce.
//
// State: New -> Connected on the first valid check (which selects its tuple:
// a peer using aggressive nomination may never send USE-CANDIDATE), ->
// Completed when a check carries USE-CANDIDATE (which selects its tuple).
// Losing the selected tuple (removeTuple(), or 30 s without a valid check
// from it) falls back to the most recently checked remaining tuple, or goes
// Disconnected when none is left; the next valid check leaves Disconnected as
// from New.
//
// Callbacks run synchronously from processStunPacket(), removeTuple() and
// tick(); the tuple reference they receive is valid during the call only. A
// listener may call back into the server but must not destroy it.
#pragma once

#include "protocol/ice/HmacSha1.hpp"
#include "protocol/ice/StunMessage.hpp"
#include "protocol/ice/Tuple.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sfu::ice {

enum class IceState : uint8_t { New, Connected, Completed, Disconnected };

std::string_view iceStateName(IceState state);

// What processStunPacket() did with a packet.
enum class IceResult : uint8_t {
    Accepted,          // valid check, success response sent
    Malformed,         // not a well-formed STUN message: dropped
    NotRequest,        // an indication or a response: dropped
    BadFingerprint,    // FINGERPRINT missing or wrong: dropped
    BadRequest,        // 400 sent (other method, missing attribute)
    BadUsername,       // 401 sent
    BadIntegrity,      // 401 sent
    UnknownAttributes, // 420 sent
    RoleConflict,      // 487 sent: the peer claims the controlled role too
    InvalidTuple,      // tuple without an IPv4/IPv6 address: ignored
};

// Per-reason packet counts.
struct IceServerCounters {
    uint64_t validChecks = 0;
    uint64_t malformed = 0;
    uint64_t notRequest = 0;
    uint64_t badFingerprint = 0;
    uint64_t badRequest = 0;
    uint64_t badUsername = 0;
    uint64_t badIntegrity = 0;
    uint64_t unknownAttributes = 0;
    uint64_t roleConflict = 0;
};

class IceServer {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // A complete STUN message for the peer at `tuple`.
        virtual void sendStunPacket(const uint8_t* data, size_t size, const Tuple& tuple) = 0;
        virtual void onIceSelectedTuple(const Tuple& tuple) = 0;
        virtual void onIceConnected() = 0;
        virtual void onIceCompleted() = 0;
        virtual void onIceDisconnected() = 0;
        // A tuple passed its first check, or was forgotten (removed,
        // expired or evicted); a transport sharing its socket with others
        // routes the tuple's packets to itself meanwhile.
        virtual void onIceTupleAdded(const Tuple& /*tuple*/) {}
        virtual void onIceTupleRemoved(const Tuple& /*tuple*/) {}
    };

    // Candidate pairs a peer validates at once: host candidates of a few
    // interfaces. Past this the least recently checked unselected tuple goes.
    static constexpr size_t kMaxTuples = 8;
    // RFC 7675 5.1: consent expires 30 s after the last check that passed.
    static constexpr uint64_t kConsentTimeoutMs = 30000;
    // mediasoup's sizes: ufrag 16 and password 32 characters of [a-z0-9].
    static constexpr size_t kUsernameFragmentLength = 16;
    static constexpr size_t kPasswordLength = 32;

    // Random credentials. Throws sfu::Error if the CSPRNG fails.
    explicit IceServer(Listener& listener);
    // Given credentials (tests, fuzzing). Throws sfu::Error if either is
    // empty, or the fragment contains ':' (it would make USERNAME ambiguous).
    IceServer(Listener& listener, std::string usernameFragment, std::string password);

    IceServer(const IceServer&) = delete;
    IceServer& operator=(const IceServer&) = delete;

    const std::string& usernameFragment() const { return usernameFragment_; }
    const std::string& password() const { return password_; }
    IceState state() const { return state_; }
    // nullptr when no tuple is selected.
    const Tuple* selectedTuple() const;
    bool isValidTuple(const Tuple& tuple) const { return find(tuple) < count_; }
    size_t tupleCount() const { return count_; }
    const Tuple& tupleAt(size_t index) const { return entries_[index].tuple; }
    const IceServerCounters& counters() const { return counters_; }

    // Handles one STUN message from `tuple` received at `nowMs` (any
    // monotonic millisecond clock, the same one tick() gets). A Binding
    // request is valid when, in this order: FINGERPRINT is present and
    // right; USERNAME is "<our ufrag>:<their ufrag>"; MESSAGE-INTEGRITY
    // verifies with our password; no unknown comprehension-required
    // attribute precedes it; PRIORITY is present; the peer claims
    // ICE-CONTROLLING and not ICE-CONTROLLED. Anything else is dropped or
    // answered with an error as IceResult says.
    IceResult processStunPacket(const uint8_t* data, size_t size, const Tuple& tuple,
                                uint64_t nowMs);

    // Forgets `tuple` (its TCP connection closed). Removing the selected
    // tuple selects another or disconnects.
    void removeTuple(const Tuple& tuple);

    // Expires tuples without a valid check for kConsentTimeoutMs.
    void tick(uint64_t nowMs);

    // New random credentials: checks with the old ones fail from now on,
    // while tuples, selection and state stay until consent runs out or the
    // peer checks with the new ones. Throws sfu::Error if the CSPRNG fails.
    void restartIce();
    // Same with given credentials (validated as by the constructor).
    void restartIce(std::string usernameFragment, std::string password);

private:
    struct Entry {
        Tuple tuple;
        uint64_t lastCheckMs = 0;
    };
    static constexpr size_t kNone = kMaxTuples;

    void setCredentials(std::string usernameFragment, std::string password);
    bool usernameMatches(std::string_view username) const;
    // Sends an error response; `authenticated` adds MESSAGE-INTEGRITY.
    void sendError(const StunMessage& request, const Tuple& tuple, uint16_t code,
                   bool authenticated);
    void onValidCheck(const Tuple& tuple, bool useCandidate, uint64_t nowMs);
    size_t find(const Tuple& tuple) const;
    // Inserts `tuple`, evicting if full; returns its index.
    size_t add(const Tuple& tuple, uint64_t nowMs);
    void erase(size_t index);
    // After the selected tuple went away: select the freshest remaining one
    // or disconnect.
    void reselect();

    Listener& listener_;
    std::string usernameFragment_;
    std::string password_;
    HmacSha1 hmac_;
    IceState state_ = IceState::New;
    std::array<Entry, kMaxTuples> entries_{};
    size_t count_ = 0;
    size_t selected_ = kNone;
    IceServerCounters counters_;
};

// `length` random characters of [a-z0-9] from OpenSSL's CSPRNG. Throws
// sfu::Error if it fails.
std::string randomIceToken(size_t length);

} // namespace sfu::ice
