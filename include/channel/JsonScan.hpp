// Looks at a JSON message from the host without building it. nlohmann::json
// parses iteratively, but copying, comparing and serialising a value recurse
// once per level of nesting, and request handlers copy parts of requests: a
// request nested a few hundred thousand levels deep would overflow the
// stack. So both channels measure the nesting of a message before parsing
// it, and refuse one deeper than kMaxJsonDepth; what they need to answer or
// drop a refused message (its id, method or event) comes from a scan that
// keeps no tree and recurses nowhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfu::channel {

// The deepest nesting of arrays and objects a message from the host may
// have: `{"id":1,"data":{"a":[1]}}` has 3. The host's deepest requests
// (transport.produce / consume: data.rtpParameters.codecs[].rtcpFeedback[])
// have 7.
constexpr size_t kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in `text`, counting the
// brackets outside strings up to a NUL outside strings (where nlohmann's
// parser stops reading). Stops at the first level beyond `limit` and
// returns limit + 1 then. Exact for valid JSON; for invalid JSON it covers
// at least the part a parser reads before its error. Linear, no allocation.
size_t jsonNestingDepth(std::string_view text, size_t limit);

// The members of a message's top-level object that say what it is.
struct MessageHead {
    // "id" when it is a valid request id (an integer 1..2^32-1).
    std::optional<uint32_t> id;
    std::optional<std::string> method;
    std::optional<std::string> event;
};

// Reads the head of a JSON object message with a SAX pass that keeps one
// bit per nesting level and no tree. Empty when `text` is not valid JSON or
// not an object. A member given twice counts with its last value, as in the
// parsed tree.
std::optional<MessageHead> readMessageHead(std::string_view text);

} // namespace sfu::channel
