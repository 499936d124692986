#include "protocol/rtcp/Packet.hpp"

#include "utils/Bytes.hpp"

namespace sfu::rtcp {

bool isRtcp(const uint8_t* data, size_t len) {
    return len >= kHeaderSize && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

std::optional<PacketView> PacketView::parse(const uint8_t* data, size_t len) {
    if (data == nullptr || len < kHeaderSize) {
        return std::nullopt;
    }
    if ((data[0] >> 6) != 2) {
        return std::nullopt;
    }
    const size_t size = (size_t{bytes::get16(data + 2)} + 1) * 4;
    if (size > len) {
        return std::nullopt;
    }
    size_t padding = 0;
    if ((data[0] & 0x20) != 0) {
        // The last octet counts the padding, itself included; it can neither be
        // zero nor eat into the header.
        padding = data[size - 1];
        if (padding == 0 || padding > size - kHeaderSize) {
            return std::nullopt;
        }
    }
    return PacketView(data, size, padding);
}

CompoundView::Iterator::Iterator(const uint8_t* pos, size_t left) : pos_(pos), left_(left) {
    load();
}

void CompoundView::Iterator::load() {
    current_ = PacketView::parse(pos_, left_);
    if (!current_) {
        pos_ = nullptr;
        left_ = 0;
    }
}

CompoundView::Iterator& CompoundView::Iterator::operator++() {
    const size_t step = current_->size();
    pos_ += step;
    left_ -= step;
    load();
    return *this;
}

size_t CompoundView::validSize() const {
    size_t offset = 0;
    for (const PacketView pkt : *this) {
        offset += pkt.size();
    }
    return offset;
}

size_t CompoundView::packetCount() const {
    size_t n = 0;
    for (auto it = begin(); it != end(); ++it) {
        ++n;
    }
    return n;
}

} // namespace sfu::rtcp
