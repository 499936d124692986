#include "protocol/ice/StunMessage.hpp"

#include "protocol/ice/Crc32.hpp"

#include <cstring>
#include <netinet/in.h>
#include <openssl/crypto.h>

namespace sfu::ice {

namespace {

constexpr uint8_t kFamilyIpv4 = 0x01;
constexpr uint8_t kFamilyIpv6 = 0x02;

// Comprehension-required types we accept without acting on them, so that a
// response carrying them is not reported as unknown.
bool isKnownRequired(uint16_t type) {
    switch (type) {
    case kAttrMappedAddress:
    case kAttrUsername:
    case kAttrMessageIntegrity:
    case kAttrErrorCode:
    case kAttrUnknownAttributes:
    case kAttrXorMappedAddress:
    case kAttrPriority:
    case kAttrUseCandidate:
        return true;
    default:
        return false;
    }
}

} // namespace

std::optional<StunMessage> StunMessage::parse(const uint8_t* data, size_t size) {
    if (data == nullptr || size < kStunHeaderSize || size > kMaxStunSize) {
        return std::nullopt;
    }
    // The two top bits of every STUN type are zero (RFC 5389 6), which is
    // also what lets RFC 7983 tell STUN apart by its first byte.
    if ((data[0] & 0xC0) != 0 || bytes::get32(data + 4) != kMagicCookie) {
        return std::nullopt;
    }
    const size_t length = bytes::get16(data + 2);
    // One message per datagram or frame: trailing bytes would sit outside
    // what FINGERPRINT and MESSAGE-INTEGRITY protect.
    if ((length & 3) != 0 || kStunHeaderSize + length != size) {
        return std::nullopt;
    }

    std::optional<StunMessage> message(std::in_place, ConstructionKey{});
    message->data_ = data;
    message->size_ = size;

    size_t offset = kStunHeaderSize;
    while (offset < size) {
        // The body length is a multiple of four, so a header always fits.
        const uint16_t type = bytes::get16(data + offset);
        const size_t valueLength = bytes::get16(data + offset + 2);
        const size_t valueOffset = offset + 4;
        const size_t padded = valueLength + bytes::padTo4(valueLength);
        if (padded > size - valueOffset) {
            return std::nullopt;
        }
        if (message->fingerprintOffset_ != 0) {
            // Nothing may follow FINGERPRINT.
            return std::nullopt;
        }
        if (type == kAttrFingerprint) {
            if (valueLength != 4) {
                return std::nullopt;
            }
            message->fingerprintOffset_ = offset;
        } else if (message->integrityOffset_ == 0) {
            if (!message->indexAttribute(type, valueOffset, valueLength)) {
                return std::nullopt;
            }
            if (type == kAttrMessageIntegrity) {
                message->integrityOffset_ = offset;
            }
        }
        // Past MESSAGE-INTEGRITY only FINGERPRINT counts; the rest is skipped.
        offset = valueOffset + padded;
    }
    return message;
}

bool StunMessage::indexAttribute(uint16_t type, size_t valueOffset, size_t length) {
    const uint8_t* value = data_ + valueOffset;
    switch (type) {
    case kAttrUsername:
        if (length > kMaxUsernameSize) {
            return false;
        }
        if (usernameOffset_ == 0) {
            usernameOffset_ = valueOffset;
            usernameSize_ = static_cast<uint16_t>(length);
        }
        return true;
    case kAttrMessageIntegrity:
        return length == kMessageIntegritySize;
    case kAttrPriority:
        if (length != 4) {
            return false;
        }
        if (!priority_) {
            priority_ = bytes::get32(value);
        }
        return true;
    case kAttrUseCandidate:
        if (length != 0) {
            return false;
        }
        useCandidate_ = true;
        return true;
    case kAttrIceControlling:
    case kAttrIceControlled: {
        if (length != 8) {
            return false;
        }
        auto& slot = type == kAttrIceControlling ? iceControlling_ : iceControlled_;
        if (!slot) {
            slot = bytes::get64(value);
        }
        return true;
    }
    case kAttrNomination:
        if (length != 4) {
            return false;
        }
        if (!nomination_) {
            nomination_ = bytes::get32(value);
        }
        return true;
    case kAttrXorMappedAddress: {
        // Reserved byte, family, port, then 4 or 16 address bytes.
        if (length < 4) {
            return false;
        }
        const uint8_t family = value[1];
        if (!((family == kFamilyIpv4 && length == 8) || (family == kFamilyIpv6 && length == 20))) {
            return false;
        }
        if (xorAddressOffset_ == 0) {
            xorAddressOffset_ = valueOffset;
            xorAddressSize_ = static_cast<uint16_t>(length);
        }
        return true;
    }
    case kAttrErrorCode: {
        // 21 reserved bits, a 3-bit class (3..6), an 8-bit number (0..99).
        if (length < 4 || length - 4 > kMaxReasonSize) {
            return false;
        }
        const unsigned cls = value[2] & 0x07;
        const unsigned number = value[3];
        if (cls < 3 || cls > 6 || number > 99) {
            return false;
        }
        if (!errorCode_) {
            errorCode_ = static_cast<uint16_t>(cls * 100 + number);
            reasonOffset_ = valueOffset + 4;
            reasonSize_ = static_cast<uint16_t>(length - 4);
        }
        return true;
    }
    default:
        if (type < 0x8000 && !isKnownRequired(type)) {
            if (unknownCount_ < kMaxUnknownRecorded) {
                unknown_[unknownCount_] = type;
            }
            ++unknownCount_;
        }
        return true;
    }
}

bool StunMessage::xorMappedAddress(sockaddr_storage& out) const {
    if (xorAddressOffset_ == 0) {
        return false;
    }
    const uint8_t* value = data_ + xorAddressOffset_;
    std::memset(&out, 0, sizeof(out));
    // The port is XORed with the cookie's top half, the address with the
    // cookie followed (for IPv6) by the transaction id: exactly bytes 4..20
    // of the header, in network order.
    const uint8_t* mask = data_ + 4;
    uint8_t port[2] = {static_cast<uint8_t>(value[2] ^ mask[0]),
                       static_cast<uint8_t>(value[3] ^ mask[1])};
    if (xorAddressSize_ == 8) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        std::memcpy(&v4.sin_port, port, 2);
        auto* address = reinterpret_cast<uint8_t*>(&v4.sin_addr);
        for (size_t i = 0; i < 4; ++i) {
            address[i] = value[4 + i] ^ mask[i];
        }
    } else {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
        v6.sin6_family = AF_INET6;
        std::memcpy(&v6.sin6_port, port, 2);
        auto* address = reinterpret_cast<uint8_t*>(&v6.sin6_addr);
        for (size_t i = 0; i < 16; ++i) {
            address[i] = value[4 + i] ^ mask[i];
        }
    }
    return true;
}

bool StunMessage::checkFingerprint() const {
    if (fingerprintOffset_ == 0) {
        return false;
    }
    // FINGERPRINT is last, so the length field already counts it as
    // RFC 5389 15.5 requires.
    return (crc32(data_, fingerprintOffset_) ^ kFingerprintXor) == fingerprint();
}

bool StunMessage::checkIntegrity(HmacSha1& keyed) const {
    if (integrityOffset_ == 0) {
        return false;
    }
    // The length field must end with MESSAGE-INTEGRITY, as if nothing
    // (FINGERPRINT, ignored attributes) followed it when it was computed.
    uint8_t adjusted[2];
    bytes::set16(adjusted, static_cast<uint16_t>(integrityOffset_ + 4 + kMessageIntegritySize -
                                                 kStunHeaderSize));
    std::array<uint8_t, HmacSha1::kDigestSize> mac;
    if (!keyed.compute({{data_, 2}, {adjusted, 2}, {data_ + 4, integrityOffset_ - 4}}, mac)) {
        return false;
    }
    // Constant time: a timing oracle must not reveal how many bytes match.
    return CRYPTO_memcmp(mac.data(), data_ + integrityOffset_ + 4, mac.size()) == 0;
}

bool StunMessage::checkIntegrity(std::string_view password) const {
    HmacSha1 keyed(password);
    return checkIntegrity(keyed);
}

} // namespace sfu::ice
