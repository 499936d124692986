#include "rtc/SrtpTransport.hpp"

#include "protocol/rtcp/Packet.hpp"

#include <cstring>

namespace sfu::rtc {

using nlohmann::json;

void SrtpTransport::receiveMediaBytes(const uint8_t* data, size_t length, bool isRtcp) {
    if (length > kReceiveBufferSize) {
        discardReceived();
        return;
    }
    uint8_t* buffer = receiveBuffer();
    std::memcpy(buffer, data, length);
    size_t size = length;
    if (srtpIn_ &&
        !(isRtcp ? srtpIn_->unprotectRtcp(buffer, size) : srtpIn_->unprotectRtp(buffer, size))) {
        discardReceived();
        return;
    }
    if (isRtcp) {
        receiveRtcpPacket(buffer, size);
    } else {
        receiveRtpPacket(buffer, size, kReceiveBufferSize);
    }
}

bool SrtpTransport::protectRtp(rtp::RtpPacket& packet, size_t& size) {
    size = packet.size();
    return !srtpOut_ || srtpOut_->protectRtp(packet.data(), size, packet.capacity());
}

const uint8_t* SrtpTransport::protectRtcp(const uint8_t* data, size_t& length) {
    if (!srtpOut_) {
        return data;
    }
    static uint8_t buffer[rtcp::kMaxPacketSize + srtp::kMaxTrailerLength];
    if (length > rtcp::kMaxPacketSize) {
        return nullptr;
    }
    std::memcpy(buffer, data, length);
    return srtpOut_->protectRtcp(buffer, length, sizeof(buffer)) ? buffer : nullptr;
}

void SrtpTransport::setSrtp(std::unique_ptr<srtp::SrtpSession> in,
                            std::unique_ptr<srtp::SrtpSession> out) {
    srtpIn_ = std::move(in);
    srtpOut_ = std::move(out);
}

void SrtpTransport::addSrtpCounters(json& dump) const {
    if (!srtpIn_) {
        return;
    }
    const auto& c = srtpIn_->counters();
    dump["srtpInbound"] = json{{"rtpPackets", c.rtpPackets},
                               {"rtcpPackets", c.rtcpPackets},
                               {"authFailures", c.authFailures},
                               {"replayFailures", c.replayFailures},
                               {"otherFailures", c.otherFailures}};
}

} // namespace sfu::rtc
