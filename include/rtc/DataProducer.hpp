// A DataProducer: one incoming data channel of a transport. Of type "sctp"
// it is the stream `sctpStreamParameters.streamId` of the transport's SCTP
// association; of type "direct" (DirectTransport) its messages come from
// the host over the payload channel (dataProducer.send). It counts what it
// receives and hands each message to its listener (the transport, then the
// router, which fans it out to the DataConsumers of this producer).
#pragma once

#include "channel/Request.hpp"
#include "protocol/parameters/SctpParameters.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

enum class DataType { Sctp, Direct };

class DataProducer {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onDataProducerMessage(DataProducer& dataProducer, uint32_t ppid,
                                           const uint8_t* data, size_t length) = 0;
    };

    // Parses the transport.produceData request data; throws sfu::TypeError.
    // `sctp` says whether the transport carries an SCTP association (then
    // only type "sctp" is accepted, else only "direct").
    DataProducer(std::string id, Listener& listener, bool sctp, const nlohmann::json& data);

    const std::string& id() const { return id_; }
    DataType type() const { return type_; }
    // Set for type "sctp".
    const std::optional<params::SctpStreamParameters>& sctpStreamParameters() const {
        return sctpStreamParameters_;
    }
    const std::string& label() const { return label_; }
    const std::string& protocol() const { return protocol_; }

    void handleRequest(channel::Request& request);
    nlohmann::json dump() const;

    // One message received for this producer (already within the size
    // bound): counted and handed to the listener.
    void receiveMessage(uint32_t ppid, const uint8_t* data, size_t length);

private:
    std::string id_;
    Listener& listener_;
    DataType type_;
    std::optional<params::SctpStreamParameters> sctpStreamParameters_;
    std::string label_;
    std::string protocol_;
    uint64_t messagesReceived_ = 0;
    uint64_t bytesReceived_ = 0;
};

const char* toString(DataType type);
// Reads data.type ("sctp" or "direct") and checks it fits the transport.
DataType parseDataType(const nlohmann::json& data, bool sctp);
// label and protocol: optional strings, "" by default; TypeError otherwise.
std::string optionalString(const nlohmann::json& data, const char* key);

} // namespace sfu::rtc
