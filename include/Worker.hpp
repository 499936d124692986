// The top of the entity tree: owns the channels to the host, the signal
// watchers and the routers; answers worker.* requests and routes the rest to
// the router they name.
#pragma once

#include "Settings.hpp"
#include "channel/ChannelSocket.hpp"
#include "deps/UvHandles.hpp"
#include "rtc/PortManager.hpp"
#include "rtc/Router.hpp"
#include "rtc/Shared.hpp"
#include "rtc/SharedPort.hpp"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace sfu {

namespace dtls {
class DtlsContext;
} // namespace dtls

class Worker final : public channel::ChannelSocket::Listener,
                     public channel::PayloadChannelSocket::Listener {
public:
    // The channel fds the host hands over.
    static constexpr int kChannelReadFd = 3;
    static constexpr int kChannelWriteFd = 4;
    static constexpr int kPayloadReadFd = 5;
    static constexpr int kPayloadWriteFd = 6;

    // Opens the channels and tells the host the worker is running.
    Worker(uv_loop_t* loop, Settings settings,
           std::shared_ptr<const dtls::DtlsContext> dtlsContext);
    ~Worker() override;
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Closes every router and the channels; the loop then ends by itself.
    void close();
    bool closed() const { return closed_; }

private:
    void onChannelRequest(channel::Request& request) override;
    void onChannelEnd() override;
    void onPayloadNotification(const channel::PayloadNotification& notification) override;
    void onPayloadRequest(channel::Request& request) override;

    void handleRequest(channel::Request& request);
    rtc::Router& routerOf(const channel::Request& request);
    rtc::Router* findRouter(const nlohmann::json& internal);
    nlohmann::json dump() const;
    static nlohmann::json resourceUsage();

    uv_loop_t* loop_;
    Settings settings_;
    std::unique_ptr<channel::ChannelSocket> channel_;
    std::unique_ptr<channel::PayloadChannelSocket> payloadChannel_;
    std::unique_ptr<rtc::PortManager> portManager_;
    std::unique_ptr<rtc::SharedPorts> sharedPorts_;
    std::unique_ptr<rtc::Shared> shared_;
    std::unique_ptr<deps::UvSignal> sigint_;
    std::unique_ptr<deps::UvSignal> sigterm_;
    std::map<std::string, std::unique_ptr<rtc::Router>> routers_;
    bool closed_ = false;
};

} // namespace sfu
