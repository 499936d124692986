#include "protocol/ice/IceCandidate.hpp"

#include <gtest/gtest.h>

namespace sfu::ice {
namespace {

TEST(IceCandidate, Formula) {
    // RFC 8445 5.1.2.1 with the maximum values: still below 2^31.
    EXPECT_EQ(candidatePriority(126, 65535, 1), 126u * (1u << 24) + 65535u * 256 + 255);
    EXPECT_EQ(candidatePriority(0, 0, 256), 0u);
    EXPECT_EQ(candidatePriority(110, 1, 2), 110u * (1u << 24) + 256 + 254);
    // Out-of-range components are clamped, not wrapped.
    EXPECT_EQ(candidatePriority(1, 0, 0), candidatePriority(1, 0, 1));
    EXPECT_EQ(candidatePriority(1, 0, 300), candidatePriority(1, 0, 256));
    EXPECT_LT(hostCandidatePriority(Protocol::Udp, 0, false, false), 1u << 31);
}

TEST(IceCandidate, UdpPreferredByDefault) {
    const uint32_t udp = hostCandidatePriority(Protocol::Udp, 0, false, false);
    const uint32_t tcp = hostCandidatePriority(Protocol::Tcp, 0, false, false);
    EXPECT_GT(udp, tcp);
    EXPECT_EQ(udp, hostCandidatePriority(Protocol::Udp, 0, true, false));
    // Both flags: UDP wins, as preferUdp is looked at first.
    EXPECT_GT(hostCandidatePriority(Protocol::Udp, 0, true, true),
              hostCandidatePriority(Protocol::Tcp, 0, true, true));
}

TEST(IceCandidate, PreferTcp) {
    EXPECT_GT(hostCandidatePriority(Protocol::Tcp, 0, false, true),
              hostCandidatePriority(Protocol::Udp, 0, false, true));
}

TEST(IceCandidate, ProtocolOutranksListenIpOrder) {
    for (const bool preferTcp : {false, true}) {
        const Protocol preferred = preferTcp ? Protocol::Tcp : Protocol::Udp;
        const Protocol other = preferTcp ? Protocol::Udp : Protocol::Tcp;
        for (size_t index = 0; index < 10; ++index) {
            // Listen IP order within a protocol.
            EXPECT_GT(hostCandidatePriority(preferred, index, false, preferTcp),
                      hostCandidatePriority(preferred, index + 1, false, preferTcp));
            EXPECT_GT(hostCandidatePriority(other, index, false, preferTcp),
                      hostCandidatePriority(other, index + 1, false, preferTcp));
            // The last preferred candidate beats the first other one.
            EXPECT_GT(hostCandidatePriority(preferred, 1000, false, preferTcp),
                      hostCandidatePriority(other, 0, false, preferTcp));
        }
    }
}

TEST(IceCandidate, HugeIndexesClamp) {
    EXPECT_EQ(hostLocalPreference(Protocol::Tcp, 1'000'000, false, false), 0);
    EXPECT_EQ(hostLocalPreference(Protocol::Udp, 1'000'000, false, false), 32768);
    EXPECT_EQ(hostLocalPreference(Protocol::Udp, 0, false, false), 65535);
}

} // namespace
} // namespace sfu::ice
