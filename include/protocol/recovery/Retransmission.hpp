// Consumer-side retransmission: from a NACK in the consumer's sequence
// number space back to the producer's shared PacketStore, and from the stored
// packet to the exact bytes the consumer sent the first time (optionally RTX
// encapsulated, RFC 4588).
//
// Per consumer this costs one SendSeqMap (about 12 KiB) instead of a copy of
// every packet: the store holds the bytes once for all consumers.
#pragma once

#include "protocol/recovery/PacketStore.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqNum.hpp"

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::recovery {

// What the consumer did to a packet it forwarded.
struct SentPacket {
    uint16_t outputSeq = 0;       // the consumer's sequence number
    uint16_t inputSeq = 0;        // the producer's (store) sequence number
    uint32_t timestampOffset = 0; // added to the producer's timestamp
    // The producer stream's store it came from (null: no loss recovery).
    const PacketStore* store = nullptr;
    // The marker bit as sent (a layered consumer moves it to the last
    // layer it forwards of a picture).
    bool marker = false;
};

// Remembers the mapping for the last kSize packets a consumer sent, in a
// fixed ring indexed by output sequence number. A consumer that switches
// between source streams (simulcast) sends runs of packets from one store
// after another: the store is kept per run, not per packet.
class SendSeqMap {
public:
    static constexpr size_t kSize = 1024;
    // Source switches remembered; packets sent before the oldest one can no
    // longer be resent.
    static constexpr size_t kMaxRuns = 8;

    // Called for every packet forwarded. Output sequence numbers only move
    // forward; one further back than the ring reaches is ignored.
    void record(uint16_t outputSeq, uint16_t inputSeq, uint32_t timestampOffset = 0,
                const PacketStore* store = nullptr, bool marker = false);
    std::optional<SentPacket> lookup(uint16_t outputSeq) const;

    // Whether a retransmission of `outputSeq` may go out now: false when it
    // was already resent less than `minIntervalMs` ago (receivers repeat
    // NACKs every RTT; answering each one would duplicate traffic). Marks it
    // resent at `nowMs` when returning true.
    bool allowResend(uint16_t outputSeq, uint64_t nowMs, uint32_t minIntervalMs);

    void clear();

    static constexpr size_t memoryBytes() { return sizeof(SendSeqMap); }

private:
    struct Entry {
        uint32_t timestampOffset;
        uint32_t resentMs; // low 32 bits of the clock
        uint16_t inputSeq;
        uint16_t outputSeq;
    };

    // A run of output sequence numbers sent from one store.
    struct Run {
        uint16_t firstOutputSeq = 0;
        const PacketStore* store = nullptr;
    };

    // Index of `outputSeq` when it is within the ring's reach and recorded.
    std::optional<size_t> indexOf(uint16_t outputSeq) const;
    void noteStore(uint16_t outputSeq, const PacketStore* store);
    // The store of the run `outputSeq` belongs to; `known` false when it is
    // older than every run remembered.
    const PacketStore* storeOf(uint16_t outputSeq, bool& known) const;

    std::array<Entry, kSize> entries_{};
    std::bitset<kSize> valid_;
    std::bitset<kSize> resent_;
    std::bitset<kSize> marker_;
    bool started_ = false;
    uint16_t newest_ = 0;
    std::array<Run, kMaxRuns> runs_{};
    size_t runCount_ = 0;
    size_t runHead_ = 0; // oldest run
};

// The consumer's per-stream rewrite, applied identically on first send and
// on retransmission.
struct Rewrite {
    uint32_t ssrc = 0;
    uint8_t payloadType = 0;
    // Producer to consumer header extension ids; nullptr keeps them as is.
    const rtp::ExtensionIdMap* extensionIds = nullptr;
};

// Rewrites a copy of a producer packet into what the consumer sends: its
// ssrc, sequence number, payload type, timestamp offset and extension ids.
// False when the extension block cannot be remapped within the buffer.
bool applyRewrite(rtp::RtpPacket& packet, const Rewrite& rewrite, const SentPacket& sent);

// The consumer's RTX stream (RFC 4588, SSRC multiplexing): its own ssrc,
// payload type and sequence numbering.
struct RtxStream {
    uint32_t ssrc = 0;
    uint8_t payloadType = 0;
    // Next RTX sequence number: advanced by every RTX packet built.
    uint16_t nextSeq = 0;
};

// Copies `stored` into `out` (capacity `cap`) and applies the consumer's
// rewrite. With `rtx`, the result is then RTX encapsulated: the original
// sequence number moves into the first two payload bytes and the header
// takes the RTX ssrc, payload type and rtx->nextSeq (then incremented).
// Without it, the packet is a plain resend on the media ssrc. nullopt when
// `cap` is too small. Payload rewrites (codec descriptors) are the caller's,
// on the returned view before RTX encoding if they need it: see
// rewriteForResend() to split the two steps.
std::optional<rtp::RtpPacket> buildRetransmission(const StoredPacket& stored,
                                                  const SentPacket& sent, const Rewrite& rewrite,
                                                  RtxStream* rtx, uint8_t* out, size_t cap);

// The first half of buildRetransmission(): copy and rewrite (the marker bit
// as sent included), no RTX. Room
// for the two RTX bytes must be left in `cap` by the caller who will encode.
std::optional<rtp::RtpPacket> rewriteForResend(const StoredPacket& stored, const SentPacket& sent,
                                               const Rewrite& rewrite, uint8_t* out, size_t cap);

struct NackResponse {
    size_t requested = 0;  // sequence numbers the NACK asked for
    size_t resent = 0;     // handed to the callback
    size_t unknown = 0;    // not in the consumer's map (too old, or never sent)
    size_t notStored = 0;  // mapped, but the store no longer holds the packet
    size_t throttled = 0;  // resent less than the minimum interval ago
    size_t superseded = 0; // sent before the key frame the receiver restarts from
};

// Answers one NACK for a consumer: for every sequence number asked for that
// the map and the store it was sent from still know, calls
// resend(const StoredPacket&, const SentPacket&) (typically
// buildRetransmission() and send). `items` is a span of NackItem or a
// NackView's items(). Sequence numbers before `wantedFrom`, when given, are
// superseded (not resent): for a stream that restarted from a key frame
// there, the receiver's decoder needs nothing older.
// Allocates nothing.
template <typename Items, typename Fn>
NackResponse respondToNack(const Items& items, SendSeqMap& map, uint64_t nowMs,
                           uint32_t minResendIntervalMs, Fn&& resend,
                           std::optional<uint16_t> wantedFrom = std::nullopt) {
    NackResponse response;
    for (const rtcp::NackItem item : items) {
        rtcp::forEachNacked(item, [&](uint16_t outputSeq) {
            ++response.requested;
            if (wantedFrom && rtp::isNewer(*wantedFrom, outputSeq)) {
                ++response.superseded;
                return;
            }
            const std::optional<SentPacket> sent = map.lookup(outputSeq);
            if (!sent) {
                ++response.unknown;
                return;
            }
            const StoredPacket* stored =
                sent->store != nullptr ? sent->store->find(sent->inputSeq, nowMs) : nullptr;
            if (stored == nullptr) {
                ++response.notStored;
                return;
            }
            if (!map.allowResend(outputSeq, nowMs, minResendIntervalMs)) {
                ++response.throttled;
                return;
            }
            ++response.resent;
            resend(*stored, *sent);
        });
    }
    return response;
}

} // namespace sfu::recovery
