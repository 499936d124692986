#include "Logger.hpp"

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>

namespace sfu {

namespace {

constexpr std::array<std::string_view, 4> kLevelNames{"debug", "warn", "error", "none"};
constexpr std::array<std::string_view, static_cast<size_t>(LogTag::Count)> kTagNames{
    "info", "ice",   "dtls",      "rtp", "srtp", "rtcp",   "rtx",
    "bwe",  "score", "simulcast", "svc", "sctp", "message"};

// Long enough for any line the worker writes; longer ones are cut.
constexpr size_t kMaxLineLength = 8192;

} // namespace

std::optional<LogLevel> parseLogLevel(std::string_view name) {
    for (size_t i = 0; i < kLevelNames.size(); ++i) {
        if (kLevelNames[i] == name) {
            return static_cast<LogLevel>(i);
        }
    }
    return std::nullopt;
}

std::optional<LogTag> parseLogTag(std::string_view name) {
    for (size_t i = 0; i < kTagNames.size(); ++i) {
        if (kTagNames[i] == name) {
            return static_cast<LogTag>(i);
        }
    }
    return std::nullopt;
}

std::string_view logLevelName(LogLevel level) {
    return kLevelNames[static_cast<size_t>(level)];
}

std::string_view logTagName(LogTag tag) {
    return kTagNames[static_cast<size_t>(tag)];
}

void Logger::write(char prefix, const char* format, ...) {
    static char line[kMaxLineLength];
    line[0] = prefix;
    va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(line + 1, sizeof(line) - 1, format, args);
    va_end(args);
    if (n < 0) {
        return;
    }
    const size_t length = 1 + std::min(static_cast<size_t>(n), sizeof(line) - 2);
    if (sink_ != nullptr) {
        sink_->writeLogLine(std::string_view(line, length));
    } else {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(length), line);
    }
}

} // namespace sfu
