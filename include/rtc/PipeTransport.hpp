// A PipeTransport: the link between two routers, in one worker, across
// workers or across hosts. It is a PlainTransport with the pipe's fixed
// choices (RTCP muxed, the remote given by connect(), SRTP only with
// AES_CM_128_HMAC_SHA1_80) that carries pipe consumers (every stream of a
// producer) one way and, on the far side, the producers the host creates
// with those consumers' parameters. With enableRtx the pipe consumers'
// parameters keep NACK and RTX, so loss on the pipe is repaired across it.
#pragma once

#include "rtc/PlainTransport.hpp"

namespace sfu::rtc {

class PipeTransport final : public PlainTransport {
public:
    PipeTransport(std::string id, Shared& shared, Transport::Listener& listener,
                  const nlohmann::json& data);

private:
    void connect(channel::Request& request) override;
    void fillDump(nlohmann::json& out) const override;
    void fillStats(nlohmann::json& out) const override;
    const char* statsType() const override { return "pipe-transport"; }

    bool rtx_ = false;
};

} // namespace sfu::rtc
