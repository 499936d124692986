#include "OpenSslUtil.hpp"

#include "utils/Errors.hpp"

#include <openssl/err.h>
#include <openssl/srtp.h>

namespace sfu::dtls::detail {

std::string takeOpenSslError(std::string_view what) {
    std::string message(what);
    // The first error is the root cause; later ones only add context.
    const unsigned long code = ERR_get_error();
    if (code != 0) {
        char text[256];
        ERR_error_string_n(code, text, sizeof(text));
        message += ": ";
        message += text;
    }
    ERR_clear_error();
    return message;
}

void throwOpenSslError(std::string_view what) {
    throw sfu::Error(takeOpenSslError(what));
}

const char* openSslSrtpProfileName(SrtpProfile profile) {
    switch (profile) {
    case SrtpProfile::AEAD_AES_256_GCM:
        return "SRTP_AEAD_AES_256_GCM";
    case SrtpProfile::AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::AES_CM_128_HMAC_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::AES_CM_128_HMAC_SHA1_32:
        return "SRTP_AES128_CM_SHA1_32";
    }
    return "";
}

std::optional<SrtpProfile> srtpProfileFromId(unsigned long id) {
    switch (id) {
    case SRTP_AEAD_AES_256_GCM:
        return SrtpProfile::AEAD_AES_256_GCM;
    case SRTP_AEAD_AES_128_GCM:
        return SrtpProfile::AEAD_AES_128_GCM;
    case SRTP_AES128_CM_SHA1_80:
        return SrtpProfile::AES_CM_128_HMAC_SHA1_80;
    case SRTP_AES128_CM_SHA1_32:
        return SrtpProfile::AES_CM_128_HMAC_SHA1_32;
    default:
        return std::nullopt;
    }
}

} // namespace sfu::dtls::detail
