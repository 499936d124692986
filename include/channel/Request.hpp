// A request from the host: `{"id":N,"method":"...","internal":{...},"data":{...}}`.
// Handlers answer it once, with accept() or with an error; a handler that
// throws sfu::TypeError / sfu::Error is answered by the channel.
#pragma once

#include "channel/JsonScan.hpp"
#include "channel/Method.hpp"

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace sfu::channel {

using json = nlohmann::json;

// Where a request's answer goes (the channel or the payload channel).
class Responder {
public:
    virtual ~Responder() = default;
    virtual void sendResponse(const json& response) = 0;
};

// A message that cannot be a request at all (not JSON, no valid id): it is
// logged and dropped, since there is no id to answer.
class MalformedRequest : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A message nested deeper than kMaxJsonDepth, refused before parsing. When
// it is a request with a valid id and method, it is answered with an Error
// (response()); anything else is logged and dropped like garbage.
class MessageTooDeep : public std::runtime_error {
public:
    explicit MessageTooDeep(std::optional<MessageHead> head);

    // What the message says it is; empty when it is not a valid JSON object.
    const std::optional<MessageHead>& head() const { return head_; }
    // {"id":N,"error":"Error","reason":what()} for a request that names a
    // valid id and a method; null otherwise.
    json response() const;

private:
    std::optional<MessageHead> head_;
};

// Parses a JSON message from the host (a request or a payload-channel
// notification). Throws MessageTooDeep for one nested deeper than
// kMaxJsonDepth, before any tree is built. Returns a discarded value when
// the text is not JSON.
json parseMessage(const uint8_t* data, size_t length);

class Request {
public:
    // Parses a request; throws MalformedRequest when it has no usable id or
    // method, MessageTooDeep when it nests too deeply (parseMessage). An
    // unknown method parses (method() is empty) so that it can be answered
    // with an error.
    static Request parse(const uint8_t* data, size_t length, Responder* responder);
    static Request fromJson(json&& message, Responder* responder);

    uint32_t id() const { return id_; }
    const std::string& methodName() const { return methodName_; }
    std::optional<Method> method() const { return method_; }
    const json& internal() const { return internal_; }
    const json& data() const { return data_; }

    // A string field of `internal` (e.g. "routerId"); throws sfu::Error
    // naming it when absent or not a string.
    const std::string& internalId(const char* key) const;

    // Raw bytes that came with a payload-channel request.
    const uint8_t* payload() const { return payload_; }
    size_t payloadLength() const { return payloadLength_; }
    void setPayload(const uint8_t* data, size_t length) {
        payload_ = data;
        payloadLength_ = length;
    }

    bool replied() const { return replied_; }
    void accept();
    void accept(json data);
    void typeError(const std::string& reason) { reject("TypeError", reason); }
    void error(const std::string& reason) { reject("Error", reason); }

private:
    Request() = default;
    void reject(const char* kind, const std::string& reason);

    uint32_t id_ = 0;
    std::string methodName_;
    std::optional<Method> method_;
    json internal_;
    json data_;
    Responder* responder_ = nullptr;
    const uint8_t* payload_ = nullptr;
    size_t payloadLength_ = 0;
    bool replied_ = false;
};

// Runs a request handler and turns what it throws into the response:
// sfu::TypeError and JSON type errors become "TypeError", anything else "Error".
void runRequest(Request& request, const std::function<void(Request&)>& handler);

} // namespace sfu::channel
