#include "protocol/rtp/RtpPacket.hpp"

#include <cstring>

namespace sfu::rtp {

namespace {

constexpr uint8_t kVersionShift = 6;
constexpr uint8_t kPaddingBit = 0x20;
constexpr uint8_t kExtensionBit = 0x10;
constexpr uint8_t kStopId = 15; // one-byte form: stop parsing the block here

ExtensionForm formOfProfile(uint16_t profile) {
    if (profile == kOneByteProfile) {
        return ExtensionForm::OneByte;
    }
    if ((profile & kTwoByteProfileMask) == kTwoByteProfile) {
        return ExtensionForm::TwoByte;
    }
    return ExtensionForm::Other;
}

size_t headerSizeOf(ExtensionForm form) {
    return form == ExtensionForm::TwoByte ? 2 : 1;
}

void writeElementHeader(uint8_t* at, ExtensionForm form, uint8_t id, size_t length) {
    if (form == ExtensionForm::TwoByte) {
        at[0] = id;
        at[1] = static_cast<uint8_t>(length);
    } else {
        at[0] = static_cast<uint8_t>((id << 4) | ((length - 1) & 0x0F));
    }
}

bool fitsOneByte(uint8_t id, size_t length) {
    return id <= kMaxOneByteId && length >= 1 && length <= kMaxOneByteValueSize;
}

// Walks the elements of an RFC 8285 block as libwebrtc and mediasoup do: zero
// bytes are padding, id 15 ends a one-byte block, and an element running past
// the block ends the walk (libwebrtc and mediasoup keep what came before).
// `visit(id, headerOffset, valueLength)` sees each element in wire order.
template <typename Visit>
void walkElements(const uint8_t* data, size_t begin, size_t end, ExtensionForm form,
                  Visit&& visit) {
    size_t pos = begin;
    if (form == ExtensionForm::OneByte) {
        while (pos < end) {
            const uint8_t byte = data[pos];
            if (byte == 0) {
                ++pos;
                continue;
            }
            const uint8_t id = byte >> 4;
            const size_t length = size_t{byte & 0x0Fu} + 1;
            if (id == kStopId || id == 0 || pos + 1 + length > end) {
                // An id of 0 with a length is not padding and not an element:
                // treat it as the end, like a stop marker.
                return;
            }
            visit(id, pos, length);
            pos += 1 + length;
        }
    } else if (form == ExtensionForm::TwoByte) {
        while (pos < end) {
            const uint8_t id = data[pos];
            if (id == 0) {
                ++pos;
                continue;
            }
            if (pos + 2 > end) {
                return;
            }
            const size_t length = data[pos + 1];
            if (pos + 2 + length > end) {
                return;
            }
            visit(id, pos, length);
            pos += 2 + length;
        }
    }
}

} // namespace

std::optional<RtpPacket> RtpPacket::parse(uint8_t* data, size_t size, size_t capacity) {
    if (data == nullptr || size < kFixedHeaderSize || size > kMaxPacketSize || capacity < size) {
        return std::nullopt;
    }
    if ((data[0] >> kVersionShift) != 2) {
        return std::nullopt;
    }
    size_t header = kFixedHeaderSize + 4 * size_t{data[0] & 0x0Fu};
    if (header > size) {
        return std::nullopt;
    }

    std::optional<RtpPacket> result{std::in_place, ConstructionKey{}};
    RtpPacket& packet = *result;
    packet.data_ = data;
    packet.size_ = size;
    packet.capacity_ = capacity;

    if ((data[0] & kExtensionBit) != 0) {
        if (header + 4 > size) {
            return std::nullopt;
        }
        const size_t blockSize = 4 * size_t{bytes::get16(data + header + 2)};
        if (header + 4 + blockSize > size) {
            return std::nullopt;
        }
        packet.form_ = formOfProfile(bytes::get16(data + header));
        packet.extBlockOffset_ = static_cast<uint16_t>(header + 4);
        packet.extBlockSize_ = static_cast<uint16_t>(blockSize);
        header += 4 + blockSize;
    } else {
        packet.extBlockOffset_ = static_cast<uint16_t>(header);
    }
    packet.headerSize_ = static_cast<uint16_t>(header);

    if ((data[0] & kPaddingBit) != 0) {
        // The count sits in the last byte and includes itself, so it can be
        // neither zero nor reach back into the header.
        const size_t padding = data[size - 1];
        if (padding == 0 || padding > size - header) {
            return std::nullopt;
        }
        packet.paddingLength_ = static_cast<uint8_t>(padding);
    }

    packet.slotById_.fill(0);
    packet.entryCount_ = 0;
    packet.indexExtensions();
    return result;
}

std::optional<RtpPacket> RtpPacket::build(uint8_t* buffer, size_t capacity,
                                          const RtpPacketSpec& spec) {
    if (buffer == nullptr || spec.csrcs.size() > kMaxCsrcs) {
        return std::nullopt;
    }
    const size_t header = kFixedHeaderSize + 4 * spec.csrcs.size();
    const size_t size = header + spec.payload.size() + spec.paddingLength;
    if (size > capacity || size > kMaxPacketSize) {
        return std::nullopt;
    }

    buffer[0] = static_cast<uint8_t>(
        (2u << kVersionShift) | (spec.paddingLength > 0 ? kPaddingBit : 0u) | spec.csrcs.size());
    buffer[1] = static_cast<uint8_t>((spec.marker ? 0x80u : 0u) | (spec.payloadType & 0x7Fu));
    bytes::set16(buffer + 2, spec.sequenceNumber);
    bytes::set32(buffer + 4, spec.timestamp);
    bytes::set32(buffer + 8, spec.ssrc);
    for (size_t i = 0; i < spec.csrcs.size(); ++i) {
        bytes::set32(buffer + kFixedHeaderSize + 4 * i, spec.csrcs[i]);
    }
    if (!spec.payload.empty()) {
        std::memmove(buffer + header, spec.payload.data(), spec.payload.size());
    }
    if (spec.paddingLength > 0) {
        std::memset(buffer + header + spec.payload.size(), 0, spec.paddingLength - 1u);
        buffer[size - 1] = spec.paddingLength;
    }

    auto packet = parse(buffer, size, capacity);
    if (!packet) {
        return std::nullopt;
    }
    if (spec.twoByteExtensions && !spec.extensions.empty() &&
        !packet->setExtensionForm(ExtensionForm::TwoByte)) {
        return std::nullopt;
    }
    for (const ExtensionElement& element : spec.extensions) {
        if (!packet->addExtension(element.id, element.value)) {
            return std::nullopt;
        }
    }
    return packet;
}

std::optional<RtpPacket> RtpPacket::copyTo(uint8_t* buffer, size_t capacity) const {
    if (buffer == nullptr || capacity < size_) {
        return std::nullopt;
    }
    std::memmove(buffer, data_, size_);
    RtpPacket copy = *this;
    copy.data_ = buffer;
    copy.capacity_ = capacity;
    return copy;
}

uint32_t RtpPacket::csrc(size_t index) const {
    if (index >= csrcCount()) {
        return 0;
    }
    return bytes::get32(data_ + kFixedHeaderSize + 4 * index);
}

bool RtpPacket::setCsrc(size_t index, uint32_t csrc) {
    if (index >= csrcCount()) {
        return false;
    }
    bytes::set32(data_ + kFixedHeaderSize + 4 * index, csrc);
    return true;
}

void RtpPacket::moveTail(size_t from, size_t to) {
    std::memmove(data_ + to, data_ + from, size_ - from);
    size_ = size_ - from + to;
}

bool RtpPacket::setPaddingLength(uint8_t length) {
    const size_t payloadEnd = headerSize_ + payloadLength();
    if (payloadEnd + length > maxSize()) {
        return false;
    }
    if (length > 0) {
        std::memset(data_ + payloadEnd, 0, length - 1u);
        data_[payloadEnd + length - 1] = length;
        data_[0] |= kPaddingBit;
    } else {
        data_[0] &= static_cast<uint8_t>(~kPaddingBit);
    }
    size_ = payloadEnd + length;
    paddingLength_ = length;
    return true;
}

bool RtpPacket::shiftPayload(size_t offset, std::ptrdiff_t delta) {
    const size_t length = payloadLength();
    if (offset > length) {
        return false;
    }
    const size_t at = headerSize_ + offset;
    if (delta >= 0) {
        const auto grow = static_cast<size_t>(delta);
        if (size_ + grow > maxSize()) {
            return false;
        }
        moveTail(at, at + grow);
        std::memset(data_ + at, 0, grow);
    } else {
        const auto shrink = static_cast<size_t>(-delta);
        if (shrink > length - offset) {
            return false;
        }
        moveTail(at + shrink, at);
    }
    return true;
}

bool RtpPacket::setPayloadLength(size_t length) {
    const size_t current = payloadLength();
    if (length >= current) {
        return shiftPayload(current, static_cast<std::ptrdiff_t>(length - current));
    }
    return shiftPayload(length, -static_cast<std::ptrdiff_t>(current - length));
}

uint16_t RtpPacket::extensionProfile() const {
    if (form_ == ExtensionForm::None) {
        return 0;
    }
    return bytes::get16(data_ + extBlockOffset_ - 4);
}

ExtensionElement RtpPacket::extensionAt(size_t index) const {
    if (index >= entryCount_) {
        return {};
    }
    const Entry& entry = entries_[index];
    return {entry.id, {data_ + entry.offset, entry.length}};
}

std::span<const uint8_t> RtpPacket::extension(uint8_t id) const {
    const uint8_t slot = slotById_[id];
    if (slot == 0) {
        return {};
    }
    const Entry& entry = entries_[slot - 1];
    return {data_ + entry.offset, entry.length};
}

std::span<uint8_t> RtpPacket::extension(uint8_t id) {
    const uint8_t slot = slotById_[id];
    if (slot == 0) {
        return {};
    }
    const Entry& entry = entries_[slot - 1];
    return {data_ + entry.offset, entry.length};
}

void RtpPacket::clearIndex() {
    // Cheaper than wiping all 256 slots: only the entries' slots are set.
    for (size_t i = 0; i < entryCount_; ++i) {
        slotById_[entries_[i].id] = 0;
    }
    entryCount_ = 0;
}

void RtpPacket::indexElement(uint8_t id, size_t valueOffset, size_t length) {
    // The first occurrence of a repeated id wins.
    if (slotById_[id] != 0 || entryCount_ == kMaxIndexedExtensions) {
        return;
    }
    entries_[entryCount_] = {static_cast<uint16_t>(valueOffset), static_cast<uint8_t>(length), id};
    ++entryCount_;
    slotById_[id] = entryCount_;
}

void RtpPacket::indexExtensions() {
    clearIndex();
    if (form_ != ExtensionForm::OneByte && form_ != ExtensionForm::TwoByte) {
        return;
    }
    const size_t valueSkip = elementHeaderSize();
    walkElements(
        data_, extBlockOffset_, size_t{extBlockOffset_} + extBlockSize_, form_,
        [&](uint8_t id, size_t at, size_t length) { indexElement(id, at + valueSkip, length); });
}

bool RtpPacket::addExtension(uint8_t id, std::span<const uint8_t> value) {
    if (id == 0 || value.size() > kMaxTwoByteValueSize || form_ == ExtensionForm::Other) {
        return false;
    }
    if (updateExtension(id, value)) {
        return true;
    }
    const bool needsTwoByte = !fitsOneByte(id, value.size());
    const ExtensionForm target = form_ == ExtensionForm::TwoByte || needsTwoByte
                                     ? ExtensionForm::TwoByte
                                     : ExtensionForm::OneByte;
    return rebuildExtensions(target, id, id, value);
}

bool RtpPacket::updateExtension(uint8_t id, std::span<const uint8_t> value) {
    const uint8_t slot = slotById_[id];
    if (slot == 0 || entries_[slot - 1].length != value.size()) {
        return false;
    }
    if (!value.empty()) {
        std::memmove(data_ + entries_[slot - 1].offset, value.data(), value.size());
    }
    return true;
}

bool RtpPacket::removeExtension(uint8_t id) {
    if (slotById_[id] == 0) {
        return false;
    }
    const size_t headerSize = elementHeaderSize();
    // A repeated id would surface once the first copy is gone: clear them all.
    while (slotById_[id] != 0) {
        const Entry& entry = entries_[slotById_[id] - 1];
        std::memset(data_ + entry.offset - headerSize, 0, headerSize + entry.length);
        indexExtensions();
    }
    return true;
}

void RtpPacket::resizeExtensionBlock(size_t newTotal) {
    const size_t at = extHeaderOffset();
    moveTail(at + extTotalSize(), at + newTotal);
    headerSize_ = static_cast<uint16_t>(at + newTotal);
    if (newTotal == 0) {
        data_[0] &= static_cast<uint8_t>(~kExtensionBit);
        form_ = ExtensionForm::None;
        extBlockOffset_ = static_cast<uint16_t>(at);
        extBlockSize_ = 0;
    } else {
        data_[0] |= kExtensionBit;
        extBlockOffset_ = static_cast<uint16_t>(at + 4);
        extBlockSize_ = static_cast<uint16_t>(newTotal - 4);
        bytes::set16(data_ + at + 2, static_cast<uint16_t>(extBlockSize_ / 4));
    }
}

void RtpPacket::removeAllExtensions() {
    if (form_ == ExtensionForm::None) {
        return;
    }
    resizeExtensionBlock(0);
    indexExtensions();
}

bool RtpPacket::compactExtensions() {
    if (form_ == ExtensionForm::None || form_ == ExtensionForm::Other) {
        return true;
    }
    if (entryCount_ == 0) {
        removeAllExtensions();
        return true;
    }
    return rebuildExtensions(form_, 0, 0, {});
}

bool RtpPacket::setExtensionForm(ExtensionForm form) {
    if (form == form_) {
        return true;
    }
    if (form == ExtensionForm::None) {
        removeAllExtensions();
        return true;
    }
    if (form == ExtensionForm::Other || form_ == ExtensionForm::Other) {
        return false;
    }
    return rebuildExtensions(form, 0, 0, {});
}

bool RtpPacket::rebuildExtensions(ExtensionForm target, uint8_t dropId, uint8_t addId,
                                  std::span<const uint8_t> addValue) {
    const size_t currentHeader = elementHeaderSize();
    const size_t targetHeader = headerSizeOf(target);

    // Bytes the kept elements take in the target form.
    size_t keptSize = 0;
    for (size_t i = 0; i < entryCount_; ++i) {
        const Entry& entry = entries_[i];
        if (entry.id == dropId) {
            continue;
        }
        if (target == ExtensionForm::OneByte && !fitsOneByte(entry.id, entry.length)) {
            return false;
        }
        keptSize += targetHeader + entry.length;
    }
    const size_t used = keptSize + (addId != 0 ? targetHeader + addValue.size() : 0);
    const size_t newBlockSize = used + bytes::padTo4(used);
    const size_t newTotal = 4 + newBlockSize;
    if (size_ - extTotalSize() + newTotal > maxSize()) {
        return false;
    }

    // The value may point into this very packet, which is about to move.
    std::array<uint8_t, kMaxTwoByteValueSize> saved;
    if (!addValue.empty()) {
        std::memcpy(saved.data(), addValue.data(), addValue.size());
    }

    const size_t blockStart = extHeaderOffset() + 4;
    const ExtensionForm oldForm = form_;
    const uint16_t oldProfile = extensionProfile();

    // Pass 1, forward: pack the kept elements at the block start. Every
    // element lands at or before its old place, so a forward memmove is
    // safe. A two-to-one-byte conversion happens here too since headers only
    // shrink; a one-to-two-byte one waits for pass 2.
    const bool expandLater = targetHeader > currentHeader;
    const ExtensionForm packForm = expandLater ? oldForm : target;
    const size_t packHeader = expandLater ? currentHeader : targetHeader;
    size_t write = blockStart;
    for (size_t i = 0; i < entryCount_; ++i) {
        const Entry& entry = entries_[i];
        if (entry.id == dropId) {
            continue;
        }
        std::memmove(data_ + write + packHeader, data_ + entry.offset, entry.length);
        writeElementHeader(data_ + write, packForm, entry.id, entry.length);
        write += packHeader + entry.length;
    }

    // The packed elements fit the new block whichever way it resizes.
    resizeExtensionBlock(newTotal);

    // Pass 2, backward: widen one-byte headers to two bytes. Element k moves
    // k + 1 bytes later, so going from the last element keeps every source
    // intact until it has been moved.
    if (expandLater) {
        size_t end = blockStart + keptSize;
        size_t source = write;
        for (size_t i = entryCount_; i-- > 0;) {
            const Entry& entry = entries_[i];
            if (entry.id == dropId) {
                continue;
            }
            source -= entry.length;
            end -= entry.length;
            std::memmove(data_ + end, data_ + source, entry.length);
            source -= currentHeader;
            end -= targetHeader;
            writeElementHeader(data_ + end, target, entry.id, entry.length);
        }
        write = blockStart + keptSize;
    }

    if (addId != 0) {
        writeElementHeader(data_ + write, target, addId, addValue.size());
        if (!addValue.empty()) {
            std::memcpy(data_ + write + targetHeader, saved.data(), addValue.size());
        }
        write += targetHeader + addValue.size();
    }
    std::memset(data_ + write, 0, blockStart + newBlockSize - write);

    const uint16_t profile = target == ExtensionForm::OneByte    ? kOneByteProfile
                             : oldForm == ExtensionForm::TwoByte ? oldProfile
                                                                 : kTwoByteProfile;
    bytes::set16(data_ + blockStart - 4, profile);
    form_ = target;
    indexExtensions();
    return true;
}

bool RtpPacket::remapExtensionIds(const ExtensionIdMap& map) {
    if (form_ != ExtensionForm::OneByte && form_ != ExtensionForm::TwoByte) {
        return true;
    }
    if (form_ == ExtensionForm::OneByte) {
        bool needsTwoByte = false;
        for (size_t i = 0; i < entryCount_; ++i) {
            needsTwoByte |= map.get(entries_[i].id) > kMaxOneByteId;
        }
        if (needsTwoByte && !rebuildExtensions(ExtensionForm::TwoByte, 0, 0, {})) {
            return false;
        }
    }

    // Walk the raw block rather than the index so that repeated or
    // unindexed elements cannot keep a stale id that now means something
    // else; the index is rebuilt on the way.
    std::array<uint64_t, 4> taken{};
    const ExtensionForm form = form_;
    const size_t headerSize = elementHeaderSize();
    clearIndex();
    walkElements(data_, extBlockOffset_, size_t{extBlockOffset_} + extBlockSize_, form,
                 [&](uint8_t id, size_t at, size_t length) {
                     const uint8_t to = map.get(id);
                     const uint64_t bit = uint64_t{1} << (to % 64);
                     const bool keep = to != 0 && (taken[to / 64] & bit) == 0 &&
                                       (form == ExtensionForm::TwoByte || to <= kMaxOneByteId);
                     if (!keep) {
                         std::memset(data_ + at, 0, headerSize + length);
                         return;
                     }
                     taken[to / 64] |= bit;
                     writeElementHeader(data_ + at, form, to, length);
                     indexElement(to, at + headerSize, length);
                 });
    return true;
}

bool RtpPacket::rtxEncode(uint8_t rtxPayloadType, uint32_t rtxSsrc, uint16_t rtxSequenceNumber) {
    if (size_ + 2 > maxSize()) {
        return false;
    }
    // Padding moves along with the payload so that decoding restores the
    // exact original bytes.
    moveTail(headerSize_, headerSize_ + 2);
    bytes::set16(data_ + headerSize_, sequenceNumber());
    setPayloadType(rtxPayloadType);
    setSsrc(rtxSsrc);
    setSequenceNumber(rtxSequenceNumber);
    return true;
}

bool RtpPacket::rtxDecode(uint8_t payloadType, uint32_t ssrc) {
    if (payloadLength() < 2) {
        return false;
    }
    const uint16_t originalSequenceNumber = bytes::get16(data_ + headerSize_);
    moveTail(headerSize_ + 2, headerSize_);
    setPayloadType(payloadType);
    setSsrc(ssrc);
    setSequenceNumber(originalSequenceNumber);
    return true;
}

} // namespace sfu::rtp
