#include "rtc/Router.hpp"

#include "Logger.hpp"
#include "utils/Errors.hpp"

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

namespace {

[[noreturn]] void notImplemented(const channel::Request& request) {
    throw Error("not implemented: " + request.methodName());
}

} // namespace

Router::Router(std::string id, Shared& shared) : id_(std::move(id)), shared_(shared) {}

Router::~Router() = default;

json Router::dump() const {
    return json{{"id", id_},
                {"transportIds", json::array()},
                {"rtpObserverIds", json::array()},
                {"mapProducerIdConsumerIds", json::object()},
                {"mapConsumerIdProducerId", json::object()},
                {"mapProducerIdObserverIds", json::object()},
                {"mapDataProducerIdDataConsumerIds", json::object()},
                {"mapDataConsumerIdDataProducerId", json::object()}};
}

void Router::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::RouterDump:
        request.accept(dump());
        return;
    case Method::RouterCreateWebRtcTransport:
    case Method::RouterCreatePlainTransport:
    case Method::RouterCreatePipeTransport:
    case Method::RouterCreateDirectTransport:
    case Method::RouterCreateActiveSpeakerObserver:
    case Method::RouterCreateAudioLevelObserver:
        notImplemented(request);
    case Method::RtpObserverClose:
    case Method::RtpObserverPause:
    case Method::RtpObserverResume:
    case Method::RtpObserverAddProducer:
    case Method::RtpObserverRemoveProducer:
        throw Error("rtp observer not found [rtpObserverId:" + request.internalId("rtpObserverId") +
                    "]");
    default:
        // Every other method is addressed to a transport or to an entity
        // under one.
        throw Error("transport not found [transportId:" + request.internalId("transportId") + "]");
    }
}

void Router::handlePayloadNotification(const channel::PayloadNotification& notification) {
    const auto transportId = notification.internal.find("transportId");
    SFU_WARN("payload channel: no transport %s in router %s, message dropped",
             transportId != notification.internal.end() ? transportId->dump().c_str() : "(none)",
             id_.c_str());
}

void Router::handlePayloadRequest(channel::Request& request) {
    throw Error("transport not found [transportId:" + request.internalId("transportId") + "]");
}

} // namespace sfu::rtc
