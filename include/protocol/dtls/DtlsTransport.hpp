// One DTLS 1.2 association (RFC 6347) keying SRTP (RFC 5764), as a
// WebRtcTransport runs over ICE. It owns no socket and no timer: the owner
// feeds received datagrams to processDtlsData(), puts on the wire what
// sendDtlsData() hands it, runs a one-shot timer when asked and calls
// handleTimeout() when it fires.
//
// Typical use:
//   DtlsTransport dtls(context, listener);
//   dtls.setRemoteFingerprint("sha-256", "AB:CD:...");  // transport.connect
//   dtls.run(resolveRole(localRole, remoteRole));       // when ICE connects
//   dtls.processDtlsData(data, len);                    // per DTLS datagram
//   -> listener.onDtlsConnected(profile, localKey, remoteKey, remoteCertPem)
//   dtls.close();                                       // transport closed
#pragma once

#include "protocol/dtls/Certificate.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "protocol/dtls/SrtpProfile.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <openssl/types.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::dtls {

namespace detail {
struct DtlsIo;
} // namespace detail

enum class Role : uint8_t { Auto, Client, Server };

// mediasoup's DtlsState values.
enum class State : uint8_t { New, Connecting, Connected, Failed, Closed };

// "auto", "client", "server".
std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);
// "new", "connecting", "connected", "failed", "closed".
std::string_view stateName(State state);

// The role to run in, by mediasoup's rules. `localRole` is what we hold now
// (Auto until the peer has told us anything); `remoteRole` is the role in
// the peer's dtlsParameters (an absent role field counts as Auto), or
// nothing while transport.connect has not been called.
//  - peer is client -> we are server;
//  - peer is server or auto -> we are client (mediasoup's choice for the
//    ICE-controlled side);
//  - no remote parameters yet: ICE connected first, so Auto becomes server
//    and waits for the peer's ClientHello; Client or Server stays as is.
Role resolveRole(Role localRole, std::optional<Role> remoteRole);

struct DtlsCounters {
    // Datagrams passed to OpenSSL, and their bytes.
    uint64_t datagramsReceived = 0;
    uint64_t bytesReceived = 0;
    // Dropped before OpenSSL: not a well-formed sequence of DTLS records
    // (garbage, truncation, a record longer than RFC 6347 allows).
    uint64_t invalidDatagrams = 0;
    // Dropped because no handshake was running (before run(), after
    // failure or close).
    uint64_t ignoredDatagrams = 0;
    // Application data that arrived before the peer was authenticated.
    uint64_t droppedApplicationData = 0;
    // Datagrams handed to sendDtlsData(), and their bytes.
    uint64_t datagramsSent = 0;
    uint64_t bytesSent = 0;
    // Flights handleTimeout() retransmitted.
    uint64_t retransmissions = 0;
};

class DtlsTransport {
public:
    // Called synchronously from the transport's methods, never from inside
    // OpenSSL. No callback may destroy the transport or call run(),
    // processDtlsData() or handleTimeout() on it. onDtlsConnected() and
    // onDtlsApplicationData() may call sendApplicationData() and close();
    // sendDtlsData(), startTimer() and stopTimer() must not call back.
    class Listener {
    public:
        virtual ~Listener() = default;
        // run() started a handshake.
        virtual void onDtlsConnecting() {}
        // The handshake is done and the peer's certificate matched every
        // remote fingerprint. `localKey` protects what we send (SRTP
        // outbound), `remoteKey` unprotects what we receive; each is master
        // key then master salt, srtpKeyLength(profile) bytes, valid only
        // during the call.
        virtual void onDtlsConnected(SrtpProfile profile, std::span<const uint8_t> localKey,
                                     std::span<const uint8_t> remoteKey,
                                     const std::string& remoteCertPem) = 0;
        // The handshake failed: fatal alert, timeouts exhausted, fingerprint
        // mismatch, no SRTP profile negotiated, or the peer closed before we
        // were connected.
        virtual void onDtlsFailed() = 0;
        // The peer closed a connected association (close_notify or a fatal
        // alert).
        virtual void onDtlsClosed() = 0;
        // One datagram to send to the peer.
        virtual void sendDtlsData(const uint8_t* data, size_t len) = 0;
        // Decrypted application data (SCTP) from an authenticated peer.
        virtual void onDtlsApplicationData(const uint8_t* /*data*/, size_t /*len*/) {}
        // (Re)arm the owner's one-shot timer to call handleTimeout() in `ms`
        // milliseconds (0: as soon as possible), replacing any pending one.
        virtual void startTimer(uint64_t ms) = 0;
        virtual void stopTimer() = 0;
    };

    // The largest datagram we send during the handshake: fits a 1500-byte
    // Ethernet MTU with IPv6, UDP, TURN and some tunnelling overhead.
    static constexpr size_t kMtu = 1350;
    // Largest application data message sendApplicationData() takes: one
    // DTLS record's plaintext (2^14).
    static constexpr size_t kMaxApplicationDataLength = 16384;

    DtlsTransport(std::shared_ptr<const DtlsContext> context, Listener& listener);
    // Sends nothing and calls no listener: call close() first to tell the
    // peer. The owner stops its own timer.
    ~DtlsTransport();
    DtlsTransport(const DtlsTransport&) = delete;
    DtlsTransport& operator=(const DtlsTransport&) = delete;

    // Whether a datagram demultiplexes to DTLS (RFC 7983: first byte 20..63)
    // and is long enough for a record header.
    static bool isDtls(const uint8_t* data, size_t len);

    // Starts a handshake in `role` (Client or Server; Auto throws
    // sfu::TypeError): state Connecting, onDtlsConnecting(), and a client
    // sends its ClientHello. Running again in the role already running does
    // nothing; in the other role, or after failure or close, it discards
    // the association silently and starts over.
    void run(Role role);

    // Adds the expected certificate fingerprint for `algorithm`, replacing
    // an earlier one for the same algorithm. The peer's certificate must
    // match all that were given. If the handshake already finished waiting
    // for it, the check happens now. After connecting it changes nothing.
    // The string form throws sfu::TypeError for an unknown algorithm name.
    void setRemoteFingerprint(FingerprintAlgorithm algorithm, std::string value);
    void setRemoteFingerprint(std::string_view algorithm, std::string value);
    // Replaces every expected fingerprint at once.
    void setRemoteFingerprints(std::vector<Fingerprint> fingerprints);

    // One received datagram. Garbage is counted and dropped; a fatal
    // handshake error makes the state Failed (Closed once connected).
    void processDtlsData(const uint8_t* data, size_t len);

    // Encrypts one message (1..kMaxApplicationDataLength bytes) and sends
    // it. Returns false, sending nothing, unless Connected.
    bool sendApplicationData(const uint8_t* data, size_t len);

    // The owner's timer fired: retransmits the last flight if it is due.
    void handleTimeout();

    // Sends close_notify if the handshake was done, then state Closed. No
    // listener state callback: the owner asked for it.
    void close();

    State state() const { return state_; }
    // The role running, or nothing when no handshake runs.
    std::optional<Role> localRole() const { return role_; }
    const std::vector<Fingerprint>& remoteFingerprints() const { return remoteFingerprints_; }
    const DtlsContext& context() const { return *context_; }
    const DtlsCounters& counters() const { return counters_; }
    // OpenSSL's or our reason for the last failure, for logs.
    const std::string& lastError() const { return lastError_; }

private:
    // Releases the SSL object without sending anything.
    void discardSsl();
    // Looks at the outcome of an SSL call; false when the association is
    // gone (failed or closed) and the caller must stop.
    bool checkResult(int ret);
    // Authenticates the peer and derives the SRTP keys once OpenSSL has
    // finished and a remote fingerprint is known; false when it failed.
    bool completeHandshake();
    // Failed; `notifyPeer` sends close_notify first (only possible once
    // OpenSSL has finished the handshake without error).
    void fail(std::string reason, bool notifyPeer);
    // The association ended (close_notify, fatal alert or error): Closed
    // if it was up, else Failed.
    void ended(std::string reason);
    // Sends what OpenSSL wrote, one datagram per write.
    void flush();
    void updateTimer();
    void stopTimer();

    std::shared_ptr<const DtlsContext> context_;
    Listener& listener_;
    SSL* ssl_ = nullptr;
    // What the SSL object's BIO reads and writes.
    std::unique_ptr<detail::DtlsIo> io_;
    State state_ = State::New;
    std::optional<Role> role_;
    // OpenSSL finished the handshake; the fingerprint check may still wait.
    bool handshakeDone_ = false;
    bool timerRunning_ = false;
    std::vector<Fingerprint> remoteFingerprints_;
    DtlsCounters counters_;
    std::string lastError_;
};

} // namespace sfu::dtls
