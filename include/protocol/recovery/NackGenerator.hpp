// Receiver-side loss detection for one incoming RTP stream (RFC 4585 generic
// NACK). The owner feeds every received packet to onPacket() and, from a
// periodic timer (and right after a packet that revealed a gap), calls
// collect() for the sequence numbers to request now, then sends them with
// writeNackPacket(). Time is passed in; nothing here reads a clock.
//
// Memory is fixed at construction: a ring of at most maxPending entries and
// a 1024-bit map of recently received sequence numbers. Nothing allocates
// per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace sfu::recovery {

struct NackConfig {
    // Missing packets tracked at once. A loss burst that would overflow the
    // list is not worth repairing packet by packet: the list is cleared and a
    // key frame is asked for instead.
    size_t maxPending = 1000;
    // A forward jump of more than this many sequence numbers is treated as a
    // restart of the stream, not as loss: the list is cleared and a key frame
    // is asked for.
    uint16_t maxGap = 3000;
    // Requests per missing packet before giving up on it.
    uint8_t maxRetries = 10;
    // A packet missing for longer than this is too late to be useful.
    uint32_t maxAgeMs = 1000;
    // Floor of the spacing between two requests for the same packet (the RTT
    // is used when larger), so a tiny RTT cannot turn into a NACK storm.
    uint32_t minIntervalMs = 20;
    // A hole older than the newest key frame no longer matters for what
    // follows, but the receiver may still be waiting on it: it gets this
    // many requests before it is given up for the key frame.
    uint8_t keyFrameAttempts = 3;
};

// What a received packet turned out to be.
enum class Arrival : uint8_t {
    First,     // the first packet of the stream
    InOrder,   // newer than every packet so far; a gap before it is now pending
    Repaired,  // was pending: a reordered or retransmitted packet filled a hole
    Late,      // older than the newest, first seen, but not pending (given up)
    Duplicate, // seen before (within the last 1024 sequence numbers)
    TooOld,    // older than the duplicate window and not pending: ignored
    Restart,   // a jump too large to repair: tracking restarted at this packet
};

struct ArrivalResult {
    Arrival arrival = Arrival::First;
    // The owner should request a key frame (PLI/FIR): the loss cannot be
    // repaired by retransmission.
    bool keyFrameNeeded = false;
    // Sequence numbers this packet revealed as missing and added to the list.
    uint16_t newlyMissing = 0;
};

enum class GiveUpReason : uint8_t {
    Retries,  // requested maxRetries times without an answer
    Age,      // missing for longer than maxAgeMs
    KeyFrame, // older than a key frame that arrived since
    Overflow, // dropped with the whole list (overflow, restart)
    Count,
};

struct NackCounters {
    // collect() calls that returned sequence numbers, i.e. NACK packets to
    // send, and the sequence numbers they returned.
    uint64_t nackCount = 0;
    uint64_t nackPacketCount = 0;
    uint64_t missing = 0;   // sequence numbers ever added to the list
    uint64_t repaired = 0;  // pending ones that arrived after all
    uint64_t recovered = 0; // packets flagged as recovered (RTX, FEC)
    uint64_t duplicates = 0;
    uint64_t tooOld = 0;
    uint64_t restarts = 0;
    uint64_t keyFramesNeeded = 0;
    std::array<uint64_t, static_cast<size_t>(GiveUpReason::Count)> givenUp{};

    uint64_t givenUpFor(GiveUpReason reason) const { return givenUp[static_cast<size_t>(reason)]; }
};

class NackGenerator {
public:
    // Sequence numbers remembered for duplicate detection.
    static constexpr uint32_t kReceivedWindow = 1024;

    explicit NackGenerator(const NackConfig& config = {});

    // `isKeyFrame`: this packet starts a key frame, so every missing packet
    // before it is no longer needed. Pass it for the first packet of the key
    // frame only: flagging a later one would give up on holes inside the key
    // frame itself. `isRecovered`: the packet came through RTX or FEC (only
    // counted).
    ArrivalResult onPacket(uint16_t seq, bool isKeyFrame, bool isRecovered, uint64_t nowMs);

    // Writes the sequence numbers to request now, ascending (wrap-aware), into
    // `out` and returns how many: those never requested, and those last
    // requested at least max(rttMs, minIntervalMs) ago. Packets past their
    // retry or age limit are given up here. Due packets that do not fit in
    // `out` stay due for the next call.
    size_t collect(uint64_t nowMs, uint32_t rttMs, std::span<uint16_t> out);

    size_t pendingCount() const { return live_; }
    bool isPending(uint16_t seq) const;
    // Forgets the stream (pending packets are counted as Overflow).
    void reset();

    const NackCounters& counters() const { return counters_; }
    const NackConfig& config() const { return config_; }
    // Bytes held by this generator, the object included.
    size_t memoryBytes() const { return sizeof(*this) + capacity_ * sizeof(Entry); }

private:
    struct Entry {
        // Extended (unwrapped) sequence number: keeps the ring sorted and
        // searchable without wrap-around cases.
        uint64_t ext;
        // Low 32 bits of the millisecond clock; differences of these stay
        // exact for 49 days, far beyond maxAgeMs.
        uint32_t missingSinceMs;
        uint32_t lastSentMs;
        uint8_t sent;
        // Cleared when the packet arrives: removal from the middle of the
        // ring is a mark, swept out by the next collect() or compact().
        bool live;
    };

    Entry& at(size_t i) { return entries_[(head_ + i) % capacity_]; }
    const Entry& at(size_t i) const { return entries_[(head_ + i) % capacity_]; }
    uint16_t highestSeq() const { return static_cast<uint16_t>(highestExt_); }
    uint64_t extend(uint16_t seq) const;
    // Physical index of the entry for `ext`, or size_ when absent.
    size_t findEntry(uint64_t ext) const;
    void start(uint16_t seq);
    void clearPending(GiveUpReason reason);
    void noteKeyFrame(uint64_t ext);
    void compact();
    void giveUp(GiveUpReason reason) { ++counters_.givenUp[static_cast<size_t>(reason)]; }
    bool received(uint64_t ext) const;
    void markReceived(uint64_t ext);
    // Moves the received window so that it ends at `ext` (> highestExt_).
    void advanceWindow(uint64_t ext);
    ArrivalResult restart(uint16_t seq, bool isKeyFrame);

    // Extended sequence number of the newest key frame's first packet.
    uint64_t keyFrameExt_ = 0;
    bool haveKeyFrame_ = false;
    NackConfig config_;
    size_t capacity_ = 0;
    std::unique_ptr<Entry[]> entries_;
    size_t head_ = 0;
    size_t size_ = 0; // entries in the ring, removed ones included
    size_t live_ = 0;
    bool started_ = false;
    uint64_t highestExt_ = 0;
    // RFC 3550 style probation for a stream that jumped far backwards: two
    // consecutive such packets mean a restart, a single one is just old.
    bool hasProbation_ = false;
    uint16_t probationSeq_ = 0;
    std::array<uint64_t, kReceivedWindow / 64> receivedBits_{};
    NackCounters counters_;
};

// How much of a sequence number list one NACK packet carried.
struct NackWrite {
    size_t bytes = 0; // packet size, 0 when not even one entry fits in `cap`
    size_t seqs = 0;  // leading elements of `seqs` it covers
};

// Writes one RTCP NACK packet (RTPFB, FMT 1) asking for the leading part of
// `seqs` (ascending, as collect() gives them) that fits in `cap` bytes and
// in kMaxNackItems entries. Call again with the rest when seqs.size() is
// larger than the result's `seqs`.
inline constexpr size_t kMaxNackItems = 256;
NackWrite writeNackPacket(uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> seqs,
                          uint8_t* out, size_t cap);

} // namespace sfu::recovery
