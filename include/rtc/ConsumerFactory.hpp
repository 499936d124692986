// Builds the consumer a transport.consume request asks for, by its type:
// simple, simulcast or pipe (SVC consumers are not built yet).
#pragma once

#include "rtc/Consumer.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace sfu::rtc {

// Parses the transport.consume request data; throws sfu::TypeError for bad
// arguments and sfu::Error for a type that is not built.
std::unique_ptr<Consumer> createConsumer(std::string id, std::string producerId, Shared& shared,
                                         Consumer::Listener& listener, const nlohmann::json& data);

} // namespace sfu::rtc
