// Arbitrary operation sequences on the loss recovery units, with small
// bounds chosen by the input so that wrap-around, overflow, growth, restarts
// and eviction are all reached quickly. Besides what the sanitizers catch,
// every answer is checked against a shadow record of what was fed in:
//  - NackGenerator: the list stays bounded, collect() only returns pending
//    numbers, once each; Repaired means it was pending, Duplicate means it
//    was seen before; an arrived packet is never pending.
//  - PacketStore: find() returns exactly the bytes last stored under that
//    number, never older than the time bound; a packet just stored is found.
//  - SendSeqMap + buildRetransmission: lookups return the last mapping
//    recorded; the retransmission, RTX decoded, equals a first-send rewrite.
//  - KeyFrameRequestManager: requests are never closer than the delay.
#include "protocol/recovery/KeyFrameRequestManager.hpp"
#include "protocol/recovery/NackGenerator.hpp"
#include "protocol/recovery/PacketStore.hpp"
#include "protocol/recovery/Retransmission.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqNum.hpp"

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

using namespace sfu;
using namespace sfu::recovery;

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// Packet content is a function of (seq, payload size, salt), so the shadow
// only needs those three to verify stored bytes.
constexpr size_t kBufferSize = 2048;

std::optional<rtp::RtpPacket> buildPacket(uint8_t* buffer, uint16_t seq, size_t payloadSize,
                                          uint8_t salt) {
    std::array<uint8_t, 1600> payload{};
    for (size_t i = 0; i < payloadSize; ++i) {
        payload[i] = static_cast<uint8_t>(salt + seq + i * 31);
    }
    const std::array<uint8_t, 2> a{salt, static_cast<uint8_t>(seq)};
    const std::array<uint8_t, 4> b{1, 2, 3, salt};
    const std::array<rtp::ExtensionElement, 2> extensions{rtp::ExtensionElement{1, a},
                                                          rtp::ExtensionElement{9, b}};
    rtp::RtpPacketSpec spec;
    spec.payloadType = 96;
    spec.sequenceNumber = seq;
    spec.timestamp = 1000u * seq + salt;
    spec.ssrc = 0x01020304;
    spec.marker = (salt & 1) != 0;
    spec.extensions = std::span(extensions.data(), (salt & 2) != 0 ? 2 : 0);
    spec.payload = std::span<const uint8_t>(payload.data(), payloadSize);
    return rtp::RtpPacket::build(buffer, kBufferSize, spec);
}

struct Shadow {
    // NACK side: every sequence number ever fed in.
    std::bitset<65536> seen;
    // Store side: what the last successful store() of each number held.
    std::array<uint16_t, 65536> payloadSize{};
    std::array<uint8_t, 65536> salt{};
    std::bitset<65536> stored;
    // Map side: input sequence number last recorded for each output one.
    std::array<uint16_t, 65536> inputOf{};
    std::bitset<65536> recorded;
    // The marker bit each was sent with (the consumer's, not the store's).
    std::bitset<65536> markerOf;
    // Numbers whose bits were set, so the next run clears only those
    // instead of the whole record.
    std::vector<uint16_t> touched;

    void touch(uint16_t seq) { touched.push_back(seq); }
    void clear() {
        for (const uint16_t seq : touched) {
            seen.reset(seq);
            stored.reset(seq);
            recorded.reset(seq);
        }
        touched.clear();
    }
};

struct State {
    NackGenerator nack;
    PacketStore store;
    SendSeqMap map;
    KeyFrameRequestManager keyFrames;
    rtp::ExtensionIdMap ids;
    uint32_t keyFrameDelay;
    uint64_t now = 0;
    std::optional<uint64_t> lastKeyFrameRequest;
    uint16_t nextOut = 0;
    // The map's newest output number, to know which records it must take.
    std::optional<uint16_t> mapNewest;
    RtxStream rtx{0x0A0B0C0D, 97, 0};
    std::array<uint8_t, kBufferSize> buffer{};
    std::array<uint8_t, kBufferSize> out{};
    std::array<uint8_t, kBufferSize> expected{};
    std::array<uint16_t, 256> due{};
    std::bitset<65536> dueSeen;

    State(const NackConfig& n, const PacketStoreConfig& s, const KeyFrameRequestConfig& k)
        : nack(n), store(s), keyFrames(k), keyFrameDelay(k.delayMs) {
        ids.set(1, 3);
        ids.set(9, 20); // forces the two-byte form
    }
};

void keyFrameSent(State& st) {
    if (st.keyFrameDelay > 0 && st.lastKeyFrameRequest) {
        check(st.now - *st.lastKeyFrameRequest >= st.keyFrameDelay);
    }
    st.lastKeyFrameRequest = st.now;
}

// Records a mapping in the map and, when the map must take it (not 1024 or
// more behind its newest), in the shadow.
void record(State& st, Shadow& sh, uint16_t out, uint16_t input, uint32_t offset) {
    const bool marker = ((out ^ input) & 1) != 0;
    st.map.record(out, input, offset, &st.store, marker);
    if (st.mapNewest && rtp::seqDiff(out, *st.mapNewest) <= -int32_t{SendSeqMap::kSize}) {
        check(!st.map.lookup(out));
        return;
    }
    if (!st.mapNewest || rtp::isNewer(out, *st.mapNewest)) {
        st.mapNewest = out;
    }
    sh.inputOf[out] = input;
    sh.recorded.set(out);
    sh.markerOf[out] = marker;
    sh.touch(out);
    const std::optional<SentPacket> sent = st.map.lookup(out);
    check(sent && sent->inputSeq == input && sent->timestampOffset == offset &&
          sent->marker == marker);
}

void receiveOne(State& st, Shadow& sh, uint16_t seq, uint8_t flags) {
    const bool wasPending = st.nack.isPending(seq);
    const size_t before = st.nack.pendingCount();
    const ArrivalResult r = st.nack.onPacket(seq, (flags & 1) != 0, (flags & 2) != 0, st.now);
    check(st.nack.pendingCount() <= st.nack.config().maxPending);
    check(!st.nack.isPending(seq));
    check(r.newlyMissing <= st.nack.config().maxPending);
    if (r.arrival == Arrival::Repaired) {
        check(wasPending);
        check(st.nack.pendingCount() < before);
    }
    if (r.arrival == Arrival::Duplicate) {
        check(sh.seen[seq]);
    }
    if (r.keyFrameNeeded && st.keyFrames.request(st.now)) {
        keyFrameSent(st);
    }
    sh.seen.set(seq);
    sh.touch(seq);
}

void opReceive(State& st, Shadow& sh, Reader& in) {
    const uint16_t seq = in.u16();
    receiveOne(st, sh, seq, in.u8());
}

// A stretch of the stream with a loss pattern: long spans and many pending
// entries without a collect() in between.
void opReceiveRun(State& st, Shadow& sh, Reader& in) {
    const uint16_t first = in.u16();
    const uint8_t count = in.u8();
    const uint8_t lost = in.u8();
    for (uint8_t i = 0; i < count; ++i) {
        if (((lost >> (i % 8)) & 1) == 0) {
            receiveOne(st, sh, static_cast<uint16_t>(first + i), 0);
        }
    }
}

void opAdmin(State& st, Reader& in) {
    const uint8_t what = in.u8();
    switch (what % 5) {
    case 0:
        st.nack.reset();
        check(st.nack.pendingCount() == 0);
        break;
    case 1:
        st.store.clear();
        break;
    case 2:
        st.map.clear();
        st.mapNewest.reset();
        break;
    case 3:
        // The consumer skipped packets (a layer switch, say).
        st.nextOut = static_cast<uint16_t>(st.nextOut + in.u16() % 3000);
        break;
    default:
        break;
    }
}

// Mappings recorded out of order, or far behind: must be ignored or kept
// consistent, never confused with newer ones.
void opRecordAnywhere(State& st, Shadow& sh, Reader& in) {
    const auto out = static_cast<uint16_t>(st.nextOut - in.u16() % 3000);
    record(st, sh, out, in.u16(), 0);
}

void opCollect(State& st, Reader& in) {
    const uint32_t rtt = in.u8() * 4u;
    const size_t room = in.u8();
    const size_t n = st.nack.collect(st.now, rtt, std::span(st.due.data(), room));
    check(n <= room);
    for (size_t i = 0; i < n; ++i) {
        check(st.nack.isPending(st.due[i]));
        check(!st.dueSeen[st.due[i]]);
        st.dueSeen.set(st.due[i]);
    }
    for (size_t i = 0; i < n; ++i) {
        st.dueSeen.reset(st.due[i]);
    }
    // Every number must survive the trip through RTCP.
    std::array<uint8_t, 1500> rtcpBuf{};
    std::span<const uint16_t> rest(st.due.data(), n);
    const size_t cap = 16 + in.u8() * 4u;
    while (!rest.empty()) {
        const NackWrite w =
            writeNackPacket(1, 2, rest, rtcpBuf.data(), std::min(cap, rtcpBuf.size()));
        check(w.bytes > 0 && w.seqs > 0 && w.seqs <= rest.size());
        const auto view =
            rtcp::NackView::parse(*rtcp::CompoundView(rtcpBuf.data(), w.bytes).begin());
        check(view.has_value());
        size_t k = 0;
        for (const rtcp::NackItem item : view->items()) {
            rtcp::forEachNacked(item, [&](uint16_t s) {
                check(k < w.seqs && rest[k] == s);
                ++k;
            });
        }
        check(k == w.seqs);
        rest = rest.subspan(w.seqs);
    }
}

void opStore(State& st, Shadow& sh, Reader& in) {
    const uint16_t seq = in.u16();
    const size_t payloadSize = in.u16() % 1601;
    const uint8_t salt = in.u8();
    auto packet = buildPacket(st.buffer.data(), seq, payloadSize, salt);
    check(packet.has_value());
    const StoreResult r = st.store.store(*packet, st.now);
    if (r == StoreResult::Stored) {
        sh.stored.set(seq);
        sh.touch(seq);
        sh.payloadSize[seq] = static_cast<uint16_t>(payloadSize);
        sh.salt[seq] = salt;
        const StoredPacket* found = st.store.find(seq, st.now);
        check(found != nullptr);
        check(found->bytes().size() == packet->size());
        check(std::memcmp(found->bytes().data(), packet->data(), packet->size()) == 0);
    } else if (r == StoreResult::TooLarge) {
        check(packet->size() > st.store.config().slotSize);
    }
    check(st.store.slotCount() <= st.store.config().maxSlots);
    check(st.store.memoryBytes() <= PacketStore::maxMemoryBytes(st.store.config()));
    // The consumer forwards what the store accepted.
    if (r == StoreResult::Stored && (salt & 4) != 0) {
        record(st, sh, st.nextOut, seq, salt * 1000u);
        ++st.nextOut;
    }
}

// The bytes at `found` must be what the shadow says was stored under `seq`.
void checkStored(const Shadow& sh, const StoredPacket& found, uint16_t seq,
                 std::array<uint8_t, kBufferSize>& scratch) {
    check(found.sequenceNumber() == seq);
    check(sh.stored[seq]);
    auto packet = buildPacket(scratch.data(), seq, sh.payloadSize[seq], sh.salt[seq]);
    check(packet.has_value());
    check(found.bytes().size() == packet->size());
    check(std::memcmp(found.bytes().data(), packet->data(), packet->size()) == 0);
}

void opFind(State& st, const Shadow& sh, Reader& in) {
    const uint16_t seq = in.u16();
    const StoredPacket* found = st.store.find(seq, st.now);
    if (found != nullptr) {
        check(st.now < found->storedMs() ||
              st.now - found->storedMs() <= st.store.config().maxAgeMs);
        checkStored(sh, *found, seq, st.expected);
    }
}

void opNackResponse(State& st, const Shadow& sh, Reader& in) {
    // Asks for a window of the consumer's recent numbers.
    const uint16_t back = in.u16() % 2048;
    const uint8_t count = in.u8() % 40;
    const bool useRtx = (in.u8() & 1) != 0;
    const uint32_t interval = in.u8();
    std::array<uint16_t, 40> seqs{};
    for (uint8_t i = 0; i < count; ++i) {
        seqs[i] = static_cast<uint16_t>(st.nextOut - back + i);
    }
    std::array<rtcp::NackItem, 40> items{};
    const size_t itemCount = rtcp::compressNack(std::span(seqs.data(), count), items);
    const Rewrite rewrite{0x55667788, 100, &st.ids};
    const NackResponse r = respondToNack(
        std::span(items.data(), itemCount), st.map, st.now, interval,
        [&](const StoredPacket& stored, const SentPacket& sent) {
            check(sh.recorded[sent.outputSeq] && sh.inputOf[sent.outputSeq] == sent.inputSeq);
            checkStored(sh, stored, sent.inputSeq, st.expected);
            // What the consumer sent first: the same rewrite done by hand.
            auto first = rtp::RtpPacket::parse(st.expected.data(), stored.bytes().size(),
                                               st.expected.size());
            check(first.has_value());
            first->setSsrc(rewrite.ssrc);
            first->setSequenceNumber(sent.outputSeq);
            first->setPayloadType(rewrite.payloadType);
            first->setTimestamp(first->timestamp() + sent.timestampOffset);
            check(sent.marker == sh.markerOf[sent.outputSeq]);
            first->setMarker(sent.marker);
            const bool remapped = first->remapExtensionIds(st.ids);

            const uint16_t rtxSeq = st.rtx.nextSeq;
            auto packet = buildRetransmission(stored, sent, rewrite, useRtx ? &st.rtx : nullptr,
                                              st.out.data(), st.out.size());
            check(packet.has_value() == remapped);
            if (!packet) {
                return;
            }
            if (useRtx) {
                check(packet->ssrc() == st.rtx.ssrc && packet->sequenceNumber() == rtxSeq);
                check(st.rtx.nextSeq == static_cast<uint16_t>(rtxSeq + 1));
                check(packet->rtxDecode(rewrite.payloadType, rewrite.ssrc));
            }
            check(packet->size() == first->size());
            check(std::memcmp(packet->data(), first->data(), first->size()) == 0);
        });
    check(r.requested == count);
    check(r.requested == r.resent + r.unknown + r.notStored + r.throttled);
}

void opLookup(State& st, const Shadow& sh, Reader& in) {
    const uint16_t seq = static_cast<uint16_t>(st.nextOut - 1 - in.u16() % 1200);
    const std::optional<SentPacket> sent = st.map.lookup(seq);
    if (sent) {
        check(sent->outputSeq == seq && sh.recorded[seq] && sh.inputOf[seq] == sent->inputSeq);
    }
}

void opKeyFrame(State& st, Reader& in) {
    switch (in.u8() % 3) {
    case 0:
        if (st.keyFrames.request(st.now)) {
            keyFrameSent(st);
        }
        break;
    case 1:
        if (st.keyFrames.tick(st.now)) {
            keyFrameSent(st);
        }
        break;
    default:
        st.keyFrames.keyFrameReceived(st.now);
        break;
    }
    check(!(st.keyFrames.outstanding() && st.keyFrames.deferred()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Reader in(data, size);
    NackConfig nackConfig;
    nackConfig.maxPending = 1 + in.u8() % 64;
    nackConfig.maxGap = static_cast<uint16_t>(1 + in.u16() % 4000);
    nackConfig.maxRetries = in.u8() % 12;
    nackConfig.maxAgeMs = in.u16() % 3000;
    nackConfig.minIntervalMs = in.u8();
    PacketStoreConfig storeConfig;
    storeConfig.maxSlots = size_t{1} << (in.u8() % 9);
    storeConfig.initialSlots = size_t{1} << (in.u8() % 9);
    storeConfig.slotSize = 64 + in.u16() % 1500;
    storeConfig.maxAgeMs = in.u16() % 3000;
    KeyFrameRequestConfig kfConfig;
    kfConfig.retryTimeoutMs = in.u16() % 3000;
    kfConfig.maxRetries = in.u8() % 4;
    kfConfig.delayMs = in.u16() % 3000;

    auto st = std::make_unique<State>(nackConfig, storeConfig, kfConfig);
    static Shadow* const sh = new Shadow();
    sh->clear();
    const size_t nackMemory = st->nack.memoryBytes();

    while (!in.empty()) {
        switch (in.u8() % 12) {
        case 0:
        case 1:
            opReceive(*st, *sh, in);
            break;
        case 2:
            opCollect(*st, in);
            break;
        case 3:
            opStore(*st, *sh, in);
            break;
        case 4:
            opFind(*st, *sh, in);
            break;
        case 5:
            opNackResponse(*st, *sh, in);
            break;
        case 6:
            opLookup(*st, *sh, in);
            break;
        case 7:
            opKeyFrame(*st, in);
            break;
        case 8:
            opReceiveRun(*st, *sh, in);
            break;
        case 9:
            opAdmin(*st, in);
            break;
        case 10:
            opRecordAnywhere(*st, *sh, in);
            break;
        default:
            // Time only moves forward, by up to about 4 s at once.
            st->now += in.u8() * static_cast<uint64_t>(1 + in.u8() % 16);
            break;
        }
        check(st->nack.memoryBytes() == nackMemory);
    }
    return 0;
}
