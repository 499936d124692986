// A Router: the room in which producers are forwarded to consumers. It owns
// its transports and RTP observers and routes the requests addressed to them.
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "rtc/Shared.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace sfu::rtc {

class Router {
public:
    Router(std::string id, Shared& shared);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    const std::string& id() const { return id_; }

    void handleRequest(channel::Request& request);
    void handlePayloadNotification(const channel::PayloadNotification& notification);
    void handlePayloadRequest(channel::Request& request);

    nlohmann::json dump() const;

private:
    std::string id_;
    [[maybe_unused]] Shared& shared_;
};

} // namespace sfu::rtc
