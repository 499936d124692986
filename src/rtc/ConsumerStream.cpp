#include "rtc/ConsumerStream.hpp"

#include "rtc/rtp/Extensions.hpp"
#include "rtc/srtp/Random.hpp"
#include "utils/Errors.hpp"

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
    stream_ = std::make_unique<RtpStreamSend>(std::move(p));
    rewrite_ = recovery::Rewrite{stream_->ssrc(), codec->payloadType, &endpoint.extensionIds};
    if (stream_->params().rtxSsrc && stream_->params().rtxPayloadType != 0) {
        uint8_t seq[2];
        srtp::randomBytes(seq);
        rtx_ = recovery::RtxStream{*stream_->params().rtxSsrc, stream_->params().rtxPayloadType,
                                   static_cast<uint16_t>((seq[0] << 8) | seq[1])};
    }
}

std::optional<rtp::RtpPacket> ConsumerStream::forward(const rtp::RtpPacket& packet,
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
        ++stream_->packetsDiscarded;
        return std::nullopt;
    }
    auto out = copy(packet);
    if (out) {
        finish(*out, *seq, 0, payloadType, packet.sequenceNumber(), info);
    }
    return out;
}

std::optional<rtp::RtpPacket> ConsumerStream::copy(const rtp::RtpPacket& packet) {
    auto out = packet.copyTo(consumerSendBuffer(), kConsumerSendBufferSize);
    if (!out) {
        ++stream_->packetsDiscarded;
    }
    return out;
}

void ConsumerStream::finish(rtp::RtpPacket& copy, uint16_t seq, uint32_t timestampOffset,
                            uint8_t payloadType, uint16_t producerSeq, const RtpForwardInfo& info) {
    copy.setSsrc(stream_->ssrc());
    copy.setSequenceNumber(seq);
    copy.setPayloadType(payloadType);
    if (timestampOffset != 0) {
        copy.setTimestamp(copy.timestamp() + timestampOffset);
    }
    copy.remapExtensionIds(*rewrite_.extensionIds);
    writeMid(copy);
    stream_->sentPacket(copy, info.nowMs);
    if (info.store != nullptr) {
        sentMap_.record(seq, producerSeq, timestampOffset, info.store);
    }
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

void ConsumerStream::countUnavailable(const rtcp::NackView& nack) {
    for (const rtcp::NackItem item : nack.items()) {
        rtcp::forEachNacked(item, [&](uint16_t) {
            ++stream_->nackPacketCount;
            ++retransmissionsUnavailable_;
        });
    }
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
    return stats;
}

} // namespace sfu::rtc
