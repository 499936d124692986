// Walks an arbitrary buffer as a compound RTCP packet, reads every field of
// every packet through the views, and checks that whatever decodes rebuilds
// into bytes that decode to the same value and rebuild identically.
#include "protocol/rtcp/Addressed.hpp"
#include "protocol/rtcp/Rtcp.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

using namespace sfu::rtcp;

namespace {

volatile uint64_t gSink;

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void mix(uint64_t v) {
    gSink = gSink * 31 + v;
}

// Writes each entry back out and mixes the octets, so every read is used.
template <typename Codec>
void mixItems(const ItemRange<Codec>& range) {
    uint8_t tmp[Codec::kSize];
    for (const auto item : range) {
        Codec::write(tmp, item);
        for (const uint8_t byte : tmp) {
            mix(byte);
        }
    }
}

void readViews(const PacketView& pkt) {
    mix(pkt.type() + pkt.count() + pkt.paddingSize());
    if (const auto sr = SenderReportView::parse(pkt)) {
        const SenderInfo info = sr->senderInfo();
        mix(sr->ssrc() + info.ntp + info.rtpTimestamp + info.packetCount + info.octetCount);
        for (const ReportBlock b : sr->reportBlocks()) {
            mix(b.ssrc + b.fractionLost + static_cast<uint64_t>(b.totalLost) + b.highestSeq +
                b.jitter + b.lastSr + b.delaySinceLastSr);
        }
        for (const uint8_t byte : sr->extension()) {
            mix(byte);
        }
    }
    if (const auto rr = ReceiverReportView::parse(pkt)) {
        mix(rr->ssrc());
        for (const ReportBlock b : rr->reportBlocks()) {
            mix(b.ssrc + b.highestSeq + b.jitter);
        }
        for (const uint8_t byte : rr->extension()) {
            mix(byte);
        }
    }
    if (const auto sdes = SdesView::parse(pkt)) {
        size_t chunks = 0;
        for (const SdesChunkView c : *sdes) {
            ++chunks;
            mix(c.ssrc() + c.size());
            for (const SdesItemView item : c) {
                mix(item.type);
                for (const char ch : item.value) {
                    mix(static_cast<uint8_t>(ch));
                }
            }
            if (const auto cname = c.cname()) {
                mix(cname->size());
            }
        }
        check(chunks == sdes->chunkCount());
    }
    if (const auto bye = ByeView::parse(pkt)) {
        for (const uint32_t s : bye->ssrcs()) {
            mix(s);
        }
        if (const auto reason = bye->reason()) {
            for (const char ch : *reason) {
                mix(static_cast<uint8_t>(ch));
            }
        }
    }
    if (const auto app = AppView::parse(pkt)) {
        mix(app->subtype() + app->ssrc());
        for (const char ch : app->name()) {
            mix(static_cast<uint8_t>(ch));
        }
        for (const uint8_t byte : app->data()) {
            mix(byte);
        }
    }
    if (const auto xr = XrView::parse(pkt)) {
        mix(xr->ssrc());
        for (const XrBlockView b : *xr) {
            mix(b.type + b.typeSpecific + b.body.size());
            for (const uint8_t byte : b.body) {
                mix(byte);
            }
            if (const auto ntp = b.rrt()) {
                mix(*ntp);
            }
            if (const auto items = b.dlrr()) {
                for (const DlrrItem d : *items) {
                    mix(d.ssrc + d.lastRr + d.delaySinceLastRr);
                }
            }
        }
    }
    if (const auto fb = FeedbackView::parse(pkt)) {
        mix(fb->senderSsrc() + fb->mediaSsrc() + fb->fmt());
        for (const uint8_t byte : fb->fci()) {
            mix(byte);
        }
    }
    auto items = [](const auto& view) {
        if (view) {
            mix(view->senderSsrc() + view->mediaSsrc());
            mixItems(view->items());
        }
    };
    items(NackView::parse(pkt));
    items(TmmbrView::parse(pkt));
    items(TmmbnView::parse(pkt));
    items(TlleiView::parse(pkt));
    items(EcnView::parse(pkt));
    items(SliView::parse(pkt));
    items(FirView::parse(pkt));
    items(TstrView::parse(pkt));
    items(TstnView::parse(pkt));
    items(PsLeiView::parse(pkt));
    if (const auto nack = NackView::parse(pkt)) {
        size_t n = 0;
        for (const NackItem item : nack->items()) {
            forEachNacked(item, [&](uint16_t s) {
                mix(s);
                ++n;
            });
            mix(item.packetCount());
        }
        const auto seqs = expandNack(nack->items());
        check(seqs.size() == n);
        // Compressing what was asked for covers exactly the same numbers.
        auto again = expandNack(std::span<const NackItem>(compressNack(seqs)));
        auto want = seqs;
        std::sort(want.begin(), want.end());
        want.erase(std::unique(want.begin(), want.end()), want.end());
        std::sort(again.begin(), again.end());
        again.erase(std::unique(again.begin(), again.end()), again.end());
        check(want == again);
    }
    if (const auto pli = PliView::parse(pkt)) {
        mix(pli->senderSsrc() + pli->mediaSsrc());
    }
    if (const auto req = SrReqView::parse(pkt)) {
        mix(req->senderSsrc());
    }
    if (const auto remb = RembView::parse(pkt)) {
        mix(remb->bitrate() + remb->exp() + remb->mantissa());
        for (const uint32_t s : remb->ssrcs()) {
            mix(s);
        }
    }
    if (const auto rpsi = RpsiView::parse(pkt)) {
        mix(rpsi->paddingBits() + rpsi->payloadType() + rpsi->bitLength());
    }
    if (const auto vbcm = VbcmView::parse(pkt)) {
        for (const VbcmItemView item : *vbcm) {
            mix(item.ssrc + item.seq + item.payloadType);
            for (const uint8_t byte : item.data) {
                mix(byte);
            }
        }
    }
    if (const auto tcc = TransportCcView::parse(pkt)) {
        size_t n = 0;
        size_t received = 0;
        for (const TccPacket p : *tcc) {
            check(p.seq == static_cast<uint16_t>(tcc->baseSeq() + n));
            mix(p.seq + static_cast<uint64_t>(p.arrivalUs) + static_cast<uint64_t>(p.delta));
            received += p.received() ? 1 : 0;
            ++n;
        }
        check(n == tcc->statusCount());
        check(received == tcc->receivedCount());
    }
}

// decode, serialize, decode again: same value; serialize again: same bytes.
void checkRebuild(const PacketView& pkt) {
    const auto first = decode(pkt);
    if (!first) {
        return;
    }
    const size_t size = packetSize(*first);
    std::vector<uint8_t> b1(size + 1);
    const size_t n1 = serialize(*first, b1.data(), b1.size());
    if (n1 == 0) {
        return; // not representable (e.g. a padded body that is not whole words)
    }
    check(n1 == size);
    b1.resize(n1);
    const auto view = PacketView::parse(b1.data(), b1.size());
    check(view && view->size() == n1);
    const auto second = decode(*view);
    check(second.has_value());
    check(second->index() == first->index());
    if (const auto* t1 = std::get_if<TransportCc>(&*first)) {
        // Statuses and arrival times survive; the encoding may be canonicalized.
        const auto& t2 = std::get<TransportCc>(*second);
        check(t1->packets.size() == t2.packets.size());
        for (size_t i = 0; i < t1->packets.size(); ++i) {
            check(t1->packets[i].seq == t2.packets[i].seq);
            check(t1->packets[i].received() == t2.packets[i].received());
            check(t1->packets[i].arrivalUs == t2.packets[i].arrivalUs);
        }
    } else if (const auto* r1 = std::get_if<Rpsi>(&*first)) {
        // Zero octets may have been appended to reach 32 bits.
        const auto& r2 = std::get<Rpsi>(*second);
        check(r2.bitString.size() >= r1->bitString.size());
        check(std::equal(r1->bitString.begin(), r1->bitString.end(), r2.bitString.begin()));
    } else {
        check(*second == *first);
    }
    std::vector<uint8_t> b2(n1);
    check(serialize(*second, b2.data(), b2.size()) == n1);
    check(b1 == b2);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const CompoundView compound(data, size);
    size_t offset = 0;
    size_t count = 0;
    for (const PacketView pkt : compound) {
        check(pkt.data() == data + offset);
        check(pkt.size() >= kHeaderSize && pkt.size() <= size - offset);
        check(pkt.bodySize() + kHeaderSize + pkt.paddingSize() == pkt.size());
        offset += pkt.size();
        ++count;
        readViews(pkt);
        checkRebuild(pkt);
    }
    check(compound.validSize() == offset);
    check(compound.packetCount() == count);
    // The items by SSRC, as transports route them: each names a stream, and
    // at most every packet is skipped.
    size_t items = 0;
    const size_t skipped = forEachAddressedItem(compound, [&](const AddressedItem& item) {
        mix(item.ssrc);
        mix(item.aboutReceivedStream());
        ++items;
    });
    check(skipped <= count);
    mix(items);
    check(compound.valid() == (size > 0 && offset == size));
    const auto all = decodeCompound(data, size);
    if (all) {
        check(compound.valid() && all->size() == count);
        // The whole compound rebuilds through the writer.
        std::vector<uint8_t> out(size * 2 + 64);
        CompoundWriter w(out.data(), out.size());
        for (const Packet& p : *all) {
            w.add(p);
        }
        mix(w.size());
    }
    return 0;
}
