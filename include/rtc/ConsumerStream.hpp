// One RTP stream a consumer sends: its counters and reports (RtpStreamSend),
// its sequence numbering, the one place where a producer packet becomes the
// endpoint's copy (send(): the consumer's decision applied), and the answers
// to the endpoint's NACKs from the producer streams' packet stores. A simple
// or simulcast consumer has one, a pipe consumer one per producer encoding.
#pragma once

#include "protocol/codecs/PayloadRewrite.hpp"
#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/recovery/Retransmission.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqRewriter.hpp"
#include "rtc/RtpForwardInfo.hpp"
#include "rtc/RtpStream.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

// What a consumer decided for a producer packet it forwards: how the packet
// translates into its send stream. ConsumerStream::send() applies it.
struct ForwardParams {
    uint16_t sequenceNumber = 0;
    // Added to the producer's timestamp.
    uint32_t timestampOffset = 0;
    uint8_t payloadType = 0;
    // Set the marker bit (the packet ends the highest layer forwarded).
    bool setMarker = false;
    // Picture id / TL0PICIDX continuity across streams and dropped layers.
    codecs::PayloadRewrite payload;
};

class ConsumerStream {
public:
    // What the endpoint negotiated for the consumer as a whole.
    struct Endpoint {
        const params::RtpParameters& parameters;
        params::MediaKind kind;
        const std::string& cname;
        // Canonical extension ids -> the endpoint's ids (0 drops).
        const rtp::ExtensionIdMap& extensionIds;
    };

    // Before or after a retransmission is handed on, for payload rewrites
    // (picture ids) that must match the first send. False skips it.
    class ResendHook {
    public:
        virtual ~ResendHook() = default;
        virtual bool rewriteResend(rtp::RtpPacket& packet, const recovery::SentPacket& sent) = 0;
    };

    // `encoding` is one of endpoint.parameters.encodings, with its ssrc;
    // `producerSsrc` the router-space SSRC of the stream it forwards (the
    // first one, for a simulcast consumer). Throws TypeError without a media
    // codec.
    ConsumerStream(const Endpoint& endpoint, const params::RtpEncodingParameters& encoding,
                   uint32_t producerSsrc);

    RtpStreamSend& rtp() { return *stream_; }
    const RtpStreamSend& rtp() const { return *stream_; }
    uint32_t ssrc() const { return stream_->ssrc(); }
    std::optional<uint32_t> rtxSsrc() const { return stream_->params().rtxSsrc; }
    uint32_t producerSsrc() const { return producerSsrc_; }

    // The stream starts (again) at the next packet: for video only at a key
    // frame. Its sequence numbers continue where they stopped.
    void requireSync() { syncRequired_ = true; }
    bool syncRequired() const { return syncRequired_; }
    // (Re)starts at this producer packet: it comes out next after what was
    // sent so far, and older ones are no longer forwarded.
    void sync(uint16_t producerSeq) {
        seq_.sync(producerSeq);
        syncRequired_ = false;
        restarting_ = true;
    }

    // The decision of a consumer that forwards a producer stream as it is:
    // wait for the sync point (for video a key frame), then renumber.
    // Nullopt when the packet is not to be sent.
    std::optional<ForwardParams> decideAsIs(const rtp::RtpPacket& packet, uint8_t payloadType,
                                            const RtpForwardInfo& info);

    // The one place a decision is applied: a copy of the producer packet (in
    // a buffer shared by every consumer, valid until the next packet) with
    // this stream's SSRC, the decided sequence number, payload type,
    // timestamp, marker and payload fields, the endpoint's extension ids and
    // MID; recorded for NACKs and counted as sent. Ready for the wire;
    // nullopt when it cannot be made (counted as discarded).
    std::optional<rtp::RtpPacket> send(const rtp::RtpPacket& packet, const ForwardParams& params,
                                       const RtpForwardInfo& info);
    // The numbering, for consumers that decide themselves.
    rtp::SeqRewriter& seq() { return seq_; }

    // Answers a NACK from the endpoint: every packet still known is rebuilt
    // and handed to send(packet, rtx). Nothing is resent unless `canResend`,
    // nor while the stream waits for the key frame it restarts from, nor
    // what was sent before it last restarted (counted as superseded): the
    // receiver's decoder starts again from that key frame, and on a
    // congested link a resend it cannot use takes the room of one it can.
    template <typename Send>
    void receiveNack(const rtcp::NackView& nack, uint64_t nowMs, bool canResend, ResendHook* hook,
                     Send&& send);

    nlohmann::json dump() const;
    nlohmann::json stats(uint64_t nowMs);

private:
    void writeMid(rtp::RtpPacket& packet) const;
    // How long after resending a packet a repeated NACK for it is ignored.
    uint32_t minResendIntervalMs() const;
    // Counts the packets a NACK asks for as received requests.
    size_t countNacked(const rtcp::NackView& nack);

    std::unique_ptr<RtpStreamSend> stream_;
    uint32_t producerSsrc_;
    bool isVideo_;
    const std::optional<std::string>& mid_;
    uint8_t midId_;
    bool syncRequired_ = true;
    // The first packet sent since the last sync(), once sent, until
    // kRestartHorizon packets later.
    static constexpr int32_t kRestartHorizon = 0x4000;
    std::optional<uint16_t> restartSeq_;
    bool restarting_ = false;
    rtp::SeqRewriter seq_;
    // What was sent, for retransmissions: only where NACK was negotiated.
    std::unique_ptr<recovery::SendSeqMap> sentMap_;
    recovery::Rewrite rewrite_;
    std::optional<recovery::RtxStream> rtx_;
    // Asked-for packets the store no longer had (or that were never sent).
    uint64_t retransmissionsUnavailable_ = 0;
    // Asked-for packets sent before the last restart, or while waiting for it.
    uint64_t retransmissionsSuperseded_ = 0;
};

// One buffer for every copy and retransmission the worker makes: it is
// single threaded and a copy is sent (or queued by the socket) before the
// next one is made. Room for SRTP's tag and header growth.
uint8_t* consumerSendBuffer();
inline constexpr size_t kConsumerSendBufferSize = 65536 + 256;

template <typename Send>
void ConsumerStream::receiveNack(const rtcp::NackView& nack, uint64_t nowMs, bool canResend,
                                 ResendHook* hook, Send&& send) {
    if (!canResend || !sentMap_) {
        retransmissionsUnavailable_ += countNacked(nack);
        return;
    }
    if (syncRequired_) {
        retransmissionsSuperseded_ += countNacked(nack);
        return;
    }
    const auto response = recovery::respondToNack(
        nack.items(), *sentMap_, nowMs, minResendIntervalMs(),
        [&](const recovery::StoredPacket& stored, const recovery::SentPacket& sent) {
            auto packet = recovery::rewriteForResend(stored, sent, rewrite_, consumerSendBuffer(),
                                                     kConsumerSendBufferSize);
            if (!packet || (hook != nullptr && !hook->rewriteResend(*packet, sent))) {
                ++retransmissionsUnavailable_;
                return;
            }
            writeMid(*packet);
            if (rtx_) {
                if (!packet->rtxEncode(rtx_->payloadType, rtx_->ssrc, rtx_->nextSeq)) {
                    ++retransmissionsUnavailable_;
                    return;
                }
                ++rtx_->nextSeq;
            }
            stream_->countRetransmission(packet->size(), nowMs);
            send(*packet, rtx_.has_value());
        },
        restartSeq_);
    stream_->countNackReceived(response.requested);
    retransmissionsUnavailable_ += response.unknown + response.notStored;
    retransmissionsSuperseded_ += response.superseded;
}

} // namespace sfu::rtc
