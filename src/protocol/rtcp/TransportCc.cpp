#include "protocol/rtcp/TransportCc.hpp"

#include "protocol/rtp/SeqNum.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sfu::rtcp {

namespace {

constexpr size_t kTccHeaderSize = 8; // base seq, status count, reference time, fb count
constexpr uint8_t kReservedSymbol = 3;

bool isRunLength(uint16_t chunk) {
    return (chunk & 0x8000) == 0;
}

// Statuses a chunk describes (a run may be longer than the count left).
size_t chunkCapacity(uint16_t chunk) {
    if (isRunLength(chunk)) {
        return chunk & 0x1FFF;
    }
    return (chunk & 0x4000) != 0 ? 7 : 14;
}

uint8_t chunkSymbol(uint16_t chunk, size_t i) {
    if (isRunLength(chunk)) {
        return static_cast<uint8_t>((chunk >> 13) & 3);
    }
    if ((chunk & 0x4000) != 0) {
        return static_cast<uint8_t>((chunk >> (12 - 2 * i)) & 3);
    }
    return static_cast<uint8_t>((chunk >> (13 - i)) & 1);
}

uint16_t runLengthChunk(uint8_t sym, size_t run) {
    return static_cast<uint16_t>((uint16_t{sym} << 13) | run);
}

uint16_t oneBitChunk(const uint8_t* syms, size_t n) {
    uint16_t c = 0x8000;
    for (size_t i = 0; i < n; ++i) {
        c = static_cast<uint16_t>(c | (uint16_t{syms[i]} << (13 - i)));
    }
    return c;
}

uint16_t twoBitChunk(const uint8_t* syms, size_t n) {
    uint16_t c = 0xC000;
    for (size_t i = 0; i < n; ++i) {
        c = static_cast<uint16_t>(c | (uint16_t{syms[i]} << (12 - 2 * i)));
    }
    return c;
}

int64_t floorDiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0)) {
        --q;
    }
    return q;
}

} // namespace

// ---- Parsing -----------------------------------------------------------------

std::optional<TransportCcView> TransportCcView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::RTPFB) || pkt.count() != fmtOf(RtpfbFmt::TransportCc)) {
        return std::nullopt;
    }
    const auto fb = FeedbackView::parse(pkt);
    if (!fb || fb->fci().size() < kTccHeaderSize) {
        return std::nullopt;
    }
    const uint8_t* p = fb->fci().data() + kTccHeaderSize;
    size_t left = fb->fci().size() - kTccHeaderSize;
    size_t statuses = bytes::get16(fb->fci().data() + 2);
    size_t chunks = 0;
    size_t deltaBytes = 0;
    size_t received = 0;
    while (statuses > 0) {
        if (left < 2) {
            return std::nullopt;
        }
        const uint16_t chunk = bytes::get16(p);
        p += 2;
        left -= 2;
        ++chunks;
        const size_t n = std::min(chunkCapacity(chunk), statuses);
        if (isRunLength(chunk)) {
            const uint8_t sym = chunkSymbol(chunk, 0);
            if (n > 0 && sym == kReservedSymbol) {
                return std::nullopt;
            }
            deltaBytes += n * sym;
            received += sym != 0 ? n : 0;
        } else {
            for (size_t i = 0; i < n; ++i) {
                const uint8_t sym = chunkSymbol(chunk, i);
                if (sym == kReservedSymbol) {
                    return std::nullopt;
                }
                deltaBytes += sym;
                received += sym != 0 ? 1 : 0;
            }
        }
        statuses -= n;
    }
    if (deltaBytes > left) {
        return std::nullopt;
    }
    return TransportCcView(*fb, chunks, received);
}

int32_t TransportCcView::referenceTime() const {
    const uint32_t raw = bytes::get24(fb_.fci().data() + 4);
    return static_cast<int32_t>(raw << 8) >> 8;
}

TransportCcView::Iterator::Iterator(const TransportCcView& v) : left_(v.statusCount()) {
    if (left_ == 0) {
        return;
    }
    chunk_ = v.fb_.fci().data() + kTccHeaderSize;
    delta_ = chunk_ + 2 * v.chunkCount_;
    chunkValue_ = bytes::get16(chunk_);
    // Empty runs describe nothing; parse() made sure real chunks follow.
    while (chunkCapacity(chunkValue_) == 0) {
        chunk_ += 2;
        chunkValue_ = bytes::get16(chunk_);
    }
    timeUs_ = v.referenceTimeUs();
    current_.seq = v.baseSeq();
    decode();
}

void TransportCcView::Iterator::decode() {
    const uint8_t sym = chunkSymbol(chunkValue_, inChunk_);
    current_.status = static_cast<TccStatus>(sym);
    current_.delta = 0;
    current_.arrivalUs = 0;
    if (sym == 1) {
        current_.delta = delta_[0];
        delta_ += 1;
    } else if (sym == 2) {
        current_.delta = static_cast<int16_t>(bytes::get16(delta_));
        delta_ += 2;
    }
    if (sym != 0) {
        timeUs_ += current_.delta * kTccDeltaUs;
        current_.arrivalUs = timeUs_;
    }
}

TransportCcView::Iterator& TransportCcView::Iterator::operator++() {
    if (--left_ == 0) {
        return *this;
    }
    ++current_.seq;
    ++inChunk_;
    while (inChunk_ >= chunkCapacity(chunkValue_)) {
        chunk_ += 2;
        chunkValue_ = bytes::get16(chunk_);
        inChunk_ = 0;
    }
    decode();
    return *this;
}

// ---- Building -------------------------------------------------------------------

TransportCcBuilder::TransportCcBuilder(uint32_t senderSsrc, uint32_t mediaSsrc, uint16_t baseSeq,
                                       int64_t referenceTimeUs, uint8_t fbCount, size_t maxSize)
    : senderSsrc_(senderSsrc), mediaSsrc_(mediaSsrc), baseSeq_(baseSeq), fbCount_(fbCount),
      maxSize_(std::min(maxSize, kMaxSize)) {
    const int64_t ticks = floorDiv(referenceTimeUs, kTccReferenceUs);
    referenceTime_ = static_cast<uint32_t>(ticks) & 0xFFFFFF;
    originUs_ = ticks * kTccReferenceUs;
    st_.lastUs = originUs_;
}

TransportCcBuilder::AddResult TransportCcBuilder::addReceived(uint16_t seq, int64_t arrivalUs) {
    return add(seq, true, arrivalUs);
}

TransportCcBuilder::AddResult TransportCcBuilder::addLost(uint16_t seq) {
    return add(seq, false, 0);
}

TransportCcBuilder::AddResult TransportCcBuilder::add(uint16_t seq, bool received,
                                                      int64_t arrivalUs) {
    // Each step must move forward in wrap-around terms, so a stale number is
    // refused rather than read as a jump of almost 65536.
    size_t pos;
    if (st_.statusCount == 0) {
        const int32_t d = rtp::seqDiff(seq, baseSeq_);
        if (d < 0) {
            return AddResult::OutOfOrder;
        }
        pos = static_cast<size_t>(d);
    } else {
        const auto last = static_cast<uint16_t>(baseSeq_ + st_.statusCount - 1);
        const int32_t d = rtp::seqDiff(seq, last);
        if (d <= 0) {
            return AddResult::OutOfOrder;
        }
        pos = st_.statusCount - 1 + static_cast<size_t>(d);
    }
    if (pos >= kMaxStatuses) {
        return AddResult::Full;
    }
    uint8_t sym = 0;
    int64_t ticks = 0;
    if (received) {
        const int64_t d = arrivalUs - st_.lastUs;
        constexpr int64_t kLimit = int64_t{1} << 40; // keeps the rounding below overflow-free
        if (d > kLimit || d < -kLimit) {
            return AddResult::DeltaTooLarge;
        }
        // Round to the nearest tick; the running time advances by whole ticks
        // so rounding errors never accumulate.
        ticks =
            d >= 0 ? (d + kTccDeltaUs / 2) / kTccDeltaUs : -((-d + kTccDeltaUs / 2) / kTccDeltaUs);
        if (ticks < std::numeric_limits<int16_t>::min() ||
            ticks > std::numeric_limits<int16_t>::max()) {
            return AddResult::DeltaTooLarge;
        }
        sym = (ticks >= 0 && ticks <= 0xFF) ? 1 : 2;
    }
    const State saved = st_;
    const size_t gap = pos - st_.statusCount;
    if (!pushLost(gap) || !pushSymbol(sym) || st_.deltaSize + sym > kMaxDeltaBytes) {
        st_ = saved;
        return AddResult::Full;
    }
    if (sym == 1) {
        deltas_[st_.deltaSize] = static_cast<uint8_t>(ticks);
    } else if (sym == 2) {
        bytes::set16(deltas_.data() + st_.deltaSize, static_cast<uint16_t>(ticks));
    }
    st_.deltaSize += sym;
    if (sizeOf(st_) > maxSize_) {
        st_ = saved;
        return AddResult::Full;
    }
    if (received) {
        st_.lastUs += ticks * kTccDeltaUs;
        ++st_.receivedCount;
    }
    return AddResult::Ok;
}

bool TransportCcBuilder::canAdd(uint8_t sym) const {
    // Up to 7 statuses of any kind fit a two-bit vector, up to 14 without a
    // large delta a one-bit vector, and any number of equal ones a run.
    if (st_.pendCount < 7) {
        return true;
    }
    if (st_.pendCount < 14 && !st_.pendHasLarge && sym != 2) {
        return true;
    }
    return st_.pendAllSame && sym == st_.pend[0] && st_.pendCount < kMaxRun;
}

bool TransportCcBuilder::pushSymbol(uint8_t sym) {
    if (!canAdd(sym) && !emitChunk()) {
        return false;
    }
    if (st_.pendCount == 0) {
        st_.pendAllSame = true;
        st_.pendHasLarge = false;
    }
    if (st_.pendCount < st_.pend.size()) {
        st_.pend[st_.pendCount] = sym;
    }
    st_.pendAllSame = st_.pendAllSame && sym == st_.pend[0];
    st_.pendHasLarge = st_.pendHasLarge || sym == 2;
    ++st_.pendCount;
    ++st_.statusCount;
    return true;
}

bool TransportCcBuilder::pushLost(size_t n) {
    while (n > 0) {
        // A long run of losses grows in one step instead of symbol by symbol.
        if (st_.pendCount >= st_.pend.size() && st_.pendAllSame && st_.pend[0] == 0 &&
            st_.pendCount < kMaxRun) {
            const size_t take = std::min(n, kMaxRun - st_.pendCount);
            st_.pendCount += take;
            st_.statusCount += take;
            n -= take;
            continue;
        }
        if (!pushSymbol(0)) {
            return false;
        }
        --n;
    }
    return true;
}

bool TransportCcBuilder::emitChunk() {
    if (st_.chunkCount == kMaxChunks) {
        return false;
    }
    if (st_.pendAllSame) {
        chunks_[st_.chunkCount++] = runLengthChunk(st_.pend[0], st_.pendCount);
        st_.pendCount = 0;
        return true;
    }
    if (st_.pendCount == 14) {
        chunks_[st_.chunkCount++] = oneBitChunk(st_.pend.data(), 14);
        st_.pendCount = 0;
        return true;
    }
    // 7 to 13 mixed statuses: the first 7 go out as a two-bit vector and the
    // rest stay pending.
    chunks_[st_.chunkCount++] = twoBitChunk(st_.pend.data(), 7);
    const size_t rest = st_.pendCount - 7;
    st_.pendAllSame = true;
    st_.pendHasLarge = false;
    for (size_t i = 0; i < rest; ++i) {
        st_.pend[i] = st_.pend[7 + i];
        st_.pendAllSame = st_.pendAllSame && st_.pend[i] == st_.pend[0];
        st_.pendHasLarge = st_.pendHasLarge || st_.pend[i] == 2;
    }
    st_.pendCount = rest;
    return true;
}

uint16_t TransportCcBuilder::lastChunk() const {
    if (st_.pendAllSame) {
        return runLengthChunk(st_.pend[0], st_.pendCount);
    }
    if (st_.pendCount <= 7) {
        return twoBitChunk(st_.pend.data(), st_.pendCount);
    }
    return oneBitChunk(st_.pend.data(), st_.pendCount);
}

size_t TransportCcBuilder::sizeOf(const State& s) const {
    const size_t body = kFixedSize + 2 * (s.chunkCount + (s.pendCount > 0 ? 1 : 0)) + s.deltaSize;
    return body + bytes::padTo4(body);
}

size_t TransportCcBuilder::size() const {
    return sizeOf(st_);
}

size_t TransportCcBuilder::serialize(uint8_t* out, size_t cap) const {
    const size_t total = size();
    if (out == nullptr || total > cap) {
        return 0;
    }
    const size_t body =
        kFixedSize + 2 * (st_.chunkCount + (st_.pendCount > 0 ? 1 : 0)) + st_.deltaSize;
    const size_t pad = total - body;
    detail::writeFeedbackHeader(out, PacketType::RTPFB, fmtOf(RtpfbFmt::TransportCc), senderSsrc_,
                                mediaSsrc_, total, paddingBit_ && pad > 0);
    uint8_t* p = out + kFeedbackHeaderSize;
    bytes::set16(p, baseSeq_);
    bytes::set16(p + 2, static_cast<uint16_t>(st_.statusCount));
    bytes::set24(p + 4, referenceTime_);
    p[7] = fbCount_;
    p += 8;
    for (size_t i = 0; i < st_.chunkCount; ++i) {
        bytes::set16(p, chunks_[i]);
        p += 2;
    }
    if (st_.pendCount > 0) {
        bytes::set16(p, lastChunk());
        p += 2;
    }
    if (st_.deltaSize > 0) {
        std::memcpy(p, deltas_.data(), st_.deltaSize);
        p += st_.deltaSize;
    }
    if (pad > 0) {
        std::memset(p, 0, pad);
        if (paddingBit_) {
            p[pad - 1] = static_cast<uint8_t>(pad);
        }
    }
    return total;
}

// ---- Value form --------------------------------------------------------------------

TransportCc TransportCc::from(const TransportCcView& v) {
    TransportCc t;
    t.senderSsrc = v.senderSsrc();
    t.mediaSsrc = v.mediaSsrc();
    t.baseSeq = v.baseSeq();
    t.referenceTime = v.referenceTime();
    t.fbCount = v.fbCount();
    t.paddingBit = v.padded();
    t.packets.reserve(v.statusCount());
    for (const TccPacket& p : v) {
        t.packets.push_back(p);
    }
    return t;
}

namespace {

// Fills a builder from the value form; false when it cannot be represented.
bool fill(const TransportCc& t, TransportCcBuilder& b) {
    b.setPaddingBit(t.paddingBit);
    int32_t prev = -1;  // position of the previous entry
    int32_t added = -1; // position of the last status given to the builder
    for (size_t i = 0; i < t.packets.size(); ++i) {
        const TccPacket& p = t.packets[i];
        const int32_t pos = static_cast<uint16_t>(p.seq - t.baseSeq);
        if (pos <= prev) {
            return false;
        }
        prev = pos;
        const bool last = i + 1 == t.packets.size();
        if (!p.received() && !last) {
            continue; // implied by the gap before the next status, and cheaper
        }
        // The builder takes steps of less than half the sequence space.
        while (pos - added > 0x7FFF) {
            added += 0x7FFF;
            if (b.addLost(static_cast<uint16_t>(t.baseSeq + added)) !=
                TransportCcBuilder::AddResult::Ok) {
                return false;
            }
        }
        added = pos;
        if (p.received()) {
            if (b.addReceived(p.seq, p.arrivalUs) != TransportCcBuilder::AddResult::Ok) {
                return false;
            }
        } else if (b.addLost(p.seq) != TransportCcBuilder::AddResult::Ok) {
            return false;
        }
    }
    return true;
}

} // namespace

size_t TransportCc::size() const {
    TransportCcBuilder b(senderSsrc, mediaSsrc, baseSeq, int64_t{referenceTime} * kTccReferenceUs,
                         fbCount, TransportCcBuilder::kMaxSize);
    return fill(*this, b) ? b.size() : 0;
}

size_t TransportCc::serialize(uint8_t* out, size_t cap) const {
    TransportCcBuilder b(senderSsrc, mediaSsrc, baseSeq, int64_t{referenceTime} * kTccReferenceUs,
                         fbCount, TransportCcBuilder::kMaxSize);
    return fill(*this, b) ? b.serialize(out, cap) : 0;
}

} // namespace sfu::rtcp
