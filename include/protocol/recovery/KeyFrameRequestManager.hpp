// Key frame requests towards one producer stream, on behalf of all its
// consumers (and of its own NackGenerator when loss cannot be repaired).
//
// A request is sent at most once while it is outstanding, repeated when no
// key frame arrives within retryTimeoutMs, and, with a keyFrameRequestDelay,
// never sent twice within that delay: a request arriving too soon is held
// back and reported by tick() once the delay has passed. Whether the request
// goes out as PLI or FIR is the owner's choice from the negotiated feedback;
// firSequenceNumber() gives the FIR command sequence number to use.
#pragma once

#include <cstdint>
#include <optional>

namespace sfu::recovery {

struct KeyFrameRequestConfig {
    // How long to wait for a key frame before repeating the request.
    uint32_t retryTimeoutMs = 1000;
    // Repeats per request before giving up (a later request() starts anew).
    uint32_t maxRetries = 1;
    // The producer's keyFrameRequestDelay: minimum spacing between two
    // requests sent for different needs. 0 disables it.
    uint32_t delayMs = 0;
};

struct KeyFrameRequestCounters {
    uint64_t sent = 0;      // requests sent, first sends and retries
    uint64_t retries = 0;   // of which repeats of an unanswered request
    uint64_t merged = 0;    // request() calls covered by an outstanding one
    uint64_t deferred = 0;  // request() calls held back by the delay
    uint64_t abandoned = 0; // requests given up after maxRetries
    uint64_t keyFrames = 0; // key frames reported
};

class KeyFrameRequestManager {
public:
    explicit KeyFrameRequestManager(const KeyFrameRequestConfig& config = {}) : config_(config) {}

    // Someone needs a key frame. True: send a request now.
    bool request(uint64_t nowMs);
    // Call periodically (see nextTickMs()). True: send a request now, either
    // a deferred one whose delay has passed or a repeat of an unanswered one.
    bool tick(uint64_t nowMs);
    // A key frame arrived: the outstanding request is satisfied. One held
    // back by the delay still goes out when the delay ends (as mediasoup
    // does): it was asked for after the request this key frame answers.
    void keyFrameReceived(uint64_t nowMs);

    // RFC 5104 4.3.1.1: incremented (mod 256) for each new request, kept for
    // repetitions, so the sender can tell a repeat from a new need. Valid
    // right after request()/tick() returned true.
    uint8_t firSequenceNumber() const { return firSeq_; }

    // A request was sent and no key frame has come since.
    bool outstanding() const { return outstanding_; }
    // A request is held back by the delay.
    bool deferred() const { return deferred_; }
    // When tick() will next have something to do, if anything.
    std::optional<uint64_t> nextTickMs() const;

    const KeyFrameRequestCounters& counters() const { return counters_; }

private:
    // Records a request going out; `repeat` keeps the FIR sequence number.
    void send(uint64_t nowMs, bool repeat);

    KeyFrameRequestConfig config_;
    bool outstanding_ = false;
    bool deferred_ = false;
    bool hasSent_ = false;
    uint64_t lastSentMs_ = 0;
    uint32_t retries_ = 0;
    uint8_t firSeq_ = 0;
    KeyFrameRequestCounters counters_;
};

} // namespace sfu::recovery
