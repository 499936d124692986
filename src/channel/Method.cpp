#include "channel/Method.hpp"

#include <array>

namespace sfu::channel {

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Method::Count)> kMethodNames{
#define SFU_METHOD_NAME(id, name) name,
    SFU_CHANNEL_METHODS(SFU_METHOD_NAME)
#undef SFU_METHOD_NAME
};

} // namespace

std::optional<Method> methodFromName(std::string_view name) {
    for (size_t i = 0; i < kMethodNames.size(); ++i) {
        if (kMethodNames[i] == name) {
            return static_cast<Method>(i);
        }
    }
    return std::nullopt;
}

std::string_view methodName(Method method) {
    return kMethodNames[static_cast<size_t>(method)];
}

std::optional<PayloadEvent> payloadEventFromName(std::string_view name) {
    if (name == "transport.sendRtcp") {
        return PayloadEvent::TransportSendRtcp;
    }
    if (name == "producer.send") {
        return PayloadEvent::ProducerSend;
    }
    if (name == "dataProducer.send") {
        return PayloadEvent::DataProducerSend;
    }
    return std::nullopt;
}

} // namespace sfu::channel
