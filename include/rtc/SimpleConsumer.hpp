// Consumers that forward producer streams as they are, each to one send
// stream of their own: sequence numbers rewritten so that the receiver sees
// one continuous stream across pauses, and for video a start (and restart)
// on a key frame.
//
// SimpleConsumer: the one stream of a single-stream producer.
// PipeConsumer: every stream of a producer (all its simulcast encodings), to
// another router's PipeTransport, which rebuilds the producer there.
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

class PipeConsumer final : public SimpleConsumer {
public:
    PipeConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                 const nlohmann::json& data);

    nlohmann::json dump() const override;

private:
    // The receiving router judges the streams itself.
    uint8_t score() const override { return 10; }
    uint8_t producerScore() const override { return 10; }
};

} // namespace sfu::rtc
