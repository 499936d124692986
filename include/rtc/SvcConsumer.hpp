// The consumer of a VP9 SVC producer (one stream carrying spatial and
// temporal layers: full SVC "L<n>T<m>", K-SVC "L<n>T<m>_KEY", or temporal
// scalability alone "L1T<m>"): forwards that stream as its own single
// stream, with the layers above a target dropped from it.
//
// Which layers is the LayerSelector's choice, within what the transport's
// bitrate allocation grants when it runs one; the VP9 encoding context
// decides per packet (a spatial layer goes up at a key frame, and for K-SVC
// down too; a temporal layer goes up at a switching up point) and marks the
// last forwarded layer of each picture as its end. Sequence numbers stay
// continuous over dropped packets; picture ids and TL0PICIDX are kept, and
// continue across pauses.
#pragma once

#include "protocol/codecs/Codecs.hpp"
#include "rtc/Consumer.hpp"
#include "rtc/LayerSelector.hpp"

namespace sfu::rtc {

class SvcConsumer final : public Consumer, private ConsumerStream::ResendHook {
public:
    SvcConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                const nlohmann::json& data);

    void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    nlohmann::json preferredLayersJson() const override;
    nlohmann::json dump() const override;
    nlohmann::json stats(uint64_t nowMs) override;

    // Its layers, lowest first up to the preferred ones, cost what the
    // producer stream carries of them and of every layer below.
    bool layered() const override { return true; }
    void collectLayerCosts(uint64_t nowMs,
                           std::vector<bwe::BitrateAllocator::LayerCost>& out) override;
    void setAllocatedLayers(const bwe::BitrateAllocator::Layer& layer) override;

private:
    void onActiveChanged(bool active) override;
    void onProducerScores() override;
    uint8_t producerScore() const override;
    void requestKeyFrame() override;
    nlohmann::json setPreferredLayers(const nlohmann::json& data) override;
    ConsumerStream::ResendHook* resendHook() override { return this; }
    bool rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket& sent) override;

    // Takes the selector's target; asks for a key frame where the change
    // needs one.
    void updateTarget(bool forceKeyFrame);
    std::optional<ForwardParams> decide(const rtp::RtpPacket& packet, const RtpForwardInfo& info);
    LayerSelector::Layers currentLayers() const;

    // The selector's view of the one stream: every spatial layer lives
    // while it does.
    const std::vector<uint8_t>& layerScores();

    LayerSelector selector_;
    bool ksvc_ = false;
    LayerSelector::Layers target_;
    // The transport's allocation, once it runs one.
    std::optional<LayerSelector::Layers> allocated_;
    std::vector<uint8_t> layerScores_;
    std::vector<LayerSelector::Layers> candidates_;
    codecs::EncodingContext context_;
};

} // namespace sfu::rtc
