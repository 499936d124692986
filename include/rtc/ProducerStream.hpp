// One RTP stream a producer receives (one of its encodings), mirroring
// ConsumerStream on the send side: its counters and reports (RtpStreamRecv,
// from its first packet on), RTX decapsulation, NACK generation spaced by
// the round trip to the sender, the packet store its consumers answer NACKs
// from, and key frame requests (PLI, else FIR). What it sends the sender
// (NACK, PLI, FIR) goes out through its listener.
//
// Which stream a packet belongs to is the RtpListener's business; the stream
// only refuses an SSRC other than the one it started with (or its RTX one).
#pragma once

#include "protocol/codecs/Codecs.hpp"
#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/recovery/KeyFrameRequestManager.hpp"
#include "protocol/recovery/NackGenerator.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Xr.hpp"
#include "protocol/rtp/RateCalculator.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/RtpStream.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sfu::rtc {

class ProducerStream {
public:
    enum class Feedback : uint8_t { Nack, Pli, Fir };

    class Listener {
    public:
        virtual ~Listener() = default;
        // RTCP feedback for the sender, ready for the wire. `count`: the
        // sequence numbers a NACK asks for (1 for PLI and FIR).
        virtual void onProducerStreamFeedback(ProducerStream& stream, Feedback type,
                                              const uint8_t* data, size_t length, size_t count) = 0;
    };

    struct Config {
        params::MediaKind kind = params::MediaKind::Video;
        // The encoding as the producer declared it, and the codecs it uses
        // (the RTX codec may be null). Both codecs outlive the stream.
        params::RtpEncodingParameters encoding;
        const params::RtpCodecParameters* codec = nullptr;
        const params::RtpCodecParameters* rtxCodec = nullptr;
        // The router-space SSRC consumers know the stream by.
        uint32_t mappedSsrc = 0;
        std::string cname;
        uint32_t keyFrameRequestDelayMs = 0;
    };

    // Round trip assumed for NACK spacing until one is measured.
    static constexpr uint32_t kDefaultRttMs = 100;
    // The SSRC our feedback claims to come from; any value works for senders.
    static constexpr uint32_t kFeedbackSenderSsrc = 1;

    ProducerStream(Config config, Listener& listener);

    struct Received {
        bool keyFrame = false;
        // It arrived as RTX and was decapsulated into the original.
        bool retransmitted = false;
        // The stream's first packet: it has started (and has a score).
        bool first = false;
    };
    // Takes a packet the RTP listener found to be this stream's: decapsulates
    // RTX, runs NACK generation (which may send feedback), updates the
    // statistics. Nullopt when the packet is to be dropped (counted).
    std::optional<Received> receivePacket(rtp::RtpPacket& packet, uint64_t nowMs);
    // Keeps a packet that went through receivePacket() (already rewritten
    // into the router's space) for retransmissions; the store, or null when
    // the stream has no loss recovery.
    const recovery::PacketStore* store(const rtp::RtpPacket& packet, uint64_t nowMs);

    // A consumer needs a key frame; sent now, merged or delayed.
    void requestKeyFrame(uint64_t nowMs);
    // Periodic work: NACK retries and key frame request retries.
    void tick(uint64_t nowMs);

    // The round trip to the sender spaces NACK retries. It comes from the
    // sender's DLRR answer to our RRTR (`ourSsrc`: the SSRC our reports
    // carry), else from another measurement of the same path (what the
    // transport's consumers measured towards the same endpoint), else it is
    // kDefaultRttMs.
    void receiveDlrr(const rtcp::DlrrItem& item, uint32_t ourSsrc);
    void setPathRoundTripTime(uint32_t rttMs) { pathRttMs_ = rttMs; }
    bool hasRoundTripTime() const { return dlrrRttMs_ != 0 || pathRttMs_ != 0; }
    uint32_t roundTripTimeMs() const {
        return dlrrRttMs_ != 0 ? dlrrRttMs_ : pathRttMs_ != 0 ? pathRttMs_ : kDefaultRttMs;
    }

    const Config& config() const { return config_; }
    uint32_t mappedSsrc() const { return config_.mappedSsrc; }
    codecs::Codec codec() const { return codecType_; }
    // The statistics stream, null until the first packet.
    RtpStreamRecv* rtp() { return rtp_.get(); }
    const RtpStreamRecv* rtp() const { return rtp_.get(); }
    uint8_t score() const { return rtp_ ? rtp_->score() : 0; }

    // What the stream carries of each spatial and temporal layer (packets
    // that name none count as layer 0; layers above the last one count in
    // it), measured on receive over the last second, retransmissions left
    // out: the bitrate of spatial layers 0 to `spatialLayer` (one SVC
    // stream carries them all; a simulcast stream has only 0) and of their
    // temporal layers 0 to `temporalLayer`, in bit/s.
    static constexpr size_t kMaxSpatialLayers = 4;
    static constexpr size_t kMaxTemporalLayers = 4;
    uint64_t bitrateUpTo(int spatialLayer, int temporalLayer, uint64_t nowMs);
    // Every spatial layer's temporal layers 0 to `temporalLayer`.
    uint64_t bitrateUpTo(int temporalLayer, uint64_t nowMs) {
        return bitrateUpTo(kMaxSpatialLayers - 1, temporalLayer, nowMs);
    }

private:
    // Turns an RTX packet back into the original; false when it is dropped.
    bool decapsulateRtx(rtp::RtpPacket& packet);
    void sendNacks(uint64_t nowMs);
    void sendKeyFrameRequest();
    void start(uint32_t ssrc);

    Config config_;
    Listener& listener_;
    codecs::Codec codecType_;
    std::unique_ptr<RtpStreamRecv> rtp_;
    // The RTX stream's SSRC, declared or learnt from its first packet.
    std::optional<uint32_t> rtxSsrc_;
    // Loss recovery (video with NACK negotiated).
    std::unique_ptr<recovery::NackGenerator> nack_;
    std::unique_ptr<recovery::PacketStore> store_;
    recovery::KeyFrameRequestManager keyFrames_;
    uint32_t dlrrRttMs_ = 0;
    uint32_t pathRttMs_ = 0;
    // 1 s windows of 100 ms buckets, one per spatial and temporal layer.
    std::array<std::array<rtp::BasicRateCalculator<10>, kMaxTemporalLayers>, kMaxSpatialLayers>
        layerRates_;
};

} // namespace sfu::rtc
