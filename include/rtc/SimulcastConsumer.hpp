// The consumer of a simulcast producer: of the producer's streams (spatial
// layers, lowest first) it forwards one at a time as its own single stream,
// and of that stream the temporal layers up to a target.
//
// Which layers is the LayerSelector's choice, capped by the transport's
// bitrate allocation when it has one (setAllocatedLayers). Per packet this class decides
// (decide(): drop, or forward with these ForwardParams) and its send stream
// applies the decision. A switch happens at a key frame of the target
// stream, which is asked for when the target changes. Across switches the
// receiver sees one stream: sequence numbers and picture ids continue,
// timestamps keep increasing (aligned through the sender's reports when
// both streams have them, else by wall clock).
#pragma once

#include "protocol/codecs/Codecs.hpp"
#include "rtc/LayeredConsumer.hpp"

namespace sfu::rtc {

class SimulcastConsumer final : public LayeredConsumer, private ConsumerStream::ResendHook {
public:
    SimulcastConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                      const nlohmann::json& data);

    void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    nlohmann::json dump() const override;
    nlohmann::json stats(uint64_t nowMs) override;

private:
    const std::vector<uint8_t>& layerScores() override { return producerScores_; }
    // What the stream carries of its temporal layers up to that one.
    uint64_t layerBitrate(const LayerSelector::Layers& layers, uint64_t nowMs) const override;
    void updateTarget(bool forceKeyFrame) override;
    uint8_t producerScore() const override;
    void requestKeyFrame() override;
    ConsumerStream::ResendHook* resendHook() override { return this; }
    bool rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket& sent) override;

    // Drop (nullopt), or forward with these parameters.
    std::optional<ForwardParams> decide(const rtp::RtpPacket& packet, const RtpForwardInfo& info);
    void requestKeyFrameOf(int spatialLayer);
    // Starts forwarding `spatial` from this key frame packet.
    void startRun(int spatial, const rtp::RtpPacket& packet, const RtpForwardInfo& info);
    // The timestamp offset that makes `timestamp` of stream `spatial` follow
    // what was sent so far.
    uint32_t timestampOffsetFor(int spatial, uint32_t timestamp, uint64_t nowMs) const;
    // Emits layerschange (and score) when what is forwarded changed.
    void reportCurrentLayers();
    int currentTemporalLayer() const;

    std::vector<uint32_t> producerSsrcs_;
    int targetSpatial_ = -1;
    int targetTemporal_ = -1;
    int currentSpatial_ = -1;
    codecs::EncodingContext context_;
    uint32_t clockRate_ = 90000;
    // Output timestamps: the offset of the current run, the newest sent.
    uint32_t timestampOffset_ = 0;
    bool sentAny_ = false;
    uint32_t maxTimestamp_ = 0;
    uint64_t lastSentMs_ = 0;
    // The store of the stream being forwarded: retransmissions of earlier
    // runs cannot have their picture ids rewritten any more.
    const recovery::PacketStore* currentStore_ = nullptr;
};

} // namespace sfu::rtc
