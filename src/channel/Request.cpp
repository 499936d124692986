#include "channel/Request.hpp"

#include "utils/Errors.hpp"

namespace sfu::channel {

namespace {

// Moves out an object member; absent or non-object members become {}.
json takeObject(json& message, const char* key) {
    const auto field = message.find(key);
    if (field == message.end() || !field->is_object()) {
        return json::object();
    }
    return std::move(*field);
}

std::string tooDeepReason() {
    return "JSON nesting deeper than " + std::to_string(kMaxJsonDepth) +
           " levels of arrays and objects";
}

} // namespace

MessageTooDeep::MessageTooDeep(std::optional<MessageHead> head)
    : std::runtime_error(tooDeepReason()), head_(std::move(head)) {}

json MessageTooDeep::response() const {
    if (!head_ || !head_->id || !head_->method) {
        return nullptr;
    }
    return json{{"id", *head_->id}, {"error", "Error"}, {"reason", what()}};
}

json parseMessage(const uint8_t* data, size_t length) {
    const std::string_view text(reinterpret_cast<const char*>(data), length);
    if (jsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
        throw MessageTooDeep(readMessageHead(text));
    }
    return json::parse(text.begin(), text.end(), nullptr, false);
}

Request Request::parse(const uint8_t* data, size_t length, Responder* responder) {
    json message = parseMessage(data, length);
    if (message.is_discarded()) {
        throw MalformedRequest("request is not valid JSON");
    }
    return fromJson(std::move(message), responder);
}

Request Request::fromJson(json&& message, Responder* responder) {
    if (!message.is_object()) {
        throw MalformedRequest("request is not a JSON object");
    }
    const auto id = message.find("id");
    if (id == message.end() || !id->is_number_unsigned() || id->get<uint64_t>() == 0 ||
        id->get<uint64_t>() > UINT32_MAX) {
        throw MalformedRequest("request has no valid id");
    }
    const auto method = message.find("method");
    if (method == message.end() || !method->is_string()) {
        throw MalformedRequest("request has no method");
    }
    Request request;
    request.id_ = id->get<uint32_t>();
    request.methodName_ = method->get<std::string>();
    request.method_ = methodFromName(request.methodName_);
    request.responder_ = responder;
    request.internal_ = takeObject(message, "internal");
    request.data_ = takeObject(message, "data");
    return request;
}

const std::string& Request::internalId(const char* key) const {
    const auto it = internal_.find(key);
    if (it == internal_.end() || !it->is_string()) {
        throw Error(std::string("missing internal.") + key);
    }
    return it->get_ref<const std::string&>();
}

void Request::accept() {
    if (replied_) {
        return;
    }
    replied_ = true;
    responder_->sendResponse(json{{"id", id_}, {"accepted", true}});
}

void Request::accept(json data) {
    if (replied_) {
        return;
    }
    replied_ = true;
    responder_->sendResponse(json{{"id", id_}, {"accepted", true}, {"data", std::move(data)}});
}

void Request::reject(const char* kind, const std::string& reason) {
    if (replied_) {
        return;
    }
    replied_ = true;
    responder_->sendResponse(json{{"id", id_}, {"error", kind}, {"reason", reason}});
}

void runRequest(Request& request, const std::function<void(Request&)>& handler) {
    try {
        handler(request);
    } catch (const TypeError& e) {
        request.typeError(e.what());
    } catch (const json::exception& e) {
        // A field of the wrong JSON type deep in a handler.
        request.typeError(e.what());
    } catch (const std::exception& e) {
        request.error(e.what());
    }
}

} // namespace sfu::channel
