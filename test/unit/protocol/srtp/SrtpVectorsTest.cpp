// Known answers: the RFC 3711 appendix B vectors (AES-CM keystream, key
// derivation), libsrtp's own AES-CM known-answer packets, and the RFC 7714
// sections 16-17 AES-GCM packets, byte for byte.
#include "TestUtil.hpp"
#include "protocol/srtp/KeyDerivation.hpp"
#include "protocol/srtp/SrtpSession.hpp"

#include <gtest/gtest.h>
#include <span>
#include <vector>

using namespace sfu::srtp;
using sfu::test::fromHex;
using sfu::test::toHex;

namespace {

std::string hexOf(std::string_view hex) {
    return toHex(fromHex(hex));
}

std::string block(const std::vector<uint8_t>& stream, size_t index) {
    return toHex(std::span(stream).subspan(index * 16, 16));
}

// RFC 3711 B.2: the AES-CM keystream of session key 2B7E... and salt
// F0F1...FD, with SSRC and index 0, over 65,282 blocks: the PRF with label
// 0 runs the very same counter mode from the very same IV.
TEST(SrtpVectors, Rfc3711B2AesCmKeystream) {
    const auto key = fromHex("2B7E151628AED2A6ABF7158809CF4F3C");
    const auto salt = fromHex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    std::vector<uint8_t> stream(65282 * 16);
    aesCmPrf(key, salt, KeyLabel::RtpEncryption, stream);
    EXPECT_EQ(block(stream, 0), hexOf("E03EAD0935C95E80E166B16DD92B4EB4"));
    EXPECT_EQ(block(stream, 1), hexOf("D23513162B02D0F72A43A2FE4A5F97AB"));
    EXPECT_EQ(block(stream, 2), hexOf("41E95B3BB0A2E8DD477901E4FCA894C0"));
    EXPECT_EQ(block(stream, 0xfeff), hexOf("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    EXPECT_EQ(block(stream, 0xff00), hexOf("362B7C3C6773516318A077D7FC5073AE"));
    EXPECT_EQ(block(stream, 0xff01), hexOf("6A2CC3787889374FBEB4C81B17BA6C44"));
}

// RFC 3711 B.3: the session keys of one master key and salt.
TEST(SrtpVectors, Rfc3711B3KeyDerivation) {
    const auto masterKey = fromHex("E1F97A0D3E018BE0D64FA32C06DE4139");
    const auto masterSalt = fromHex("0EC675AD498AFEEBB6960B3AABE6");
    std::vector<uint8_t> out(16);
    aesCmPrf(masterKey, masterSalt, KeyLabel::RtpEncryption, out);
    EXPECT_EQ(toHex(out), hexOf("C61E7A93744F39EE10734AFE3FF7A087"));
    out.resize(14);
    aesCmPrf(masterKey, masterSalt, KeyLabel::RtpSalt, out);
    EXPECT_EQ(toHex(out), hexOf("30CBBC08863D8C85D49DB34A9AE1"));
    // The RFC lists 94 bytes of the authentication key's keystream.
    out.resize(94);
    aesCmPrf(masterKey, masterSalt, KeyLabel::RtpAuthentication, out);
    EXPECT_EQ(toHex(out), hexOf("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
                                "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
                                "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"));

    // deriveSessionKeys takes what each suite needs of the same streams.
    const auto key = sfu::test::concat(masterKey, masterSalt);
    const SessionKeys rtp = deriveSessionKeys(CryptoSuite::AES_CM_128_HMAC_SHA1_80, key, false);
    EXPECT_EQ(toHex(std::span(rtp.encryption).first(16)),
              hexOf("C61E7A93744F39EE10734AFE3FF7A087"));
    EXPECT_EQ(toHex(rtp.salt), hexOf("30CBBC08863D8C85D49DB34A9AE1"));
    EXPECT_EQ(toHex(rtp.authentication), hexOf("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
    // SRTCP's labels give other keys.
    const SessionKeys rtcp = deriveSessionKeys(CryptoSuite::AES_CM_128_HMAC_SHA1_80, key, true);
    EXPECT_NE(rtcp.encryption, rtp.encryption);
    EXPECT_NE(rtcp.salt, rtp.salt);
    EXPECT_NE(rtcp.authentication, rtp.authentication);
}

// libsrtp's self-test packets (srtp_validate), from the master key and
// salt of RFC 3711 B.3: the whole path of key derivation, AES-CM IV and
// HMAC-SHA1 tag, SRTP and SRTCP (whose first index is 1).
TEST(SrtpVectors, AesCmKnownPackets) {
    const auto key = fromHex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6");
    SrtpSession out(Direction::Outbound, CryptoSuite::AES_CM_128_HMAC_SHA1_80, key);
    SrtpSession in(Direction::Inbound, CryptoSuite::AES_CM_128_HMAC_SHA1_80, key);

    const auto rtp = fromHex("800f1234 decafbad cafebabe abababab abababab abababab abababab");
    const auto srtp = fromHex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402"
                              "b78d6acc 99ea179b 8dbb");
    auto buffer = rtp;
    buffer.resize(rtp.size() + 10);
    size_t len = rtp.size();
    ASSERT_TRUE(out.protectRtp(buffer.data(), len, buffer.size()));
    EXPECT_EQ(toHex(buffer.data(), len), toHex(srtp));
    ASSERT_TRUE(in.unprotectRtp(buffer.data(), len));
    EXPECT_EQ(toHex(buffer.data(), len), toHex(rtp));

    const auto rtcp = fromHex("81c8000b cafebabe abababab abababab abababab abababab");
    const auto srtcp = fromHex("81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001"
                               "993e08cd 54d6c123 0798");
    buffer = rtcp;
    buffer.resize(rtcp.size() + 14);
    len = rtcp.size();
    ASSERT_TRUE(out.protectRtcp(buffer.data(), len, buffer.size()));
    EXPECT_EQ(toHex(buffer.data(), len), toHex(srtcp));
    ASSERT_TRUE(in.unprotectRtcp(buffer.data(), len));
    EXPECT_EQ(toHex(buffer.data(), len), toHex(rtcp));
}

// RFC 7714 16-17: the vectors give session keys; the same key and salt
// serve SRTP and SRTCP.
SessionKeys rfc7714Keys(CryptoSuite suite) {
    SessionKeys keys;
    const auto key = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    std::copy_n(key.begin(), masterKeyLength(suite), keys.encryption.begin());
    const auto salt = fromHex("517569642070726f2071756f"); // "Quid pro quo"
    std::copy(salt.begin(), salt.end(), keys.salt.begin());
    return keys;
}

constexpr std::string_view kRfc7714Rtp = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f"
                                         "6d6e6973 20646976 69736120 696e2070 61727465 73207472"
                                         "6573";
constexpr std::string_view kRfc7714Rtcp = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a"
                                          "0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef"
                                          "deadbeef";

struct GcmRtpVector {
    CryptoSuite suite;
    std::string_view srtp;
};

// 16.1 (AEAD_AES_128_GCM) and 16.2 (AEAD_AES_256_GCM): SSRC 0x5501a0b2,
// ROC 0, SEQ 0xf17b, both ways.
TEST(SrtpVectors, Rfc7714SrtpPackets) {
    const GcmRtpVector vectors[] = {
        {CryptoSuite::AEAD_AES_128_GCM,
         "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f"
         "42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce"},
        {CryptoSuite::AEAD_AES_256_GCM,
         "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3"
         "b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13"},
    };
    for (const auto& vector : vectors) {
        const SessionKeys keys = rfc7714Keys(vector.suite);
        SrtpSession out(Direction::Outbound, vector.suite, keys, keys);
        SrtpSession in(Direction::Inbound, vector.suite, keys, keys);
        const auto plain = fromHex(kRfc7714Rtp);
        auto buffer = plain;
        buffer.resize(plain.size() + 16);
        size_t len = plain.size();
        ASSERT_TRUE(out.protectRtp(buffer.data(), len, buffer.size()));
        EXPECT_EQ(toHex(buffer.data(), len), hexOf(vector.srtp)) << cryptoSuiteName(vector.suite);
        auto wire = fromHex(vector.srtp);
        len = wire.size();
        ASSERT_TRUE(in.unprotectRtp(wire.data(), len));
        EXPECT_EQ(toHex(wire.data(), len), toHex(plain));
    }
}

struct GcmRtcpVector {
    CryptoSuite suite;
    bool encrypted;
    std::string_view srtcp;
};

// 17.1-17.4: SRTCP index 0x5d4 of SSRC "Mars", encrypted (E set) and
// authenticated only (E clear), both suites. Our sender always encrypts:
// its packet 0x5d4 must be 17.1 / 17.2 exactly.
TEST(SrtpVectors, Rfc7714SrtcpPackets) {
    const GcmRtcpVector vectors[] = {
        {CryptoSuite::AEAD_AES_128_GCM, true,
         "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1"
         "730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4"},
        {CryptoSuite::AEAD_AES_256_GCM, true,
         "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1"
         "110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4"},
        {CryptoSuite::AEAD_AES_128_GCM, false,
         "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef"
         "deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4"},
        {CryptoSuite::AEAD_AES_256_GCM, false,
         "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef"
         "deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 ed2615fe 000005d4"},
    };
    const auto plain = fromHex(kRfc7714Rtcp);
    for (const auto& vector : vectors) {
        SCOPED_TRACE(std::string(cryptoSuiteName(vector.suite)) +
                     (vector.encrypted ? " encrypted" : " authenticated"));
        const SessionKeys keys = rfc7714Keys(vector.suite);
        SrtpSession in(Direction::Inbound, vector.suite, keys, keys);
        auto wire = fromHex(vector.srtcp);
        size_t len = wire.size();
        ASSERT_TRUE(in.unprotectRtcp(wire.data(), len));
        EXPECT_EQ(toHex(wire.data(), len), toHex(plain));
        // The same index again is a replay.
        wire = fromHex(vector.srtcp);
        len = wire.size();
        EXPECT_FALSE(in.unprotectRtcp(wire.data(), len));
        EXPECT_EQ(in.lastFailure(), Failure::Replay);

        if (vector.encrypted) {
            SrtpSession out(Direction::Outbound, vector.suite, keys, keys);
            std::vector<uint8_t> buffer(plain.size() + 20);
            for (uint32_t index = 1; index <= 0x5d4; ++index) {
                std::copy(plain.begin(), plain.end(), buffer.begin());
                len = plain.size();
                ASSERT_TRUE(out.protectRtcp(buffer.data(), len, buffer.size()));
            }
            EXPECT_EQ(toHex(buffer.data(), len), hexOf(vector.srtcp));
        }
    }
}

} // namespace
