// The base of every transport: owns its producers and consumers, routes the
// requests addressed to them, hands incoming RTP to the producer stream its
// RTP listener names and each incoming RTCP item to the producer or consumer
// whose stream it names, and runs the RTCP schedule. With enableSctp it also
// owns the SCTP association its data producers and consumers use (one
// stream each), started once the transport is connected. Subclasses move
// the bytes (UDP, ICE/DTLS, the payload channel), count them where they
// cross the wire (countReceived/countSent: the transport's bytesReceived and
// bytesSent) and say when they are connected.
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"
#include "deps/SctpTimer.hpp"
#include "deps/UvHandles.hpp"
#include "protocol/rtcp/Addressed.hpp"
#include "protocol/rtp/RateCalculator.hpp"
#include "protocol/sctp/SctpAssociation.hpp"
#include "rtc/Consumer.hpp"
#include "rtc/DataConsumer.hpp"
#include "rtc/DataProducer.hpp"
#include "rtc/Producer.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "rtc/RtpListener.hpp"
#include "rtc/Shared.hpp"
#include "rtc/TraceEvents.hpp"
#include "rtc/TransportBwe.hpp"
#include "rtc/TransportCcFeedback.hpp"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sfu::rtc {

class Transport : public Producer::Listener,
                  public Consumer::Listener,
                  public DataProducer::Listener,
                  public DataConsumer::Listener,
                  private sctp::SctpAssociation::Listener {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // Throws sfu::Error when the id is taken in the router.
        virtual void onTransportNewProducer(Transport& transport, Producer& producer) = 0;
        virtual void onTransportProducerClosed(Transport& transport, Producer& producer) = 0;
        virtual void onTransportProducerPaused(Transport& transport, Producer& producer) = 0;
        virtual void onTransportProducerResumed(Transport& transport, Producer& producer) = 0;
        virtual void onTransportProducerScore(Transport& transport, Producer& producer) = 0;
        virtual void onTransportProducerRtpPacket(Transport& transport, Producer& producer,
                                                  rtp::RtpPacket& packet,
                                                  const RtpForwardInfo& info) = 0;
        // Throws sfu::Error when the producer does not exist.
        virtual Producer& producerById(const std::string& producerId) = 0;
        virtual void onTransportNewConsumer(Transport& transport, Consumer& consumer,
                                            Producer& producer) = 0;
        virtual void onTransportConsumerClosed(Transport& transport, Consumer& consumer) = 0;
        virtual void onTransportConsumerKeyFrameRequested(Transport& transport, Consumer& consumer,
                                                          uint32_t mappedSsrc) = 0;
        // Throws sfu::Error when the id is taken in the router.
        virtual void onTransportNewDataProducer(Transport& transport,
                                                DataProducer& dataProducer) = 0;
        virtual void onTransportDataProducerClosed(Transport& transport,
                                                   DataProducer& dataProducer) = 0;
        virtual void onTransportDataProducerMessage(Transport& transport,
                                                    DataProducer& dataProducer, uint32_t ppid,
                                                    const uint8_t* data, size_t length) = 0;
        // Throws sfu::Error when the data producer does not exist.
        virtual DataProducer& dataProducerById(const std::string& dataProducerId) = 0;
        virtual void onTransportNewDataConsumer(Transport& transport, DataConsumer& dataConsumer,
                                                DataProducer& dataProducer) = 0;
        virtual void onTransportDataConsumerClosed(Transport& transport,
                                                   DataConsumer& dataConsumer) = 0;
    };

    Transport(std::string id, Shared& shared, Listener& listener, const nlohmann::json& data);
    ~Transport() override;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    const std::string& id() const { return id_; }

    // Closes every producer and consumer, telling the router. Called once
    // before destruction by whoever owns the transport.
    void close();
    // Removes a consumer without telling the router (the router is the
    // caller: its producer closed).
    void destroyConsumer(Consumer& consumer);
    // The same for a data consumer (its SCTP stream is reset).
    void destroyDataConsumer(DataConsumer& dataConsumer);

    void handleRequest(channel::Request& request);
    virtual void handlePayloadNotification(const channel::PayloadNotification& notification);
    nlohmann::json dump() const;

protected:
    // The subclass's own part of requests and answers.
    virtual void connect(channel::Request& request);
    virtual void restartIce(channel::Request& request);
    virtual void fillDump(nlohmann::json& out) const = 0;
    virtual void fillStats(nlohmann::json& out) const = 0;
    virtual const char* statsType() const = 0;
    virtual bool isConnected() const = 0;
    // A consumer's packet, ready to go (the subclass may encrypt in place:
    // the packet's buffer has room past its end).
    virtual void sendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) = 0;
    virtual void sendRtcpPacket(const uint8_t* data, size_t length) = 0;
    // An SCTP packet of the association, to the peer (transports that carry
    // one override it).
    virtual void sendSctpPacket(const uint8_t* data, size_t length);
    // A data consumer's message, to the peer: on the SCTP stream of the
    // consumer; a DirectTransport overrides it (payload channel).
    virtual DataConsumer::SendResult sendDataMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                                     const uint8_t* data, size_t length);

    // Entry points for the subclasses' received bytes, already counted and
    // in the clear. The RTP buffer is rewritten in place and may grow up to
    // `capacity`.
    void receiveRtpPacket(uint8_t* data, size_t length, size_t capacity);
    void receiveRtcpPacket(const uint8_t* data, size_t length);
    // An SCTP packet from the peer (dropped and counted without SCTP).
    void receiveSctpPacket(const uint8_t* data, size_t length);
    // A message for a data producer (a DirectTransport's dataProducer.send);
    // dropped and counted when it exceeds the size bound.
    void receiveDataMessageFor(DataProducer& dataProducer, uint32_t ppid, const uint8_t* data,
                               size_t length);
    // RTP known to belong to a producer (the host's producer.send): dropped
    // unless the RTP listener finds it to be one of that producer's streams.
    void receiveRtpPacketFor(Producer& producer, uint8_t* data, size_t length, size_t capacity);
    Producer* findProducer(const std::string& producerId);
    DataProducer* findDataProducer(const std::string& dataProducerId);
    // A buffer for the payload-channel and network input (the worker is
    // single-threaded), with room for a packet to grow.
    static constexpr size_t kReceiveBufferSize = 65536 + 256;
    static uint8_t* receiveBuffer();
    // The one place the transport's bytesReceived / bytesSent (and their
    // bitrates) are counted: bytes as they cross the wire (or the payload
    // channel), whatever they carry, counted by the subclass once each.
    void countReceived(size_t length);
    void countSent(size_t length);
    // Something received that is dropped (counted in packetsDiscarded).
    void discardReceived() { ++packetsDiscarded_; }
    // The subclass tells when media can flow (consumers start then).
    void connectionChanged();

    uint64_t nowMs() const { return uv_now(shared_.loop); }

    std::string id_;
    Shared& shared_;
    Listener& listener_;
    TraceEvents traceEvents_{TraceEventType::Probation, TraceEventType::Bwe};
    uint32_t maxMessageSize_ = 262144;

private:
    // Producer::Listener
    void onProducerPaused(Producer& producer) override;
    void onProducerResumed(Producer& producer) override;
    void onProducerScore(Producer& producer) override;
    void onProducerSendRtcp(Producer& producer, const uint8_t* data, size_t length) override;
    // Consumer::Listener
    void onConsumerSendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) override;
    void onConsumerRetransmitRtpPacket(Consumer& consumer, rtp::RtpPacket& packet,
                                       bool rtx) override;
    void onConsumerKeyFrameRequested(Consumer& consumer, uint32_t mappedSsrc) override;
    void onConsumerAllocationInputChanged(Consumer& consumer) override;
    int64_t linkQueueDelayMs() const override;
    // DataProducer::Listener
    void onDataProducerMessage(DataProducer& dataProducer, uint32_t ppid, const uint8_t* data,
                               size_t length) override;
    // DataConsumer::Listener
    DataConsumer::SendResult onDataConsumerSendMessage(DataConsumer& dataConsumer, uint32_t ppid,
                                                       const uint8_t* data, size_t length) override;
    // sctp::SctpAssociation::Listener
    void onSctpStateChanged(sctp::State state) override;
    void onSctpSendPacket(const uint8_t* data, size_t length) override;
    void onSctpMessage(uint16_t streamId, uint32_t ppid, const uint8_t* data,
                       size_t length) override;
    void onSctpIncomingStreamReset(uint16_t streamId) override;
    void onSctpBufferedAmount(uint32_t bufferedAmount) override;

    void produce(channel::Request& request);
    void consume(channel::Request& request);
    void closeProducer(Producer& producer);
    void closeConsumer(Consumer& consumer);
    void produceData(channel::Request& request);
    void consumeData(channel::Request& request);
    void closeDataProducer(DataProducer& dataProducer);
    void closeDataConsumer(DataConsumer& dataConsumer);
    DataProducer& dataProducerOf(const channel::Request& request);
    DataConsumer& dataConsumerOf(const channel::Request& request);
    // A DCEP message (RFC 8832) on `streamId`.
    void onDcepMessage(uint16_t streamId, const uint8_t* data, size_t length);
    nlohmann::json sctpDump() const;
    Producer& producerOf(const channel::Request& request);
    Consumer& consumerOf(const channel::Request& request);
    // Parses and counts an incoming RTP packet and records its transport-wide
    // arrival; nullopt (counted) when it is no RTP packet.
    std::optional<rtp::RtpPacket> acceptRtpPacket(uint8_t* data, size_t length, size_t capacity,
                                                  uint64_t now);
    void deliverToProducer(const RtpListener::Target& target, rtp::RtpPacket& packet, uint64_t now);
    // Hands each RTCP item to the producer or consumer of the stream it names.
    void routeRtcpItem(const rtcp::AddressedItem& item, uint64_t now);
    // What a consumer's receiver reports says of the round trip, for the
    // producers whose senders sit on the same path.
    void shareRoundTripTime(const Consumer& consumer);
    // Periodic work while there are producers or a bandwidth estimate: the
    // producers' NACK and key frame retries, the transport-wide congestion
    // control feedback, the REMB of setMaxIncomingBitrate, and the
    // estimator's timers, probes and trace events.
    void recoveryTick();
    // The estimator, created with the first consumer that can feed it.
    void createBweFor(const Consumer& consumer);
    // Transport-wide feedback and REMB from the endpoint, for the estimator.
    void receiveBweFeedback(const rtcp::PacketView& pkt);
    void bweTick(uint64_t now);
    // Distributes the estimate over the consumers (bwe::BitrateAllocator):
    // layered consumers are told the highest layers they may send, the
    // others are fixed costs. Runs when an input changed, when the estimate
    // moved (at most every kAllocationMinGapMs) and every
    // kAllocationIntervalMs.
    void allocateBitrate(uint64_t now, int64_t bweNow);
    // Sends the probe packets due now (the probe timer while a cluster runs).
    void sendProbes();
    // The REMB that caps what the producers' endpoint sends.
    void sendMaxIncomingBitrateRemb();
    void emitTrace(TraceEventType type, nlohmann::json info);
    // The estimator's clock: milliseconds, not cached per loop iteration.
    static int64_t bweNowMs() { return static_cast<int64_t>(uv_hrtime() / 1'000'000); }
    void scheduleRtcp();
    void sendRtcpReports();
    nlohmann::json stats();

    std::map<std::string, std::unique_ptr<Producer>> producers_;
    std::map<std::string, std::unique_ptr<Consumer>> consumers_;
    uint64_t packetsDiscarded_ = 0;
    // Where incoming RTP (and RTCP from our producers' senders) goes.
    RtpListener rtpListener_;
    // Where incoming RTCP about our sent streams goes.
    std::unordered_map<uint32_t, Consumer*> consumerBySsrc_;

    std::map<std::string, std::unique_ptr<DataProducer>> dataProducers_;
    std::map<std::string, std::unique_ptr<DataConsumer>> dataConsumers_;
    // The SCTP stream of each data producer (incoming) and consumer
    // (outgoing).
    std::unordered_map<uint16_t, DataProducer*> dataProducerByStream_;
    std::unordered_map<uint16_t, DataConsumer*> dataConsumerByStream_;
    std::unique_ptr<sctp::SctpAssociation> sctpAssociation_;
    // Drives usrsctp's timers while the association lives.
    std::optional<deps::SctpTimer> sctpTimer_;
    bool sctpIsDataChannel_ = false;
    // Incoming SCTP packets dropped (no association, or too short) and
    // messages dropped for their size or their stream.
    uint64_t sctpMessagesDropped_ = 0;
    uint32_t maxIncomingBitrate_ = 0;
    uint64_t lastMaxIncomingRembMs_ = 0;
    // The producers' SSRCs in that REMB (reused).
    std::vector<uint32_t> rembSsrcs_;
    // The estimate of what can be sent to the endpoint, for the consumers
    // (see TransportBwe): bounds from initialAvailableOutgoingBitrate,
    // minimumAvailableOutgoingBitrate and setMax/MinOutgoingBitrate.
    std::unique_ptr<TransportBwe> bwe_;
    TransportBwe::Bounds bweBounds_;
    // A video consumer negotiated transport-wide-cc: its endpoint expects
    // the probation stream (mediasoup-client's "probator").
    bool canProbe_ = false;
    // Paces a probe cluster while one is under way.
    deps::UvTimer probeTimer_;
    rtp::BasicRateCalculator<100> probationSendRate_;
    // A layer above the current one must fit with a fifth to spare: what
    // is forwarded is not paced, so its frames reach the bottleneck in
    // bursts that a link run near its capacity queues and drops. One that
    // would leave less than half its bitrate to spare has to fit for 10 s
    // before it is tried.
    bwe::BitrateAllocator allocator_{
        bwe::BitrateAllocator::Config{.upMargin = 0.2, .tightHoldMs = 10000}};
    bool allocationDue_ = false;
    int64_t lastAllocationMs_ = 0;
    int64_t lastAllocatedBps_ = -1;
    // What the consumers would send at their preferred layers, as of the
    // last allocation.
    int64_t preferredBps_ = 0;
    // Reused by every allocation run.
    std::vector<bwe::BitrateAllocator::Request> allocationRequests_;
    std::vector<Consumer*> allocationConsumers_;
    std::vector<bwe::BitrateAllocator::Layer> allocationResult_;
    bool closed_ = false;
    // SSRC of our receiver reports (a transport that only receives has no
    // sending SSRC of its own).
    uint32_t rtcpSsrc_;
    std::string rtcpCname_;
    deps::UvTimer rtcpTimer_;
    // Reused by every report so that the schedule does not allocate.
    std::vector<std::pair<uint32_t, rtcp::SenderInfo>> rtcpReports_;
    std::vector<rtcp::ReportBlock> rtcpBlocks_;
    // Drives recoveryTick() while there are producers.
    deps::UvTimer recoveryTimer_;
    // Arrivals of packets with a transport-wide sequence number, reported to
    // their sender for its bandwidth estimation.
    // Feedback for what the producers' endpoints number: from the first
    // producer that negotiated transport-wide-cc on.
    std::unique_ptr<TransportCcFeedback> tccFeedback_;
    uint64_t lastTccFeedbackMs_ = 0;
    rtp::BasicRateCalculator<100> recvRate_;
    rtp::BasicRateCalculator<100> sendRate_;
    rtp::BasicRateCalculator<100> rtpRecvRate_;
    rtp::BasicRateCalculator<100> rtpSendRate_;
    rtp::BasicRateCalculator<100> rtxRecvRate_;
    rtp::BasicRateCalculator<100> rtxSendRate_;
};

} // namespace sfu::rtc
