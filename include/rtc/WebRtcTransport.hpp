// The transport of browsers: ICE-lite (RFC 8445) over UDP and passive TCP
// (RFC 6544, RFC 4571 framing), DTLS 1.2 (RFC 6347) to key SRTP (RFC 5764).
// Everything arrives on the same sockets and is told apart by its first
// byte (RFC 7983). Media flows once ICE has a selected tuple and DTLS is
// connected.
#pragma once

#include "deps/TcpConnection.hpp"
#include "deps/UdpSocket.hpp"
#include "deps/UvHandles.hpp"
#include "protocol/dtls/DtlsTransport.hpp"
#include "protocol/ice/IceServer.hpp"
#include "protocol/ice/Rfc4571.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/SharedPort.hpp"
#include "rtc/SrtpTransport.hpp"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sfu::rtc {

class WebRtcTransport final : public SrtpTransport,
                              private ice::IceServer::Listener,
                              private dtls::DtlsTransport::Listener,
                              private deps::UdpSocket::Listener,
                              public deps::TcpListenSocket::Listener,
                              public deps::TcpConnection::Listener,
                              private SharedPortUser {
public:
    WebRtcTransport(std::string id, Shared& shared, Transport::Listener& listener,
                    const nlohmann::json& data);
    ~WebRtcTransport() override;

private:
    // An accepted ICE-TCP connection and its framing state.
    struct TcpClient {
        std::unique_ptr<deps::TcpConnection> connection;
        ice::Rfc4571Decoder decoder;
        const deps::TcpListenSocket* server = nullptr;
    };
    struct FrameSink;

    // Transport
    void connect(channel::Request& request) override;
    void restartIce(channel::Request& request) override;
    void fillDump(nlohmann::json& out) const override;
    void fillStats(nlohmann::json& out) const override;
    const char* statsType() const override { return "webrtc-transport"; }
    bool isConnected() const override;
    void sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) override;
    void sendRtcpPacket(const uint8_t* data, size_t length) override;
    void sendSctpPacket(const uint8_t* data, size_t length) override;

    // ice::IceServer::Listener
    void sendStunPacket(const uint8_t* data, size_t size, const ice::Tuple& tuple) override;
    void onIceSelectedTuple(const ice::Tuple& tuple) override;
    void onIceConnected() override;
    void onIceCompleted() override;
    void onIceDisconnected() override;
    void onIceTupleAdded(const ice::Tuple& tuple) override;
    void onIceTupleRemoved(const ice::Tuple& tuple) override;

    // dtls::DtlsTransport::Listener
    void onDtlsConnecting() override;
    void onDtlsConnected(dtls::SrtpProfile profile, std::span<const uint8_t> localKey,
                         std::span<const uint8_t> remoteKey,
                         const std::string& remoteCertPem) override;
    void onDtlsFailed() override;
    void onDtlsClosed() override;
    void sendDtlsData(const uint8_t* data, size_t len) override;
    // SCTP over DTLS (RFC 8261).
    void onDtlsApplicationData(const uint8_t* data, size_t len) override;
    void startTimer(uint64_t ms) override;
    void stopTimer() override;

    // Sockets
    void onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                     const sockaddr* remote) override;
    void onTcpConnection(deps::TcpListenSocket* server, int status) override;
    void onTcpData(deps::TcpConnection* connection, const uint8_t* data, size_t length) override;
    void onTcpClosed(deps::TcpConnection* connection) override;

    // SharedPortUser
    void onSharedUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                           const sockaddr* remote) override;
    void adoptTcpConnection(std::unique_ptr<deps::TcpConnection> connection,
                            const deps::TcpListenSocket* server, const uint8_t* received,
                            size_t receivedLength, const uint8_t* rest, size_t restLength) override;
    // Registers the current ICE ufrag with every shared port; draws new ICE
    // credentials while another transport holds it. `previous` (if not
    // empty) is unregistered.
    void registerUfrag(const std::string& previous);
    // Forgets every registration with the shared ports.
    void unregisterFromSharedPorts();
    // The demux of the shared UDP port whose socket is `socket`, or nullptr.
    SharedPortDemux* sharedUdpDemux(const void* socket);

    // One datagram or TCP frame from the peer at `tuple`.
    void onPacket(const uint8_t* data, size_t length, const ice::Tuple& tuple);
    // Puts bytes on the wire to `tuple`.
    void sendTo(const ice::Tuple& tuple, const uint8_t* data, size_t length);
    void sendToSelected(const uint8_t* data, size_t length);
    void maybeRunDtls();
    void emitIceState(const char* state);
    // The DTLS state the host sees: the DTLS transport's, except that a
    // handshake whose keys SRTP refused counts as failed.
    std::string_view dtlsState() const;
    void emitDtlsState(const std::string* remoteCert = nullptr);
    nlohmann::json tupleJson(const ice::Tuple& tuple) const;
    nlohmann::json iceParametersJson() const;
    // The IP a local socket is announced as.
    const std::string& announcedIp(const void* socket, const std::string& localIp) const;

    std::vector<std::unique_ptr<deps::UdpSocket>> udpSockets_;
    std::vector<std::unique_ptr<deps::TcpListenSocket>> tcpServers_;
    // The worker's shared ports this transport uses (instead of its own).
    std::vector<std::shared_ptr<SharedUdpPort>> sharedUdpPorts_;
    std::vector<std::shared_ptr<SharedTcpPort>> sharedTcpPorts_;
    std::unordered_map<const void*, std::string> announcedIps_;
    std::unordered_map<const deps::TcpConnection*, std::unique_ptr<TcpClient>> tcpClients_;
    nlohmann::json iceCandidates_;
    ice::IceServer ice_;
    dtls::DtlsTransport dtls_;
    deps::UvTimer dtlsTimer_;
    deps::UvTimer iceTimer_;
    // Our DTLS role once connect() told us the peer's.
    dtls::Role dtlsLocalRole_ = dtls::Role::Auto;
    std::optional<dtls::Role> dtlsRemoteRole_;
    bool connectCalled_ = false;
};

} // namespace sfu::rtc
