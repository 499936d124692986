// Parser rules beyond the RFC 5769 vectors: header validation, attribute
// bounds, placement rules for MESSAGE-INTEGRITY and FINGERPRINT, and the
// sizes of the attributes ICE reads.
#include "IceTestUtil.hpp"

#include <gtest/gtest.h>
#include <utility>

namespace sfu::ice::test {
namespace {

using Attribute = std::pair<uint16_t, std::vector<uint8_t>>;

// A message assembled by hand (so that it can break the rules the builder
// enforces), padding each attribute and setting the length field.
std::vector<uint8_t> raw(uint16_t type, const std::vector<Attribute>& attributes) {
    std::vector<uint8_t> out(kStunHeaderSize);
    bytes::set16(out.data(), type);
    bytes::set32(out.data() + 4, kMagicCookie);
    std::copy(kTxid.begin(), kTxid.end(), out.begin() + 8);
    for (const auto& [attrType, value] : attributes) {
        const size_t at = out.size();
        out.resize(at + 4 + value.size() + bytes::padTo4(value.size()));
        bytes::set16(out.data() + at, attrType);
        bytes::set16(out.data() + at + 2, static_cast<uint16_t>(value.size()));
        std::copy(value.begin(), value.end(), out.begin() + static_cast<long>(at) + 4);
    }
    bytes::set16(out.data() + 2, static_cast<uint16_t>(out.size() - kStunHeaderSize));
    return out;
}

std::optional<StunMessage> parse(const std::vector<uint8_t>& bytes) {
    return StunMessage::parse(bytes.data(), bytes.size());
}

std::vector<uint8_t> zeros(size_t n) {
    return std::vector<uint8_t>(n, 0);
}

TEST(StunParse, HeaderOnly) {
    const auto bytes = raw(kBindingRequest, {});
    const auto message = parse(bytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->size(), 20u);
    EXPECT_FALSE(message->hasUsername());
    EXPECT_EQ(message->username(), "");
    EXPECT_FALSE(message->hasMessageIntegrity());
    EXPECT_FALSE(message->hasFingerprint());
    EXPECT_EQ(message->fingerprint(), 0u);
    EXPECT_FALSE(message->checkFingerprint());
    EXPECT_FALSE(message->checkIntegrity("x"));
    EXPECT_FALSE(message->priority());
    sockaddr_storage mapped;
    EXPECT_FALSE(message->xorMappedAddress(mapped));
}

TEST(StunParse, ClassAndMethod) {
    EXPECT_EQ(stunClassOf(kBindingRequest), StunClass::Request);
    EXPECT_EQ(stunClassOf(kBindingIndication), StunClass::Indication);
    EXPECT_EQ(stunClassOf(kBindingSuccessResponse), StunClass::SuccessResponse);
    EXPECT_EQ(stunClassOf(kBindingErrorResponse), StunClass::ErrorResponse);
    // TURN Allocate (0x003) and a method using every bit.
    EXPECT_EQ(stunMethodOf(0x0003), 0x003);
    EXPECT_EQ(stunMethodOf(0x0113), 0x003);
    for (uint16_t method = 0; method < 0x1000; ++method) {
        for (int c = 0; c < 4; ++c) {
            const uint16_t type = stunType(method, static_cast<StunClass>(c));
            EXPECT_EQ(stunMethodOf(type), method);
            EXPECT_EQ(stunClassOf(type), static_cast<StunClass>(c));
            EXPECT_EQ(type & 0xC000, 0);
        }
    }
}

TEST(StunParse, RejectsBadHeaders) {
    auto bytes = raw(kBindingRequest, {});
    bytes[0] |= 0x40; // top bits are not STUN
    EXPECT_FALSE(parse(bytes));

    bytes = raw(kBindingRequest, {});
    bytes[7] ^= 1; // cookie
    EXPECT_FALSE(parse(bytes));

    bytes = raw(kBindingRequest, {{kAttrPriority, zeros(4)}});
    bytes::set16(bytes.data() + 2, 7); // not a multiple of 4
    EXPECT_FALSE(parse(bytes));
    bytes::set16(bytes.data() + 2, 12); // longer than the buffer
    EXPECT_FALSE(parse(bytes));
    bytes::set16(bytes.data() + 2, 4); // shorter than the buffer
    EXPECT_FALSE(parse(bytes));

    EXPECT_FALSE(StunMessage::parse(nullptr, 0));
    EXPECT_FALSE(StunMessage::parse(bytes.data(), 19));
}

TEST(StunParse, RejectsOversizedMessages) {
    std::vector<uint8_t> huge(kMaxStunSize + 1, 0);
    EXPECT_FALSE(StunMessage::parse(huge.data(), huge.size()));
}

TEST(StunParse, AttributeOverrunsBody) {
    auto bytes = raw(kBindingRequest, {{kAttrSoftware, zeros(8)}});
    bytes::set16(bytes.data() + 22, 9); // 9 + 3 padding > 8 left
    EXPECT_FALSE(parse(bytes));
    bytes::set16(bytes.data() + 22, 0xFFFF);
    EXPECT_FALSE(parse(bytes));
    bytes::set16(bytes.data() + 22, 5); // 5 + 3 fits exactly
    EXPECT_TRUE(parse(bytes));
}

TEST(StunParse, KnownAttributeSizes) {
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrPriority, zeros(3)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrPriority, zeros(8)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrUseCandidate, zeros(4)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrIceControlling, zeros(4)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrIceControlled, zeros(12)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrNomination, zeros(8)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrMessageIntegrity, zeros(32)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrFingerprint, zeros(8)}})));
    EXPECT_FALSE(parse(raw(kBindingRequest, {{kAttrUsername, zeros(513)}})));
    EXPECT_TRUE(parse(raw(kBindingRequest, {{kAttrUsername, zeros(512)}})));
}

TEST(StunParse, XorMappedAddressFamilies) {
    // Family 1 needs 8 bytes, family 2 needs 20, nothing else is valid.
    EXPECT_FALSE(parse(raw(kBindingSuccessResponse, {{kAttrXorMappedAddress, {0, 1, 0, 0}}})));
    EXPECT_FALSE(parse(raw(kBindingSuccessResponse,
                           {{kAttrXorMappedAddress, {0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}}})));
    EXPECT_FALSE(
        parse(raw(kBindingSuccessResponse, {{kAttrXorMappedAddress, {0, 2, 0, 0, 1, 2, 3, 4}}})));
    EXPECT_FALSE(
        parse(raw(kBindingSuccessResponse, {{kAttrXorMappedAddress, {0, 3, 0, 0, 1, 2, 3, 4}}})));
    EXPECT_FALSE(parse(raw(kBindingSuccessResponse, {{kAttrXorMappedAddress, {0, 1}}})));
    const auto v4Bytes = raw(kBindingSuccessResponse,
                             {{kAttrXorMappedAddress, {0, 1, 0x21, 0x13, 0x21, 0x12, 0xa4, 0x43}}});
    const auto v4 = parse(v4Bytes);
    ASSERT_TRUE(v4);
    sockaddr_storage mapped;
    ASSERT_TRUE(v4->xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "0.0.0.1:1");
}

TEST(StunParse, ErrorCode) {
    std::vector<uint8_t> value = {0, 0, 4, 87, 'R', 'o', 'l', 'e'};
    const auto messageBytes = raw(kBindingErrorResponse, {{kAttrErrorCode, value}});
    const auto message = parse(messageBytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->errorCode(), 487);
    EXPECT_EQ(message->errorReason(), "Role");

    value[2] = 2; // class below 3
    EXPECT_FALSE(parse(raw(kBindingErrorResponse, {{kAttrErrorCode, value}})));
    value[2] = 7;
    EXPECT_FALSE(parse(raw(kBindingErrorResponse, {{kAttrErrorCode, value}})));
    value[2] = 4;
    value[3] = 100; // number past 99
    EXPECT_FALSE(parse(raw(kBindingErrorResponse, {{kAttrErrorCode, value}})));
    EXPECT_FALSE(parse(raw(kBindingErrorResponse, {{kAttrErrorCode, {0, 0, 4}}})));
    EXPECT_FALSE(
        parse(raw(kBindingErrorResponse, {{kAttrErrorCode, zeros(4 + kMaxReasonSize + 1)}})));
}

TEST(StunParse, FingerprintMustBeLast) {
    EXPECT_FALSE(
        parse(raw(kBindingRequest, {{kAttrFingerprint, zeros(4)}, {kAttrSoftware, zeros(4)}})));
    EXPECT_FALSE(
        parse(raw(kBindingRequest, {{kAttrFingerprint, zeros(4)}, {kAttrFingerprint, zeros(4)}})));
    // Integrity after the fingerprint is just as misplaced.
    EXPECT_FALSE(parse(
        raw(kBindingRequest, {{kAttrFingerprint, zeros(4)}, {kAttrMessageIntegrity, zeros(20)}})));
    const auto lastBytes =
        raw(kBindingRequest, {{kAttrSoftware, zeros(4)}, {kAttrFingerprint, zeros(4)}});
    const auto last = parse(lastBytes);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->fingerprintOffset(), 28u);
}

TEST(StunParse, AttributesAfterIntegrityIgnored) {
    const auto messageBytes = raw(kBindingRequest, {{kAttrUsername, {'a', ':', 'b'}},
                                                    {kAttrMessageIntegrity, zeros(20)},
                                                    {kAttrPriority, {0, 0, 0, 1}},
                                                    {0x0042, zeros(4)},
                                                    {kAttrUsername, {'x'}},
                                                    {kAttrPriority, zeros(9)},
                                                    {kAttrFingerprint, zeros(4)}});
    const auto message = parse(messageBytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->username(), "a:b");
    EXPECT_FALSE(message->priority());
    EXPECT_EQ(message->unknownRequiredCount(), 0u);
    EXPECT_EQ(message->messageIntegrityOffset(), 28u);
    EXPECT_TRUE(message->hasFingerprint());
}

TEST(StunParse, RepeatedAttributesKeepTheFirst) {
    const auto messageBytes =
        raw(kBindingRequest, {{kAttrUsername, {'a'}},
                              {kAttrPriority, {0, 0, 0, 1}},
                              {kAttrUsername, {'b'}},
                              {kAttrPriority, {0, 0, 0, 2}},
                              {kAttrIceControlling, zeros(8)},
                              {kAttrIceControlling, {0, 0, 0, 0, 0, 0, 0, 1}}});
    const auto message = parse(messageBytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->username(), "a");
    EXPECT_EQ(message->priority(), 1u);
    EXPECT_EQ(message->iceControlling(), 0u);
}

TEST(StunParse, UnknownAttributes) {
    std::vector<Attribute> attributes;
    for (uint16_t type = 0x0040; type < 0x0040 + 10; ++type) {
        attributes.push_back({type, zeros(1)});
    }
    attributes.push_back({0xC0FE, zeros(3)}); // optional: never reported
    attributes.push_back({kAttrSoftware, zeros(2)});
    const auto messageBytes = raw(kBindingRequest, attributes);
    const auto message = parse(messageBytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->unknownRequiredCount(), 10u);
    ASSERT_EQ(message->unknownRequired().size(), StunMessage::kMaxUnknownRecorded);
    EXPECT_EQ(message->unknownRequired()[0], 0x0040);
    EXPECT_EQ(message->unknownRequired()[7], 0x0047);
}

TEST(StunParse, IceAttributes) {
    const auto messageBytes =
        raw(kBindingRequest, {{kAttrUseCandidate, {}},
                              {kAttrNomination, {0, 0, 0, 9}},
                              {kAttrIceControlling, {1, 2, 3, 4, 5, 6, 7, 8}},
                              {kAttrIceControlled, {8, 7, 6, 5, 4, 3, 2, 1}}});
    const auto message = parse(messageBytes);
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->useCandidate());
    EXPECT_EQ(message->nomination(), 9u);
    EXPECT_EQ(message->iceControlling(), 0x0102030405060708ull);
    EXPECT_EQ(message->iceControlled(), 0x0807060504030201ull);
}

} // namespace
} // namespace sfu::ice::test
