#include "rtc/PipeConsumer.hpp"

namespace sfu::rtc {

using nlohmann::json;

PipeConsumer::PipeConsumer(std::string id, std::string producerId, Shared& shared,
                           Listener& listener, const json& data)
    : SimpleConsumer(std::move(id), std::move(producerId), shared, listener, data,
                     params::RtpParametersType::Pipe) {}

json PipeConsumer::dump() const {
    json out = Consumer::dump();
    json streams = json::array();
    for (const auto& stream : streams_) {
        streams.push_back(stream->dump());
    }
    out["rtpStreams"] = std::move(streams);
    return out;
}

} // namespace sfu::rtc
