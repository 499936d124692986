#include "protocol/srtp/CryptoSuite.hpp"

namespace sfu::srtp {

std::string_view cryptoSuiteName(CryptoSuite suite) {
    switch (suite) {
    case CryptoSuite::AEAD_AES_256_GCM:
        return "AEAD_AES_256_GCM";
    case CryptoSuite::AEAD_AES_128_GCM:
        return "AEAD_AES_128_GCM";
    case CryptoSuite::AES_CM_128_HMAC_SHA1_80:
        return "AES_CM_128_HMAC_SHA1_80";
    case CryptoSuite::AES_CM_128_HMAC_SHA1_32:
        return "AES_CM_128_HMAC_SHA1_32";
    }
    return "";
}

std::optional<CryptoSuite> parseCryptoSuite(std::string_view name) {
    for (const CryptoSuite suite : kAllCryptoSuites) {
        if (cryptoSuiteName(suite) == name) {
            return suite;
        }
    }
    return std::nullopt;
}

} // namespace sfu::srtp
