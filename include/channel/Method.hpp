// The 54 channel methods of the mediasoup 3.8 protocol, and
// transport.setMinOutgoingBitrate of 3.9 (the estimate's lower bound).
#pragma once

#include <optional>
#include <string_view>

namespace sfu::channel {

#define SFU_CHANNEL_METHODS(X)                                                                     \
    X(WorkerClose, "worker.close")                                                                 \
    X(WorkerDump, "worker.dump")                                                                   \
    X(WorkerGetResourceUsage, "worker.getResourceUsage")                                           \
    X(WorkerUpdateSettings, "worker.updateSettings")                                               \
    X(WorkerCreateRouter, "worker.createRouter")                                                   \
    X(RouterClose, "router.close")                                                                 \
    X(RouterDump, "router.dump")                                                                   \
    X(RouterCreateWebRtcTransport, "router.createWebRtcTransport")                                 \
    X(RouterCreatePlainTransport, "router.createPlainTransport")                                   \
    X(RouterCreatePipeTransport, "router.createPipeTransport")                                     \
    X(RouterCreateDirectTransport, "router.createDirectTransport")                                 \
    X(RouterCreateActiveSpeakerObserver, "router.createActiveSpeakerObserver")                     \
    X(RouterCreateAudioLevelObserver, "router.createAudioLevelObserver")                           \
    X(TransportClose, "transport.close")                                                           \
    X(TransportDump, "transport.dump")                                                             \
    X(TransportGetStats, "transport.getStats")                                                     \
    X(TransportConnect, "transport.connect")                                                       \
    X(TransportSetMaxIncomingBitrate, "transport.setMaxIncomingBitrate")                           \
    X(TransportSetMaxOutgoingBitrate, "transport.setMaxOutgoingBitrate")                           \
    X(TransportSetMinOutgoingBitrate, "transport.setMinOutgoingBitrate")                           \
    X(TransportRestartIce, "transport.restartIce")                                                 \
    X(TransportProduce, "transport.produce")                                                       \
    X(TransportConsume, "transport.consume")                                                       \
    X(TransportProduceData, "transport.produceData")                                               \
    X(TransportConsumeData, "transport.consumeData")                                               \
    X(TransportEnableTraceEvent, "transport.enableTraceEvent")                                     \
    X(ProducerClose, "producer.close")                                                             \
    X(ProducerDump, "producer.dump")                                                               \
    X(ProducerGetStats, "producer.getStats")                                                       \
    X(ProducerPause, "producer.pause")                                                             \
    X(ProducerResume, "producer.resume")                                                           \
    X(ProducerEnableTraceEvent, "producer.enableTraceEvent")                                       \
    X(ConsumerClose, "consumer.close")                                                             \
    X(ConsumerDump, "consumer.dump")                                                               \
    X(ConsumerGetStats, "consumer.getStats")                                                       \
    X(ConsumerPause, "consumer.pause")                                                             \
    X(ConsumerResume, "consumer.resume")                                                           \
    X(ConsumerSetPreferredLayers, "consumer.setPreferredLayers")                                   \
    X(ConsumerSetPriority, "consumer.setPriority")                                                 \
    X(ConsumerRequestKeyFrame, "consumer.requestKeyFrame")                                         \
    X(ConsumerEnableTraceEvent, "consumer.enableTraceEvent")                                       \
    X(DataProducerClose, "dataProducer.close")                                                     \
    X(DataProducerDump, "dataProducer.dump")                                                       \
    X(DataProducerGetStats, "dataProducer.getStats")                                               \
    X(DataConsumerClose, "dataConsumer.close")                                                     \
    X(DataConsumerDump, "dataConsumer.dump")                                                       \
    X(DataConsumerGetStats, "dataConsumer.getStats")                                               \
    X(DataConsumerGetBufferedAmount, "dataConsumer.getBufferedAmount")                             \
    X(DataConsumerSetBufferedAmountLowThreshold, "dataConsumer.setBufferedAmountLowThreshold")     \
    X(DataConsumerSend, "dataConsumer.send")                                                       \
    X(RtpObserverClose, "rtpObserver.close")                                                       \
    X(RtpObserverPause, "rtpObserver.pause")                                                       \
    X(RtpObserverResume, "rtpObserver.resume")                                                     \
    X(RtpObserverAddProducer, "rtpObserver.addProducer")                                           \
    X(RtpObserverRemoveProducer, "rtpObserver.removeProducer")

enum class Method {
#define SFU_METHOD_ENUM(id, name) id,
    SFU_CHANNEL_METHODS(SFU_METHOD_ENUM)
#undef SFU_METHOD_ENUM
        Count
};

std::optional<Method> methodFromName(std::string_view name);
std::string_view methodName(Method method);

// The events the payload channel carries from the host (notifications).
enum class PayloadEvent { TransportSendRtcp, ProducerSend, DataProducerSend };

std::optional<PayloadEvent> payloadEventFromName(std::string_view name);

} // namespace sfu::channel
