#include "protocol/srtp/KeyDerivation.hpp"

#include "utils/Errors.hpp"

#include <algorithm>
#include <cstring>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace sfu::srtp {

SessionKeys::~SessionKeys() {
    OPENSSL_cleanse(this, sizeof(*this));
}

void aesCmPrf(std::span<const uint8_t> masterKey, std::span<const uint8_t> masterSalt,
              KeyLabel label, std::span<uint8_t> out) {
    uint8_t iv[16] = {};
    std::memcpy(iv, masterSalt.data(), std::min(masterSalt.size(), size_t{14}));
    iv[7] ^= static_cast<uint8_t>(label);
    std::fill(out.begin(), out.end(), uint8_t{0});
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = masterKey.size() == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
    int outLength = 0;
    const bool ok = ctx != nullptr && (masterKey.size() == 16 || masterKey.size() == 32) &&
                    EVP_EncryptInit_ex(ctx, cipher, nullptr, masterKey.data(), iv) == 1 &&
                    EVP_EncryptUpdate(ctx, out.data(), &outLength, out.data(),
                                      static_cast<int>(out.size())) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        throw Error("SRTP key derivation failed");
    }
}

SessionKeys deriveSessionKeys(CryptoSuite suite, std::span<const uint8_t> key, bool rtcp) {
    const auto masterKey = key.first(masterKeyLength(suite));
    const auto masterSalt = key.subspan(masterKey.size(), masterSaltLength(suite));
    SessionKeys keys;
    aesCmPrf(masterKey, masterSalt, rtcp ? KeyLabel::RtcpEncryption : KeyLabel::RtpEncryption,
             std::span(keys.encryption).first(masterKey.size()));
    aesCmPrf(masterKey, masterSalt, rtcp ? KeyLabel::RtcpSalt : KeyLabel::RtpSalt,
             std::span(keys.salt).first(masterSalt.size()));
    if (!isAeadSuite(suite)) {
        aesCmPrf(masterKey, masterSalt,
                 rtcp ? KeyLabel::RtcpAuthentication : KeyLabel::RtpAuthentication,
                 keys.authentication);
    }
    return keys;
}

} // namespace sfu::srtp
