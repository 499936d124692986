#include "rtc/DirectTransport.hpp"

#include "Logger.hpp"

#include <cstring>

namespace sfu::rtc {

using nlohmann::json;

DirectTransport::DirectTransport(std::string id, Shared& shared, Listener& listener,
                                 const json& data)
    : Transport(std::move(id), shared, listener, data) {
    connectionChanged();
}

void DirectTransport::handlePayloadNotification(const channel::PayloadNotification& notification) {
    countReceived(notification.payloadLength);
    if (notification.payloadLength > maxMessageSize_) {
        SFU_WARN("direct transport %s: message of %zu bytes exceeds maxMessageSize %u, dropped",
                 id_.c_str(), notification.payloadLength, maxMessageSize_);
        discardReceived();
        return;
    }
    switch (notification.event) {
    case channel::PayloadEvent::ProducerSend: {
        const auto producerId = notification.internal.find("producerId");
        Producer* producer = producerId != notification.internal.end() && producerId->is_string()
                                 ? findProducer(producerId->get<std::string>())
                                 : nullptr;
        if (producer == nullptr) {
            SFU_WARN("direct transport %s: producer.send for an unknown producer, dropped",
                     id_.c_str());
            return;
        }
        if (notification.payloadLength > kReceiveBufferSize) {
            discardReceived();
            return;
        }
        // Copied so that the packet can be rewritten in place.
        std::memcpy(receiveBuffer(), notification.payload, notification.payloadLength);
        receiveRtpPacketFor(*producer, receiveBuffer(), notification.payloadLength,
                            kReceiveBufferSize);
        return;
    }
    case channel::PayloadEvent::TransportSendRtcp:
        receiveRtcpPacket(notification.payload, notification.payloadLength);
        return;
    case channel::PayloadEvent::DataProducerSend:
        SFU_WARN("direct transport %s: dataProducer.send for an unknown data producer, dropped",
                 id_.c_str());
        return;
    }
}

void DirectTransport::fillDump(json& out) const {
    out["direct"] = true;
}

void DirectTransport::fillStats(json& out) const {
    (void)out;
}

void DirectTransport::sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) {
    shared_.payloadChannel.notify(consumer.id(), "rtp", nullptr, packet.data(), packet.size());
    countSent(packet.size());
}

void DirectTransport::sendRtcpPacket(const uint8_t* data, size_t length) {
    shared_.payloadChannel.notify(id_, "rtcp", nullptr, data, length);
    countSent(length);
}

} // namespace sfu::rtc
