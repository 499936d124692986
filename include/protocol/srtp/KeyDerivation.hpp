// SRTP key derivation (RFC 3711 4.3) with a key derivation rate of 0: the
// session keys of SRTP and of SRTCP, each from the master key and salt.
#pragma once

#include "protocol/srtp/CryptoSuite.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sfu::srtp {

// RFC 3711 4.3.2 labels.
enum class KeyLabel : uint8_t {
    RtpEncryption = 0,
    RtpAuthentication = 1,
    RtpSalt = 2,
    RtcpEncryption = 3,
    RtcpAuthentication = 4,
    RtcpSalt = 5,
};

// HMAC-SHA1's key for the AES-CM suites.
inline constexpr size_t kAuthenticationKeyLength = 20;

// The keys of one kind of traffic (SRTP or SRTCP). Of each array the first
// masterKeyLength(suite) / masterSaltLength(suite) bytes are used, and
// `authentication` by the AES-CM suites only.
struct SessionKeys {
    std::array<uint8_t, 32> encryption{};
    std::array<uint8_t, 14> salt{};
    std::array<uint8_t, kAuthenticationKeyLength> authentication{};

    ~SessionKeys();
};

// The AES-CM PRF (RFC 3711 4.3.3): the first out.size() bytes of the AES
// counter-mode keystream of `masterKey` (16 or 32 bytes) from the IV
// (masterSalt XOR label * 2^48) * 2^16. The AEAD suites' 12-byte salt is
// right-padded with zeros to 14 bytes (RFC 7714 11). Throws sfu::Error
// when OpenSSL fails.
void aesCmPrf(std::span<const uint8_t> masterKey, std::span<const uint8_t> masterSalt,
              KeyLabel label, std::span<uint8_t> out);

// The SRTP (rtcp false) or SRTCP session keys of `suite` from `key`, the
// master key followed by the master salt (keyLength(suite) bytes, which the
// caller checked).
SessionKeys deriveSessionKeys(CryptoSuite suite, std::span<const uint8_t> key, bool rtcp);

} // namespace sfu::srtp
