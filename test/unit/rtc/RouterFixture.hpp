// A router in process, as the worker runs it, driven by requests built here:
// the channel and payload channel over socketpairs, a port range, the DTLS
// context. Tests run the loop themselves (uv_run on loop_).
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "rtc/ChannelFixtures.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/Router.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <sys/socket.h>

namespace sfu::test {

using channel::json;

class RouterFixture : public ::testing::Test {
protected:
    void SetUp() override {
        uv_loop_init(&loop_);
        channel_ = std::make_unique<sfu::channel::ChannelSocket>(&loop_, requests_.fds[0],
                                                                 responses_.fds[0], listener_);
        payload_ = std::make_unique<sfu::channel::PayloadChannelSocket>(
            &loop_, payloadIn_.fds[0], payloadOut_.fds[0], listener_);
        ports_ = std::make_unique<sfu::rtc::PortManager>(42000, 42999);
        shared_ = std::make_unique<sfu::rtc::Shared>(
            sfu::rtc::Shared{&loop_, *channel_, *payload_, settings_, *ports_,
                             sfu::dtls::DtlsContext::create("", "")});
        router_ = std::make_unique<sfu::rtc::Router>("r", *shared_);
    }

    void TearDown() override {
        router_.reset();
        payload_->close();
        channel_->close();
        uv_run(&loop_, UV_RUN_NOWAIT);
        router_.reset();
        shared_.reset();
        ports_.reset();
        payload_.reset();
        channel_.reset();
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }

    json request(const std::string& method, json internal, json data) {
        const std::string text =
            json{{"id", ++id_}, {"method", method}, {"internal", internal}, {"data", data}}.dump();
        CaptureResponder capture;
        auto req = sfu::channel::Request::parse(reinterpret_cast<const uint8_t*>(text.data()),
                                                text.size(), &capture);
        sfu::channel::runRequest(req, [&](sfu::channel::Request& r) { router_->handleRequest(r); });
        EXPECT_TRUE(capture.last.value("accepted", false)) << method << ": " << capture.last;
        return capture.last.value("data", json::object());
    }

    // Drains the channel's far end (notifications) without blocking.
    void drainChannel() {
        char buffer[65536];
        while (::recv(responses_.fds[1], buffer, sizeof(buffer), MSG_DONTWAIT) > 0) {
        }
    }

    uv_loop_t loop_;
    SocketPair requests_, responses_, payloadIn_, payloadOut_;
    NoopChannelListener listener_;
    sfu::Settings settings_;
    std::unique_ptr<sfu::channel::ChannelSocket> channel_;
    std::unique_ptr<sfu::channel::PayloadChannelSocket> payload_;
    std::unique_ptr<sfu::rtc::PortManager> ports_;
    std::unique_ptr<sfu::rtc::Shared> shared_;
    std::unique_ptr<sfu::rtc::Router> router_;
    uint32_t id_ = 0;
};

} // namespace sfu::test
