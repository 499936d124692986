#include "rtc/ConsumerFactory.hpp"

#include "rtc/PipeConsumer.hpp"
#include "rtc/SimpleConsumer.hpp"
#include "rtc/SimulcastConsumer.hpp"
#include "rtc/SvcConsumer.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using nlohmann::json;

std::unique_ptr<Consumer> createConsumer(std::string id, std::string producerId, Shared& shared,
                                         Consumer::Listener& listener, const json& data) {
    const auto type = data.find("type");
    if (type == data.end() || !type->is_string()) {
        throw TypeError("missing type");
    }
    const auto parsed = params::rtpParametersTypeFromString(type->get<std::string>());
    if (!parsed) {
        throw TypeError("invalid type '" + type->get<std::string>() + "'");
    }
    switch (*parsed) {
    case params::RtpParametersType::Simple:
        return std::make_unique<SimpleConsumer>(std::move(id), std::move(producerId), shared,
                                                listener, data);
    case params::RtpParametersType::Pipe:
        return std::make_unique<PipeConsumer>(std::move(id), std::move(producerId), shared,
                                              listener, data);
    case params::RtpParametersType::Simulcast:
        return std::make_unique<SimulcastConsumer>(std::move(id), std::move(producerId), shared,
                                                   listener, data);
    case params::RtpParametersType::Svc:
        return std::make_unique<SvcConsumer>(std::move(id), std::move(producerId), shared, listener,
                                             data);
    default:
        throw Error("not implemented: transport.consume of type '" + type->get<std::string>() +
                    "'");
    }
}

} // namespace sfu::rtc
