#include "protocol/parameters/SctpParameters.hpp"

#include "protocol/parameters/ExpectTypeError.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace sfu::params;
using sfu::params::test::throwsTypeError;

namespace {

SctpStreamParameters parse(const char* text) {
    return parseSctpStreamParameters(json::parse(text));
}

} // namespace

TEST(SctpStreamParameters, HostShapes) {
    // As the host sends them after its own validation (ordered filled in).
    const char* inputs[] = {
        R"({"streamId": 666, "ordered": true})",
        R"({"streamId": 777, "ordered": false, "maxRetransmits": 3})",
        R"({"streamId": 0, "ordered": false, "maxPacketLifeTime": 4000})",
        R"({"streamId": 65534, "ordered": false})",
    };
    for (const char* input : inputs) {
        const json in = json::parse(input);
        EXPECT_EQ(toJson(parseSctpStreamParameters(in)), in) << input;
    }
}

TEST(SctpStreamParameters, Defaults) {
    const auto reliable = parse(R"({"streamId": 666})");
    EXPECT_EQ(reliable.streamId, 666);
    EXPECT_TRUE(reliable.ordered);
    EXPECT_FALSE(reliable.maxPacketLifeTime);
    EXPECT_FALSE(reliable.maxRetransmits);
    EXPECT_EQ(toJson(reliable), json::parse(R"({"streamId": 666, "ordered": true})"));

    // A limit without an explicit ordered flag means unordered.
    const auto partial = parse(R"({"streamId": 777, "maxRetransmits": 3})");
    EXPECT_FALSE(partial.ordered);
    EXPECT_EQ(partial.maxRetransmits, 3);

    // Zero limits are unset, as on the host, so ordered: true is fine.
    const auto zero = parse(R"({"streamId": 1, "ordered": true, "maxRetransmits": 0,
        "maxPacketLifeTime": null})");
    EXPECT_TRUE(zero.ordered);
    EXPECT_FALSE(zero.maxRetransmits);
    EXPECT_EQ(toJson(zero), json::parse(R"({"streamId": 1, "ordered": true})"));

    // On an unordered stream zero is a limit: each message is sent once.
    const auto once = parse(R"({"streamId": 2, "ordered": false, "maxRetransmits": 0})");
    EXPECT_EQ(once.maxRetransmits, 0);
    EXPECT_EQ(toJson(once),
              json::parse(R"({"streamId": 2, "ordered": false, "maxRetransmits": 0})"));
}

TEST(SctpStreamParameters, Errors) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {R"([])", "invalid sctpStreamParameters"},
        {R"({"foo": "foo"})", "missing sctpStreamParameters.streamId"},
        {R"({"streamId": "1"})", "invalid sctpStreamParameters.streamId"},
        {R"({"streamId": 65535})", "invalid sctpStreamParameters.streamId"},
        {R"({"streamId": -1})", "invalid sctpStreamParameters.streamId"},
        {R"({"streamId": 1, "ordered": 1})", "invalid sctpStreamParameters.ordered"},
        {R"({"streamId": 1, "maxPacketLifeTime": 70000})",
         "invalid sctpStreamParameters.maxPacketLifeTime"},
        {R"({"streamId": 1, "maxRetransmits": "3"})",
         "invalid sctpStreamParameters.maxRetransmits"},
        {R"({"streamId": 1, "maxRetransmits": 3, "maxPacketLifeTime": 100})",
         "invalid sctpStreamParameters.maxRetransmits (cannot be given with "
         "maxPacketLifeTime)"},
        {R"({"streamId": 999, "ordered": true, "maxPacketLifeTime": 4000})",
         "invalid sctpStreamParameters.ordered (cannot be ordered with maxPacketLifeTime or "
         "maxRetransmits)"},
    };
    for (const auto& c : cases) {
        EXPECT_TRUE(throwsTypeError([&] { parse(c.text); }, c.message)) << c.text;
    }
    EXPECT_TRUE(
        throwsTypeError([] { parseSctpStreamParameters(json()); }, "missing sctpStreamParameters"));
}
