#include "Worker.hpp"

#include "Logger.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "utils/Errors.hpp"

#include <csignal>
#include <unistd.h>

namespace sfu {

using channel::Method;
using nlohmann::json;

Worker::Worker(uv_loop_t* loop, Settings settings,
               std::shared_ptr<const dtls::DtlsContext> dtlsContext)
    : loop_(loop), settings_(std::move(settings)) {
    settings_.applyLogging();
    channel_ =
        std::make_unique<channel::ChannelSocket>(loop_, kChannelReadFd, kChannelWriteFd, *this);
    payloadChannel_ = std::make_unique<channel::PayloadChannelSocket>(loop_, kPayloadReadFd,
                                                                      kPayloadWriteFd, *this);
    Logger::setSink(channel_.get());
    portManager_ = std::make_unique<rtc::PortManager>(settings_.rtcMinPort, settings_.rtcMaxPort);
    if (dtlsContext && !dtlsContext->securityWarning().empty()) {
        SFU_WARN("%s", dtlsContext->securityWarning().c_str());
    }
    if (settings_.webRtcUdpPort != 0 || settings_.webRtcTcpPort != 0) {
        sharedPorts_ = std::make_unique<rtc::SharedPorts>(
            loop_, *portManager_, settings_.webRtcUdpPort, settings_.webRtcTcpPort);
    }
    shared_.reset(new rtc::Shared{loop_, *channel_, *payloadChannel_, settings_, *portManager_,
                                  std::move(dtlsContext), sharedPorts_.get()});
    auto onSignal = [this](int signum) {
        SFU_DEBUG(Info, "signal %d received, closing", signum);
        close();
    };
    sigint_ = std::make_unique<deps::UvSignal>(loop_, SIGINT, onSignal);
    sigterm_ = std::make_unique<deps::UvSignal>(loop_, SIGTERM, onSignal);
    channel_->notify(std::to_string(::getpid()), "running");
}

Worker::~Worker() {
    close();
}

void Worker::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    routers_.clear();
    sigint_.reset();
    sigterm_.reset();
    // Later log lines (e.g. at exit) go to stderr.
    Logger::setSink(nullptr);
    payloadChannel_->close();
    channel_->close();
}

void Worker::onChannelRequest(channel::Request& request) {
    channel::runRequest(request, [this](channel::Request& r) { handleRequest(r); });
}

void Worker::onChannelEnd() {
    SFU_DEBUG(Info, "channel closed by the host, closing");
    close();
}

void Worker::onPayloadNotification(const channel::PayloadNotification& notification) {
    rtc::Router* router = findRouter(notification.internal);
    if (router == nullptr) {
        SFU_WARN("payload channel: no router for message, dropped");
        return;
    }
    router->handlePayloadNotification(notification);
}

void Worker::onPayloadRequest(channel::Request& request) {
    channel::runRequest(request, [this](channel::Request& r) {
        if (r.method() != Method::DataConsumerSend) {
            throw Error("unknown payload channel method '" + r.methodName() + "'");
        }
        routerOf(r).handlePayloadRequest(r);
    });
}

void Worker::handleRequest(channel::Request& request) {
    if (!request.method()) {
        throw Error("unknown method '" + request.methodName() + "'");
    }
    switch (*request.method()) {
    case Method::WorkerClose:
        request.accept();
        close();
        return;
    case Method::WorkerDump:
        request.accept(dump());
        return;
    case Method::WorkerGetResourceUsage:
        request.accept(resourceUsage());
        return;
    case Method::WorkerUpdateSettings:
        applySettingsUpdate(settings_, request.data());
        request.accept();
        return;
    case Method::WorkerCreateRouter: {
        const std::string& id = request.internalId("routerId");
        if (routers_.count(id) != 0) {
            throw Error("a router with id '" + id + "' already exists");
        }
        routers_.emplace(id, std::make_unique<rtc::Router>(id, *shared_));
        request.accept();
        return;
    }
    case Method::RouterClose: {
        // Destroying the router closes everything under it.
        routers_.erase(routerOf(request).id());
        request.accept();
        return;
    }
    case Method::DataConsumerSend:
        throw Error("dataConsumer.send is a payload channel request");
    default:
        routerOf(request).handleRequest(request);
    }
}

rtc::Router* Worker::findRouter(const json& internal) {
    const auto id = internal.find("routerId");
    if (id == internal.end() || !id->is_string()) {
        return nullptr;
    }
    const auto it = routers_.find(id->get_ref<const std::string&>());
    return it == routers_.end() ? nullptr : it->second.get();
}

rtc::Router& Worker::routerOf(const channel::Request& request) {
    const std::string& id = request.internalId("routerId");
    const auto it = routers_.find(id);
    if (it == routers_.end()) {
        throw Error("router not found [routerId:" + id + "]");
    }
    return *it->second;
}

json Worker::dump() const {
    json routerIds = json::array();
    for (const auto& [id, router] : routers_) {
        routerIds.push_back(id);
    }
    return json{{"pid", ::getpid()}, {"routerIds", std::move(routerIds)}};
}

json Worker::resourceUsage() {
    uv_rusage_t ru;
    if (uv_getrusage(&ru) != 0) {
        throw Error("getrusage failed");
    }
    auto ms = [](const uv_timeval_t& tv) {
        return static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
    };
    return json{
        {"ru_utime", ms(ru.ru_utime)}, {"ru_stime", ms(ru.ru_stime)},   {"ru_maxrss", ru.ru_maxrss},
        {"ru_ixrss", ru.ru_ixrss},     {"ru_idrss", ru.ru_idrss},       {"ru_isrss", ru.ru_isrss},
        {"ru_minflt", ru.ru_minflt},   {"ru_majflt", ru.ru_majflt},     {"ru_nswap", ru.ru_nswap},
        {"ru_inblock", ru.ru_inblock}, {"ru_oublock", ru.ru_oublock},   {"ru_msgsnd", ru.ru_msgsnd},
        {"ru_msgrcv", ru.ru_msgrcv},   {"ru_nsignals", ru.ru_nsignals}, {"ru_nvcsw", ru.ru_nvcsw},
        {"ru_nivcsw", ru.ru_nivcsw}};
}

} // namespace sfu
