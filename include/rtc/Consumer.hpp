// A Consumer: one producer's media sent to one endpoint through a transport,
// rewritten into the endpoint's own SSRC, payload types and header extension
// ids. The base class holds what every kind of consumer shares (state,
// requests, notifications, RTCP plumbing); SimpleConsumer and later the
// simulcast, SVC and pipe consumers decide per packet what to send.
#pragma once

#include "channel/Request.hpp"
#include "rtc/RtpForward.hpp"
#include "rtc/RtpStream.hpp"
#include "rtc/Shared.hpp"
#include "rtc/TraceEvents.hpp"
#include "rtc/parameters/RtpParameters.hpp"
#include "rtc/rtcp/Feedback.hpp"
#include "rtc/rtcp/Reports.hpp"
#include "rtc/rtp/RtpPacket.hpp"

#include <memory>
#include <nlohmann/json.hpp>
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
    };

    // Parses the transport.consume request data; throws sfu::TypeError.
    static std::unique_ptr<Consumer> create(std::string id, std::string producerId, Shared& shared,
                                            Listener& listener, const nlohmann::json& data);
    virtual ~Consumer() = default;
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    const std::string& id() const { return id_; }
    const std::string& producerId() const { return producerId_; }
    params::MediaKind kind() const { return kind_; }
    const params::RtpParameters& rtpParameters() const { return rtpParameters_; }
    bool paused() const { return paused_; }
    bool producerPaused() const { return producerPaused_; }

    // The media path: a packet of the producer, in the router's space.
    virtual void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) = 0;

    // From the router. The producer's state when the consumer is created
    // (no notification: the consume answer carries it).
    void setInitialProducerState(bool paused, std::vector<uint8_t> scores);
    void setProducerPaused(bool paused);
    void producerClosed();
    void producerScoresChanged(const std::vector<uint8_t>& scores);
    // From the transport.
    void setTransportConnected(bool connected);

    // SSRCs this consumer sends with (RTCP from the receiver names them).
    virtual std::vector<uint32_t> ssrcs() const = 0;
    // Sender report and SDES chunk of each stream for the RTCP schedule.
    virtual void collectSenderReports(std::vector<std::pair<uint32_t, rtcp::SenderInfo>>& reports,
                                      uint64_t nowMs) = 0;
    virtual const std::string& cname() const { return cname_; }
    virtual void receiveReportBlock(const rtcp::ReportBlock& block) = 0;
    // Round trip to the receiver from its reports, 0 while unknown.
    virtual uint32_t roundTripTimeMs() const = 0;
    // A PLI or FIR from the receiver.
    virtual void receiveKeyFrameRequest(bool fir, uint64_t nowMs) = 0;
    // A generic NACK (RFC 4585) from the receiver for our stream.
    virtual void receiveNack(const rtcp::NackView& nack, uint64_t nowMs) = 0;

    // The {score, producerScore, producerScores} object.
    nlohmann::json scoreJson() const;
    void handleRequest(channel::Request& request);
    virtual nlohmann::json dump() const;
    virtual nlohmann::json stats(uint64_t nowMs) = 0;

protected:
    Consumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
             const nlohmann::json& data, params::RtpParametersType type);

    bool active() const { return !paused_ && !producerPaused_ && transportConnected_; }
    // Called when the consumer starts or stops sending.
    virtual void onActiveChanged(bool active) = 0;
    virtual uint8_t score() const = 0;
    // The score of the producer stream this consumer forwards.
    virtual uint8_t producerScore() const = 0;
    virtual void requestKeyFrame() = 0;
    void emitScore();
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
    TraceEvents traceEvents_{TraceEventType::Rtp, TraceEventType::KeyFrame, TraceEventType::Nack,
                             TraceEventType::Pli, TraceEventType::Fir};

private:
    void updateActive(bool wasActive);

    bool paused_ = false;
    bool producerPaused_ = false;
    bool transportConnected_ = false;
    uint32_t priority_ = 1;
};

} // namespace sfu::rtc
