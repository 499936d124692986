// ASCII case handling for protocol tokens (MIME types, codec names): locale
// independent, unlike <cctype>, so a token compares the same everywhere.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sfu::strings {

inline constexpr char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline std::string toLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = asciiLower(c);
    }
    return out;
}

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) {
            return false;
        }
    }
    return true;
}

} // namespace sfu::strings
