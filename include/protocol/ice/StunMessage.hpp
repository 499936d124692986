// STUN message view (RFC 5389) with the ICE attributes (RFC 8445 16.1).
//
// Like the RTP view, a message never owns its bytes: parse() validates the
// header and walks every attribute with bounds checks, remembering where the
// ones ICE needs are, so the accessors are plain loads. Nothing here
// allocates or throws. Integrity and fingerprint are checked on request,
// since a caller may reject the message for cheaper reasons first.
#pragma once

#include "protocol/ice/HmacSha1.hpp"
#include "utils/Bytes.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <sys/socket.h>

namespace sfu::ice {

inline constexpr size_t kStunHeaderSize = 20;
inline constexpr size_t kTransactionIdSize = 12;
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr uint32_t kFingerprintXor = 0x5354554E;
// A datagram or an RFC 4571 frame holds at most 65535 bytes.
inline constexpr size_t kMaxStunSize = 65535;

// Message types: method and class interleaved (RFC 5389 6).
inline constexpr uint16_t kMethodBinding = 0x001;
inline constexpr uint16_t kBindingRequest = 0x0001;
inline constexpr uint16_t kBindingIndication = 0x0011;
inline constexpr uint16_t kBindingSuccessResponse = 0x0101;
inline constexpr uint16_t kBindingErrorResponse = 0x0111;

// Attribute types. Below 0x8000 an agent must understand the attribute to
// process the message (comprehension-required).
inline constexpr uint16_t kAttrMappedAddress = 0x0001;
inline constexpr uint16_t kAttrUsername = 0x0006;
inline constexpr uint16_t kAttrMessageIntegrity = 0x0008;
inline constexpr uint16_t kAttrErrorCode = 0x0009;
inline constexpr uint16_t kAttrUnknownAttributes = 0x000A;
inline constexpr uint16_t kAttrXorMappedAddress = 0x0020;
inline constexpr uint16_t kAttrPriority = 0x0024;
inline constexpr uint16_t kAttrUseCandidate = 0x0025;
inline constexpr uint16_t kAttrSoftware = 0x8022;
inline constexpr uint16_t kAttrFingerprint = 0x8028;
inline constexpr uint16_t kAttrIceControlled = 0x8029;
inline constexpr uint16_t kAttrIceControlling = 0x802A;
// draft-thatcher-ice-renomination.
inline constexpr uint16_t kAttrNomination = 0xC001;

inline constexpr size_t kMessageIntegritySize = 20;
// USERNAME must be shorter than 513 bytes (RFC 5389 15.3).
inline constexpr size_t kMaxUsernameSize = 512;
// ERROR-CODE reason phrases are at most 763 bytes (RFC 5389 15.6).
inline constexpr size_t kMaxReasonSize = 763;

enum class StunClass : uint8_t { Request, Indication, SuccessResponse, ErrorResponse };

constexpr StunClass stunClassOf(uint16_t type) {
    return static_cast<StunClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

constexpr uint16_t stunMethodOf(uint16_t type) {
    return static_cast<uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}

constexpr uint16_t stunType(uint16_t method, StunClass cls) {
    const auto c = static_cast<uint16_t>(cls);
    return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                                 ((method & 0x0F80) << 2) | ((c & 0x1) << 4) | ((c & 0x2) << 7));
}

class StunMessage {
    struct ConstructionKey {
        explicit ConstructionKey() = default;
    };

public:
    // Comprehension-required types we do not know, kept for a 420 response;
    // further ones are only counted.
    static constexpr size_t kMaxUnknownRecorded = 8;

    explicit StunMessage(ConstructionKey) {}

    // Accepts exactly one well-formed message filling `size` bytes: zero top
    // bits in the type, the magic cookie, a length that is a multiple of four
    // and equal to size - 20, attributes that tile the body exactly, known
    // attributes of their defined sizes, and FINGERPRINT (if any) last.
    // Attributes between MESSAGE-INTEGRITY and FINGERPRINT are ignored, as
    // RFC 5389 15.4 requires; repeated attributes keep their first value.
    static std::optional<StunMessage> parse(const uint8_t* data, size_t size);

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

    uint16_t type() const { return bytes::get16(data_); }
    StunClass messageClass() const { return stunClassOf(type()); }
    uint16_t method() const { return stunMethodOf(type()); }
    std::span<const uint8_t, kTransactionIdSize> transactionId() const {
        return std::span<const uint8_t, kTransactionIdSize>(data_ + 8, kTransactionIdSize);
    }

    bool hasUsername() const { return usernameOffset_ != 0; }
    // Empty when absent.
    std::string_view username() const {
        return {reinterpret_cast<const char*>(data_) + usernameOffset_, usernameSize_};
    }

    bool hasMessageIntegrity() const { return integrityOffset_ != 0; }
    // Offset of the MESSAGE-INTEGRITY attribute header; 0 when absent.
    size_t messageIntegrityOffset() const { return integrityOffset_; }

    bool hasFingerprint() const { return fingerprintOffset_ != 0; }
    // Offset of the FINGERPRINT attribute header; 0 when absent.
    size_t fingerprintOffset() const { return fingerprintOffset_; }
    // The value on the wire; 0 when absent.
    uint32_t fingerprint() const {
        return hasFingerprint() ? bytes::get32(data_ + fingerprintOffset_ + 4) : 0;
    }

    std::optional<uint32_t> priority() const { return priority_; }
    bool useCandidate() const { return useCandidate_; }
    std::optional<uint64_t> iceControlling() const { return iceControlling_; }
    std::optional<uint64_t> iceControlled() const { return iceControlled_; }
    std::optional<uint32_t> nomination() const { return nomination_; }

    // 300..699.
    std::optional<uint16_t> errorCode() const { return errorCode_; }
    std::string_view errorReason() const {
        return {reinterpret_cast<const char*>(data_) + reasonOffset_, reasonSize_};
    }

    bool hasXorMappedAddress() const { return xorAddressOffset_ != 0; }
    // Decodes XOR-MAPPED-ADDRESS into an AF_INET or AF_INET6 address. False
    // when absent.
    bool xorMappedAddress(sockaddr_storage& out) const;

    // Comprehension-required attributes before MESSAGE-INTEGRITY that we do
    // not understand: how many, and the first kMaxUnknownRecorded types.
    size_t unknownRequiredCount() const { return unknownCount_; }
    std::span<const uint16_t> unknownRequired() const {
        return {unknown_.data(),
                unknownCount_ < kMaxUnknownRecorded ? unknownCount_ : kMaxUnknownRecorded};
    }

    // CRC-32 of everything before FINGERPRINT, XORed with 0x5354554E,
    // against the attribute (RFC 5389 15.5). False when absent.
    bool checkFingerprint() const;

    // HMAC-SHA1 under `keyed`'s key over the message up to MESSAGE-INTEGRITY,
    // with the length field counting only up to the end of that attribute
    // (RFC 5389 15.4), against the attribute, in constant time. False when
    // absent. With short-term credentials the key is the password itself.
    bool checkIntegrity(HmacSha1& keyed) const;
    // Convenience for tests and tools: builds a context per call.
    bool checkIntegrity(std::string_view password) const;

private:
    // Records one attribute; false rejects the whole message.
    bool indexAttribute(uint16_t type, size_t valueOffset, size_t length);

    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    // Offsets are from the message start (never 0 for an attribute, which
    // starts at 20 or later, so 0 means absent).
    size_t usernameOffset_ = 0;
    size_t integrityOffset_ = 0;
    size_t fingerprintOffset_ = 0;
    size_t xorAddressOffset_ = 0;
    size_t reasonOffset_ = 0;
    uint16_t usernameSize_ = 0;
    uint16_t reasonSize_ = 0;
    uint16_t xorAddressSize_ = 0;
    bool useCandidate_ = false;
    std::optional<uint16_t> errorCode_;
    std::optional<uint32_t> priority_;
    std::optional<uint32_t> nomination_;
    std::optional<uint64_t> iceControlling_;
    std::optional<uint64_t> iceControlled_;
    size_t unknownCount_ = 0;
    std::array<uint16_t, kMaxUnknownRecorded> unknown_{};
};

} // namespace sfu::ice
