#include "protocol/ice/IceServer.hpp"

#include "protocol/ice/StunBuilder.hpp"
#include "utils/Errors.hpp"
#include "utils/Random.hpp"

#include <utility>

namespace sfu::ice {

namespace {

// Success: 20 header + 24 XOR-MAPPED-ADDRESS (IPv6) + 24 MESSAGE-INTEGRITY
// + 8 FINGERPRINT. Errors add at most ERROR-CODE (28) and UNKNOWN-ATTRIBUTES
// (4 + 2 * 8). Both fit with room to spare.
constexpr size_t kResponseBufferSize = 256;

} // namespace

std::string_view iceStateName(IceState state) {
    switch (state) {
    case IceState::New:
        return "new";
    case IceState::Connected:
        return "connected";
    case IceState::Completed:
        return "completed";
    case IceState::Disconnected:
        return "disconnected";
    }
    return "";
}

std::string randomIceToken(size_t length) {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    // 252 is the largest multiple of 36 below 256: rejecting bytes at or
    // above it keeps every character equally likely.
    constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();
    std::string token;
    token.reserve(length);
    uint8_t pool[64];
    while (token.size() < length) {
        randomBytes(pool);
        for (const uint8_t byte : pool) {
            if (byte < kLimit && token.size() < length) {
                token.push_back(kAlphabet[byte % kAlphabet.size()]);
            }
        }
    }
    return token;
}

IceServer::IceServer(Listener& listener)
    : IceServer(listener, randomIceToken(kUsernameFragmentLength),
                randomIceToken(kPasswordLength)) {}

IceServer::IceServer(Listener& listener, std::string usernameFragment, std::string password)
    : listener_(listener) {
    setCredentials(std::move(usernameFragment), std::move(password));
}

void IceServer::setCredentials(std::string usernameFragment, std::string password) {
    if (usernameFragment.empty() || password.empty()) {
        throw Error("ICE username fragment and password must not be empty");
    }
    if (usernameFragment.find(':') != std::string::npos) {
        throw Error("ICE username fragment must not contain ':'");
    }
    // Keyed aside first, so a failure leaves the old credentials working.
    HmacSha1 keyed;
    if (!keyed.setKey(password)) {
        throw Error("cannot key HMAC-SHA1 with the ICE password");
    }
    hmac_ = std::move(keyed);
    usernameFragment_ = std::move(usernameFragment);
    password_ = std::move(password);
}

const Tuple* IceServer::selectedTuple() const {
    return selected_ == kNone ? nullptr : &entries_[selected_].tuple;
}

bool IceServer::usernameMatches(std::string_view username) const {
    // RFC 8445 7.2.2: "<receiver's ufrag>:<sender's ufrag>". The peer's half
    // can only be checked for presence: a WebRTC transport is never told it.
    const size_t n = usernameFragment_.size();
    return username.size() > n + 1 && username[n] == ':' &&
           username.compare(0, n, usernameFragment_) == 0;
}

void IceServer::sendError(const StunMessage& request, const Tuple& tuple, uint16_t code,
                          bool authenticated) {
    uint8_t buffer[kResponseBufferSize];
    const std::span<const uint16_t> unknown =
        code == kErrorUnknownAttribute ? request.unknownRequired() : std::span<const uint16_t>{};
    const size_t size = buildBindingError(buffer, sizeof(buffer), request.transactionId(), code,
                                          authenticated ? &hmac_ : nullptr, unknown);
    if (size > 0) {
        listener_.sendStunPacket(buffer, size, tuple);
    }
}

IceResult IceServer::processStunPacket(const uint8_t* data, size_t size, const Tuple& tuple,
                                       uint64_t nowMs) {
    if (!tuple.valid()) {
        return IceResult::InvalidTuple;
    }
    const auto request = StunMessage::parse(data, size);
    if (!request) {
        ++counters_.malformed;
        return IceResult::Malformed;
    }
    // A lite agent sends no requests, so any response is stray; indications
    // (keep-alives) need nothing from us.
    if (request->messageClass() != StunClass::Request) {
        ++counters_.notRequest;
        return IceResult::NotRequest;
    }
    // RFC 8445 7.3: checks carry FINGERPRINT; without a valid one this is
    // not ICE traffic (or is corrupt), and answering it would make us a
    // reflector for anything that looks like STUN.
    if (!request->checkFingerprint()) {
        ++counters_.badFingerprint;
        return IceResult::BadFingerprint;
    }
    if (request->method() != kMethodBinding || !request->hasUsername() ||
        !request->hasMessageIntegrity()) {
        ++counters_.badRequest;
        sendError(*request, tuple, kErrorBadRequest, false);
        return IceResult::BadRequest;
    }
    if (!usernameMatches(request->username())) {
        ++counters_.badUsername;
        sendError(*request, tuple, kErrorUnauthorized, false);
        return IceResult::BadUsername;
    }
    if (!request->checkIntegrity(hmac_)) {
        ++counters_.badIntegrity;
        sendError(*request, tuple, kErrorUnauthorized, false);
        return IceResult::BadIntegrity;
    }
    // Authenticated from here on: errors carry MESSAGE-INTEGRITY so the peer
    // can trust them (RFC 5389 10.1.2).
    if (request->unknownRequiredCount() > 0) {
        ++counters_.unknownAttributes;
        sendError(*request, tuple, kErrorUnknownAttribute, true);
        return IceResult::UnknownAttributes;
    }
    if (!request->priority()) {
        ++counters_.badRequest;
        sendError(*request, tuple, kErrorBadRequest, true);
        return IceResult::BadRequest;
    }
    // A lite agent is always controlled (RFC 8445 6.1.1) and cannot switch
    // roles, so a peer that also claims to be controlled must switch.
    if (request->iceControlled()) {
        ++counters_.roleConflict;
        sendError(*request, tuple, kErrorRoleConflict, true);
        return IceResult::RoleConflict;
    }
    if (!request->iceControlling()) {
        ++counters_.badRequest;
        sendError(*request, tuple, kErrorBadRequest, true);
        return IceResult::BadRequest;
    }

    uint8_t buffer[kResponseBufferSize];
    const size_t responseSize = buildBindingSuccess(
        buffer, sizeof(buffer), request->transactionId(), tuple.remote(), hmac_);
    ++counters_.validChecks;
    if (responseSize > 0) {
        listener_.sendStunPacket(buffer, responseSize, tuple);
    }
    onValidCheck(tuple, request->useCandidate(), nowMs);
    return IceResult::Accepted;
}

void IceServer::onValidCheck(const Tuple& tuple, bool useCandidate, uint64_t nowMs) {
    // Callbacks get a copy: the listener may add or remove tuples meanwhile.
    const Tuple checked = tuple;
    size_t index = find(checked);
    if (index < count_) {
        entries_[index].lastCheckMs = nowMs;
    } else {
        index = add(checked, nowMs);
    }

    switch (state_) {
    case IceState::New:
    case IceState::Disconnected: {
        const IceState next = useCandidate ? IceState::Completed : IceState::Connected;
        selected_ = index;
        state_ = next;
        listener_.onIceSelectedTuple(checked);
        // The listener may have removed the tuple meanwhile (and seen us
        // disconnect): then there is no transition left to report.
        if (state_ == next) {
            if (next == IceState::Completed) {
                listener_.onIceCompleted();
            } else {
                listener_.onIceConnected();
            }
        }
        break;
    }
    case IceState::Connected:
        if (useCandidate) {
            const bool changed = selected_ != index;
            selected_ = index;
            state_ = IceState::Completed;
            if (changed) {
                listener_.onIceSelectedTuple(checked);
            }
            if (state_ == IceState::Completed) {
                listener_.onIceCompleted();
            }
        }
        break;
    case IceState::Completed:
        if (useCandidate && selected_ != index) {
            selected_ = index;
            listener_.onIceSelectedTuple(checked);
        }
        break;
    }
}

size_t IceServer::find(const Tuple& tuple) const {
    for (size_t i = 0; i < count_; ++i) {
        if (entries_[i].tuple == tuple) {
            return i;
        }
    }
    return kNone;
}

size_t IceServer::add(const Tuple& tuple, uint64_t nowMs) {
    if (count_ == kMaxTuples) {
        // The least recently checked tuple that carries no media goes.
        size_t victim = kNone;
        for (size_t i = 0; i < count_; ++i) {
            if (i != selected_ &&
                (victim == kNone || entries_[i].lastCheckMs < entries_[victim].lastCheckMs)) {
                victim = i;
            }
        }
        erase(victim);
    }
    const size_t index = count_++;
    entries_[index] = Entry{tuple, nowMs};
    listener_.onIceTupleAdded(tuple);
    return index;
}

void IceServer::erase(size_t index) {
    const Tuple removed = entries_[index].tuple;
    for (size_t i = index; i + 1 < count_; ++i) {
        entries_[i] = entries_[i + 1];
    }
    --count_;
    if (selected_ == index) {
        selected_ = kNone;
    } else if (selected_ != kNone && selected_ > index) {
        --selected_;
    }
    listener_.onIceTupleRemoved(removed);
}

void IceServer::reselect() {
    if (count_ == 0) {
        state_ = IceState::Disconnected;
        listener_.onIceDisconnected();
        return;
    }
    size_t freshest = 0;
    for (size_t i = 1; i < count_; ++i) {
        if (entries_[i].lastCheckMs > entries_[freshest].lastCheckMs) {
            freshest = i;
        }
    }
    selected_ = freshest;
    const Tuple chosen = entries_[freshest].tuple;
    listener_.onIceSelectedTuple(chosen);
}

void IceServer::removeTuple(const Tuple& tuple) {
    const size_t index = find(tuple);
    if (index == kNone) {
        return;
    }
    const bool wasSelected = index == selected_;
    erase(index);
    if (wasSelected) {
        reselect();
    }
}

void IceServer::tick(uint64_t nowMs) {
    bool lostSelected = false;
    for (size_t i = count_; i-- > 0;) {
        const uint64_t last = entries_[i].lastCheckMs;
        if (nowMs >= last && nowMs - last >= kConsentTimeoutMs) {
            lostSelected = lostSelected || i == selected_;
            erase(i);
        }
    }
    if (lostSelected) {
        reselect();
    }
}

void IceServer::restartIce() {
    restartIce(randomIceToken(kUsernameFragmentLength), randomIceToken(kPasswordLength));
}

void IceServer::restartIce(std::string usernameFragment, std::string password) {
    setCredentials(std::move(usernameFragment), std::move(password));
}

} // namespace sfu::ice
