// A transport without a network: RTP, RTCP and data messages travel over the
// payload channel to and from the host process (producer.send,
// transport.sendRtcp, dataProducer.send; consumer "rtp", transport "rtcp"
// and data consumer "message" notifications).
#pragma once

#include "rtc/Transport.hpp"

namespace sfu::rtc {

class DirectTransport final : public Transport {
public:
    DirectTransport(std::string id, Shared& shared, Listener& listener, const nlohmann::json& data);

    void handlePayloadNotification(const channel::PayloadNotification& notification) override;

private:
    void fillDump(nlohmann::json& out) const override;
    void fillStats(nlohmann::json& out) const override;
    const char* statsType() const override { return "direct-transport"; }
    bool isConnected() const override { return true; }
    void sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) override;
    void sendRtcpPacket(const uint8_t* data, size_t length) override;
    DataConsumer::SendResult sendDataMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                             const uint8_t* data, size_t length) override;
};

} // namespace sfu::rtc
