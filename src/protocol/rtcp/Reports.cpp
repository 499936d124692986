#include "protocol/rtcp/Reports.hpp"

#include <algorithm>
#include <cstring>

namespace sfu::rtcp {

ReportBlock ReportBlock::read(const uint8_t* p) {
    ReportBlock b;
    b.ssrc = bytes::get32(p);
    b.fractionLost = p[4];
    const uint32_t lost = bytes::get24(p + 5);
    // Sign-extend the 24-bit field.
    b.totalLost = static_cast<int32_t>(lost << 8) >> 8;
    b.highestSeq = bytes::get32(p + 8);
    b.jitter = bytes::get32(p + 12);
    b.lastSr = bytes::get32(p + 16);
    b.delaySinceLastSr = bytes::get32(p + 20);
    return b;
}

void ReportBlock::write(uint8_t* p, const ReportBlock& b) {
    bytes::set32(p, b.ssrc);
    p[4] = b.fractionLost;
    const int32_t lost = std::clamp<int32_t>(b.totalLost, -0x800000, 0x7FFFFF);
    bytes::set24(p + 5, static_cast<uint32_t>(lost) & 0xFFFFFF);
    bytes::set32(p + 8, b.highestSeq);
    bytes::set32(p + 12, b.jitter);
    bytes::set32(p + 16, b.lastSr);
    bytes::set32(p + 20, b.delaySinceLastSr);
}

namespace {

bool blocksFit(const PacketView& pkt, size_t fixed) {
    return pkt.bodySize() >= fixed + size_t{pkt.count()} * ReportBlock::kSize;
}

std::span<const uint8_t> tail(const PacketView& pkt, size_t fixed) {
    const size_t used = fixed + size_t{pkt.count()} * ReportBlock::kSize;
    return {pkt.body() + used, pkt.bodySize() - used};
}

size_t writeReport(PacketType type, uint32_t ssrc, const SenderInfo* info,
                   std::span<const ReportBlock> blocks, std::span<const uint8_t> extension,
                   uint8_t* out, size_t cap) {
    if (blocks.size() > kMaxCount || extension.size() % 4 != 0) {
        return 0;
    }
    const size_t fixed = info != nullptr ? SenderReportView::kMinBodySize : 4;
    const size_t size = kHeaderSize + fixed + blocks.size() * ReportBlock::kSize + extension.size();
    if (out == nullptr || size > cap || size > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, static_cast<uint8_t>(blocks.size()), static_cast<uint8_t>(type), size);
    uint8_t* p = out + kHeaderSize;
    bytes::set32(p, ssrc);
    p += 4;
    if (info != nullptr) {
        bytes::set64(p, info->ntp);
        bytes::set32(p + 8, info->rtpTimestamp);
        bytes::set32(p + 12, info->packetCount);
        bytes::set32(p + 16, info->octetCount);
        p += 20;
    }
    for (const ReportBlock& b : blocks) {
        ReportBlock::write(p, b);
        p += ReportBlock::kSize;
    }
    if (!extension.empty()) {
        std::memcpy(p, extension.data(), extension.size());
    }
    return size;
}

} // namespace

std::optional<SenderReportView> SenderReportView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::SR) || !blocksFit(pkt, kMinBodySize)) {
        return std::nullopt;
    }
    return SenderReportView(pkt);
}

SenderInfo SenderReportView::senderInfo() const {
    const uint8_t* p = pkt_.body() + 4;
    SenderInfo info;
    info.ntp = bytes::get64(p);
    info.rtpTimestamp = bytes::get32(p + 8);
    info.packetCount = bytes::get32(p + 12);
    info.octetCount = bytes::get32(p + 16);
    return info;
}

std::span<const uint8_t> SenderReportView::extension() const {
    return tail(pkt_, kMinBodySize);
}

std::optional<ReceiverReportView> ReceiverReportView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::RR) || !blocksFit(pkt, kMinBodySize)) {
        return std::nullopt;
    }
    return ReceiverReportView(pkt);
}

std::span<const uint8_t> ReceiverReportView::extension() const {
    return tail(pkt_, kMinBodySize);
}

size_t writeSenderReport(uint32_t ssrc, const SenderInfo& info, std::span<const ReportBlock> blocks,
                         uint8_t* out, size_t cap, std::span<const uint8_t> extension) {
    return writeReport(PacketType::SR, ssrc, &info, blocks, extension, out, cap);
}

size_t writeReceiverReport(uint32_t ssrc, std::span<const ReportBlock> blocks, uint8_t* out,
                           size_t cap, std::span<const uint8_t> extension) {
    return writeReport(PacketType::RR, ssrc, nullptr, blocks, extension, out, cap);
}

SenderReport SenderReport::from(const SenderReportView& v) {
    SenderReport r;
    r.ssrc = v.ssrc();
    r.info = v.senderInfo();
    const auto blocks = v.reportBlocks();
    r.reportBlocks.assign(blocks.begin(), blocks.end());
    const auto ext = v.extension();
    r.extension.assign(ext.begin(), ext.end());
    return r;
}

ReceiverReport ReceiverReport::from(const ReceiverReportView& v) {
    ReceiverReport r;
    r.ssrc = v.ssrc();
    const auto blocks = v.reportBlocks();
    r.reportBlocks.assign(blocks.begin(), blocks.end());
    const auto ext = v.extension();
    r.extension.assign(ext.begin(), ext.end());
    return r;
}

} // namespace sfu::rtcp
