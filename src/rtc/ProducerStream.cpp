#include "rtc/ProducerStream.hpp"

#include "Logger.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/Time.hpp"

#include <algorithm>

namespace sfu::rtc {

ProducerStream::ProducerStream(Config config, Listener& listener)
    : config_(std::move(config)), listener_(listener),
      codecType_(codecs::codecFromMimeType(config_.codec->mimeType)) {
    if (config_.encoding.rtx) {
        rtxSsrc_ = config_.encoding.rtx->ssrc;
    }
    if (config_.kind == params::MediaKind::Video && config_.codec->supportsNack()) {
        nack_ = std::make_unique<recovery::NackGenerator>();
        store_ = std::make_unique<recovery::PacketStore>();
    }
    recovery::KeyFrameRequestConfig keyFrameConfig;
    keyFrameConfig.delayMs = config_.keyFrameRequestDelayMs;
    keyFrames_ = recovery::KeyFrameRequestManager(keyFrameConfig);
}

void ProducerStream::start(uint32_t ssrc) {
    RtpStreamParams p;
    p.ssrc = ssrc;
    p.payloadType = config_.codec->payloadType;
    p.mimeType = config_.codec->mimeType;
    p.clockRate = config_.codec->clockRate;
    p.kind = config_.kind;
    p.rid = config_.encoding.rid.value_or("");
    p.cname = config_.cname;
    p.rtxSsrc = rtxSsrc_;
    if (config_.rtxCodec != nullptr) {
        p.rtxPayloadType = config_.rtxCodec->payloadType;
    }
    p.useNack = config_.codec->supportsNack();
    p.usePli = config_.codec->supportsPli();
    p.useFir = config_.codec->supportsFir();
    rtp_ = std::make_unique<RtpStreamRecv>(std::move(p));
    SFU_DEBUG(Rtp, "new receive stream [ssrc:%u, rid:%s]", ssrc,
              config_.encoding.rid.value_or("").c_str());
}

std::optional<ProducerStream::Received> ProducerStream::receivePacket(rtp::RtpPacket& packet,
                                                                      uint64_t nowMs) {
    Received received;
    const bool isRtx =
        config_.rtxCodec != nullptr && packet.payloadType() == config_.rtxCodec->payloadType;
    if (isRtx) {
        if (!decapsulateRtx(packet)) {
            return std::nullopt;
        }
        received.retransmitted = true;
    } else if (packet.payloadType() != config_.codec->payloadType ||
               packet.ssrc() !=
                   (rtp_ ? rtp_->ssrc() : config_.encoding.ssrc.value_or(packet.ssrc()))) {
        if (rtp_) {
            rtp_->countDiscarded();
        }
        return std::nullopt;
    }
    if (!rtp_) {
        start(packet.ssrc());
        received.first = true;
    }
    uint8_t spatialLayer = 0;
    uint8_t temporalLayer = 0;
    if (config_.kind == params::MediaKind::Video) {
        if (const auto info =
                codecs::parsePayload(codecType_, packet.payload(), packet.payloadLength())) {
            received.keyFrame = info->isKeyFrame;
            if (info->hasLayers) {
                spatialLayer = info->spatialLayer;
                temporalLayer = info->temporalLayer;
            }
        }
    }
    if (nack_) {
        const auto arrival = nack_->onPacket(packet.sequenceNumber(), received.keyFrame,
                                             received.retransmitted, nowMs);
        switch (arrival.arrival) {
        case recovery::Arrival::Duplicate:
        case recovery::Arrival::TooOld:
            if (received.retransmitted) {
                rtp_->countRtxDiscarded();
            } else {
                rtp_->countDiscarded();
            }
            return std::nullopt;
        case recovery::Arrival::Repaired:
            rtp_->countRepaired();
            break;
        default:
            break;
        }
        if (arrival.keyFrameNeeded && keyFrames_.request(nowMs)) {
            sendKeyFrameRequest();
        }
        if (arrival.newlyMissing > 0) {
            sendNacks(nowMs);
        }
    }
    if (!rtp_->receivePacket(packet, nowMs, received.retransmitted)) {
        return std::nullopt;
    }
    if (!received.retransmitted) {
        layerRates_[std::min<size_t>(spatialLayer, kMaxSpatialLayers - 1)]
                   [std::min<size_t>(temporalLayer, kMaxTemporalLayers - 1)]
                       .update(packet.size(), nowMs);
    }
    if (received.keyFrame) {
        keyFrames_.keyFrameReceived(nowMs);
    }
    return received;
}

uint64_t ProducerStream::bitrateUpTo(int spatialLayer, int temporalLayer, uint64_t nowMs) {
    uint64_t bps = 0;
    const int spatialTop = std::min(spatialLayer, static_cast<int>(kMaxSpatialLayers) - 1);
    const int temporalTop = std::min(temporalLayer, static_cast<int>(kMaxTemporalLayers) - 1);
    for (int spatial = 0; spatial <= spatialTop; ++spatial) {
        for (int temporal = 0; temporal <= temporalTop; ++temporal) {
            bps += layerRates_[spatial][temporal].rate(nowMs);
        }
    }
    return bps;
}

const recovery::PacketStore* ProducerStream::store(const rtp::RtpPacket& packet, uint64_t nowMs) {
    if (!store_) {
        return nullptr;
    }
    store_->store(packet, nowMs);
    return store_.get();
}

bool ProducerStream::decapsulateRtx(rtp::RtpPacket& packet) {
    if (!rtp_) {
        // Nothing to repair before the media stream itself has started.
        return false;
    }
    if (!rtxSsrc_) {
        rtxSsrc_ = packet.ssrc();
    } else if (*rtxSsrc_ != packet.ssrc()) {
        rtp_->countRtxDiscarded();
        return false;
    }
    // Padding-only RTX packets are bandwidth probes, not retransmissions.
    if (packet.payloadLength() < 2 || !packet.rtxDecode(config_.codec->payloadType, rtp_->ssrc())) {
        rtp_->countRtxDiscarded();
        return false;
    }
    rtp_->countRetransmitted();
    return true;
}

void ProducerStream::sendNacks(uint64_t nowMs) {
    uint16_t seqs[512];
    const size_t count = nack_->collect(nowMs, roundTripTimeMs(), seqs);
    size_t done = 0;
    while (done < count) {
        uint8_t buffer[1200];
        const auto written =
            recovery::writeNackPacket(kFeedbackSenderSsrc, rtp_->ssrc(),
                                      std::span(seqs + done, count - done), buffer, sizeof(buffer));
        if (written.bytes == 0 || written.seqs == 0) {
            break;
        }
        rtp_->countNackSent(written.seqs);
        done += written.seqs;
        listener_.onProducerStreamFeedback(*this, Feedback::Nack, buffer, written.bytes,
                                           written.seqs);
    }
}

void ProducerStream::tick(uint64_t nowMs) {
    if (!rtp_) {
        return;
    }
    if (nack_ && nack_->pendingCount() > 0) {
        sendNacks(nowMs);
    }
    if (keyFrames_.tick(nowMs)) {
        sendKeyFrameRequest();
    }
}

void ProducerStream::requestKeyFrame(uint64_t nowMs) {
    if (config_.kind == params::MediaKind::Video && rtp_ && keyFrames_.request(nowMs)) {
        sendKeyFrameRequest();
    }
}

void ProducerStream::sendKeyFrameRequest() {
    uint8_t buffer[64];
    size_t length = 0;
    // PLI where the sender supports it; FIR (RFC 5104) otherwise.
    const bool usePli = rtp_->params().usePli || !rtp_->params().useFir;
    if (usePli) {
        length = rtcp::writePli(kFeedbackSenderSsrc, rtp_->ssrc(), buffer, sizeof(buffer));
        rtp_->countPliSent();
    } else {
        const rtcp::FirItem item{rtp_->ssrc(), keyFrames_.firSequenceNumber()};
        length = rtcp::writeFir(kFeedbackSenderSsrc, std::span(&item, 1), buffer, sizeof(buffer));
        rtp_->countFirSent();
    }
    listener_.onProducerStreamFeedback(*this, usePli ? Feedback::Pli : Feedback::Fir, buffer,
                                       length, 1);
}

void ProducerStream::receiveDlrr(const rtcp::DlrrItem& item, uint32_t ourSsrc) {
    if (item.ssrc != ourSsrc || item.lastRr == 0) {
        return;
    }
    // RFC 3611 4.5: RTT = now - LRR - DLRR, all in compact NTP units.
    const uint32_t rtt = rtp::ntpNow().compact() - item.lastRr - item.delaySinceLastRr;
    if (static_cast<int32_t>(rtt) < 0) {
        return;
    }
    const auto ms = static_cast<uint32_t>(static_cast<uint64_t>(rtt) * 1000 / 65536);
    dlrrRttMs_ = std::max<uint32_t>(ms, 1);
}

} // namespace sfu::rtc
