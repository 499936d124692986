// Feeds arbitrary bytes, as one message, to the channel's request parsing:
// the nesting pre-scan, the head reader for refused messages, and the
// request parser, with their results checked against each other and, for
// messages within the depth limit, against nlohmann's own parse.
#include "FuzzUtil.hpp"
#include "channel/JsonScan.hpp"
#include "channel/Request.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

using sfu::channel::json;
using sfu::fuzz::check;

struct NullResponder : sfu::channel::Responder {
    void sendResponse(const json& response) override { (void)response.dump(); }
};

// The deepest nesting of a parsed value, without recursion.
size_t treeDepth(const json& root) {
    size_t deepest = 0;
    std::vector<std::pair<const json*, size_t>> stack{{&root, 0}};
    while (!stack.empty()) {
        const auto [value, depth] = stack.back();
        stack.pop_back();
        if (!value->is_structured()) {
            continue;
        }
        deepest = std::max(deepest, depth + 1);
        for (const json& child : *value) {
            stack.emplace_back(&child, depth + 1);
        }
    }
    return deepest;
}

// What the head reader must say about a parsed object.
void checkHead(const json& value, const std::optional<sfu::channel::MessageHead>& head) {
    check(head.has_value() == value.is_object());
    if (!head) {
        return;
    }
    const auto id = value.find("id");
    const bool validId = id != value.end() && id->is_number_unsigned() &&
                         id->get<uint64_t>() != 0 && id->get<uint64_t>() <= UINT32_MAX;
    check(head->id.has_value() == validId);
    if (validId) {
        check(*head->id == id->get<uint64_t>());
    }
    for (const auto& [key, member] :
         {std::pair{"method", &head->method}, std::pair{"event", &head->event}}) {
        const auto it = value.find(key);
        const bool isString = it != value.end() && it->is_string();
        check(member->has_value() == isString);
        if (isString) {
            check(**member == it->get_ref<const std::string&>());
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr size_t kLimit = sfu::channel::kMaxJsonDepth;
    const size_t depth = sfu::channel::jsonNestingDepth(text, kLimit);
    check(depth <= kLimit + 1);

    NullResponder responder;
    try {
        auto request = sfu::channel::Request::parse(data, size, &responder);
        check(depth <= kLimit);
        check(request.id() != 0);
        request.accept(request.data());
    } catch (const sfu::channel::MalformedRequest&) {
        check(depth <= kLimit);
    } catch (const sfu::channel::MessageTooDeep& e) {
        check(depth > kLimit);
        const json response = e.response();
        if (!response.is_null()) {
            check(e.head() && e.head()->id && *e.head()->id != 0 && e.head()->method);
            check(response["error"] == "Error" && response["id"] == *e.head()->id);
        }
    }

    if (depth <= kLimit) {
        const json value = json::parse(text.begin(), text.end(), nullptr, false);
        if (!value.is_discarded()) {
            // The pre-scan is exact on valid JSON, where no key repeats: the
            // tree keeps only the last value of a repeated key, so the text
            // may nest deeper than the tree. The head reader agrees with the
            // tree.
            check(sfu::channel::jsonNestingDepth(text, SIZE_MAX - 1) >= treeDepth(value));
            checkHead(value, sfu::channel::readMessageHead(text));
        } else {
            check(!sfu::channel::readMessageHead(text).has_value());
        }
    } else {
        // Must terminate without recursion whatever the depth.
        (void)sfu::channel::readMessageHead(text);
    }
    return 0;
}
