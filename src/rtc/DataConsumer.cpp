#include "rtc/DataConsumer.hpp"

#include "Logger.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

namespace {

// RFC 8831 6.6: the PPIDs of WebRTC messages (the deprecated partial ones
// included, as peers may still send them) and DCEP.
bool validPpid(uint64_t ppid) {
    return ppid == 50 || (ppid >= 51 && ppid <= 54) || ppid == 56 || ppid == 57;
}

} // namespace

DataConsumer::DataConsumer(std::string id, std::string dataProducerId, Shared& shared,
                           Listener& listener, bool sctp, uint32_t maxMessageSize, const json& data)
    : id_(std::move(id)), dataProducerId_(std::move(dataProducerId)), shared_(shared),
      listener_(listener), type_(parseDataType(data, sctp)), label_(optionalString(data, "label")),
      protocol_(optionalString(data, "protocol")), maxMessageSize_(maxMessageSize) {
    if (type_ == DataType::Sctp) {
        const auto params = data.find("sctpStreamParameters");
        sctpStreamParameters_ =
            params::parseSctpStreamParameters(params == data.end() ? json() : *params);
    }
}

json DataConsumer::dump() const {
    json out{{"id", id_},
             {"dataProducerId", dataProducerId_},
             {"type", toString(type_)},
             {"label", label_},
             {"protocol", protocol_},
             {"bufferedAmountLowThreshold", bufferedAmountLowThreshold_},
             {"messagesDropped", messagesDropped_}};
    if (sctpStreamParameters_) {
        out["sctpStreamParameters"] = params::toJson(*sctpStreamParameters_);
    }
    return out;
}

void DataConsumer::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::DataConsumerDump:
        request.accept(dump());
        return;
    case Method::DataConsumerGetStats:
        request.accept(json::array({json{{"type", "data-consumer"},
                                         {"timestamp", uv_now(shared_.loop)},
                                         {"label", label_},
                                         {"protocol", protocol_},
                                         {"messagesSent", messagesSent_},
                                         {"bytesSent", bytesSent_},
                                         {"messagesDropped", messagesDropped_},
                                         {"bufferedAmount", bufferedAmount_}}}));
        return;
    case Method::DataConsumerGetBufferedAmount:
        request.accept(json{{"bufferedAmount", bufferedAmount_}});
        return;
    case Method::DataConsumerSetBufferedAmountLowThreshold: {
        const auto threshold = request.data().find("threshold");
        if (threshold == request.data().end() || !threshold->is_number_unsigned() ||
            threshold->get<uint64_t>() > UINT32_MAX) {
            throw TypeError("missing or invalid threshold");
        }
        bufferedAmountLowThreshold_ = threshold->get<uint32_t>();
        request.accept();
        return;
    }
    case Method::DataConsumerSend: {
        const auto ppid = request.data().find("ppid");
        if (ppid == request.data().end() || !ppid->is_number_unsigned() ||
            !validPpid(ppid->get<uint64_t>())) {
            throw TypeError("missing or invalid ppid");
        }
        if (request.payloadLength() > maxMessageSize_) {
            throw TypeError("given message exceeds maxMessageSize value [maxMessageSize:" +
                            std::to_string(maxMessageSize_) +
                            ", len:" + std::to_string(request.payloadLength()) + "]");
        }
        switch (sendMessage(ppid->get<uint32_t>(), request.payload(), request.payloadLength())) {
        case SendResult::Sent:
            request.accept();
            return;
        case SendResult::BufferFull:
            throw Error("sctpsendbufferfull (message dropped)");
        case SendResult::NotConnected:
            throw Error("the SCTP association is not connected (message dropped)");
        case SendResult::TooLarge:
        case SendResult::Failed:
            throw Error("message could not be sent (dropped)");
        }
        return;
    }
    default:
        throw Error("unknown method '" + request.methodName() + "'");
    }
}

DataConsumer::SendResult DataConsumer::sendMessage(uint32_t ppid, const uint8_t* data,
                                                   size_t length) {
    if (length > maxMessageSize_) {
        ++messagesDropped_;
        return SendResult::TooLarge;
    }
    const SendResult result = listener_.onDataConsumerSendMessage(*this, ppid, data, length);
    if (result == SendResult::Sent) {
        ++messagesSent_;
        bytesSent_ += length;
        return result;
    }
    ++messagesDropped_;
    if (result == SendResult::BufferFull && !sendBufferFull_) {
        sendBufferFull_ = true;
        SFU_DEBUG(Sctp, "data consumer %s: SCTP send buffer full, messages dropped", id_.c_str());
        shared_.channel.notify(id_, "sctpsendbufferfull");
    }
    return result;
}

void DataConsumer::sctpBufferedAmountChanged(uint32_t bufferedAmount) {
    const uint32_t previous = bufferedAmount_;
    bufferedAmount_ = bufferedAmount;
    if (bufferedAmount < previous) {
        sendBufferFull_ = false;
    }
    if (previous > bufferedAmountLowThreshold_ && bufferedAmount <= bufferedAmountLowThreshold_) {
        shared_.channel.notify(id_, "bufferedamountlow", json{{"bufferedAmount", bufferedAmount}});
    }
}

void DataConsumer::dataProducerClosed() {
    shared_.channel.notify(id_, "dataproducerclose");
}

} // namespace sfu::rtc
