// The consumer of a single-stream producer: one send stream, sequence
// numbers rewritten so that the receiver sees one continuous stream across
// pauses, and for video a start (and restart) on a key frame.
#pragma once

#include "rtc/Consumer.hpp"
#include "rtc/recovery/Retransmission.hpp"
#include "rtc/rtp/SeqRewriter.hpp"

#include <optional>

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
    uint32_t roundTripTimeMs() const override {
        return stream_->hasRoundTripTime() ? static_cast<uint32_t>(stream_->roundTripTimeMs()) : 0;
    }
    void receiveKeyFrameRequest(bool fir, uint64_t nowMs) override;
    void receiveNack(const rtcp::NackView& nack, uint64_t nowMs) override;
    nlohmann::json dump() const override;
    nlohmann::json stats(uint64_t nowMs) override;

private:
    void onActiveChanged(bool active) override;
    uint8_t score() const override { return stream_->score(); }
    uint8_t producerScore() const override;
    void requestKeyFrame() override;
    // Our MID in place of the producer's, where the endpoint negotiated the
    // MID extension: bundled receivers demultiplex by it.
    void writeMid(rtp::RtpPacket& packet) const;

    std::unique_ptr<RtpStreamSend> stream_;
    uint32_t producerSsrc_ = 0;
    bool isVideo_ = false;
    // Until the first packet after a (re)start has gone out, and for video
    // until a key frame arrives.
    bool syncRequired_ = true;
    rtp::SeqRewriter seq_;
    // Loss recovery: which producer packet each of our sequence numbers
    // carried, the producer stream's store, and our RTX stream if any.
    recovery::SendSeqMap sentMap_;
    const recovery::PacketStore* store_ = nullptr;
    recovery::Rewrite rewrite_;
    std::optional<recovery::RtxStream> rtx_;
    // Asked-for packets the store no longer had (or we never sent).
    uint64_t retransmissionsUnavailable_ = 0;
};

} // namespace sfu::rtc
