// RTP over plain UDP (RFC 3550), optionally with SDES-keyed SRTP: the
// transport of ffmpeg, GStreamer and other non-WebRTC endpoints. RTCP goes on
// the RTP socket (rtcpMux) or a second one. With comedia the remote address
// is learnt from the first packet instead of being given by connect().
#pragma once

#include "deps/SockAddr.hpp"
#include "deps/UdpSocket.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "rtc/SrtpTransport.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sfu::rtc {

class PlainTransport : public SrtpTransport, private deps::UdpSocket::Listener {
public:
    PlainTransport(std::string id, Shared& shared, Transport::Listener& listener,
                   const nlohmann::json& data);
    ~PlainTransport() override;

protected:
    void connect(channel::Request& request) override;
    void fillDump(nlohmann::json& out) const override;
    void fillStats(nlohmann::json& out) const override;
    const char* statsType() const override { return "plain-rtp-transport"; }

private:
    struct Remote {
        sockaddr_storage address{};
        bool known = false;
    };

    bool isConnected() const override;
    void sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) override;
    void sendRtcpPacket(const uint8_t* data, size_t length) override;
    void sendSctpPacket(const uint8_t* data, size_t length) override;
    // Every datagram out, counted as sent.
    void send(deps::UdpSocket& socket, const Remote& remote, const uint8_t* data, size_t length);

    void onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                     const sockaddr* remote) override;
    // Whether a packet from `remote` is accepted on this leg, latching the
    // address under comedia.
    bool acceptSource(Remote& leg, const sockaddr* remote, bool isRtcp);
    nlohmann::json tupleJson(const deps::UdpSocket& socket, const Remote& remote) const;
    nlohmann::json srtpParametersJson() const;

    std::string announcedIp_;
    bool rtcpMux_ = true;
    bool comedia_ = false;
    std::unique_ptr<deps::UdpSocket> socket_;
    std::unique_ptr<deps::UdpSocket> rtcpSocket_;
    Remote remote_;
    Remote rtcpRemote_;
    bool connectCalled_ = false;
    // SDES-keyed SRTP: our key (sent to the host) and the sessions once the
    // peer's key is known.
    std::optional<srtp::CryptoSuite> srtpSuite_;
    std::vector<uint8_t> srtpLocalKey_;
};

} // namespace sfu::rtc
