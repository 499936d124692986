#include "protocol/dtls/SrtpProfile.hpp"

namespace sfu::dtls {

std::string_view srtpProfileName(SrtpProfile profile) {
    switch (profile) {
    case SrtpProfile::AEAD_AES_256_GCM:
        return "AEAD_AES_256_GCM";
    case SrtpProfile::AEAD_AES_128_GCM:
        return "AEAD_AES_128_GCM";
    case SrtpProfile::AES_CM_128_HMAC_SHA1_80:
        return "AES_CM_128_HMAC_SHA1_80";
    case SrtpProfile::AES_CM_128_HMAC_SHA1_32:
        return "AES_CM_128_HMAC_SHA1_32";
    }
    return "";
}

std::optional<SrtpProfile> parseSrtpProfile(std::string_view name) {
    for (const SrtpProfile profile : kAllSrtpProfiles) {
        if (srtpProfileName(profile) == name) {
            return profile;
        }
    }
    return std::nullopt;
}

} // namespace sfu::dtls
