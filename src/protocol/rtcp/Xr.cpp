#include "protocol/rtcp/Xr.hpp"

#include <cstring>

namespace sfu::rtcp {

namespace {

constexpr size_t kBlockHeaderSize = 4;

// Size of the block at `p`, header included, or 0 when it overruns `left`.
size_t blockSize(const uint8_t* p, size_t left) {
    if (left < kBlockHeaderSize) {
        return 0;
    }
    const size_t size = kBlockHeaderSize + size_t{bytes::get16(p + 2)} * 4;
    return size <= left ? size : 0;
}

size_t blockSize(const XrBlock& b) {
    if (std::holds_alternative<XrRrt>(b)) {
        return kBlockHeaderSize + 8;
    }
    if (const auto* d = std::get_if<XrDlrr>(&b)) {
        return kBlockHeaderSize + d->items.size() * DlrrItem::kSize;
    }
    return kBlockHeaderSize + std::get<XrRawBlock>(b).body.size();
}

void writeBlockHeader(uint8_t* p, uint8_t type, uint8_t typeSpecific, size_t bodySize) {
    p[0] = type;
    p[1] = typeSpecific;
    bytes::set16(p + 2, static_cast<uint16_t>(bodySize / 4));
}

} // namespace

std::optional<uint64_t> XrBlockView::rrt() const {
    if (type != static_cast<uint8_t>(XrBlockType::Rrt) || body.size() != 8) {
        return std::nullopt;
    }
    return bytes::get64(body.data());
}

std::optional<ItemRange<DlrrItem>> XrBlockView::dlrr() const {
    if (type != static_cast<uint8_t>(XrBlockType::Dlrr) || body.size() % DlrrItem::kSize != 0) {
        return std::nullopt;
    }
    return ItemRange<DlrrItem>(body.data(), body.size() / DlrrItem::kSize);
}

XrBlockView XrView::Iterator::operator*() const {
    const size_t size = blockSize(p_, left_);
    return {p_[0], p_[1], {p_ + kBlockHeaderSize, size - kBlockHeaderSize}};
}

XrView::Iterator& XrView::Iterator::operator++() {
    const size_t size = blockSize(p_, left_);
    p_ += size;
    left_ -= size;
    if (left_ == 0) {
        p_ = nullptr;
    }
    return *this;
}

std::optional<XrView> XrView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::XR) || pkt.bodySize() < 4) {
        return std::nullopt;
    }
    const uint8_t* p = pkt.body() + 4;
    size_t left = pkt.bodySize() - 4;
    while (left > 0) {
        const size_t size = blockSize(p, left);
        if (size == 0) {
            return std::nullopt;
        }
        p += size;
        left -= size;
    }
    return XrView(pkt);
}

Xr Xr::from(const XrView& v) {
    Xr xr;
    xr.ssrc = v.ssrc();
    for (const XrBlockView b : v) {
        // Reserved bits that are set would be lost by the typed forms, so such
        // blocks stay raw.
        if (b.typeSpecific == 0) {
            if (const auto ntp = b.rrt()) {
                xr.blocks.emplace_back(XrRrt{*ntp});
                continue;
            }
            if (const auto items = b.dlrr()) {
                xr.blocks.emplace_back(XrDlrr{{items->begin(), items->end()}});
                continue;
            }
        }
        xr.blocks.emplace_back(XrRawBlock{b.type, b.typeSpecific, {b.body.begin(), b.body.end()}});
    }
    return xr;
}

size_t Xr::size() const {
    size_t size = kHeaderSize + 4;
    for (const XrBlock& b : blocks) {
        size += blockSize(b);
    }
    return size;
}

size_t Xr::serialize(uint8_t* out, size_t cap) const {
    for (const XrBlock& b : blocks) {
        const size_t body = blockSize(b) - kBlockHeaderSize;
        if (body % 4 != 0 || body / 4 > 0xFFFF) {
            return 0;
        }
    }
    const size_t total = size();
    if (out == nullptr || total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, 0, static_cast<uint8_t>(PacketType::XR), total);
    bytes::set32(out + 4, ssrc);
    uint8_t* p = out + 8;
    for (const XrBlock& b : blocks) {
        const size_t body = blockSize(b) - kBlockHeaderSize;
        if (const auto* rrt = std::get_if<XrRrt>(&b)) {
            writeBlockHeader(p, static_cast<uint8_t>(XrBlockType::Rrt), 0, body);
            bytes::set64(p + kBlockHeaderSize, rrt->ntp);
        } else if (const auto* dlrr = std::get_if<XrDlrr>(&b)) {
            writeBlockHeader(p, static_cast<uint8_t>(XrBlockType::Dlrr), 0, body);
            uint8_t* q = p + kBlockHeaderSize;
            for (const DlrrItem& item : dlrr->items) {
                DlrrItem::write(q, item);
                q += DlrrItem::kSize;
            }
        } else {
            const auto& raw = std::get<XrRawBlock>(b);
            writeBlockHeader(p, raw.type, raw.typeSpecific, body);
            if (!raw.body.empty()) {
                std::memcpy(p + kBlockHeaderSize, raw.body.data(), raw.body.size());
            }
        }
        p += kBlockHeaderSize + body;
    }
    return total;
}

size_t writeXrRrt(uint32_t ssrc, uint64_t ntp, uint8_t* out, size_t cap) {
    constexpr size_t total = kHeaderSize + 4 + kBlockHeaderSize + 8;
    if (out == nullptr || total > cap) {
        return 0;
    }
    detail::writeHeader(out, 0, static_cast<uint8_t>(PacketType::XR), total);
    bytes::set32(out + 4, ssrc);
    writeBlockHeader(out + 8, static_cast<uint8_t>(XrBlockType::Rrt), 0, 8);
    bytes::set64(out + 12, ntp);
    return total;
}

size_t writeXrDlrr(uint32_t ssrc, std::span<const DlrrItem> items, uint8_t* out, size_t cap) {
    const size_t body = items.size() * DlrrItem::kSize;
    const size_t total = kHeaderSize + 4 + kBlockHeaderSize + body;
    if (out == nullptr || total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, 0, static_cast<uint8_t>(PacketType::XR), total);
    bytes::set32(out + 4, ssrc);
    writeBlockHeader(out + 8, static_cast<uint8_t>(XrBlockType::Dlrr), 0, body);
    uint8_t* p = out + 12;
    for (const DlrrItem& item : items) {
        DlrrItem::write(p, item);
        p += DlrrItem::kSize;
    }
    return total;
}

} // namespace sfu::rtcp
