#include "rtc/WebRtcTransport.hpp"

#include "Logger.hpp"
#include "deps/SockAddr.hpp"
#include "protocol/ice/Demux.hpp"
#include "protocol/ice/IceCandidate.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using nlohmann::json;

namespace {

// How often ICE consent (30 s) is checked.
constexpr uint64_t kIceTickMs = 1000;

struct ListenIp {
    std::string ip;
    std::string announcedIp;
};

std::vector<ListenIp> parseListenIps(const json& data) {
    const auto listenIps = data.find("listenIps");
    if (listenIps == data.end() || !listenIps->is_array() || listenIps->empty()) {
        throw TypeError("missing listenIps");
    }
    std::vector<ListenIp> out;
    for (const auto& entry : *listenIps) {
        if (!entry.is_object()) {
            throw TypeError("wrong listenIp (not an object)");
        }
        const auto ip = entry.find("ip");
        if (ip == entry.end() || !ip->is_string() || !deps::ipFamily(ip->get<std::string>())) {
            throw TypeError("wrong listenIp.ip");
        }
        ListenIp listenIp{deps::normalizeIp(ip->get<std::string>()), {}};
        if (const auto announced = entry.find("announcedIp");
            announced != entry.end() && !announced->is_null()) {
            if (!announced->is_string()) {
                throw TypeError("wrong listenIp.announcedIp");
            }
            listenIp.announcedIp = announced->get<std::string>();
        }
        out.push_back(std::move(listenIp));
    }
    return out;
}

bool flag(const json& data, const char* key, bool fallback) {
    const auto it = data.find(key);
    if (it == data.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_boolean()) {
        throw TypeError(std::string("wrong ") + key + " (not a boolean)");
    }
    return it->get<bool>();
}

const char* iceStateString(ice::IceState state) {
    switch (state) {
    case ice::IceState::New:
        return "new";
    case ice::IceState::Connected:
        return "connected";
    case ice::IceState::Completed:
        return "completed";
    case ice::IceState::Disconnected:
        return "disconnected";
    }
    return "new";
}

} // namespace

// Delivers RFC 4571 frames of one TCP connection as packets of its tuple. A
// frame that is no STUN, DTLS, RTP or RTCP means the peer is not speaking
// ICE-TCP: it is counted (it crossed the wire), the rest is not read and the
// connection is closed.
struct WebRtcTransport::FrameSink : ice::Rfc4571Decoder::Listener {
    WebRtcTransport& transport;
    ice::Rfc4571Decoder& decoder;
    ice::Tuple tuple;
    bool garbage = false;
    FrameSink(WebRtcTransport& t, ice::Rfc4571Decoder& d, ice::Tuple tu)
        : transport(t), decoder(d), tuple(tu) {}
    void onFrame(const uint8_t* data, size_t length) override {
        if (ice::classifyPacket(data, length) == ice::PacketKind::Unknown) {
            transport.countReceived(length);
            garbage = true;
            decoder.stop();
            return;
        }
        transport.onPacket(data, length, tuple);
    }
};

WebRtcTransport::WebRtcTransport(std::string id, Shared& shared, Transport::Listener& listener,
                                 const json& data)
    : SrtpTransport(std::move(id), shared, listener, data), ice_(*this),
      dtls_(shared.dtlsContext, *this), dtlsTimer_(shared.loop, [this] { dtls_.handleTimeout(); }),
      iceTimer_(shared.loop, [this] { ice_.tick(nowMs()); }) {
    const auto listenIps = parseListenIps(data);
    const bool enableUdp = flag(data, "enableUdp", true);
    const bool enableTcp = flag(data, "enableTcp", false);
    const bool preferUdp = flag(data, "preferUdp", false);
    const bool preferTcp = flag(data, "preferTcp", false);
    if (!enableUdp && !enableTcp) {
        throw TypeError("at least one of enableUdp and enableTcp must be true");
    }
    uint16_t port = 0;
    if (const auto p = data.find("port"); p != data.end() && !p->is_null()) {
        if (!p->is_number_unsigned() || p->get<uint64_t>() > 65535) {
            throw TypeError("wrong port");
        }
        port = p->get<uint16_t>();
    }

    SharedPorts* const sharedPorts = shared_.sharedPorts;
    iceCandidates_ = json::array();
    for (size_t i = 0; i < listenIps.size(); ++i) {
        const ListenIp& listenIp = listenIps[i];
        const std::string& candidateIp =
            listenIp.announcedIp.empty() ? listenIp.ip : listenIp.announcedIp;
        if (enableUdp) {
            deps::UdpSocket* socket = nullptr;
            if (sharedPorts != nullptr && sharedPorts->udpPort() != 0 && port == 0) {
                sharedUdpPorts_.push_back(sharedPorts->udp(listenIp.ip));
                socket = &sharedUdpPorts_.back()->socket();
            } else {
                udpSockets_.push_back(
                    shared_.portManager.bindUdp(shared_.loop, listenIp.ip, this, port));
                socket = udpSockets_.back().get();
            }
            iceCandidates_.push_back(json{
                {"foundation", "udpcandidate"},
                {"priority", ice::hostCandidatePriority(Protocol::Udp, i, preferUdp, preferTcp)},
                {"ip", candidateIp},
                {"protocol", "udp"},
                {"port", socket->localPort()},
                {"type", "host"}});
            announcedIps_[socket] = listenIp.announcedIp;
        }
        if (enableTcp) {
            deps::TcpListenSocket* server = nullptr;
            if (sharedPorts != nullptr && sharedPorts->tcpPort() != 0 && port == 0) {
                sharedTcpPorts_.push_back(sharedPorts->tcp(listenIp.ip));
                server = &sharedTcpPorts_.back()->server();
            } else {
                tcpServers_.push_back(
                    shared_.portManager.bindTcp(shared_.loop, listenIp.ip, this, port));
                server = tcpServers_.back().get();
            }
            iceCandidates_.push_back(json{
                {"foundation", "tcpcandidate"},
                {"priority", ice::hostCandidatePriority(Protocol::Tcp, i, preferUdp, preferTcp)},
                {"ip", candidateIp},
                {"protocol", "tcp"},
                {"port", server->localPort()},
                {"type", "host"},
                {"tcpType", "passive"}});
            announcedIps_[server] = listenIp.announcedIp;
        }
    }
    registerUfrag({});
    iceTimer_.start(kIceTickMs, kIceTickMs);
}

WebRtcTransport::~WebRtcTransport() {
    // Tell a connected peer, while the sockets are still there.
    dtls_.close();
    dtlsTimer_.stop();
    iceTimer_.stop();
    unregisterFromSharedPorts();
}

// ---- shared ports -----------------------------------------------------------

void WebRtcTransport::registerUfrag(const std::string& previous) {
    if (sharedUdpPorts_.empty() && sharedTcpPorts_.empty()) {
        return;
    }
    const auto demuxes = [this](const auto& visit) {
        for (const auto& port : sharedUdpPorts_) {
            visit(port->demux());
        }
        for (const auto& port : sharedTcpPorts_) {
            visit(port->demux());
        }
    };
    if (!previous.empty()) {
        demuxes([&](SharedPortDemux& demux) { demux.removeUfrag(previous, this); });
    }
    // Random 16-character ufrags practically never collide; when one does,
    // fresh credentials settle it.
    constexpr int kMaxAttempts = 8;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        const std::string ufrag = ice_.usernameFragment();
        bool free = true;
        demuxes([&](SharedPortDemux& demux) { free = free && demux.addUfrag(ufrag, this); });
        if (free) {
            return;
        }
        demuxes([&](SharedPortDemux& demux) { demux.removeUfrag(ufrag, this); });
        ice_.restartIce();
    }
    throw Error("no free ICE username fragment on the shared WebRTC ports");
}

void WebRtcTransport::unregisterFromSharedPorts() {
    for (const auto& port : sharedUdpPorts_) {
        port->demux().removeUser(this);
    }
    for (const auto& port : sharedTcpPorts_) {
        port->demux().removeUser(this);
    }
}

SharedPortDemux* WebRtcTransport::sharedUdpDemux(const void* socket) {
    for (const auto& port : sharedUdpPorts_) {
        if (&port->socket() == socket) {
            return &port->demux();
        }
    }
    return nullptr;
}

void WebRtcTransport::onIceTupleAdded(const ice::Tuple& tuple) {
    if (tuple.protocol() != Protocol::Udp) {
        return;
    }
    if (SharedPortDemux* demux = sharedUdpDemux(tuple.local())) {
        demux->addAddress(tuple.remote(), this);
    }
}

void WebRtcTransport::onIceTupleRemoved(const ice::Tuple& tuple) {
    if (tuple.protocol() != Protocol::Udp) {
        return;
    }
    if (SharedPortDemux* demux = sharedUdpDemux(tuple.local())) {
        demux->removeAddress(tuple.remote(), this);
    }
}

void WebRtcTransport::onSharedUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                                        const sockaddr* remote) {
    onUdpPacket(socket, data, length, remote);
}

void WebRtcTransport::adoptTcpConnection(std::unique_ptr<deps::TcpConnection> connection,
                                         const deps::TcpListenSocket* server,
                                         const uint8_t* received, size_t receivedLength,
                                         const uint8_t* rest, size_t restLength) {
    deps::TcpConnection* raw = connection.get();
    raw->setListener(this);
    auto client = std::make_unique<TcpClient>();
    client->server = server;
    client->connection = std::move(connection);
    tcpClients_.emplace(raw, std::move(client));
    onTcpData(raw, received, receivedLength);
    // The first frame may have closed it (the map no longer holds it then).
    if (restLength > 0 && tcpClients_.count(raw) != 0) {
        onTcpData(raw, rest, restLength);
    }
}

// ---- requests -------------------------------------------------------------

void WebRtcTransport::connect(channel::Request& request) {
    if (connectCalled_) {
        throw Error("connect() already called");
    }
    const auto params = request.data().find("dtlsParameters");
    if (params == request.data().end() || !params->is_object()) {
        throw TypeError("missing dtlsParameters");
    }
    const auto fingerprints = params->find("fingerprints");
    if (fingerprints == params->end() || !fingerprints->is_array() || fingerprints->empty()) {
        throw TypeError("missing dtlsParameters.fingerprints");
    }
    std::vector<dtls::Fingerprint> remote;
    for (const auto& entry : *fingerprints) {
        const auto algorithm = entry.is_object() ? entry.find("algorithm") : entry.end();
        const auto value = entry.is_object() ? entry.find("value") : entry.end();
        if (!entry.is_object() || algorithm == entry.end() || !algorithm->is_string() ||
            value == entry.end() || !value->is_string()) {
            throw TypeError("wrong fingerprint (needs algorithm and value strings)");
        }
        const auto parsed = dtls::parseFingerprintAlgorithm(algorithm->get<std::string>());
        if (!parsed) {
            throw TypeError("unknown fingerprint algorithm '" + algorithm->get<std::string>() +
                            "'");
        }
        remote.push_back(dtls::Fingerprint{*parsed, value->get<std::string>()});
    }
    dtls::Role remoteRole = dtls::Role::Auto;
    if (const auto role = params->find("role"); role != params->end() && !role->is_null()) {
        const auto parsed =
            role->is_string() ? dtls::parseRole(role->get<std::string>()) : std::nullopt;
        if (!parsed) {
            throw TypeError("wrong dtlsParameters.role");
        }
        remoteRole = *parsed;
    }
    dtls_.setRemoteFingerprints(std::move(remote));
    dtlsRemoteRole_ = remoteRole;
    // The peer's role decides ours; running DTLS waits for ICE.
    dtlsLocalRole_ = remoteRole == dtls::Role::Client ? dtls::Role::Server : dtls::Role::Client;
    connectCalled_ = true;
    request.accept(json{{"dtlsLocalRole", dtls::roleName(dtlsLocalRole_)}});
    maybeRunDtls();
}

void WebRtcTransport::restartIce(channel::Request& request) {
    const std::string previous = ice_.usernameFragment();
    ice_.restartIce();
    registerUfrag(previous);
    request.accept(json{{"iceParameters", iceParametersJson()}});
}

json WebRtcTransport::iceParametersJson() const {
    return json{{"usernameFragment", ice_.usernameFragment()},
                {"password", ice_.password()},
                {"iceLite", true}};
}

const std::string& WebRtcTransport::announcedIp(const void* socket,
                                                const std::string& localIp) const {
    const auto it = announcedIps_.find(socket);
    return it == announcedIps_.end() || it->second.empty() ? localIp : it->second;
}

json WebRtcTransport::tupleJson(const ice::Tuple& tuple) const {
    std::string localIp;
    uint16_t localPort = 0;
    const void* socket = nullptr;
    if (tuple.protocol() == Protocol::Udp) {
        const auto* udp = static_cast<const deps::UdpSocket*>(tuple.local());
        socket = udp;
        localIp = udp->localIp();
        localPort = udp->localPort();
    } else {
        const auto it = tcpClients_.find(static_cast<const deps::TcpConnection*>(tuple.local()));
        if (it != tcpClients_.end() && it->second->server != nullptr) {
            socket = it->second->server;
            localIp = it->second->server->localIp();
            localPort = it->second->server->localPort();
        }
    }
    std::string remoteIp;
    uint16_t remotePort = 0;
    deps::formatAddress(tuple.remote(), remoteIp, remotePort);
    return json{{"localIp", announcedIp(socket, localIp)},
                {"localPort", localPort},
                {"remoteIp", remoteIp},
                {"remotePort", remotePort},
                {"protocol", protocolName(tuple.protocol())}};
}

void WebRtcTransport::fillDump(json& out) const {
    out["iceRole"] = "controlled";
    out["iceParameters"] = iceParametersJson();
    out["iceCandidates"] = iceCandidates_;
    out["iceState"] = iceStateString(ice_.state());
    if (const ice::Tuple* selected = ice_.selectedTuple()) {
        out["iceSelectedTuple"] = tupleJson(*selected);
    }
    json fingerprints = json::array();
    for (const auto& fingerprint : shared_.dtlsContext->certificate().fingerprints()) {
        fingerprints.push_back(
            json{{"algorithm", dtls::fingerprintAlgorithmName(fingerprint.algorithm)},
                 {"value", fingerprint.value}});
    }
    out["dtlsParameters"] =
        json{{"fingerprints", std::move(fingerprints)}, {"role", dtls::roleName(dtlsLocalRole_)}};
    out["dtlsState"] = dtlsState();
    // Not in the host's types: what the ICE server made of the checks it got.
    const auto& counters = ice_.counters();
    out["iceChecks"] = json{{"valid", counters.validChecks},
                            {"malformed", counters.malformed},
                            {"badFingerprint", counters.badFingerprint},
                            {"badUsername", counters.badUsername},
                            {"badIntegrity", counters.badIntegrity},
                            {"badRequest", counters.badRequest},
                            {"roleConflict", counters.roleConflict}};
    // Not in the host's types either: the shared ports this transport uses,
    // with what they dropped for every transport on them.
    if (!sharedUdpPorts_.empty() || !sharedTcpPorts_.empty()) {
        json ports = json::array();
        for (const auto& port : sharedUdpPorts_) {
            ports.push_back(port->dump());
        }
        for (const auto& port : sharedTcpPorts_) {
            ports.push_back(port->dump());
        }
        out["sharedPorts"] = std::move(ports);
    }
    addSrtpCounters(out);
}

void WebRtcTransport::fillStats(json& out) const {
    out["iceRole"] = "controlled";
    out["iceState"] = iceStateString(ice_.state());
    if (const ice::Tuple* selected = ice_.selectedTuple()) {
        out["iceSelectedTuple"] = tupleJson(*selected);
    }
    out["dtlsState"] = dtlsState();
}

bool WebRtcTransport::isConnected() const {
    const auto state = ice_.state();
    return (state == ice::IceState::Connected || state == ice::IceState::Completed) &&
           ice_.selectedTuple() != nullptr && hasSrtp();
}

// ---- packets in -----------------------------------------------------------

void WebRtcTransport::onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                                  const sockaddr* remote) {
    onPacket(data, length, ice::Tuple(Protocol::Udp, socket, remote));
}

void WebRtcTransport::onTcpConnection(deps::TcpListenSocket* server, int status) {
    if (status != 0) {
        return;
    }
    auto* handle = server->accept();
    if (handle == nullptr) {
        return;
    }
    auto client = std::make_unique<TcpClient>();
    client->server = server;
    client->connection = std::make_unique<deps::TcpConnection>(handle, this);
    tcpClients_.emplace(client->connection.get(), std::move(client));
}

void WebRtcTransport::onTcpData(deps::TcpConnection* connection, const uint8_t* data,
                                size_t length) {
    const auto it = tcpClients_.find(connection);
    if (it == tcpClients_.end()) {
        return;
    }
    TcpClient& client = *it->second;
    FrameSink sink(*this, client.decoder,
                   ice::Tuple(Protocol::Tcp, connection, connection->remoteAddress()));
    if (!client.decoder.feed(data, length, sink) || sink.garbage) {
        SFU_WARN("webrtc transport %s: invalid ICE-TCP data, connection closed", id_.c_str());
        discardReceived();
        onTcpClosed(connection);
    }
}

void WebRtcTransport::onTcpClosed(deps::TcpConnection* connection) {
    auto node = tcpClients_.extract(connection);
    if (node.empty()) {
        return;
    }
    // Deliver nothing more of what this read held.
    node.mapped()->decoder.stop();
    ice_.removeTuple(ice::Tuple(Protocol::Tcp, connection, connection->remoteAddress()));
    node.mapped()->connection->close();
}

void WebRtcTransport::onPacket(const uint8_t* data, size_t length, const ice::Tuple& tuple) {
    countReceived(length);
    switch (const auto kind = ice::classifyPacket(data, length)) {
    case ice::PacketKind::Stun:
        ice_.processStunPacket(data, length, tuple, nowMs());
        return;
    case ice::PacketKind::Dtls:
        if (ice_.isValidTuple(tuple)) {
            dtls_.processDtlsData(data, length);
        } else {
            discardReceived();
        }
        return;
    case ice::PacketKind::Rtp:
    case ice::PacketKind::Rtcp:
        if (!hasSrtp() || !ice_.isValidTuple(tuple)) {
            discardReceived();
            return;
        }
        receiveMediaBytes(data, length, kind == ice::PacketKind::Rtcp);
        return;
    case ice::PacketKind::Unknown:
        discardReceived();
        return;
    }
}

// ---- packets out ----------------------------------------------------------

void WebRtcTransport::sendTo(const ice::Tuple& tuple, const uint8_t* data, size_t length) {
    if (tuple.protocol() == Protocol::Udp) {
        auto* socket = static_cast<deps::UdpSocket*>(const_cast<void*>(tuple.local()));
        if (socket->send(data, length, tuple.remote())) {
            countSent(length);
        }
    } else {
        const auto it = tcpClients_.find(static_cast<const deps::TcpConnection*>(tuple.local()));
        if (it == tcpClients_.end() || length > ice::Rfc4571Decoder::kMaxFrameSize) {
            return;
        }
        uint8_t header[2];
        ice::writeRfc4571Header(header, length);
        uv_buf_t bufs[2] = {uv_buf_init(reinterpret_cast<char*>(header), 2),
                            uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)),
                                        static_cast<unsigned>(length))};
        if (it->second->connection->write(bufs, 2)) {
            countSent(length);
        }
    }
}

void WebRtcTransport::sendToSelected(const uint8_t* data, size_t length) {
    if (const ice::Tuple* selected = ice_.selectedTuple()) {
        sendTo(*selected, data, length);
    }
}

void WebRtcTransport::sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) {
    (void)consumer;
    if (!isConnected()) {
        return;
    }
    size_t size = 0;
    if (protectRtp(packet, size)) {
        sendToSelected(packet.data(), size);
    }
}

void WebRtcTransport::sendRtcpPacket(const uint8_t* data, size_t length) {
    if (!isConnected()) {
        return;
    }
    size_t size = length;
    if (const uint8_t* out = protectRtcp(data, size)) {
        sendToSelected(out, size);
    }
}

void WebRtcTransport::sendStunPacket(const uint8_t* data, size_t size, const ice::Tuple& tuple) {
    sendTo(tuple, data, size);
}

// ---- ICE ------------------------------------------------------------------

void WebRtcTransport::emitIceState(const char* state) {
    shared_.channel.notify(id_, "icestatechange", json{{"iceState", state}});
}

void WebRtcTransport::onIceSelectedTuple(const ice::Tuple& tuple) {
    shared_.channel.notify(id_, "iceselectedtuplechange",
                           json{{"iceSelectedTuple", tupleJson(tuple)}});
    connectionChanged();
}

void WebRtcTransport::onIceConnected() {
    emitIceState("connected");
    maybeRunDtls();
    connectionChanged();
}

void WebRtcTransport::onIceCompleted() {
    emitIceState("completed");
    maybeRunDtls();
    connectionChanged();
}

void WebRtcTransport::onIceDisconnected() {
    emitIceState("disconnected");
    connectionChanged();
}

// ---- DTLS -----------------------------------------------------------------

void WebRtcTransport::maybeRunDtls() {
    const auto state = ice_.state();
    if (state != ice::IceState::Connected && state != ice::IceState::Completed) {
        return;
    }
    const dtls::Role role =
        dtls::resolveRole(connectCalled_ ? dtlsLocalRole_ : dtls::Role::Auto, dtlsRemoteRole_);
    if (dtls_.state() == dtls::State::Connected && dtls_.localRole() == role) {
        return;
    }
    dtls_.run(role);
}

std::string_view WebRtcTransport::dtlsState() const {
    if (dtls_.state() == dtls::State::Connected && !hasSrtp()) {
        return "failed";
    }
    return dtls::stateName(dtls_.state());
}

void WebRtcTransport::emitDtlsState(const std::string* remoteCert) {
    json data{{"dtlsState", dtlsState()}};
    if (remoteCert != nullptr) {
        data["dtlsRemoteCert"] = *remoteCert;
    }
    shared_.channel.notify(id_, "dtlsstatechange", data);
}

void WebRtcTransport::onDtlsConnecting() {
    emitDtlsState();
}

void WebRtcTransport::onDtlsConnected(dtls::SrtpProfile profile, std::span<const uint8_t> localKey,
                                      std::span<const uint8_t> remoteKey,
                                      const std::string& remoteCertPem) {
    const auto suite = srtp::parseCryptoSuite(dtls::srtpProfileName(profile));
    try {
        auto out = std::make_unique<srtp::SrtpSession>(srtp::Direction::Outbound, *suite, localKey);
        setSrtp(std::make_unique<srtp::SrtpSession>(srtp::Direction::Inbound, *suite, remoteKey),
                std::move(out));
    } catch (const std::exception& e) {
        SFU_ERROR("webrtc transport %s: cannot create SRTP sessions: %s", id_.c_str(), e.what());
        resetSrtp();
        emitDtlsState();
        return;
    }
    emitDtlsState(&remoteCertPem);
    connectionChanged();
}

void WebRtcTransport::onDtlsFailed() {
    SFU_WARN("webrtc transport %s: DTLS failed: %s", id_.c_str(), dtls_.lastError().c_str());
    resetSrtp();
    emitDtlsState();
    connectionChanged();
}

void WebRtcTransport::onDtlsClosed() {
    SFU_DEBUG(Dtls, "webrtc transport %s: DTLS closed by the peer", id_.c_str());
    resetSrtp();
    emitDtlsState();
    connectionChanged();
}

void WebRtcTransport::sendDtlsData(const uint8_t* data, size_t len) {
    sendToSelected(data, len);
}

void WebRtcTransport::onDtlsApplicationData(const uint8_t* data, size_t len) {
    receiveSctpPacket(data, len);
}

void WebRtcTransport::sendSctpPacket(const uint8_t* data, size_t length) {
    if (!dtls_.sendApplicationData(data, length)) {
        SFU_DEBUG(Sctp, "webrtc transport %s: SCTP packet not sent (DTLS not connected)",
                  id_.c_str());
    }
}

void WebRtcTransport::startTimer(uint64_t ms) {
    dtlsTimer_.start(ms);
}

void WebRtcTransport::stopTimer() {
    dtlsTimer_.stop();
}

} // namespace sfu::rtc
