// A Consumer: one producer's media sent to one endpoint through a transport,
// rewritten into the endpoint's own SSRC, payload types and header extension
// ids. The base class holds what every kind of consumer shares (state,
// requests, notifications, its send streams and their RTCP); the simple,
// pipe and simulcast consumers decide per packet what to send.
#pragma once

#include "channel/Request.hpp"
#include "protocol/bwe/BitrateAllocator.hpp"
#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/rtcp/Addressed.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/ConsumerStream.hpp"
#include "rtc/Producer.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "rtc/RtpStream.hpp"
#include "rtc/Shared.hpp"
#include "rtc/TraceEvents.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sfu::rtc {

class Consumer {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // The consumer's own copy of a packet, ready for the wire.
        virtual void onConsumerSendRtpPacket(Consumer& consumer, rtp::RtpPacket& packet) = 0;
        // A retransmission answering a NACK (an RTX packet when `rtx`).
        virtual void onConsumerRetransmitRtpPacket(Consumer& consumer, rtp::RtpPacket& packet,
                                                   bool rtx) = 0;
        // The consumer needs a key frame of the producer stream `mappedSsrc`.
        virtual void onConsumerKeyFrameRequested(Consumer& consumer, uint32_t mappedSsrc) = 0;
        // Something the transport's bitrate allocation weighs changed: the
        // consumer started or stopped sending, or its priority, preferred
        // layers or producer stream scores changed.
        virtual void onConsumerAllocationInputChanged(Consumer& consumer) { (void)consumer; }
        // How long what is sent to the endpoint now waits in queues on the
        // way, as far as the transport's estimate can tell (0 without one).
        virtual int64_t linkQueueDelayMs() const { return 0; }
    };

    virtual ~Consumer() = default;
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    const std::string& id() const { return id_; }
    const std::string& producerId() const { return producerId_; }
    params::MediaKind kind() const { return kind_; }
    const params::RtpParameters& rtpParameters() const { return rtpParameters_; }
    bool paused() const { return paused_; }
    bool producerPaused() const { return producerPaused_; }
    // The endpoint's ids of the transport-wide-cc-01 and abs-send-time
    // header extensions, 0 where it negotiated none.
    uint8_t transportWideCcId() const {
        return extensionIdMap_.get(static_cast<uint8_t>(rtp::ExtensionType::TransportWideCc01));
    }
    uint8_t absSendTimeId() const {
        return extensionIdMap_.get(static_cast<uint8_t>(rtp::ExtensionType::AbsSendTime));
    }
    // Whether a codec negotiated goog-remb feedback.
    bool rembFeedback() const { return rembFeedback_; }
    // Bitrate allocation, for a transport with an outgoing estimate. A
    // layered consumer gives the layers it may send (lowest first, up to its
    // preferred ones) with what each costs now, and is told the highest it
    // may send (kNoLayer: none); any other consumer is a fixed cost, what it
    // sends now. Without an allocation a layered consumer is not capped.
    uint32_t priority() const { return priority_; }
    virtual bool layered() const { return false; }
    virtual void collectLayerCosts(uint64_t nowMs,
                                   std::vector<bwe::BitrateAllocator::LayerCost>& out) {
        (void)nowMs, out.clear();
    }
    virtual void setAllocatedLayers(const bwe::BitrateAllocator::Layer& layer) { (void)layer; }
    // What its streams send, retransmissions included, in bit/s.
    uint64_t sendBitrate(uint64_t nowMs);

    // The media path: a packet of the producer, in the router's space.
    virtual void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) = 0;

    // From the router: the producer, whose state the consumer takes silently
    // (the consume answer carries it). It outlives the consumer.
    void setProducer(Producer& producer);
    void setProducerPaused(bool paused);
    void producerClosed();
    void producerScoresChanged(const std::vector<uint8_t>& scores);
    // From the transport.
    void setTransportConnected(bool connected);

    // SSRCs this consumer sends with (RTCP from the receiver names them):
    // media SSRCs, and RTX SSRCs.
    std::vector<uint32_t> ssrcs() const;
    std::vector<uint32_t> rtxSsrcs() const;
    // Sender report and SDES chunk of each stream for the RTCP schedule.
    void collectSenderReports(std::vector<std::pair<uint32_t, rtcp::SenderInfo>>& reports,
                              uint64_t nowMs);
    const std::string& cname() const { return cname_; }
    // An RTCP item about one of our streams (report block, NACK, PLI, FIR):
    // the handlers below, by kind.
    void receiveRtcp(const rtcp::AddressedItem& item, uint64_t nowMs);
    void receiveReportBlock(const rtcp::ReportBlock& block);
    // Round trip to the receiver from its reports, 0 while unknown.
    uint32_t roundTripTimeMs() const;
    // A PLI or FIR from the receiver about our stream `ssrc`.
    void receiveKeyFrameRequest(bool fir, uint32_t ssrc, uint64_t nowMs);
    // A generic NACK (RFC 4585) from the receiver for one of our streams.
    void receiveNack(const rtcp::NackView& nack, uint64_t nowMs);

    // The {score, producerScore, producerScores} object.
    nlohmann::json scoreJson() const;
    // The preferred layers of the consume answer, null where there are none.
    virtual nlohmann::json preferredLayersJson() const { return nullptr; }
    void handleRequest(channel::Request& request);
    virtual nlohmann::json dump() const;
    virtual nlohmann::json stats(uint64_t nowMs);

protected:
    Consumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
             const nlohmann::json& data, params::RtpParametersType type);

    bool active() const { return !paused_ && !producerPaused_ && transportConnected_; }
    // Called when the consumer starts or stops sending.
    virtual void onActiveChanged(bool active) = 0;
    // The producer's stream scores changed (or were first given).
    virtual void onProducerScores() {}
    virtual uint8_t score() const;
    // The score of the producer stream this consumer forwards.
    virtual uint8_t producerScore() const = 0;
    // A key frame for what is sent: all of it, or (streamIndex) one stream.
    virtual void requestKeyFrame() = 0;
    virtual void requestKeyFrame(size_t streamIndex) { (void)streamIndex, requestKeyFrame(); }
    // consumer.setPreferredLayers: the answer; a single stream has no layers.
    virtual nlohmann::json setPreferredLayers(const nlohmann::json& data);
    // The retransmission hook of the consumers that rewrite payloads.
    virtual ConsumerStream::ResendHook* resendHook() { return nullptr; }
    // One send stream per consumer rtpParameters encoding; `producerSsrcs`
    // gives the router-space stream each forwards (by index).
    void createStreams(const std::vector<uint32_t>& producerSsrcs);
    // Sends a copy a stream made: trace, then the transport.
    void sendCopy(rtp::RtpPacket& copy, const RtpForwardInfo& info);
    void emitScore();
    // layerschange when the forwarded layers differ from the last ones
    // reported (a spatial layer below 0: null, nothing is forwarded), and
    // the score with it when the spatial layer changed, as the producer
    // score reported is that of what is forwarded.
    void reportLayers(int spatial, int temporal);
    // getStats of a layered consumer also has the producer stream it
    // forwards (by encoding index), when that stream exists.
    void appendProducerStats(nlohmann::json& out, size_t encodingIndex, uint64_t nowMs);
    void emitTrace(TraceEventType type, const char* direction, nlohmann::json info);

    std::string id_;
    std::string producerId_;
    Shared& shared_;
    Listener& listener_;
    params::MediaKind kind_;
    params::RtpParametersType type_;
    params::RtpParameters rtpParameters_;
    std::vector<params::RtpEncodingParameters> consumableEncodings_;
    std::string cname_;
    // Canonical extension ids -> this endpoint's ids (0 drops).
    rtp::ExtensionIdMap extensionIdMap_;
    // Router payload type -> this endpoint's payload type (0 = unsupported).
    std::array<uint8_t, 128> payloadTypes_{};
    std::vector<uint8_t> producerScores_;
    Producer* producer_ = nullptr;
    std::vector<std::unique_ptr<ConsumerStream>> streams_;
    TraceEvents traceEvents_{TraceEventType::Rtp, TraceEventType::KeyFrame, TraceEventType::Nack,
                             TraceEventType::Pli, TraceEventType::Fir};

private:
    void updateActive(bool wasActive);
    std::optional<size_t> streamIndexBySsrc(uint32_t ssrc) const;

    bool paused_ = false;
    bool producerPaused_ = false;
    bool transportConnected_ = false;
    bool rembFeedback_ = false;
    uint32_t priority_ = 1;
    // What the last layerschange said.
    int reportedSpatial_ = -1;
    int reportedTemporal_ = -1;
};

} // namespace sfu::rtc
