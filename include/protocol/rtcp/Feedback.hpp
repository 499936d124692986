// Transport-layer (RTPFB) and payload-specific (PSFB) feedback, RFC 4585,
// RFC 5104, RFC 6051, RFC 6642, RFC 6679 and REMB
// (draft-alvestrand-rmcat-remb). Transport-wide congestion control feedback
// lives in TransportCc.hpp.
//
// Most messages are a list of fixed-size FCI entries; those share one view
// template (ItemFeedbackView) and one value template (ItemFeedback), named
// per message below.
#pragma once

#include "protocol/rtcp/InputIterator.hpp"
#include "protocol/rtcp/Items.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace sfu::rtcp {

enum class RtpfbFmt : uint8_t {
    Nack = 1,
    Tmmbr = 3,
    Tmmbn = 4,
    SrReq = 5,
    Tllei = 7,
    Ecn = 8,
    TransportCc = 15,
};

enum class PsfbFmt : uint8_t {
    Pli = 1,
    Sli = 2,
    Rpsi = 3,
    Fir = 4,
    TstR = 5,
    TstN = 6,
    Vbcm = 7,
    Lei = 8,
    Afb = 15,
};

// Common header plus the sender and media source SSRCs.
inline constexpr size_t kFeedbackHeaderSize = 12;

class FeedbackView {
public:
    // An RTPFB or PSFB packet with room for both SSRCs.
    static std::optional<FeedbackView> parse(const PacketView& pkt);

    PacketType type() const { return static_cast<PacketType>(pkt_.type()); }
    uint8_t fmt() const { return pkt_.count(); }
    bool is(RtpfbFmt f) const { return pkt_.is(PacketType::RTPFB) && fmt() == uint8_t(f); }
    bool is(PsfbFmt f) const { return pkt_.is(PacketType::PSFB) && fmt() == uint8_t(f); }
    uint32_t senderSsrc() const { return bytes::get32(pkt_.body()); }
    uint32_t mediaSsrc() const { return bytes::get32(pkt_.body() + 4); }
    // Feedback control information: everything after the two SSRCs.
    std::span<const uint8_t> fci() const { return {pkt_.body() + 8, pkt_.bodySize() - 8}; }
    const PacketView& packet() const { return pkt_; }

private:
    explicit FeedbackView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

namespace detail {

// Writes the header and both SSRCs of a feedback packet of `size` bytes.
inline void writeFeedbackHeader(uint8_t* out, PacketType type, uint8_t fmt, uint32_t sender,
                                uint32_t media, size_t size, bool padding = false) {
    writeHeader(out, fmt, static_cast<uint8_t>(type), size, padding);
    bytes::set32(out + 4, sender);
    bytes::set32(out + 8, media);
}

} // namespace detail

// Bitrates travel as mantissa * 2^exp (REMB: 18-bit mantissa, TMMBR/TMMBN:
// 17-bit). Decoding saturates at UINT64_MAX; encoding picks the smallest
// exponent, as browsers do, so values they send rebuild bit for bit.
uint64_t decodeBitrate(uint8_t exp, uint32_t mantissa);
std::pair<uint8_t, uint32_t> encodeBitrate(uint64_t bps, unsigned mantissaBits);

// ---- FCI entries ----------------------------------------------------------

// Generic NACK (RFC 4585 6.2.1) and TLLEI (RFC 6642) entry: packet `pid` and
// the 16 following ones flagged in `blp`.
struct NackItem {
    static constexpr size_t kSize = 4;
    uint16_t pid = 0;
    uint16_t blp = 0;

    static NackItem read(const uint8_t* p) { return {bytes::get16(p), bytes::get16(p + 2)}; }
    static void write(uint8_t* p, const NackItem& i) {
        bytes::set16(p, i.pid);
        bytes::set16(p + 2, i.blp);
    }
    size_t packetCount() const { return 1 + static_cast<size_t>(std::popcount(blp)); }
    bool operator==(const NackItem&) const = default;
};

// TMMBR / TMMBN entry (RFC 5104 4.2.1.1).
struct TmmbItem {
    static constexpr size_t kSize = 8;
    uint32_t ssrc = 0;
    uint8_t exp = 0;       // 6 bits
    uint32_t mantissa = 0; // 17 bits
    uint16_t overhead = 0; // 9 bits, measured per-packet overhead in octets

    static TmmbItem make(uint32_t ssrc, uint64_t bps, uint16_t overhead);
    uint64_t bitrate() const { return decodeBitrate(exp, mantissa); }
    static TmmbItem read(const uint8_t* p);
    static void write(uint8_t* p, const TmmbItem& i);
    bool operator==(const TmmbItem&) const = default;
};

// Slice loss indication entry (RFC 4585 6.3.2).
struct SliItem {
    static constexpr size_t kSize = 4;
    uint16_t first = 0;    // 13 bits
    uint16_t number = 0;   // 13 bits
    uint8_t pictureId = 0; // 6 bits

    static SliItem read(const uint8_t* p);
    static void write(uint8_t* p, const SliItem& i);
    bool operator==(const SliItem&) const = default;
};

// Full intra request entry (RFC 5104 4.3.1.1).
struct FirItem {
    static constexpr size_t kSize = 8;
    uint32_t ssrc = 0;
    uint8_t seq = 0;

    static FirItem read(const uint8_t* p) { return {bytes::get32(p), p[4]}; }
    static void write(uint8_t* p, const FirItem& i) {
        bytes::set32(p, i.ssrc);
        bytes::set32(p + 4, uint32_t{i.seq} << 24);
    }
    bool operator==(const FirItem&) const = default;
};

// TSTR / TSTN entry (RFC 5104 4.3.2.1, 4.3.3.1).
struct TstItem {
    static constexpr size_t kSize = 8;
    uint32_t ssrc = 0;
    uint8_t seq = 0;
    uint8_t index = 0; // 5 bits

    static TstItem read(const uint8_t* p) {
        return {bytes::get32(p), p[4], static_cast<uint8_t>(p[7] & 0x1F)};
    }
    static void write(uint8_t* p, const TstItem& i) {
        bytes::set32(p, i.ssrc);
        bytes::set32(p + 4, (uint32_t{i.seq} << 24) | (i.index & 0x1F));
    }
    bool operator==(const TstItem&) const = default;
};

// ECN feedback report (RFC 6679 6.1).
struct EcnItem {
    static constexpr size_t kSize = 20;
    uint32_t extHighestSeq = 0;
    uint32_t ect0 = 0;
    uint32_t ect1 = 0;
    uint16_t ecnCe = 0;
    uint16_t notEct = 0;
    uint16_t lost = 0;
    uint16_t duplicates = 0;

    static EcnItem read(const uint8_t* p);
    static void write(uint8_t* p, const EcnItem& i);
    bool operator==(const EcnItem&) const = default;
};

// ---- Messages made of fixed-size entries -----------------------------------

template <typename Codec>
using ItemOf = typename ItemRange<Codec>::value_type;

// Allocation-free writer: header, SSRCs and the entries. Returns 0 when `cap`
// is too small.
template <typename Codec, PacketType PT, uint8_t FMT>
size_t writeItemFeedback(uint32_t sender, uint32_t media, std::span<const ItemOf<Codec>> items,
                         uint8_t* out, size_t cap) {
    const size_t size = kFeedbackHeaderSize + items.size() * Codec::kSize;
    if (out == nullptr || size > cap || size > kMaxPacketSize) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PT, FMT, sender, media, size);
    uint8_t* p = out + kFeedbackHeaderSize;
    for (const auto& item : items) {
        Codec::write(p, item);
        p += Codec::kSize;
    }
    return size;
}

template <typename Codec, PacketType PT, uint8_t FMT>
class ItemFeedbackView {
public:
    // Right type and FMT, and the FCI is a whole number of entries.
    static std::optional<ItemFeedbackView> parse(const PacketView& pkt) {
        if (!pkt.is(PT) || pkt.count() != FMT) {
            return std::nullopt;
        }
        const auto fb = FeedbackView::parse(pkt);
        if (!fb || fb->fci().size() % Codec::kSize != 0) {
            return std::nullopt;
        }
        return ItemFeedbackView(*fb);
    }

    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    ItemRange<Codec> items() const { return {fb_.fci().data(), fb_.fci().size() / Codec::kSize}; }
    const FeedbackView& feedback() const { return fb_; }

private:
    explicit ItemFeedbackView(const FeedbackView& fb) : fb_(fb) {}
    FeedbackView fb_;
};

template <typename Codec, PacketType PT, uint8_t FMT>
struct ItemFeedback {
    using View = ItemFeedbackView<Codec, PT, FMT>;
    using Item = ItemOf<Codec>;

    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;
    std::vector<Item> items;

    static ItemFeedback from(const View& v) {
        const auto range = v.items();
        return {v.senderSsrc(), v.mediaSsrc(), {range.begin(), range.end()}};
    }
    size_t size() const { return kFeedbackHeaderSize + items.size() * Codec::kSize; }
    size_t serialize(uint8_t* out, size_t cap) const {
        return writeItemFeedback<Codec, PT, FMT>(senderSsrc, mediaSsrc, items, out, cap);
    }
    bool operator==(const ItemFeedback&) const = default;
};

// Messages with no FCI at all (PLI, RTCP-SR-REQ).
template <PacketType PT, uint8_t FMT>
class EmptyFeedbackView {
public:
    static std::optional<EmptyFeedbackView> parse(const PacketView& pkt) {
        if (!pkt.is(PT) || pkt.count() != FMT) {
            return std::nullopt;
        }
        const auto fb = FeedbackView::parse(pkt);
        if (!fb) {
            return std::nullopt;
        }
        return EmptyFeedbackView(*fb);
    }
    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    const FeedbackView& feedback() const { return fb_; }

private:
    explicit EmptyFeedbackView(const FeedbackView& fb) : fb_(fb) {}
    FeedbackView fb_;
};

template <PacketType PT, uint8_t FMT>
size_t writeEmptyFeedback(uint32_t sender, uint32_t media, uint8_t* out, size_t cap) {
    if (out == nullptr || cap < kFeedbackHeaderSize) {
        return 0;
    }
    detail::writeFeedbackHeader(out, PT, FMT, sender, media, kFeedbackHeaderSize);
    return kFeedbackHeaderSize;
}

template <PacketType PT, uint8_t FMT>
struct EmptyFeedback {
    using View = EmptyFeedbackView<PT, FMT>;

    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;

    static EmptyFeedback from(const View& v) { return {v.senderSsrc(), v.mediaSsrc()}; }
    size_t size() const { return kFeedbackHeaderSize; }
    size_t serialize(uint8_t* out, size_t cap) const {
        return writeEmptyFeedback<PT, FMT>(senderSsrc, mediaSsrc, out, cap);
    }
    bool operator==(const EmptyFeedback&) const = default;
};

inline constexpr uint8_t fmtOf(RtpfbFmt f) {
    return static_cast<uint8_t>(f);
}
inline constexpr uint8_t fmtOf(PsfbFmt f) {
    return static_cast<uint8_t>(f);
}

using NackView = ItemFeedbackView<NackItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Nack)>;
using Nack = ItemFeedback<NackItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Nack)>;
using TmmbrView = ItemFeedbackView<TmmbItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tmmbr)>;
using Tmmbr = ItemFeedback<TmmbItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tmmbr)>;
using TmmbnView = ItemFeedbackView<TmmbItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tmmbn)>;
using Tmmbn = ItemFeedback<TmmbItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tmmbn)>;
using SrReqView = EmptyFeedbackView<PacketType::RTPFB, fmtOf(RtpfbFmt::SrReq)>;
using SrReq = EmptyFeedback<PacketType::RTPFB, fmtOf(RtpfbFmt::SrReq)>;
using TlleiView = ItemFeedbackView<NackItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tllei)>;
using Tllei = ItemFeedback<NackItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Tllei)>;
using EcnView = ItemFeedbackView<EcnItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Ecn)>;
using Ecn = ItemFeedback<EcnItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Ecn)>;

using PliView = EmptyFeedbackView<PacketType::PSFB, fmtOf(PsfbFmt::Pli)>;
using Pli = EmptyFeedback<PacketType::PSFB, fmtOf(PsfbFmt::Pli)>;
using SliView = ItemFeedbackView<SliItem, PacketType::PSFB, fmtOf(PsfbFmt::Sli)>;
using Sli = ItemFeedback<SliItem, PacketType::PSFB, fmtOf(PsfbFmt::Sli)>;
using FirView = ItemFeedbackView<FirItem, PacketType::PSFB, fmtOf(PsfbFmt::Fir)>;
using Fir = ItemFeedback<FirItem, PacketType::PSFB, fmtOf(PsfbFmt::Fir)>;
using TstrView = ItemFeedbackView<TstItem, PacketType::PSFB, fmtOf(PsfbFmt::TstR)>;
using Tstr = ItemFeedback<TstItem, PacketType::PSFB, fmtOf(PsfbFmt::TstR)>;
using TstnView = ItemFeedbackView<TstItem, PacketType::PSFB, fmtOf(PsfbFmt::TstN)>;
using Tstn = ItemFeedback<TstItem, PacketType::PSFB, fmtOf(PsfbFmt::TstN)>;
using PsLeiView = ItemFeedbackView<SsrcCodec, PacketType::PSFB, fmtOf(PsfbFmt::Lei)>;
using PsLei = ItemFeedback<SsrcCodec, PacketType::PSFB, fmtOf(PsfbFmt::Lei)>;

inline size_t writeNack(uint32_t sender, uint32_t media, std::span<const NackItem> items,
                        uint8_t* out, size_t cap) {
    return writeItemFeedback<NackItem, PacketType::RTPFB, fmtOf(RtpfbFmt::Nack)>(sender, media,
                                                                                 items, out, cap);
}
inline size_t writeFir(uint32_t sender, std::span<const FirItem> items, uint8_t* out, size_t cap) {
    // RFC 5104: the media source SSRC of a FIR is unused and set to 0.
    return writeItemFeedback<FirItem, PacketType::PSFB, fmtOf(PsfbFmt::Fir)>(sender, 0, items, out,
                                                                             cap);
}
inline size_t writePli(uint32_t sender, uint32_t media, uint8_t* out, size_t cap) {
    return writeEmptyFeedback<PacketType::PSFB, fmtOf(PsfbFmt::Pli)>(sender, media, out, cap);
}

// ---- NACK helpers -----------------------------------------------------------

// Calls fn(seq) for every sequence number the entry asks for, in order.
template <typename F>
void forEachNacked(const NackItem& item, F&& fn) {
    fn(item.pid);
    for (unsigned bit = 0; bit < 16; ++bit) {
        if ((item.blp >> bit) & 1U) {
            fn(static_cast<uint16_t>(item.pid + bit + 1));
        }
    }
}

// Every sequence number asked for by a list of entries (a span or the
// ItemRange of a NackView).
template <typename Range>
std::vector<uint16_t> expandNack(const Range& items) {
    std::vector<uint16_t> seqs;
    for (const NackItem item : items) {
        forEachNacked(item, [&](uint16_t s) { seqs.push_back(s); });
    }
    return seqs;
}

// Packs sequence numbers, given in ascending wrap-around order, into entries:
// each entry covers its pid and the 16 numbers after it. Unordered input still
// yields entries covering every number, just more of them. Writes at most
// out.size() entries (seqs.size() is always enough) and returns how many.
size_t compressNack(std::span<const uint16_t> seqs, std::span<NackItem> out);
std::vector<NackItem> compressNack(std::span<const uint16_t> seqs);

// ---- REMB -----------------------------------------------------------------

class RembView {
public:
    // PSFB/AFB whose FCI is "REMB", the SSRC count, bitrate and exactly that
    // many SSRCs.
    static std::optional<RembView> parse(const PacketView& pkt);

    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    uint8_t exp() const { return fb_.fci()[5] >> 2; }
    uint32_t mantissa() const { return bytes::get24(fb_.fci().data() + 5) & 0x3FFFF; }
    uint64_t bitrate() const { return decodeBitrate(exp(), mantissa()); }
    ItemRange<SsrcCodec> ssrcs() const { return {fb_.fci().data() + 8, fb_.fci()[4]}; }
    const FeedbackView& feedback() const { return fb_; }

private:
    explicit RembView(const FeedbackView& fb) : fb_(fb) {}
    FeedbackView fb_;
};

size_t writeRemb(uint32_t sender, uint64_t bps, std::span<const uint32_t> ssrcs, uint8_t* out,
                 size_t cap);

struct Remb {
    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0; // 0 by the draft
    uint8_t exp = 0;        // 6 bits
    uint32_t mantissa = 0;  // 18 bits
    std::vector<uint32_t> ssrcs;

    static Remb make(uint32_t sender, uint64_t bps, std::vector<uint32_t> ssrcs);
    static Remb from(const RembView& v);
    uint64_t bitrate() const { return decodeBitrate(exp, mantissa); }
    size_t size() const { return kFeedbackHeaderSize + 8 + ssrcs.size() * 4; }
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Remb&) const = default;
};

// Application layer feedback other than REMB: opaque FCI.
struct Afb {
    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;
    std::vector<uint8_t> data; // a multiple of four octets

    static Afb from(const FeedbackView& v);
    size_t size() const { return kFeedbackHeaderSize + data.size(); }
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Afb&) const = default;
};

// ---- RPSI (RFC 4585 6.3.3) ---------------------------------------------------

class RpsiView {
public:
    // PSFB/RPSI with the PB/PT octets, PB no larger than the bit string.
    static std::optional<RpsiView> parse(const PacketView& pkt);

    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    uint8_t paddingBits() const { return fb_.fci()[0]; }
    uint8_t payloadType() const { return fb_.fci()[1] & 0x7F; }
    // The native RPSI bit string, its trailing padding bits included.
    std::span<const uint8_t> bitString() const { return fb_.fci().subspan(2); }
    size_t bitLength() const { return bitString().size() * 8 - paddingBits(); }
    const FeedbackView& feedback() const { return fb_; }

private:
    explicit RpsiView(const FeedbackView& fb) : fb_(fb) {}
    FeedbackView fb_;
};

struct Rpsi {
    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;
    uint8_t paddingBits = 0;
    uint8_t payloadType = 0; // 7 bits
    // Zero octets are appended when writing so the FCI ends on 32 bits.
    std::vector<uint8_t> bitString;

    static Rpsi from(const RpsiView& v);
    size_t size() const;
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Rpsi&) const = default;
};

// ---- VBCM (RFC 5104 4.3.4) ---------------------------------------------------

struct VbcmItemView {
    uint32_t ssrc;
    uint8_t seq;
    uint8_t payloadType;
    std::span<const uint8_t> data;
};

class VbcmView {
public:
    class Iterator : public InputIterator<Iterator, VbcmItemView> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        Iterator(const uint8_t* p, size_t left) : p_(left > 0 ? p : nullptr), left_(left) {}
        VbcmItemView operator*() const;
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return p_ == o.p_; }

    private:
        const uint8_t* p_ = nullptr;
        size_t left_ = 0;
    };

    // PSFB/VBCM whose entries, each padded to 32 bits, tile the FCI.
    static std::optional<VbcmView> parse(const PacketView& pkt);

    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    Iterator begin() const { return Iterator(fb_.fci().data(), fb_.fci().size()); }
    Iterator end() const { return Iterator(); }
    const FeedbackView& feedback() const { return fb_; }

    // Size of the entry at `p`, padding included, or 0 when it overruns `left`.
    static size_t entrySize(const uint8_t* p, size_t left);

private:
    explicit VbcmView(const FeedbackView& fb) : fb_(fb) {}
    FeedbackView fb_;
};

struct VbcmItem {
    uint32_t ssrc = 0;
    uint8_t seq = 0;
    uint8_t payloadType = 0; // 7 bits
    std::vector<uint8_t> data;
    bool operator==(const VbcmItem&) const = default;
};

struct Vbcm {
    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;
    std::vector<VbcmItem> items;

    static Vbcm from(const VbcmView& v);
    size_t size() const;
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Vbcm&) const = default;
};

} // namespace sfu::rtcp
