// SRTP crypto suites as mediasoup names them, with the sizes a caller needs
// to validate keys and to reserve room for what protection appends.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sfu::srtp {

enum class CryptoSuite : uint8_t {
    AEAD_AES_256_GCM,
    AEAD_AES_128_GCM,
    AES_CM_128_HMAC_SHA1_80,
    AES_CM_128_HMAC_SHA1_32,
};

// Every suite, in mediasoup's order of preference.
inline constexpr std::array<CryptoSuite, 4> kAllCryptoSuites = {
    CryptoSuite::AEAD_AES_256_GCM,
    CryptoSuite::AEAD_AES_128_GCM,
    CryptoSuite::AES_CM_128_HMAC_SHA1_80,
    CryptoSuite::AES_CM_128_HMAC_SHA1_32,
};

std::string_view cryptoSuiteName(CryptoSuite suite);
// Exact, case-sensitive match of a name above.
std::optional<CryptoSuite> parseCryptoSuite(std::string_view name);

constexpr bool isAeadSuite(CryptoSuite suite) {
    return suite == CryptoSuite::AEAD_AES_256_GCM || suite == CryptoSuite::AEAD_AES_128_GCM;
}

constexpr size_t masterKeyLength(CryptoSuite suite) {
    return suite == CryptoSuite::AEAD_AES_256_GCM ? 32 : 16;
}

// AEAD suites use a 96-bit salt (RFC 7714), AES-CM a 112-bit one (RFC 3711).
constexpr size_t masterSaltLength(CryptoSuite suite) {
    return isAeadSuite(suite) ? 12 : 14;
}

// Length of the concatenated master key and salt: 44, 28, 30 or 30 bytes.
constexpr size_t keyLength(CryptoSuite suite) {
    return masterKeyLength(suite) + masterSaltLength(suite);
}

inline constexpr size_t kMaxKeyLength = 44;

// Bytes protecting an RTP packet appends: the authentication tag.
constexpr size_t rtpTrailerLength(CryptoSuite suite) {
    switch (suite) {
    case CryptoSuite::AEAD_AES_256_GCM:
    case CryptoSuite::AEAD_AES_128_GCM:
        return 16;
    case CryptoSuite::AES_CM_128_HMAC_SHA1_80:
        return 10;
    case CryptoSuite::AES_CM_128_HMAC_SHA1_32:
        return 4;
    }
    return 16;
}

// Bytes protecting an RTCP packet appends: the tag plus the 4-byte SRTCP
// index. SRTCP keeps the 80-bit tag even for the _32 suite (RFC 5764 4.1.2).
constexpr size_t rtcpTrailerLength(CryptoSuite suite) {
    return (isAeadSuite(suite) ? 16 : 10) + 4;
}

// The most any suite appends, for sizing send buffers once.
inline constexpr size_t kMaxTrailerLength = 20;

} // namespace sfu::srtp
