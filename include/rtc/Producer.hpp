// A Producer: one media source received on a transport (a track, possibly
// several simulcast encodings). It matches incoming packets to its encodings,
// keeps a receive stream per encoding, rewrites each packet into the router's
// space (mapped payload type and SSRC, canonical header extension ids) and
// requests key frames from the sender when consumers need them.
#pragma once

#include "channel/Request.hpp"
#include "rtc/RtpForward.hpp"
#include "rtc/RtpStream.hpp"
#include "rtc/Shared.hpp"
#include "rtc/TraceEvents.hpp"
#include "rtc/parameters/RtpMapping.hpp"
#include "rtc/parameters/RtpParameters.hpp"
#include "rtc/recovery/KeyFrameRequestManager.hpp"
#include "rtc/recovery/NackGenerator.hpp"
#include "rtc/recovery/PacketStore.hpp"
#include "rtc/rtcp/Compound.hpp"
#include "rtc/rtp/Extensions.hpp"
#include "rtc/rtp/RtpPacket.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sfu::rtc {

class Producer {
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

    // Matches the packet to an encoding, updates its stream and, unless it
    // is discarded, rewrites it into the router's space. `info` is filled
    // for the consumers.
    ReceiveResult receiveRtpPacket(rtp::RtpPacket& packet, uint64_t nowMs, RtpForwardInfo& info);
    // The sender's SR about one of our streams; false when it is not ours.
    bool receiveSenderReport(uint32_t ssrc, const rtcp::SenderInfo& info, uint64_t nowMs);
    // Appends the report blocks of every started stream to `blocks`.
    void collectReportBlocks(std::vector<rtcp::ReportBlock>& blocks, uint64_t nowMs);

    // A consumer wants a key frame of the stream with this mapped SSRC.
    void requestKeyFrame(uint32_t mappedSsrc, uint64_t nowMs);
    // Periodic work of loss recovery: NACK retries, key frame retries.
    void tick(uint64_t nowMs);
    // The round trip to the sender, when the transport knows it: NACK
    // retries are spaced by it.
    void setRoundTripTime(uint32_t rttMs) { rttMs_ = rttMs; }

    // Scores of the started streams, for the host ({ssrc, rid?, score}).
    nlohmann::json scores() const;
    // One score per encoding (0 for streams that have not started).
    std::vector<uint8_t> encodingScores() const;
    uint32_t mappedSsrc(size_t encodingIndex) const { return encodings_[encodingIndex].mappedSsrc; }
    // The receive stream of an encoding, null until its first packet.
    RtpStreamRecv* stream(size_t encodingIndex) const {
        return encodingIndex < encodings_.size() ? encodings_[encodingIndex].stream.get() : nullptr;
    }
    size_t encodingCount() const { return encodings_.size(); }

    void handleRequest(channel::Request& request);
    nlohmann::json dump() const;
    nlohmann::json stats(uint64_t nowMs);

private:
    struct Encoding {
        params::RtpEncodingParameters params;
        uint32_t mappedSsrc = 0;
        const params::RtpCodecParameters* codec = nullptr;
        codecs::Codec codecType = codecs::Codec::Unknown;
        const params::RtpCodecParameters* rtxCodec = nullptr;
        std::unique_ptr<RtpStreamRecv> stream;
        // The RTX stream's SSRC, declared or learnt from its first packet.
        std::optional<uint32_t> rtxSsrc;
        // Loss recovery (video with NACK negotiated).
        std::unique_ptr<recovery::NackGenerator> nack;
        // What consumers retransmit from, stored once for all of them.
        std::unique_ptr<recovery::PacketStore> store;
        recovery::KeyFrameRequestManager keyFrames;
    };

    Encoding* findEncoding(const rtp::RtpPacket& packet);
    // Turns an RTX packet of `encoding` back into the original; false when
    // it is to be dropped.
    bool decapsulateRtx(Encoding& encoding, rtp::RtpPacket& packet);
    void sendNacks(Encoding& encoding, uint64_t nowMs);
    void sendKeyFrameRequest(Encoding& encoding);
    RtpStreamRecv& startStream(Encoding& encoding, uint32_t ssrc);
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
    uint32_t rttMs_ = 0;
    bool paused_ = false;
    std::vector<Encoding> encodings_;
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
