// The consumer that pipes a producer to another router: every stream of the
// producer (all its simulcast encodings) forwarded as it is, each to a send
// stream of its own, for a PipeTransport that rebuilds the producer there.
#pragma once

#include "rtc/SimpleConsumer.hpp"

namespace sfu::rtc {

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
