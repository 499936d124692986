// Proves the media path does not touch the heap: this file replaces the
// global allocation functions of the whole test binary with counting ones,
// then checks that parsing and rewriting a packet count zero allocations.
#include "AllocationCounter.hpp"
#include "TestUtil.hpp"
#include "Vectors.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RateCalculator.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqRewriter.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <gtest/gtest.h>
#include <new>

namespace sfu::rtp::test {
namespace {

int* volatile escapedPointer = nullptr;

TEST(NoAllocation, CounterSeesAllocations) {
    const size_t before = sfu::test::allocationCount.load();
    // Stored through a volatile so the compiler cannot elide the pair.
    escapedPointer = new int(5);
    delete escapedPointer;
    EXPECT_EQ(sfu::test::allocationCount.load() - before, 1u);
}

TEST(NoAllocation, ParseAndRewrite) {
    alignas(16) std::array<uint8_t, 1500> buffer{};
    const size_t size = sfu::test::hexInto(kChromeVideo, buffer);
    ExtensionIdMap map;
    map.set(1, 3);
    map.set(4, 2);
    map.set(5, 7);
    SeqRewriter seq(0);
    TimestampRewriter timestamps;
    RateCalculator rate;
    std::array<uint8_t, 1500> copy{};

    const size_t before = sfu::test::allocationCount.load();
    uint32_t checksum = 0;
    for (int i = 0; i < 1000; ++i) {
        auto packet = RtpPacket::parse(buffer.data(), size, buffer.size());
        if (!packet) {
            break;
        }
        checksum += packet->ssrc() + packet->payloadLength();
        checksum += readAbsSendTime(packet->extension(4)).value_or(0);
        checksum += readTransportWideSeq(packet->extension(5)).value_or(0);
        checksum += static_cast<uint32_t>(readSdes(packet->extension(1)).value_or("").size());

        auto out = packet->copyTo(copy.data(), copy.size());
        if (!out) {
            break;
        }
        if (i == 0) {
            seq.sync(out->sequenceNumber());
        }
        out->setSsrc(0x01020304);
        out->setPayloadType(101);
        out->setSequenceNumber(seq.rewrite(out->sequenceNumber()).value_or(0));
        out->setTimestamp(timestamps.rewrite(out->timestamp()));
        out->remapExtensionIds(map);
        setAbsSendTime(*out, 2, static_cast<uint32_t>(i));
        setTransportWideSeq(*out, 7, static_cast<uint16_t>(i));
        setSdes(*out, 3, "probator");
        out->rtxEncode(102, 0x0a0b0c0d, static_cast<uint16_t>(i));
        out->rtxDecode(101, 0x01020304);
        out->setExtensionForm(ExtensionForm::TwoByte);
        out->removeExtension(3);
        out->compactExtensions();
        out->setPaddingLength(16);
        rate.update(out->size(), static_cast<uint64_t>(i));
        checksum += out->sequenceNumber();
    }
    const size_t allocations = sfu::test::allocationCount.load() - before;
    EXPECT_EQ(allocations, 0u);
    EXPECT_NE(checksum, 0u);
    EXPECT_GT(rate.totalBytes(), 0u);
}

} // namespace
} // namespace sfu::rtp::test
