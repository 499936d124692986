#include "protocol/ice/HmacSha1.hpp"

#include "utils/Errors.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <utility>

namespace sfu::ice {

namespace {

// Fetched once: the lookup walks OpenSSL's provider tables under a lock.
// Never freed, like any process-wide algorithm handle.
EVP_MAC* hmacAlgorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

} // namespace

HmacSha1::HmacSha1() {
    EVP_MAC* mac = hmacAlgorithm();
    if (mac == nullptr || (ctx_ = EVP_MAC_CTX_new(mac)) == nullptr) {
        throw Error("OpenSSL has no HMAC");
    }
    char digest[] = "SHA1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(ctx_, params) != 1) {
        EVP_MAC_CTX_free(ctx_);
        throw Error("OpenSSL has no HMAC-SHA1");
    }
}

HmacSha1::~HmacSha1() {
    EVP_MAC_CTX_free(ctx_);
}

HmacSha1::HmacSha1(HmacSha1&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), keyed_(std::exchange(other.keyed_, false)) {}

HmacSha1& HmacSha1::operator=(HmacSha1&& other) noexcept {
    if (this != &other) {
        EVP_MAC_CTX_free(ctx_);
        ctx_ = std::exchange(other.ctx_, nullptr);
        keyed_ = std::exchange(other.keyed_, false);
    }
    return *this;
}

bool HmacSha1::setKey(std::span<const uint8_t> key) {
    keyed_ = false;
    if (ctx_ == nullptr) {
        return false;
    }
    // A null key would mean "keep the old one"; an empty key is still a key.
    static const uint8_t kEmpty = 0;
    const uint8_t* bytes = key.empty() ? &kEmpty : key.data();
    keyed_ = EVP_MAC_init(ctx_, bytes, key.size(), nullptr) == 1;
    return keyed_;
}

bool HmacSha1::compute(std::initializer_list<std::span<const uint8_t>> parts,
                       std::span<uint8_t, kDigestSize> out) {
    if (!keyed_) {
        return false;
    }
    // Re-initialising without a key restarts the MAC with the stored one.
    if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) {
        return false;
    }
    for (const auto& part : parts) {
        if (!part.empty() && EVP_MAC_update(ctx_, part.data(), part.size()) != 1) {
            return false;
        }
    }
    size_t written = 0;
    return EVP_MAC_final(ctx_, out.data(), &written, out.size()) == 1 && written == kDigestSize;
}

} // namespace sfu::ice
