// One RTP stream a consumer sends: its counters and reports (RtpStreamSend),
// its sequence numbering, the copy of each producer packet into what the
// endpoint negotiated, and the answers to the endpoint's NACKs from the
// producer streams' packet stores. A simple or simulcast consumer has one,
// a pipe consumer one per producer encoding.
#pragma once

#include "rtc/RtpForward.hpp"
#include "rtc/RtpStream.hpp"
#include "rtc/parameters/RtpParameters.hpp"
#include "rtc/recovery/Retransmission.hpp"
#include "rtc/rtcp/Feedback.hpp"
#include "rtc/rtp/RtpPacket.hpp"
#include "rtc/rtp/SeqRewriter.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sfu::rtc {

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
    }

    // The whole path of a consumer that forwards one producer stream as is:
    // waits for the sync point, renumbers, copies and records. The copy (in
    // a buffer shared by every consumer, valid until the next packet) is
    // ready for the wire; nullopt when nothing is to be sent.
    std::optional<rtp::RtpPacket> forward(const rtp::RtpPacket& packet, uint8_t payloadType,
                                          const RtpForwardInfo& info);

    // The steps of forward() for a consumer that decides more itself
    // (simulcast): a raw copy of the producer packet, then its rewrite into
    // this stream (ssrc, `seq`, payload type, timestamp + `timestampOffset`,
    // extension ids, MID), recorded for NACKs and counted as sent.
    std::optional<rtp::RtpPacket> copy(const rtp::RtpPacket& packet);
    void finish(rtp::RtpPacket& copy, uint16_t seq, uint32_t timestampOffset, uint8_t payloadType,
                uint16_t producerSeq, const RtpForwardInfo& info);
    rtp::SeqRewriter& seq() { return seq_; }

    // Answers a NACK from the endpoint: every packet still known is rebuilt
    // and handed to send(packet, rtx). Nothing is resent unless `canResend`.
    template <typename Send>
    void receiveNack(const rtcp::NackView& nack, uint64_t nowMs, bool canResend, ResendHook* hook,
                     Send&& send);

    nlohmann::json dump() const;
    nlohmann::json stats(uint64_t nowMs);

private:
    void writeMid(rtp::RtpPacket& packet) const;
    // How long after resending a packet a repeated NACK for it is ignored.
    uint32_t minResendIntervalMs() const;
    void countUnavailable(const rtcp::NackView& nack);

    std::unique_ptr<RtpStreamSend> stream_;
    uint32_t producerSsrc_;
    bool isVideo_;
    const std::optional<std::string>& mid_;
    uint8_t midId_;
    bool syncRequired_ = true;
    rtp::SeqRewriter seq_;
    recovery::SendSeqMap sentMap_;
    recovery::Rewrite rewrite_;
    std::optional<recovery::RtxStream> rtx_;
    // Asked-for packets the store no longer had (or that were never sent).
    uint64_t retransmissionsUnavailable_ = 0;
};

// One buffer for every copy and retransmission the worker makes: it is
// single threaded and a copy is sent (or queued by the socket) before the
// next one is made. Room for SRTP's tag and header growth.
uint8_t* consumerSendBuffer();
inline constexpr size_t kConsumerSendBufferSize = 65536 + 256;

template <typename Send>
void ConsumerStream::receiveNack(const rtcp::NackView& nack, uint64_t nowMs, bool canResend,
                                 ResendHook* hook, Send&& send) {
    ++stream_->nackCount;
    if (!canResend) {
        countUnavailable(nack);
        return;
    }
    const auto response = recovery::respondToNack(
        nack.items(), sentMap_, nowMs, minResendIntervalMs(),
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
        });
    stream_->nackPacketCount += response.requested;
    retransmissionsUnavailable_ += response.unknown + response.notStored;
}

} // namespace sfu::rtc
