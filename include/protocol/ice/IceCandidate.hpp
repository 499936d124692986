// ICE host candidate priorities (RFC 8445 5.1.2.1):
//
//   priority = 2^24 * typePreference + 2^8 * localPreference + (256 - componentId)
//
// We only offer host candidates, all with type preference 126 (the RFC's
// recommended host value), and only component 1 (RTP and RTCP are muxed), so
// the local preference alone orders our candidates:
//
//   localPreference = (preferred protocol ? 65535 : 32767) - listenIpIndex
//
// The preferred protocol is UDP unless preferTcp is set without preferUdp
// (mediasoup's rule: UDP wins by default). Protocol outranks listen IP order,
// so a peer tries every candidate of the preferred protocol, in the order the
// listen IPs were given, before any of the other. TCP keeps the host type
// preference rather than a lower one (RFC 6544 allows either) because a lower
// type preference would outrank the local preference and make preferTcp
// impossible to honour.
#pragma once

#include "protocol/ice/Tuple.hpp"

#include <cstddef>
#include <cstdint>

namespace sfu::ice {

inline constexpr uint8_t kHostTypePreference = 126;
// RTP with rtcp-mux: the only component a WebRTC transport has.
inline constexpr unsigned kRtpComponentId = 1;

// The RFC formula. `componentId` is 1..256; values outside are clamped.
constexpr uint32_t candidatePriority(uint8_t typePreference, uint16_t localPreference,
                                     unsigned componentId = kRtpComponentId) {
    const unsigned component = componentId < 1 ? 1 : (componentId > 256 ? 256 : componentId);
    return (uint32_t{typePreference} << 24) + (uint32_t{localPreference} << 8) + (256 - component);
}

// Local preference of the host candidate for listen IP number
// `listenIpIndex` (0 first) over `protocol`. Indexes past 32767 share the
// lowest value.
constexpr uint16_t hostLocalPreference(Protocol protocol, size_t listenIpIndex, bool preferUdp,
                                       bool preferTcp) {
    const Protocol preferred = (preferTcp && !preferUdp) ? Protocol::Tcp : Protocol::Udp;
    const size_t base = protocol == preferred ? 65535 : 32767;
    const size_t step = listenIpIndex > 32767 ? 32767 : listenIpIndex;
    return static_cast<uint16_t>(base - step);
}

constexpr uint32_t hostCandidatePriority(Protocol protocol, size_t listenIpIndex, bool preferUdp,
                                         bool preferTcp) {
    return candidatePriority(kHostTypePreference,
                             hostLocalPreference(protocol, listenIpIndex, preferUdp, preferTcp));
}

} // namespace sfu::ice
