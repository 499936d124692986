// Transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTPFB FMT 15).
//
// Layout after the two SSRCs: base sequence number, packet status count,
// 24-bit signed reference time (64 ms units), feedback packet count, status
// chunks, then one receive delta per received packet (1 octet unsigned or 2
// octets signed, 250 us units, each relative to the previous received packet,
// the first relative to the reference time).
#pragma once

#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/InputIterator.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace sfu::rtcp {

inline constexpr int64_t kTccDeltaUs = 250;
inline constexpr int64_t kTccReferenceUs = 64000;

// The status symbols; the value is also the number of delta octets.
enum class TccStatus : uint8_t {
    NotReceived = 0,
    SmallDelta = 1,
    LargeDelta = 2,
};

struct TccPacket {
    uint16_t seq = 0;
    TccStatus status = TccStatus::NotReceived;
    int16_t delta = 0;     // 250 us units; 0 when not received
    int64_t arrivalUs = 0; // reference time + deltas so far; 0 when not received

    bool received() const { return status != TccStatus::NotReceived; }
    bool operator==(const TccPacket&) const = default;
};

class TransportCcView {
public:
    class Iterator : public InputIterator<Iterator, TccPacket> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        explicit Iterator(const TransportCcView& v);
        TccPacket operator*() const { return current_; }
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return left_ == o.left_; }

    private:
        void decode();

        const uint8_t* chunk_ = nullptr;
        const uint8_t* delta_ = nullptr;
        uint16_t chunkValue_ = 0;
        size_t inChunk_ = 0;
        size_t left_ = 0; // statuses still to visit, the current one included
        int64_t timeUs_ = 0;
        TccPacket current_;
    };

    // RTPFB FMT 15 whose chunks cover the status count and whose deltas fit
    // the packet. Symbol 3 (reserved) is rejected. Octets after the last delta
    // (zero padding without the P bit) are ignored.
    static std::optional<TransportCcView> parse(const PacketView& pkt);

    uint32_t senderSsrc() const { return fb_.senderSsrc(); }
    uint32_t mediaSsrc() const { return fb_.mediaSsrc(); }
    uint16_t baseSeq() const { return bytes::get16(fb_.fci().data()); }
    uint16_t statusCount() const { return bytes::get16(fb_.fci().data() + 2); }
    // The 24-bit field, sign-extended (64 ms units).
    int32_t referenceTime() const;
    int64_t referenceTimeUs() const { return int64_t{referenceTime()} * kTccReferenceUs; }
    uint8_t fbCount() const { return fb_.fci()[7]; }
    size_t chunkCount() const { return chunkCount_; }
    size_t receivedCount() const { return receivedCount_; }
    bool padded() const { return fb_.packet().padded(); }

    // Every status from baseSeq on, lost packets included.
    Iterator begin() const { return Iterator(*this); }
    Iterator end() const { return Iterator(); }
    const FeedbackView& feedback() const { return fb_; }

private:
    TransportCcView(const FeedbackView& fb, size_t chunks, size_t received)
        : fb_(fb), chunkCount_(chunks), receivedCount_(received) {}

    FeedbackView fb_;
    size_t chunkCount_;
    size_t receivedCount_;
};

// Builds one feedback packet without touching the heap. Feed it packets in
// sequence order; gaps are reported as not received. Chunks are chosen as
// libwebrtc does (run length when all statuses agree, else a two-bit vector
// of 7 or a one-bit vector of 14), so a browser's packet parsed and rebuilt
// comes out identical.
//
// When add*() returns anything but Ok the builder is unchanged; on
// DeltaTooLarge or Full, send this packet and start a new one at that
// sequence number.
class TransportCcBuilder {
public:
    // Storage is sized for this; a larger maxSize is clamped to it.
    static constexpr size_t kMaxSize = 1500;
    static constexpr size_t kDefaultMaxSize = 1200;

    enum class AddResult : uint8_t {
        Ok,
        OutOfOrder,    // not after the last added sequence number (or the base)
        DeltaTooLarge, // more than 8191.75 ms from the previous arrival
        Full,          // would exceed maxSize
    };

    // `referenceTimeUs` is on the same clock as the arrival times: the
    // reference time field is its 64 ms count (24 bits), and deltas start from
    // that multiple of 64 ms. Passing the first packet's arrival time keeps its
    // delta small.
    TransportCcBuilder(uint32_t senderSsrc, uint32_t mediaSsrc, uint16_t baseSeq,
                       int64_t referenceTimeUs, uint8_t fbCount, size_t maxSize = kDefaultMaxSize);

    AddResult addReceived(uint16_t seq, int64_t arrivalUs);
    // An explicit "not received" status; needed only after the last received
    // packet, since gaps are filled anyway.
    AddResult addLost(uint16_t seq);

    // libwebrtc pads with the P bit (zeros, then the pad count); without it the
    // padding is plain zero octets. On by default.
    void setPaddingBit(bool on) { paddingBit_ = on; }

    uint16_t baseSeq() const { return baseSeq_; }
    size_t statusCount() const { return st_.statusCount; }
    size_t receivedCount() const { return st_.receivedCount; }
    bool empty() const { return st_.statusCount == 0; }
    uint32_t referenceTime() const { return referenceTime_; }
    int64_t referenceTimeUs() const { return originUs_; }

    size_t size() const;
    // Bytes written, or 0 when `cap` is too small.
    size_t serialize(uint8_t* out, size_t cap) const;

private:
    static constexpr size_t kFixedSize = kFeedbackHeaderSize + 8;
    static constexpr size_t kMaxChunks = (kMaxSize - kFixedSize) / 2;
    static constexpr size_t kMaxDeltaBytes = kMaxSize - kFixedSize;
    static constexpr size_t kMaxRun = 0x1FFF;
    static constexpr size_t kMaxStatuses = 0xFFFF; // the status count is 16 bits

    // Everything add*() changes, so a failed add can be undone by a copy.
    struct State {
        size_t chunkCount = 0;
        size_t deltaSize = 0;
        size_t statusCount = 0;
        size_t receivedCount = 0;
        int64_t lastUs = 0;
        // Statuses not yet in a chunk. More than 14 only while all are equal.
        size_t pendCount = 0;
        bool pendAllSame = true;
        bool pendHasLarge = false;
        std::array<uint8_t, 14> pend{};
    };

    AddResult add(uint16_t seq, bool received, int64_t arrivalUs);
    bool canAdd(uint8_t sym) const;
    bool pushSymbol(uint8_t sym);
    bool pushLost(size_t n);
    bool emitChunk();
    uint16_t lastChunk() const;
    size_t sizeOf(const State& s) const;

    uint32_t senderSsrc_;
    uint32_t mediaSsrc_;
    uint16_t baseSeq_;
    uint32_t referenceTime_;
    int64_t originUs_;
    uint8_t fbCount_;
    size_t maxSize_;
    bool paddingBit_ = true;
    State st_;
    std::array<uint16_t, kMaxChunks> chunks_;
    std::array<uint8_t, kMaxDeltaBytes> deltas_;
};

// Value form, for tests, tools and rebuilding. Serialization goes through the
// builder (limit TransportCcBuilder::kMaxSize).
struct TransportCc {
    uint32_t senderSsrc = 0;
    uint32_t mediaSsrc = 0;
    uint16_t baseSeq = 0;
    int32_t referenceTime = 0; // signed 24 bits, 64 ms units
    uint8_t fbCount = 0;
    bool paddingBit = true;
    std::vector<TccPacket> packets; // every status from baseSeq on

    static TransportCc from(const TransportCcView& v);
    size_t size() const;
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const TransportCc&) const = default;
};

} // namespace sfu::rtcp
