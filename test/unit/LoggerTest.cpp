#include "Logger.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using sfu::Logger;
using sfu::LogLevel;
using sfu::LogTag;

namespace {

struct Lines : sfu::LogSink {
    std::vector<std::string> lines;
    void writeLogLine(std::string_view line) override { lines.emplace_back(line); }
};

class LoggerTest : public ::testing::Test {
protected:
    void SetUp() override { Logger::setSink(&sink); }
    void TearDown() override {
        Logger::setSink(nullptr);
        Logger::configure(LogLevel::Error, 0);
    }
    void emitAll() {
        SFU_DEBUG(Ice, "debug ice %d", 1);
        SFU_DEBUG(Rtp, "debug rtp %d", 2);
        SFU_WARN("warn %s", "w");
        SFU_ERROR("error %s", "e");
    }
    Lines sink;
};

} // namespace

TEST_F(LoggerTest, DebugNeedsLevelAndTag) {
    Logger::configure(LogLevel::Debug, sfu::logTagBit(LogTag::Ice));
    emitAll();
    EXPECT_EQ(sink.lines, (std::vector<std::string>{"Ddebug ice 1", "Wwarn w", "Eerror e"}));
}

TEST_F(LoggerTest, DebugWithoutTagsOnlyWarnAndError) {
    Logger::configure(LogLevel::Debug, 0);
    emitAll();
    EXPECT_EQ(sink.lines, (std::vector<std::string>{"Wwarn w", "Eerror e"}));
}

TEST_F(LoggerTest, WarnLevelHidesDebugEvenWithTags) {
    Logger::configure(LogLevel::Warn, ~0u);
    emitAll();
    EXPECT_EQ(sink.lines, (std::vector<std::string>{"Wwarn w", "Eerror e"}));
}

TEST_F(LoggerTest, ErrorLevelOnlyErrors) {
    Logger::configure(LogLevel::Error, ~0u);
    emitAll();
    EXPECT_EQ(sink.lines, (std::vector<std::string>{"Eerror e"}));
}

TEST_F(LoggerTest, NoneLevelNothing) {
    Logger::configure(LogLevel::None, ~0u);
    emitAll();
    EXPECT_TRUE(sink.lines.empty());
}

TEST_F(LoggerTest, DisabledLineDoesNotEvaluateArguments) {
    Logger::configure(LogLevel::Error, 0);
    int evaluated = 0;
    SFU_DEBUG(Ice, "%d", ++evaluated);
    SFU_WARN("%d", ++evaluated);
    EXPECT_EQ(evaluated, 0);
}

TEST_F(LoggerTest, LongLinesAreTruncatedNotOverflowed) {
    Logger::configure(LogLevel::Warn, 0);
    const std::string big(100000, 'x');
    SFU_WARN("%s", big.c_str());
    ASSERT_EQ(sink.lines.size(), 1u);
    EXPECT_LT(sink.lines[0].size(), 10000u);
    EXPECT_EQ(sink.lines[0][0], 'W');
}

TEST(LogNames, ParseLevelsAndTags) {
    EXPECT_EQ(sfu::parseLogLevel("debug"), LogLevel::Debug);
    EXPECT_EQ(sfu::parseLogLevel("none"), LogLevel::None);
    EXPECT_FALSE(sfu::parseLogLevel("Debug").has_value());
    for (const char* tag : {"info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score",
                            "simulcast", "svc", "sctp", "message"}) {
        const auto parsed = sfu::parseLogTag(tag);
        ASSERT_TRUE(parsed.has_value()) << tag;
        EXPECT_EQ(sfu::logTagName(*parsed), tag);
    }
    EXPECT_FALSE(sfu::parseLogTag("chicken").has_value());
}
