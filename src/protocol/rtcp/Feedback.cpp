#include "protocol/rtcp/Feedback.hpp"

#include <cstring>
#include <limits>

namespace sfu::rtcp {

namespace {

constexpr uint8_t kRembId[4] = {'R', 'E', 'M', 'B'};
constexpr unsigned kRembMantissaBits = 18;
constexpr unsigned kTmmbMantissaBits = 17;

} // namespace

std::optional<FeedbackView> FeedbackView::parse(const PacketView& pkt) {
    if ((!pkt.is(PacketType::RTPFB) && !pkt.is(PacketType::PSFB)) || pkt.bodySize() < 8) {
        return std::nullopt;
    }
    return FeedbackView(pkt);
}

uint64_t decodeBitrate(uint8_t exp, uint32_t mantissa) {
    if (mantissa == 0) {
        return 0;
    }
    if (exp >= 64 || static_cast<unsigned>(std::bit_width(mantissa)) + exp > 64) {
        return std::numeric_limits<uint64_t>::max();
    }
    return uint64_t{mantissa} << exp;
}

std::pair<uint8_t, uint32_t> encodeBitrate(uint64_t bps, unsigned mantissaBits) {
    uint8_t exp = 0;
    while ((bps >> exp) >= (uint64_t{1} << mantissaBits)) {
        ++exp;
    }
    return {exp, static_cast<uint32_t>(bps >> exp)};
}

TmmbItem TmmbItem::make(uint32_t ssrc, uint64_t bps, uint16_t overhead) {
    const auto [exp, mantissa] = encodeBitrate(bps, kTmmbMantissaBits);
    return {ssrc, exp, mantissa, static_cast<uint16_t>(overhead & 0x1FF)};
}

TmmbItem TmmbItem::read(const uint8_t* p) {
    const uint32_t w = bytes::get32(p + 4);
    return {bytes::get32(p), static_cast<uint8_t>(w >> 26), (w >> 9) & 0x1FFFF,
            static_cast<uint16_t>(w & 0x1FF)};
}

void TmmbItem::write(uint8_t* p, const TmmbItem& i) {
    bytes::set32(p, i.ssrc);
    bytes::set32(p + 4, (uint32_t{i.exp & 0x3Fu} << 26) | ((i.mantissa & 0x1FFFF) << 9) |
                            (i.overhead & 0x1FFu));
}

SliItem SliItem::read(const uint8_t* p) {
    const uint32_t w = bytes::get32(p);
    return {static_cast<uint16_t>(w >> 19), static_cast<uint16_t>((w >> 6) & 0x1FFF),
            static_cast<uint8_t>(w & 0x3F)};
}

void SliItem::write(uint8_t* p, const SliItem& i) {
    bytes::set32(p, (uint32_t{i.first & 0x1FFFu} << 19) | (uint32_t{i.number & 0x1FFFu} << 6) |
                        (i.pictureId & 0x3Fu));
}

EcnItem EcnItem::read(const uint8_t* p) {
    return {bytes::get32(p),      bytes::get32(p + 4),  bytes::get32(p + 8), bytes::get16(p + 12),
            bytes::get16(p + 14), bytes::get16(p + 16), bytes::get16(p + 18)};
}

void EcnItem::write(uint8_t* p, const EcnItem& i) {
    bytes::set32(p, i.extHighestSeq);
    bytes::set32(p + 4, i.ect0);
    bytes::set32(p + 8, i.ect1);
    bytes::set16(p + 12, i.ecnCe);
    bytes::set16(p + 14, i.notEct);
    bytes::set16(p + 16, i.lost);
    bytes::set16(p + 18, i.duplicates);
}

// ---- NACK ---------------------------------------------------------------------

size_t compressNack(std::span<const uint16_t> seqs, std::span<NackItem> out) {
    size_t n = 0;
    for (const uint16_t seq : seqs) {
        if (n > 0) {
            NackItem& last = out[n - 1];
            const uint16_t d = static_cast<uint16_t>(seq - last.pid);
            if (d == 0) {
                continue;
            }
            if (d <= 16) {
                last.blp = static_cast<uint16_t>(last.blp | (1U << (d - 1)));
                continue;
            }
        }
        if (n == out.size()) {
            break;
        }
        out[n++] = {seq, 0};
    }
    return n;
}

std::vector<NackItem> compressNack(std::span<const uint16_t> seqs) {
    std::vector<NackItem> items(seqs.size());
    items.resize(compressNack(seqs, items));
    return items;
}

// ---- REMB / AFB -------------------------------------------------------------------

std::optional<RembView> RembView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::PSFB) || pkt.count() != fmtOf(PsfbFmt::Afb)) {
        return std::nullopt;
    }
    const auto fb = FeedbackView::parse(pkt);
    if (!fb) {
        return std::nullopt;
    }
    const auto fci = fb->fci();
    if (fci.size() < 8 || std::memcmp(fci.data(), kRembId, 4) != 0 ||
        fci.size() != 8 + size_t{fci[4]} * 4) {
        return std::nullopt;
    }
    return RembView(*fb);
}

namespace {

size_t writeRembFields(uint32_t sender, uint32_t media, uint8_t exp, uint32_t mantissa,
                       std::span<const uint32_t> ssrcs, uint8_t* out, size_t cap) {
    const size_t size = kFeedbackHeaderSize + 8 + ssrcs.size() * 4;
    if (ssrcs.size() > 255 || exp > 63 || mantissa >= (1U << kRembMantissaBits) || out == nullptr ||
        size > cap) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PacketType::PSFB, fmtOf(PsfbFmt::Afb), sender, media, size);
    uint8_t* p = out + kFeedbackHeaderSize;
    std::memcpy(p, kRembId, 4);
    p[4] = static_cast<uint8_t>(ssrcs.size());
    bytes::set24(p + 5, (uint32_t{exp} << 18) | mantissa);
    p += 8;
    for (const uint32_t ssrc : ssrcs) {
        bytes::set32(p, ssrc);
        p += 4;
    }
    return size;
}

} // namespace

size_t writeRemb(uint32_t sender, uint64_t bps, std::span<const uint32_t> ssrcs, uint8_t* out,
                 size_t cap) {
    const auto [exp, mantissa] = encodeBitrate(bps, kRembMantissaBits);
    // The draft sets the media source SSRC of a REMB to 0.
    return writeRembFields(sender, 0, exp, mantissa, ssrcs, out, cap);
}

Remb Remb::make(uint32_t sender, uint64_t bps, std::vector<uint32_t> ssrcs) {
    const auto [exp, mantissa] = encodeBitrate(bps, kRembMantissaBits);
    return {sender, 0, exp, mantissa, std::move(ssrcs)};
}

Remb Remb::from(const RembView& v) {
    const auto ssrcs = v.ssrcs();
    return {v.senderSsrc(), v.mediaSsrc(), v.exp(), v.mantissa(), {ssrcs.begin(), ssrcs.end()}};
}

size_t Remb::serialize(uint8_t* out, size_t cap) const {
    return writeRembFields(senderSsrc, mediaSsrc, exp, mantissa, ssrcs, out, cap);
}

Afb Afb::from(const FeedbackView& v) {
    const auto fci = v.fci();
    return {v.senderSsrc(), v.mediaSsrc(), {fci.begin(), fci.end()}};
}

size_t Afb::serialize(uint8_t* out, size_t cap) const {
    const size_t total = size();
    if (data.size() % 4 != 0 || out == nullptr || total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PacketType::PSFB, fmtOf(PsfbFmt::Afb), senderSsrc, mediaSsrc,
                                total);
    if (!data.empty()) {
        std::memcpy(out + kFeedbackHeaderSize, data.data(), data.size());
    }
    return total;
}

// ---- RPSI ---------------------------------------------------------------------------

std::optional<RpsiView> RpsiView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::PSFB) || pkt.count() != fmtOf(PsfbFmt::Rpsi)) {
        return std::nullopt;
    }
    const auto fb = FeedbackView::parse(pkt);
    if (!fb || fb->fci().size() < 2 || size_t{fb->fci()[0]} > (fb->fci().size() - 2) * 8) {
        return std::nullopt;
    }
    return RpsiView(*fb);
}

Rpsi Rpsi::from(const RpsiView& v) {
    const auto bits = v.bitString();
    return {v.senderSsrc(),
            v.mediaSsrc(),
            v.paddingBits(),
            v.payloadType(),
            {bits.begin(), bits.end()}};
}

size_t Rpsi::size() const {
    const size_t fci = 2 + bitString.size();
    return kFeedbackHeaderSize + fci + bytes::padTo4(fci);
}

size_t Rpsi::serialize(uint8_t* out, size_t cap) const {
    const size_t total = size();
    if (payloadType > 127 || size_t{paddingBits} > bitString.size() * 8 || out == nullptr ||
        total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PacketType::PSFB, fmtOf(PsfbFmt::Rpsi), senderSsrc, mediaSsrc,
                                total);
    uint8_t* p = out + kFeedbackHeaderSize;
    p[0] = paddingBits;
    p[1] = payloadType;
    if (!bitString.empty()) {
        std::memcpy(p + 2, bitString.data(), bitString.size());
    }
    const size_t used = kFeedbackHeaderSize + 2 + bitString.size();
    std::memset(out + used, 0, total - used);
    return total;
}

// ---- VBCM ---------------------------------------------------------------------------

size_t VbcmView::entrySize(const uint8_t* p, size_t left) {
    if (left < 8) {
        return 0;
    }
    const size_t len = bytes::get16(p + 6);
    const size_t size = 8 + len + bytes::padTo4(len);
    return size <= left ? size : 0;
}

VbcmItemView VbcmView::Iterator::operator*() const {
    return {bytes::get32(p_),
            p_[4],
            static_cast<uint8_t>(p_[5] & 0x7F),
            {p_ + 8, bytes::get16(p_ + 6)}};
}

VbcmView::Iterator& VbcmView::Iterator::operator++() {
    const size_t size = entrySize(p_, left_);
    p_ += size;
    left_ -= size;
    if (left_ == 0) {
        p_ = nullptr;
    }
    return *this;
}

std::optional<VbcmView> VbcmView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::PSFB) || pkt.count() != fmtOf(PsfbFmt::Vbcm)) {
        return std::nullopt;
    }
    const auto fb = FeedbackView::parse(pkt);
    if (!fb) {
        return std::nullopt;
    }
    const uint8_t* p = fb->fci().data();
    size_t left = fb->fci().size();
    while (left > 0) {
        const size_t size = entrySize(p, left);
        if (size == 0) {
            return std::nullopt;
        }
        p += size;
        left -= size;
    }
    return VbcmView(*fb);
}

Vbcm Vbcm::from(const VbcmView& v) {
    Vbcm m{v.senderSsrc(), v.mediaSsrc(), {}};
    for (const VbcmItemView item : v) {
        m.items.push_back(
            {item.ssrc, item.seq, item.payloadType, {item.data.begin(), item.data.end()}});
    }
    return m;
}

size_t Vbcm::size() const {
    size_t size = kFeedbackHeaderSize;
    for (const VbcmItem& item : items) {
        size += 8 + item.data.size() + bytes::padTo4(item.data.size());
    }
    return size;
}

size_t Vbcm::serialize(uint8_t* out, size_t cap) const {
    for (const VbcmItem& item : items) {
        if (item.data.size() > 0xFFFF || item.payloadType > 127) {
            return 0;
        }
    }
    const size_t total = size();
    if (out == nullptr || total > cap || total > kMaxPacketSize) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PacketType::PSFB, fmtOf(PsfbFmt::Vbcm), senderSsrc, mediaSsrc,
                                total);
    uint8_t* p = out + kFeedbackHeaderSize;
    for (const VbcmItem& item : items) {
        bytes::set32(p, item.ssrc);
        p[4] = item.seq;
        p[5] = item.payloadType;
        bytes::set16(p + 6, static_cast<uint16_t>(item.data.size()));
        if (!item.data.empty()) {
            std::memcpy(p + 8, item.data.data(), item.data.size());
        }
        const size_t pad = bytes::padTo4(item.data.size());
        std::memset(p + 8 + item.data.size(), 0, pad);
        p += 8 + item.data.size() + pad;
    }
    return total;
}

} // namespace sfu::rtcp
