#include "rtc/PlainTransport.hpp"

#include "Logger.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/sctp/SctpAssociation.hpp"
#include "protocol/srtp/Base64.hpp"
#include "protocol/srtp/KeyGenerator.hpp"
#include "rtc/PortManager.hpp"
#include "utils/Errors.hpp"

#include <cstring>

namespace sfu::rtc {

using nlohmann::json;

namespace {

struct ListenIp {
    std::string ip;
    std::string announcedIp;
};

ListenIp parseListenIp(const json& data) {
    const auto listenIp = data.find("listenIp");
    if (listenIp == data.end() || !listenIp->is_object()) {
        throw TypeError("missing listenIp");
    }
    const auto ip = listenIp->find("ip");
    if (ip == listenIp->end() || !ip->is_string()) {
        throw TypeError("missing listenIp.ip");
    }
    ListenIp out;
    out.ip = ip->get<std::string>();
    if (!deps::ipFamily(out.ip)) {
        throw TypeError("invalid listenIp.ip '" + out.ip + "'");
    }
    out.ip = deps::normalizeIp(out.ip);
    if (const auto announced = listenIp->find("announcedIp");
        announced != listenIp->end() && !announced->is_null()) {
        if (!announced->is_string()) {
            throw TypeError("invalid listenIp.announcedIp");
        }
        out.announcedIp = announced->get<std::string>();
    }
    return out;
}

bool optionalBool(const json& data, const char* key, bool fallback) {
    const auto it = data.find(key);
    if (it == data.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_boolean()) {
        throw TypeError(std::string("invalid ") + key + " (not a boolean)");
    }
    return it->get<bool>();
}

srtp::CryptoSuite parseSuite(const json& value) {
    if (!value.is_string()) {
        throw TypeError("invalid srtpCryptoSuite (not a string)");
    }
    const auto suite = srtp::parseCryptoSuite(value.get<std::string>());
    if (!suite) {
        throw TypeError("invalid srtp crypto suite '" + value.get<std::string>() + "'");
    }
    if (!srtp::SrtpSession::suiteSupported(*suite)) {
        throw TypeError("srtp crypto suite '" + value.get<std::string>() +
                        "' is not supported by this libsrtp");
    }
    return *suite;
}

bool sameIp(const sockaddr* a, const sockaddr* b) {
    char ipA[64];
    char ipB[64];
    return deps::formatIp(a, ipA, sizeof(ipA)) && deps::formatIp(b, ipB, sizeof(ipB)) &&
           std::strcmp(ipA, ipB) == 0;
}

} // namespace

PlainTransport::PlainTransport(std::string id, Shared& shared, Transport::Listener& listener,
                               const json& data)
    : SrtpTransport(std::move(id), shared, listener, data) {
    const ListenIp listenIp = parseListenIp(data);
    announcedIp_ = listenIp.announcedIp;
    rtcpMux_ = optionalBool(data, "rtcpMux", true);
    comedia_ = optionalBool(data, "comedia", false);
    uint16_t port = 0;
    if (const auto p = data.find("port"); p != data.end() && !p->is_null()) {
        if (!p->is_number_unsigned() || p->get<uint64_t>() > 65535) {
            throw TypeError("invalid port");
        }
        port = p->get<uint16_t>();
    }
    if (optionalBool(data, "enableSrtp", false)) {
        const auto suite = data.find("srtpCryptoSuite");
        srtpSuite_ = suite == data.end() || suite->is_null()
                         ? srtp::CryptoSuite::AES_CM_128_HMAC_SHA1_80
                         : parseSuite(*suite);
        srtpLocalKey_ = srtp::generateKey(*srtpSuite_);
    }
    socket_ = shared_.portManager.bindUdp(shared_.loop, listenIp.ip, this, port);
    if (!rtcpMux_) {
        rtcpSocket_ = shared_.portManager.bindUdp(shared_.loop, listenIp.ip, this);
    }
}

PlainTransport::~PlainTransport() = default;

bool PlainTransport::isConnected() const {
    return remote_.known && (!srtpSuite_ || hasSrtp());
}

json PlainTransport::tupleJson(const deps::UdpSocket& socket, const Remote& remote) const {
    json tuple{{"localIp", announcedIp_.empty() ? socket.localIp() : announcedIp_},
               {"localPort", socket.localPort()},
               {"protocol", "udp"}};
    if (remote.known) {
        std::string ip;
        uint16_t port = 0;
        if (deps::formatAddress(reinterpret_cast<const sockaddr*>(&remote.address), ip, port)) {
            tuple["remoteIp"] = ip;
            tuple["remotePort"] = port;
        }
    }
    return tuple;
}

json PlainTransport::srtpParametersJson() const {
    return json{{"cryptoSuite", srtp::cryptoSuiteName(*srtpSuite_)},
                {"keyBase64", srtp::base64Encode(srtpLocalKey_)}};
}

void PlainTransport::fillDump(json& out) const {
    out["rtcpMux"] = rtcpMux_;
    out["comedia"] = comedia_;
    out["tuple"] = tupleJson(*socket_, remote_);
    if (rtcpSocket_) {
        out["rtcpTuple"] = tupleJson(*rtcpSocket_, rtcpRemote_);
    }
    if (srtpSuite_) {
        out["srtpParameters"] = srtpParametersJson();
    }
    addSrtpCounters(out);
}

void PlainTransport::fillStats(json& out) const {
    out["rtcpMux"] = rtcpMux_;
    out["comedia"] = comedia_;
    out["tuple"] = tupleJson(*socket_, remote_);
    // Stats name the RTCP path only once it leads somewhere.
    if (rtcpSocket_ && rtcpRemote_.known) {
        out["rtcpTuple"] = tupleJson(*rtcpSocket_, rtcpRemote_);
    }
}

void PlainTransport::connect(channel::Request& request) {
    if (connectCalled_) {
        throw Error("connect() already called");
    }
    const json& data = request.data();

    // SRTP parameters first: they are required exactly when SRTP is on.
    std::optional<srtp::CryptoSuite> remoteSuite;
    std::vector<uint8_t> remoteKey;
    const auto srtpParameters = data.find("srtpParameters");
    const bool haveSrtp = srtpParameters != data.end() && !srtpParameters->is_null();
    if (srtpSuite_ && !haveSrtp) {
        throw TypeError("missing srtpParameters (SRTP enabled)");
    }
    if (!srtpSuite_ && haveSrtp) {
        throw TypeError("invalid srtpParameters (SRTP not enabled)");
    }
    if (haveSrtp) {
        if (!srtpParameters->is_object()) {
            throw TypeError("invalid srtpParameters (not an object)");
        }
        const auto suite = srtpParameters->find("cryptoSuite");
        if (suite == srtpParameters->end()) {
            throw TypeError("missing srtpParameters.cryptoSuite");
        }
        remoteSuite = parseSuite(*suite);
        const auto key = srtpParameters->find("keyBase64");
        if (key == srtpParameters->end() || !key->is_string()) {
            throw TypeError("missing srtpParameters.keyBase64");
        }
        const auto decoded = srtp::base64Decode(key->get<std::string>());
        if (!decoded || decoded->size() != srtp::keyLength(*remoteSuite)) {
            throw TypeError("invalid srtpParameters.keyBase64 (wrong length or not base64)");
        }
        remoteKey = *decoded;
    }

    // The remote address, unless comedia learns it from the first packet.
    std::optional<sockaddr_storage> address;
    std::optional<sockaddr_storage> rtcpAddress;
    if (!comedia_) {
        const auto ip = data.find("ip");
        if (ip == data.end() || !ip->is_string()) {
            throw TypeError("missing ip");
        }
        const auto port = data.find("port");
        if (port == data.end() || !port->is_number_unsigned() || port->get<uint64_t>() > 65535 ||
            port->get<uint64_t>() == 0) {
            throw TypeError("missing or invalid port");
        }
        sockaddr_storage parsed{};
        if (!deps::parseAddress(ip->get<std::string>(), port->get<uint16_t>(), parsed)) {
            throw TypeError("invalid ip '" + ip->get<std::string>() + "'");
        }
        address = parsed;
        if (!rtcpMux_) {
            const auto rtcpPort = data.find("rtcpPort");
            if (rtcpPort == data.end() || !rtcpPort->is_number_unsigned() ||
                rtcpPort->get<uint64_t>() > 65535 || rtcpPort->get<uint64_t>() == 0) {
                throw TypeError("missing or invalid rtcpPort (rtcpMux disabled)");
            }
            deps::parseAddress(ip->get<std::string>(), rtcpPort->get<uint16_t>(), parsed);
            rtcpAddress = parsed;
        }
    }

    if (remoteSuite) {
        if (*remoteSuite != *srtpSuite_) {
            // Both directions use the peer's suite: a new local key for it.
            srtpSuite_ = remoteSuite;
            srtpLocalKey_ = srtp::generateKey(*srtpSuite_);
        }
        auto out = std::make_unique<srtp::SrtpSession>(srtp::Direction::Outbound, *srtpSuite_,
                                                       srtpLocalKey_);
        setSrtp(
            std::make_unique<srtp::SrtpSession>(srtp::Direction::Inbound, *srtpSuite_, remoteKey),
            std::move(out));
    }
    if (address) {
        remote_.address = *address;
        remote_.known = true;
    }
    if (rtcpAddress) {
        rtcpRemote_.address = *rtcpAddress;
        rtcpRemote_.known = true;
    }
    connectCalled_ = true;

    json answer{{"tuple", tupleJson(*socket_, remote_)}};
    if (rtcpSocket_) {
        answer["rtcpTuple"] = tupleJson(*rtcpSocket_, rtcpRemote_);
    }
    if (srtpSuite_) {
        answer["srtpParameters"] = srtpParametersJson();
    }
    request.accept(std::move(answer));
    connectionChanged();
}

bool PlainTransport::acceptSource(Remote& leg, const sockaddr* remote, bool isRtcp) {
    if (leg.known) {
        if (deps::sameAddress(reinterpret_cast<const sockaddr*>(&leg.address), remote)) {
            return true;
        }
        // Senders such as ffmpeg send RTCP from the next port up even when
        // RTCP is muxed: take RTCP from the same host.
        return isRtcp && rtcpMux_ && comedia_ &&
               sameIp(reinterpret_cast<const sockaddr*>(&leg.address), remote);
    }
    if (!comedia_ || (isRtcp && rtcpMux_)) {
        // Without comedia nothing is accepted before connect(); under
        // comedia with rtcpMux the RTP source is the one latched.
        return false;
    }
    const socklen_t length = deps::addressLength(remote);
    if (length == 0) {
        return false;
    }
    std::memcpy(&leg.address, remote, length);
    leg.known = true;
    const bool rtcpLeg = &leg == &rtcpRemote_;
    shared_.channel.notify(
        id_, rtcpLeg ? "rtcptuple" : "tuple",
        json{{rtcpLeg ? "rtcpTuple" : "tuple", tupleJson(rtcpLeg ? *rtcpSocket_ : *socket_, leg)}});
    connectionChanged();
    return true;
}

void PlainTransport::onUdpPacket(deps::UdpSocket* socket, const uint8_t* data, size_t length,
                                 const sockaddr* remote) {
    countReceived(length);
    const bool onRtcpSocket = socket == rtcpSocket_.get();
    const bool isRtcp = onRtcpSocket || rtcp::isRtcp(data, length);
    if (length < 4) {
        discardReceived();
        return;
    }
    if (!acceptSource(onRtcpSocket ? rtcpRemote_ : remote_, remote, isRtcp)) {
        discardReceived();
        SFU_DEBUG(Rtp, "plain transport %s: packet from an unknown source dropped", id_.c_str());
        return;
    }
    if (!onRtcpSocket && sctp::isSctpPacket(data, length)) {
        // SCTP over plain UDP, never SRTP-protected.
        receiveSctpPacket(data, length);
        return;
    }
    if (srtpSuite_ && !hasSrtp()) {
        // SRTP is on but connect() has not given the key yet.
        discardReceived();
        return;
    }
    receiveMediaBytes(data, length, isRtcp);
}

void PlainTransport::sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) {
    (void)consumer;
    size_t size = 0;
    if (remote_.known && protectRtp(packet, size)) {
        send(*socket_, remote_, packet.data(), size);
    }
}

void PlainTransport::sendRtcpPacket(const uint8_t* data, size_t length) {
    const Remote& remote = rtcpSocket_ ? rtcpRemote_ : remote_;
    size_t size = length;
    const uint8_t* out = remote.known ? protectRtcp(data, size) : nullptr;
    if (out != nullptr) {
        send(rtcpSocket_ ? *rtcpSocket_ : *socket_, remote, out, size);
    }
}

void PlainTransport::sendSctpPacket(const uint8_t* data, size_t length) {
    if (remote_.known) {
        send(*socket_, remote_, data, length);
    }
}

void PlainTransport::send(deps::UdpSocket& socket, const Remote& remote, const uint8_t* data,
                          size_t length) {
    if (socket.send(data, length, reinterpret_cast<const sockaddr*>(&remote.address))) {
        countSent(length);
    }
}

} // namespace sfu::rtc
