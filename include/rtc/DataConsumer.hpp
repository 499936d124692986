// A DataConsumer: one outgoing data channel of a transport, fed by one
// DataProducer of the router. Of type "sctp" it sends on its own stream of
// the transport's SCTP association with its own order and reliability; of
// type "direct" (DirectTransport) each message goes to the host as a
// payload-channel "message" notification. The association's send buffer
// is shared by every SCTP DataConsumer of the transport: a message that
// does not fit is dropped and counted (never queued here), the host is told
// once per episode ("sctpsendbufferfull"), and "bufferedamountlow" fires
// when the buffered amount falls to the consumer's threshold.
#pragma once

#include "channel/Request.hpp"
#include "protocol/parameters/SctpParameters.hpp"
#include "rtc/DataProducer.hpp"
#include "rtc/Shared.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

class DataConsumer {
public:
    enum class SendResult { Sent, NotConnected, TooLarge, BufferFull, Failed };

    class Listener {
    public:
        virtual ~Listener() = default;
        // Puts one message on the wire (SCTP stream or payload channel).
        virtual SendResult onDataConsumerSendMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                                     const uint8_t* data, size_t length) = 0;
    };

    // Parses the transport.consumeData request data; throws sfu::TypeError.
    DataConsumer(std::string id, std::string dataProducerId, Shared& shared, Listener& listener,
                 bool sctp, uint32_t maxMessageSize, const nlohmann::json& data);

    const std::string& id() const { return id_; }
    const std::string& dataProducerId() const { return dataProducerId_; }
    DataType type() const { return type_; }
    const std::optional<params::SctpStreamParameters>& sctpStreamParameters() const {
        return sctpStreamParameters_;
    }

    void handleRequest(channel::Request& request);
    nlohmann::json dump() const;

    // A message of its DataProducer (or of the host's dataConsumer.send).
    SendResult sendMessage(uint32_t ppid, const uint8_t* data, size_t length);
    // The association's buffered amount changed.
    void sctpBufferedAmountChanged(uint32_t bufferedAmount);
    // Its DataProducer closed: tells the host, which closes it.
    void dataProducerClosed();

    uint64_t messagesDropped() const { return messagesDropped_; }

private:
    std::string id_;
    std::string dataProducerId_;
    Shared& shared_;
    Listener& listener_;
    DataType type_;
    std::optional<params::SctpStreamParameters> sctpStreamParameters_;
    std::string label_;
    std::string protocol_;
    uint32_t maxMessageSize_;
    uint32_t bufferedAmount_ = 0;
    uint32_t bufferedAmountLowThreshold_ = 0;
    // Set when a message found the send buffer full, cleared as it drains:
    // the host hears of each episode once.
    bool sendBufferFull_ = false;
    uint64_t messagesSent_ = 0;
    uint64_t bytesSent_ = 0;
    uint64_t messagesDropped_ = 0;
};

} // namespace sfu::rtc
