// Transport-cc feedback, both directions.
//  - Parse: the input (after one mode octet) is the FCI of an RTPFB FMT 15
//    packet; every status is read, and the value form must rebuild into a
//    packet with the same statuses and arrival times.
//  - Build: the same octets drive a builder (sequence steps, losses, arrival
//    times); every packet it emits must parse back to what was added, within
//    the 250 us quantum and without drift.
#include "protocol/rtcp/TransportCc.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

using namespace sfu::rtcp;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void fuzzParse(const uint8_t* fci, size_t fciSize, bool padded) {
    // Wrap the FCI in a header, trimmed to whole words (or padded with the P
    // bit when asked).
    std::vector<uint8_t> pkt(12 + fciSize + 4);
    size_t body = 8 + fciSize;
    size_t pad = 0;
    if (padded) {
        pad = 4 - (body & 3);
    } else {
        body &= ~size_t{3};
    }
    const size_t size = 4 + body + pad;
    if (size - 4 > 4 * 0x10000) {
        return;
    }
    pkt[0] = static_cast<uint8_t>(0x80 | (pad > 0 ? 0x20 : 0) | 15);
    pkt[1] = 205;
    pkt[2] = static_cast<uint8_t>((size / 4 - 1) >> 8);
    pkt[3] = static_cast<uint8_t>(size / 4 - 1);
    std::memset(pkt.data() + 4, 0x11, 8);
    std::memcpy(pkt.data() + 12, fci, body - 8);
    if (pad > 0) {
        std::memset(pkt.data() + 4 + body, 0, pad);
        pkt[size - 1] = static_cast<uint8_t>(pad);
    }
    pkt.resize(size);

    const auto view = PacketView::parse(pkt.data(), pkt.size());
    check(view.has_value());
    const auto tcc = TransportCcView::parse(*view);
    if (!tcc) {
        return;
    }
    std::vector<TccPacket> packets;
    int64_t t = tcc->referenceTimeUs();
    for (const TccPacket p : *tcc) {
        check(p.seq == static_cast<uint16_t>(tcc->baseSeq() + packets.size()));
        if (p.received()) {
            t += int64_t{p.delta} * kTccDeltaUs;
            check(p.arrivalUs == t);
            check(p.status == TccStatus::LargeDelta || (p.delta >= 0 && p.delta <= 255));
        } else {
            check(p.delta == 0 && p.arrivalUs == 0);
        }
        packets.push_back(p);
    }
    check(packets.size() == tcc->statusCount());

    const TransportCc value = TransportCc::from(*tcc);
    std::vector<uint8_t> out(TransportCcBuilder::kMaxSize);
    const size_t n = value.serialize(out.data(), out.size());
    if (n == 0) {
        return; // more than the builder holds
    }
    const auto again = PacketView::parse(out.data(), n);
    check(again && again->size() == n);
    const auto tcc2 = TransportCcView::parse(*again);
    check(tcc2.has_value());
    check(tcc2->baseSeq() == tcc->baseSeq() && tcc2->fbCount() == tcc->fbCount() &&
          tcc2->referenceTime() == tcc->referenceTime());
    size_t i = 0;
    for (const TccPacket p : *tcc2) {
        check(i < packets.size());
        check(p.seq == packets[i].seq && p.received() == packets[i].received() &&
              p.arrivalUs == packets[i].arrivalUs);
        ++i;
    }
    check(i == packets.size());
}

struct Expected {
    uint16_t seq;
    bool received;
    int64_t arrivalUs;
};

void verifyBuilt(const TransportCcBuilder& b, const std::vector<Expected>& added) {
    std::vector<uint8_t> out(b.size());
    check(b.serialize(out.data(), out.size()) == out.size());
    check(out.size() <= TransportCcBuilder::kDefaultMaxSize);
    const auto view = PacketView::parse(out.data(), out.size());
    check(view && view->size() == out.size());
    const auto tcc = TransportCcView::parse(*view);
    check(tcc.has_value());
    check(tcc->statusCount() == b.statusCount());
    size_t next = 0;
    for (const TccPacket p : *tcc) {
        if (next < added.size() && p.seq == added[next].seq) {
            check(p.received() == added[next].received);
            if (p.received()) {
                const int64_t err = p.arrivalUs - added[next].arrivalUs;
                check(err >= -kTccDeltaUs / 2 && err <= kTccDeltaUs / 2);
            }
            ++next;
        } else {
            check(!p.received()); // a gap filler
        }
    }
    check(next == added.size());
}

void fuzzBuild(const uint8_t* data, size_t size) {
    uint16_t seq = static_cast<uint16_t>(size > 1 ? data[0] << 8 | data[1] : 0);
    int64_t now = 1'000'000'000;
    auto builder = std::make_unique<TransportCcBuilder>(1, 2, seq, now, 0);
    std::vector<Expected> added;
    uint8_t fbCount = 0;
    for (size_t i = 2; i + 2 < size; i += 3) {
        const uint8_t op = data[i];
        const int16_t jitter = static_cast<int16_t>(data[i + 1] << 8 | data[i + 2]);
        seq = static_cast<uint16_t>(seq + (op & 0x1F));
        const bool lost = (op & 0x20) != 0;
        // Mostly small steps, sometimes seconds apart.
        now += (op & 0x40) != 0 ? int64_t{jitter} * 1000 : jitter / 16;
        const size_t before = builder->statusCount();
        const auto r = lost ? builder->addLost(seq) : builder->addReceived(seq, now);
        if (r == TransportCcBuilder::AddResult::Ok) {
            added.push_back({seq, !lost, now});
            continue;
        }
        check(builder->statusCount() == before);
        if (r == TransportCcBuilder::AddResult::OutOfOrder) {
            continue;
        }
        // Full or delta too large: send this one and start over here.
        if (!builder->empty()) {
            verifyBuilt(*builder, added);
        }
        builder = std::make_unique<TransportCcBuilder>(1, 2, seq, now, ++fbCount);
        added.clear();
        const auto r2 = lost ? builder->addLost(seq) : builder->addReceived(seq, now);
        check(r2 == TransportCcBuilder::AddResult::Ok);
        added.push_back({seq, !lost, now});
    }
    verifyBuilt(*builder, added);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    fuzzParse(data + 1, size - 1, (data[0] & 1) != 0);
    fuzzBuild(data + 1, size - 1);
    return 0;
}
