#include "protocol/ice/StunBuilder.hpp"

#include "protocol/ice/Crc32.hpp"

#include <cstring>
#include <netinet/in.h>

namespace sfu::ice {

StunBuilder::StunBuilder(uint8_t* buffer, size_t capacity, uint16_t type,
                         std::span<const uint8_t, kTransactionIdSize> transactionId)
    : buffer_(buffer), capacity_(capacity < kMaxStunSize ? capacity : kMaxStunSize) {
    if (buffer_ == nullptr || capacity_ < kStunHeaderSize || (type & 0xC000) != 0) {
        ok_ = false;
        return;
    }
    bytes::set16(buffer_, type);
    bytes::set16(buffer_ + 2, 0);
    bytes::set32(buffer_ + 4, kMagicCookie);
    std::memcpy(buffer_ + 8, transactionId.data(), kTransactionIdSize);
    size_ = kStunHeaderSize;
}

uint8_t* StunBuilder::reserve(uint16_t type, size_t length) {
    if (!ok_ || hasFingerprint_ || (hasIntegrity_ && type != kAttrFingerprint) || length > 0xFFFF) {
        fail();
        return nullptr;
    }
    const size_t padding = bytes::padTo4(length);
    if (4 + length + padding > capacity_ - size_) {
        fail();
        return nullptr;
    }
    uint8_t* at = buffer_ + size_;
    bytes::set16(at, type);
    bytes::set16(at + 2, static_cast<uint16_t>(length));
    std::memset(at + 4 + length, 0, padding);
    size_ += 4 + length + padding;
    bytes::set16(buffer_ + 2, static_cast<uint16_t>(size_ - kStunHeaderSize));
    return at + 4;
}

bool StunBuilder::addAttribute(uint16_t type, std::span<const uint8_t> value) {
    uint8_t* at = reserve(type, value.size());
    if (at == nullptr) {
        return false;
    }
    if (!value.empty()) {
        std::memcpy(at, value.data(), value.size());
    }
    return true;
}

bool StunBuilder::addUsername(std::string_view username) {
    if (username.size() > kMaxUsernameSize) {
        return fail();
    }
    return addAttribute(kAttrUsername,
                        {reinterpret_cast<const uint8_t*>(username.data()), username.size()});
}

bool StunBuilder::addPriority(uint32_t priority) {
    uint8_t value[4];
    bytes::set32(value, priority);
    return addAttribute(kAttrPriority, value);
}

bool StunBuilder::addUseCandidate() {
    return addAttribute(kAttrUseCandidate, {});
}

bool StunBuilder::addIceControlling(uint64_t tieBreaker) {
    uint8_t value[8];
    bytes::set64(value, tieBreaker);
    return addAttribute(kAttrIceControlling, value);
}

bool StunBuilder::addIceControlled(uint64_t tieBreaker) {
    uint8_t value[8];
    bytes::set64(value, tieBreaker);
    return addAttribute(kAttrIceControlled, value);
}

bool StunBuilder::addNomination(uint32_t nomination) {
    uint8_t value[4];
    bytes::set32(value, nomination);
    return addAttribute(kAttrNomination, value);
}

bool StunBuilder::addXorMappedAddress(const sockaddr* address) {
    if (address == nullptr || (address->sa_family != AF_INET && address->sa_family != AF_INET6)) {
        return fail();
    }
    const bool v6 = address->sa_family == AF_INET6;
    uint8_t* value = reserve(kAttrXorMappedAddress, v6 ? 20 : 8);
    if (value == nullptr) {
        return false;
    }
    // Port and address are already in network order in the sockaddr; XOR
    // them with header bytes 4.. (cookie, then transaction id).
    const uint8_t* mask = buffer_ + 4;
    const uint8_t* port;
    const uint8_t* ip;
    size_t ipSize;
    if (v6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        port = reinterpret_cast<const uint8_t*>(&in6->sin6_port);
        ip = reinterpret_cast<const uint8_t*>(&in6->sin6_addr);
        ipSize = 16;
    } else {
        const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
        port = reinterpret_cast<const uint8_t*>(&in4->sin_port);
        ip = reinterpret_cast<const uint8_t*>(&in4->sin_addr);
        ipSize = 4;
    }
    value[0] = 0;
    value[1] = v6 ? 0x02 : 0x01;
    value[2] = port[0] ^ mask[0];
    value[3] = port[1] ^ mask[1];
    for (size_t i = 0; i < ipSize; ++i) {
        value[4 + i] = ip[i] ^ mask[i];
    }
    return true;
}

bool StunBuilder::addErrorCode(uint16_t code, std::string_view reason) {
    if (code < 300 || code > 699) {
        return fail();
    }
    if (reason.size() > kMaxReasonSize) {
        reason = reason.substr(0, kMaxReasonSize);
    }
    uint8_t* value = reserve(kAttrErrorCode, 4 + reason.size());
    if (value == nullptr) {
        return false;
    }
    value[0] = 0;
    value[1] = 0;
    value[2] = static_cast<uint8_t>(code / 100);
    value[3] = static_cast<uint8_t>(code % 100);
    std::memcpy(value + 4, reason.data(), reason.size());
    return true;
}

bool StunBuilder::addUnknownAttributes(std::span<const uint16_t> types) {
    uint8_t* value = reserve(kAttrUnknownAttributes, 2 * types.size());
    if (value == nullptr) {
        return false;
    }
    for (size_t i = 0; i < types.size(); ++i) {
        bytes::set16(value + 2 * i, types[i]);
    }
    return true;
}

bool StunBuilder::addMessageIntegrity(HmacSha1& keyed) {
    const size_t covered = size_;
    uint8_t* value = reserve(kAttrMessageIntegrity, kMessageIntegritySize);
    if (value == nullptr) {
        return false;
    }
    // reserve() set the length to include this attribute, as the MAC needs.
    if (!keyed.compute({{buffer_, covered}},
                       std::span<uint8_t, HmacSha1::kDigestSize>(value, kMessageIntegritySize))) {
        return fail();
    }
    hasIntegrity_ = true;
    return true;
}

bool StunBuilder::addFingerprint() {
    const size_t covered = size_;
    uint8_t* value = reserve(kAttrFingerprint, 4);
    if (value == nullptr) {
        return false;
    }
    bytes::set32(value, crc32(buffer_, covered) ^ kFingerprintXor);
    hasFingerprint_ = true;
    return true;
}

std::string_view stunErrorReason(uint16_t code) {
    switch (code) {
    case kErrorBadRequest:
        return "Bad Request";
    case kErrorUnauthorized:
        return "Unauthorized";
    case kErrorUnknownAttribute:
        return "Unknown Attribute";
    case kErrorRoleConflict:
        return "Role Conflict";
    default:
        return "";
    }
}

size_t buildBindingSuccess(uint8_t* buffer, size_t capacity,
                           std::span<const uint8_t, kTransactionIdSize> transactionId,
                           const sockaddr* mapped, HmacSha1& integrity) {
    StunBuilder builder(buffer, capacity, kBindingSuccessResponse, transactionId);
    builder.addXorMappedAddress(mapped);
    builder.addMessageIntegrity(integrity);
    builder.addFingerprint();
    return builder.size();
}

size_t buildBindingError(uint8_t* buffer, size_t capacity,
                         std::span<const uint8_t, kTransactionIdSize> transactionId, uint16_t code,
                         HmacSha1* integrity, std::span<const uint16_t> unknown) {
    StunBuilder builder(buffer, capacity, kBindingErrorResponse, transactionId);
    builder.addErrorCode(code, stunErrorReason(code));
    if (!unknown.empty()) {
        builder.addUnknownAttributes(unknown);
    }
    if (integrity != nullptr) {
        builder.addMessageIntegrity(*integrity);
    }
    builder.addFingerprint();
    return builder.size();
}

} // namespace sfu::ice
