// Our SRTP against libsrtp2's (the oracle in test/oracle/srtp), for every
// suite: each unprotects what the other protects, SRTP and SRTCP, across a
// sequence number wrap, and both protect the same packet to the same bytes.
// Our receiver must also refuse what libsrtp's would: replays, tampered
// packets, packets older than the window.
#include "TestUtil.hpp"
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "srtp/LibsrtpSession.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace sfu::srtp;
using oracle::LibsrtpSession;
using sfu::test::toHex;

namespace {

std::vector<uint8_t> masterKey(CryptoSuite suite) {
    std::vector<uint8_t> key(keyLength(suite));
    for (size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<uint8_t>(0x3c + i * 11);
    }
    return key;
}

void put32(std::vector<uint8_t>& p, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        p.push_back(static_cast<uint8_t>(v >> shift));
    }
}

// An RTP packet whose shape varies with `seq`: 0-3 CSRCs, with or without
// a header extension of 0-2 words, with or without padding.
std::vector<uint8_t> makeRtp(uint16_t seq, uint32_t ssrc) {
    const unsigned csrcs = seq % 4;
    const bool extension = seq % 3 != 0;
    const bool padding = seq % 5 == 0;
    std::vector<uint8_t> p = {
        static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcs), 0x6f,
        static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
    put32(p, 0x01020304u + seq * 90u);
    put32(p, ssrc);
    for (unsigned i = 0; i < csrcs; ++i) {
        put32(p, 0xc0000000u + i);
    }
    if (extension) {
        const unsigned words = seq % 3;
        put32(p, 0xbede0000u | words);
        for (unsigned i = 0; i < words; ++i) {
            put32(p, 0x10aa0000u + i);
        }
    }
    const size_t payload = 1 + seq % 300;
    for (size_t i = 0; i < payload; ++i) {
        p.push_back(static_cast<uint8_t>(i ^ seq));
    }
    if (padding) {
        p.insert(p.end(), {0, 0, 3});
    }
    return p;
}

// A sender report with one report block, then an SDES chunk.
std::vector<uint8_t> makeRtcp(uint32_t ssrc, uint32_t n) {
    std::vector<uint8_t> p;
    put32(p, 0x81c8000c);
    put32(p, ssrc);
    for (uint32_t i = 0; i < 11; ++i) {
        put32(p, n * 1000 + i);
    }
    put32(p, 0x81ca0002);
    put32(p, ssrc);
    put32(p, 0x01024142);
    return p;
}

template <typename Session>
std::vector<uint8_t> protect(Session& session, const std::vector<uint8_t>& plain, bool rtcp) {
    std::vector<uint8_t> buffer = plain;
    buffer.resize(plain.size() + kMaxTrailerLength);
    size_t len = plain.size();
    const bool ok = rtcp ? session.protectRtcp(buffer.data(), len, buffer.size())
                         : session.protectRtp(buffer.data(), len, buffer.size());
    EXPECT_TRUE(ok);
    buffer.resize(ok ? len : 0);
    return buffer;
}

// The plain packet, or nothing when the session refused it.
template <typename Session>
std::optional<std::vector<uint8_t>> unprotect(Session& session, std::vector<uint8_t> wire,
                                              bool rtcp) {
    size_t len = wire.size();
    const bool ok =
        rtcp ? session.unprotectRtcp(wire.data(), len) : session.unprotectRtp(wire.data(), len);
    if (!ok) {
        return std::nullopt;
    }
    wire.resize(len);
    return wire;
}

class SrtpInteropTest : public ::testing::TestWithParam<CryptoSuite> {
protected:
    void SetUp() override {
        ASSERT_TRUE(LibsrtpSession::suiteSupported(GetParam()));
        const auto key = masterKey(GetParam());
        oursOut = std::make_unique<SrtpSession>(Direction::Outbound, GetParam(), key);
        oursIn = std::make_unique<SrtpSession>(Direction::Inbound, GetParam(), key);
        libOut = std::make_unique<LibsrtpSession>(Direction::Outbound, GetParam(), key);
        libIn = std::make_unique<LibsrtpSession>(Direction::Inbound, GetParam(), key);
    }

    std::unique_ptr<SrtpSession> oursOut;
    std::unique_ptr<SrtpSession> oursIn;
    std::unique_ptr<LibsrtpSession> libOut;
    std::unique_ptr<LibsrtpSession> libIn;
};

// 1,200 packets on each of two SSRCs from sequence number 65,000: the
// rollover counter moves to 1 midway, which the tag (AES-CM) or the IV
// (GCM) covers, so any disagreement on it fails the check.
TEST_P(SrtpInteropTest, SrtpBothWaysAcrossTheWrap) {
    for (const uint32_t ssrc : {0x11223344u, 0xfedcba98u}) {
        for (uint32_t i = 0; i < 1200; ++i) {
            const auto seq = static_cast<uint16_t>(65000 + i);
            const auto plain = makeRtp(seq, ssrc);
            const auto ours = protect(*oursOut, plain, false);
            const auto theirs = protect(*libOut, plain, false);
            ASSERT_EQ(toHex(ours), toHex(theirs)) << "seq " << seq;
            ASSERT_EQ(unprotect(*libIn, ours, false), plain) << "seq " << seq;
            ASSERT_EQ(unprotect(*oursIn, theirs, false), plain) << "seq " << seq;
        }
    }
    EXPECT_EQ(oursIn->counters().rtpPackets, 2400u);
    EXPECT_EQ(libIn->counters().rtpPackets, 2400u);
}

// SRTCP indexes count from 1 on both sides, so the bytes match too.
TEST_P(SrtpInteropTest, SrtcpBothWays) {
    for (const uint32_t ssrc : {0x0badf00du, 0x12345678u}) {
        for (uint32_t n = 0; n < 100; ++n) {
            const auto plain = makeRtcp(ssrc, n);
            const auto ours = protect(*oursOut, plain, true);
            const auto theirs = protect(*libOut, plain, true);
            ASSERT_EQ(toHex(ours), toHex(theirs)) << n;
            ASSERT_EQ(unprotect(*libIn, ours, true), plain) << n;
            ASSERT_EQ(unprotect(*oursIn, theirs, true), plain) << n;
        }
    }
    EXPECT_EQ(oursIn->counters().rtcpPackets, 200u);
}

// A packet sent just before the wrap that arrives after it: the receiver
// must guess ROC - 1 for it (RFC 3711 appendix A), once.
TEST_P(SrtpInteropTest, LatePacketFromBeforeTheWrap) {
    std::vector<std::vector<uint8_t>> wire;
    for (uint32_t i = 0; i < 30; ++i) {
        wire.push_back(protect(*libOut, makeRtp(static_cast<uint16_t>(65520 + i), 7), false));
    }
    // 65,535 (index 15) is held back until 0-9 (16-25) went through.
    for (size_t i = 0; i < 26; ++i) {
        if (i != 15) {
            ASSERT_TRUE(unprotect(*oursIn, wire[i], false)) << i;
        }
    }
    EXPECT_EQ(unprotect(*oursIn, wire[15], false), makeRtp(65535, 7));
    EXPECT_FALSE(unprotect(*oursIn, wire[15], false));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Replay);
    EXPECT_EQ(unprotect(*oursIn, wire[29], false), makeRtp(13, 7));
}

// What libsrtp's receiver refuses, ours refuses for the same reason.
TEST_P(SrtpInteropTest, ReplaysTamperingAndOldPacketsAreRefused) {
    std::vector<std::vector<uint8_t>> wire;
    for (uint16_t seq = 0; seq < 1200; ++seq) {
        wire.push_back(protect(*libOut, makeRtp(seq, 99), false));
    }
    ASSERT_TRUE(unprotect(*oursIn, wire[1100], false));
    // 1,023 behind the newest: the oldest the window holds.
    EXPECT_TRUE(unprotect(*oursIn, wire[1100 - 1023], false));
    // 1,024 behind: outside the window, whatever its tag.
    EXPECT_FALSE(unprotect(*oursIn, wire[1100 - 1024], false));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Replay);
    EXPECT_FALSE(unprotect(*oursIn, wire[1100], false));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Replay);

    // A flipped bit in the payload type, the SSRC, the payload or the tag.
    const auto& genuine = wire[1101];
    for (const size_t at : {size_t{1}, size_t{8}, genuine.size() / 2, genuine.size() - 1}) {
        auto tampered = genuine;
        tampered[at] ^= 0x04;
        EXPECT_FALSE(unprotect(*oursIn, tampered, false)) << at;
        EXPECT_EQ(oursIn->lastFailure(), Failure::Auth) << at;
    }
    // None of that moved the window: the genuine packet still goes through.
    EXPECT_EQ(unprotect(*oursIn, genuine, false), makeRtp(1101, 99));

    std::vector<std::vector<uint8_t>> rtcp;
    for (uint32_t n = 0; n < 3; ++n) {
        rtcp.push_back(protect(*libOut, makeRtcp(99, n), true));
    }
    ASSERT_TRUE(unprotect(*oursIn, rtcp[1], true));
    EXPECT_FALSE(unprotect(*oursIn, rtcp[1], true));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Replay);
    auto tampered = rtcp[2];
    tampered[12] ^= 0x10;
    EXPECT_FALSE(unprotect(*oursIn, tampered, true));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Auth);
    // The index sits in the authenticated trailer: moving it breaks the tag.
    tampered = rtcp[2];
    tampered[isAeadSuite(GetParam()) ? tampered.size() - 1 : tampered.size() - 11] ^= 0x08;
    EXPECT_FALSE(unprotect(*oursIn, tampered, true));
    EXPECT_EQ(oursIn->lastFailure(), Failure::Auth);
    EXPECT_TRUE(unprotect(*oursIn, rtcp[0], true));
    EXPECT_TRUE(unprotect(*oursIn, rtcp[2], true));
}

// And what ours protects, libsrtp's receiver checks just as strictly.
TEST_P(SrtpInteropTest, OracleRefusesOurReplaysAndTampering) {
    const auto first = protect(*oursOut, makeRtp(500, 5), false);
    ASSERT_TRUE(unprotect(*libIn, first, false));
    EXPECT_FALSE(unprotect(*libIn, first, false));
    EXPECT_EQ(libIn->lastFailure(), Failure::Replay);
    auto tampered = protect(*oursOut, makeRtp(501, 5), false);
    tampered[tampered.size() - 1] ^= 1;
    EXPECT_FALSE(unprotect(*libIn, tampered, false));
    EXPECT_EQ(libIn->lastFailure(), Failure::Auth);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, SrtpInteropTest, ::testing::ValuesIn(kAllCryptoSuites),
                         [](const ::testing::TestParamInfo<CryptoSuite>& info) {
                             return std::string(cryptoSuiteName(info.param));
                         });

} // namespace
