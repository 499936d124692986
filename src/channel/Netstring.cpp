#include "channel/Netstring.hpp"

#include <cstdio>
#include <limits>

namespace sfu::channel {

NetstringDecoder::Step NetstringDecoder::decodeOne(const uint8_t* data, size_t length,
                                                   size_t& consumed, const char*& error) {
    size_t digits = 0;
    size_t payloadLength = 0;
    while (digits < length && data[digits] >= '0' && data[digits] <= '9') {
        if (digits == kMaxLengthDigits) {
            error = "netstring length has too many digits";
            return Step::Garbage;
        }
        payloadLength = payloadLength * 10 + (data[digits] - '0');
        ++digits;
    }
    if (digits == length) {
        // Only digits so far (or nothing): the prefix may go on in the next read.
        return Step::NeedMore;
    }
    if (digits == 0) {
        error = "netstring does not start with a length";
        return Step::Garbage;
    }
    if (digits > 1 && data[0] == '0') {
        error = "netstring length has a leading zero";
        return Step::Garbage;
    }
    if (data[digits] != ':') {
        error = "netstring length is not followed by ':'";
        return Step::Garbage;
    }
    if (payloadLength > kMaxNetstringPayload) {
        error = "netstring payload exceeds the maximum length";
        return Step::Garbage;
    }
    const size_t total = digits + 1 + payloadLength + 1;
    if (length < total) {
        return Step::NeedMore;
    }
    if (data[total - 1] != ',') {
        error = "netstring payload is not followed by ','";
        return Step::Garbage;
    }
    listener_.onNetstring(data + digits + 1, payloadLength);
    consumed = total;
    return Step::Complete;
}

size_t NetstringDecoder::decodeAll(const uint8_t* data, size_t length) {
    size_t offset = 0;
    while (offset < length) {
        size_t consumed = 0;
        const char* error = nullptr;
        switch (decodeOne(data + offset, length - offset, consumed, error)) {
        case Step::Complete:
            offset += consumed;
            break;
        case Step::NeedMore:
            return offset;
        case Step::Garbage:
            listener_.onNetstringError(error);
            return std::numeric_limits<size_t>::max();
        }
    }
    return offset;
}

void NetstringDecoder::feed(const uint8_t* data, size_t length) {
    if (buffer_.empty()) {
        // Fast path: decode straight from the caller's bytes, keep the tail.
        const size_t consumed = decodeAll(data, length);
        if (consumed != std::numeric_limits<size_t>::max()) {
            buffer_.assign(data + consumed, data + length);
        }
        return;
    }
    buffer_.insert(buffer_.end(), data, data + length);
    // The listener may feed nothing back into this decoder, so the buffer is
    // stable while decodeAll walks it.
    const size_t consumed = decodeAll(buffer_.data(), buffer_.size());
    if (consumed == std::numeric_limits<size_t>::max()) {
        buffer_.clear();
        buffer_.shrink_to_fit();
        return;
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(consumed));
    if (buffer_.empty()) {
        // Give back the memory of a large message once it is done.
        buffer_.shrink_to_fit();
    }
}

void NetstringDecoder::reset() {
    buffer_.clear();
    buffer_.shrink_to_fit();
}

size_t writeNetstringHeader(size_t payloadLength, char* out) {
    const int n = std::snprintf(out, 16, "%zu:", payloadLength);
    return static_cast<size_t>(n);
}

std::string encodeNetstring(std::string_view payload) {
    char header[16];
    const size_t headerLength = writeNetstringHeader(payload.size(), header);
    std::string out;
    out.reserve(headerLength + payload.size() + 1);
    out.append(header, headerLength);
    out.append(payload);
    out.push_back(',');
    return out;
}

} // namespace sfu::channel
