#include "rtc/DataProducer.hpp"

#include "utils/Errors.hpp"

#include <uv.h>

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

const char* toString(DataType type) {
    return type == DataType::Sctp ? "sctp" : "direct";
}

DataType parseDataType(const json& data, bool sctp) {
    const auto it = data.find("type");
    if (it == data.end() || !it->is_string()) {
        throw TypeError("missing type");
    }
    const std::string& type = it->get_ref<const std::string&>();
    if (type == "sctp") {
        if (!sctp) {
            throw TypeError("invalid type 'sctp' (the transport has no SCTP association)");
        }
        return DataType::Sctp;
    }
    if (type == "direct") {
        if (sctp) {
            throw TypeError("invalid type 'direct' (only on a DirectTransport)");
        }
        return DataType::Direct;
    }
    throw TypeError("invalid type '" + type + "'");
}

std::string optionalString(const json& data, const char* key) {
    const auto it = data.find(key);
    if (it == data.end() || it->is_null()) {
        return {};
    }
    if (!it->is_string()) {
        throw TypeError(std::string("invalid ") + key + " (not a string)");
    }
    return it->get<std::string>();
}

DataProducer::DataProducer(std::string id, Listener& listener, bool sctp, const json& data)
    : id_(std::move(id)), listener_(listener), type_(parseDataType(data, sctp)),
      label_(optionalString(data, "label")), protocol_(optionalString(data, "protocol")) {
    if (type_ == DataType::Sctp) {
        const auto params = data.find("sctpStreamParameters");
        sctpStreamParameters_ =
            params::parseSctpStreamParameters(params == data.end() ? json() : *params);
    }
}

json DataProducer::dump() const {
    json out{{"id", id_}, {"type", toString(type_)}, {"label", label_}, {"protocol", protocol_}};
    if (sctpStreamParameters_) {
        out["sctpStreamParameters"] = params::toJson(*sctpStreamParameters_);
    }
    return out;
}

void DataProducer::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::DataProducerDump:
        request.accept(dump());
        return;
    case Method::DataProducerGetStats:
        request.accept(json::array({json{{"type", "data-producer"},
                                         {"timestamp", uv_hrtime() / 1000000},
                                         {"label", label_},
                                         {"protocol", protocol_},
                                         {"messagesReceived", messagesReceived_},
                                         {"bytesReceived", bytesReceived_}}}));
        return;
    default:
        throw Error("unknown method '" + request.methodName() + "'");
    }
}

void DataProducer::receiveMessage(uint32_t ppid, const uint8_t* data, size_t length) {
    ++messagesReceived_;
    bytesReceived_ += length;
    listener_.onDataProducerMessage(*this, ppid, data, length);
}

} // namespace sfu::rtc
