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
    case channel::PayloadEvent::DataProducerSend: {
        const auto dataProducerId = notification.internal.find("dataProducerId");
        DataProducer* dataProducer =
            dataProducerId != notification.internal.end() && dataProducerId->is_string()
                ? findDataProducer(dataProducerId->get<std::string>())
                : nullptr;
        const auto ppid = notification.data.find("ppid");
        if (dataProducer == nullptr || ppid == notification.data.end() ||
            !ppid->is_number_unsigned() || ppid->get<uint64_t>() > UINT32_MAX) {
            discardReceived();
            SFU_WARN("direct transport %s: dataProducer.send for an unknown data producer or "
                     "without a valid ppid, dropped",
                     id_.c_str());
            return;
        }
        receiveDataMessageFor(*dataProducer, ppid->get<uint32_t>(), notification.payload,
                              notification.payloadLength);
        return;
    }
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

DataConsumer::SendResult DirectTransport::sendDataMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                                          const uint8_t* data, size_t length) {
    const json info{{"ppid", ppid}};
    shared_.payloadChannel.notify(dataConsumer.id(), "message", &info, data, length);
    countSent(length);
    return DataConsumer::SendResult::Sent;
}

void DirectTransport::sendRtcpPacket(const uint8_t* data, size_t length) {
    shared_.payloadChannel.notify(id_, "rtcp", nullptr, data, length);
    countSent(length);
}

} // namespace sfu::rtc
