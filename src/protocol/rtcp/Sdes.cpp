#include "protocol/rtcp/Sdes.hpp"

#include <cstring>

namespace sfu::rtcp {

namespace {

// Octets of null terminator plus padding after `itemBytes` of items: at least
// one, up to the next 32-bit boundary (the SSRC keeps items word aligned).
constexpr size_t terminatorSize(size_t itemBytes) {
    return 4 - (itemBytes & 3);
}

} // namespace

SdesChunkView::Iterator& SdesChunkView::Iterator::operator++() {
    p_ += 2 + size_t{p_[1]};
    if (*p_ == 0) {
        p_ = nullptr;
    }
    return *this;
}

std::optional<std::string_view> SdesChunkView::find(SdesType type) const {
    for (const SdesItemView item : *this) {
        if (item.type == static_cast<uint8_t>(type)) {
            return item.value;
        }
    }
    return std::nullopt;
}

size_t SdesView::chunkSize(const uint8_t* p, size_t avail) {
    if (avail < 8) {
        return 0;
    }
    size_t off = 4;
    while (off < avail) {
        if (p[off] == 0) {
            const size_t size = off + terminatorSize(off - 4);
            return size <= avail ? size : 0;
        }
        if (off + 2 > avail) {
            return 0;
        }
        const size_t next = off + 2 + size_t{p[off + 1]};
        if (next > avail) {
            return 0;
        }
        off = next;
    }
    return 0; // no terminator before the end of the body
}

SdesView::Iterator::Iterator(const uint8_t* p, size_t left, size_t chunks)
    : p_(p), left_(left), chunks_(chunks) {
    load();
}

void SdesView::Iterator::load() {
    chunkSize_ = chunks_ > 0 ? SdesView::chunkSize(p_, left_) : 0;
    if (chunkSize_ == 0) {
        chunks_ = 0;
    }
}

SdesView::Iterator& SdesView::Iterator::operator++() {
    p_ += chunkSize_;
    left_ -= chunkSize_;
    --chunks_;
    load();
    return *this;
}

std::optional<SdesView> SdesView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::SDES)) {
        return std::nullopt;
    }
    const uint8_t* p = pkt.body();
    size_t left = pkt.bodySize();
    for (size_t i = 0; i < pkt.count(); ++i) {
        const size_t size = chunkSize(p, left);
        if (size == 0) {
            return std::nullopt;
        }
        p += size;
        left -= size;
    }
    return SdesView(pkt);
}

size_t SdesChunk::size() const {
    size_t itemBytes = 0;
    for (const SdesItem& item : items) {
        itemBytes += 2 + item.value.size();
    }
    return 4 + itemBytes + terminatorSize(itemBytes);
}

size_t Sdes::size() const {
    size_t size = kHeaderSize;
    for (const SdesChunk& c : chunks) {
        size += c.size();
    }
    return size;
}

Sdes Sdes::from(const SdesView& v) {
    Sdes s;
    s.chunks.reserve(v.chunkCount());
    for (const SdesChunkView c : v) {
        SdesChunk chunk;
        chunk.ssrc = c.ssrc();
        for (const SdesItemView item : c) {
            chunk.items.push_back({item.type, std::string(item.value)});
        }
        s.chunks.push_back(std::move(chunk));
    }
    return s;
}

size_t Sdes::serialize(uint8_t* out, size_t cap) const {
    if (chunks.size() > kMaxCount) {
        return 0;
    }
    for (const SdesChunk& c : chunks) {
        for (const SdesItem& item : c.items) {
            if (item.value.size() > 255 || item.type == 0) {
                return 0;
            }
        }
    }
    const size_t total = size();
    if (out == nullptr || total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, static_cast<uint8_t>(chunks.size()),
                        static_cast<uint8_t>(PacketType::SDES), total);
    uint8_t* p = out + kHeaderSize;
    for (const SdesChunk& c : chunks) {
        bytes::set32(p, c.ssrc);
        p += 4;
        size_t itemBytes = 0;
        for (const SdesItem& item : c.items) {
            p[0] = item.type;
            p[1] = static_cast<uint8_t>(item.value.size());
            if (!item.value.empty()) {
                std::memcpy(p + 2, item.value.data(), item.value.size());
            }
            p += 2 + item.value.size();
            itemBytes += 2 + item.value.size();
        }
        const size_t term = terminatorSize(itemBytes);
        std::memset(p, 0, term);
        p += term;
    }
    return total;
}

size_t writeSdesCname(uint32_t ssrc, std::string_view cname, uint8_t* out, size_t cap) {
    if (cname.size() > 255) {
        return 0;
    }
    const size_t itemBytes = 2 + cname.size();
    const size_t total = kHeaderSize + 4 + itemBytes + terminatorSize(itemBytes);
    if (out == nullptr || total > cap) {
        return 0;
    }
    detail::writeHeader(out, 1, static_cast<uint8_t>(PacketType::SDES), total);
    bytes::set32(out + 4, ssrc);
    out[8] = static_cast<uint8_t>(SdesType::Cname);
    out[9] = static_cast<uint8_t>(cname.size());
    if (!cname.empty()) {
        std::memcpy(out + 10, cname.data(), cname.size());
    }
    std::memset(out + 10 + cname.size(), 0, total - 10 - cname.size());
    return total;
}

} // namespace sfu::rtcp
