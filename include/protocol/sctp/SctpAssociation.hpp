// One SCTP association (RFC 9260) carrying WebRTC data channels (RFC 8831),
// built on usrsctp in AF_CONN mode: no sockets and no threads of usrsctp's
// own. Packets come in through receivePacket() and go out through the
// listener (the owner puts them in DTLS records or UDP datagrams); time
// advances only when the owner calls sctp::advanceTimers(). Everything runs
// on the caller's thread, and every listener call happens inside one of this
// class's methods or inside advanceTimers().
//
// Messages are addressed by stream id and PPID (RFC 8831 8): string 51,
// binary 53, empty string 56, empty binary 57; DCEP (50) messages are
// handed to the listener like any other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sfu::sctp {

// Process-wide usrsctp set-up (usrsctp_init_nothreads), done once on first
// use; advanceTimers() drives usrsctp's timers by the milliseconds elapsed
// since its last call. The owner of the event loop calls it periodically
// (every 10 ms or so) while any association exists. The milliseconds must be
// real ones: usrsctp also compares wall-clock send times before it
// retransmits or sends a heartbeat.
void advanceTimers(uint32_t elapsedMs);
// Number of live associations (the timer can stop at zero).
size_t liveAssociations();

// Whether a datagram is an SCTP packet between WebRTC's port 5000 on both
// ends (RFC 8841): how a plain UDP transport tells SCTP from RTP and RTCP,
// whose first byte carries version 2 (0x80-0xbf) where SCTP has 0x13.
inline bool isSctpPacket(const uint8_t* data, size_t length) {
    return length >= 12 && data[0] == 0x13 && data[1] == 0x88 && data[2] == 0x13 && data[3] == 0x88;
}

enum class State { New, Connecting, Connected, Failed, Closed };
const char* toString(State state);

enum Ppid : uint32_t {
    kPpidDcep = 50,
    kPpidString = 51,
    kPpidBinaryPartial = 52,
    kPpidBinary = 53,
    kPpidStringPartial = 54,
    kPpidStringEmpty = 56,
    kPpidBinaryEmpty = 57,
};

// How one outgoing message is sent: its stream, order and partial
// reliability (RFC 3758; at most one of the two limits).
struct SendParameters {
    uint16_t streamId = 0;
    bool ordered = true;
    std::optional<uint32_t> maxPacketLifeTime;
    std::optional<uint32_t> maxRetransmits;
};

class SctpAssociation {
public:
    struct Options {
        uint16_t port = 5000;
        // Outgoing and incoming stream counts requested in INIT.
        uint16_t os = 1024;
        uint16_t mis = 1024;
        // Largest message accepted in either direction.
        uint32_t maxMessageSize = 262144;
        // Bytes the association may hold unsent/unacknowledged; past it
        // sendMessage() answers BufferFull.
        uint32_t sendBufferSize = 262144;
    };

    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onSctpStateChanged(State state) = 0;
        // One SCTP packet to put on the wire.
        virtual void onSctpSendPacket(const uint8_t* data, size_t length) = 0;
        // One complete incoming message (reassembled by usrsctp).
        virtual void onSctpMessage(uint16_t streamId, uint32_t ppid, const uint8_t* data,
                                   size_t length) = 0;
        // The peer reset its outgoing stream `streamId` (RFC 6525): the data
        // channel on it is closing.
        virtual void onSctpIncomingStreamReset(uint16_t streamId) = 0;
        // The bytes buffered for sending changed (after a send or as the
        // peer acknowledges).
        virtual void onSctpBufferedAmount(uint32_t bufferedAmount) = 0;
    };

    enum class SendResult { Sent, NotConnected, TooLarge, BufferFull, Failed };

    // Throws sfu::Error if usrsctp refuses the socket or one of its options.
    SctpAssociation(const Options& options, Listener& listener);
    // Aborts without calling the listener (the ABORT is not sent either:
    // close() first to tell the peer). Safe inside a listener callback.
    ~SctpAssociation();
    SctpAssociation(const SctpAssociation&) = delete;
    SctpAssociation& operator=(const SctpAssociation&) = delete;

    // Starts the association (sends INIT); a peer's INIT is also answered
    // when connect() was not called. Idempotent.
    void connect();
    // One SCTP packet from the wire. Garbage is counted (packetsDiscarded),
    // never fatal.
    void receivePacket(const uint8_t* data, size_t length);
    // TooLarge above maxMessageSize or sendBufferSize (usrsctp queues a
    // message only whole); Failed for an empty message or an unknown stream.
    SendResult sendMessage(const SendParameters& parameters, uint32_t ppid, const uint8_t* data,
                           size_t length);
    // Resets our outgoing stream (RFC 8831 6.7 closing of a data channel).
    void resetStream(uint16_t streamId);
    // Aborts; state becomes Closed.
    void close();

    State state() const { return state_; }
    const Options& options() const { return options_; }
    uint32_t bufferedAmount() const { return bufferedAmount_; }
    // Stream counts negotiated with the peer (valid once connected).
    uint16_t negotiatedOs() const { return negotiatedOs_; }
    uint16_t negotiatedMis() const { return negotiatedMis_; }

    struct Counters {
        uint64_t packetsReceived = 0;
        uint64_t packetsSent = 0;
        uint64_t packetsDiscarded = 0;
        uint64_t messagesReceived = 0;
        uint64_t messagesSent = 0;
        // Incoming messages above maxMessageSize, dropped.
        uint64_t messagesTooLarge = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    // The usrsctp callbacks reach the association through it.
    friend class Glue;

    void setState(State state);
    void handleData(const uint8_t* data, size_t length, uint16_t streamId, uint32_t ppid,
                    bool endOfRecord);
    void handleNotification(const uint8_t* data, size_t length, bool endOfRecord);
    void updateBufferedAmount(uint32_t bufferedAmount);
    void abortSocket();

    // Key in the process-wide registry, never reused; also the AF_CONN
    // address usrsctp hands back to the packet output callback.
    uintptr_t id_ = 0;
    // usrsctp's `struct socket*`, null once aborted.
    void* socket_ = nullptr;
    bool connectStarted_ = false;
    // Pieces of one incoming message delivered in parts (partial delivery),
    // never above maxMessageSize; `discarding_` drops the rest of a message
    // that outgrew it.
    std::vector<uint8_t> partial_;
    bool assembling_ = false;
    bool discarding_ = false;
    uint16_t partialStreamId_ = 0;
    uint32_t partialPpid_ = 0;
    // Inside a notification delivered in parts: the rest is skipped.
    bool inNotification_ = false;

    Options options_;
    Listener& listener_;
    State state_ = State::New;
    uint32_t bufferedAmount_ = 0;
    uint16_t negotiatedOs_ = 0;
    uint16_t negotiatedMis_ = 0;
    Counters counters_;
};

} // namespace sfu::sctp
