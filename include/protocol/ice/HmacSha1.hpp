// HMAC-SHA1 for STUN MESSAGE-INTEGRITY (RFC 5389 15.4), through OpenSSL's
// EVP_MAC. A context is keyed once (with an ICE password, which stays the
// same for thousands of checks) and re-used for every message, which skips
// OpenSSL's per-call algorithm lookup and key schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace sfu::ice {

class HmacSha1 {
public:
    static constexpr size_t kDigestSize = 20;

    // Throws sfu::Error when OpenSSL offers no HMAC or SHA-1, which only a
    // broken installation does.
    HmacSha1();
    explicit HmacSha1(std::string_view key) : HmacSha1() { setKey(key); }
    ~HmacSha1();
    HmacSha1(const HmacSha1&) = delete;
    HmacSha1& operator=(const HmacSha1&) = delete;
    HmacSha1(HmacSha1&& other) noexcept;
    HmacSha1& operator=(HmacSha1&& other) noexcept;

    // Replaces the key. False (and no key) if OpenSSL refuses.
    bool setKey(std::span<const uint8_t> key);
    bool setKey(std::string_view key) {
        return setKey({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
    }
    bool hasKey() const { return keyed_; }

    // MAC of the concatenation of `parts` under the current key: lets STUN
    // substitute the adjusted length field without copying the message.
    // False without a key or if OpenSSL fails.
    bool compute(std::initializer_list<std::span<const uint8_t>> parts,
                 std::span<uint8_t, kDigestSize> out);

private:
    EVP_MAC_CTX* ctx_ = nullptr;
    bool keyed_ = false;
};

} // namespace sfu::ice
