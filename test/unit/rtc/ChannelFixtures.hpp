// Channel plumbing for tests that run entities of the media path in
// process: a listener that ignores what the host would send, a responder
// that keeps the last answer, socketpairs standing in for the host's pipes
// and a reader of the notifications written to one.
#pragma once

#include "channel/ChannelSocket.hpp"
#include "channel/Request.hpp"

#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <vector>

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

// Reads the netstrings ("len:json,") a ChannelSocket wrote to the far end
// `fd` of its socketpair, running `loop` so that queued writes go out.
class NotificationReader {
public:
    NotificationReader(uv_loop_t* loop, int fd) : loop_(loop), fd_(fd) {}

    // Every notification read so far.
    const std::vector<channel::json>& all() {
        for (int round = 0; round < 4; ++round) {
            uv_run(loop_, UV_RUN_NOWAIT);
            char buffer[65536];
            ssize_t n = 0;
            while ((n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
                pending_.append(buffer, static_cast<size_t>(n));
            }
        }
        for (;;) {
            const size_t colon = pending_.find(':');
            if (colon == std::string::npos) {
                break;
            }
            const size_t length = std::stoul(pending_.substr(0, colon));
            if (pending_.size() < colon + 1 + length + 1) {
                break;
            }
            channel::json message =
                channel::json::parse(pending_.substr(colon + 1, length), nullptr, false);
            if (!message.is_discarded()) {
                received_.push_back(std::move(message));
            }
            pending_.erase(0, colon + 1 + length + 1);
        }
        return received_;
    }

    // The data of every `event` notification of `targetId` so far.
    std::vector<channel::json> events(const std::string& targetId, const std::string& event) {
        std::vector<channel::json> out;
        for (const auto& message : all()) {
            if (message.value("targetId", "") == targetId && message.value("event", "") == event) {
                out.push_back(message.contains("data") ? message["data"] : channel::json(nullptr));
            }
        }
        return out;
    }

private:
    uv_loop_t* loop_;
    int fd_;
    std::string pending_;
    std::vector<channel::json> received_;
};

} // namespace sfu::test
