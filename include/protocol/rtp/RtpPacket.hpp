// RTP packet view (RFC 3550) with RFC 8285 header extensions and RFC 4588 RTX.
//
// A packet never owns its bytes: it points into a caller's buffer whose first
// size() bytes hold the packet and whose capacity() bounds how far it may grow,
// so header extensions can be added and RTX can insert its two bytes without
// copying the packet anywhere else. Nothing here allocates or throws: every
// mutator returns false and leaves the packet untouched when the buffer is too
// small or the request cannot be expressed on the wire.
#pragma once

#include "utils/Bytes.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sfu::rtp {

inline constexpr size_t kFixedHeaderSize = 12;
// UDP and RFC 4571 framing both carry at most 16 bits of length, so larger
// packets cannot exist on any transport we serve; offsets fit in 16 bits.
inline constexpr size_t kMaxPacketSize = 65535;
inline constexpr size_t kMaxCsrcs = 15;

inline constexpr uint16_t kOneByteProfile = 0xBEDE;
// The low four bits of the two-byte profile are application bits.
inline constexpr uint16_t kTwoByteProfile = 0x1000;
inline constexpr uint16_t kTwoByteProfileMask = 0xFFF0;
inline constexpr uint8_t kMaxOneByteId = 14;
inline constexpr size_t kMaxOneByteValueSize = 16;
inline constexpr size_t kMaxTwoByteValueSize = 255;
// Distinct ids indexed per packet. Real senders use fewer than ten; elements
// past this count stay on the wire but cannot be looked up.
inline constexpr size_t kMaxIndexedExtensions = 32;

enum class ExtensionForm : uint8_t {
    None,    // X bit clear
    OneByte, // RFC 8285 profile 0xBEDE
    TwoByte, // RFC 8285 profile 0x100X
    Other,   // any other profile: carried opaquely, no elements
};

struct ExtensionElement {
    uint8_t id = 0;
    std::span<const uint8_t> value;
};

// Rewrites extension ids on the wire: a consumer maps the producer's ids to
// the ids it negotiated with its own endpoint. An id mapped to 0 (the
// default) is dropped from the packet.
class ExtensionIdMap {
public:
    void set(uint8_t from, uint8_t to) { to_[from] = to; }
    uint8_t get(uint8_t from) const { return to_[from]; }
    void clear() { to_.fill(0); }

private:
    std::array<uint8_t, 256> to_{};
};

// Everything needed to serialize a packet from scratch (tests, probation and
// padding packets).
struct RtpPacketSpec {
    bool marker = false;
    uint8_t payloadType = 0;
    uint16_t sequenceNumber = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    std::span<const uint32_t> csrcs;
    std::span<const ExtensionElement> extensions;
    // Otherwise the one-byte form is used whenever every element fits it.
    bool twoByteExtensions = false;
    std::span<const uint8_t> payload;
    uint8_t paddingLength = 0;
};

class RtpPacket {
    // Lets std::optional build a packet in place (saving a copy of the index
    // on every parse) while keeping construction to parse() and friends.
    struct ConstructionKey {
        explicit ConstructionKey() = default;
    };

public:
    explicit RtpPacket(ConstructionKey) {}

    // Validates the header, CSRC list, extension block and padding against
    // `size` and indexes the extension elements. `capacity` (>= size) is how
    // many bytes at `data` the packet may grow into.
    static std::optional<RtpPacket> parse(uint8_t* data, size_t size, size_t capacity);
    static std::optional<RtpPacket> parse(uint8_t* data, size_t size) {
        return parse(data, size, size);
    }

    // Serializes `spec` into `buffer` and returns the view over it.
    static std::optional<RtpPacket> build(uint8_t* buffer, size_t capacity,
                                          const RtpPacketSpec& spec);

    // Copies the packet into another buffer, keeping the index (offsets are
    // relative to the packet start, so no reparse is needed).
    std::optional<RtpPacket> copyTo(uint8_t* buffer, size_t capacity) const;

    // Buffer.
    const uint8_t* data() const { return data_; }
    uint8_t* data() { return data_; }
    size_t size() const { return size_; }
    size_t capacity() const { return capacity_; }
    // Fixed header, CSRCs and the whole extension block.
    size_t headerSize() const { return headerSize_; }

    // Fixed header.
    uint8_t version() const { return data_[0] >> 6; }
    bool hasPadding() const { return (data_[0] & 0x20) != 0; }
    bool hasHeaderExtension() const { return (data_[0] & 0x10) != 0; }
    uint8_t csrcCount() const { return data_[0] & 0x0F; }
    // 0 when index is out of range.
    uint32_t csrc(size_t index) const;
    bool marker() const { return (data_[1] & 0x80) != 0; }
    uint8_t payloadType() const { return data_[1] & 0x7F; }
    uint16_t sequenceNumber() const { return bytes::get16(data_ + 2); }
    uint32_t timestamp() const { return bytes::get32(data_ + 4); }
    uint32_t ssrc() const { return bytes::get32(data_ + 8); }

    void setMarker(bool marker) {
        data_[1] = static_cast<uint8_t>((data_[1] & 0x7F) | (marker ? 0x80 : 0x00));
    }
    // Only the low seven bits are used.
    void setPayloadType(uint8_t payloadType) {
        data_[1] = static_cast<uint8_t>((data_[1] & 0x80) | (payloadType & 0x7F));
    }
    void setSequenceNumber(uint16_t seq) { bytes::set16(data_ + 2, seq); }
    void setTimestamp(uint32_t timestamp) { bytes::set32(data_ + 4, timestamp); }
    void setSsrc(uint32_t ssrc) { bytes::set32(data_ + 8, ssrc); }
    bool setCsrc(size_t index, uint32_t csrc);

    // Payload and padding.
    const uint8_t* payload() const { return data_ + headerSize_; }
    uint8_t* payload() { return data_ + headerSize_; }
    size_t payloadLength() const { return size_ - headerSize_ - paddingLength_; }
    uint8_t paddingLength() const { return paddingLength_; }
    // Probes and keep-alives: padding and nothing else.
    bool isPaddingOnly() const { return paddingLength_ > 0 && payloadLength() == 0; }
    // Replaces the padding with `length` bytes (0 removes it and clears P).
    bool setPaddingLength(uint8_t length);
    // Grows (zero-filled) or truncates the payload, keeping the padding.
    bool setPayloadLength(size_t length);
    // Inserts `delta` zero bytes (delta > 0) or removes -delta bytes
    // (delta < 0) at `offset` into the payload, e.g. when a codec rewrites a
    // payload descriptor to a different size.
    bool shiftPayload(size_t offset, std::ptrdiff_t delta);

    // Header extensions.
    ExtensionForm extensionForm() const { return form_; }
    // 0 when the packet has no extension block.
    uint16_t extensionProfile() const;
    // The element area after the 4-byte extension header.
    std::span<const uint8_t> extensionBlock() const {
        return {data_ + extBlockOffset_, extBlockSize_};
    }
    // Number of indexed elements.
    size_t extensionCount() const { return entryCount_; }
    // The index-th indexed element, in wire order.
    ExtensionElement extensionAt(size_t index) const;
    bool hasExtension(uint8_t id) const { return slotById_[id] != 0; }
    // Empty when absent (two-byte elements may also be legitimately empty:
    // tell them apart with hasExtension()).
    std::span<const uint8_t> extension(uint8_t id) const;
    std::span<uint8_t> extension(uint8_t id);

    // Adds the element or replaces its value. Same-size replacements are
    // written in place; anything else rewrites the block compactly (dropping
    // padding and unindexed elements), switching to the two-byte form when
    // the id exceeds 14 or the value is empty or longer than 16 bytes, and
    // moving the payload. Fails on a foreign profile or a full buffer.
    bool addExtension(uint8_t id, std::span<const uint8_t> value);
    // Overwrites an existing element of the same size; never moves bytes.
    bool updateExtension(uint8_t id, std::span<const uint8_t> value);
    // Turns the element into padding bytes (RFC 8285 allows them anywhere),
    // so nothing else moves.
    bool removeExtension(uint8_t id);
    // Drops the extension block altogether and clears X.
    void removeAllExtensions();
    // Rewrites the block without padding or unindexed elements, dropping it
    // when no element is left.
    bool compactExtensions();
    // Converts between the one- and two-byte forms (None drops the block;
    // asking for a form on a packet without a block creates an empty one).
    bool setExtensionForm(ExtensionForm form);
    // Renames every element through `map`; ids mapped to 0 and repeated
    // targets become padding. Converts to the two-byte form only when a new
    // id exceeds 14.
    bool remapExtensionIds(const ExtensionIdMap& map);

    // RTX (RFC 4588): prepends the original sequence number to the payload
    // and switches to the RTX stream's ssrc, payload type and sequence number.
    bool rtxEncode(uint8_t rtxPayloadType, uint32_t rtxSsrc, uint16_t rtxSequenceNumber);
    // Restores the original sequence number from the first two payload bytes
    // and sets the original stream's payload type and ssrc.
    bool rtxDecode(uint8_t payloadType, uint32_t ssrc);

private:
    // One indexed element: where its value starts and how long it is.
    struct Entry {
        uint16_t offset;
        uint8_t length;
        uint8_t id;
    };

    size_t maxSize() const { return capacity_ < kMaxPacketSize ? capacity_ : kMaxPacketSize; }
    size_t extHeaderOffset() const { return kFixedHeaderSize + 4 * size_t{csrcCount()}; }
    size_t elementHeaderSize() const { return form_ == ExtensionForm::TwoByte ? 2 : 1; }
    // Bytes of the extension block including its 4-byte header.
    size_t extTotalSize() const { return form_ == ExtensionForm::None ? 0 : 4 + extBlockSize_; }

    // Rebuilds the index from the block; the slots must match the entries
    // (parse() starts from an all-zero table).
    void indexExtensions();
    void clearIndex();
    void indexElement(uint8_t id, size_t valueOffset, size_t length);
    // Moves everything from `from` to the end of the packet so it starts at
    // `to`, adjusting size_. The caller checked capacity.
    void moveTail(size_t from, size_t to);
    // Lays the indexed elements (except `dropId`) out compactly in `target`
    // form, then appends `addId` = `addValue` when addId != 0.
    bool rebuildExtensions(ExtensionForm target, uint8_t dropId, uint8_t addId,
                           std::span<const uint8_t> addValue);
    // Resizes the block (header included) from its current size to
    // `newTotal` bytes, moving the payload; 0 removes it.
    void resizeExtensionBlock(size_t newTotal);

    uint8_t* data_ = nullptr;
    size_t size_ = 0;
    size_t capacity_ = 0;
    uint16_t headerSize_ = 0;
    uint16_t extBlockOffset_ = 0;
    uint16_t extBlockSize_ = 0;
    uint8_t paddingLength_ = 0;
    ExtensionForm form_ = ExtensionForm::None;
    uint8_t entryCount_ = 0;
    // slotById_[id] is 1 + the entry's index, 0 when absent: O(1) lookups
    // without touching the heap. Both arrays are filled by indexExtensions(),
    // not zeroed at construction: parse() is hot and would clear them twice.
    std::array<uint8_t, 256> slotById_;
    std::array<Entry, kMaxIndexedExtensions> entries_;
};

} // namespace sfu::rtp
