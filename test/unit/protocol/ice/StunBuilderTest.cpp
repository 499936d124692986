// The builder's output must satisfy our own parser and checks, and failure
// must be sticky and leave nothing claimed as written.
#include "IceTestUtil.hpp"

#include <gtest/gtest.h>

namespace sfu::ice::test {
namespace {

TEST(StunBuilder, BindingSuccessIpv4) {
    HmacSha1 keyed("secret-password");
    const auto remote = ipv4("198.51.100.7", 54321);
    std::array<uint8_t, 128> buffer{};
    const size_t size = buildBindingSuccess(buffer.data(), buffer.size(), kTxid, sa(remote), keyed);
    ASSERT_EQ(size, 20u + 12 + 24 + 8);
    const auto message = StunMessage::parse(buffer.data(), size);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type(), kBindingSuccessResponse);
    EXPECT_TRUE(std::equal(kTxid.begin(), kTxid.end(), message->transactionId().begin()));
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity("secret-password"));
    EXPECT_TRUE(message->checkIntegrity(keyed));
    EXPECT_FALSE(message->checkIntegrity("other-password"));
    sockaddr_storage mapped;
    ASSERT_TRUE(message->xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "198.51.100.7:54321");
}

TEST(StunBuilder, BindingSuccessIpv6) {
    HmacSha1 keyed("pw");
    const auto remote = ipv6("2001:db8::dead:beef", 443);
    std::array<uint8_t, 128> buffer{};
    const size_t size = buildBindingSuccess(buffer.data(), buffer.size(), kTxid, sa(remote), keyed);
    ASSERT_EQ(size, 20u + 24 + 24 + 8);
    const auto message = StunMessage::parse(buffer.data(), size);
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity("pw"));
    sockaddr_storage mapped;
    ASSERT_TRUE(message->xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "[2001:db8::dead:beef]:443");
}

// Rebuilding the RFC 5769 IPv4 response (SOFTWARE, XOR-MAPPED-ADDRESS,
// MESSAGE-INTEGRITY, FINGERPRINT) must give the RFC's bytes exactly, which
// pins the padding, the length fix-ups and both checksums.
TEST(StunBuilder, ReproducesRfc5769Ipv4Response) {
    const auto expected = fromHex(kRfc5769Ipv4Response);
    std::array<uint8_t, kTransactionIdSize> txid;
    std::copy(expected.begin() + 8, expected.begin() + 20, txid.begin());
    std::array<uint8_t, 128> buffer{};
    StunBuilder builder(buffer.data(), buffer.size(), kBindingSuccessResponse, txid);
    const std::string_view software = "test vector";
    // The RFC pads SOFTWARE with a space rather than zero: write it whole.
    const uint8_t value[12] = {'t', 'e', 's', 't', ' ', 'v', 'e', 'c', 't', 'o', 'r', ' '};
    ASSERT_TRUE(builder.addAttribute(kAttrSoftware, {value, software.size()}));
    buffer[20 + 4 + 11] = value[11];
    const auto remote = ipv4("192.0.2.1", 32853);
    ASSERT_TRUE(builder.addXorMappedAddress(sa(remote)));
    HmacSha1 keyed(kRfc5769Password);
    ASSERT_TRUE(builder.addMessageIntegrity(keyed));
    ASSERT_TRUE(builder.addFingerprint());
    ASSERT_EQ(builder.size(), expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), buffer.begin()));
}

TEST(StunBuilder, ReproducesRfc5769Ipv6Response) {
    const auto expected = fromHex(kRfc5769Ipv6Response);
    std::array<uint8_t, kTransactionIdSize> txid;
    std::copy(expected.begin() + 8, expected.begin() + 20, txid.begin());
    std::array<uint8_t, 128> buffer{};
    StunBuilder builder(buffer.data(), buffer.size(), kBindingSuccessResponse, txid);
    const uint8_t value[12] = {'t', 'e', 's', 't', ' ', 'v', 'e', 'c', 't', 'o', 'r', ' '};
    ASSERT_TRUE(builder.addAttribute(kAttrSoftware, {value, 11}));
    buffer[20 + 4 + 11] = value[11];
    const auto remote = ipv6("2001:db8:1234:5678:11:2233:4455:6677", 32853);
    ASSERT_TRUE(builder.addXorMappedAddress(sa(remote)));
    HmacSha1 keyed(kRfc5769Password);
    ASSERT_TRUE(builder.addMessageIntegrity(keyed));
    ASSERT_TRUE(builder.addFingerprint());
    ASSERT_EQ(builder.size(), expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), buffer.begin()));
}

TEST(StunBuilder, ErrorResponses) {
    HmacSha1 keyed("pw");
    for (const uint16_t code :
         {kErrorBadRequest, kErrorUnauthorized, kErrorUnknownAttribute, kErrorRoleConflict}) {
        for (const bool authenticated : {false, true}) {
            std::array<uint8_t, 256> buffer{};
            const uint16_t unknown[] = {0x0042, 0x0043, 0x0044};
            const std::span<const uint16_t> list = code == kErrorUnknownAttribute
                                                       ? std::span<const uint16_t>(unknown)
                                                       : std::span<const uint16_t>();
            const size_t size = buildBindingError(buffer.data(), buffer.size(), kTxid, code,
                                                  authenticated ? &keyed : nullptr, list);
            ASSERT_GT(size, 0u);
            const auto message = StunMessage::parse(buffer.data(), size);
            ASSERT_TRUE(message);
            EXPECT_EQ(message->type(), kBindingErrorResponse);
            EXPECT_EQ(message->errorCode(), code);
            EXPECT_EQ(message->errorReason(), stunErrorReason(code));
            EXPECT_TRUE(message->checkFingerprint());
            EXPECT_EQ(message->hasMessageIntegrity(), authenticated);
            EXPECT_EQ(message->checkIntegrity("pw"), authenticated);
            EXPECT_EQ(message->unknownRequiredCount(), 0u);
        }
    }
    EXPECT_EQ(stunErrorReason(400), "Bad Request");
    EXPECT_EQ(stunErrorReason(401), "Unauthorized");
    EXPECT_EQ(stunErrorReason(487), "Role Conflict");
}

TEST(StunBuilder, UnknownAttributesPadded) {
    std::array<uint8_t, 64> buffer{};
    StunBuilder builder(buffer.data(), buffer.size(), kBindingErrorResponse, kTxid);
    const uint16_t types[] = {0x0042};
    ASSERT_TRUE(builder.addUnknownAttributes(types));
    EXPECT_EQ(builder.size(), 28u);
    EXPECT_EQ(bytes::get16(buffer.data() + 22), 2);
    EXPECT_EQ(bytes::get16(buffer.data() + 24), 0x0042);
    EXPECT_EQ(bytes::get16(buffer.data() + 26), 0);
}

TEST(StunBuilder, EveryCapacityFailsCleanlyOrFits) {
    HmacSha1 keyed("pw");
    const auto remote = ipv6("2001:db8::1", 9);
    std::array<uint8_t, 256> buffer;
    for (size_t capacity = 0; capacity <= 76; ++capacity) {
        buffer.fill(0xEE);
        const size_t size = buildBindingSuccess(buffer.data(), capacity, kTxid, sa(remote), keyed);
        if (capacity < 76) {
            EXPECT_EQ(size, 0u) << capacity;
        } else {
            EXPECT_EQ(size, 76u);
        }
        // Nothing past the capacity is touched.
        for (size_t i = capacity; i < buffer.size(); ++i) {
            ASSERT_EQ(buffer[i], 0xEE) << capacity;
        }
    }
}

TEST(StunBuilder, PlacementRules) {
    HmacSha1 keyed("pw");
    std::array<uint8_t, 256> buffer{};
    {
        StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
        ASSERT_TRUE(builder.addMessageIntegrity(keyed));
        EXPECT_FALSE(builder.addPriority(1)); // nothing but FINGERPRINT after integrity
        EXPECT_FALSE(builder.ok());
        EXPECT_EQ(builder.size(), 0u);
        EXPECT_FALSE(builder.addFingerprint()); // failure is sticky
    }
    {
        StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
        ASSERT_TRUE(builder.addFingerprint());
        EXPECT_FALSE(builder.addFingerprint());
    }
    {
        StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
        sockaddr_storage unix{};
        unix.ss_family = AF_UNIX;
        EXPECT_FALSE(builder.addXorMappedAddress(sa(unix)));
    }
    {
        StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
        EXPECT_FALSE(builder.addErrorCode(200, "OK"));
    }
    {
        StunBuilder builder(buffer.data(), buffer.size(), 0x4001, kTxid);
        EXPECT_FALSE(builder.ok());
    }
    {
        HmacSha1 unkeyed;
        StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
        EXPECT_FALSE(builder.addMessageIntegrity(unkeyed));
    }
}

TEST(StunBuilder, RequestRoundTrip) {
    Check check;
    check.username = "ufrag:peer";
    check.password = "pw";
    check.useCandidate = true;
    check.extraRequired = {0x0077};
    const auto bytes = build(check);
    const auto message = StunMessage::parse(bytes.data(), bytes.size());
    ASSERT_TRUE(message);
    EXPECT_EQ(message->username(), "ufrag:peer");
    EXPECT_EQ(message->priority(), 0x6e0001ffu);
    EXPECT_EQ(message->iceControlling(), 0x1122334455667788ull);
    EXPECT_TRUE(message->useCandidate());
    ASSERT_EQ(message->unknownRequired().size(), 1u);
    EXPECT_EQ(message->unknownRequired()[0], 0x0077);
    EXPECT_TRUE(message->checkFingerprint());
    EXPECT_TRUE(message->checkIntegrity("pw"));
}

TEST(HmacSha1, Rfc2202Vector) {
    // RFC 2202 test case 2.
    HmacSha1 keyed("Jefe");
    const std::string_view data = "what do ya want for nothing?";
    std::array<uint8_t, HmacSha1::kDigestSize> mac;
    ASSERT_TRUE(keyed.compute({{reinterpret_cast<const uint8_t*>(data.data()), data.size()}}, mac));
    EXPECT_EQ(std::vector<uint8_t>(mac.begin(), mac.end()),
              fromHex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
    // Pieces give the same MAC, and the context is re-usable.
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    std::array<uint8_t, HmacSha1::kDigestSize> pieces;
    ASSERT_TRUE(keyed.compute({{p, 4}, {}, {p + 4, data.size() - 4}}, pieces));
    EXPECT_EQ(mac, pieces);
    HmacSha1 moved(std::move(keyed));
    ASSERT_TRUE(moved.compute({{p, data.size()}}, pieces));
    EXPECT_EQ(mac, pieces);
    EXPECT_FALSE(keyed.hasKey()); // NOLINT(bugprone-use-after-move): moved-from is unkeyed
    EXPECT_FALSE(keyed.compute({{p, 1}}, pieces));
}

TEST(HmacSha1, EmptyKey) {
    // HMAC-SHA1 with an empty key over an empty message.
    HmacSha1 keyed("");
    ASSERT_TRUE(keyed.hasKey());
    std::array<uint8_t, HmacSha1::kDigestSize> mac;
    ASSERT_TRUE(keyed.compute({}, mac));
    EXPECT_EQ(std::vector<uint8_t>(mac.begin(), mac.end()),
              fromHex("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"));
}

} // namespace
} // namespace sfu::ice::test
