// Value forms of every packet in one variant, decoding from a PacketView and
// writing compounds. The views are the allocation-free path for the media
// plane; this is the convenient one for control code, tests and tools.
#pragma once

#include "protocol/rtcp/ByeApp.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Sdes.hpp"
#include "protocol/rtcp/TransportCc.hpp"
#include "protocol/rtcp/Xr.hpp"

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace sfu::rtcp {

// A packet of a type or FMT this module does not model, kept verbatim (P bit
// and padding aside).
struct UnknownPacket {
    uint8_t type = 0;
    uint8_t count = 0;         // five bits
    std::vector<uint8_t> body; // a multiple of four octets

    size_t size() const { return kHeaderSize + body.size(); }
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const UnknownPacket&) const = default;
};

using Packet = std::variant<SenderReport, ReceiverReport, Sdes, Bye, App, Xr, Nack, Tmmbr, Tmmbn,
                            SrReq, Tllei, Ecn, TransportCc, Pli, Sli, Rpsi, Fir, Tstr, Tstn, Vbcm,
                            PsLei, Remb, Afb, UnknownPacket>;

// The value form of one packet, or nullopt when a known type is malformed
// (counts that do not fit, bad item lengths...). Unknown types and FMTs come
// back as UnknownPacket; PSFB FMT 15 that is not a valid REMB as Afb.
std::optional<Packet> decode(const PacketView& pkt);

// Every packet of a well-formed compound, or nullopt when the compound or any
// packet in it is malformed.
std::optional<std::vector<Packet>> decodeCompound(const uint8_t* data, size_t len);

size_t packetSize(const Packet& p);
// Bytes written, or 0 when `cap` is too small or the contents cannot be
// encoded (too many items, oversized fields...).
size_t serialize(const Packet& p, uint8_t* out, size_t cap);

// Appends packets into one buffer:
//   CompoundWriter w(buf, sizeof buf);
//   w.add(rr) && w.add(sdes);
//   send(buf, w.size());
class CompoundWriter {
public:
    CompoundWriter(uint8_t* out, size_t cap) : out_(out), cap_(cap) {}

    // Anything with serialize(out, cap): the value types and the builder.
    // False, with nothing written, when it does not fit.
    template <typename P>
    bool add(const P& packet) {
        const size_t n = packet.serialize(out_ + size_, cap_ - size_);
        size_ += n;
        return n > 0;
    }
    bool add(const Packet& packet) {
        const size_t n = serialize(packet, out_ + size_, cap_ - size_);
        size_ += n;
        return n > 0;
    }

    size_t size() const { return size_; }
    size_t room() const { return cap_ - size_; }
    uint8_t* cursor() const { return out_ + size_; }
    // For the allocation-free write*() functions: report bytes they wrote at
    // cursor().
    void advance(size_t n) { size_ += n; }

private:
    uint8_t* out_;
    size_t cap_;
    size_t size_ = 0;
};

} // namespace sfu::rtcp
