#include "protocol/sctp/SctpAssociation.hpp"

#include "utils/Errors.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <usrsctp.h>
#include <utility>
#include <vector>

namespace sfu::sctp {

namespace {

constexpr size_t kCommonHeaderLength = 12;
constexpr size_t kMaxPacketLength = 65535;
constexpr uint8_t kChunkInit = 1;
// SCTP packets of at most 1200 bytes leave room for DTLS, UDP and IPv6
// headers within IPv6's 1280-byte minimum MTU. For AF_CONN addresses
// usrsctp leaves the 12-byte common header out of the path MTU.
constexpr uint32_t kPathMtu = 1200 - kCommonHeaderLength;
constexpr uint8_t kChunkInitAck = 2;
// Chunk header (type, flags, length), INIT/INIT-ACK fixed part, parameter
// header (type, length).
constexpr size_t kChunkHeaderLength = 4;
constexpr size_t kInitFixedLength = 20;
constexpr size_t kParameterHeaderLength = 4;
constexpr size_t kKeptReassemblyCapacity = 65536;

// usrsctp keeps process-wide state, so the associations share one registry;
// callbacks find their association by id, and an id that is gone (the
// association was destroyed) makes the callback a no-op.
struct Registry {
    bool initialised = false;
    uintptr_t nextId = 1;
    std::unordered_map<uintptr_t, SctpAssociation*> live;
    // Nesting of calls into usrsctp. A socket must not be closed from inside
    // one of usrsctp's callbacks (its locks are held around some of them), so
    // closes requested there wait here until the outermost call returns; at
    // most one entry per association.
    int depth = 0;
    std::vector<std::pair<struct socket*, uintptr_t>> doomed;
};

Registry& registry() {
    static Registry r;
    return r;
}

bool alive(uintptr_t id) {
    return registry().live.count(id) != 0;
}

void* addressOf(uintptr_t id) {
    return reinterpret_cast<void*>(id);
}

void closeSocket(struct socket* socket, uintptr_t id) {
    Registry& r = registry();
    ++r.depth;
    usrsctp_close(socket);
    usrsctp_deregister_address(addressOf(id));
    --r.depth;
}

// Marks one call into usrsctp from outside; runs the deferred closes when
// the outermost one returns.
class Entry {
public:
    Entry() { ++registry().depth; }
    ~Entry() {
        Registry& r = registry();
        if (--r.depth != 0) {
            return;
        }
        while (!r.doomed.empty()) {
            const auto [socket, id] = r.doomed.back();
            r.doomed.pop_back();
            closeSocket(socket, id);
        }
    }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
};

sockaddr_conn connAddress(uintptr_t id, uint16_t port) {
    sockaddr_conn address{};
    address.sconn_family = AF_CONN;
    address.sconn_port = htons(port);
    address.sconn_addr = addressOf(id);
    return address;
}

uint16_t read16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

template <typename T>
bool setOption(struct socket* socket, int level, int name, const T& value) {
    return usrsctp_setsockopt(socket, level, name, &value, sizeof(value)) == 0;
}

// Whether every chunk length is sane and every INIT/INIT-ACK parameter has a
// length that covers its header and stays inside the chunk. usrsctp 0.9.5
// loops forever on a zero-length parameter in an INIT that reaches an
// existing association (RFC 9260 3.2.1 makes such a chunk malformed).
bool wellFormed(const uint8_t* data, size_t length) {
    size_t off = kCommonHeaderLength;
    while (off + kChunkHeaderLength <= length) {
        const uint8_t type = data[off];
        const size_t chunkLength = read16(data + off + 2);
        if (chunkLength < kChunkHeaderLength || chunkLength > length - off) {
            return false;
        }
        if (type == kChunkInit || type == kChunkInitAck) {
            if (chunkLength < kInitFixedLength) {
                return false;
            }
            size_t param = off + kInitFixedLength;
            const size_t end = off + chunkLength;
            while (param + kParameterHeaderLength <= end) {
                const size_t paramLength = read16(data + param + 2);
                if (paramLength < kParameterHeaderLength || paramLength > end - param) {
                    return false;
                }
                param += (paramLength + 3) & ~size_t{3};
            }
        }
        off += (chunkLength + 3) & ~size_t{3};
    }
    return true;
}

} // namespace

class Glue {
public:
    static void initialise() {
        Registry& r = registry();
        if (r.initialised) {
            return;
        }
        r.initialised = true;
        // No debug printer: usrsctp stays silent.
        usrsctp_init_nothreads(0, &Glue::output, nullptr);
#ifdef SCTP_DEBUG
        usrsctp_sysctl_set_sctp_debug_on(SCTP_DEBUG_NONE);
#endif
        // As WebRTC stacks run it: no ECN (the DTLS layer hides the IP
        // header), no ASCONF/AUTH (one AF_CONN address, DTLS authenticates),
        // partial reliability and stream reconfiguration on, and an ABORT in
        // answer to out-of-the-blue packets (no blackhole) so a peer that
        // restarted learns quickly.
        usrsctp_sysctl_set_sctp_ecn_enable(0);
        usrsctp_sysctl_set_sctp_asconf_enable(0);
        usrsctp_sysctl_set_sctp_auth_enable(0);
        usrsctp_sysctl_set_sctp_pr_enable(1);
        usrsctp_sysctl_set_sctp_reconfig_enable(1);
        usrsctp_sysctl_set_sctp_nrsack_enable(0);
        usrsctp_sysctl_set_sctp_pktdrop_enable(0);
        usrsctp_sysctl_set_sctp_blackhole(0);
    }

    static int output(void* address, void* buffer, size_t length, uint8_t, uint8_t) {
        const auto it = registry().live.find(reinterpret_cast<uintptr_t>(address));
        if (it == registry().live.end()) {
            return 0;
        }
        SctpAssociation& a = *it->second;
        ++a.counters_.packetsSent;
        a.listener_.onSctpSendPacket(static_cast<const uint8_t*>(buffer), length);
        return 0;
    }

    static int receive(struct socket*, union sctp_sockstore, void* data, size_t length,
                       struct sctp_rcvinfo info, int flags, void* ulpInfo) {
        const auto it = registry().live.find(reinterpret_cast<uintptr_t>(ulpInfo));
        // usrsctp hands over the buffer (malloc'd); a null one marks the end
        // of the socket's input.
        if (it != registry().live.end() && data != nullptr) {
            const auto* bytes = static_cast<const uint8_t*>(data);
            if ((flags & MSG_NOTIFICATION) != 0) {
                it->second->handleNotification(bytes, length, (flags & MSG_EOR) != 0);
            } else {
                it->second->handleData(bytes, length, info.rcv_sid, ntohl(info.rcv_ppid),
                                       (flags & MSG_EOR) != 0);
            }
        }
        std::free(data);
        return 1;
    }

    static int sendSpace(struct socket*, uint32_t free, void* ulpInfo) {
        const auto it = registry().live.find(reinterpret_cast<uintptr_t>(ulpInfo));
        if (it != registry().live.end()) {
            const uint32_t limit = it->second->options_.sendBufferSize;
            it->second->updateBufferedAmount(free >= limit ? 0 : limit - free);
        }
        return 0;
    }

    // Returns the name of the option that could not be set, null if all were.
    static const char* configure(struct socket* socket, const SctpAssociation::Options& options) {
        if (usrsctp_set_non_blocking(socket, 1) != 0) {
            return "non-blocking";
        }
        // Closing aborts (ABORT chunk) rather than a graceful SHUTDOWN.
        const linger abortOnClose{1, 0};
        if (!setOption(socket, SOL_SOCKET, SO_LINGER, abortOnClose)) {
            return "SO_LINGER";
        }
        if (!setOption(socket, SOL_SOCKET, SO_SNDBUF, static_cast<int>(options.sendBufferSize))) {
            return "SO_SNDBUF";
        }
        if (!setOption(socket, IPPROTO_SCTP, SCTP_NODELAY, 1)) {
            return "SCTP_NODELAY";
        }
        if (!setOption(socket, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)) {
            return "SCTP_RECVRCVINFO";
        }
        const sctp_assoc_value reset{SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ};
        if (!setOption(socket, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset)) {
            return "SCTP_ENABLE_STREAM_RESET";
        }
        sctp_initmsg init{};
        init.sinit_num_ostreams = options.os;
        init.sinit_max_instreams = options.mis;
        if (!setOption(socket, IPPROTO_SCTP, SCTP_INITMSG, init)) {
            return "SCTP_INITMSG";
        }
        for (const uint16_t type :
             {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT,
              SCTP_ADAPTATION_INDICATION, SCTP_PARTIAL_DELIVERY_EVENT, SCTP_SENDER_DRY_EVENT,
              SCTP_SEND_FAILED_EVENT}) {
            sctp_event event{};
            event.se_assoc_id = SCTP_ALL_ASSOC;
            event.se_type = type;
            event.se_on = 1;
            if (!setOption(socket, IPPROTO_SCTP, SCTP_EVENT, event)) {
                return "SCTP_EVENT";
            }
        }
        return nullptr;
    }
};

void advanceTimers(uint32_t elapsedMs) {
    if (!registry().initialised) {
        return;
    }
    Entry entry;
    usrsctp_handle_timers(elapsedMs);
}

size_t liveAssociations() {
    return registry().live.size();
}

const char* toString(State state) {
    switch (state) {
    case State::New:
        return "new";
    case State::Connecting:
        return "connecting";
    case State::Connected:
        return "connected";
    case State::Failed:
        return "failed";
    case State::Closed:
        return "closed";
    }
    return "unknown";
}

SctpAssociation::SctpAssociation(const Options& options, Listener& listener)
    : options_(options), listener_(listener) {
    Glue::initialise();
    Registry& r = registry();
    id_ = r.nextId++;
    usrsctp_register_address(addressOf(id_));
    Entry entry;
    // Threshold 0: usrsctp reports the free send space whenever it grows,
    // which is what bufferedAmount follows.
    auto* socket = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &Glue::receive,
                                  &Glue::sendSpace, 0, addressOf(id_));
    if (socket == nullptr) {
        usrsctp_deregister_address(addressOf(id_));
        throw Error("usrsctp_socket() failed: " + std::string(std::strerror(errno)));
    }
    const char* failed = Glue::configure(socket, options_);
    sockaddr_conn local = connAddress(id_, options_.port);
    if (failed == nullptr &&
        usrsctp_bind(socket, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
        failed = "bind";
    }
    if (failed != nullptr) {
        const int error = errno;
        closeSocket(socket, id_);
        throw Error(std::string("cannot set up the SCTP socket (") + failed +
                    "): " + std::strerror(error));
    }
    socket_ = socket;
    r.live.emplace(id_, this);
}

SctpAssociation::~SctpAssociation() {
    registry().live.erase(id_);
    abortSocket();
}

void SctpAssociation::abortSocket() {
    if (socket_ == nullptr) {
        return;
    }
    auto* socket = static_cast<struct socket*>(socket_);
    socket_ = nullptr;
    Registry& r = registry();
    if (r.depth > 0) {
        r.doomed.emplace_back(socket, id_);
    } else {
        closeSocket(socket, id_);
    }
}

void SctpAssociation::setState(State state) {
    // Failed and Closed are final; usrsctp may still report the loss of an
    // association that was closed.
    if (state == state_ || state_ == State::Failed || state_ == State::Closed) {
        return;
    }
    state_ = state;
    listener_.onSctpStateChanged(state);
}

void SctpAssociation::connect() {
    if (connectStarted_ || socket_ == nullptr || state_ == State::Failed ||
        state_ == State::Closed) {
        return;
    }
    connectStarted_ = true;
    const uintptr_t id = id_;
    setState(State::Connecting);
    if (!alive(id) || socket_ == nullptr) {
        return;
    }
    Entry entry;
    sockaddr_conn peer = connAddress(id_, options_.port);
    const int rc = usrsctp_connect(static_cast<struct socket*>(socket_),
                                   reinterpret_cast<sockaddr*>(&peer), sizeof(peer));
    const int error = errno;
    if (rc != 0 && error != EINPROGRESS && alive(id)) {
        setState(State::Failed);
        return;
    }
    // A fixed path MTU, as WebRTC stacks use: SCTP packets travel inside
    // DTLS records and UDP datagrams whose overhead usrsctp cannot see, and
    // path MTU discovery does not work through them.
    sctp_paddrparams params{};
    std::memcpy(&params.spp_address, &peer, sizeof(peer));
    params.spp_flags = SPP_PMTUD_DISABLE;
    params.spp_pathmtu = kPathMtu;
    setOption(static_cast<struct socket*>(socket_), IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
}

void SctpAssociation::receivePacket(const uint8_t* data, size_t length) {
    if (socket_ == nullptr || length < kCommonHeaderLength || length > kMaxPacketLength ||
        read16(data + 2) != options_.port || !wellFormed(data, length)) {
        ++counters_.packetsDiscarded;
        return;
    }
    const uintptr_t id = id_;
    // A peer's INIT starts the association as connect() would: usrsctp
    // answers an INIT on a one-to-one socket only once it connects itself
    // (the two INITs then collide as RFC 9260 5.2.1 allows).
    if (state_ == State::New && length > kCommonHeaderLength &&
        data[kCommonHeaderLength] == kChunkInit) {
        connect();
        if (!alive(id) || socket_ == nullptr) {
            return;
        }
    }
    Entry entry;
    // usrsctp drops what fails its checks silently; its global statistics
    // (one thread drives usrsctp) tell whether this packet was one of those.
    sctpstat before;
    usrsctp_get_stat(&before);
    usrsctp_conninput(addressOf(id_), data, length, 0);
    if (!alive(id)) {
        return;
    }
    sctpstat after;
    usrsctp_get_stat(&after);
    if (after.sctps_badsum != before.sctps_badsum || after.sctps_hdrops != before.sctps_hdrops ||
        after.sctps_badvtag != before.sctps_badvtag) {
        ++counters_.packetsDiscarded;
    } else {
        ++counters_.packetsReceived;
    }
}

SctpAssociation::SendResult SctpAssociation::sendMessage(const SendParameters& parameters,
                                                         uint32_t ppid, const uint8_t* data,
                                                         size_t length) {
    if (state_ != State::Connected || socket_ == nullptr) {
        return SendResult::NotConnected;
    }
    // usrsctp takes a message only whole into the send buffer, so one larger
    // than the buffer could never go.
    if (length > options_.maxMessageSize || length > options_.sendBufferSize) {
        return SendResult::TooLarge;
    }
    if (length == 0) {
        return SendResult::Failed;
    }
    sctp_sendv_spa spa{};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = parameters.streamId;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR;
    if (!parameters.ordered) {
        spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
    }
    if (parameters.maxPacketLifeTime) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = *parameters.maxPacketLifeTime;
    } else if (parameters.maxRetransmits) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = *parameters.maxRetransmits;
    }
    const uintptr_t id = id_;
    Entry entry;
    const uint32_t bufferedBefore = bufferedAmount_;
    const ssize_t sent = usrsctp_sendv(static_cast<struct socket*>(socket_), data, length, nullptr,
                                       0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
    const int error = errno;
    if (sent < 0) {
        if (error == EWOULDBLOCK || error == EAGAIN) {
            return SendResult::BufferFull;
        }
        return error == EMSGSIZE ? SendResult::TooLarge : SendResult::Failed;
    }
    if (!alive(id)) {
        return SendResult::Sent;
    }
    ++counters_.messagesSent;
    // usrsctp reports the free space only as it grows; the message just
    // queued adds to what it last said (unless it said so meanwhile).
    if (bufferedAmount_ == bufferedBefore) {
        const uint64_t total = uint64_t{bufferedAmount_} + length;
        updateBufferedAmount(static_cast<uint32_t>(
            total > options_.sendBufferSize ? options_.sendBufferSize : total));
    }
    return SendResult::Sent;
}

void SctpAssociation::resetStream(uint16_t streamId) {
    if (socket_ == nullptr || state_ != State::Connected) {
        return;
    }
    // The request ends in a flexible array: one stream id after the header.
    alignas(sctp_reset_streams) uint8_t request[sizeof(sctp_reset_streams) + sizeof(uint16_t)]{};
    sctp_reset_streams header{};
    header.srs_assoc_id = SCTP_ALL_ASSOC;
    header.srs_flags = SCTP_STREAM_RESET_OUTGOING;
    header.srs_number_streams = 1;
    std::memcpy(request, &header, sizeof(header));
    std::memcpy(request + sizeof(header), &streamId, sizeof(streamId));
    Entry entry;
    usrsctp_setsockopt(static_cast<struct socket*>(socket_), IPPROTO_SCTP, SCTP_RESET_STREAMS,
                       request, sizeof(request));
}

void SctpAssociation::close() {
    if (socket_ == nullptr && state_ == State::Closed) {
        return;
    }
    const uintptr_t id = id_;
    const bool changed = state_ != State::Closed;
    // Closed before the abort, so that the abort's own loss report is not
    // taken for a failure.
    state_ = State::Closed;
    {
        Entry entry;
        abortSocket();
    }
    if (changed && alive(id)) {
        listener_.onSctpStateChanged(State::Closed);
    }
}

void SctpAssociation::updateBufferedAmount(uint32_t bufferedAmount) {
    if (bufferedAmount == bufferedAmount_) {
        return;
    }
    bufferedAmount_ = bufferedAmount;
    listener_.onSctpBufferedAmount(bufferedAmount);
}

void SctpAssociation::handleData(const uint8_t* data, size_t length, uint16_t streamId,
                                 uint32_t ppid, bool endOfRecord) {
    const uint32_t limit = options_.maxMessageSize;
    if (discarding_) {
        discarding_ = !endOfRecord;
        return;
    }
    if (assembling_ && streamId != partialStreamId_) {
        // A new message while one was incomplete: the old one cannot end.
        assembling_ = false;
        partial_.clear();
    }
    const size_t total = (assembling_ ? partial_.size() : 0) + length;
    if (total > limit) {
        ++counters_.messagesTooLarge;
        assembling_ = false;
        partial_.clear();
        discarding_ = !endOfRecord;
        return;
    }
    if (!assembling_ && endOfRecord) {
        ++counters_.messagesReceived;
        listener_.onSctpMessage(streamId, ppid, data, length);
        return;
    }
    if (!assembling_) {
        assembling_ = true;
        partialStreamId_ = streamId;
        partialPpid_ = ppid;
    }
    partial_.insert(partial_.end(), data, data + length);
    if (!endOfRecord) {
        return;
    }
    assembling_ = false;
    ++counters_.messagesReceived;
    const uintptr_t id = id_;
    listener_.onSctpMessage(partialStreamId_, partialPpid_, partial_.data(), partial_.size());
    if (!alive(id)) {
        return;
    }
    partial_.clear();
    // Large messages are rare: their buffer is not kept for the next one.
    if (partial_.capacity() > kKeptReassemblyCapacity) {
        partial_.shrink_to_fit();
    }
}

void SctpAssociation::handleNotification(const uint8_t* data, size_t length, bool endOfRecord) {
    // A notification too big for one read (a failed send carries the
    // message) comes in parts; only the first starts with its header.
    const bool continuation = inNotification_;
    inNotification_ = !endOfRecord;
    if (continuation) {
        return;
    }
    sctp_notification::sctp_tlv header;
    if (length < sizeof(header)) {
        return;
    }
    std::memcpy(&header, data, sizeof(header));
    if (header.sn_length < length) {
        length = header.sn_length;
    }
    switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
        sctp_assoc_change change;
        if (length < sizeof(change)) {
            return;
        }
        std::memcpy(&change, data, sizeof(change));
        switch (change.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
            negotiatedOs_ = change.sac_outbound_streams;
            negotiatedMis_ = change.sac_inbound_streams;
            setState(State::Connected);
            break;
        case SCTP_COMM_LOST:
        case SCTP_CANT_STR_ASSOC:
            setState(State::Failed);
            break;
        case SCTP_SHUTDOWN_COMP:
            setState(State::Closed);
            break;
        default:
            break;
        }
        break;
    }
    case SCTP_STREAM_RESET_EVENT: {
        sctp_stream_reset_event reset;
        if (length < sizeof(reset)) {
            return;
        }
        std::memcpy(&reset, data, sizeof(reset));
        if ((reset.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) == 0 ||
            (reset.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0) {
            return;
        }
        const uintptr_t id = id_;
        for (size_t off = sizeof(reset); off + sizeof(uint16_t) <= length;
             off += sizeof(uint16_t)) {
            uint16_t streamId;
            std::memcpy(&streamId, data + off, sizeof(streamId));
            listener_.onSctpIncomingStreamReset(streamId);
            if (!alive(id)) {
                return;
            }
        }
        break;
    }
    case SCTP_SENDER_DRY_EVENT:
        updateBufferedAmount(0);
        break;
    case SCTP_PARTIAL_DELIVERY_EVENT: {
        sctp_pdapi_event event;
        if (length >= sizeof(event)) {
            std::memcpy(&event, data, sizeof(event));
            if (event.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED) {
                assembling_ = false;
                discarding_ = false;
                partial_.clear();
            }
        }
        break;
    }
    default:
        break;
    }
}

} // namespace sfu::sctp
