#include "srtp/LibsrtpSession.hpp"

#include "utils/Errors.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <climits>
#include <cstring>
#include <srtp2/srtp.h>
#include <string>

namespace sfu::srtp::oracle {

namespace {

// Smallest packets libsrtp accepts: a fixed RTP header, an RTCP header.
constexpr size_t kMinRtpLength = 12;
constexpr size_t kMinRtcpLength = 8;

void setCryptoPolicies(CryptoSuite suite, srtp_policy_t& policy) {
    switch (suite) {
    case CryptoSuite::AEAD_AES_256_GCM:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
        break;
    case CryptoSuite::AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        break;
    case CryptoSuite::AES_CM_128_HMAC_SHA1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
    case CryptoSuite::AES_CM_128_HMAC_SHA1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
        // SRTCP always carries the 80-bit tag (RFC 5764 4.1.2).
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
    }
}

// Creates a libsrtp session; `key` must hold keyLength(suite) bytes.
srtp_err_status_t createSession(Direction direction, CryptoSuite suite, uint8_t* key, srtp_t* out) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    setCryptoPolicies(suite, policy);
    // One template serves every SSRC the peer or we use.
    policy.ssrc.type = direction == Direction::Inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.ssrc.value = 0;
    policy.key = key;
    // Video bursts reorder more than libsrtp's default window of 128.
    policy.window_size = LibsrtpSession::kReplayWindow;
    // NACK retransmissions without RTX resend an already protected sequence
    // number with the same payload.
    policy.allow_repeat_tx = direction == Direction::Outbound ? 1 : 0;
    policy.next = nullptr;
    return srtp_create(out, &policy);
}

bool knownSupported[kAllCryptoSuites.size()] = {};

} // namespace

LibsrtpSession::LibsrtpSession(Direction direction, CryptoSuite suite, std::span<const uint8_t> key)
    : direction_(direction), suite_(suite), rtpTrailer_(srtp::rtpTrailerLength(suite)),
      rtcpTrailer_(srtp::rtcpTrailerLength(suite)) {
    const size_t expected = keyLength(suite);
    if (key.size() != expected) {
        throw TypeError("wrong SRTP key length for " + std::string(cryptoSuiteName(suite)) + " (" +
                        std::to_string(key.size()) + " bytes, expected " +
                        std::to_string(expected) + ")");
    }
    if (!suiteSupported(suite)) {
        throw TypeError("unsupported SRTP crypto suite " + std::string(cryptoSuiteName(suite)));
    }
    // libsrtp wants a mutable key; it derives session keys from a copy that
    // is wiped right after.
    std::array<uint8_t, kMaxKeyLength> keyCopy{};
    std::memcpy(keyCopy.data(), key.data(), expected);
    srtp_t created = nullptr;
    const srtp_err_status_t err = createSession(direction, suite, keyCopy.data(), &created);
    explicit_bzero(keyCopy.data(), keyCopy.size());
    if (err != srtp_err_status_ok) {
        throw Error("cannot create SRTP session for " + std::string(cryptoSuiteName(suite)) +
                    " (libsrtp error " + std::to_string(static_cast<int>(err)) + ")");
    }
    session_ = created;
    // Trust libsrtp over the table should the two ever disagree, so that the
    // capacity check always covers what it really writes.
    uint32_t length = 0;
    if (srtp_get_protect_trailer_length(session_, 0, 0, &length) == srtp_err_status_ok) {
        rtpTrailer_ = std::max<size_t>(rtpTrailer_, length);
    }
    if (srtp_get_protect_rtcp_trailer_length(session_, 0, 0, &length) == srtp_err_status_ok) {
        rtcpTrailer_ = std::max<size_t>(rtcpTrailer_, length);
    }
}

LibsrtpSession::~LibsrtpSession() {
    if (session_ != nullptr) {
        srtp_dealloc(session_);
    }
}

bool LibsrtpSession::suiteSupported(CryptoSuite suite) {
    const auto index = static_cast<size_t>(suite);
    if (index >= std::size(knownSupported)) {
        return false;
    }
    // Only success is remembered: a probe made before srtp_init fails
    // without saying anything about the suite.
    if (knownSupported[index]) {
        return true;
    }
    std::array<uint8_t, kMaxKeyLength> key{};
    srtp_t probe = nullptr;
    if (createSession(Direction::Outbound, suite, key.data(), &probe) != srtp_err_status_ok) {
        return false;
    }
    srtp_dealloc(probe);
    knownSupported[index] = true;
    return true;
}

bool LibsrtpSession::fail(int status) {
    switch (status) {
    case srtp_err_status_auth_fail:
        lastFailure_ = Failure::Auth;
        ++counters_.authFailures;
        break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        lastFailure_ = Failure::Replay;
        ++counters_.replayFailures;
        break;
    default:
        lastFailure_ = Failure::Other;
        ++counters_.otherFailures;
        break;
    }
    return false;
}

// What sets the four packet operations apart; the checks, the libsrtp call
// and the accounting around them are the same.
struct LibsrtpSession::Step {
    Direction direction;
    size_t minLength;
    size_t trailer;
    srtp_err_status_t (*call)(srtp_t, void*, int*);
    uint64_t SrtpCounters::*packets;
};

bool LibsrtpSession::run(const Step& step, uint8_t* data, size_t& len, size_t capacity) {
    if (direction_ != step.direction || len < step.minLength || capacity < len ||
        capacity - len < step.trailer || len > INT_MAX - step.trailer) {
        return fail(srtp_err_status_bad_param);
    }
    int length = static_cast<int>(len);
    const srtp_err_status_t err = step.call(session_, data, &length);
    if (err != srtp_err_status_ok) {
        return fail(err);
    }
    len = static_cast<size_t>(length);
    lastFailure_ = Failure::None;
    ++(counters_.*step.packets);
    return true;
}

bool LibsrtpSession::protectRtp(uint8_t* data, size_t& len, size_t capacity) {
    return run(
        {Direction::Outbound, kMinRtpLength, rtpTrailer_, srtp_protect, &SrtpCounters::rtpPackets},
        data, len, capacity);
}

bool LibsrtpSession::protectRtcp(uint8_t* data, size_t& len, size_t capacity) {
    return run({Direction::Outbound, kMinRtcpLength, rtcpTrailer_, srtp_protect_rtcp,
                &SrtpCounters::rtcpPackets},
               data, len, capacity);
}

// Unprotecting only shrinks the packet: no trailer room, and the packet's
// own length is its capacity.
bool LibsrtpSession::unprotectRtp(uint8_t* data, size_t& len) {
    return run({Direction::Inbound, kMinRtpLength, 0, srtp_unprotect, &SrtpCounters::rtpPackets},
               data, len, len);
}

bool LibsrtpSession::unprotectRtcp(uint8_t* data, size_t& len) {
    return run(
        {Direction::Inbound, kMinRtcpLength, 0, srtp_unprotect_rtcp, &SrtpCounters::rtcpPackets},
        data, len, len);
}

void LibsrtpSession::removeStream(uint32_t ssrc) {
    // libsrtp takes the SSRC in network order; an unknown one is no error
    // worth reporting.
    srtp_remove_stream(session_, htonl(ssrc));
}

} // namespace sfu::srtp::oracle
