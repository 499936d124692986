// Helpers shared by the RTCP tests: word-grouped hex, serializing, and a
// walker that reads every field of every packet the way a receiver would.
#pragma once

#include "TestUtil.hpp"
#include "protocol/rtcp/Rtcp.hpp"

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace sfu::rtcp::test {

using sfu::test::fromHex;

// RTCP is laid out in 32-bit words, so expectations are written a word at a
// time.
inline std::string toHex(const uint8_t* data, size_t size) {
    return sfu::test::toHex(data, size, 4);
}

inline std::string toHex(const std::vector<uint8_t>& bytes) {
    return toHex(bytes.data(), bytes.size());
}

// Serializes into an exactly sized vector (empty when serialize() refuses).
template <typename P>
std::vector<uint8_t> bytesOf(const P& p) {
    std::vector<uint8_t> out(8192);
    size_t n;
    if constexpr (std::is_same_v<P, Packet>) {
        n = serialize(p, out.data(), out.size());
    } else {
        n = p.serialize(out.data(), out.size());
    }
    out.resize(n);
    return out;
}

// Reads every field through the views; returns a checksum so nothing is
// optimized away. Must be safe on any input.
inline uint64_t walkEverything(const uint8_t* data, size_t len) {
    uint64_t sum = 0;
    auto mix = [&](uint64_t v) { sum = sum * 1099511628211ULL + v; };
    for (const PacketView pkt : CompoundView(data, len)) {
        mix(pkt.type());
        mix(pkt.count());
        if (const auto sr = SenderReportView::parse(pkt)) {
            mix(sr->ssrc());
            mix(sr->senderInfo().ntp);
            for (const ReportBlock b : sr->reportBlocks()) {
                mix(b.ssrc + static_cast<uint64_t>(b.totalLost) + b.highestSeq + b.jitter);
            }
            mix(sr->extension().size());
        }
        if (const auto rr = ReceiverReportView::parse(pkt)) {
            for (const ReportBlock b : rr->reportBlocks()) {
                mix(b.lastSr + b.delaySinceLastSr + b.fractionLost);
            }
        }
        if (const auto sdes = SdesView::parse(pkt)) {
            for (const SdesChunkView c : *sdes) {
                mix(c.ssrc());
                for (const SdesItemView item : c) {
                    mix(item.type);
                    for (const char ch : item.value) {
                        mix(static_cast<uint8_t>(ch));
                    }
                }
            }
        }
        if (const auto bye = ByeView::parse(pkt)) {
            for (const uint32_t s : bye->ssrcs()) {
                mix(s);
            }
            if (const auto r = bye->reason()) {
                mix(r->size());
            }
        }
        if (const auto app = AppView::parse(pkt)) {
            mix(app->name()[3]);
            mix(app->data().size());
        }
        if (const auto xr = XrView::parse(pkt)) {
            for (const XrBlockView b : *xr) {
                mix(b.type);
                if (const auto ntp = b.rrt()) {
                    mix(*ntp);
                }
                if (const auto items = b.dlrr()) {
                    for (const DlrrItem d : *items) {
                        mix(d.ssrc + d.lastRr);
                    }
                }
            }
        }
        if (const auto fb = FeedbackView::parse(pkt)) {
            mix(fb->senderSsrc());
            mix(fb->mediaSsrc());
        }
        if (const auto nack = NackView::parse(pkt)) {
            for (const NackItem item : nack->items()) {
                forEachNacked(item, [&](uint16_t s) { mix(s); });
            }
        }
        if (const auto tcc = TransportCcView::parse(pkt)) {
            for (const TccPacket p : *tcc) {
                mix(p.seq);
                mix(static_cast<uint64_t>(p.arrivalUs));
            }
        }
        if (const auto remb = RembView::parse(pkt)) {
            mix(remb->bitrate());
            for (const uint32_t s : remb->ssrcs()) {
                mix(s);
            }
        }
        if (const auto fir = FirView::parse(pkt)) {
            for (const FirItem item : fir->items()) {
                mix(item.seq);
            }
        }
        if (const auto vbcm = VbcmView::parse(pkt)) {
            for (const VbcmItemView item : *vbcm) {
                mix(item.data.size());
            }
        }
        if (const auto rpsi = RpsiView::parse(pkt)) {
            mix(rpsi->bitLength());
        }
        if (const auto p = decode(pkt)) {
            mix(packetSize(*p));
        }
    }
    return sum;
}

} // namespace sfu::rtcp::test
