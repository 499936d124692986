// The consumer of a single-stream producer: forwards the stream as it is to
// one send stream of its own, sequence numbers rewritten so that the
// receiver sees one continuous stream across pauses, and for video a start
// (and restart) on a key frame. PipeConsumer does the same for every stream
// of a producer.
#pragma once

#include "rtc/Consumer.hpp"

namespace sfu::rtc {

class SimpleConsumer : public Consumer {
public:
    SimpleConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                   const nlohmann::json& data);

    void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    nlohmann::json dump() const override;

protected:
    SimpleConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                   const nlohmann::json& data, params::RtpParametersType type);

    void onActiveChanged(bool active) override;
    uint8_t producerScore() const override;
    void requestKeyFrame() override;
    void requestKeyFrame(size_t streamIndex) override;
};

} // namespace sfu::rtc
