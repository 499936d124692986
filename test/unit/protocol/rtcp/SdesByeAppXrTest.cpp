#include "protocol/rtcp/RtcpTestUtil.hpp"
#include "protocol/rtcp/Vectors.hpp"

#include <gtest/gtest.h>

using namespace sfu::rtcp;
using namespace sfu::rtcp::test;

namespace {

PacketView nth(const std::vector<uint8_t>& b, size_t n) {
    auto it = CompoundView(b.data(), b.size()).begin();
    for (size_t i = 0; i < n; ++i) {
        ++it;
    }
    return *it;
}

} // namespace

TEST(RtcpSdes, ChromeCname) {
    const auto b = fromHex(vectors::kChromeSrSdes);
    const auto sdes = SdesView::parse(nth(b, 1));
    ASSERT_TRUE(sdes);
    EXPECT_EQ(sdes->chunkCount(), 1u);
    size_t chunks = 0;
    for (const SdesChunkView c : *sdes) {
        ++chunks;
        EXPECT_EQ(c.ssrc(), 0x5d931534u);
        EXPECT_EQ(c.size(), 24u);
        EXPECT_EQ(c.cname(), "t7mkYnCm46OcINy/");
        EXPECT_FALSE(c.find(SdesType::Tool));
    }
    EXPECT_EQ(chunks, 1u);

    uint8_t buf[64];
    const size_t n = writeSdesCname(0x5d931534, "t7mkYnCm46OcINy/", buf, sizeof buf);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), std::vector<uint8_t>(b.begin() + 28, b.end()));
}

TEST(RtcpSdes, SeveralChunksAndItems) {
    Sdes s;
    s.chunks.push_back({1234,
                        {{1, "qwerty"},
                         {6, "i\xc3\xb1"
                             "aki"}}});
    s.chunks.push_back({5678, {{5, "somewhere"}}});
    s.chunks.push_back({9, {}}); // no items: SSRC and four null octets
    s.chunks.push_back({10,
                        {{8, std::string("\x03"
                                         "abcdef",
                                         7)}}});
    const auto b = bytesOf(s);
    ASSERT_EQ(b.size(), s.size());
    const auto pkt = PacketView::parse(b.data(), b.size());
    ASSERT_TRUE(pkt);
    const auto view = SdesView::parse(*pkt);
    ASSERT_TRUE(view);
    EXPECT_EQ(Sdes::from(*view), s);
    size_t n = 0;
    for (const SdesChunkView c : *view) {
        if (c.ssrc() == 9) {
            EXPECT_EQ(c.size(), 8u);
            EXPECT_TRUE(c.begin() == c.end());
        }
        ++n;
    }
    EXPECT_EQ(n, 4u);
}

TEST(RtcpSdes, ItemsOfEveryLengthTerminateCorrectly) {
    for (size_t len = 0; len < 12; ++len) {
        Sdes s;
        s.chunks.push_back({1, {{1, std::string(len, 'x')}}});
        const auto b = bytesOf(s);
        ASSERT_EQ(b.size() % 4, 0u);
        const auto view = SdesView::parse(*PacketView::parse(b.data(), b.size()));
        ASSERT_TRUE(view) << len;
        EXPECT_EQ(Sdes::from(*view), s);
    }
}

TEST(RtcpSdes, HostileChunks) {
    // No null octet after the item.
    auto b = fromHex("81ca0002 11223344 08026162");
    EXPECT_FALSE(SdesView::parse(*PacketView::parse(b.data(), b.size())));
    // Item length runs past the packet.
    b = fromHex("81ca0003 11223344 01ff6162 00000000");
    EXPECT_FALSE(SdesView::parse(*PacketView::parse(b.data(), b.size())));
    // SC claims two chunks, one present.
    b = fromHex("82ca0003 11223344 01016100 00000000");
    b.resize(16);
    b[3] = 3;
    EXPECT_FALSE(SdesView::parse(*PacketView::parse(b.data(), b.size())));
    // Terminator present but its padding cut short by the packet end.
    b = fromHex("81ca0002 11223344 01016100");
    EXPECT_TRUE(SdesView::parse(*PacketView::parse(b.data(), b.size())));
    b = fromHex("81ca0002 11223344 0102616200");
    EXPECT_FALSE(SdesView::parse(*PacketView::parse(b.data(), 12)));
    // Zero chunks, empty body: fine.
    b = fromHex("80ca0000");
    const auto empty = SdesView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->begin() == empty->end());
}

TEST(RtcpSdes, SerializeLimits) {
    Sdes s;
    s.chunks.push_back({1, {{1, std::string(256, 'x')}}});
    EXPECT_TRUE(bytesOf(s).empty());
    s.chunks[0].items[0].value.resize(255);
    EXPECT_EQ(bytesOf(s).size(), s.size());
    s.chunks[0].items[0].type = 0;
    EXPECT_TRUE(bytesOf(s).empty());
    s.chunks.assign(32, SdesChunk{});
    EXPECT_TRUE(bytesOf(s).empty());
    s.chunks.resize(31);
    EXPECT_EQ(bytesOf(s).size(), 4u + 31 * 8);
}

TEST(RtcpBye, SsrcsAndReason) {
    const auto b = fromHex(vectors::kFirefoxCompound);
    const auto bye = ByeView::parse(nth(b, 2));
    ASSERT_TRUE(bye);
    ASSERT_EQ(bye->ssrcs().size(), 1u);
    EXPECT_EQ(bye->ssrcs()[0], 0x902f9e2eu);
    EXPECT_FALSE(bye->reason());

    Bye withReason{{1, 2, 3}, std::string("camera off")};
    const auto raw = bytesOf(withReason);
    ASSERT_EQ(raw.size(), 4u + 12 + 12);
    const auto view = ByeView::parse(*PacketView::parse(raw.data(), raw.size()));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->reason(), "camera off");
    EXPECT_EQ(Bye::from(*view), withReason);

    Bye emptyReason{{1}, std::string()};
    const auto raw2 = bytesOf(emptyReason);
    EXPECT_EQ(toHex(raw2), "81cb0002 00000001 00000000");
    EXPECT_EQ(Bye::from(*ByeView::parse(*PacketView::parse(raw2.data(), raw2.size()))),
              emptyReason);
}

TEST(RtcpBye, HostileBye) {
    // Reason length past the body.
    auto b = fromHex("81cb0002 00000001 09616263");
    EXPECT_FALSE(ByeView::parse(*PacketView::parse(b.data(), b.size())));
    // SC larger than the body.
    b = fromHex("85cb0002 00000001 00000002");
    EXPECT_FALSE(ByeView::parse(*PacketView::parse(b.data(), b.size())));
    // SC 0, no reason: fine.
    b = fromHex("80cb0000");
    EXPECT_TRUE(ByeView::parse(*PacketView::parse(b.data(), b.size())));
}

TEST(RtcpApp, NameAndData) {
    const auto b = fromHex(vectors::kFirefoxCompound);
    const auto app = AppView::parse(nth(b, 5));
    ASSERT_TRUE(app);
    EXPECT_EQ(app->subtype(), 0);
    EXPECT_EQ(app->ssrc(), 0x4baae1abu);
    EXPECT_EQ(app->name(), "NAME");
    EXPECT_EQ(app->data().size(), 4u);

    App a{17, 99, {'t', 'e', 's', 't'}, {1, 2, 3, 4, 5, 6, 7, 8}};
    const auto raw = bytesOf(a);
    EXPECT_EQ(raw[0], 0x91);
    EXPECT_EQ(App::from(*AppView::parse(*PacketView::parse(raw.data(), raw.size()))), a);
    a.data.push_back(9);
    EXPECT_TRUE(bytesOf(a).empty());
    const auto shortApp = fromHex("80cc0001 00000001");
    EXPECT_FALSE(AppView::parse(*PacketView::parse(shortApp.data(), shortApp.size())));
}

TEST(RtcpXr, AllRfcBlocksParseAndUnknownOnesAreSkipped) {
    const auto b = fromHex(vectors::kXrAllBlocks);
    ASSERT_EQ(b.size(), 208u);
    const auto xr = XrView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(xr);
    EXPECT_EQ(xr->ssrc(), 0x01020304u);
    std::vector<uint8_t> types;
    std::optional<uint64_t> rrt;
    std::vector<DlrrItem> dlrr;
    for (const XrBlockView block : *xr) {
        types.push_back(block.type);
        if (const auto ntp = block.rrt()) {
            rrt = ntp;
        }
        if (const auto items = block.dlrr()) {
            dlrr.assign(items->begin(), items->end());
        }
    }
    EXPECT_EQ(types, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(rrt, 0x0102030405060708ULL);
    ASSERT_EQ(dlrr.size(), 3u);
    EXPECT_EQ(dlrr[1], (DlrrItem{0x09090909, 0x12345678, 0x99999999}));

    const auto value = Xr::from(*xr);
    ASSERT_EQ(value.blocks.size(), 7u);
    EXPECT_TRUE(std::holds_alternative<XrRawBlock>(value.blocks[0]));
    EXPECT_TRUE(std::holds_alternative<XrRrt>(value.blocks[3]));
    EXPECT_TRUE(std::holds_alternative<XrDlrr>(value.blocks[4]));
    EXPECT_EQ(bytesOf(value), b);
}

TEST(RtcpXr, Writers) {
    uint8_t buf[64];
    size_t n = writeXrRrt(0xaabbccdd, 0x1122334455667788ULL, buf, sizeof buf);
    EXPECT_EQ(toHex(buf, n), "80cf0004 aabbccdd 04000002 11223344 55667788");
    const DlrrItem items[] = {{1, 2, 3}};
    n = writeXrDlrr(0xaabbccdd, items, buf, sizeof buf);
    EXPECT_EQ(toHex(buf, n), "80cf0005 aabbccdd 05000003 00000001 00000002 00000003");
    EXPECT_EQ(writeXrDlrr(0xaabbccdd, items, buf, 23), 0u);
}

TEST(RtcpXr, HostileBlocks) {
    // Block length past the packet.
    auto b = fromHex("80cf0003 01020304 04000005 00000000");
    EXPECT_FALSE(XrView::parse(*PacketView::parse(b.data(), b.size())));
    // Half a block header (padding takes the other half).
    b = fromHex("a0cf0002 01020304 04000002");
    EXPECT_FALSE(XrView::parse(*PacketView::parse(b.data(), b.size())));
    // RRT with the wrong length and DLRR with a partial sub-block stay raw.
    b = fromHex("80cf0006 01020304 04000001 00000001 05000002 00000001 00000002");
    const auto xr = XrView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(xr);
    for (const XrBlockView block : *xr) {
        EXPECT_FALSE(block.rrt());
        EXPECT_FALSE(block.dlrr());
    }
    EXPECT_EQ(bytesOf(Xr::from(*xr)), b);
    // No blocks at all.
    b = fromHex("80cf0001 01020304");
    const auto empty = XrView::parse(*PacketView::parse(b.data(), b.size()));
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->begin() == empty->end());
    // Not even the SSRC.
    b = fromHex("80cf0000");
    EXPECT_FALSE(XrView::parse(*PacketView::parse(b.data(), b.size())));
}
