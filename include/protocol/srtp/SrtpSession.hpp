// One direction of SRTP/SRTCP protection (RFC 3711, RFC 7714 for the AEAD
// suites) on OpenSSL's EVP ciphers: an outbound session protects what we
// send, an inbound one unprotects what we receive. A session serves any
// number of SSRCs under one master key, as a transport needs, keeping per
// SSRC the rollover counter, the replay windows and the SRTCP index. All
// packet operations work in place and never allocate, except for the state
// of a new SSRC on its first packet.
#pragma once

#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/KeyDerivation.hpp"
#include "protocol/srtp/ReplayWindow.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

// OpenSSL's cipher context, kept out of this header.
struct evp_cipher_ctx_st;

namespace sfu::srtp {

enum class Direction : uint8_t { Inbound, Outbound };

// Why the last packet operation failed.
enum class Failure : uint8_t {
    None,
    // The tag did not match: a forged, corrupted or wrongly keyed packet.
    Auth,
    // Already seen, or older than the replay window.
    Replay,
    // Anything else: malformed or too short packet, no room for the
    // trailer, wrong direction, internal cipher error.
    Other,
};

struct SrtpCounters {
    // Packets processed successfully.
    uint64_t rtpPackets = 0;
    uint64_t rtcpPackets = 0;
    uint64_t authFailures = 0;
    uint64_t replayFailures = 0;
    uint64_t otherFailures = 0;
    // SSRCs whose state was dropped to make room for a new one (see
    // SrtpSession::kMaxStreams).
    uint64_t streamsEvicted = 0;
};

class SrtpSession {
public:
    // `key` is the master key followed by the master salt, keyLength(suite)
    // bytes. Throws sfu::TypeError for a wrong key length or a suite the
    // linked OpenSSL cannot do, sfu::Error when OpenSSL fails to set up.
    SrtpSession(Direction direction, CryptoSuite suite, std::span<const uint8_t> key);
    // With the session keys given, as derived from a master key (the RFC
    // 7714 test vectors start from session keys).
    SrtpSession(Direction direction, CryptoSuite suite, const SessionKeys& rtp,
                const SessionKeys& rtcp);
    ~SrtpSession();
    SrtpSession(const SrtpSession&) = delete;
    SrtpSession& operator=(const SrtpSession&) = delete;

    // Whether the linked OpenSSL has the ciphers `suite` needs.
    static bool suiteSupported(CryptoSuite suite);

    // Outbound only. Encrypts and authenticates the packet in data[0..len)
    // and grows `len` by the trailer, which must fit within `capacity`
    // (nothing is written past it). Returns false on failure; the bytes are
    // then unspecified. An RTP sequence number may be protected again (a
    // retransmission without RTX): it gets the same bytes.
    bool protectRtp(uint8_t* data, size_t& len, size_t capacity);
    bool protectRtcp(uint8_t* data, size_t& len, size_t capacity);

    // Inbound only. Checks and decrypts in place and shrinks `len`. Returns
    // false on failure (counted by kind); the bytes are then unspecified.
    bool unprotectRtp(uint8_t* data, size_t& len);
    bool unprotectRtcp(uint8_t* data, size_t& len);

    // Forgets the state kept for `ssrc` (replay window, rollover counter),
    // so the SSRC may start over, e.g. when a stream is recreated.
    void removeStream(uint32_t ssrc);

    Direction direction() const { return direction_; }
    CryptoSuite suite() const { return suite_; }
    const SrtpCounters& counters() const { return counters_; }
    Failure lastFailure() const { return lastFailure_; }
    // Room protectRtp / protectRtcp need past the packet.
    size_t rtpTrailerLength() const { return rtpTrailer_; }
    size_t rtcpTrailerLength() const { return rtcpTrailer_; }

    // Packets that arrive out of order by less than this are accepted once
    // (SRTP by packet index, SRTCP by SRTCP index).
    static constexpr unsigned long kReplayWindow = ReplayWindow::kSize;
    // SSRCs a session keeps state for. A packet of a new SSRC beyond that
    // drops the state of the SSRC unused for longest (counted in
    // streamsEvicted); should that SSRC come back, it starts over as new.
    // Inbound, only authenticated packets create state, so a peer without
    // the key cannot push genuine streams out.
    static constexpr size_t kMaxStreams = 4096;
    // How many SSRCs the session holds state for now.
    size_t streamCount() const { return streams_.size(); }

private:
    // One direction of one kind of traffic (RTP or RTCP): the session keys
    // and the contexts set up from them once.
    struct Keys;
    // What the session knows of one SSRC.
    struct Stream {
        // RTP: the highest packet index seen (inbound: accepted) so far.
        std::optional<ReplayWindow> rtp;
        // Inbound SRTCP: the indexes accepted so far.
        std::optional<ReplayWindow> rtcp;
        // Outbound SRTCP: the index of the last packet sent.
        uint32_t rtcpSent = 0;
        // When the stream was last used, in packets of the session.
        uint64_t lastUse = 0;
    };
    struct CipherContextFree {
        void operator()(evp_cipher_ctx_st* ctx) const;
    };
    using CipherContext = std::unique_ptr<evp_cipher_ctx_st, CipherContextFree>;

    void setUp(const SessionKeys& rtp, const SessionKeys& rtcp);
    bool fail(Failure failure);
    bool succeed(uint64_t SrtpCounters::*packets);
    Stream& stream(uint32_t ssrc);
    Stream* find(uint32_t ssrc);

    // AES-CM: counter-mode encryption in place with the IV of RFC 3711
    // 4.1.1, and the full 20-byte HMAC-SHA1 of data[0..len) followed by
    // `roc` (SRTP; null for SRTCP).
    bool aesCmCrypt(const Keys& keys, uint32_t ssrc, uint64_t index, uint8_t* data, size_t len);
    void hmacSha1(const Keys& keys, const uint8_t* data, size_t len, const uint8_t* roc,
                  uint8_t* tag) const;
    // AEAD: RFC 7714's 12-byte IV from the session salt, `ssrc` and the
    // 6-byte `ivTail` (ROC and SEQ, or 0x0000 and the SRTCP index), the
    // AAD in up to two pieces.
    bool gcmSeal(const Keys& keys, uint32_t ssrc, const uint8_t (&ivTail)[6],
                 std::span<const uint8_t> aad, std::span<const uint8_t> aad2, uint8_t* text,
                 size_t textLength, uint8_t* tag);
    bool gcmOpen(const Keys& keys, uint32_t ssrc, const uint8_t (&ivTail)[6],
                 std::span<const uint8_t> aad, std::span<const uint8_t> aad2, uint8_t* text,
                 size_t textLength, const uint8_t* tag);

    Direction direction_;
    CryptoSuite suite_;
    size_t rtpTrailer_;
    size_t rtcpTrailer_;
    std::unique_ptr<Keys> rtpKeys_;
    std::unique_ptr<Keys> rtcpKeys_;
    std::unordered_map<uint32_t, Stream> streams_;
    // The stream of the last packet, found again without a lookup.
    uint32_t lastSsrc_ = 0;
    Stream* lastStream_ = nullptr;
    uint64_t uses_ = 0;
    SrtpCounters counters_;
    Failure lastFailure_ = Failure::None;
};

} // namespace sfu::srtp
