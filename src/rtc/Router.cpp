#include "rtc/Router.hpp"

#include "Logger.hpp"
#include "rtc/ActiveSpeakerObserver.hpp"
#include "rtc/AudioLevelObserver.hpp"
#include "rtc/DirectTransport.hpp"
#include "rtc/PipeTransport.hpp"
#include "rtc/PlainTransport.hpp"
#include "rtc/WebRtcTransport.hpp"
#include "utils/Errors.hpp"

#include <algorithm>

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

Router::Router(std::string id, Shared& shared) : id_(std::move(id)), shared_(shared) {}

Router::~Router() {
    closing_ = true;
    // Observers first: closing producers then find none to tell.
    while (!rtpObservers_.empty()) {
        closeRtpObserver(rtpObservers_.begin()->first);
    }
    while (!transports_.empty()) {
        closeTransport(transports_.begin()->first);
    }
}

json Router::dump() const {
    json transportIds = json::array();
    for (const auto& [id, transport] : transports_) {
        transportIds.push_back(id);
    }
    json rtpObserverIds = json::array();
    for (const auto& [id, observer] : rtpObservers_) {
        rtpObserverIds.push_back(id);
    }
    json producerConsumers = json::object();
    json producerObservers = json::object();
    for (const auto& [producer, links] : producerLinks_) {
        json consumerIds = json::array();
        for (const Consumer* consumer : links.consumers) {
            consumerIds.push_back(consumer->id());
        }
        producerConsumers[producer->id()] = std::move(consumerIds);
        json observerIds = json::array();
        for (const RtpObserver* observer : links.observers) {
            observerIds.push_back(observer->id());
        }
        producerObservers[producer->id()] = std::move(observerIds);
    }
    json consumerProducer = json::object();
    for (const auto& [consumer, link] : consumerLinks_) {
        consumerProducer[consumer->id()] = link.producer->id();
    }
    json dataProducerConsumers = json::object();
    for (const auto& [dataProducer, dataConsumers] : dataProducerConsumers_) {
        json ids = json::array();
        for (const DataConsumer* dataConsumer : dataConsumers) {
            ids.push_back(dataConsumer->id());
        }
        dataProducerConsumers[dataProducer->id()] = std::move(ids);
    }
    json dataConsumerProducer = json::object();
    for (const auto& [dataConsumer, link] : dataConsumerLinks_) {
        dataConsumerProducer[dataConsumer->id()] = link.dataProducer->id();
    }
    return json{{"id", id_},
                {"transportIds", std::move(transportIds)},
                {"rtpObserverIds", std::move(rtpObserverIds)},
                {"mapProducerIdConsumerIds", std::move(producerConsumers)},
                {"mapConsumerIdProducerId", std::move(consumerProducer)},
                {"mapProducerIdObserverIds", std::move(producerObservers)},
                {"mapDataProducerIdDataConsumerIds", std::move(dataProducerConsumers)},
                {"mapDataConsumerIdDataProducerId", std::move(dataConsumerProducer)}};
}

template <typename T>
void Router::createTransport(channel::Request& request) {
    const std::string& id = request.internalId("transportId");
    if (transports_.count(id) != 0) {
        throw Error("a transport with id '" + id + "' already exists");
    }
    auto transport = std::make_unique<T>(id, shared_, *this, request.data());
    const json answer = transport->dump();
    transports_.emplace(id, std::move(transport));
    request.accept(answer);
}

template <typename T>
void Router::createRtpObserver(channel::Request& request) {
    const std::string& id = request.internalId("rtpObserverId");
    if (rtpObservers_.count(id) != 0) {
        throw Error("an rtp observer with id '" + id + "' already exists");
    }
    rtpObservers_.emplace(id, std::make_unique<T>(id, shared_, request.data()));
    request.accept();
}

RtpObserver& Router::rtpObserverOf(const channel::Request& request) {
    const std::string& id = request.internalId("rtpObserverId");
    const auto it = rtpObservers_.find(id);
    if (it == rtpObservers_.end()) {
        throw Error("rtp observer not found [rtpObserverId:" + id + "]");
    }
    return *it->second;
}

Producer& Router::producerOf(const channel::Request& request) {
    const json& data = request.data();
    const auto id = data.is_object() ? data.find("producerId") : data.end();
    if (id == data.end() || !id->is_string()) {
        throw Error("missing data.producerId");
    }
    return producerById(id->get<std::string>());
}

void Router::closeRtpObserver(const std::string& rtpObserverId) {
    auto node = rtpObservers_.extract(rtpObserverId);
    if (node.empty()) {
        return;
    }
    RtpObserver* observer = node.mapped().get();
    for (Producer* producer : observer->producers()) {
        auto& observers = producerLinks_[producer].observers;
        std::erase(observers, observer);
    }
}

void Router::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::RouterDump:
        request.accept(dump());
        return;
    case Method::RouterCreateDirectTransport:
        createTransport<DirectTransport>(request);
        return;
    case Method::RouterCreatePlainTransport:
        createTransport<PlainTransport>(request);
        return;
    case Method::RouterCreateWebRtcTransport:
        createTransport<WebRtcTransport>(request);
        return;
    case Method::RouterCreatePipeTransport:
        createTransport<PipeTransport>(request);
        return;
    case Method::RouterCreateActiveSpeakerObserver:
        createRtpObserver<ActiveSpeakerObserver>(request);
        return;
    case Method::RouterCreateAudioLevelObserver:
        createRtpObserver<AudioLevelObserver>(request);
        return;
    case Method::RtpObserverClose:
        closeRtpObserver(rtpObserverOf(request).id());
        request.accept();
        return;
    case Method::RtpObserverPause:
        rtpObserverOf(request).pause();
        request.accept();
        return;
    case Method::RtpObserverResume:
        rtpObserverOf(request).resume();
        request.accept();
        return;
    case Method::RtpObserverAddProducer: {
        RtpObserver& observer = rtpObserverOf(request);
        Producer& producer = producerOf(request);
        if (!observer.observes(producer)) {
            observer.addProducer(producer);
            producerLinks_[&producer].observers.push_back(&observer);
        }
        request.accept();
        return;
    }
    case Method::RtpObserverRemoveProducer: {
        RtpObserver& observer = rtpObserverOf(request);
        Producer& producer = producerOf(request);
        observer.removeProducer(producer);
        std::erase(producerLinks_[&producer].observers, &observer);
        request.accept();
        return;
    }
    case Method::TransportClose:
        closeTransport(transportOf(request).id());
        request.accept();
        return;
    default:
        // Every other method is addressed to a transport or to an entity
        // under one.
        transportOf(request).handleRequest(request);
    }
}

Transport& Router::transportOf(const channel::Request& request) {
    const std::string& id = request.internalId("transportId");
    const auto it = transports_.find(id);
    if (it == transports_.end()) {
        throw Error("transport not found [transportId:" + id + "]");
    }
    return *it->second;
}

void Router::closeTransport(const std::string& transportId) {
    auto node = transports_.extract(transportId);
    if (node.empty()) {
        return;
    }
    // Producers and consumers tell this router as they close, while the
    // transport is no longer in the map.
    node.mapped()->close();
}

void Router::handlePayloadNotification(const channel::PayloadNotification& notification) {
    const auto transportId = notification.internal.find("transportId");
    const auto it = transportId != notification.internal.end() && transportId->is_string()
                        ? transports_.find(transportId->get<std::string>())
                        : transports_.end();
    if (it == transports_.end()) {
        SFU_WARN("payload channel: no such transport in router %s, message dropped", id_.c_str());
        return;
    }
    it->second->handlePayloadNotification(notification);
}

void Router::handlePayloadRequest(channel::Request& request) {
    transportOf(request).handleRequest(request);
}

// ---- Transport::Listener --------------------------------------------------

void Router::onTransportNewProducer(Transport& transport, Producer& producer) {
    (void)transport;
    if (producers_.count(producer.id()) != 0) {
        throw Error("a producer with id '" + producer.id() + "' already exists");
    }
    producers_.emplace(producer.id(), &producer);
    producerLinks_[&producer];
}

void Router::onTransportProducerClosed(Transport& transport, Producer& producer) {
    (void)transport;
    const auto links = producerLinks_.extract(&producer);
    if (!links.empty()) {
        for (RtpObserver* observer : links.mapped().observers) {
            observer->removeProducer(producer);
        }
        for (Consumer* consumer : links.mapped().consumers) {
            Transport* consumerTransport = consumerLinks_.at(consumer).transport;
            consumerLinks_.erase(consumer);
            if (!closing_) {
                consumer->producerClosed();
            }
            consumerTransport->destroyConsumer(*consumer);
        }
    }
    producers_.erase(producer.id());
}

void Router::onTransportProducerPaused(Transport& transport, Producer& producer) {
    (void)transport;
    auto& links = producerLinks_[&producer];
    for (Consumer* consumer : links.consumers) {
        consumer->setProducerPaused(true);
    }
    for (RtpObserver* observer : links.observers) {
        observer->producerPaused(producer);
    }
}

void Router::onTransportProducerResumed(Transport& transport, Producer& producer) {
    (void)transport;
    auto& links = producerLinks_[&producer];
    for (Consumer* consumer : links.consumers) {
        consumer->setProducerPaused(false);
    }
    for (RtpObserver* observer : links.observers) {
        observer->producerResumed(producer);
    }
}

void Router::onTransportProducerScore(Transport& transport, Producer& producer) {
    (void)transport;
    const auto scores = producer.encodingScores();
    for (Consumer* consumer : producerLinks_[&producer].consumers) {
        consumer->producerScoresChanged(scores);
    }
}

void Router::onTransportProducerRtpPacket(Transport& transport, Producer& producer,
                                          rtp::RtpPacket& packet, const RtpForwardInfo& info) {
    (void)transport;
    const auto it = producerLinks_.find(&producer);
    if (it == producerLinks_.end()) {
        return;
    }
    // Observers read the packet before consumers rewrite it for their
    // endpoints.
    for (RtpObserver* observer : it->second.observers) {
        observer->receiveRtpPacket(producer, packet, info);
    }
    for (Consumer* consumer : it->second.consumers) {
        consumer->sendRtpPacket(packet, info);
    }
}

Producer& Router::producerById(const std::string& producerId) {
    const auto it = producers_.find(producerId);
    if (it == producers_.end()) {
        throw Error("producer not found [producerId:" + producerId + "]");
    }
    return *it->second;
}

void Router::onTransportNewConsumer(Transport& transport, Consumer& consumer, Producer& producer) {
    producerLinks_[&producer].consumers.push_back(&consumer);
    consumerLinks_[&consumer] = ConsumerLink{&producer, &transport};
    consumer.setProducer(producer);
}

void Router::onTransportConsumerClosed(Transport& transport, Consumer& consumer) {
    (void)transport;
    const auto link = consumerLinks_.find(&consumer);
    if (link == consumerLinks_.end()) {
        return;
    }
    auto& consumers = producerLinks_[link->second.producer].consumers;
    consumers.erase(std::remove(consumers.begin(), consumers.end(), &consumer), consumers.end());
    consumerLinks_.erase(link);
}

void Router::onTransportConsumerKeyFrameRequested(Transport& transport, Consumer& consumer,
                                                  uint32_t mappedSsrc) {
    (void)transport;
    const auto link = consumerLinks_.find(&consumer);
    if (link != consumerLinks_.end()) {
        link->second.producer->requestKeyFrame(mappedSsrc, uv_now(shared_.loop));
    }
}

void Router::onTransportNewDataProducer(Transport& transport, DataProducer& dataProducer) {
    (void)transport;
    if (dataProducers_.count(dataProducer.id()) != 0) {
        throw Error("a data producer with id '" + dataProducer.id() + "' already exists");
    }
    dataProducers_.emplace(dataProducer.id(), &dataProducer);
    dataProducerConsumers_[&dataProducer];
}

void Router::onTransportDataProducerClosed(Transport& transport, DataProducer& dataProducer) {
    (void)transport;
    const auto dataConsumers = dataProducerConsumers_.extract(&dataProducer);
    if (!dataConsumers.empty()) {
        for (DataConsumer* dataConsumer : dataConsumers.mapped()) {
            Transport* consumerTransport = dataConsumerLinks_.at(dataConsumer).transport;
            dataConsumerLinks_.erase(dataConsumer);
            if (!closing_) {
                dataConsumer->dataProducerClosed();
            }
            consumerTransport->destroyDataConsumer(*dataConsumer);
        }
    }
    dataProducers_.erase(dataProducer.id());
}

void Router::onTransportDataProducerMessage(Transport& transport, DataProducer& dataProducer,
                                            uint32_t ppid, const uint8_t* data, size_t length) {
    (void)transport;
    const auto it = dataProducerConsumers_.find(&dataProducer);
    if (it == dataProducerConsumers_.end()) {
        return;
    }
    for (DataConsumer* dataConsumer : it->second) {
        dataConsumer->sendMessage(ppid, data, length);
    }
}

DataProducer& Router::dataProducerById(const std::string& dataProducerId) {
    const auto it = dataProducers_.find(dataProducerId);
    if (it == dataProducers_.end()) {
        throw Error("data producer not found [dataProducerId:" + dataProducerId + "]");
    }
    return *it->second;
}

void Router::onTransportNewDataConsumer(Transport& transport, DataConsumer& dataConsumer,
                                        DataProducer& dataProducer) {
    dataProducerConsumers_[&dataProducer].push_back(&dataConsumer);
    dataConsumerLinks_[&dataConsumer] = DataConsumerLink{&dataProducer, &transport};
}

void Router::onTransportDataConsumerClosed(Transport& transport, DataConsumer& dataConsumer) {
    (void)transport;
    const auto link = dataConsumerLinks_.find(&dataConsumer);
    if (link == dataConsumerLinks_.end()) {
        return;
    }
    auto& dataConsumers = dataProducerConsumers_[link->second.dataProducer];
    dataConsumers.erase(std::remove(dataConsumers.begin(), dataConsumers.end(), &dataConsumer),
                        dataConsumers.end());
    dataConsumerLinks_.erase(link);
}

} // namespace sfu::rtc
