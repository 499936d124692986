#include "channel/ChannelSocket.hpp"

#include "Logger.hpp"

namespace sfu::channel {

NetstringSocket::NetstringSocket(uv_loop_t* loop, int readFd, int writeFd, const char* name)
    : name_(name), decoder_(*this), reader_(loop, readFd, this), writer_(loop, writeFd, nullptr) {}

NetstringSocket::~NetstringSocket() {
    close();
}

void NetstringSocket::send(std::string_view part) {
    char header[16];
    uv_buf_t bufs[3] = {
        uv_buf_init(header, static_cast<unsigned>(writeNetstringHeader(part.size(), header))),
        uv_buf_init(const_cast<char*>(part.data()), static_cast<unsigned>(part.size())),
        uv_buf_init(const_cast<char*>(","), 1)};
    writer_.write(bufs, 3);
}

void NetstringSocket::send(std::string_view part1, std::string_view part2) {
    char header1[16];
    char header2[16];
    uv_buf_t bufs[6] = {
        uv_buf_init(header1, static_cast<unsigned>(writeNetstringHeader(part1.size(), header1))),
        uv_buf_init(const_cast<char*>(part1.data()), static_cast<unsigned>(part1.size())),
        uv_buf_init(const_cast<char*>(","), 1),
        uv_buf_init(header2, static_cast<unsigned>(writeNetstringHeader(part2.size(), header2))),
        uv_buf_init(const_cast<char*>(part2.data()), static_cast<unsigned>(part2.size())),
        uv_buf_init(const_cast<char*>(","), 1)};
    writer_.write(bufs, 6);
}

void NetstringSocket::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    reader_.close();
    writer_.close();
}

void NetstringSocket::onPipeData(const uint8_t* data, size_t length) {
    if (!closed_) {
        decoder_.feed(data, length);
    }
}

void NetstringSocket::onPipeEnd() {
    if (!closed_) {
        onEnd();
    }
}

void NetstringSocket::onNetstring(const uint8_t* data, size_t length) {
    // A message that closes the socket ends the processing of the rest.
    if (!closed_) {
        onMessage(data, length);
    }
}

void NetstringSocket::onNetstringError(const char* reason) {
    SFU_ERROR("%s: invalid netstring, buffered data dropped: %s", name_, reason);
    onStreamReset();
}

ChannelSocket::ChannelSocket(uv_loop_t* loop, int readFd, int writeFd, Listener& listener)
    : NetstringSocket(loop, readFd, writeFd, "channel"), listener_(listener) {}

void ChannelSocket::notify(const std::string& targetId, std::string_view event) {
    send(json{{"targetId", targetId}, {"event", event}}.dump());
}

void ChannelSocket::notify(const std::string& targetId, std::string_view event, const json& data) {
    send(json{{"targetId", targetId}, {"event", event}, {"data", data}}.dump());
}

void ChannelSocket::sendResponse(const json& response) {
    const std::string text = response.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > kMaxNetstringPayload) {
        SFU_ERROR("channel: response too large (%zu bytes), answering with an error", text.size());
        send(json{
            {"id", response.value("id", 0u)}, {"error", "Error"}, {"reason", "response too large"}}
                 .dump());
        return;
    }
    send(text);
}

void ChannelSocket::writeLogLine(std::string_view line) {
    send(line);
}

void ChannelSocket::onMessage(const uint8_t* data, size_t length) {
    if (length == 0) {
        SFU_WARN("channel: empty message ignored");
        return;
    }
    try {
        Request request = Request::parse(data, length, this);
        SFU_DEBUG(Info, "request [id:%u, method:%s]", request.id(), request.methodName().c_str());
        listener_.onChannelRequest(request);
    } catch (const MalformedRequest& e) {
        SFU_ERROR("channel: discarding wrong request: %s", e.what());
    } catch (const MessageTooDeep& e) {
        const json response = e.response();
        if (response.is_null()) {
            SFU_ERROR("channel: discarding message without a valid id and method: %s", e.what());
            return;
        }
        SFU_ERROR("channel: refusing request [id:%u, method:%s]: %s", e.head()->id.value_or(0),
                  e.head()->method.value_or("").c_str(), e.what());
        sendResponse(response);
    }
}

void ChannelSocket::onEnd() {
    listener_.onChannelEnd();
}

PayloadChannelSocket::PayloadChannelSocket(uv_loop_t* loop, int readFd, int writeFd,
                                           Listener& listener)
    : NetstringSocket(loop, readFd, writeFd, "payload channel"), listener_(listener) {}

void PayloadChannelSocket::notify(const std::string& targetId, std::string_view event,
                                  const json* data, const uint8_t* payload, size_t payloadLength) {
    json message{{"targetId", targetId}, {"event", event}};
    if (data != nullptr) {
        message["data"] = *data;
    }
    send(message.dump(), std::string_view(reinterpret_cast<const char*>(payload), payloadLength));
}

void PayloadChannelSocket::sendResponse(const json& response) {
    send(response.dump());
}

void PayloadChannelSocket::onMessage(const uint8_t* data, size_t length) {
    if (pendingRequest_) {
        Request request = std::move(*pendingRequest_);
        pendingRequest_.reset();
        request.setPayload(data, length);
        listener_.onPayloadRequest(request);
        return;
    }
    if (pendingNotification_) {
        const PendingNotification pending = std::move(*pendingNotification_);
        pendingNotification_.reset();
        static const json kEmpty = json::object();
        const auto objectOrEmpty = [&](const char* key) -> const json& {
            const auto it = pending.message.find(key);
            return it != pending.message.end() && it->is_object() ? *it : kEmpty;
        };
        listener_.onPayloadNotification(PayloadNotification{
            pending.event, objectOrEmpty("internal"), objectOrEmpty("data"), data, length});
        return;
    }
    if (skipPayload_) {
        // The payload of a refused message.
        skipPayload_ = false;
        return;
    }
    // The JSON half. It is checked at once, so that a broken one does not
    // swallow the next message as its payload; the payload of a dropped
    // one then fails as JSON and is dropped as well.
    json message;
    try {
        message = parseMessage(data, length);
    } catch (const MessageTooDeep& e) {
        refuseTooDeep(e);
        return;
    }
    if (message.is_discarded() || !message.is_object()) {
        SFU_ERROR("payload channel: discarding message that is not a JSON object");
        return;
    }
    if (message.contains("id")) {
        try {
            pendingRequest_.emplace(Request::fromJson(std::move(message), this));
        } catch (const MalformedRequest& e) {
            SFU_ERROR("payload channel: discarding wrong request: %s", e.what());
        }
        return;
    }
    const auto event = message.find("event");
    const auto kind = event != message.end() && event->is_string()
                          ? payloadEventFromName(event->get_ref<const std::string&>())
                          : std::nullopt;
    if (!kind) {
        SFU_ERROR("payload channel: discarding message with no id and no known event");
        return;
    }
    pendingNotification_.emplace(PendingNotification{*kind, std::move(message)});
}

void PayloadChannelSocket::refuseTooDeep(const MessageTooDeep& e) {
    // A request is answered, and a request or notification the host will
    // send a payload after has that payload skipped, so that the pairing
    // of the next messages holds. Anything else is dropped like garbage.
    const auto& head = e.head();
    const bool request = head && head->id;
    const bool notification =
        head && !head->id && head->event && payloadEventFromName(*head->event);
    if (!request && !notification) {
        SFU_ERROR("payload channel: discarding message with no id and no known event: %s",
                  e.what());
        return;
    }
    skipPayload_ = true;
    const json response = e.response();
    if (response.is_null()) {
        SFU_ERROR("payload channel: discarding message and its payload: %s", e.what());
        return;
    }
    SFU_ERROR("payload channel: refusing request [id:%u, method:%s]: %s", head->id.value_or(0),
              head->method.value_or("").c_str(), e.what());
    sendResponse(response);
}

} // namespace sfu::channel
