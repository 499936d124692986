// Writes STUN messages into a caller's buffer, attribute by attribute, with
// no allocation. The header's length field is kept current after every
// attribute, so MESSAGE-INTEGRITY and FINGERPRINT cover exactly what was
// written before them.
//
// A builder that runs out of room, or is asked for something STUN forbids
// (an attribute after MESSAGE-INTEGRITY other than FINGERPRINT, anything
// after FINGERPRINT, an unknown address family), fails that call and every
// later one: callers may add everything and check ok() once.
#pragma once

#include "protocol/ice/HmacSha1.hpp"
#include "protocol/ice/StunMessage.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <sys/socket.h>

namespace sfu::ice {

class StunBuilder {
public:
    // Writes the 20-byte header (type, zero length, cookie, transaction id).
    StunBuilder(uint8_t* buffer, size_t capacity, uint16_t type,
                std::span<const uint8_t, kTransactionIdSize> transactionId);

    bool ok() const { return ok_; }
    // Bytes written so far; 0 once the builder has failed.
    size_t size() const { return ok_ ? size_ : 0; }
    std::span<const uint8_t> message() const { return {buffer_, size()}; }

    // Any attribute, zero-padded to four bytes.
    bool addAttribute(uint16_t type, std::span<const uint8_t> value);

    bool addUsername(std::string_view username);
    bool addPriority(uint32_t priority);
    bool addUseCandidate();
    bool addIceControlling(uint64_t tieBreaker);
    bool addIceControlled(uint64_t tieBreaker);
    bool addNomination(uint32_t nomination);
    // AF_INET or AF_INET6 only.
    bool addXorMappedAddress(const sockaddr* address);
    // `code` 300..699; the reason is cut at 763 bytes.
    bool addErrorCode(uint16_t code, std::string_view reason);
    bool addUnknownAttributes(std::span<const uint16_t> types);
    // HMAC-SHA1 under `keyed`'s key over everything written so far, with
    // the length field already counting the attribute (RFC 5389 15.4).
    bool addMessageIntegrity(HmacSha1& keyed);
    bool addFingerprint();

private:
    // Reserves an attribute of `length` value bytes (plus padding, zeroed)
    // and returns where the value goes, or nullptr after failing.
    uint8_t* reserve(uint16_t type, size_t length);
    bool fail() {
        ok_ = false;
        return false;
    }

    uint8_t* buffer_;
    size_t capacity_;
    size_t size_ = 0;
    bool ok_ = true;
    bool hasIntegrity_ = false;
    bool hasFingerprint_ = false;
};

// Reason phrases RFC 5389 15.6 and RFC 8445 19.2 suggest.
inline constexpr uint16_t kErrorBadRequest = 400;
inline constexpr uint16_t kErrorUnauthorized = 401;
inline constexpr uint16_t kErrorUnknownAttribute = 420;
inline constexpr uint16_t kErrorRoleConflict = 487;
std::string_view stunErrorReason(uint16_t code);

// A Binding success response to `transactionId` carrying `mapped` as
// XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY under `integrity` and FINGERPRINT.
// Returns its size, 0 if it does not fit or `mapped` is not IPv4/IPv6.
size_t buildBindingSuccess(uint8_t* buffer, size_t capacity,
                           std::span<const uint8_t, kTransactionIdSize> transactionId,
                           const sockaddr* mapped, HmacSha1& integrity);

// A Binding error response with ERROR-CODE `code` and its usual reason,
// UNKNOWN-ATTRIBUTES when `unknown` is not empty, MESSAGE-INTEGRITY when
// `integrity` is given (a request that failed authentication gets none, RFC
// 5389 10.1.2), and FINGERPRINT. Returns its size, 0 if it does not fit.
size_t buildBindingError(uint8_t* buffer, size_t capacity,
                         std::span<const uint8_t, kTransactionIdSize> transactionId, uint16_t code,
                         HmacSha1* integrity, std::span<const uint16_t> unknown = {});

} // namespace sfu::ice
