// HMAC-SHA1 runs on SHA1's own context (deprecated, not removed, in OpenSSL
// 3), keyed once: copying a precomputed SHA_CTX costs nothing, where
// re-initialising an EVP_MAC or copying an EVP_MD_CTX allocates on every
// packet in OpenSSL 3.0, and is no faster.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "protocol/srtp/SrtpSession.hpp"

#include "utils/Errors.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string>

namespace sfu::srtp {

namespace {

// Smallest packets: a fixed RTP header, an RTCP header with its SSRC.
constexpr size_t kMinRtpLength = 12;
constexpr size_t kMinRtcpLength = 8;
// The E flag and 31-bit index SRTCP appends.
constexpr size_t kSrtcpIndexLength = 4;
constexpr uint32_t kSrtcpEncrypted = 0x80000000;
constexpr uint32_t kMaxSrtcpIndex = 0x7fffffff;
constexpr size_t kGcmTagLength = 16;
// OpenSSL takes lengths as int.
constexpr size_t kMaxPacketLength = std::numeric_limits<int>::max() - kMaxTrailerLength;
constexpr size_t kGcmIvLength = 12;

uint32_t read32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void write32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// Length of the RTP header (fixed part, CSRCs, header extension) of the
// `len` bytes at `p`, or 0 when it does not fit in them.
size_t rtpHeaderLength(const uint8_t* p, size_t len) {
    if (len < kMinRtpLength) {
        return 0;
    }
    size_t header = kMinRtpLength + 4 * size_t{p[0] & 0x0fu};
    if ((p[0] & 0x10) != 0) {
        if (header + 4 > len) {
            return 0;
        }
        header += 4 + 4 * (size_t{p[header + 2]} << 8 | p[header + 3]);
    }
    return header <= len ? header : 0;
}

const EVP_CIPHER* ctrCipher(size_t keyLength) {
    return keyLength == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

const EVP_CIPHER* gcmCipher(size_t keyLength) {
    return keyLength == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

EVP_CIPHER_CTX* newContext() {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) {
        throw Error("cannot allocate an OpenSSL cipher context");
    }
    return ctx;
}

} // namespace

// The session keys of one kind of traffic, RTP or RTCP (RFC 3711 4.3), and
// the contexts keyed with them once.
struct SrtpSession::Keys {
    // AES-CTR, or AES-GCM set up to encrypt (outbound) or decrypt (inbound).
    CipherContext cipher;
    std::array<uint8_t, 14> salt{};
    // AES-CM only: HMAC-SHA1's inner and outer hash states once the padded
    // key went through them, and the length of the tag.
    SHA_CTX inner{};
    SHA_CTX outer{};
    size_t tagLength = 0;

    Keys(CryptoSuite suite, Direction direction, const SessionKeys& keys, size_t tag)
        : cipher(newContext()), salt(keys.salt), tagLength(tag) {
        const uint8_t* key = keys.encryption.data();
        const size_t keyLength = masterKeyLength(suite);
        bool ok = false;
        if (isAeadSuite(suite)) {
            const EVP_CIPHER* gcm = gcmCipher(keyLength);
            ok = direction == Direction::Outbound
                     ? EVP_EncryptInit_ex(cipher.get(), gcm, nullptr, key, nullptr) == 1
                     : EVP_DecryptInit_ex(cipher.get(), gcm, nullptr, key, nullptr) == 1;
        } else {
            ok = EVP_EncryptInit_ex(cipher.get(), ctrCipher(keyLength), nullptr, key, nullptr) == 1;
            // HMAC (RFC 2104) with a key shorter than SHA1's 64-byte block.
            std::array<uint8_t, 64> pad{};
            for (const auto& [ctx, byte] : {std::pair{&inner, 0x36}, std::pair{&outer, 0x5c}}) {
                pad.fill(static_cast<uint8_t>(byte));
                for (size_t i = 0; i < keys.authentication.size(); ++i) {
                    pad[i] ^= keys.authentication[i];
                }
                ok = ok && SHA1_Init(ctx) == 1 && SHA1_Update(ctx, pad.data(), pad.size()) == 1;
            }
            OPENSSL_cleanse(pad.data(), pad.size());
        }
        if (!ok) {
            throw Error("cannot set up SRTP ciphers for " + std::string(cryptoSuiteName(suite)));
        }
    }

    ~Keys() {
        OPENSSL_cleanse(salt.data(), salt.size());
        OPENSSL_cleanse(&inner, sizeof(inner));
        OPENSSL_cleanse(&outer, sizeof(outer));
    }
};

void SrtpSession::CipherContextFree::operator()(evp_cipher_ctx_st* ctx) const {
    EVP_CIPHER_CTX_free(ctx);
}

SrtpSession::SrtpSession(Direction direction, CryptoSuite suite, std::span<const uint8_t> key)
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
    setUp(deriveSessionKeys(suite, key, false), deriveSessionKeys(suite, key, true));
}

SrtpSession::SrtpSession(Direction direction, CryptoSuite suite, const SessionKeys& rtp,
                         const SessionKeys& rtcp)
    : direction_(direction), suite_(suite), rtpTrailer_(srtp::rtpTrailerLength(suite)),
      rtcpTrailer_(srtp::rtcpTrailerLength(suite)) {
    if (!suiteSupported(suite)) {
        throw TypeError("unsupported SRTP crypto suite " + std::string(cryptoSuiteName(suite)));
    }
    setUp(rtp, rtcp);
}

void SrtpSession::setUp(const SessionKeys& rtp, const SessionKeys& rtcp) {
    rtpKeys_ = std::make_unique<Keys>(suite_, direction_, rtp,
                                      isAeadSuite(suite_) ? kGcmTagLength : rtpTrailer_);
    // SRTCP's tag is the 80-bit one for both AES-CM suites (RFC 5764 4.1.2).
    rtcpKeys_ = std::make_unique<Keys>(suite_, direction_, rtcp, rtcpTrailer_ - kSrtcpIndexLength);
}

SrtpSession::~SrtpSession() = default;

bool SrtpSession::suiteSupported(CryptoSuite suite) {
    switch (suite) {
    case CryptoSuite::AEAD_AES_256_GCM:
    case CryptoSuite::AEAD_AES_128_GCM:
        return gcmCipher(masterKeyLength(suite)) != nullptr &&
               ctrCipher(masterKeyLength(suite)) != nullptr;
    case CryptoSuite::AES_CM_128_HMAC_SHA1_80:
    case CryptoSuite::AES_CM_128_HMAC_SHA1_32:
        return ctrCipher(masterKeyLength(suite)) != nullptr;
    }
    return false;
}

bool SrtpSession::fail(Failure failure) {
    lastFailure_ = failure;
    switch (failure) {
    case Failure::Auth:
        ++counters_.authFailures;
        break;
    case Failure::Replay:
        ++counters_.replayFailures;
        break;
    case Failure::None:
    case Failure::Other:
        lastFailure_ = Failure::Other;
        ++counters_.otherFailures;
        break;
    }
    return false;
}

bool SrtpSession::succeed(uint64_t SrtpCounters::*packets) {
    lastFailure_ = Failure::None;
    ++(counters_.*packets);
    return true;
}

SrtpSession::Stream* SrtpSession::find(uint32_t ssrc) {
    if (lastStream_ != nullptr && lastSsrc_ == ssrc) {
        return lastStream_;
    }
    const auto it = streams_.find(ssrc);
    if (it == streams_.end()) {
        return nullptr;
    }
    lastSsrc_ = ssrc;
    lastStream_ = &it->second;
    return lastStream_;
}

SrtpSession::Stream& SrtpSession::stream(uint32_t ssrc) {
    Stream* found = find(ssrc);
    if (found == nullptr) {
        if (streams_.size() >= kMaxStreams) {
            const auto oldest = std::min_element(
                streams_.begin(), streams_.end(),
                [](const auto& a, const auto& b) { return a.second.lastUse < b.second.lastUse; });
            streams_.erase(oldest);
            ++counters_.streamsEvicted;
        }
        found = &streams_.try_emplace(ssrc).first->second;
        lastSsrc_ = ssrc;
        lastStream_ = found;
    }
    found->lastUse = ++uses_;
    return *found;
}

void SrtpSession::removeStream(uint32_t ssrc) {
    if (lastStream_ != nullptr && lastSsrc_ == ssrc) {
        lastStream_ = nullptr;
    }
    streams_.erase(ssrc);
}

bool SrtpSession::aesCmCrypt(const Keys& keys, uint32_t ssrc, uint64_t index, uint8_t* data,
                             size_t len) {
    // RFC 3711 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
    uint8_t iv[16] = {};
    std::memcpy(iv, keys.salt.data(), 14);
    uint8_t ssrcBytes[4];
    write32(ssrcBytes, ssrc);
    for (size_t i = 0; i < 4; ++i) {
        iv[4 + i] ^= ssrcBytes[i];
    }
    for (size_t i = 0; i < 6; ++i) {
        iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
    }
    int outLength = 0;
    return EVP_EncryptInit_ex(keys.cipher.get(), nullptr, nullptr, nullptr, iv) == 1 &&
           (len == 0 || EVP_EncryptUpdate(keys.cipher.get(), data, &outLength, data,
                                          static_cast<int>(len)) == 1);
}

void SrtpSession::hmacSha1(const Keys& keys, const uint8_t* data, size_t len, const uint8_t* roc,
                           uint8_t* tag) const {
    SHA_CTX ctx = keys.inner;
    SHA1_Update(&ctx, data, len);
    if (roc != nullptr) {
        SHA1_Update(&ctx, roc, 4);
    }
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1_Final(digest, &ctx);
    ctx = keys.outer;
    SHA1_Update(&ctx, digest, sizeof(digest));
    SHA1_Final(tag, &ctx);
}

namespace {

// RFC 7714 8.1 / 9.1: IV = (0x0000 || SSRC || ivTail) XOR salt.
void gcmIv(const uint8_t* salt, uint32_t ssrc, const uint8_t (&ivTail)[6],
           uint8_t (&iv)[kGcmIvLength]) {
    iv[0] = salt[0];
    iv[1] = salt[1];
    uint8_t ssrcBytes[4];
    write32(ssrcBytes, ssrc);
    for (size_t i = 0; i < 4; ++i) {
        iv[2 + i] = salt[2 + i] ^ ssrcBytes[i];
    }
    for (size_t i = 0; i < 6; ++i) {
        iv[6 + i] = salt[6 + i] ^ ivTail[i];
    }
}

bool addAad(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> aad, bool encrypt) {
    int outLength = 0;
    const int length = static_cast<int>(aad.size());
    return aad.empty() ||
           (encrypt ? EVP_EncryptUpdate(ctx, nullptr, &outLength, aad.data(), length)
                    : EVP_DecryptUpdate(ctx, nullptr, &outLength, aad.data(), length)) == 1;
}

} // namespace

bool SrtpSession::gcmSeal(const Keys& keys, uint32_t ssrc, const uint8_t (&ivTail)[6],
                          std::span<const uint8_t> aad, std::span<const uint8_t> aad2,
                          uint8_t* text, size_t textLength, uint8_t* tag) {
    EVP_CIPHER_CTX* ctx = keys.cipher.get();
    uint8_t iv[kGcmIvLength];
    gcmIv(keys.salt.data(), ssrc, ivTail, iv);
    int outLength = 0;
    return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 && addAad(ctx, aad, true) &&
           addAad(ctx, aad2, true) &&
           (textLength == 0 ||
            EVP_EncryptUpdate(ctx, text, &outLength, text, static_cast<int>(textLength)) == 1) &&
           EVP_EncryptFinal_ex(ctx, text + textLength, &outLength) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagLength, tag) == 1;
}

bool SrtpSession::gcmOpen(const Keys& keys, uint32_t ssrc, const uint8_t (&ivTail)[6],
                          std::span<const uint8_t> aad, std::span<const uint8_t> aad2,
                          uint8_t* text, size_t textLength, const uint8_t* tag) {
    EVP_CIPHER_CTX* ctx = keys.cipher.get();
    uint8_t iv[kGcmIvLength];
    gcmIv(keys.salt.data(), ssrc, ivTail, iv);
    int outLength = 0;
    return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 && addAad(ctx, aad, false) &&
           addAad(ctx, aad2, false) &&
           (textLength == 0 ||
            EVP_DecryptUpdate(ctx, text, &outLength, text, static_cast<int>(textLength)) == 1) &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagLength,
                               const_cast<uint8_t*>(tag)) == 1 &&
           EVP_DecryptFinal_ex(ctx, text + textLength, &outLength) == 1;
}

bool SrtpSession::protectRtp(uint8_t* data, size_t& len, size_t capacity) {
    const size_t header = rtpHeaderLength(data, len);
    if (direction_ != Direction::Outbound || header == 0 || capacity < len ||
        capacity - len < rtpTrailer_ || len > kMaxPacketLength) {
        return fail(Failure::Other);
    }
    const uint32_t ssrc = read32(data + 8);
    const auto seq = static_cast<uint16_t>(data[2] << 8 | data[3]);
    Stream& state = stream(ssrc);
    uint64_t index = seq;
    if (state.rtp) {
        // A retransmission may repeat an index: no replay check outbound.
        const auto estimate = estimateRtpIndex(state.rtp->highest(), seq);
        if (!estimate) {
            return fail(Failure::Replay);
        }
        index = *estimate;
        if (index > state.rtp->highest()) {
            state.rtp->accept(index);
        }
    } else {
        state.rtp.emplace(index);
    }
    uint8_t roc[4];
    write32(roc, static_cast<uint32_t>(index >> 16));
    uint8_t* payload = data + header;
    const size_t payloadLength = len - header;
    if (isAeadSuite(suite_)) {
        const uint8_t ivTail[6] = {roc[0], roc[1], roc[2], roc[3], data[2], data[3]};
        if (!gcmSeal(*rtpKeys_, ssrc, ivTail, {data, header}, {}, payload, payloadLength,
                     data + len)) {
            return fail(Failure::Other);
        }
    } else {
        if (!aesCmCrypt(*rtpKeys_, ssrc, index, payload, payloadLength)) {
            return fail(Failure::Other);
        }
        uint8_t tag[SHA_DIGEST_LENGTH];
        hmacSha1(*rtpKeys_, data, len, roc, tag);
        std::memcpy(data + len, tag, rtpKeys_->tagLength);
    }
    len += rtpTrailer_;
    return succeed(&SrtpCounters::rtpPackets);
}

bool SrtpSession::unprotectRtp(uint8_t* data, size_t& len) {
    const size_t tagLength = rtpKeys_->tagLength;
    const size_t header = len > tagLength ? rtpHeaderLength(data, len - tagLength) : 0;
    if (direction_ != Direction::Inbound || header == 0 || len > kMaxPacketLength) {
        return fail(Failure::Other);
    }
    const size_t protectedLength = len - tagLength;
    const uint32_t ssrc = read32(data + 8);
    const auto seq = static_cast<uint16_t>(data[2] << 8 | data[3]);
    Stream* known = find(ssrc);
    uint64_t index = seq;
    if (known != nullptr && known->rtp) {
        const auto estimate = estimateRtpIndex(known->rtp->highest(), seq);
        if (!estimate || known->rtp->check(*estimate) != ReplayWindow::Verdict::New) {
            return fail(Failure::Replay);
        }
        index = *estimate;
    }
    uint8_t roc[4];
    write32(roc, static_cast<uint32_t>(index >> 16));
    uint8_t* payload = data + header;
    const size_t payloadLength = protectedLength - header;
    if (isAeadSuite(suite_)) {
        const uint8_t ivTail[6] = {roc[0], roc[1], roc[2], roc[3], data[2], data[3]};
        if (!gcmOpen(*rtpKeys_, ssrc, ivTail, {data, header}, {}, payload, payloadLength,
                     data + protectedLength)) {
            return fail(Failure::Auth);
        }
    } else {
        uint8_t tag[SHA_DIGEST_LENGTH];
        hmacSha1(*rtpKeys_, data, protectedLength, roc, tag);
        if (CRYPTO_memcmp(tag, data + protectedLength, tagLength) != 0) {
            return fail(Failure::Auth);
        }
        if (!aesCmCrypt(*rtpKeys_, ssrc, index, payload, payloadLength)) {
            return fail(Failure::Other);
        }
    }
    Stream& state = known != nullptr ? *known : stream(ssrc);
    state.lastUse = ++uses_;
    if (state.rtp) {
        state.rtp->accept(index);
    } else {
        state.rtp.emplace(index);
    }
    len = protectedLength;
    return succeed(&SrtpCounters::rtpPackets);
}

bool SrtpSession::protectRtcp(uint8_t* data, size_t& len, size_t capacity) {
    if (direction_ != Direction::Outbound || len < kMinRtcpLength || capacity < len ||
        capacity - len < rtcpTrailer_ || len > kMaxPacketLength) {
        return fail(Failure::Other);
    }
    const uint32_t ssrc = read32(data + 4);
    Stream& state = stream(ssrc);
    // SRTCP indexes do not roll over (RFC 3711 3.4): the key is spent.
    if (state.rtcpSent >= kMaxSrtcpIndex) {
        return fail(Failure::Other);
    }
    const uint32_t index = ++state.rtcpSent;
    uint8_t trailer[kSrtcpIndexLength];
    write32(trailer, kSrtcpEncrypted | index);
    uint8_t* text = data + kMinRtcpLength;
    const size_t textLength = len - kMinRtcpLength;
    if (isAeadSuite(suite_)) {
        // header | ciphertext | tag | E + index, the latter authenticated
        // as AAD after the header (RFC 7714 9.1, 17).
        const uint8_t ivTail[6] = {0,          0,          static_cast<uint8_t>(trailer[0] & 0x7f),
                                   trailer[1], trailer[2], trailer[3]};
        if (!gcmSeal(*rtcpKeys_, ssrc, ivTail, {data, kMinRtcpLength}, trailer, text, textLength,
                     data + len)) {
            return fail(Failure::Other);
        }
        std::memcpy(data + len + kGcmTagLength, trailer, sizeof(trailer));
    } else {
        // header | ciphertext | E + index | tag over all before it.
        if (!aesCmCrypt(*rtcpKeys_, ssrc, index, text, textLength)) {
            return fail(Failure::Other);
        }
        std::memcpy(data + len, trailer, sizeof(trailer));
        uint8_t tag[SHA_DIGEST_LENGTH];
        hmacSha1(*rtcpKeys_, data, len + kSrtcpIndexLength, nullptr, tag);
        std::memcpy(data + len + kSrtcpIndexLength, tag, rtcpKeys_->tagLength);
    }
    len += rtcpTrailer_;
    return succeed(&SrtpCounters::rtcpPackets);
}

bool SrtpSession::unprotectRtcp(uint8_t* data, size_t& len) {
    if (direction_ != Direction::Inbound || len < kMinRtcpLength + rtcpTrailer_ ||
        len > kMaxPacketLength) {
        return fail(Failure::Other);
    }
    const bool aead = isAeadSuite(suite_);
    const size_t tagLength = rtcpKeys_->tagLength;
    const size_t plainLength = len - rtcpTrailer_;
    // Where E + index sit: after the tag (AEAD) or before it (AES-CM).
    uint8_t* trailer = aead ? data + len - kSrtcpIndexLength : data + plainLength;
    const uint32_t word = read32(trailer);
    const bool encrypted = (word & kSrtcpEncrypted) != 0;
    const uint32_t index = word & kMaxSrtcpIndex;
    const uint32_t ssrc = read32(data + 4);
    Stream* known = find(ssrc);
    if (known != nullptr && known->rtcp &&
        known->rtcp->check(index) != ReplayWindow::Verdict::New) {
        return fail(Failure::Replay);
    }
    if (aead) {
        const uint8_t ivTail[6] = {0,          0,          static_cast<uint8_t>(trailer[0] & 0x7f),
                                   trailer[1], trailer[2], trailer[3]};
        const std::span<const uint8_t> indexAad(trailer, kSrtcpIndexLength);
        // Unencrypted SRTCP authenticates the whole packet as AAD.
        const bool ok = encrypted ? gcmOpen(*rtcpKeys_, ssrc, ivTail, {data, kMinRtcpLength},
                                            indexAad, data + kMinRtcpLength,
                                            plainLength - kMinRtcpLength, data + plainLength)
                                  : gcmOpen(*rtcpKeys_, ssrc, ivTail, {data, plainLength}, indexAad,
                                            nullptr, 0, data + plainLength);
        if (!ok) {
            return fail(Failure::Auth);
        }
    } else {
        uint8_t tag[SHA_DIGEST_LENGTH];
        hmacSha1(*rtcpKeys_, data, len - tagLength, nullptr, tag);
        if (CRYPTO_memcmp(tag, data + len - tagLength, tagLength) != 0) {
            return fail(Failure::Auth);
        }
        if (encrypted && !aesCmCrypt(*rtcpKeys_, ssrc, index, data + kMinRtcpLength,
                                     plainLength - kMinRtcpLength)) {
            return fail(Failure::Other);
        }
    }
    Stream& state = known != nullptr ? *known : stream(ssrc);
    state.lastUse = ++uses_;
    if (state.rtcp) {
        state.rtcp->accept(index);
    } else {
        state.rtcp.emplace(index);
    }
    len = plainLength;
    return succeed(&SrtpCounters::rtcpPackets);
}

} // namespace sfu::srtp
