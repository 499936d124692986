#include "channel/JsonScan.hpp"

#include <nlohmann/json.hpp>

namespace sfu::channel {

namespace {

using json = nlohmann::json;

// Collects the head members of the top-level object and ignores the rest.
// Only the depth is tracked; the parser itself keeps a bit per level.
class HeadReader final : public nlohmann::json_sax<json> {
public:
    MessageHead head;
    bool rootIsObject = false;

    bool null() override { return scalar(); }
    bool boolean(bool /*value*/) override { return scalar(); }
    bool number_integer(number_integer_t /*value*/) override { return scalar(); }
    bool number_unsigned(number_unsigned_t value) override {
        if (atHead() && key_ == Key::Id) {
            key_ = Key::Other;
            if (value != 0 && value <= UINT32_MAX) {
                head.id = static_cast<uint32_t>(value);
            } else {
                head.id.reset();
            }
            return true;
        }
        return scalar();
    }
    bool number_float(number_float_t /*value*/, const string_t& /*text*/) override {
        return scalar();
    }
    bool string(string_t& value) override {
        if (atHead() && (key_ == Key::Method || key_ == Key::Event)) {
            (key_ == Key::Method ? head.method : head.event) = std::move(value);
            key_ = Key::Other;
            return true;
        }
        return scalar();
    }
    bool binary(binary_t& /*value*/) override { return scalar(); }
    bool start_object(std::size_t /*elements*/) override {
        if (depth_ == 0) {
            rootIsObject = true;
        } else {
            scalar();
        }
        ++depth_;
        return true;
    }
    bool key(string_t& name) override {
        if (depth_ == 1) {
            key_ = name == "id"       ? Key::Id
                   : name == "method" ? Key::Method
                   : name == "event"  ? Key::Event
                                      : Key::Other;
        }
        return true;
    }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool start_array(std::size_t /*elements*/) override {
        scalar();
        ++depth_;
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*lastToken*/,
                     const nlohmann::detail::exception& /*error*/) override {
        return false;
    }

private:
    enum class Key { Other, Id, Method, Event };

    bool atHead() const { return depth_ == 1 && rootIsObject; }

    // A value that is not what its head member needs: the member is unset,
    // as a later duplicate of a wrong type replaces it in the parsed tree.
    bool scalar() {
        if (atHead()) {
            switch (key_) {
            case Key::Id:
                head.id.reset();
                break;
            case Key::Method:
                head.method.reset();
                break;
            case Key::Event:
                head.event.reset();
                break;
            case Key::Other:
                break;
            }
            key_ = Key::Other;
        }
        return true;
    }

    size_t depth_ = 0;
    Key key_ = Key::Other;
};

} // namespace

size_t jsonNestingDepth(std::string_view text, size_t limit) {
    size_t depth = 0;
    size_t deepest = 0;
    bool inString = false;
    const size_t size = text.size();
    for (size_t i = 0; i < size; ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\') {
                // The escaped character cannot end the string (\" or \\);
                // \uXXXX has no quote or backslash in its digits.
                ++i;
            } else if (c == '"') {
                inString = false;
            }
            continue;
        }
        switch (c) {
        case '\0':
            // nlohmann's lexer takes a NUL outside strings for the end of
            // the input: nothing after it is parsed.
            return deepest;
        case '"':
            inString = true;
            break;
        case '[':
        case '{':
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit) {
                    return deepest;
                }
            }
            break;
        case ']':
        case '}':
            // A surplus closing bracket is invalid JSON; keep counting from 0.
            if (depth > 0) {
                --depth;
            }
            break;
        default:
            break;
        }
    }
    return deepest;
}

std::optional<MessageHead> readMessageHead(std::string_view text) {
    HeadReader reader;
    if (!json::sax_parse(text.begin(), text.end(), &reader) || !reader.rootIsObject) {
        return std::nullopt;
    }
    return std::move(reader.head);
}

} // namespace sfu::channel
