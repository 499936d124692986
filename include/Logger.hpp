// The worker's logger. Log lines travel to the host on the channel as
// netstrings whose first byte is the level ('D', 'W', 'E'; 'X' for dump
// output). Debug lines are filtered by level and tag, warnings and errors by
// level only. The macros test the filter before any formatting happens, so a
// disabled log line costs one branch on the media path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sfu {

enum class LogLevel : uint8_t { Debug = 0, Warn = 1, Error = 2, None = 3 };

enum class LogTag : uint8_t {
    Info,
    Ice,
    Dtls,
    Rtp,
    Srtp,
    Rtcp,
    Rtx,
    Bwe,
    Score,
    Simulcast,
    Svc,
    Sctp,
    Message,
    Count
};

std::optional<LogLevel> parseLogLevel(std::string_view name);
std::optional<LogTag> parseLogTag(std::string_view name);
std::string_view logLevelName(LogLevel level);
std::string_view logTagName(LogTag tag);

constexpr uint32_t logTagBit(LogTag tag) {
    return 1u << static_cast<uint32_t>(tag);
}

// Where finished log lines go (the channel). Without a sink they go to stderr.
class LogSink {
public:
    virtual ~LogSink() = default;
    // `line` starts with the level byte.
    virtual void writeLogLine(std::string_view line) = 0;
};

class Logger {
public:
    static void configure(LogLevel level, uint32_t tagMask) {
        level_ = level;
        tagMask_ = tagMask;
    }
    static LogLevel level() { return level_; }
    static uint32_t tagMask() { return tagMask_; }
    static void setSink(LogSink* sink) { sink_ = sink; }

    static bool debugEnabled(LogTag tag) {
        return level_ == LogLevel::Debug && (tagMask_ & logTagBit(tag)) != 0;
    }
    static bool enabled(LogLevel level) { return level_ != LogLevel::None && level >= level_; }

    // Formats printf-style into a fixed buffer (long lines are truncated)
    // and hands the line to the sink.
    [[gnu::format(printf, 2, 3)]] static void write(char prefix, const char* format, ...);

private:
    static inline LogLevel level_ = LogLevel::Error;
    static inline uint32_t tagMask_ = 0;
    static inline LogSink* sink_ = nullptr;
};

} // namespace sfu

#define SFU_DEBUG(tag, ...)                                                                        \
    do {                                                                                           \
        if (::sfu::Logger::debugEnabled(::sfu::LogTag::tag)) {                                     \
            ::sfu::Logger::write('D', __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)

#define SFU_WARN(...)                                                                              \
    do {                                                                                           \
        if (::sfu::Logger::enabled(::sfu::LogLevel::Warn)) {                                       \
            ::sfu::Logger::write('W', __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)

#define SFU_ERROR(...)                                                                             \
    do {                                                                                           \
        if (::sfu::Logger::enabled(::sfu::LogLevel::Error)) {                                      \
            ::sfu::Logger::write('E', __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)
