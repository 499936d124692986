// The bandwidth estimator fed arbitrary sequences: packets sent (in bursts,
// with probe clusters), transport-wide feedback packets built from the input
// and parsed as the transport would, REMB values, bounds, desired bitrates
// and timer ticks, with time moving forward by arbitrary steps (and now and
// then backwards). After every step the target must stay within the bounds
// and nothing may crash, hang or read out of bounds.
//
// Input: a sequence of operations, each an opcode octet and its arguments.
#include "protocol/bwe/SendSideBandwidthEstimator.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/TransportCc.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace sfu;
using namespace sfu::bwe;

namespace {

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool done() const { return off_ >= size_; }
    uint8_t u8() { return off_ < size_ ? data_[off_++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
    const uint8_t* take(size_t n, size_t& got) {
        got = n < size_ - off_ ? n : size_ - off_;
        const uint8_t* p = data_ + off_;
        off_ += got;
        return p;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t off_ = 0;
};

// Wraps an FCI in an RTPFB FMT 15 header, trimmed to whole words.
void feed(SendSideBandwidthEstimator& e, const uint8_t* fci, size_t fciSize, int64_t nowMs) {
    const size_t body = (8 + fciSize) & ~size_t{3};
    if (body < 16) {
        return;
    }
    std::vector<uint8_t> pkt(4 + body);
    pkt[0] = 0x80 | 15;
    pkt[1] = 205;
    pkt[2] = static_cast<uint8_t>((pkt.size() / 4 - 1) >> 8);
    pkt[3] = static_cast<uint8_t>(pkt.size() / 4 - 1);
    std::memset(pkt.data() + 4, 0x11, 8);
    std::memcpy(pkt.data() + 12, fci, body - 8);
    const auto view = rtcp::PacketView::parse(pkt.data(), pkt.size());
    if (!view) {
        return;
    }
    const auto tcc = rtcp::TransportCcView::parse(*view);
    if (tcc) {
        e.onTransportCcFeedback(*tcc, nowMs);
    }
}

// A well-formed feedback for the last `count` packets sent, with arrival
// times taken from the input.
void feedBuilt(SendSideBandwidthEstimator& e, Reader& in, uint16_t nextSeq, int64_t nowMs) {
    const uint8_t count = in.u8();
    const auto base = static_cast<uint16_t>(nextSeq - count);
    int64_t arrival = int64_t{in.u16()} * 1000;
    rtcp::TransportCcBuilder b(1, 2, base, arrival, in.u8());
    for (uint16_t i = 0; i < count; ++i) {
        const uint8_t step = in.u8();
        if (step == 0xFF) {
            continue; // lost
        }
        arrival += (step & 0x80) != 0 ? -int64_t{step & 0x7F} * 250 : int64_t{step} * 250;
        if (b.addReceived(static_cast<uint16_t>(base + i), arrival) !=
            rtcp::TransportCcBuilder::AddResult::Ok) {
            break;
        }
    }
    std::vector<uint8_t> out(b.size());
    check(b.serialize(out.data(), out.size()) == out.size());
    const auto view = rtcp::PacketView::parse(out.data(), out.size());
    check(view.has_value());
    const auto tcc = rtcp::TransportCcView::parse(*view);
    check(tcc.has_value());
    e.onTransportCcFeedback(*tcc, nowMs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Reader in(data, size);
    SendSideBandwidthEstimator::Config config;
    config.startBps = int64_t{in.u16()} * 100 + 1;
    config.historyCapacity = 256 + in.u8() * 16;
    config.probing = (in.u8() & 1) == 0;
    SendSideBandwidthEstimator e(config);
    int64_t minBps = SendSideBandwidthEstimator::kDefaultMinBps;
    int64_t maxBps = SendSideBandwidthEstimator::kDefaultMaxBps;
    int64_t now = 1000;
    uint16_t seq = in.u16();
    int32_t cluster = kNoProbeCluster;
    while (!in.done()) {
        const uint8_t op = in.u8();
        switch (op % 9) {
        case 0: { // a burst of packets
            const uint8_t n = in.u8();
            const uint8_t gap = in.u8();
            for (uint8_t i = 0; i < n; ++i) {
                e.onPacketSent(seq++, 100 + (op >> 4) * 90, now, cluster,
                               cluster == kNoProbeCluster ? PacketKind::Media
                                                          : PacketKind::Padding);
                now += gap & 7;
            }
            break;
        }
        case 1: { // arbitrary FCI
            size_t got = 0;
            const uint8_t* fci = in.take(in.u8() * 2u, got);
            feed(e, fci, got, now);
            break;
        }
        case 2:
            feedBuilt(e, in, seq, now);
            break;
        case 3:
            e.onRemb(int64_t{in.u16()} * 1000, now);
            break;
        case 4: {
            minBps = int64_t{in.u16()} * 100;
            maxBps = int64_t{in.u16()} * 1000;
            e.setBounds(minBps, maxBps, now);
            if (maxBps <= 0) {
                maxBps = SendSideBandwidthEstimator::kDefaultMaxBps;
            }
            maxBps = maxBps < minBps ? minBps : maxBps;
            break;
        }
        case 5:
            e.setDesiredBitrate(int64_t{in.u16()} * 1000, now);
            break;
        case 6: // time: mostly forward, sometimes far, rarely back
            now += (op & 0x80) != 0 ? int64_t{in.u16()} * 10 : in.u8();
            if ((op & 0x70) == 0x70) {
                now -= in.u8();
            }
            e.process(now);
            break;
        case 7:
            if (auto r = e.takeProbeRequest(now)) {
                check(r->bitrateBps > 0);
                cluster = r->id;
            } else {
                cluster = kNoProbeCluster;
            }
            break;
        case 8:
            e.onLossReport(in.u8(), in.u8(), now);
            e.setRtt(in.u8());
            break;
        }
        const int64_t t = e.targetBitrate();
        check(t >= minBps && t <= maxBps);
        BweTrace trace;
        while (e.popTrace(trace)) {
            check(trace.availableBitrate >= trace.minBitrate);
        }
    }
    return 0;
}
