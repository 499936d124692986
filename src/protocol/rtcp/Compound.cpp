#include "protocol/rtcp/Compound.hpp"

#include <cstring>

namespace sfu::rtcp {

size_t UnknownPacket::serialize(uint8_t* out, size_t cap) const {
    const size_t total = size();
    if (count > kMaxCount || body.size() % 4 != 0 || out == nullptr || total > cap ||
        total > kMaxPacketSize) {
        return 0;
    }
    detail::writeHeader(out, count, type, total);
    if (!body.empty()) {
        std::memcpy(out + kHeaderSize, body.data(), body.size());
    }
    return total;
}

namespace {

template <typename T>
std::optional<Packet> decodeAs(const PacketView& pkt) {
    if (const auto v = T::View::parse(pkt)) {
        return Packet(T::from(*v));
    }
    return std::nullopt;
}

Packet unknown(const PacketView& pkt) {
    return UnknownPacket{pkt.type(), pkt.count(), {pkt.body(), pkt.body() + pkt.bodySize()}};
}

std::optional<Packet> decodeRtpfb(const PacketView& pkt) {
    switch (static_cast<RtpfbFmt>(pkt.count())) {
    case RtpfbFmt::Nack:
        return decodeAs<Nack>(pkt);
    case RtpfbFmt::Tmmbr:
        return decodeAs<Tmmbr>(pkt);
    case RtpfbFmt::Tmmbn:
        return decodeAs<Tmmbn>(pkt);
    case RtpfbFmt::SrReq:
        return decodeAs<SrReq>(pkt);
    case RtpfbFmt::Tllei:
        return decodeAs<Tllei>(pkt);
    case RtpfbFmt::Ecn:
        return decodeAs<Ecn>(pkt);
    case RtpfbFmt::TransportCc:
        if (const auto v = TransportCcView::parse(pkt)) {
            return TransportCc::from(*v);
        }
        return std::nullopt;
    }
    return FeedbackView::parse(pkt) ? std::optional<Packet>(unknown(pkt)) : std::nullopt;
}

std::optional<Packet> decodePsfb(const PacketView& pkt) {
    switch (static_cast<PsfbFmt>(pkt.count())) {
    case PsfbFmt::Pli:
        return decodeAs<Pli>(pkt);
    case PsfbFmt::Sli:
        return decodeAs<Sli>(pkt);
    case PsfbFmt::Rpsi:
        if (const auto v = RpsiView::parse(pkt)) {
            return Rpsi::from(*v);
        }
        return std::nullopt;
    case PsfbFmt::Fir:
        return decodeAs<Fir>(pkt);
    case PsfbFmt::TstR:
        return decodeAs<Tstr>(pkt);
    case PsfbFmt::TstN:
        return decodeAs<Tstn>(pkt);
    case PsfbFmt::Vbcm:
        if (const auto v = VbcmView::parse(pkt)) {
            return Vbcm::from(*v);
        }
        return std::nullopt;
    case PsfbFmt::Lei:
        return decodeAs<PsLei>(pkt);
    case PsfbFmt::Afb:
        if (const auto v = RembView::parse(pkt)) {
            return Remb::from(*v);
        }
        if (const auto fb = FeedbackView::parse(pkt)) {
            return Afb::from(*fb);
        }
        return std::nullopt;
    }
    return FeedbackView::parse(pkt) ? std::optional<Packet>(unknown(pkt)) : std::nullopt;
}

} // namespace

std::optional<Packet> decode(const PacketView& pkt) {
    switch (static_cast<PacketType>(pkt.type())) {
    case PacketType::SR:
        if (const auto v = SenderReportView::parse(pkt)) {
            return SenderReport::from(*v);
        }
        return std::nullopt;
    case PacketType::RR:
        if (const auto v = ReceiverReportView::parse(pkt)) {
            return ReceiverReport::from(*v);
        }
        return std::nullopt;
    case PacketType::SDES:
        if (const auto v = SdesView::parse(pkt)) {
            return Sdes::from(*v);
        }
        return std::nullopt;
    case PacketType::BYE:
        if (const auto v = ByeView::parse(pkt)) {
            return Bye::from(*v);
        }
        return std::nullopt;
    case PacketType::APP:
        if (const auto v = AppView::parse(pkt)) {
            return App::from(*v);
        }
        return std::nullopt;
    case PacketType::XR:
        if (const auto v = XrView::parse(pkt)) {
            return Xr::from(*v);
        }
        return std::nullopt;
    case PacketType::RTPFB:
        return decodeRtpfb(pkt);
    case PacketType::PSFB:
        return decodePsfb(pkt);
    }
    return unknown(pkt);
}

std::optional<std::vector<Packet>> decodeCompound(const uint8_t* data, size_t len) {
    const CompoundView compound(data, len);
    if (!compound.valid()) {
        return std::nullopt;
    }
    std::vector<Packet> packets;
    for (const PacketView pkt : compound) {
        auto p = decode(pkt);
        if (!p) {
            return std::nullopt;
        }
        packets.push_back(std::move(*p));
    }
    return packets;
}

size_t packetSize(const Packet& p) {
    return std::visit([](const auto& v) { return v.size(); }, p);
}

size_t serialize(const Packet& p, uint8_t* out, size_t cap) {
    return std::visit([&](const auto& v) { return v.serialize(out, cap); }, p);
}

} // namespace sfu::rtcp
