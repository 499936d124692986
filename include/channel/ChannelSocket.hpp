// The two channels to the host.
//  - ChannelSocket (fd 3 in, fd 4 out): JSON requests in; responses,
//    notifications and log lines out.
//  - PayloadChannelSocket (fd 5 in, fd 6 out): every message is a pair of
//    netstrings, JSON then raw payload (RTP, RTCP or a data-channel message),
//    except responses, which are a single JSON netstring.
#pragma once

#include "Logger.hpp"
#include "channel/Netstring.hpp"
#include "channel/Request.hpp"
#include "deps/UvPipe.hpp"

#include <optional>
#include <string>

namespace sfu::channel {

// A read fd and a write fd speaking netstrings.
class NetstringSocket : private deps::UvPipe::Listener, private NetstringDecoder::Listener {
public:
    NetstringSocket(uv_loop_t* loop, int readFd, int writeFd, const char* name);
    ~NetstringSocket() override;

    // Writes each part as one netstring, all in one ordered write.
    void send(std::string_view part);
    void send(std::string_view part1, std::string_view part2);
    void close();
    bool closed() const { return closed_; }

protected:
    virtual void onMessage(const uint8_t* data, size_t length) = 0;
    virtual void onEnd() = 0;
    // The stream was garbage and has been dropped; forget partial state.
    virtual void onStreamReset() {}
    const char* name() const { return name_; }

private:
    void onPipeData(const uint8_t* data, size_t length) override;
    void onPipeEnd() override;
    void onNetstring(const uint8_t* data, size_t length) override;
    void onNetstringError(const char* reason) override;

    const char* name_;
    NetstringDecoder decoder_;
    deps::UvPipe reader_;
    deps::UvPipe writer_;
    bool closed_ = false;
};

class ChannelSocket final : public NetstringSocket, public Responder, public LogSink {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onChannelRequest(Request& request) = 0;
        // The host closed fd 3.
        virtual void onChannelEnd() = 0;
    };

    ChannelSocket(uv_loop_t* loop, int readFd, int writeFd, Listener& listener);

    void notify(const std::string& targetId, std::string_view event);
    void notify(const std::string& targetId, std::string_view event, const json& data);
    void sendResponse(const json& response) override;
    void writeLogLine(std::string_view line) override;

private:
    void onMessage(const uint8_t* data, size_t length) override;
    void onEnd() override;

    Listener& listener_;
};

// A payload-channel notification from the host (e.g. producer.send + RTP).
struct PayloadNotification {
    PayloadEvent event;
    const json& internal;
    const json& data;
    const uint8_t* payload;
    size_t payloadLength;
};

class PayloadChannelSocket final : public NetstringSocket, public Responder {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onPayloadNotification(const PayloadNotification& notification) = 0;
        virtual void onPayloadRequest(Request& request) = 0;
    };

    PayloadChannelSocket(uv_loop_t* loop, int readFd, int writeFd, Listener& listener);

    // A notification with its payload, e.g. a consumer's "rtp" event.
    void notify(const std::string& targetId, std::string_view event, const json* data,
                const uint8_t* payload, size_t payloadLength);
    void sendResponse(const json& response) override;

private:
    void onMessage(const uint8_t* data, size_t length) override;
    void onEnd() override {}
    void onStreamReset() override {
        pendingRequest_.reset();
        pendingNotification_.reset();
        skipPayload_ = false;
    }
    void refuseTooDeep(const MessageTooDeep& e);

    struct PendingNotification {
        PayloadEvent event;
        json message;
    };

    Listener& listener_;
    // The JSON half of a pair, waiting for its payload.
    std::optional<Request> pendingRequest_;
    std::optional<PendingNotification> pendingNotification_;
    // The next netstring is the payload of a message refused for its depth.
    bool skipPayload_ = false;
};

} // namespace sfu::channel
