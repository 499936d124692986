// Once a stream's first packet set up its state, protecting and
// unprotecting allocate nothing more (operator new is counted here; the
// benchmark counts malloc too, OpenSSL included).
#include "AllocationCounter.hpp"
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace sfu::srtp;

namespace {

TEST(SrtpNoAllocation, PacketsAfterTheFirstAllocateNothing) {
    for (const CryptoSuite suite : kAllCryptoSuites) {
        const std::vector<uint8_t> key(keyLength(suite), 0x42);
        SrtpSession out(Direction::Outbound, suite, key);
        SrtpSession in(Direction::Inbound, suite, key);
        std::vector<uint8_t> packet(1200 + kMaxTrailerLength, 0x33);
        auto round = [&](uint16_t seq, uint32_t ssrc) {
            packet[0] = 0x80;
            packet[2] = static_cast<uint8_t>(seq >> 8);
            packet[3] = static_cast<uint8_t>(seq);
            for (int i = 0; i < 4; ++i) {
                packet[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
            }
            size_t len = 1200;
            ASSERT_TRUE(out.protectRtp(packet.data(), len, packet.size()));
            ASSERT_TRUE(in.unprotectRtp(packet.data(), len));
            len = 100;
            packet[1] = 200;
            ASSERT_TRUE(out.protectRtcp(packet.data(), len, packet.size()));
            ASSERT_TRUE(in.unprotectRtcp(packet.data(), len));
            packet[1] = 96;
        };
        round(65000, 1);
        round(65000, 2);
        const size_t before = sfu::test::allocationCount.load();
        for (uint32_t i = 1; i < 1000; ++i) {
            round(static_cast<uint16_t>(65000 + i), 1 + i % 2);
        }
        EXPECT_EQ(sfu::test::allocationCount.load(), before) << cryptoSuiteName(suite);
    }
}

} // namespace
