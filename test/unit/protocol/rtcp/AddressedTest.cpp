#include "protocol/rtcp/Addressed.hpp"

#include "protocol/rtcp/Compound.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Sdes.hpp"
#include "protocol/rtcp/Xr.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace {

using namespace sfu::rtcp;

struct Seen {
    uint32_t ssrc;
    size_t kind;
    bool received;
};

TEST(Addressed, EveryItemComesWithTheSsrcOfItsStream) {
    uint8_t buffer[1200];
    CompoundWriter writer(buffer, sizeof(buffer));
    SenderInfo info;
    info.ntp = 0x0102030405060708;
    const ReportBlock blocks[] = {{11, 0, 0, 0, 0, 0, 0}, {12, 0, 0, 0, 0, 0, 0}};
    writer.advance(writeSenderReport(100, info, blocks, writer.cursor(), writer.room()));
    writer.advance(writeSdesCname(100, "x", writer.cursor(), writer.room()));
    writer.advance(writeReceiverReport(101, std::span(blocks, 1), writer.cursor(), writer.room()));
    writer.advance(writePli(1, 13, writer.cursor(), writer.room()));
    const FirItem firs[] = {{14, 1}, {15, 2}};
    writer.advance(writeFir(1, firs, writer.cursor(), writer.room()));
    const DlrrItem dlrr{77, 1234, 5};
    writer.advance(writeXrDlrr(200, std::span(&dlrr, 1), writer.cursor(), writer.room()));
    writer.advance(writeXrRrt(201, 99, writer.cursor(), writer.room()));
    ASSERT_GT(writer.size(), 0u);

    std::vector<Seen> seen;
    const size_t skipped =
        forEachAddressedItem(CompoundView(buffer, writer.size()), [&](const AddressedItem& item) {
            seen.push_back({item.ssrc, item.body.index(), item.aboutReceivedStream()});
            if (const auto* answer = std::get_if<DlrrAnswerItem>(&item.body)) {
                EXPECT_EQ(answer->item, dlrr);
            }
            if (const auto* report = std::get_if<SenderReportItem>(&item.body)) {
                EXPECT_EQ(report->info.ntp, info.ntp);
            }
        });
    // SDES and the RRTR-only XR say nothing about one stream.
    EXPECT_EQ(skipped, 2u);
    const std::vector<std::pair<uint32_t, bool>> expected = {{100, true}, {11, false}, {12, false},
                                                             {11, false}, {13, false}, {14, false},
                                                             {15, false}, {200, true}};
    ASSERT_EQ(seen.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(seen[i].ssrc, expected[i].first) << i;
        EXPECT_EQ(seen[i].received, expected[i].second) << i;
    }
}

TEST(Addressed, NackCarriesItsView) {
    uint8_t buffer[64];
    const NackItem item{500, 0x0001};
    const size_t size = writeNack(1, 42, std::span(&item, 1), buffer, sizeof(buffer));
    ASSERT_GT(size, 0u);
    int nacks = 0;
    forEachAddressedItem(CompoundView(buffer, size), [&](const AddressedItem& addressed) {
        const auto* nack = std::get_if<NackView>(&addressed.body);
        ASSERT_NE(nack, nullptr);
        EXPECT_EQ(addressed.ssrc, 42u);
        EXPECT_EQ((*nack->items().begin()).pid, 500);
        ++nacks;
    });
    EXPECT_EQ(nacks, 1);
}

} // namespace
