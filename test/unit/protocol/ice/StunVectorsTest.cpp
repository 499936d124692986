// RFC 5769 short-term credential vectors: our parser must read them, and our
// integrity and fingerprint checks must accept them byte for byte and reject
// any single flipped bit.
#include "IceTestUtil.hpp"
#include "protocol/ice/Crc32.hpp"

#include <gtest/gtest.h>

namespace sfu::ice::test {
namespace {

TEST(Crc32, CheckValue) {
    // The catalogue check value of CRC-32/ISO-HDLC.
    const std::string_view digits = "123456789";
    EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(digits.data()), digits.size()), 0xCBF43926u);
    EXPECT_EQ(crc32(nullptr, 0), 0u);
}

TEST(Crc32, ChainsOverPieces) {
    const std::string_view text = "The quick brown fox jumps over the lazy dog";
    const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
    EXPECT_EQ(crc32(bytes, text.size()), 0x414FA339u);
    for (size_t split = 0; split <= text.size(); ++split) {
        EXPECT_EQ(crc32(bytes + split, text.size() - split, crc32(bytes, split)), 0x414FA339u);
    }
}

TEST(Rfc5769, SampleRequest) {
    const auto bytes = fromHex(kRfc5769Request);
    ASSERT_EQ(bytes.size(), 108u);
    const auto message = StunMessage::parse(bytes.data(), bytes.size());
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type(), kBindingRequest);
    EXPECT_EQ(message->messageClass(), StunClass::Request);
    EXPECT_EQ(message->method(), kMethodBinding);
    EXPECT_EQ(message->transactionId()[0], 0xb7);
    EXPECT_EQ(message->transactionId()[11], 0xae);
    EXPECT_EQ(message->username(), "evtj:h6vY");
    EXPECT_EQ(message->priority(), 0x6e0001ffu);
    EXPECT_EQ(message->iceControlled(), 0x932ff9b151263b36ull);
    EXPECT_FALSE(message->iceControlling());
    EXPECT_FALSE(message->useCandidate());
    EXPECT_EQ(message->unknownRequiredCount(), 0u);
    EXPECT_EQ(message->messageIntegrityOffset(), 76u);
    EXPECT_EQ(message->fingerprintOffset(), 100u);
    EXPECT_EQ(message->fingerprint(), 0xe57a3bcfu);
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity(kRfc5769Password));
    EXPECT_FALSE(message->checkIntegrity("VOkJxbRl1RmTxUk/WvJxBT"));
    EXPECT_FALSE(message->checkIntegrity(""));
}

TEST(Rfc5769, SampleIpv4Response) {
    const auto bytes = fromHex(kRfc5769Ipv4Response);
    const auto message = StunMessage::parse(bytes.data(), bytes.size());
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type(), kBindingSuccessResponse);
    EXPECT_EQ(message->messageClass(), StunClass::SuccessResponse);
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity(kRfc5769Password));
    sockaddr_storage mapped;
    ASSERT_TRUE(message->xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "192.0.2.1:32853");
}

TEST(Rfc5769, SampleIpv6Response) {
    const auto bytes = fromHex(kRfc5769Ipv6Response);
    const auto message = StunMessage::parse(bytes.data(), bytes.size());
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity(kRfc5769Password));
    sockaddr_storage mapped;
    ASSERT_TRUE(message->xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

// Every bit of every vector matters to one of the two checks (or to the
// parse itself): flipping any of them must fail the message somewhere.
TEST(Rfc5769, EveryFlippedBitFails) {
    for (const auto vector : {kRfc5769Request, kRfc5769Ipv4Response, kRfc5769Ipv6Response}) {
        const auto original = fromHex(vector);
        for (size_t i = 0; i < original.size(); ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                auto bytes = original;
                bytes[i] ^= static_cast<uint8_t>(1 << bit);
                const auto message = StunMessage::parse(bytes.data(), bytes.size());
                if (!message) {
                    continue;
                }
                const bool fingerprintOk = message->checkFingerprint();
                // Past MESSAGE-INTEGRITY only the fingerprint protects.
                if (i < 76) {
                    EXPECT_FALSE(fingerprintOk && message->checkIntegrity(kRfc5769Password))
                        << "byte " << i << " bit " << bit;
                } else {
                    EXPECT_FALSE(fingerprintOk) << "byte " << i << " bit " << bit;
                }
            }
        }
    }
}

TEST(Rfc5769, FlippedByteFailsBothChecks) {
    auto bytes = fromHex(kRfc5769Request);
    bytes[30] ^= 0xFF; // inside SOFTWARE, covered by both
    const auto message = StunMessage::parse(bytes.data(), bytes.size());
    ASSERT_TRUE(message);
    EXPECT_FALSE(message->checkFingerprint());
    EXPECT_FALSE(message->checkIntegrity(kRfc5769Password));

    auto mac = fromHex(kRfc5769Request);
    mac[90] ^= 0x01; // inside the HMAC value: integrity fails, the CRC too
    const auto tampered = StunMessage::parse(mac.data(), mac.size());
    ASSERT_TRUE(tampered);
    EXPECT_FALSE(tampered->checkIntegrity(kRfc5769Password));
    EXPECT_FALSE(tampered->checkFingerprint());
}

TEST(Rfc5769, EveryTruncationRejected) {
    for (const auto vector : {kRfc5769Request, kRfc5769Ipv4Response, kRfc5769Ipv6Response}) {
        const auto bytes = fromHex(vector);
        for (size_t size = 0; size < bytes.size(); ++size) {
            // Exact-size copy so ASan sees any overread.
            std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(size));
            EXPECT_FALSE(StunMessage::parse(cut.data(), cut.size())) << size;
        }
    }
}

// A truncated message whose length field was fixed up to match: the walk
// must stop at the attribute that no longer fits.
TEST(Rfc5769, TruncationsWithFixedLengthSafe) {
    for (const auto vector : {kRfc5769Request, kRfc5769Ipv4Response, kRfc5769Ipv6Response}) {
        const auto bytes = fromHex(vector);
        for (size_t size = kStunHeaderSize; size < bytes.size(); size += 4) {
            std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(size));
            bytes::set16(cut.data() + 2, static_cast<uint16_t>(size - kStunHeaderSize));
            const auto message = StunMessage::parse(cut.data(), cut.size());
            if (message) {
                // Whatever parsed must be self-consistent and checkable.
                if (message->hasMessageIntegrity()) {
                    EXPECT_LE(message->messageIntegrityOffset() + 24, cut.size());
                }
                EXPECT_FALSE(message->checkFingerprint());
                message->checkIntegrity(kRfc5769Password);
            }
        }
    }
}

} // namespace
} // namespace sfu::ice::test
