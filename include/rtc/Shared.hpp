// What every entity under the Worker shares: the loop, the channels to the
// host and the settings. Passed down the tree by reference; it outlives
// every entity.
#pragma once

#include "Settings.hpp"
#include "channel/ChannelSocket.hpp"

#include <memory>
#include <uv.h>

namespace sfu::rtc {

class PortManager;
class SharedPorts;
} // namespace sfu::rtc

namespace sfu::dtls {
class DtlsContext;
} // namespace sfu::dtls

namespace sfu::rtc {

struct Shared {
    uv_loop_t* loop;
    channel::ChannelSocket& channel;
    channel::PayloadChannelSocket& payloadChannel;
    const Settings& settings;
    PortManager& portManager;
    // The worker's DTLS certificate and SSL context, built once.
    std::shared_ptr<const dtls::DtlsContext> dtlsContext;
    // The UDP and TCP ports every WebRtcTransport shares; nullptr when
    // neither setting is given (each transport binds its own ports).
    SharedPorts* sharedPorts;
};

} // namespace sfu::rtc
