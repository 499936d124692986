// Extended reports (RFC 3611): the receiver reference time (RRT) and DLRR
// blocks a sender-side RTT estimate needs; other block types are walked over
// by their length and kept as raw bytes.
#pragma once

#include "protocol/rtcp/InputIterator.hpp"
#include "protocol/rtcp/Items.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

namespace sfu::rtcp {

enum class XrBlockType : uint8_t {
    Rrt = 4,
    Dlrr = 5,
};

struct DlrrItem {
    static constexpr size_t kSize = 12;

    uint32_t ssrc = 0;
    uint32_t lastRr = 0;           // middle 32 bits of the RRT's NTP time
    uint32_t delaySinceLastRr = 0; // 1/65536 s units

    static DlrrItem read(const uint8_t* p) {
        return {bytes::get32(p), bytes::get32(p + 4), bytes::get32(p + 8)};
    }
    static void write(uint8_t* p, const DlrrItem& d) {
        bytes::set32(p, d.ssrc);
        bytes::set32(p + 4, d.lastRr);
        bytes::set32(p + 8, d.delaySinceLastRr);
    }
    bool operator==(const DlrrItem&) const = default;
};

struct XrBlockView {
    uint8_t type;
    uint8_t typeSpecific;
    std::span<const uint8_t> body; // after the 4-octet block header

    // The NTP time of a well-formed RRT block.
    std::optional<uint64_t> rrt() const;
    // The sub-blocks of a well-formed DLRR block.
    std::optional<ItemRange<DlrrItem>> dlrr() const;
};

class XrView {
public:
    class Iterator : public InputIterator<Iterator, XrBlockView> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        Iterator(const uint8_t* p, size_t left) : p_(left > 0 ? p : nullptr), left_(left) {}
        XrBlockView operator*() const;
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return p_ == o.p_; }

    private:
        const uint8_t* p_ = nullptr; // nullptr at the end
        size_t left_ = 0;
    };

    // Type XR with an SSRC and blocks whose lengths tile the rest of the body.
    static std::optional<XrView> parse(const PacketView& pkt);

    uint32_t ssrc() const { return bytes::get32(pkt_.body()); }
    Iterator begin() const { return Iterator(pkt_.body() + 4, pkt_.bodySize() - 4); }
    Iterator end() const { return Iterator(); }
    const PacketView& packet() const { return pkt_; }

private:
    explicit XrView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

struct XrRrt {
    uint64_t ntp = 0;
    bool operator==(const XrRrt&) const = default;
};

struct XrDlrr {
    std::vector<DlrrItem> items;
    bool operator==(const XrDlrr&) const = default;
};

// Any other block, kept as it came so it survives a rebuild.
struct XrRawBlock {
    uint8_t type = 0;
    uint8_t typeSpecific = 0;
    std::vector<uint8_t> body; // a multiple of four octets
    bool operator==(const XrRawBlock&) const = default;
};

using XrBlock = std::variant<XrRrt, XrDlrr, XrRawBlock>;

struct Xr {
    uint32_t ssrc = 0;
    std::vector<XrBlock> blocks;

    static Xr from(const XrView& v);
    size_t size() const;
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Xr&) const = default;
};

// Allocation-free writers for the two blocks the worker sends.
size_t writeXrRrt(uint32_t ssrc, uint64_t ntp, uint8_t* out, size_t cap);
size_t writeXrDlrr(uint32_t ssrc, std::span<const DlrrItem> items, uint8_t* out, size_t cap);

} // namespace sfu::rtcp
