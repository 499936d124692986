#include "rtc/Transport.hpp"

#include "Logger.hpp"
#include "protocol/bwe/Types.hpp"
#include "protocol/rtcp/Compound.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Sdes.hpp"
#include "protocol/rtcp/Xr.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/Time.hpp"
#include "rtc/ConsumerFactory.hpp"
#include "utils/Errors.hpp"
#include "utils/Random.hpp"

#include <algorithm>
#include <cstring>

namespace sfu::rtc {

using channel::Method;
using nlohmann::json;

namespace {

// RTCP compounds stay under a typical path MTU.
constexpr size_t kMaxRtcpCompoundSize = 1200;
// RFC 3550 6.2: the minimum interval, and the "reduced minimum" of 360 s
// divided by the session bandwidth in kbit/s; with video the interval is at
// most a second (randomised below, reports come 0.41 to 1.23 s apart) so
// that loss and RTT stay fresh.
constexpr uint64_t kMaxRtcpIntervalMs = 5000;
constexpr uint64_t kMaxVideoRtcpIntervalMs = 1000;
constexpr uint64_t kMinRtcpIntervalMs = 100;
// Period of NACK and key frame request retries, and of the estimator's
// timers.
constexpr uint64_t kRecoveryTickMs = 20;
// How often the REMB of setMaxIncomingBitrate is repeated.
constexpr uint64_t kMaxIncomingRembIntervalMs = 1000;
// Pacing of a probe cluster's packets.
constexpr uint64_t kProbeTickMs = 1;
// Bitrate allocation: at least this often, and at most this often when the
// estimate moves (an input change runs it on the next tick).
constexpr int64_t kAllocationIntervalMs = 1000;
constexpr int64_t kAllocationMinGapMs = 100;

// A bitrate of a "bwe" trace, null when there is none (bwe::kNoBitrate).
json bitrateOrNull(int64_t bps) {
    return bps == bwe::kNoBitrate ? json(nullptr) : json(bps);
}

// An unsigned integer field within [min, max], or `fallback` when absent or
// null. Anything else is a TypeError: a negative, fractional or larger
// number would be truncated, or (from a double out of range) undefined.
uint32_t optionalUint(const json& object, const char* key, uint32_t fallback, uint32_t min,
                      uint32_t max) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_number_unsigned() || it->get<uint64_t>() < min || it->get<uint64_t>() > max) {
        throw TypeError(std::string("wrong ") + key + " (not an integer from " +
                        std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    return static_cast<uint32_t>(it->get<uint64_t>());
}

// The request's id for a new entity, checked for duplicates by the caller.
const std::string& newId(const channel::Request& request, const char* key) {
    return request.internalId(key);
}

} // namespace

Transport::Transport(std::string id, Shared& shared, Listener& listener, const json& data)
    : id_(std::move(id)), shared_(shared), listener_(listener),
      probeTimer_(shared.loop, [this] { sendProbes(); }), rtcpSsrc_(randomUint32()),
      rtcpTimer_(shared.loop, [this] { sendRtcpReports(); }),
      recoveryTimer_(shared.loop, [this] { recoveryTick(); }) {
    rtcpCname_ = id_.substr(0, 8);
    bool enableSctp = false;
    if (const auto enable = data.find("enableSctp"); enable != data.end() && enable->is_boolean()) {
        enableSctp = enable->get<bool>();
    }
    if (enableSctp) {
        sctp::SctpAssociation::Options options;
        if (const auto streams = data.find("numSctpStreams");
            streams != data.end() && !streams->is_null()) {
            if (!streams->is_object()) {
                throw TypeError("wrong numSctpStreams (not an object)");
            }
            // SCTP counts streams in 16 bits (RFC 9260 3.3.2).
            options.os = static_cast<uint16_t>(optionalUint(*streams, "OS", 1024, 1, 65535));
            options.mis = static_cast<uint16_t>(optionalUint(*streams, "MIS", 1024, 1, 65535));
        }
        options.maxMessageSize = optionalUint(data, "maxSctpMessageSize", 262144, 1, UINT32_MAX);
        options.sendBufferSize = optionalUint(data, "sctpSendBufferSize", 262144, 1, UINT32_MAX);
        sctpIsDataChannel_ = data.value("isDataChannel", false);
        sctp::SctpAssociation::Listener& sctpListener = *this;
        sctpAssociation_ = std::make_unique<sctp::SctpAssociation>(options, sctpListener);
        sctpTimer_.emplace(shared.loop);
    }
    maxMessageSize_ = optionalUint(data, "maxMessageSize", maxMessageSize_, 0, UINT32_MAX);
    // Bounds of the outgoing estimate (the host passes the first for WebRTC
    // transports; the minimum is this worker's own option).
    bweBounds_.startBps = optionalUint(data, "initialAvailableOutgoingBitrate",
                                       static_cast<uint32_t>(bweBounds_.startBps), 1, UINT32_MAX);
    bweBounds_.minBps = optionalUint(data, "minimumAvailableOutgoingBitrate",
                                     static_cast<uint32_t>(bweBounds_.minBps), 0, UINT32_MAX);
    scheduleRtcp();
}

Transport::~Transport() = default;

void Transport::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    rtcpTimer_.stop();
    recoveryTimer_.stop();
    probeTimer_.stop();
    while (!producers_.empty()) {
        closeProducer(*producers_.begin()->second);
    }
    while (!consumers_.empty()) {
        closeConsumer(*consumers_.begin()->second);
    }
    while (!dataProducers_.empty()) {
        closeDataProducer(*dataProducers_.begin()->second);
    }
    while (!dataConsumers_.empty()) {
        closeDataConsumer(*dataConsumers_.begin()->second);
    }
    if (sctpAssociation_) {
        sctpAssociation_->close();
    }
}

void Transport::closeProducer(Producer& producer) {
    listener_.onTransportProducerClosed(*this, producer);
    rtpListener_.removeProducer(producer);
    producers_.erase(producer.id());
    if (producers_.empty() && !bwe_) {
        recoveryTimer_.stop();
    }
}

void Transport::closeConsumer(Consumer& consumer) {
    listener_.onTransportConsumerClosed(*this, consumer);
    destroyConsumer(consumer);
}

void Transport::destroyConsumer(Consumer& consumer) {
    allocator_.forget(reinterpret_cast<uintptr_t>(&consumer));
    allocationDue_ = true;
    std::erase_if(consumerBySsrc_, [&](const auto& entry) { return entry.second == &consumer; });
    consumers_.erase(consumer.id());
}

// ---- requests -------------------------------------------------------------

void Transport::handleRequest(channel::Request& request) {
    switch (*request.method()) {
    case Method::TransportDump:
        request.accept(dump());
        return;
    case Method::TransportGetStats:
        request.accept(json::array({stats()}));
        return;
    case Method::TransportConnect:
        connect(request);
        return;
    case Method::TransportSetMaxIncomingBitrate:
    case Method::TransportSetMaxOutgoingBitrate:
    case Method::TransportSetMinOutgoingBitrate: {
        const auto bitrate = request.data().find("bitrate");
        if (bitrate == request.data().end() || !bitrate->is_number_unsigned() ||
            bitrate->get<uint64_t>() > UINT32_MAX) {
            throw TypeError("missing or invalid bitrate");
        }
        const auto bps = bitrate->get<uint32_t>();
        const int64_t now = bweNowMs();
        switch (*request.method()) {
        case Method::TransportSetMaxIncomingBitrate:
            maxIncomingBitrate_ = bps;
            // The cap reaches the endpoint at once, then every second.
            lastMaxIncomingRembMs_ = 0;
            break;
        case Method::TransportSetMaxOutgoingBitrate:
            bweBounds_.maxBps = bps;
            if (bwe_) {
                bwe_->setMaxBitrate(bps, now);
            }
            break;
        default:
            bweBounds_.minBps = bps;
            if (bwe_) {
                bwe_->setMinBitrate(bps, now);
            }
            break;
        }
        request.accept();
        return;
    }
    case Method::TransportRestartIce:
        restartIce(request);
        return;
    case Method::TransportProduce:
        produce(request);
        return;
    case Method::TransportConsume:
        consume(request);
        return;
    case Method::TransportProduceData:
        produceData(request);
        return;
    case Method::TransportConsumeData:
        consumeData(request);
        return;
    case Method::TransportEnableTraceEvent:
        traceEvents_.set(request.data());
        request.accept();
        return;
    case Method::ProducerClose:
        closeProducer(producerOf(request));
        request.accept();
        return;
    case Method::ProducerDump:
    case Method::ProducerGetStats:
    case Method::ProducerPause:
    case Method::ProducerResume:
    case Method::ProducerEnableTraceEvent:
        producerOf(request).handleRequest(request);
        return;
    case Method::ConsumerClose:
        closeConsumer(consumerOf(request));
        request.accept();
        return;
    case Method::ConsumerDump:
    case Method::ConsumerGetStats:
    case Method::ConsumerPause:
    case Method::ConsumerResume:
    case Method::ConsumerSetPreferredLayers:
    case Method::ConsumerSetPriority:
    case Method::ConsumerRequestKeyFrame:
    case Method::ConsumerEnableTraceEvent:
        consumerOf(request).handleRequest(request);
        return;
    case Method::DataProducerClose:
        closeDataProducer(dataProducerOf(request));
        request.accept();
        return;
    case Method::DataProducerDump:
    case Method::DataProducerGetStats:
        dataProducerOf(request).handleRequest(request);
        return;
    case Method::DataConsumerClose:
        closeDataConsumer(dataConsumerOf(request));
        request.accept();
        return;
    case Method::DataConsumerDump:
    case Method::DataConsumerGetStats:
    case Method::DataConsumerGetBufferedAmount:
    case Method::DataConsumerSetBufferedAmountLowThreshold:
    case Method::DataConsumerSend:
        dataConsumerOf(request).handleRequest(request);
        return;
    default:
        throw Error("unknown method '" + request.methodName() + "'");
    }
}

void Transport::connect(channel::Request& request) {
    throw Error("transport.connect is not supported by this transport (" + request.methodName() +
                ")");
}

void Transport::restartIce(channel::Request& request) {
    (void)request;
    throw Error("transport.restartIce is only for WebRTC transports");
}

void Transport::handlePayloadNotification(const channel::PayloadNotification& notification) {
    (void)notification;
    SFU_WARN("transport %s: payload channel messages are only for direct transports, dropped",
             id_.c_str());
}

Producer& Transport::producerOf(const channel::Request& request) {
    const std::string& id = request.internalId("producerId");
    const auto it = producers_.find(id);
    if (it == producers_.end()) {
        throw Error("producer not found [producerId:" + id + "]");
    }
    return *it->second;
}

Consumer& Transport::consumerOf(const channel::Request& request) {
    const std::string& id = request.internalId("consumerId");
    const auto it = consumers_.find(id);
    if (it == consumers_.end()) {
        throw Error("consumer not found [consumerId:" + id + "]");
    }
    return *it->second;
}

void Transport::produce(channel::Request& request) {
    const std::string& id = newId(request, "producerId");
    if (producers_.count(id) != 0) {
        throw Error("a producer with id '" + id + "' already exists");
    }
    auto producer = std::make_unique<Producer>(id, shared_, *this, request.data());
    Producer* p = producer.get();
    rtpListener_.addProducer(*p);
    try {
        listener_.onTransportNewProducer(*this, *p);
    } catch (...) {
        rtpListener_.removeProducer(*p);
        throw;
    }
    producers_.emplace(id, std::move(producer));
    if (!tccFeedback_ &&
        rtpListener_.extensionIds().get(rtp::ExtensionType::TransportWideCc01) != 0) {
        tccFeedback_ = std::make_unique<TransportCcFeedback>();
    }
    if (!recoveryTimer_.active()) {
        recoveryTimer_.start(kRecoveryTickMs, kRecoveryTickMs);
    }
    lastMaxIncomingRembMs_ = 0;
    request.accept(json{{"type", params::toString(p->type())}});
    scheduleRtcp();
}

void Transport::consume(channel::Request& request) {
    const std::string& id = newId(request, "consumerId");
    if (consumers_.count(id) != 0) {
        throw Error("a consumer with id '" + id + "' already exists");
    }
    const std::string& producerId = request.internalId("producerId");
    Producer& producer = listener_.producerById(producerId);
    auto consumer = createConsumer(id, producerId, shared_, *this, request.data());
    std::vector<uint32_t> ssrcs = consumer->ssrcs();
    const std::vector<uint32_t> rtxSsrcs = consumer->rtxSsrcs();
    ssrcs.insert(ssrcs.end(), rtxSsrcs.begin(), rtxSsrcs.end());
    for (size_t i = 0; i < ssrcs.size(); ++i) {
        if (consumerBySsrc_.count(ssrcs[i]) != 0 ||
            std::find(ssrcs.begin(), ssrcs.begin() + static_cast<ptrdiff_t>(i), ssrcs[i]) !=
                ssrcs.begin() + static_cast<ptrdiff_t>(i)) {
            throw Error("ssrc already used by a consumer [ssrc:" + std::to_string(ssrcs[i]) + "]");
        }
    }
    Consumer* c = consumer.get();
    consumers_.emplace(id, std::move(consumer));
    for (const uint32_t ssrc : ssrcs) {
        consumerBySsrc_[ssrc] = c;
    }
    listener_.onTransportNewConsumer(*this, *c, producer);
    createBweFor(*c);
    if (bwe_) {
        // Its first target comes from the allocation, not the uncapped
        // choice.
        allocateBitrate(nowMs(), bweNowMs());
    }
    c->setTransportConnected(isConnected());
    json answer{{"paused", c->paused()},
                {"producerPaused", c->producerPaused()},
                {"score", c->scoreJson()}};
    if (json layers = c->preferredLayersJson(); !layers.is_null()) {
        answer["preferredLayers"] = std::move(layers);
    }
    request.accept(std::move(answer));
    scheduleRtcp();
}

// ---- media in -------------------------------------------------------------

std::optional<rtp::RtpPacket> Transport::acceptRtpPacket(uint8_t* data, size_t length,
                                                         size_t capacity, uint64_t now) {
    auto packet = rtp::RtpPacket::parse(data, length, capacity);
    if (!packet) {
        discardReceived();
        SFU_DEBUG(Rtp, "transport %s: invalid RTP packet discarded", id_.c_str());
        return std::nullopt;
    }
    rtpRecvRate_.update(length, now);
    // Transport-wide: every packet the sender numbered counts for its
    // estimate, whichever stream it is of (padding probes belong to none).
    if (const uint8_t tccId =
            rtpListener_.extensionIds().get(rtp::ExtensionType::TransportWideCc01);
        tccId != 0 && tccFeedback_) {
        if (const auto seq = rtp::readTransportWideSeq(packet->extension(tccId))) {
            tccFeedback_->onPacket(*seq, static_cast<int64_t>(uv_hrtime() / 1000), packet->ssrc());
        }
    }
    return packet;
}

void Transport::receiveRtpPacket(uint8_t* data, size_t length, size_t capacity) {
    const uint64_t now = nowMs();
    auto packet = acceptRtpPacket(data, length, capacity, now);
    if (!packet) {
        return;
    }
    const auto target = rtpListener_.find(*packet);
    if (!target) {
        discardReceived();
        SFU_DEBUG(Rtp, "transport %s: no producer for RTP packet [ssrc:%u, pt:%u], discarded",
                  id_.c_str(), packet->ssrc(), packet->payloadType());
        return;
    }
    deliverToProducer(*target, *packet, now);
}

void Transport::receiveRtpPacketFor(Producer& producer, uint8_t* data, size_t length,
                                    size_t capacity) {
    const uint64_t now = nowMs();
    auto packet = acceptRtpPacket(data, length, capacity, now);
    if (!packet) {
        return;
    }
    const auto target = rtpListener_.find(*packet);
    if (!target || target->producer != &producer) {
        discardReceived();
        return;
    }
    deliverToProducer(*target, *packet, now);
}

void Transport::recoveryTick() {
    const uint64_t now = nowMs();
    for (auto& [id, producer] : producers_) {
        producer->tick(now);
    }
    if (tccFeedback_ && now - lastTccFeedbackMs_ >= TransportCcFeedback::kIntervalMs) {
        lastTccFeedbackMs_ = now;
        tccFeedback_->flush(rtcpSsrc_, [&](const uint8_t* data, size_t length) {
            if (isConnected()) {
                sendRtcpPacket(data, length);
            }
        });
    }
    if (maxIncomingBitrate_ != 0 && !producers_.empty() &&
        now - lastMaxIncomingRembMs_ >= kMaxIncomingRembIntervalMs) {
        lastMaxIncomingRembMs_ = now;
        sendMaxIncomingBitrateRemb();
    }
    if (bwe_) {
        bweTick(now);
    }
}

void Transport::deliverToProducer(const RtpListener::Target& target, rtp::RtpPacket& packet,
                                  uint64_t now) {
    Producer& producer = *target.producer;
    RtpForwardInfo info;
    const size_t size = packet.size();
    const auto result = producer.receiveRtpPacket(target.encodingIndex, packet, now, info);
    if (info.retransmitted) {
        rtxRecvRate_.update(size, now);
    }
    if (result == Producer::ReceiveResult::Forward) {
        listener_.onTransportProducerRtpPacket(*this, producer, packet, info);
    }
}

Producer* Transport::findProducer(const std::string& producerId) {
    const auto it = producers_.find(producerId);
    return it == producers_.end() ? nullptr : it->second.get();
}

void Transport::receiveRtcpPacket(const uint8_t* data, size_t length) {
    const uint64_t now = nowMs();
    const rtcp::CompoundView compound(data, length);
    if (!compound.valid()) {
        discardReceived();
        SFU_DEBUG(Rtcp, "transport %s: invalid RTCP compound discarded", id_.c_str());
        return;
    }
    const auto route = [&](const rtcp::AddressedItem& item) { routeRtcpItem(item, now); };
    for (const rtcp::PacketView pkt : compound) {
        if (!rtcp::forEachAddressedItemOf(pkt, route) && bwe_) {
            receiveBweFeedback(pkt);
        }
    }
}

void Transport::receiveBweFeedback(const rtcp::PacketView& pkt) {
    if (const auto feedback = rtcp::TransportCcView::parse(pkt)) {
        bwe_->onTransportCcFeedback(*feedback, bweNowMs());
    } else if (const auto remb = rtcp::RembView::parse(pkt)) {
        bwe_->onRemb(remb->bitrate(), bweNowMs());
    }
}

void Transport::routeRtcpItem(const rtcp::AddressedItem& item, uint64_t now) {
    if (item.aboutReceivedStream()) {
        if (const auto target = rtpListener_.findBySsrc(item.ssrc)) {
            target->producer->receiveRtcp(item, rtcpSsrc_, now);
        }
        return;
    }
    if (const auto it = consumerBySsrc_.find(item.ssrc); it != consumerBySsrc_.end()) {
        Consumer& consumer = *it->second;
        consumer.receiveRtcp(item, now);
        if (const auto* block = std::get_if<rtcp::ReportBlock>(&item.body)) {
            shareRoundTripTime(consumer);
            if (bwe_) {
                bwe_->onReportBlock(*block, bweNowMs());
            }
        }
    }
}

void Transport::shareRoundTripTime(const Consumer& consumer) {
    if (const uint32_t rtt = consumer.roundTripTimeMs(); rtt != 0) {
        for (auto& [id, producer] : producers_) {
            producer->setPathRoundTripTime(rtt);
        }
        if (bwe_) {
            bwe_->setRtt(rtt);
        }
    }
}

uint8_t* Transport::receiveBuffer() {
    static uint8_t buffer[kReceiveBufferSize];
    return buffer;
}

void Transport::countReceived(size_t length) {
    recvRate_.update(length, nowMs());
}

void Transport::countSent(size_t length) {
    sendRate_.update(length, nowMs());
}

void Transport::connectionChanged() {
    const bool connected = isConnected();
    for (auto& [id, consumer] : consumers_) {
        consumer->setTransportConnected(connected);
    }
    // Both ends may start the association (SCTP resolves the collision).
    if (connected && sctpAssociation_ && sctpAssociation_->state() == sctp::State::New) {
        sctpAssociation_->connect();
    }
}

// ---- media out ------------------------------------------------------------

void Transport::onConsumerSendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) {
    if (bwe_ && isConnected()) {
        bwe_->stamp(packet, consumer.transportWideCcId(), consumer.absSendTimeId(),
                    bwe::PacketKind::Media, bweNowMs());
    }
    rtpSendRate_.update(packet.size(), nowMs());
    sendRtpPacket(consumer, packet);
}

void Transport::onConsumerRetransmitRtpPacket(Consumer& consumer, rtp::RtpPacket& packet,
                                              bool rtx) {
    if (bwe_ && isConnected()) {
        bwe_->stamp(packet, consumer.transportWideCcId(), consumer.absSendTimeId(),
                    rtx ? bwe::PacketKind::Rtx : bwe::PacketKind::Media, bweNowMs());
    }
    (rtx ? rtxSendRate_ : rtpSendRate_).update(packet.size(), nowMs());
    sendRtpPacket(consumer, packet);
}

// ---- sender-side bandwidth estimation --------------------------------------

void Transport::createBweFor(const Consumer& consumer) {
    const bool tcc = consumer.transportWideCcId() != 0;
    if (tcc && consumer.kind() == params::MediaKind::Video) {
        canProbe_ = true;
    }
    if (bwe_) {
        return;
    }
    std::optional<TransportBwe::Type> type;
    if (tcc) {
        type = TransportBwe::Type::TransportCc;
    } else if (consumer.absSendTimeId() != 0 && consumer.rembFeedback()) {
        type = TransportBwe::Type::Remb;
    }
    if (!type) {
        return;
    }
    bwe_ = std::make_unique<TransportBwe>(*type, bweBounds_, bweNowMs());
    if (!recoveryTimer_.active()) {
        recoveryTimer_.start(kRecoveryTickMs, kRecoveryTickMs);
    }
}

void Transport::bweTick(uint64_t now) {
    const int64_t bweNow = bweNowMs();
    bwe_->setWantedBitrate(static_cast<int64_t>(rtpSendRate_.rate(now)), preferredBps_, bweNow);
    bwe_->process(bweNow);
    const int64_t sinceAllocation = bweNow - lastAllocationMs_;
    if (allocationDue_ || sinceAllocation >= kAllocationIntervalMs ||
        (bwe_->allocatableBitrate() != lastAllocatedBps_ &&
         sinceAllocation >= kAllocationMinGapMs)) {
        allocateBitrate(now, bweNow);
    }
    if (!probeTimer_.active() && bwe_->startProbeCluster(canProbe_ && isConnected(), bweNow)) {
        sendProbes();
        if (bwe_->probing()) {
            probeTimer_.start(kProbeTickMs, kProbeTickMs);
        }
    }
    if (traceEvents_.enabled(TraceEventType::Bwe)) {
        if (const auto trace = bwe_->takeTrace(bweNow)) {
            emitTrace(TraceEventType::Bwe,
                      json{{"desiredBitrate", trace->desiredBitrate},
                           {"effectiveDesiredBitrate", trace->effectiveDesiredBitrate},
                           {"minBitrate", trace->minBitrate},
                           {"maxBitrate", trace->maxBitrate},
                           {"startBitrate", trace->startBitrate},
                           {"maxPaddingBitrate", 0},
                           {"availableBitrate", trace->availableBitrate},
                           {"type", bwe_->typeName()},
                           // Beyond mediasoup's fields: what the estimate is made of.
                           {"allocatableBitrate", trace->allocatableBitrate},
                           {"delayBasedBitrate", trace->delayBasedBitrate},
                           {"lossBasedBound", bitrateOrNull(trace->lossBasedBound)},
                           {"rembBitrate", bitrateOrNull(trace->rembBitrate)},
                           {"ackedBitrate", trace->ackedBitrate},
                           {"lossFraction", trace->lossFraction},
                           {"usage", bwe::toString(trace->usage)},
                           {"inAlr", trace->inAlr}});
        }
    }
}

void Transport::onConsumerAllocationInputChanged(Consumer& consumer) {
    (void)consumer;
    allocationDue_ = true;
}

int64_t Transport::linkQueueDelayMs() const {
    return bwe_ && bwe_->type() == TransportBwe::Type::TransportCc
               ? bwe_->estimator().queueDelayMs()
               : 0;
}

void Transport::allocateBitrate(uint64_t now, int64_t bweNow) {
    allocationDue_ = false;
    lastAllocationMs_ = bweNow;
    lastAllocatedBps_ = bwe_->allocatableBitrate();
    allocationRequests_.resize(consumers_.size());
    allocationConsumers_.clear();
    for (auto& [id, consumer] : consumers_) {
        auto& request = allocationRequests_[allocationConsumers_.size()];
        request.key = reinterpret_cast<uintptr_t>(consumer.get());
        request.priority = consumer->priority();
        // What it is to send once connected.
        request.active = !consumer->paused() && !consumer->producerPaused();
        request.fixedBps = 0;
        request.layers.clear();
        if (consumer->layered()) {
            consumer->collectLayerCosts(now, request.layers);
        } else if (request.active) {
            request.fixedBps = static_cast<int64_t>(consumer->sendBitrate(now));
        }
        allocationConsumers_.push_back(consumer.get());
    }
    // What the consumers would send with nothing holding them back: each
    // layered one at its preferred layers (its last candidate).
    preferredBps_ = 0;
    for (const auto& request : allocationRequests_) {
        if (request.active) {
            preferredBps_ += request.layers.empty() ? request.fixedBps : request.layers.back().bps;
        }
    }
    allocator_.allocate(lastAllocatedBps_, bweNow, allocationRequests_, allocationResult_);
    for (size_t i = 0; i < allocationConsumers_.size(); ++i) {
        if (allocationConsumers_[i]->layered() && allocationRequests_[i].active) {
            allocationConsumers_[i]->setAllocatedLayers(allocationResult_[i]);
        }
    }
}

void Transport::sendProbes() {
    Consumer* prober = nullptr;
    for (auto& [id, consumer] : consumers_) {
        if (consumer->transportWideCcId() != 0) {
            prober = consumer.get();
            break;
        }
    }
    if (prober == nullptr || !isConnected()) {
        bwe_->abortProbeCluster();
    }
    while (bwe_->probing()) {
        auto packet =
            bwe_->nextProbePacket(prober->transportWideCcId(), prober->absSendTimeId(), bweNowMs());
        if (!packet) {
            break;
        }
        probationSendRate_.update(packet->size(), nowMs());
        if (traceEvents_.enabled(TraceEventType::Probation)) {
            emitTrace(TraceEventType::Probation, packetTraceInfo(*packet, false));
        }
        sendRtpPacket(*prober, *packet);
    }
    if (!bwe_->probing()) {
        probeTimer_.stop();
    }
}

void Transport::sendMaxIncomingBitrateRemb() {
    if (!isConnected()) {
        return;
    }
    rembSsrcs_.clear();
    for (const auto& [id, producer] : producers_) {
        for (size_t i = 0; i < producer->encodingCount(); ++i) {
            if (const RtpStreamRecv* stream = producer->stream(i)) {
                rembSsrcs_.push_back(stream->ssrc());
            }
        }
    }
    // REMB counts its SSRCs in one byte.
    const size_t count = std::min<size_t>(rembSsrcs_.size(), 255);
    uint8_t buffer[kMaxRtcpCompoundSize];
    const size_t size =
        rtcp::writeRemb(rtcpSsrc_, maxIncomingBitrate_, std::span(rembSsrcs_.data(), count), buffer,
                        sizeof(buffer));
    if (size > 0) {
        sendRtcpPacket(buffer, size);
    }
}

void Transport::emitTrace(TraceEventType type, json info) {
    shared_.channel.notify(id_, "trace",
                           json{{"type", traceEventName(type)},
                                {"timestamp", nowMs()},
                                {"direction", "out"},
                                {"info", std::move(info)}});
}

void Transport::onConsumerKeyFrameRequested(Consumer& consumer, uint32_t mappedSsrc) {
    listener_.onTransportConsumerKeyFrameRequested(*this, consumer, mappedSsrc);
}

void Transport::onProducerPaused(Producer& producer) {
    listener_.onTransportProducerPaused(*this, producer);
}

void Transport::onProducerResumed(Producer& producer) {
    listener_.onTransportProducerResumed(*this, producer);
}

void Transport::onProducerScore(Producer& producer) {
    listener_.onTransportProducerScore(*this, producer);
}

void Transport::onProducerSendRtcp(Producer& producer, const uint8_t* data, size_t length) {
    (void)producer;
    if (isConnected()) {
        sendRtcpPacket(data, length);
    }
}

// ---- RTCP schedule --------------------------------------------------------

void Transport::scheduleRtcp() {
    if (closed_ || (producers_.empty() && consumers_.empty())) {
        rtcpTimer_.stop();
        return;
    }
    bool video = false;
    for (const auto& [id, p] : producers_) {
        video = video || p->kind() == params::MediaKind::Video;
    }
    for (const auto& [id, c] : consumers_) {
        video = video || c->kind() == params::MediaKind::Video;
    }
    const uint64_t now = nowMs();
    const uint64_t kbps = (recvRate_.rate(now) + sendRate_.rate(now)) / 1000;
    uint64_t interval = kbps > 0 ? 360000 / kbps : kMaxRtcpIntervalMs;
    interval = std::clamp(interval, kMinRtcpIntervalMs,
                          video ? kMaxVideoRtcpIntervalMs : kMaxRtcpIntervalMs);
    // RFC 3550 6.3.1: randomised over [0.5, 1.5] times the interval and
    // divided by e - 3/2 to compensate the timer reconsideration we skip.
    const auto ms =
        static_cast<uint64_t>(static_cast<double>(interval) * randomDouble(0.5, 1.5) / 1.21828);
    rtcpTimer_.start(std::max<uint64_t>(ms, 1));
}

void Transport::sendRtcpReports() {
    if (isConnected()) {
        const uint64_t now = nowMs();
        uint8_t buffer[kMaxRtcpCompoundSize];
        // Sender reports of what we send, each with its CNAME.
        for (auto& [id, consumer] : consumers_) {
            rtcpReports_.clear();
            consumer->collectSenderReports(rtcpReports_, now);
            for (const auto& [ssrc, info] : rtcpReports_) {
                rtcp::CompoundWriter writer(buffer, sizeof(buffer));
                writer.advance(
                    rtcp::writeSenderReport(ssrc, info, {}, writer.cursor(), writer.room()));
                writer.advance(
                    rtcp::writeSdesCname(ssrc, consumer->cname(), writer.cursor(), writer.room()));
                if (writer.size() > 0) {
                    sendRtcpPacket(buffer, writer.size());
                }
            }
        }
        // Receiver reports of what we receive, at most 31 blocks each.
        auto& blocks = rtcpBlocks_;
        blocks.clear();
        for (auto& [id, producer] : producers_) {
            producer->collectReportBlocks(blocks, now);
        }
        for (size_t offset = 0; offset < blocks.size(); offset += rtcp::kMaxCount) {
            const size_t count = std::min(rtcp::kMaxCount, blocks.size() - offset);
            rtcp::CompoundWriter writer(buffer, sizeof(buffer));
            writer.advance(rtcp::writeReceiverReport(rtcpSsrc_,
                                                     std::span(blocks).subspan(offset, count),
                                                     writer.cursor(), writer.room()));
            writer.advance(
                rtcp::writeSdesCname(rtcpSsrc_, rtcpCname_, writer.cursor(), writer.room()));
            // RFC 3611 4.4: the senders answer with a DLRR, from which the
            // round trip to them (and so the NACK spacing) is known.
            writer.advance(
                rtcp::writeXrRrt(rtcpSsrc_, rtp::ntpNow().toU64(), writer.cursor(), writer.room()));
            if (writer.size() > 0) {
                sendRtcpPacket(buffer, writer.size());
            }
        }
    }
    scheduleRtcp();
}

// ---- dump and stats -------------------------------------------------------

json Transport::dump() const {
    json producerIds = json::array();
    for (const auto& [id, p] : producers_) {
        producerIds.push_back(id);
    }
    json consumerIds = json::array();
    json mapSsrcConsumerId = json::object();
    json mapRtxSsrcConsumerId = json::object();
    for (const auto& [id, c] : consumers_) {
        consumerIds.push_back(id);
        for (const uint32_t ssrc : c->ssrcs()) {
            mapSsrcConsumerId[std::to_string(ssrc)] = id;
        }
        for (const uint32_t ssrc : c->rtxSsrcs()) {
            mapRtxSsrcConsumerId[std::to_string(ssrc)] = id;
        }
    }
    json dataProducerIds = json::array();
    for (const auto& [id, p] : dataProducers_) {
        dataProducerIds.push_back(id);
    }
    json dataConsumerIds = json::array();
    for (const auto& [id, c] : dataConsumers_) {
        dataConsumerIds.push_back(id);
    }
    json recvExtensions = json::object();
    const std::pair<const char*, rtp::ExtensionType> names[] = {
        {"mid", rtp::ExtensionType::Mid},
        {"rid", rtp::ExtensionType::RtpStreamId},
        {"rrid", rtp::ExtensionType::RepairedRtpStreamId},
        {"absSendTime", rtp::ExtensionType::AbsSendTime},
        {"transportWideCc01", rtp::ExtensionType::TransportWideCc01}};
    for (const auto& [name, type] : names) {
        if (const uint8_t extId = rtpListener_.extensionIds().get(type); extId != 0) {
            recvExtensions[name] = extId;
        }
    }
    json out{{"id", id_},
             {"direct", false},
             {"producerIds", std::move(producerIds)},
             {"consumerIds", std::move(consumerIds)},
             {"mapSsrcConsumerId", std::move(mapSsrcConsumerId)},
             {"mapRtxSsrcConsumerId", std::move(mapRtxSsrcConsumerId)},
             {"dataProducerIds", std::move(dataProducerIds)},
             {"dataConsumerIds", std::move(dataConsumerIds)},
             {"recvRtpHeaderExtensions", std::move(recvExtensions)},
             {"rtpListener", rtpListener_.dump()},
             {"maxMessageSize", maxMessageSize_},
             {"traceEventTypes", traceEvents_.toString()},
             {"packetsDiscarded", packetsDiscarded_},
             {"transportCcFeedback",
              {{"packets", tccFeedback_ ? tccFeedback_->feedbackPackets() : 0},
               {"arrivalsDropped", tccFeedback_ ? tccFeedback_->arrivalsDropped() : 0}}}};
    if (sctpAssociation_) {
        out.update(sctpDump());
    }
    fillDump(out);
    return out;
}

json Transport::stats() {
    const uint64_t now = nowMs();
    json out{{"type", statsType()},
             {"transportId", id_},
             {"timestamp", now},
             {"bytesReceived", recvRate_.totalBytes()},
             {"recvBitrate", recvRate_.rate(now)},
             {"bytesSent", sendRate_.totalBytes()},
             {"sendBitrate", sendRate_.rate(now)},
             {"rtpBytesReceived", rtpRecvRate_.totalBytes()},
             {"rtpRecvBitrate", rtpRecvRate_.rate(now)},
             {"rtpBytesSent", rtpSendRate_.totalBytes()},
             {"rtpSendBitrate", rtpSendRate_.rate(now)},
             {"rtxBytesReceived", rtxRecvRate_.totalBytes()},
             {"rtxRecvBitrate", rtxRecvRate_.rate(now)},
             {"rtxBytesSent", rtxSendRate_.totalBytes()},
             {"rtxSendBitrate", rtxSendRate_.rate(now)},
             {"probationBytesSent", probationSendRate_.totalBytes()},
             {"probationSendBitrate", probationSendRate_.rate(now)}};
    if (bwe_) {
        out["availableOutgoingBitrate"] = bwe_->availableBitrate();
    }
    if (sctpAssociation_) {
        out["sctpState"] = sctp::toString(sctpAssociation_->state());
    }
    if (maxIncomingBitrate_ != 0) {
        out["maxIncomingBitrate"] = maxIncomingBitrate_;
    }
    fillStats(out);
    return out;
}

// ---- data producers and consumers -----------------------------------------

DataProducer& Transport::dataProducerOf(const channel::Request& request) {
    const std::string& id = request.internalId("dataProducerId");
    DataProducer* dataProducer = findDataProducer(id);
    if (dataProducer == nullptr) {
        throw Error("data producer not found [dataProducerId:" + id + "]");
    }
    return *dataProducer;
}

DataProducer* Transport::findDataProducer(const std::string& dataProducerId) {
    const auto it = dataProducers_.find(dataProducerId);
    return it == dataProducers_.end() ? nullptr : it->second.get();
}

DataConsumer& Transport::dataConsumerOf(const channel::Request& request) {
    const std::string& id = request.internalId("dataConsumerId");
    const auto it = dataConsumers_.find(id);
    if (it == dataConsumers_.end()) {
        throw Error("data consumer not found [dataConsumerId:" + id + "]");
    }
    return *it->second;
}

void Transport::produceData(channel::Request& request) {
    const std::string& id = newId(request, "dataProducerId");
    if (dataProducers_.count(id) != 0) {
        throw Error("a data producer with id '" + id + "' already exists");
    }
    auto dataProducer =
        std::make_unique<DataProducer>(id, *this, sctpAssociation_ != nullptr, request.data());
    DataProducer* p = dataProducer.get();
    if (const auto& params = p->sctpStreamParameters()) {
        if (dataProducerByStream_.count(params->streamId) != 0) {
            throw Error("sctpStreamParameters.streamId " + std::to_string(params->streamId) +
                        " is already used by a data producer");
        }
    }
    listener_.onTransportNewDataProducer(*this, *p);
    if (const auto& params = p->sctpStreamParameters()) {
        dataProducerByStream_[params->streamId] = p;
    }
    dataProducers_.emplace(id, std::move(dataProducer));
    request.accept(p->dump());
}

void Transport::consumeData(channel::Request& request) {
    const std::string& id = newId(request, "dataConsumerId");
    if (dataConsumers_.count(id) != 0) {
        throw Error("a data consumer with id '" + id + "' already exists");
    }
    const std::string& dataProducerId = request.internalId("dataProducerId");
    DataProducer& dataProducer = listener_.dataProducerById(dataProducerId);
    const bool sctp = sctpAssociation_ != nullptr;
    auto dataConsumer = std::make_unique<DataConsumer>(
        id, dataProducerId, shared_, *this, sctp,
        sctp ? sctpAssociation_->options().maxMessageSize : maxMessageSize_, request.data());
    DataConsumer* c = dataConsumer.get();
    if (const auto& params = c->sctpStreamParameters()) {
        if (dataConsumerByStream_.count(params->streamId) != 0) {
            throw Error("sctpStreamParameters.streamId " + std::to_string(params->streamId) +
                        " is already used by a data consumer");
        }
        dataConsumerByStream_[params->streamId] = c;
        c->sctpBufferedAmountChanged(sctpAssociation_->bufferedAmount());
    }
    dataConsumers_.emplace(id, std::move(dataConsumer));
    listener_.onTransportNewDataConsumer(*this, *c, dataProducer);
    request.accept(c->dump());
}

void Transport::closeDataProducer(DataProducer& dataProducer) {
    listener_.onTransportDataProducerClosed(*this, dataProducer);
    if (const auto& params = dataProducer.sctpStreamParameters()) {
        dataProducerByStream_.erase(params->streamId);
        // The data channel closes (RFC 8831 6.7): the peer resets its
        // outgoing stream in turn.
        if (sctpAssociation_->state() == sctp::State::Connected) {
            sctpAssociation_->resetStream(params->streamId);
        }
    }
    dataProducers_.erase(dataProducer.id());
}

void Transport::closeDataConsumer(DataConsumer& dataConsumer) {
    listener_.onTransportDataConsumerClosed(*this, dataConsumer);
    destroyDataConsumer(dataConsumer);
}

void Transport::destroyDataConsumer(DataConsumer& dataConsumer) {
    if (const auto& params = dataConsumer.sctpStreamParameters()) {
        dataConsumerByStream_.erase(params->streamId);
        if (sctpAssociation_->state() == sctp::State::Connected) {
            sctpAssociation_->resetStream(params->streamId);
        }
    }
    dataConsumers_.erase(dataConsumer.id());
}

void Transport::onDataProducerMessage(DataProducer& dataProducer, uint32_t ppid,
                                      const uint8_t* data, size_t length) {
    listener_.onTransportDataProducerMessage(*this, dataProducer, ppid, data, length);
}

DataConsumer::SendResult Transport::onDataConsumerSendMessage(DataConsumer& dataConsumer,
                                                              uint32_t ppid, const uint8_t* data,
                                                              size_t length) {
    return sendDataMessage(dataConsumer, ppid, data, length);
}

DataConsumer::SendResult Transport::sendDataMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                                    const uint8_t* data, size_t length) {
    const auto& params = dataConsumer.sctpStreamParameters();
    if (!sctpAssociation_ || !params) {
        return DataConsumer::SendResult::Failed;
    }
    sctp::SendParameters send;
    send.streamId = params->streamId;
    send.ordered = params->ordered;
    send.maxPacketLifeTime = params->maxPacketLifeTime;
    send.maxRetransmits = params->maxRetransmits;
    switch (sctpAssociation_->sendMessage(send, ppid, data, length)) {
    case sctp::SctpAssociation::SendResult::Sent:
        return DataConsumer::SendResult::Sent;
    case sctp::SctpAssociation::SendResult::NotConnected:
        return DataConsumer::SendResult::NotConnected;
    case sctp::SctpAssociation::SendResult::TooLarge:
        return DataConsumer::SendResult::TooLarge;
    case sctp::SctpAssociation::SendResult::BufferFull:
        return DataConsumer::SendResult::BufferFull;
    case sctp::SctpAssociation::SendResult::Failed:
        break;
    }
    return DataConsumer::SendResult::Failed;
}

void Transport::receiveDataMessageFor(DataProducer& dataProducer, uint32_t ppid,
                                      const uint8_t* data, size_t length) {
    if (length > maxMessageSize_) {
        ++sctpMessagesDropped_;
        SFU_WARN("transport %s: message of %zu bytes exceeds maxMessageSize %u, dropped",
                 id_.c_str(), length, maxMessageSize_);
        return;
    }
    dataProducer.receiveMessage(ppid, data, length);
}

void Transport::sendSctpPacket(const uint8_t* data, size_t length) {
    (void)data;
    (void)length;
}

void Transport::receiveSctpPacket(const uint8_t* data, size_t length) {
    if (!sctpAssociation_) {
        discardReceived();
        SFU_DEBUG(Sctp, "transport %s: SCTP packet without SCTP enabled, dropped", id_.c_str());
        return;
    }
    sctpAssociation_->receivePacket(data, length);
}

// ---- the SCTP association -------------------------------------------------

void Transport::onSctpStateChanged(sctp::State state) {
    SFU_DEBUG(Sctp, "transport %s: SCTP association %s", id_.c_str(), sctp::toString(state));
    if (!closed_) {
        shared_.channel.notify(id_, "sctpstatechange", json{{"sctpState", sctp::toString(state)}});
    }
}

void Transport::onSctpSendPacket(const uint8_t* data, size_t length) {
    sendSctpPacket(data, length);
}

void Transport::onSctpMessage(uint16_t streamId, uint32_t ppid, const uint8_t* data,
                              size_t length) {
    if (ppid == sctp::kPpidDcep) {
        onDcepMessage(streamId, data, length);
        return;
    }
    const auto it = dataProducerByStream_.find(streamId);
    if (it == dataProducerByStream_.end()) {
        ++sctpMessagesDropped_;
        SFU_DEBUG(Sctp, "transport %s: message on SCTP stream %u without a data producer, dropped",
                  id_.c_str(), streamId);
        return;
    }
    it->second->receiveMessage(ppid, data, length);
}

void Transport::onDcepMessage(uint16_t streamId, const uint8_t* data, size_t length) {
    // RFC 8832 5.1: DATA_CHANNEL_OPEN is type 0x03, its ACK a single 0x02.
    constexpr uint8_t kOpen = 0x03;
    constexpr uint8_t kAck = 0x02;
    if (length < 1 || data[0] != kOpen) {
        ++sctpMessagesDropped_;
        return;
    }
    if (dataProducerByStream_.count(streamId) != 0) {
        // The host produced this stream already (out of band): the peer's
        // channel opens as it asks, with the parameters the host gave.
        sctp::SendParameters send;
        send.streamId = streamId;
        sctpAssociation_->sendMessage(send, sctp::kPpidDcep, &kAck, 1);
        return;
    }
    // Nobody produces this stream: the channel is refused by closing it
    // (RFC 8832 6: a stream reset), so the peer's channel closes instead
    // of waiting.
    ++sctpMessagesDropped_;
    SFU_WARN("transport %s: in-band DATA_CHANNEL_OPEN on SCTP stream %u without a data "
             "producer, refused (stream reset)",
             id_.c_str(), streamId);
    sctpAssociation_->resetStream(streamId);
}

void Transport::onSctpIncomingStreamReset(uint16_t streamId) {
    // The peer closed the data channel of this stream (RFC 8831 6.7): what
    // it carried to us ends (its data producer closes, and so do the
    // consumers of that), and our side of the stream is reset in turn.
    const auto it = dataProducerByStream_.find(streamId);
    if (it != dataProducerByStream_.end()) {
        closeDataProducer(*it->second);
    } else if (sctpAssociation_->state() == sctp::State::Connected) {
        sctpAssociation_->resetStream(streamId);
    }
}

void Transport::onSctpBufferedAmount(uint32_t bufferedAmount) {
    for (auto& [streamId, dataConsumer] : dataConsumerByStream_) {
        dataConsumer->sctpBufferedAmountChanged(bufferedAmount);
    }
}

json Transport::sctpDump() const {
    const auto& options = sctpAssociation_->options();
    json streamIdTable = json::object();
    for (const auto& [streamId, dataProducer] : dataProducerByStream_) {
        streamIdTable[std::to_string(streamId)] = dataProducer->id();
    }
    const auto& counters = sctpAssociation_->counters();
    return json{{"sctpParameters",
                 {{"port", options.port},
                  {"OS", options.os},
                  {"MIS", options.mis},
                  {"maxMessageSize", options.maxMessageSize},
                  {"sendBufferSize", options.sendBufferSize},
                  {"sctpBufferedAmount", sctpAssociation_->bufferedAmount()},
                  {"isDataChannel", sctpIsDataChannel_}}},
                {"sctpState", sctp::toString(sctpAssociation_->state())},
                {"sctpListener", {{"streamIdTable", std::move(streamIdTable)}}},
                {"sctpCounters",
                 {{"packetsReceived", counters.packetsReceived},
                  {"packetsSent", counters.packetsSent},
                  {"packetsDiscarded", counters.packetsDiscarded},
                  {"messagesReceived", counters.messagesReceived},
                  {"messagesSent", counters.messagesSent},
                  {"messagesTooLarge", counters.messagesTooLarge},
                  {"messagesDropped", sctpMessagesDropped_}}}};
}

} // namespace sfu::rtc
