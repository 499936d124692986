#include "rtc/ConsumerStream.hpp"

#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/SeqNum.hpp"
#include "utils/Errors.hpp"
#include "utils/Random.hpp"

#include <algorithm>

namespace sfu::rtc {

using nlohmann::json;

uint8_t* consumerSendBuffer() {
    static uint8_t buffer[kConsumerSendBufferSize];
    return buffer;
}

ConsumerStream::ConsumerStream(const Endpoint& endpoint,
                               const params::RtpEncodingParameters& encoding, uint32_t producerSsrc)
    : producerSsrc_(producerSsrc), isVideo_(endpoint.kind == params::MediaKind::Video),
      mid_(endpoint.parameters.mid),
      midId_(endpoint.extensionIds.get(static_cast<uint8_t>(rtp::ExtensionType::Mid))) {
    const auto* codec = endpoint.parameters.codecForEncoding(encoding);
    if (codec == nullptr) {
        throw TypeError("no media codec in rtpParameters");
    }
    RtpStreamParams p;
    p.ssrc = encoding.ssrc.value_or(0);
    p.payloadType = codec->payloadType;
    p.mimeType = codec->mimeType;
    p.clockRate = codec->clockRate;
    p.kind = endpoint.kind;
    p.cname = endpoint.cname;
    if (encoding.rtx) {
        p.rtxSsrc = encoding.rtx->ssrc;
        if (const auto* rtx = endpoint.parameters.rtxCodecFor(codec->payloadType)) {
            p.rtxPayloadType = rtx->payloadType;
        }
    }
    p.useNack = codec->supportsNack();
    p.usePli = codec->supportsPli();
    p.useFir = codec->supportsFir();
    if (p.useNack) {
        sentMap_ = std::make_unique<recovery::SendSeqMap>();
    }
    stream_ = std::make_unique<RtpStreamSend>(std::move(p));
    rewrite_ = recovery::Rewrite{stream_->ssrc(), codec->payloadType, &endpoint.extensionIds};
    if (stream_->params().rtxSsrc && stream_->params().rtxPayloadType != 0) {
        uint8_t seq[2];
        randomBytes(seq);
        rtx_ = recovery::RtxStream{*stream_->params().rtxSsrc, stream_->params().rtxPayloadType,
                                   static_cast<uint16_t>((seq[0] << 8) | seq[1])};
    }
}

std::optional<ForwardParams> ConsumerStream::decideAsIs(const rtp::RtpPacket& packet,
                                                        uint8_t payloadType,
                                                        const RtpForwardInfo& info) {
    if (syncRequired_) {
        if (isVideo_ && !info.keyFrame) {
            // Forwarding mid-picture would give the receiver undecodable
            // frames; wait for the key frame asked for on (re)start.
            return std::nullopt;
        }
        sync(packet.sequenceNumber());
    }
    const auto seq = seq_.rewrite(packet.sequenceNumber());
    if (!seq) {
        stream_->countDiscarded();
        return std::nullopt;
    }
    ForwardParams params;
    params.sequenceNumber = *seq;
    params.payloadType = payloadType;
    return params;
}

std::optional<rtp::RtpPacket> ConsumerStream::send(const rtp::RtpPacket& packet,
                                                   const ForwardParams& params,
                                                   const RtpForwardInfo& info) {
    auto copy = packet.copyTo(consumerSendBuffer(), kConsumerSendBufferSize);
    if (!copy) {
        stream_->countDiscarded();
        return std::nullopt;
    }
    copy->setSsrc(stream_->ssrc());
    copy->setSequenceNumber(params.sequenceNumber);
    copy->setPayloadType(params.payloadType);
    if (params.timestampOffset != 0) {
        copy->setTimestamp(copy->timestamp() + params.timestampOffset);
    }
    if (params.setMarker) {
        copy->setMarker(true);
    }
    if (!params.payload.empty()) {
        params.payload.apply(copy->payload(), copy->payloadLength());
    }
    copy->remapExtensionIds(*rewrite_.extensionIds);
    writeMid(*copy);
    if (restarting_) {
        restartSeq_ = params.sequenceNumber;
        restarting_ = false;
    } else if (restartSeq_ && rtp::seqDiff(params.sequenceNumber, *restartSeq_) > kRestartHorizon) {
        // Far enough on that nothing from before the restart is stored any
        // more, and before the numbers wrap round to look older than it.
        restartSeq_.reset();
    }
    stream_->sentPacket(*copy, info.nowMs);
    if (info.store != nullptr && sentMap_) {
        sentMap_->record(params.sequenceNumber, packet.sequenceNumber(), params.timestampOffset,
                         info.store, copy->marker());
    }
    return copy;
}

void ConsumerStream::writeMid(rtp::RtpPacket& packet) const {
    // Bundled receivers demultiplex by it: ours replaces the producer's.
    if (midId_ != 0 && mid_) {
        rtp::setSdes(packet, midId_, *mid_);
    }
}

uint32_t ConsumerStream::minResendIntervalMs() const {
    // Receivers repeat NACKs about every RTT.
    return static_cast<uint32_t>(
        stream_->hasRoundTripTime() ? std::max(10.0, stream_->roundTripTimeMs() / 2) : 20.0);
}

size_t ConsumerStream::countNacked(const rtcp::NackView& nack) {
    size_t packets = 0;
    for (const rtcp::NackItem item : nack.items()) {
        rtcp::forEachNacked(item, [&](uint16_t) { ++packets; });
    }
    stream_->countNackReceived(packets);
    return packets;
}

json ConsumerStream::dump() const {
    return json{{"params",
                 {{"ssrc", stream_->ssrc()},
                  {"payloadType", stream_->params().payloadType},
                  {"mimeType", stream_->params().mimeType},
                  {"clockRate", stream_->params().clockRate},
                  {"cname", stream_->params().cname}}},
                {"score", stream_->score()}};
}

json ConsumerStream::stats(uint64_t nowMs) {
    json stats = stream_->stats(nowMs);
    stats["retransmissionsUnavailable"] = retransmissionsUnavailable_;
    stats["retransmissionsSuperseded"] = retransmissionsSuperseded_;
    return stats;
}

} // namespace sfu::rtc
