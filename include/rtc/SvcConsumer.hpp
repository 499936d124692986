// The consumer of a VP9 SVC producer (one stream carrying spatial and
// temporal layers: full SVC "L<n>T<m>", K-SVC "L<n>T<m>_KEY", or temporal
// scalability alone "L1T<m>"): forwards that stream as its own single
// stream, with the layers above a target dropped from it.
//
// Which layers is the LayerSelector's choice, within what the transport's
// bitrate allocation grants when it runs one; the VP9 encoding context
// decides per packet (a spatial layer goes up at a key frame and down at the
// next picture; a temporal layer goes up at a switching up point) and marks the
// last forwarded layer of each picture as its end. Sequence numbers stay
// continuous over dropped packets; picture ids and TL0PICIDX are kept, and
// continue across pauses.
//
// A switch down that the allocation forces (the link became congested)
// restarts the stream from a key frame: nothing is sent until it comes, and
// it is asked for once the queueing delay the transport measured at the
// switch has passed (at most kMaxKeyFrameDelayMs), when the queue that
// built up on the link has drained and the key frame does not land in it.
#pragma once

#include "protocol/codecs/Codecs.hpp"
#include "rtc/LayeredConsumer.hpp"

namespace sfu::rtc {

class SvcConsumer final : public LayeredConsumer, private ConsumerStream::ResendHook {
public:
    SvcConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                const nlohmann::json& data);

    void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    nlohmann::json dump() const override;
    nlohmann::json stats(uint64_t nowMs) override;

private:
    // The selector's view of the one stream: every spatial layer lives
    // while it does.
    const std::vector<uint8_t>& layerScores() override;
    // What the stream carries of those layers and of every layer below.
    uint64_t layerBitrate(const LayerSelector::Layers& layers, uint64_t nowMs) const override;
    void updateTarget(bool forceKeyFrame) override;
    uint8_t producerScore() const override;
    void requestKeyFrame() override;
    ConsumerStream::ResendHook* resendHook() override { return this; }
    bool rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket& sent) override;

    std::optional<ForwardParams> decide(const rtp::RtpPacket& packet, const RtpForwardInfo& info);
    LayerSelector::Layers currentLayers() const;

    // Asks for the key frame a forced switch down waits for, once the
    // queue it left on the link has had time to drain.
    void requestDeferredKeyFrame(uint64_t nowMs);

    static constexpr int64_t kMaxKeyFrameDelayMs = 500;

    LayerSelector::Layers target_;
    std::vector<uint8_t> layerScores_;
    codecs::EncodingContext context_;
    // The wait (the link's queueing delay at the switch), from the first
    // packet after it.
    std::optional<int64_t> keyFrameDelayMs_;
    std::optional<uint64_t> keyFrameWaitFromMs_;
};

} // namespace sfu::rtc
