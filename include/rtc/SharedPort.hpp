// One UDP port and one TCP port shared by every WebRtcTransport of the
// worker (settings webRtcUdpPort / webRtcTcpPort), so that one firewall rule
// covers them all and egress to many peers leaves through one socket (the
// loop's batched sendmmsg packs the datagrams of every transport together).
//
// Packets are told apart by ICE username fragment, then by remote address:
//  - a STUN request carrying USERNAME "<ours>:<theirs>" goes to the
//    transport whose ufrag is "<ours>";
//  - anything else (DTLS, RTP, RTCP, STUN indications) goes to the transport
//    that accepted a check from that address (one of its ICE tuples).
// Nothing else is answered: an unknown ufrag or an unknown source is a
// counted drop. Transports register their ufrag (again after an ICE
// restart) and each UDP tuple their ICE server holds; both go when the
// transport closes or ICE forgets the tuple, so the maps hold one ufrag and
// at most IceServer::kMaxTuples addresses per transport.
//
// On TCP each accepted connection is unassigned until its first RFC 4571
// frame, which must be a STUN request with a known ufrag: the connection is
// then handed to that transport with the bytes read so far. Anything else
// closes it; so does silence for kPendingTimeoutMs, and the oldest of
// kMaxPending unassigned connections makes room for a new one.
//
// A shared port is opened by the first transport on its listen IP and closed
// with the last one (SharedPorts hands out shared_ptrs and keeps weak ones).
#pragma once

#include "deps/TcpConnection.hpp"
#include "deps/TcpListenSocket.hpp"
#include "deps/UdpSocket.hpp"
#include "deps/UvHandles.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sfu::rtc {

class PortManager;

// The side of a transport that a shared port delivers to.
class SharedPortUser {
public:
    virtual ~SharedPortUser() = default;
    // One datagram for this transport. `data` and `remote` are valid during
    // the call only.
    virtual void onSharedUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                                   const sockaddr* remote) = 0;
    // A connection accepted on `server` whose first frame named this
    // transport: it is the transport's from here. `received` is what was
    // read up to the end of that frame (its RFC 4571 header included),
    // `rest` what followed it in the same read.
    virtual void adoptTcpConnection(std::unique_ptr<deps::TcpConnection> connection,
                                    const deps::TcpListenSocket* server, const uint8_t* received,
                                    size_t receivedLength, const uint8_t* rest,
                                    size_t restLength) = 0;
};

// The local part of a STUN USERNAME "<ours>:<theirs>": empty when there is
// no ':' or either part is empty.
std::string_view localUfragOf(std::string_view username);

// The maps of one shared port: ufrag -> transport, remote address ->
// transport. Allocation-free on lookups (media packets).
class SharedPortDemux {
public:
    struct Counters {
        // STUN requests naming a ufrag no transport has (or no USERNAME).
        uint64_t unknownUfrag = 0;
        // Other packets from an address no transport has checked.
        uint64_t unknownAddress = 0;
    };

    // False when another transport holds `ufrag` (then nothing changes).
    bool addUfrag(std::string_view ufrag, SharedPortUser* user);
    // Removes `ufrag` if `user` holds it.
    void removeUfrag(std::string_view ufrag, SharedPortUser* user);
    // Packets from `remote` go to `user` from now on (the most recent check
    // wins when two transports share a peer address).
    void addAddress(const sockaddr* remote, SharedPortUser* user);
    // Removes `remote` if `user` holds it.
    void removeAddress(const sockaddr* remote, SharedPortUser* user);
    // Removes every registration of `user`.
    void removeUser(SharedPortUser* user);

    SharedPortUser* userOfUfrag(std::string_view ufrag) const;
    SharedPortUser* userOfAddress(const sockaddr* remote) const;

    // The transport a datagram from `remote` belongs to, or nullptr (a
    // counted drop).
    SharedPortUser* route(const uint8_t* data, size_t length, const sockaddr* remote);
    // The transport the first frame of a TCP connection names: a STUN
    // request with a known ufrag; else nullptr (counted as unknownUfrag).
    SharedPortUser* routeFirstTcpFrame(const uint8_t* data, size_t length);

    size_t ufragCount() const { return ufrags_.size(); }
    size_t addressCount() const { return addresses_.size(); }
    const Counters& counters() const { return counters_; }

private:
    struct AddressKey {
        explicit AddressKey(const sockaddr* remote);
        union {
            sockaddr sa;
            sockaddr_in v4;
            sockaddr_in6 v6;
        } address;
    };
    struct AddressHash {
        size_t operator()(const AddressKey& key) const;
    };
    struct AddressEqual {
        bool operator()(const AddressKey& a, const AddressKey& b) const;
    };
    struct UfragHash {
        using is_transparent = void;
        size_t operator()(std::string_view ufrag) const {
            return std::hash<std::string_view>{}(ufrag);
        }
    };
    // The user a STUN request's USERNAME names; nullptr when `data` is no
    // STUN request with a USERNAME.
    SharedPortUser* userOfRequest(const uint8_t* data, size_t length, bool& isRequest) const;

    std::unordered_map<std::string, SharedPortUser*, UfragHash, std::equal_to<>> ufrags_;
    std::unordered_map<AddressKey, SharedPortUser*, AddressHash, AddressEqual> addresses_;
    Counters counters_;
};

// The shared UDP socket of one listen IP.
class SharedUdpPort final : private deps::UdpSocket::Listener {
public:
    // Binds `ip`:`port` through the port manager. Throws sfu::Error when it
    // cannot be bound.
    SharedUdpPort(PortManager& ports, uv_loop_t* loop, const std::string& ip, uint16_t port);
    ~SharedUdpPort() override;

    deps::UdpSocket& socket() { return *socket_; }
    SharedPortDemux& demux() { return demux_; }
    const SharedPortDemux& demux() const { return demux_; }
    const deps::UdpSocket& socket() const { return *socket_; }
    // Port, transports, registered addresses and drop counters.
    nlohmann::json dump() const;

private:
    void onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                     const sockaddr* remote) override;

    std::unique_ptr<deps::UdpSocket> socket_;
    SharedPortDemux demux_;
};

// The shared listening TCP socket of one listen IP, with its unassigned
// connections.
class SharedTcpPort final : private deps::TcpListenSocket::Listener,
                            private deps::TcpConnection::Listener {
public:
    static constexpr size_t kMaxPending = 64;
    static constexpr uint64_t kPendingTimeoutMs = 5000;
    // A first frame is one STUN binding request: small.
    static constexpr size_t kMaxFirstFrame = 1024;

    struct Counters {
        uint64_t accepted = 0;
        uint64_t assigned = 0;
        // First frame not a STUN request with a known ufrag, or oversized.
        uint64_t rejected = 0;
        uint64_t timedOut = 0;
        uint64_t evicted = 0;
    };

    SharedTcpPort(PortManager& ports, uv_loop_t* loop, const std::string& ip, uint16_t port);
    ~SharedTcpPort() override;

    deps::TcpListenSocket& server() { return *server_; }
    const deps::TcpListenSocket& server() const { return *server_; }
    SharedPortDemux& demux() { return demux_; }
    const SharedPortDemux& demux() const { return demux_; }
    size_t pendingCount() const { return pending_.size(); }
    const Counters& counters() const { return counters_; }
    // Port, transports, waiting connections and counters.
    nlohmann::json dump() const;

private:
    struct Pending {
        std::unique_ptr<deps::TcpConnection> connection;
        uint64_t acceptedMs = 0;
        size_t filled = 0;
        std::array<uint8_t, 2 + kMaxFirstFrame> buffer{};
    };

    void onTcpConnection(deps::TcpListenSocket* server, int status) override;
    void onTcpData(deps::TcpConnection* connection, const uint8_t* data, size_t length) override;
    void onTcpClosed(deps::TcpConnection* connection) override;
    void expire();
    size_t find(const deps::TcpConnection* connection) const;
    // Closes and forgets the pending connection at `index`.
    void drop(size_t index);

    uv_loop_t* loop_;
    std::unique_ptr<deps::TcpListenSocket> server_;
    SharedPortDemux demux_;
    std::vector<std::unique_ptr<Pending>> pending_;
    deps::UvTimer timer_;
    Counters counters_;
};

// The worker's shared ports, by listen IP. Off (no port) for a protocol
// whose setting is 0.
class SharedPorts {
public:
    SharedPorts(uv_loop_t* loop, PortManager& ports, uint16_t udpPort, uint16_t tcpPort);

    uint16_t udpPort() const { return udpPort_; }
    uint16_t tcpPort() const { return tcpPort_; }

    // The shared port on `ip` (a normalized IP), opened now when no
    // transport uses it. Throws sfu::Error when it cannot be bound.
    std::shared_ptr<SharedUdpPort> udp(const std::string& ip);
    std::shared_ptr<SharedTcpPort> tcp(const std::string& ip);

private:
    uv_loop_t* loop_;
    PortManager& ports_;
    uint16_t udpPort_;
    uint16_t tcpPort_;
    std::map<std::string, std::weak_ptr<SharedUdpPort>> udp_;
    std::map<std::string, std::weak_ptr<SharedTcpPort>> tcp_;
};

} // namespace sfu::rtc
