#include "protocol/rtcp/ByeApp.hpp"

#include <cstring>

namespace sfu::rtcp {

std::optional<ByeView> ByeView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::BYE)) {
        return std::nullopt;
    }
    const size_t ssrcBytes = size_t{pkt.count()} * 4;
    if (pkt.bodySize() < ssrcBytes) {
        return std::nullopt;
    }
    if (pkt.bodySize() > ssrcBytes) {
        const size_t reasonLen = pkt.body()[ssrcBytes];
        if (ssrcBytes + 1 + reasonLen > pkt.bodySize()) {
            return std::nullopt;
        }
    }
    return ByeView(pkt);
}

std::optional<std::string_view> ByeView::reason() const {
    const size_t ssrcBytes = size_t{pkt_.count()} * 4;
    if (pkt_.bodySize() <= ssrcBytes) {
        return std::nullopt;
    }
    const uint8_t* p = pkt_.body() + ssrcBytes;
    return std::string_view(reinterpret_cast<const char*>(p + 1), p[0]);
}

Bye Bye::from(const ByeView& v) {
    Bye b;
    const auto ssrcs = v.ssrcs();
    b.ssrcs.assign(ssrcs.begin(), ssrcs.end());
    if (const auto reason = v.reason()) {
        b.reason = std::string(*reason);
    }
    return b;
}

size_t Bye::size() const {
    size_t size = kHeaderSize + ssrcs.size() * 4;
    if (reason) {
        size += 1 + reason->size();
        size += bytes::padTo4(size);
    }
    return size;
}

size_t Bye::serialize(uint8_t* out, size_t cap) const {
    std::optional<std::string_view> r;
    if (reason) {
        r = *reason;
    }
    return writeBye(ssrcs, r, out, cap);
}

size_t writeBye(std::span<const uint32_t> ssrcs, std::optional<std::string_view> reason,
                uint8_t* out, size_t cap) {
    if (ssrcs.size() > kMaxCount || (reason && reason->size() > 255)) {
        return 0;
    }
    size_t size = kHeaderSize + ssrcs.size() * 4;
    if (reason) {
        size += 1 + reason->size();
        size += bytes::padTo4(size);
    }
    if (out == nullptr || size > cap) {
        return 0;
    }
    detail::writeHeader(out, static_cast<uint8_t>(ssrcs.size()),
                        static_cast<uint8_t>(PacketType::BYE), size);
    uint8_t* p = out + kHeaderSize;
    for (const uint32_t ssrc : ssrcs) {
        bytes::set32(p, ssrc);
        p += 4;
    }
    if (reason) {
        p[0] = static_cast<uint8_t>(reason->size());
        if (!reason->empty()) {
            std::memcpy(p + 1, reason->data(), reason->size());
        }
        p += 1 + reason->size();
        std::memset(p, 0, static_cast<size_t>(out + size - p));
    }
    return size;
}

std::optional<AppView> AppView::parse(const PacketView& pkt) {
    if (!pkt.is(PacketType::APP) || pkt.bodySize() < 8) {
        return std::nullopt;
    }
    return AppView(pkt);
}

App App::from(const AppView& v) {
    App a;
    a.subtype = v.subtype();
    a.ssrc = v.ssrc();
    const std::string_view name = v.name();
    std::memcpy(a.name.data(), name.data(), 4);
    const auto data = v.data();
    a.data.assign(data.begin(), data.end());
    return a;
}

size_t App::serialize(uint8_t* out, size_t cap) const {
    const size_t total = size();
    if (subtype > kMaxCount || data.size() % 4 != 0 || out == nullptr || total > cap ||
        total > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, subtype, static_cast<uint8_t>(PacketType::APP), total);
    bytes::set32(out + 4, ssrc);
    std::memcpy(out + 8, name.data(), 4);
    if (!data.empty()) {
        std::memcpy(out + 12, data.data(), data.size());
    }
    return total;
}

} // namespace sfu::rtcp
