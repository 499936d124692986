// What an entity of the media path needs to run in process, as the Worker
// would give it: a libuv loop, the channel and payload channel over
// socketpairs (their far ends read back by the test), a port manager and the
// Shared block. Requests are run through the same parser and runner as the
// worker's; notifications are decoded from the channel's far end.
#pragma once

#include "Settings.hpp"
#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "rtc/ChannelFixtures.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/Shared.hpp"
#include "rtc/SharedPort.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace sfu::test {

class EntityEnvironment {
public:
    // `withDtls`: a DTLS context for WebRTC transports (costs a key pair).
    EntityEnvironment(uint16_t minPort, uint16_t maxPort, bool withDtls = false) {
        uv_loop_init(&loop_);
        channel_ = std::make_unique<channel::ChannelSocket>(&loop_, requests_.fds[0],
                                                            notifications_.fds[0], noop_);
        payload_ = std::make_unique<channel::PayloadChannelSocket>(&loop_, payloadIn_.fds[0],
                                                                   payloadOut_.fds[0], noop_);
        ports_ = std::make_unique<rtc::PortManager>(minPort, maxPort);
        shared_ = std::make_unique<rtc::Shared>(
            rtc::Shared{&loop_, *channel_, *payload_, settings_, *ports_,
                        withDtls ? dtls::DtlsContext::create("", "") : nullptr, nullptr});
    }
    // WebRtcTransports created from here share these ports (0: that
    // protocol's ports stay per transport), as with the worker's settings.
    void shareWebRtcPorts(uint16_t udpPort, uint16_t tcpPort) {
        sharedPorts_ = std::make_unique<rtc::SharedPorts>(&loop_, *ports_, udpPort, tcpPort);
        shared_->sharedPorts = sharedPorts_.get();
    }
    rtc::SharedPorts* sharedPorts() { return sharedPorts_.get(); }
    // Entities built on shared() must be destroyed before the environment.
    ~EntityEnvironment() {
        payload_->close();
        channel_->close();
        uv_run(&loop_, UV_RUN_NOWAIT);
        shared_.reset();
        sharedPorts_.reset();
        ports_.reset();
        payload_.reset();
        channel_.reset();
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }
    EntityEnvironment(const EntityEnvironment&) = delete;
    EntityEnvironment& operator=(const EntityEnvironment&) = delete;

    uv_loop_t* loop() { return &loop_; }
    rtc::Shared& shared() { return *shared_; }

    // Runs one request through `handler`; the whole response.
    channel::json request(const std::function<void(channel::Request&)>& handler,
                          const std::string& method, const channel::json& internal,
                          const channel::json& data) {
        const std::string text = channel::json{
            {"id", ++requestId_},
            {"method", method},
            {"internal", internal},
            {"data", data}}.dump();
        CaptureResponder capture;
        auto req = channel::Request::parse(reinterpret_cast<const uint8_t*>(text.data()),
                                           text.size(), &capture);
        channel::runRequest(req, handler);
        return capture.last;
    }
    // The data of an accepted request (a failed expectation otherwise).
    channel::json accepted(const std::function<void(channel::Request&)>& handler,
                           const std::string& method, const channel::json& internal,
                           const channel::json& data) {
        const auto response = request(handler, method, internal, data);
        EXPECT_TRUE(response.value("accepted", false)) << method << ": " << response;
        return response.value("data", channel::json::object());
    }

    // Every notification written so far.
    const std::vector<channel::json>& notifications() { return reader_.all(); }
    // The data of every `event` notification of `targetId` so far.
    std::vector<channel::json> events(const std::string& targetId, const std::string& event) {
        return reader_.events(targetId, event);
    }

private:
    uv_loop_t loop_;
    SocketPair requests_, notifications_, payloadIn_, payloadOut_;
    NoopChannelListener noop_;
    Settings settings_;
    std::unique_ptr<channel::ChannelSocket> channel_;
    std::unique_ptr<channel::PayloadChannelSocket> payload_;
    std::unique_ptr<rtc::PortManager> ports_;
    std::unique_ptr<rtc::SharedPorts> sharedPorts_;
    std::unique_ptr<rtc::Shared> shared_;
    uint64_t requestId_ = 0;
    NotificationReader reader_{&loop_, notifications_.fds[1]};
};

} // namespace sfu::test
