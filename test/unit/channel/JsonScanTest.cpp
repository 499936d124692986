#include "channel/JsonScan.hpp"

#include "channel/Request.hpp"

#include <algorithm>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using sfu::channel::json;
using sfu::channel::jsonNestingDepth;
using sfu::channel::kMaxJsonDepth;
using sfu::channel::MessageTooDeep;
using sfu::channel::readMessageHead;

namespace {

constexpr size_t kNoLimit = SIZE_MAX - 1;

// `depth` arrays around `inner`.
std::string nested(size_t depth, const std::string& inner = "") {
    return std::string(depth, '[') + inner + std::string(depth, ']');
}

// A request whose data nests `depth` levels in all (root object included).
std::string requestOfDepth(size_t depth, const std::string& head = R"("id":5,"method":"x.y",)") {
    // root {} and data {} are two levels; the rest are arrays.
    return "{" + head + R"("data":{"a":)" + nested(depth - 2) + "}}";
}

sfu::channel::Request parseRequest(const std::string& text) {
    return sfu::channel::Request::parse(reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                                        nullptr);
}

} // namespace

TEST(JsonNestingDepth, CountsArraysAndObjects) {
    EXPECT_EQ(jsonNestingDepth("", kNoLimit), 0u);
    EXPECT_EQ(jsonNestingDepth("42", kNoLimit), 0u);
    EXPECT_EQ(jsonNestingDepth("[]", kNoLimit), 1u);
    EXPECT_EQ(jsonNestingDepth("{}", kNoLimit), 1u);
    EXPECT_EQ(jsonNestingDepth(R"({"a":[1,{"b":[]}],"c":{}})", kNoLimit), 4u);
    EXPECT_EQ(jsonNestingDepth("[[],[],[[]]]", kNoLimit), 3u);
    EXPECT_EQ(jsonNestingDepth(nested(1000), kNoLimit), 1000u);
}

TEST(JsonNestingDepth, IgnoresBracketsInStrings) {
    EXPECT_EQ(jsonNestingDepth(R"("[[[{{{")", kNoLimit), 0u);
    EXPECT_EQ(jsonNestingDepth(R"(["]]]", ["x"]])", kNoLimit), 2u);
    // An escaped quote does not end the string; an escaped backslash
    // before the quote does.
    EXPECT_EQ(jsonNestingDepth(R"(["\"[[[", 1])", kNoLimit), 1u);
    EXPECT_EQ(jsonNestingDepth(R"(["\\", [[1]]])", kNoLimit), 3u);
    EXPECT_EQ(jsonNestingDepth(R"(["\u005b\\\"[", {}])", kNoLimit), 2u);
}

TEST(JsonNestingDepth, StopsAtANulOutsideStrings) {
    // The parser ends the input there, so what follows is never parsed.
    using namespace std::string_literals;
    EXPECT_EQ(jsonNestingDepth("[1]\0[[[[[["s, kNoLimit), 1u);
    EXPECT_EQ(jsonNestingDepth("[\"\0\", [[]]]"s, kNoLimit), 3u);
    const std::string text = R"({"id":1,"method":"m"})"s + '\0' + std::string(1000, '[');
    EXPECT_EQ(jsonNestingDepth(text, kNoLimit), 1u);
    EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded());
}

TEST(JsonNestingDepth, StopsPastTheLimit) {
    EXPECT_EQ(jsonNestingDepth(nested(64), 64), 64u);
    EXPECT_EQ(jsonNestingDepth(nested(65), 64), 65u);
    EXPECT_EQ(jsonNestingDepth(std::string(200000, '['), 64), 65u);
    // Surplus closing brackets do not make later ones count less.
    EXPECT_EQ(jsonNestingDepth("]]]][[", kNoLimit), 2u);
}

TEST(JsonNestingDepth, MatchesTheParserOnValidJson) {
    for (const std::string text :
         {R"({"id":1,"data":{"x":[[[]]],"s":"[{\"}"}})", R"([[1],[2,[3,[4]]],{"k":{}}])",
          R"({"a":"\\\\[","b":[{"c":"]]]"}]})"}) {
        const json value = json::parse(text);
        // The deepest level by walking the parsed tree (shallow inputs).
        size_t deepest = 0;
        std::function<void(const json&, size_t)> walk = [&](const json& v, size_t depth) {
            if (v.is_structured()) {
                deepest = std::max(deepest, depth + 1);
                for (const auto& child : v) {
                    walk(child, depth + 1);
                }
            }
        };
        walk(value, 0);
        EXPECT_EQ(jsonNestingDepth(text, kNoLimit), deepest) << text;
    }
}

TEST(ReadMessageHead, ReadsIdMethodAndEvent) {
    const auto head =
        readMessageHead(R"({"id":7,"method":"router.dump","internal":{"id":9,"method":"no"}})");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->id, 7u);
    EXPECT_EQ(head->method, "router.dump");
    EXPECT_FALSE(head->event);

    const auto note = readMessageHead(R"({"event":"producer.send","internal":{"event":"x"}})");
    ASSERT_TRUE(note);
    EXPECT_FALSE(note->id);
    EXPECT_FALSE(note->method);
    EXPECT_EQ(note->event, "producer.send");
}

TEST(ReadMessageHead, InvalidIdsAreNotIds) {
    for (const std::string id : {"0", "-1", "1.5", "\"1\"", "4294967296", "null", "[1]", "{}"}) {
        const auto head = readMessageHead(R"({"id":)" + id + R"(,"method":"m"})");
        ASSERT_TRUE(head) << id;
        EXPECT_FALSE(head->id) << id;
        EXPECT_EQ(head->method, "m") << id;
    }
    const auto max = readMessageHead(R"({"id":4294967295})");
    ASSERT_TRUE(max);
    EXPECT_EQ(max->id, 4294967295u);
}

TEST(ReadMessageHead, LastDuplicateWinsAsInTheTree) {
    const auto head = readMessageHead(R"({"id":1,"method":"a","id":2,"method":5})");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->id, 2u);
    EXPECT_FALSE(head->method);
    const auto reset = readMessageHead(R"({"id":1,"id":"x"})");
    ASSERT_TRUE(reset);
    EXPECT_FALSE(reset->id);
}

TEST(ReadMessageHead, NotAnObjectOrNotJson) {
    for (const std::string& text : std::vector<std::string>{
             "", "[]", "42", R"("id")", R"([{"id":1,"method":"m"}])", R"({"id":1)",
             R"({"id":1,"method":"m"} trailing)", nested(100000)}) {
        EXPECT_FALSE(readMessageHead(text)) << text.substr(0, 40);
    }
}

TEST(ReadMessageHead, HandlesHugeDepthWithoutRecursion) {
    const std::string text = requestOfDepth(200000, R"("id":123,"method":"transport.produce",)");
    const auto head = readMessageHead(text);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->id, 123u);
    EXPECT_EQ(head->method, "transport.produce");
    // The head may also come after the deep part.
    const std::string late = R"({"data":)" + nested(200000) + R"(,"method":"m","id":9})";
    const auto lateHead = readMessageHead(late);
    ASSERT_TRUE(lateHead);
    EXPECT_EQ(lateHead->id, 9u);
}

TEST(RequestDepth, TheLimitItselfParses) {
    ASSERT_EQ(jsonNestingDepth(requestOfDepth(kMaxJsonDepth), kNoLimit), kMaxJsonDepth);
    const auto request = parseRequest(requestOfDepth(kMaxJsonDepth));
    EXPECT_EQ(request.id(), 5u);
    EXPECT_EQ(jsonNestingDepth(request.data().dump(), kNoLimit), kMaxJsonDepth - 1);
}

TEST(RequestDepth, OneLevelMoreIsRefusedWithItsId) {
    try {
        parseRequest(requestOfDepth(kMaxJsonDepth + 1));
        FAIL() << "expected MessageTooDeep";
    } catch (const MessageTooDeep& e) {
        EXPECT_EQ(
            e.response(),
            json::parse(R"({"id":5,"error":"Error",)"
                        R"("reason":"JSON nesting deeper than 64 levels of arrays and objects"})"));
    }
}

TEST(RequestDepth, HugeDepthIsRefusedWithItsId) {
    const std::string text = requestOfDepth(200000, R"("id":77,"method":"transport.produce",)");
    try {
        parseRequest(text);
        FAIL() << "expected MessageTooDeep";
    } catch (const MessageTooDeep& e) {
        ASSERT_TRUE(e.head());
        EXPECT_EQ(e.head()->method, "transport.produce");
        EXPECT_EQ(e.response().dump(),
                  R"({"error":"Error","id":77,)"
                  R"("reason":"JSON nesting deeper than 64 levels of arrays and objects"})");
    }
}

TEST(RequestDepth, WithoutIdOrMethodThereIsNoAnswer) {
    for (const char* head :
         {R"("method":"worker.dump",)", R"("id":3,)", R"("id":0,"method":"worker.dump",)"}) {
        try {
            parseRequest(requestOfDepth(200, head));
            FAIL() << "expected MessageTooDeep: " << head;
        } catch (const MessageTooDeep& e) {
            EXPECT_TRUE(e.head()) << head;
            EXPECT_TRUE(e.response().is_null()) << head;
        }
    }
    // Deep and not even JSON: no head at all.
    try {
        parseRequest(std::string(100, '[') + "garbage");
        FAIL() << "expected MessageTooDeep";
    } catch (const MessageTooDeep& e) {
        EXPECT_FALSE(e.head());
        EXPECT_TRUE(e.response().is_null());
    }
}

TEST(RequestDepth, DeepStringsAreNotNesting) {
    // Brackets inside a string are data, whatever their number.
    const std::string text =
        R"({"id":8,"method":"worker.dump","data":{"s":")" + std::string(100000, '[') + R"("}})";
    const auto request = parseRequest(text);
    EXPECT_EQ(request.id(), 8u);
    EXPECT_EQ(request.data()["s"].get<std::string>().size(), 100000u);
}
