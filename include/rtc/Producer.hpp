// A Producer: one media source received on a transport (a track, possibly
// several simulcast encodings). It keeps a receive stream per encoding
// (ProducerStream: loss recovery, key frame requests, statistics), rewrites
// each packet the transport's RTP listener hands it into the router's space
// (mapped payload type and SSRC, canonical header extension ids), and speaks
// for its streams to the host (scores, trace events, video orientation).
#pragma once

#include "channel/Request.hpp"
#include "protocol/parameters/RtpMapping.hpp"
#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/rtcp/Addressed.hpp"
#include "protocol/rtcp/Compound.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/ProducerStream.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "rtc/RtpStream.hpp"
#include "rtc/Shared.hpp"
#include "rtc/TraceEvents.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::rtc {

class Producer : private ProducerStream::Listener {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onProducerPaused(Producer& producer) = 0;
        virtual void onProducerResumed(Producer& producer) = 0;
        // A stream score changed (consumers report the producer's score).
        virtual void onProducerScore(Producer& producer) = 0;
        // RTCP feedback for the sender (PLI/FIR).
        virtual void onProducerSendRtcp(Producer& producer, const uint8_t* data, size_t length) = 0;
    };

    enum class ReceiveResult { Discarded, Received, Forward };

    // Parses the transport.produce request data; throws sfu::TypeError.
    Producer(std::string id, Shared& shared, Listener& listener, const nlohmann::json& data);

    const std::string& id() const { return id_; }
    params::MediaKind kind() const { return kind_; }
    params::RtpParametersType type() const { return type_; }
    const params::RtpParameters& rtpParameters() const { return rtpParameters_; }
    bool paused() const { return paused_; }
    // The ids this producer's sender uses for each extension type.
    const rtp::ExtensionIds& extensionIds() const { return extensionIds_; }

    // The encoding a RID names (the RTP listener asks).
    std::optional<size_t> encodingIndexByRid(std::string_view rid) const;

    // A packet of encoding `encodingIndex`, as the RTP listener found: the
    // stream takes it and, unless it is discarded, it is rewritten into the
    // router's space. `info` is filled for the consumers.
    ReceiveResult receiveRtpPacket(size_t encodingIndex, rtp::RtpPacket& packet, uint64_t nowMs,
                                   RtpForwardInfo& info);
    // An RTCP item from the sender about one of our streams: its sender
    // report, or its DLRR answer to our RRTR (`ourSsrc`: the SSRC of our
    // reports).
    void receiveRtcp(const rtcp::AddressedItem& item, uint32_t ourSsrc, uint64_t nowMs);
    // Appends the report blocks of every started stream to `blocks`.
    void collectReportBlocks(std::vector<rtcp::ReportBlock>& blocks, uint64_t nowMs);

    // A consumer wants a key frame of the stream with this mapped SSRC.
    void requestKeyFrame(uint32_t mappedSsrc, uint64_t nowMs);
    // Periodic work of loss recovery: NACK retries, key frame retries.
    void tick(uint64_t nowMs);
    // The round trip to the sender measured on the same path by other
    // means (the transport's consumers): for the streams that measured none
    // themselves.
    void setPathRoundTripTime(uint32_t rttMs);

    // Scores of the started streams, for the host ({ssrc, rid?, score}).
    nlohmann::json scores() const;
    // One score per encoding (0 for streams that have not started).
    std::vector<uint8_t> encodingScores() const;
    uint32_t mappedSsrc(size_t encodingIndex) const {
        return streams_[encodingIndex]->mappedSsrc();
    }
    // The statistics of an encoding's stream, null until its first packet.
    const RtpStreamRecv* stream(size_t encodingIndex) const {
        return encodingIndex < streams_.size() ? streams_[encodingIndex]->rtp() : nullptr;
    }
    ProducerStream& producerStream(size_t encodingIndex) { return *streams_[encodingIndex]; }
    size_t encodingCount() const { return streams_.size(); }

    void handleRequest(channel::Request& request);
    nlohmann::json dump() const;
    nlohmann::json stats(uint64_t nowMs);

private:
    // ProducerStream::Listener
    void onProducerStreamFeedback(ProducerStream& stream, ProducerStream::Feedback type,
                                  const uint8_t* data, size_t length, size_t count) override;

    void emitScore();
    void emitTrace(TraceEventType type, const char* direction, nlohmann::json info);
    void checkVideoOrientation(const rtp::RtpPacket& packet);

    std::string id_;
    Shared& shared_;
    Listener& listener_;
    params::MediaKind kind_;
    params::RtpParametersType type_;
    params::RtpParameters rtpParameters_;
    params::RtpMapping rtpMapping_;
    uint32_t keyFrameRequestDelayMs_ = 0;
    bool paused_ = false;
    // One per encoding, in the order of rtpParameters.encodings.
    std::vector<std::unique_ptr<ProducerStream>> streams_;
    // Payload type -> mapped payload type (0 = not mapped).
    std::array<uint8_t, 128> mappedPayloadTypes_{};
    rtp::ExtensionIds extensionIds_;
    // Sender's extension ids -> canonical ids (ExtensionType values).
    rtp::ExtensionIdMap canonicalIds_;
    TraceEvents traceEvents_{TraceEventType::Rtp, TraceEventType::KeyFrame, TraceEventType::Nack,
                             TraceEventType::Pli, TraceEventType::Fir};
    struct {
        bool known = false;
        rtp::VideoOrientation value;
    } videoOrientation_;
};

} // namespace sfu::rtc
