// Goodbye (RFC 3550 6.6) and application-defined (RFC 3550 6.7) packets.
#pragma once

#include "protocol/rtcp/Items.hpp"
#include "protocol/rtcp/Packet.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::rtcp {

class ByeView {
public:
    // Type BYE with SC SSRCs and, when present, a reason that fits the body.
    static std::optional<ByeView> parse(const PacketView& pkt);

    ItemRange<SsrcCodec> ssrcs() const { return {pkt_.body(), pkt_.count()}; }
    std::optional<std::string_view> reason() const;
    const PacketView& packet() const { return pkt_; }

private:
    explicit ByeView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

struct Bye {
    std::vector<uint32_t> ssrcs;
    std::optional<std::string> reason; // at most 255 octets

    static Bye from(const ByeView& v);
    size_t size() const;
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Bye&) const = default;
};

size_t writeBye(std::span<const uint32_t> ssrcs, std::optional<std::string_view> reason,
                uint8_t* out, size_t cap);

class AppView {
public:
    // Type APP with at least the SSRC and the 4-octet name.
    static std::optional<AppView> parse(const PacketView& pkt);

    uint8_t subtype() const { return pkt_.count(); }
    uint32_t ssrc() const { return bytes::get32(pkt_.body()); }
    std::string_view name() const { return {reinterpret_cast<const char*>(pkt_.body() + 4), 4}; }
    std::span<const uint8_t> data() const { return {pkt_.body() + 8, pkt_.bodySize() - 8}; }
    const PacketView& packet() const { return pkt_; }

private:
    explicit AppView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

struct App {
    uint8_t subtype = 0; // five bits
    uint32_t ssrc = 0;
    std::array<char, 4> name{};
    std::vector<uint8_t> data; // a multiple of four octets

    static App from(const AppView& v);
    size_t size() const { return kHeaderSize + 8 + data.size(); }
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const App&) const = default;
};

} // namespace sfu::rtcp
