// DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2) under the
// names mediasoup gives the matching SRTP crypto suites, with the master key
// and salt sizes a key export needs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sfu::dtls {

enum class SrtpProfile : uint8_t {
    AEAD_AES_256_GCM,
    AEAD_AES_128_GCM,
    AES_CM_128_HMAC_SHA1_80,
    AES_CM_128_HMAC_SHA1_32,
};

// Every profile, in our order of preference (GCM first, as mediasoup).
inline constexpr std::array<SrtpProfile, 4> kAllSrtpProfiles = {
    SrtpProfile::AEAD_AES_256_GCM,
    SrtpProfile::AEAD_AES_128_GCM,
    SrtpProfile::AES_CM_128_HMAC_SHA1_80,
    SrtpProfile::AES_CM_128_HMAC_SHA1_32,
};

// "AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80",
// "AES_CM_128_HMAC_SHA1_32": mediasoup's SrtpCryptoSuite strings.
std::string_view srtpProfileName(SrtpProfile profile);
// Exact, case-sensitive match of a name above.
std::optional<SrtpProfile> parseSrtpProfile(std::string_view name);

constexpr size_t srtpMasterKeyLength(SrtpProfile profile) {
    return profile == SrtpProfile::AEAD_AES_256_GCM ? 32 : 16;
}

// AEAD profiles use a 96-bit salt (RFC 7714), AES-CM a 112-bit one (RFC 3711).
constexpr size_t srtpMasterSaltLength(SrtpProfile profile) {
    return profile == SrtpProfile::AEAD_AES_256_GCM || profile == SrtpProfile::AEAD_AES_128_GCM
               ? 12
               : 14;
}

// Length of one direction's master key followed by its salt: 44, 28, 30, 30.
constexpr size_t srtpKeyLength(SrtpProfile profile) {
    return srtpMasterKeyLength(profile) + srtpMasterSaltLength(profile);
}

} // namespace sfu::dtls
