// What was sent with a transport-wide sequence number, and its matching
// with transport-wide feedback.
//
// Contract:
//  - onSent() records one packet under its 16-bit transport-wide sequence
//    number; numbers are expected to increase by one per packet (wrapping at
//    65536) and are unwrapped to 64 bits against the last one sent.
//  - The history is a ring of `capacity` entries allocated once, and entries
//    older than `maxAgeUs` are expired: feedback for a packet overwritten or
//    expired is counted (expired()) and ignored.
//  - onFeedback() walks every status of a parsed feedback packet and returns
//    one PacketResult per status that refers to a packet still held, in
//    sequence order: lost, or received with its arrival time. Numbers ahead
//    of anything sent are counted (unknown()) and ignored. A packet already
//    reported received is not reported again (duplicated()); a packet
//    reported lost and later received is reported again, received (late
//    feedback or feedback reordered on the way back); a second "lost" for it
//    is dropped as a duplicate.
//  - Arrival times are the feedback's (reference time + deltas), with the
//    24-bit reference time unwrapped across feedback packets, so they keep
//    increasing through its wrap-around.
//  - Results live in storage owned by the history, valid until the next
//    onFeedback(). Nothing is allocated after construction.
#pragma once

#include "protocol/bwe/Types.hpp"
#include "protocol/rtcp/TransportCc.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sfu::bwe {

class SendHistory {
public:
    static constexpr size_t kDefaultCapacity = 8192;
    static constexpr int64_t kDefaultMaxAgeUs = 5'000'000;

    explicit SendHistory(size_t capacity = kDefaultCapacity, int64_t maxAgeUs = kDefaultMaxAgeUs);

    // Returns the unwrapped sequence number.
    int64_t onSent(uint16_t seq, uint32_t size, int64_t sendUs,
                   int32_t probeClusterId = kNoProbeCluster, PacketKind kind = PacketKind::Media);

    std::span<const PacketResult> onFeedback(const rtcp::TransportCcView& feedback, int64_t nowUs);

    // The same matching for one status, for callers that hold statuses
    // already decoded (tests, tools); `arrivalUs` is ignored when lost.
    // Appends to the results returned by the last beginFeedback().
    void beginFeedback();
    void addStatus(uint16_t seq, bool received, int64_t arrivalUs, int64_t nowUs);
    std::span<const PacketResult> results() const { return results_; }

    // Bytes sent and not yet reported (received or lost), among held packets.
    int64_t inFlightBytes() const { return inFlightBytes_; }
    bool empty() const { return lastSeq_ < 0; }
    int64_t lastSeq() const { return lastSeq_; }
    size_t capacity() const { return ring_.size(); }

    uint64_t unknown() const { return unknown_; }
    uint64_t expired() const { return expired_; }
    uint64_t duplicated() const { return duplicated_; }

private:
    enum class State : uint8_t { Empty, Sent, ReportedLost, ReportedReceived };

    struct Entry {
        int64_t seq = -1;
        int64_t sendUs = 0;
        uint32_t size = 0;
        int32_t probeClusterId = kNoProbeCluster;
        PacketKind kind = PacketKind::Media;
        State state = State::Empty;
    };

    int64_t unwrapReference(int32_t reference);

    std::vector<Entry> ring_;
    std::vector<PacketResult> results_;
    int64_t maxAgeUs_;
    int64_t lastSeq_ = -1;
    int64_t inFlightBytes_ = 0;
    bool haveReference_ = false;
    int64_t lastReference_ = 0; // unwrapped, 64 ms units
    uint64_t unknown_ = 0;
    uint64_t expired_ = 0;
    uint64_t duplicated_ = 0;
};

} // namespace sfu::bwe
