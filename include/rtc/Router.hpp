// A Router: the room in which producers are forwarded to consumers. It owns
// its transports and RTP observers, knows which consumer follows which
// producer and which observers watch it, fans every producer packet out to
// that producer's consumers and observers, and routes the requests
// addressed to its entities.
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "rtc/RtpObserver.hpp"
#include "rtc/Shared.hpp"
#include "rtc/Transport.hpp"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace sfu::rtc {

class Router final : public Transport::Listener {
public:
    Router(std::string id, Shared& shared);
    ~Router() override;
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    const std::string& id() const { return id_; }

    void handleRequest(channel::Request& request);
    void handlePayloadNotification(const channel::PayloadNotification& notification);
    void handlePayloadRequest(channel::Request& request);

    nlohmann::json dump() const;

private:
    // Transport::Listener
    void onTransportNewProducer(Transport& transport, Producer& producer) override;
    void onTransportProducerClosed(Transport& transport, Producer& producer) override;
    void onTransportProducerPaused(Transport& transport, Producer& producer) override;
    void onTransportProducerResumed(Transport& transport, Producer& producer) override;
    void onTransportProducerScore(Transport& transport, Producer& producer) override;
    void onTransportProducerRtpPacket(Transport& transport, Producer& producer,
                                      rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    Producer& producerById(const std::string& producerId) override;
    void onTransportNewConsumer(Transport& transport, Consumer& consumer,
                                Producer& producer) override;
    void onTransportConsumerClosed(Transport& transport, Consumer& consumer) override;
    void onTransportConsumerKeyFrameRequested(Transport& transport, Consumer& consumer,
                                              uint32_t mappedSsrc) override;
    void onTransportNewDataProducer(Transport& transport, DataProducer& dataProducer) override;
    void onTransportDataProducerClosed(Transport& transport, DataProducer& dataProducer) override;
    void onTransportDataProducerMessage(Transport& transport, DataProducer& dataProducer,
                                        uint32_t ppid, const uint8_t* data, size_t length) override;
    DataProducer& dataProducerById(const std::string& dataProducerId) override;
    void onTransportNewDataConsumer(Transport& transport, DataConsumer& dataConsumer,
                                    DataProducer& dataProducer) override;
    void onTransportDataConsumerClosed(Transport& transport, DataConsumer& dataConsumer) override;

    template <typename T>
    void createTransport(channel::Request& request);
    Transport& transportOf(const channel::Request& request);
    void closeTransport(const std::string& transportId);
    template <typename T>
    void createRtpObserver(channel::Request& request);
    RtpObserver& rtpObserverOf(const channel::Request& request);
    Producer& producerOf(const channel::Request& request);
    void closeRtpObserver(const std::string& rtpObserverId);

    struct ConsumerLink {
        Producer* producer;
        Transport* transport;
    };

    std::string id_;
    Shared& shared_;
    std::map<std::string, std::unique_ptr<Transport>> transports_;
    std::unordered_map<std::string, Producer*> producers_;
    // What follows each producer: its consumers, and the observers watching
    // it (none for most).
    struct ProducerLinks {
        std::vector<Consumer*> consumers;
        std::vector<RtpObserver*> observers;
    };
    std::map<std::string, std::unique_ptr<RtpObserver>> rtpObservers_;
    std::unordered_map<Producer*, ProducerLinks> producerLinks_;
    std::unordered_map<Consumer*, ConsumerLink> consumerLinks_;

    struct DataConsumerLink {
        DataProducer* dataProducer;
        Transport* transport;
    };
    std::unordered_map<std::string, DataProducer*> dataProducers_;
    // In creation order, so that a message reaches its consumers in the
    // order they were created.
    std::unordered_map<DataProducer*, std::vector<DataConsumer*>> dataProducerConsumers_;
    std::unordered_map<DataConsumer*, DataConsumerLink> dataConsumerLinks_;
    // While the router itself closes, its entities close silently: the host
    // closes their objects on its side.
    bool closing_ = false;
};

} // namespace sfu::rtc
