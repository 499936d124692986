// The consumer of a single-stream producer: one send stream, sequence
// numbers rewritten so that the receiver sees one continuous stream across
// pauses, and for video a start (and restart) on a key frame.
#pragma once

#include "rtc/Consumer.hpp"
#include "rtc/rtp/SeqRewriter.hpp"

namespace sfu::rtc {

class SimpleConsumer final : public Consumer {
public:
    SimpleConsumer(std::string id, std::string producerId, Shared& shared, Listener& listener,
                   const nlohmann::json& data);

    void sendRtpPacket(rtp::RtpPacket& packet, const RtpForwardInfo& info) override;
    std::vector<uint32_t> ssrcs() const override;
    void collectSenderReports(std::vector<std::pair<uint32_t, rtcp::SenderInfo>>& reports,
                              uint64_t nowMs) override;
    void receiveReportBlock(const rtcp::ReportBlock& block) override;
    void receiveKeyFrameRequest(bool fir, uint64_t nowMs) override;
    nlohmann::json dump() const override;
    nlohmann::json stats(uint64_t nowMs) override;

private:
    void onActiveChanged(bool active) override;
    uint8_t score() const override { return stream_->score(); }
    uint8_t producerScore() const override;
    void requestKeyFrame() override;

    std::unique_ptr<RtpStreamSend> stream_;
    uint32_t producerSsrc_ = 0;
    bool isVideo_ = false;
    // Until the first packet after a (re)start has gone out, and for video
    // until a key frame arrives.
    bool syncRequired_ = true;
    rtp::SeqRewriter seq_;
};

} // namespace sfu::rtc
