// Channel plumbing for tests that run entities of the media path in
// process: a listener that ignores what the host would send, a responder
// that keeps the last answer, and socketpairs standing in for the host's
// pipes.
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace sfu::test {

struct NoopChannelListener : channel::ChannelSocket::Listener,
                             channel::PayloadChannelSocket::Listener {
    void onChannelRequest(channel::Request&) override {}
    void onChannelEnd() override {}
    void onPayloadNotification(const channel::PayloadNotification&) override {}
    void onPayloadRequest(channel::Request&) override {}
};

struct CaptureResponder : channel::Responder {
    channel::json last;
    void sendResponse(const channel::json& response) override { last = response; }
};

struct SocketPair {
    int fds[2];
    SocketPair() { socketpair(AF_UNIX, SOCK_STREAM, 0, fds); }
    ~SocketPair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
};

} // namespace sfu::test
