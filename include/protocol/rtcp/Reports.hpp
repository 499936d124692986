// Sender and receiver reports (RFC 3550 6.4.1, 6.4.2).
#pragma once

#include "protocol/rtcp/Items.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sfu::rtcp {

struct ReportBlock {
    static constexpr size_t kSize = 24;

    uint32_t ssrc = 0;
    uint8_t fractionLost = 0;
    // 24-bit signed on the wire (duplicates can make it negative); clamped when
    // written.
    int32_t totalLost = 0;
    uint32_t highestSeq = 0; // extended highest sequence number received
    uint32_t jitter = 0;
    uint32_t lastSr = 0;           // middle 32 bits of the last SR's NTP time
    uint32_t delaySinceLastSr = 0; // 1/65536 s units

    static ReportBlock read(const uint8_t* p);
    static void write(uint8_t* p, const ReportBlock& b);
    bool operator==(const ReportBlock&) const = default;
};

struct SenderInfo {
    uint64_t ntp = 0; // 32.32 fixed point seconds since 1900
    uint32_t rtpTimestamp = 0;
    uint32_t packetCount = 0;
    uint32_t octetCount = 0;

    uint32_t ntpSeconds() const { return static_cast<uint32_t>(ntp >> 32); }
    uint32_t ntpFraction() const { return static_cast<uint32_t>(ntp); }
    // The value receivers echo back as LSR.
    uint32_t compactNtp() const { return static_cast<uint32_t>(ntp >> 16); }
    bool operator==(const SenderInfo&) const = default;
};

class SenderReportView {
public:
    static constexpr size_t kMinBodySize = 24; // SSRC + sender info

    // Type SR, and the body holds SC report blocks.
    static std::optional<SenderReportView> parse(const PacketView& pkt);

    uint32_t ssrc() const { return bytes::get32(pkt_.body()); }
    SenderInfo senderInfo() const;
    ItemRange<ReportBlock> reportBlocks() const {
        return {pkt_.body() + kMinBodySize, pkt_.count()};
    }
    // Profile-specific extension after the report blocks (usually empty).
    std::span<const uint8_t> extension() const;
    const PacketView& packet() const { return pkt_; }

private:
    explicit SenderReportView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

class ReceiverReportView {
public:
    static constexpr size_t kMinBodySize = 4; // SSRC

    static std::optional<ReceiverReportView> parse(const PacketView& pkt);

    uint32_t ssrc() const { return bytes::get32(pkt_.body()); }
    ItemRange<ReportBlock> reportBlocks() const {
        return {pkt_.body() + kMinBodySize, pkt_.count()};
    }
    std::span<const uint8_t> extension() const;
    const PacketView& packet() const { return pkt_; }

private:
    explicit ReceiverReportView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

// Allocation-free writers. They return the bytes written, or 0 when `cap` is
// too small, there are more than 31 blocks or the extension is not a multiple
// of four bytes.
size_t writeSenderReport(uint32_t ssrc, const SenderInfo& info, std::span<const ReportBlock> blocks,
                         uint8_t* out, size_t cap, std::span<const uint8_t> extension = {});
size_t writeReceiverReport(uint32_t ssrc, std::span<const ReportBlock> blocks, uint8_t* out,
                           size_t cap, std::span<const uint8_t> extension = {});

struct SenderReport {
    uint32_t ssrc = 0;
    SenderInfo info;
    std::vector<ReportBlock> reportBlocks;
    std::vector<uint8_t> extension;

    static SenderReport from(const SenderReportView& v);
    size_t size() const { return kHeaderSize + 24 + reportBlocks.size() * 24 + extension.size(); }
    size_t serialize(uint8_t* out, size_t cap) const {
        return writeSenderReport(ssrc, info, reportBlocks, out, cap, extension);
    }
    bool operator==(const SenderReport&) const = default;
};

struct ReceiverReport {
    uint32_t ssrc = 0;
    std::vector<ReportBlock> reportBlocks;
    std::vector<uint8_t> extension;

    static ReceiverReport from(const ReceiverReportView& v);
    size_t size() const { return kHeaderSize + 4 + reportBlocks.size() * 24 + extension.size(); }
    size_t serialize(uint8_t* out, size_t cap) const {
        return writeReceiverReport(ssrc, reportBlocks, out, cap, extension);
    }
    bool operator==(const ReceiverReport&) const = default;
};

} // namespace sfu::rtcp
