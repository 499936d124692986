// The SRTP session of libsrtp2, kept for the tests and benchmarks only: the
// oracle our own SrtpSession is checked against (each protects what the
// other unprotects) and measured beside. Same interface as SrtpSession,
// whose Direction, Failure and SrtpCounters it shares.
//
// libsrtp must have been initialised (srtp_init) by the process first.
#pragma once

#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

// libsrtp's session type, kept out of this header.
struct srtp_ctx_t_;

namespace sfu::srtp::oracle {

class LibsrtpSession {
public:
    // `key` is the master key followed by the master salt, keyLength(suite)
    // bytes. Throws sfu::TypeError for a wrong key length or a suite this
    // libsrtp cannot do, sfu::Error when libsrtp refuses the session.
    LibsrtpSession(Direction direction, CryptoSuite suite, std::span<const uint8_t> key);
    ~LibsrtpSession();
    LibsrtpSession(const LibsrtpSession&) = delete;
    LibsrtpSession& operator=(const LibsrtpSession&) = delete;

    // Whether the linked libsrtp can run `suite` (GCM depends on its crypto
    // back end). Probes by creating a throw-away session.
    static bool suiteSupported(CryptoSuite suite);

    // Outbound only. Encrypts and authenticates the packet in data[0..len)
    // and grows `len` by the trailer, which must fit within `capacity`
    // (nothing is written past it). Returns false on failure; the bytes are
    // then unspecified.
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

    // Packets that arrive out of order by less than this are accepted once.
    static constexpr unsigned long kReplayWindow = 1024;

private:
    struct Step;

    bool run(const Step& step, uint8_t* data, size_t& len, size_t capacity);
    bool fail(int status);

    srtp_ctx_t_* session_ = nullptr;
    Direction direction_;
    CryptoSuite suite_;
    size_t rtpTrailer_;
    size_t rtcpTrailer_;
    SrtpCounters counters_;
    Failure lastFailure_ = Failure::None;
};

} // namespace sfu::srtp::oracle
