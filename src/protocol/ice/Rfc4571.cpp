#include "protocol/ice/Rfc4571.hpp"

#include <algorithm>
#include <cstring>

namespace sfu::ice {

bool Rfc4571Decoder::feed(const uint8_t* data, size_t length, Listener& listener) {
    size_t offset = 0;
    while (offset < length && !stopped_) {
        if (filled_ < 2) {
            // The length prefix, possibly split across reads.
            const size_t take = std::min<size_t>(2 - filled_, length - offset);
            std::memcpy(buffer_.data() + filled_, data + offset, take);
            filled_ += take;
            offset += take;
            if (filled_ < 2) {
                break;
            }
            if (buffer_[0] == 0 && buffer_[1] == 0) {
                filled_ = 0;
                return false;
            }
        }
        const size_t frameLength = (size_t{buffer_[0]} << 8) | buffer_[1];
        const size_t need = 2 + frameLength - filled_;
        if (filled_ == 2 && length - offset >= frameLength) {
            // The whole frame is in this read: deliver it without copying.
            filled_ = 0;
            listener.onFrame(data + offset, frameLength);
            offset += frameLength;
            continue;
        }
        const size_t take = std::min(need, length - offset);
        std::memcpy(buffer_.data() + filled_, data + offset, take);
        filled_ += take;
        offset += take;
        if (filled_ == 2 + frameLength) {
            filled_ = 0;
            listener.onFrame(buffer_.data() + 2, frameLength);
        }
    }
    return true;
}

} // namespace sfu::ice
