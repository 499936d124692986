// What every entity under the Worker shares: the loop, the channels to the
// host and the settings. Passed down the tree by reference; it outlives
// every entity.
#pragma once

#include "Settings.hpp"
#include "channel/ChannelSocket.hpp"

#include <uv.h>

namespace sfu::rtc {

class PortManager;

struct Shared {
    uv_loop_t* loop;
    channel::ChannelSocket& channel;
    channel::PayloadChannelSocket& payloadChannel;
    const Settings& settings;
    PortManager& portManager;
};

} // namespace sfu::rtc
