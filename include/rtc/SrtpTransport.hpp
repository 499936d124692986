// The transports whose media is SRTP: WebRtcTransport (keyed by DTLS-SRTP)
// and PlainTransport (keyed by SDES in transport.connect, or in the clear).
// They share the way in (copy into the receive buffer, decrypt in place,
// hand on as RTP or RTCP) and the way out (protect in place or into a copy).
#pragma once

#include "protocol/srtp/SrtpSession.hpp"
#include "rtc/Transport.hpp"

#include <memory>
#include <nlohmann/json.hpp>

namespace sfu::rtc {

class SrtpTransport : public Transport {
public:
    using Transport::Transport;

protected:
    // Bytes from the network, already counted: decrypted when inbound SRTP
    // is set, then handled as RTP or RTCP. What fails is dropped (counted).
    void receiveMediaBytes(const uint8_t* data, size_t length, bool isRtcp);
    // RTP ready for the wire, protected in place when outbound SRTP is set
    // (the packet's buffer has room). `size` is the size to send; false when
    // it cannot be protected.
    bool protectRtp(rtp::RtpPacket& packet, size_t& size);
    // RTCP ready for the wire: `data` itself, or an SRTCP copy of it when
    // outbound SRTP is set. Null when it cannot be protected.
    const uint8_t* protectRtcp(const uint8_t* data, size_t& length);

    void setSrtp(std::unique_ptr<srtp::SrtpSession> in, std::unique_ptr<srtp::SrtpSession> out);
    void resetSrtp() { setSrtp(nullptr, nullptr); }
    bool hasSrtp() const { return srtpIn_ != nullptr && srtpOut_ != nullptr; }
    // Not in the host's types: what inbound SRTP accepted and refused, for
    // dumps ("srtpInbound"); nothing before keys are set.
    void addSrtpCounters(nlohmann::json& dump) const;

private:
    std::unique_ptr<srtp::SrtpSession> srtpIn_;
    std::unique_ptr<srtp::SrtpSession> srtpOut_;
};

} // namespace sfu::rtc
