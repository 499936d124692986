// A compound read as what its items say about which stream: each sender
// report, report block, NACK, PLI, FIR entry and DLRR answer comes out with
// the SSRC of the stream it concerns (as Pion's DestinationSSRC() does), and
// whether that is a stream the reader sends or one it receives. A receiver
// routes every item through one SSRC table instead of a switch per packet
// type of its own. Nothing is allocated; the views point into the compound.
#pragma once

#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Xr.hpp"

#include <cstdint>
#include <variant>

namespace sfu::rtcp {

// The sender of a stream we receive reports on it.
struct SenderReportItem {
    SenderInfo info;
};
// The receiver of a stream we send asks for a key frame (PLI, or one FIR
// entry).
struct KeyFrameRequestItem {
    bool fir = false;
};
// The sender of a stream we receive answers our RRTR (RFC 3611 4.5).
struct DlrrAnswerItem {
    DlrrItem item;
};

struct AddressedItem {
    // The stream the item is about.
    uint32_t ssrc = 0;
    std::variant<SenderReportItem, ReportBlock, NackView, KeyFrameRequestItem, DlrrAnswerItem> body;

    // Whether the stream is one the reader of the compound receives (its
    // sender wrote the item), else one it sends (its receiver wrote it).
    bool aboutReceivedStream() const {
        return std::holds_alternative<SenderReportItem>(body) ||
               std::holds_alternative<DlrrAnswerItem>(body);
    }
};

// Calls `f(const AddressedItem&)` for every item of the well-formed packets of
// `compound`, in order. Packets that say nothing about one stream (SDES, BYE,
// APP, malformed ones...) are skipped. Returns how many packets were skipped.
template <typename F>
size_t forEachAddressedItem(const CompoundView& compound, F&& f);

// The items of one packet, as above; false when it had none.
template <typename F>
bool forEachAddressedItemOf(const PacketView& pkt, F&& f) {
    bool any = false;
    const auto emit = [&](uint32_t ssrc, auto body) {
        any = true;
        f(AddressedItem{ssrc, body});
    };
    switch (static_cast<PacketType>(pkt.type())) {
    case PacketType::SR:
        if (const auto sr = SenderReportView::parse(pkt)) {
            emit(sr->ssrc(), SenderReportItem{sr->senderInfo()});
            for (const ReportBlock block : sr->reportBlocks()) {
                emit(block.ssrc, block);
            }
        }
        break;
    case PacketType::RR:
        if (const auto rr = ReceiverReportView::parse(pkt)) {
            for (const ReportBlock block : rr->reportBlocks()) {
                emit(block.ssrc, block);
            }
        }
        break;
    case PacketType::RTPFB:
        if (const auto nack = NackView::parse(pkt)) {
            emit(nack->mediaSsrc(), *nack);
        }
        break;
    case PacketType::PSFB:
        if (const auto pli = PliView::parse(pkt)) {
            emit(pli->mediaSsrc(), KeyFrameRequestItem{false});
        } else if (const auto fir = FirView::parse(pkt)) {
            for (const FirItem item : fir->items()) {
                emit(item.ssrc, KeyFrameRequestItem{true});
            }
        }
        break;
    case PacketType::XR:
        if (const auto xr = XrView::parse(pkt)) {
            for (const XrBlockView block : *xr) {
                if (const auto dlrr = block.dlrr()) {
                    for (const DlrrItem item : *dlrr) {
                        emit(xr->ssrc(), DlrrAnswerItem{item});
                    }
                }
            }
        }
        break;
    default:
        break;
    }
    return any;
}

template <typename F>
size_t forEachAddressedItem(const CompoundView& compound, F&& f) {
    size_t skipped = 0;
    for (const PacketView pkt : compound) {
        if (!forEachAddressedItemOf(pkt, f)) {
            ++skipped;
        }
    }
    return skipped;
}

} // namespace sfu::rtcp
