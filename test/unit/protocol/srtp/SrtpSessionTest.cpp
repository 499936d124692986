#include "protocol/srtp/SrtpSession.hpp"

#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/KeyGenerator.hpp"
#include "utils/Errors.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

using namespace sfu::srtp;

namespace {

constexpr uint8_t kCanary = 0xa5;
// Bytes past the declared capacity that must survive every call.
constexpr size_t kGuard = 64;

std::vector<uint8_t> testKey(CryptoSuite suite, uint8_t seed) {
    std::vector<uint8_t> key(keyLength(suite));
    for (size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<uint8_t>(seed + i * 7);
    }
    return key;
}

void put16(std::vector<uint8_t>& p, uint16_t v) {
    p.push_back(static_cast<uint8_t>(v >> 8));
    p.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& p, uint32_t v) {
    put16(p, static_cast<uint16_t>(v >> 16));
    put16(p, static_cast<uint16_t>(v));
}

// An RTP packet with two CSRCs, a one-byte header extension and a payload
// of `payloadLength` patterned bytes.
std::vector<uint8_t> makeRtp(uint16_t seq, uint32_t ssrc, size_t payloadLength = 200) {
    std::vector<uint8_t> p = {0x92, 0x60}; // V=2, X=1, CC=2, PT=96
    put16(p, seq);
    put32(p, 0x00010203); // timestamp
    put32(p, ssrc);
    put32(p, 0x11111111); // CSRCs
    put32(p, 0x22222222);
    put32(p, 0xbede0001); // one-byte extension header, 1 word
    put32(p, 0x10330000); // id 1, 2 bytes, padding
    for (size_t i = 0; i < payloadLength; ++i) {
        p.push_back(static_cast<uint8_t>(i * 13 + seq));
    }
    return p;
}

// A compound RTCP packet: a sender report and an empty receiver report.
std::vector<uint8_t> makeRtcp(uint32_t ssrc) {
    std::vector<uint8_t> p;
    put32(p, 0x80c80006); // SR, 7 words
    put32(p, ssrc);
    put32(p, 0x01020304); // NTP timestamp
    put32(p, 0x05060708);
    put32(p, 0x090a0b0c); // RTP timestamp
    put32(p, 100);        // packet count
    put32(p, 4096);       // octet count
    put32(p, 0x80c90001); // RR, 2 words
    put32(p, ssrc);
    return p;
}

// A packet in a buffer with exactly `trailer` bytes of room, followed by
// canary bytes that protection must not touch.
struct Buffer {
    Buffer(const std::vector<uint8_t>& packet, size_t trailer)
        : bytes(packet.size() + trailer + kGuard, kCanary), len(packet.size()),
          capacity(packet.size() + trailer) {
        std::memcpy(bytes.data(), packet.data(), packet.size());
    }
    bool guardIntact() const {
        for (size_t i = capacity; i < bytes.size(); ++i) {
            if (bytes[i] != kCanary) {
                return false;
            }
        }
        return true;
    }
    std::vector<uint8_t> packet() const { return {bytes.begin(), bytes.begin() + len}; }

    std::vector<uint8_t> bytes;
    size_t len;
    size_t capacity;
};

class SrtpSuiteTest : public ::testing::TestWithParam<CryptoSuite> {
protected:
    void SetUp() override {
        ASSERT_TRUE(SrtpSession::suiteSupported(GetParam())) << cryptoSuiteName(GetParam());
        const auto key = testKey(GetParam(), 1);
        out = std::make_unique<SrtpSession>(Direction::Outbound, GetParam(), key);
        in = std::make_unique<SrtpSession>(Direction::Inbound, GetParam(), key);
    }

    // Protects `packet` as RTP and returns the SRTP bytes.
    std::vector<uint8_t> protectRtp(const std::vector<uint8_t>& packet) {
        Buffer b(packet, out->rtpTrailerLength());
        EXPECT_TRUE(out->protectRtp(b.bytes.data(), b.len, b.capacity));
        EXPECT_TRUE(b.guardIntact());
        return b.packet();
    }

    std::vector<uint8_t> protectRtcp(const std::vector<uint8_t>& packet) {
        Buffer b(packet, out->rtcpTrailerLength());
        EXPECT_TRUE(out->protectRtcp(b.bytes.data(), b.len, b.capacity));
        EXPECT_TRUE(b.guardIntact());
        return b.packet();
    }

    std::unique_ptr<SrtpSession> out;
    std::unique_ptr<SrtpSession> in;
};

TEST_P(SrtpSuiteTest, TrailerLengthsMatchTheSuite) {
    EXPECT_EQ(out->rtpTrailerLength(), rtpTrailerLength(GetParam()));
    EXPECT_EQ(out->rtcpTrailerLength(), rtcpTrailerLength(GetParam()));
    EXPECT_LE(out->rtcpTrailerLength(), kMaxTrailerLength);
}

TEST_P(SrtpSuiteTest, RtpRoundTrip) {
    for (uint16_t seq = 65530; seq != 10; ++seq) {
        const auto plain = makeRtp(seq, 0x12345678, 100 + seq % 50);
        auto secured = protectRtp(plain);
        ASSERT_EQ(secured.size(), plain.size() + rtpTrailerLength(GetParam()));
        // The header stays in clear, the payload does not.
        EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 28, secured.begin()));
        EXPECT_FALSE(std::equal(plain.begin() + 28, plain.end(), secured.begin() + 28));
        size_t len = secured.size();
        ASSERT_TRUE(in->unprotectRtp(secured.data(), len)) << seq;
        secured.resize(len);
        EXPECT_EQ(secured, plain);
    }
    EXPECT_EQ(out->counters().rtpPackets, 16u);
    EXPECT_EQ(in->counters().rtpPackets, 16u);
    EXPECT_EQ(in->lastFailure(), Failure::None);
}

TEST_P(SrtpSuiteTest, RtcpRoundTrip) {
    for (int i = 0; i < 5; ++i) {
        const auto plain = makeRtcp(0xcafe0000u + static_cast<uint32_t>(i));
        auto secured = protectRtcp(plain);
        ASSERT_EQ(secured.size(), plain.size() + rtcpTrailerLength(GetParam()));
        size_t len = secured.size();
        ASSERT_TRUE(in->unprotectRtcp(secured.data(), len));
        secured.resize(len);
        EXPECT_EQ(secured, plain);
    }
    EXPECT_EQ(in->counters().rtcpPackets, 5u);
}

TEST_P(SrtpSuiteTest, ManySsrcsShareOneSession) {
    for (uint32_t ssrc = 1; ssrc <= 50; ++ssrc) {
        const auto plain = makeRtp(static_cast<uint16_t>(ssrc * 1000), ssrc);
        auto secured = protectRtp(plain);
        size_t len = secured.size();
        ASSERT_TRUE(in->unprotectRtp(secured.data(), len));
        secured.resize(len);
        EXPECT_EQ(secured, plain);
    }
}

TEST_P(SrtpSuiteTest, TamperedPacketFailsAuthentication) {
    auto secured = protectRtp(makeRtp(1, 42));
    for (size_t index : {size_t{2}, size_t{40}, secured.size() - 1}) {
        auto tampered = secured;
        tampered[index] ^= 0x01;
        size_t len = tampered.size();
        EXPECT_FALSE(in->unprotectRtp(tampered.data(), len)) << index;
        EXPECT_EQ(in->lastFailure(), Failure::Auth);
    }
    EXPECT_EQ(in->counters().authFailures, 3u);
    // A failed check does not advance the replay window: the genuine
    // packet still goes through.
    size_t len = secured.size();
    EXPECT_TRUE(in->unprotectRtp(secured.data(), len));

    auto rtcp = protectRtcp(makeRtcp(42));
    rtcp[10] ^= 0x80;
    len = rtcp.size();
    EXPECT_FALSE(in->unprotectRtcp(rtcp.data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Auth);
    EXPECT_EQ(in->counters().authFailures, 4u);
}

TEST_P(SrtpSuiteTest, WrongKeyFailsAuthentication) {
    SrtpSession other(Direction::Inbound, GetParam(), testKey(GetParam(), 2));
    auto secured = protectRtp(makeRtp(7, 42));
    size_t len = secured.size();
    EXPECT_FALSE(other.unprotectRtp(secured.data(), len));
    EXPECT_EQ(other.counters().authFailures, 1u);
}

TEST_P(SrtpSuiteTest, ReplayedPacketFails) {
    const auto secured = protectRtp(makeRtp(100, 42));
    auto copy = secured;
    size_t len = copy.size();
    ASSERT_TRUE(in->unprotectRtp(copy.data(), len));
    copy = secured;
    len = copy.size();
    EXPECT_FALSE(in->unprotectRtp(copy.data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Replay);
    EXPECT_EQ(in->counters().replayFailures, 1u);

    const auto rtcp = protectRtcp(makeRtcp(42));
    copy = rtcp;
    len = copy.size();
    ASSERT_TRUE(in->unprotectRtcp(copy.data(), len));
    copy = rtcp;
    len = copy.size();
    EXPECT_FALSE(in->unprotectRtcp(copy.data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Replay);
    EXPECT_EQ(in->counters().replayFailures, 2u);
}

TEST_P(SrtpSuiteTest, ReorderingWithinTheWindowIsAccepted) {
    std::vector<std::vector<uint8_t>> secured;
    for (uint16_t seq = 0; seq < 1200; ++seq) {
        secured.push_back(protectRtp(makeRtp(seq, 9, 20)));
    }
    size_t len = secured[1100].size();
    ASSERT_TRUE(in->unprotectRtp(secured[1100].data(), len));
    // 1,000 behind the newest: inside the 1,024 window.
    len = secured[100].size();
    EXPECT_TRUE(in->unprotectRtp(secured[100].data(), len));
    // 1,100 behind: too old to tell from a replay.
    len = secured[0].size();
    EXPECT_FALSE(in->unprotectRtp(secured[0].data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Replay);
}

TEST_P(SrtpSuiteTest, OutboundAllowsRetransmittingASequenceNumber) {
    const auto plain = makeRtp(500, 42);
    auto first = protectRtp(plain);
    auto again = protectRtp(plain);
    EXPECT_EQ(first, again);
    EXPECT_EQ(out->counters().rtpPackets, 2u);
}

TEST_P(SrtpSuiteTest, RemovedStreamStartsOver) {
    const auto secured = protectRtp(makeRtp(100, 42));
    auto copy = secured;
    size_t len = copy.size();
    ASSERT_TRUE(in->unprotectRtp(copy.data(), len));
    in->removeStream(42);
    copy = secured;
    len = copy.size();
    EXPECT_TRUE(in->unprotectRtp(copy.data(), len));
    in->removeStream(12345); // unknown: ignored
    EXPECT_EQ(in->streamCount(), 1u);
    in->removeStream(42);
    EXPECT_EQ(in->streamCount(), 0u);
}

TEST_P(SrtpSuiteTest, NoRoomForTheTrailerIsRefused) {
    const auto plain = makeRtp(1, 42);
    Buffer b(plain, out->rtpTrailerLength() - 1);
    EXPECT_FALSE(out->protectRtp(b.bytes.data(), b.len, b.capacity));
    EXPECT_EQ(out->lastFailure(), Failure::Other);
    EXPECT_EQ(b.len, plain.size());
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), b.bytes.begin()));
    EXPECT_TRUE(b.guardIntact());

    const auto rtcp = makeRtcp(42);
    Buffer c(rtcp, out->rtcpTrailerLength() - 1);
    EXPECT_FALSE(out->protectRtcp(c.bytes.data(), c.len, c.capacity));
    EXPECT_TRUE(c.guardIntact());
    // A capacity below the length itself is refused too.
    size_t len = plain.size();
    auto copy = plain;
    EXPECT_FALSE(out->protectRtp(copy.data(), len, plain.size() - 1));
    EXPECT_EQ(out->counters().otherFailures, 3u);
}

TEST_P(SrtpSuiteTest, WrongDirectionAndShortPacketsAreRefused) {
    auto plain = makeRtp(1, 42);
    plain.resize(plain.size() + 64);
    size_t len = plain.size() - 64;
    EXPECT_FALSE(in->protectRtp(plain.data(), len, plain.size()));
    EXPECT_FALSE(out->unprotectRtp(plain.data(), len));
    EXPECT_FALSE(in->protectRtcp(plain.data(), len, plain.size()));
    EXPECT_FALSE(out->unprotectRtcp(plain.data(), len));

    std::array<uint8_t, 64> tiny{0x80, 0x60};
    len = 11;
    EXPECT_FALSE(out->protectRtp(tiny.data(), len, tiny.size()));
    len = 7;
    EXPECT_FALSE(out->protectRtcp(tiny.data(), len, tiny.size()));
    len = 11;
    EXPECT_FALSE(in->unprotectRtp(tiny.data(), len));
    len = 0;
    EXPECT_FALSE(in->unprotectRtcp(tiny.data(), len));
    // Long enough for a header, too short for a tag.
    len = 13;
    EXPECT_FALSE(in->unprotectRtp(tiny.data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Other);
    EXPECT_EQ(out->counters().otherFailures, 4u);
    EXPECT_EQ(in->counters().otherFailures, 5u);
}

TEST_P(SrtpSuiteTest, WrongKeyLengthIsATypeError) {
    for (size_t length : {size_t{0}, keyLength(GetParam()) - 1, keyLength(GetParam()) + 1}) {
        const std::vector<uint8_t> key(length, 1);
        EXPECT_THROW(SrtpSession(Direction::Inbound, GetParam(), key), sfu::TypeError);
    }
    try {
        SrtpSession(Direction::Outbound, GetParam(), std::vector<uint8_t>(3));
    } catch (const sfu::TypeError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "wrong SRTP key length for " + std::string(cryptoSuiteName(GetParam())) +
                      " (3 bytes, expected " + std::to_string(keyLength(GetParam())) + ")");
    }
}

TEST_P(SrtpSuiteTest, GeneratedKeysWork) {
    const auto key = generateKey(GetParam());
    ASSERT_EQ(key.size(), keyLength(GetParam()));
    EXPECT_NE(key, generateKey(GetParam()));
    SrtpSession sender(Direction::Outbound, GetParam(), key);
    SrtpSession receiver(Direction::Inbound, GetParam(), key);
    const auto plain = makeRtp(3, 4);
    Buffer b(plain, sender.rtpTrailerLength());
    ASSERT_TRUE(sender.protectRtp(b.bytes.data(), b.len, b.capacity));
    ASSERT_TRUE(receiver.unprotectRtp(b.bytes.data(), b.len));
    EXPECT_EQ(b.packet(), plain);
}

// Every length the header announces is checked against the packet: CSRCs
// or a header extension reaching past the end (or, inbound, into the tag)
// are refused, with nothing written.
TEST_P(SrtpSuiteTest, HeaderPastTheEndIsRefused) {
    const std::vector<uint8_t> base = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42};
    auto withCsrcs = base;
    withCsrcs[0] = 0x83; // three CSRCs, one present
    withCsrcs.insert(withCsrcs.end(), 4, 0x11);
    auto noExtensionHeader = base;
    noExtensionHeader[0] = 0x90; // X set, 2 of the 4 extension header bytes
    noExtensionHeader.insert(noExtensionHeader.end(), {0xbe, 0xde});
    auto extensionTooLong = base;
    extensionTooLong[0] = 0x90; // X set, 3 words announced, 1 present
    extensionTooLong.insert(extensionTooLong.end(), {0xbe, 0xde, 0, 3, 1, 2, 3, 4});
    for (const auto& packet : {withCsrcs, noExtensionHeader, extensionTooLong}) {
        Buffer b(packet, out->rtpTrailerLength());
        EXPECT_FALSE(out->protectRtp(b.bytes.data(), b.len, b.capacity));
        EXPECT_EQ(b.packet(), packet);
        EXPECT_TRUE(b.guardIntact());
        // As received: the header must fit before the tag too.
        auto wire = packet;
        wire.resize(packet.size() + out->rtpTrailerLength() - 1, 0);
        size_t len = wire.size();
        EXPECT_FALSE(in->unprotectRtp(wire.data(), len));
        EXPECT_EQ(in->lastFailure(), Failure::Other);
    }
    EXPECT_EQ(out->counters().otherFailures, 3u);
    EXPECT_EQ(in->counters().otherFailures, 3u);
    // The extension exactly filling the packet, with no payload at all,
    // is a packet.
    auto exact = extensionTooLong;
    exact.resize(base.size() + 4 + 12);
    auto secured = protectRtp(exact);
    size_t len = secured.size();
    ASSERT_TRUE(in->unprotectRtp(secured.data(), len));
    secured.resize(len);
    EXPECT_EQ(secured, exact);
}

// SRTCP needs its header, the E + index word and the tag.
TEST_P(SrtpSuiteTest, ShortSrtcpIsRefused) {
    auto secured = protectRtcp(makeRtcp(42));
    const size_t minimum = 8 + rtcpTrailerLength(GetParam());
    for (size_t len : {size_t{0}, size_t{8}, minimum - 1}) {
        auto copy = secured;
        EXPECT_FALSE(in->unprotectRtcp(copy.data(), len)) << len;
        EXPECT_EQ(in->lastFailure(), Failure::Other);
    }
    // A bare header protects and unprotects.
    const std::vector<uint8_t> header = {0x80, 0xc9, 0, 1, 0, 0, 0, 7};
    auto bare = protectRtcp(header);
    ASSERT_EQ(bare.size(), minimum);
    size_t len = bare.size();
    ASSERT_TRUE(in->unprotectRtcp(bare.data(), len));
    EXPECT_EQ(len, header.size());
}

// Past kMaxStreams SSRCs, a new one pushes out the state of the SSRC that
// went unused for longest; the others keep theirs.
TEST_P(SrtpSuiteTest, StreamBoundDropsTheLeastRecentlyUsed) {
    std::vector<std::vector<uint8_t>> first;
    for (uint32_t ssrc = 1; ssrc <= SrtpSession::kMaxStreams; ++ssrc) {
        first.push_back(protectRtp(makeRtp(10, ssrc, 8)));
        auto copy = first.back();
        size_t len = copy.size();
        ASSERT_TRUE(in->unprotectRtp(copy.data(), len));
    }
    EXPECT_EQ(in->streamCount(), SrtpSession::kMaxStreams);
    EXPECT_EQ(out->streamCount(), SrtpSession::kMaxStreams);
    // SSRC 1 is used again, so SSRC 2 is now the least recently used.
    auto again = protectRtp(makeRtp(11, 1, 8));
    size_t len = again.size();
    ASSERT_TRUE(in->unprotectRtp(again.data(), len));
    auto newcomer = protectRtp(makeRtp(10, 0xffff0000, 8));
    len = newcomer.size();
    ASSERT_TRUE(in->unprotectRtp(newcomer.data(), len));
    EXPECT_EQ(in->streamCount(), SrtpSession::kMaxStreams);
    EXPECT_EQ(in->counters().streamsEvicted, 1u);
    EXPECT_EQ(out->counters().streamsEvicted, 1u);
    // SSRC 1 kept its window: its first packet is still a replay. SSRC 2's
    // state is gone: its first packet counts as the start of a new stream.
    auto copy = first[0];
    len = copy.size();
    EXPECT_FALSE(in->unprotectRtp(copy.data(), len));
    EXPECT_EQ(in->lastFailure(), Failure::Replay);
    copy = first[1];
    len = copy.size();
    EXPECT_TRUE(in->unprotectRtp(copy.data(), len));
    EXPECT_EQ(in->counters().streamsEvicted, 2u);
}

// A packet that fails authentication leaves no state behind.
TEST_P(SrtpSuiteTest, ForgedPacketsCreateNoStreams) {
    for (uint32_t ssrc = 1; ssrc <= 100; ++ssrc) {
        auto forged = makeRtp(1, ssrc);
        forged.resize(forged.size() + rtpTrailerLength(GetParam()), 0x5a);
        size_t len = forged.size();
        EXPECT_FALSE(in->unprotectRtp(forged.data(), len));
    }
    EXPECT_EQ(in->streamCount(), 0u);
    EXPECT_EQ(in->counters().authFailures, 100u);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, SrtpSuiteTest, ::testing::ValuesIn(kAllCryptoSuites),
                         [](const ::testing::TestParamInfo<CryptoSuite>& info) {
                             return std::string(cryptoSuiteName(info.param));
                         });

TEST(CryptoSuite, NamesAndLengths) {
    for (const CryptoSuite suite : kAllCryptoSuites) {
        EXPECT_EQ(parseCryptoSuite(cryptoSuiteName(suite)), suite);
        EXPECT_LE(keyLength(suite), kMaxKeyLength);
    }
    EXPECT_FALSE(parseCryptoSuite("aes_cm_128_hmac_sha1_80"));
    EXPECT_FALSE(parseCryptoSuite(""));
    EXPECT_EQ(keyLength(CryptoSuite::AES_CM_128_HMAC_SHA1_80), 30u);
    EXPECT_EQ(keyLength(CryptoSuite::AES_CM_128_HMAC_SHA1_32), 30u);
    EXPECT_EQ(keyLength(CryptoSuite::AEAD_AES_128_GCM), 28u);
    EXPECT_EQ(keyLength(CryptoSuite::AEAD_AES_256_GCM), 44u);
    EXPECT_EQ(masterKeyLength(CryptoSuite::AEAD_AES_256_GCM), 32u);
    EXPECT_EQ(masterSaltLength(CryptoSuite::AEAD_AES_256_GCM), 12u);
    EXPECT_EQ(masterSaltLength(CryptoSuite::AES_CM_128_HMAC_SHA1_32), 14u);
}

} // namespace
