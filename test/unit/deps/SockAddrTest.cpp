#include "deps/SockAddr.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace sfu::deps;

namespace {

sockaddr_storage address(const char* ip, uint16_t port) {
    sockaddr_storage addr;
    EXPECT_TRUE(parseAddress(ip, port, addr)) << ip;
    return addr;
}

const sockaddr* raw(const sockaddr_storage& addr) {
    return reinterpret_cast<const sockaddr*>(&addr);
}

TEST(SockAddr, ParsesAndFormatsBothFamilies) {
    std::string ip;
    uint16_t port = 0;
    const auto v4 = address("192.168.1.20", 40000);
    EXPECT_EQ(familyOf(raw(v4)), IpFamily::Ipv4);
    EXPECT_EQ(addressLength(raw(v4)), sizeof(sockaddr_in));
    ASSERT_TRUE(formatAddress(raw(v4), ip, port));
    EXPECT_EQ(ip, "192.168.1.20");
    EXPECT_EQ(port, 40000);

    const auto v6 = address("2001:DB8:0:0::1", 5);
    EXPECT_EQ(familyOf(raw(v6)), IpFamily::Ipv6);
    EXPECT_EQ(addressLength(raw(v6)), sizeof(sockaddr_in6));
    ASSERT_TRUE(formatAddress(raw(v6), ip, port));
    EXPECT_EQ(ip, "2001:db8::1");
    EXPECT_EQ(port, 5);
    EXPECT_EQ(portOf(raw(v6)), 5);

    char small[4];
    EXPECT_FALSE(formatIp(raw(v6), small, sizeof(small)));
    char exact[12];
    EXPECT_TRUE(formatIp(raw(v6), exact, sizeof(exact)));
    EXPECT_STREQ(exact, "2001:db8::1");
}

TEST(SockAddr, FamiliesAndNames) {
    EXPECT_EQ(ipFamily("127.0.0.1"), IpFamily::Ipv4);
    EXPECT_EQ(ipFamily("::"), IpFamily::Ipv6);
    EXPECT_EQ(ipFamily("::ffff:1.2.3.4"), IpFamily::Ipv6);
    EXPECT_EQ(ipFamilyName(IpFamily::Ipv4), "ipv4");
    EXPECT_EQ(ipFamilyName(IpFamily::Ipv6), "ipv6");
    EXPECT_EQ(addressFamily(IpFamily::Ipv6), AF_INET6);
    EXPECT_EQ(normalizeIp("0:0:0:0:0:0:0:1"), "::1");
    EXPECT_EQ(normalizeIp("10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(normalizeIp("nope"), "");
}

TEST(SockAddr, RejectsWhatIsNotAPlainIp) {
    for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "127.1",
                            " 1.2.3.4", "1.2.3.4 ", "1.2.3.4:80", "[::1]", "::1%lo", "fe80::1%eth0",
                            "1::2::3", "12345::", "::g"}) {
        EXPECT_FALSE(ipFamily(bad)) << bad;
    }
    EXPECT_FALSE(ipFamily(std::string("1.2.3.4\0junk", 12)));
    EXPECT_FALSE(ipFamily(std::string(200, '1')));
}

TEST(SockAddr, ComparesIpAndPortOnly) {
    const auto a = address("10.0.0.1", 1000);
    EXPECT_TRUE(sameAddress(raw(a), raw(address("10.0.0.1", 1000))));
    EXPECT_FALSE(sameAddress(raw(a), raw(address("10.0.0.1", 1001))));
    EXPECT_FALSE(sameAddress(raw(a), raw(address("10.0.0.2", 1000))));
    EXPECT_FALSE(sameAddress(raw(a), raw(address("::ffff:10.0.0.1", 1000))));
    EXPECT_EQ(hashAddress(raw(a)), hashAddress(raw(address("10.0.0.1", 1000))));
    EXPECT_NE(hashAddress(raw(a)), hashAddress(raw(address("10.0.0.1", 1001))));

    auto b = address("2001:db8::7", 9);
    auto c = b;
    // Flow info and scope do not make another peer.
    reinterpret_cast<sockaddr_in6&>(c).sin6_flowinfo = 1234;
    reinterpret_cast<sockaddr_in6&>(c).sin6_scope_id = 3;
    EXPECT_TRUE(sameAddress(raw(b), raw(c)));
    EXPECT_EQ(hashAddress(raw(b)), hashAddress(raw(c)));
    EXPECT_FALSE(sameAddress(raw(b), raw(address("2001:db8::8", 9))));

    sockaddr_storage unix{};
    unix.ss_family = AF_UNIX;
    EXPECT_FALSE(sameAddress(raw(unix), raw(unix)));
    EXPECT_EQ(portOf(raw(unix)), 0);
    EXPECT_EQ(addressLength(raw(unix)), 0u);
    std::string ip;
    uint16_t port = 0;
    EXPECT_FALSE(formatAddress(raw(unix), ip, port));
}

} // namespace
