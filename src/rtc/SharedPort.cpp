#include "rtc/SharedPort.hpp"

#include "Logger.hpp"
#include "deps/SockAddr.hpp"
#include "protocol/ice/Demux.hpp"
#include "protocol/ice/StunMessage.hpp"
#include "rtc/PortManager.hpp"
#include "utils/Bytes.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace sfu::rtc {

using nlohmann::json;

namespace {

// How often unassigned TCP connections are checked for silence.
constexpr uint64_t kPendingCheckMs = 1000;

} // namespace

std::string_view localUfragOf(std::string_view username) {
    const size_t colon = username.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == username.size()) {
        return {};
    }
    return username.substr(0, colon);
}

// ---- SharedPortDemux --------------------------------------------------------

SharedPortDemux::AddressKey::AddressKey(const sockaddr* remote) {
    std::memset(&address, 0, sizeof(address));
    const socklen_t length = deps::addressLength(remote);
    std::memcpy(&address, remote, std::min<size_t>(length, sizeof(address)));
}

size_t SharedPortDemux::AddressHash::operator()(const AddressKey& key) const {
    return deps::hashAddress(&key.address.sa);
}

bool SharedPortDemux::AddressEqual::operator()(const AddressKey& a, const AddressKey& b) const {
    return deps::sameAddress(&a.address.sa, &b.address.sa);
}

bool SharedPortDemux::addUfrag(std::string_view ufrag, SharedPortUser* user) {
    const auto it = ufrags_.find(ufrag);
    if (it != ufrags_.end()) {
        return it->second == user;
    }
    ufrags_.emplace(std::string(ufrag), user);
    return true;
}

void SharedPortDemux::removeUfrag(std::string_view ufrag, SharedPortUser* user) {
    const auto it = ufrags_.find(ufrag);
    if (it != ufrags_.end() && it->second == user) {
        ufrags_.erase(it);
    }
}

void SharedPortDemux::addAddress(const sockaddr* remote, SharedPortUser* user) {
    if (!deps::familyOf(remote)) {
        return;
    }
    addresses_.insert_or_assign(AddressKey(remote), user);
}

void SharedPortDemux::removeAddress(const sockaddr* remote, SharedPortUser* user) {
    if (!deps::familyOf(remote)) {
        return;
    }
    const auto it = addresses_.find(AddressKey(remote));
    if (it != addresses_.end() && it->second == user) {
        addresses_.erase(it);
    }
}

void SharedPortDemux::removeUser(SharedPortUser* user) {
    std::erase_if(ufrags_, [user](const auto& entry) { return entry.second == user; });
    std::erase_if(addresses_, [user](const auto& entry) { return entry.second == user; });
}

SharedPortUser* SharedPortDemux::userOfUfrag(std::string_view ufrag) const {
    const auto it = ufrags_.find(ufrag);
    return it == ufrags_.end() ? nullptr : it->second;
}

SharedPortUser* SharedPortDemux::userOfAddress(const sockaddr* remote) const {
    if (!deps::familyOf(remote)) {
        return nullptr;
    }
    const auto it = addresses_.find(AddressKey(remote));
    return it == addresses_.end() ? nullptr : it->second;
}

SharedPortUser* SharedPortDemux::userOfRequest(const uint8_t* data, size_t length,
                                               bool& isRequest) const {
    isRequest = false;
    if (ice::classifyPacket(data, length) != ice::PacketKind::Stun) {
        return nullptr;
    }
    const auto message = ice::StunMessage::parse(data, length);
    if (!message || message->messageClass() != ice::StunClass::Request) {
        return nullptr;
    }
    isRequest = true;
    const std::string_view ufrag = localUfragOf(message->username());
    return ufrag.empty() ? nullptr : userOfUfrag(ufrag);
}

SharedPortUser* SharedPortDemux::route(const uint8_t* data, size_t length, const sockaddr* remote) {
    bool isRequest = false;
    SharedPortUser* user = userOfRequest(data, length, isRequest);
    if (isRequest) {
        if (user == nullptr) {
            ++counters_.unknownUfrag;
        }
        return user;
    }
    user = userOfAddress(remote);
    if (user == nullptr) {
        ++counters_.unknownAddress;
    }
    return user;
}

SharedPortUser* SharedPortDemux::routeFirstTcpFrame(const uint8_t* data, size_t length) {
    bool isRequest = false;
    SharedPortUser* user = userOfRequest(data, length, isRequest);
    if (user == nullptr) {
        ++counters_.unknownUfrag;
    }
    return user;
}

// ---- SharedUdpPort ----------------------------------------------------------

SharedUdpPort::SharedUdpPort(PortManager& ports, uv_loop_t* loop, const std::string& ip,
                             uint16_t port) {
    try {
        socket_ = ports.bindUdp(loop, ip, this, port);
    } catch (const std::exception& e) {
        throw Error("cannot open the shared WebRTC UDP port " + std::to_string(port) + " on " + ip +
                    ": " + e.what());
    }
}

SharedUdpPort::~SharedUdpPort() = default;

void SharedUdpPort::onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                                const sockaddr* remote) {
    if (SharedPortUser* user = demux_.route(data, length, remote)) {
        user->onSharedUdpPacket(socket, data, length, remote);
    }
}

json SharedUdpPort::dump() const {
    const auto& counters = demux_.counters();
    return json{{"protocol", "udp"},
                {"ip", socket_->localIp()},
                {"port", socket_->localPort()},
                {"transports", demux_.ufragCount()},
                {"addresses", demux_.addressCount()},
                {"unknownUfrag", counters.unknownUfrag},
                {"unknownAddress", counters.unknownAddress}};
}

// ---- SharedTcpPort ----------------------------------------------------------

SharedTcpPort::SharedTcpPort(PortManager& ports, uv_loop_t* loop, const std::string& ip,
                             uint16_t port)
    : loop_(loop), timer_(loop, [this] { expire(); }) {
    try {
        server_ = ports.bindTcp(loop, ip, this, port);
    } catch (const std::exception& e) {
        throw Error("cannot open the shared WebRTC TCP port " + std::to_string(port) + " on " + ip +
                    ": " + e.what());
    }
    pending_.reserve(kMaxPending);
}

SharedTcpPort::~SharedTcpPort() {
    timer_.stop();
}

void SharedTcpPort::onTcpConnection(deps::TcpListenSocket* server, int status) {
    if (status != 0) {
        return;
    }
    auto* handle = server->accept();
    if (handle == nullptr) {
        return;
    }
    ++counters_.accepted;
    if (pending_.size() == kMaxPending) {
        ++counters_.evicted;
        drop(0);
    }
    auto pending = std::make_unique<Pending>();
    pending->acceptedMs = uv_now(loop_);
    pending->connection = std::make_unique<deps::TcpConnection>(
        handle, static_cast<deps::TcpConnection::Listener*>(this));
    pending_.push_back(std::move(pending));
    if (!timer_.active()) {
        timer_.start(kPendingCheckMs, kPendingCheckMs);
    }
}

size_t SharedTcpPort::find(const deps::TcpConnection* connection) const {
    for (size_t i = 0; i < pending_.size(); ++i) {
        if (pending_[i]->connection.get() == connection) {
            return i;
        }
    }
    return pending_.size();
}

void SharedTcpPort::drop(size_t index) {
    pending_[index]->connection->close();
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
}

void SharedTcpPort::onTcpData(deps::TcpConnection* connection, const uint8_t* data, size_t length) {
    const size_t index = find(connection);
    if (index == pending_.size()) {
        return;
    }
    Pending& pending = *pending_[index];
    size_t used = 0;
    while (used < length && pending.filled < 2) {
        pending.buffer[pending.filled++] = data[used++];
    }
    if (pending.filled < 2) {
        return;
    }
    const size_t frameLength = bytes::get16(pending.buffer.data());
    if (frameLength < ice::kStunHeaderSize || frameLength > kMaxFirstFrame) {
        ++counters_.rejected;
        drop(index);
        return;
    }
    const size_t take = std::min(2 + frameLength - pending.filled, length - used);
    std::memcpy(pending.buffer.data() + pending.filled, data + used, take);
    pending.filled += take;
    used += take;
    if (pending.filled < 2 + frameLength) {
        return;
    }
    SharedPortUser* user = demux_.routeFirstTcpFrame(pending.buffer.data() + 2, frameLength);
    if (user == nullptr) {
        ++counters_.rejected;
        drop(index);
        return;
    }
    ++counters_.assigned;
    std::unique_ptr<Pending> assigned = std::move(pending_[index]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
    user->adoptTcpConnection(std::move(assigned->connection), server_.get(),
                             assigned->buffer.data(), assigned->filled, data + used, length - used);
}

void SharedTcpPort::onTcpClosed(deps::TcpConnection* connection) {
    const size_t index = find(connection);
    if (index < pending_.size()) {
        drop(index);
    }
}

void SharedTcpPort::expire() {
    const uint64_t now = uv_now(loop_);
    for (size_t i = pending_.size(); i-- > 0;) {
        if (now - pending_[i]->acceptedMs >= kPendingTimeoutMs) {
            ++counters_.timedOut;
            drop(i);
        }
    }
    if (pending_.empty()) {
        timer_.stop();
    }
}

json SharedTcpPort::dump() const {
    return json{{"protocol", "tcp"},
                {"ip", server_->localIp()},
                {"port", server_->localPort()},
                {"transports", demux_.ufragCount()},
                {"pendingConnections", pending_.size()},
                {"accepted", counters_.accepted},
                {"assigned", counters_.assigned},
                {"rejected", counters_.rejected},
                {"timedOut", counters_.timedOut},
                {"evicted", counters_.evicted}};
}

// ---- SharedPorts ------------------------------------------------------------

SharedPorts::SharedPorts(uv_loop_t* loop, PortManager& ports, uint16_t udpPort, uint16_t tcpPort)
    : loop_(loop), ports_(ports), udpPort_(udpPort), tcpPort_(tcpPort) {}

namespace {

template <typename Port>
std::shared_ptr<Port> openShared(std::map<std::string, std::weak_ptr<Port>>& open,
                                 const std::string& ip, PortManager& ports, uv_loop_t* loop,
                                 uint16_t port) {
    std::erase_if(open, [](const auto& entry) { return entry.second.expired(); });
    if (auto existing = open[ip].lock()) {
        return existing;
    }
    auto created = std::make_shared<Port>(ports, loop, ip, port);
    open[ip] = created;
    return created;
}

} // namespace

std::shared_ptr<SharedUdpPort> SharedPorts::udp(const std::string& ip) {
    try {
        return openShared(udp_, ip, ports_, loop_, udpPort_);
    } catch (...) {
        udp_.erase(ip);
        throw;
    }
}

std::shared_ptr<SharedTcpPort> SharedPorts::tcp(const std::string& ip) {
    try {
        return openShared(tcp_, ip, ports_, loop_, tcpPort_);
    } catch (...) {
        tcp_.erase(ip);
        throw;
    }
}

} // namespace sfu::rtc
