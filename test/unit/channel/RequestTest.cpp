#include "channel/Request.hpp"

#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using sfu::channel::json;
using sfu::channel::MalformedRequest;
using sfu::channel::Method;
using sfu::channel::Request;

namespace {

struct Capture : sfu::channel::Responder {
    std::vector<json> responses;
    void sendResponse(const json& response) override { responses.push_back(response); }
};

Request parse(const std::string& text, Capture& capture) {
    return Request::parse(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &capture);
}

} // namespace

TEST(Request, ParsesIdMethodInternalAndData) {
    Capture c;
    Request r =
        parse(R"({"id":7,"method":"router.dump","internal":{"routerId":"r1"},"data":{"x":1}})", c);
    EXPECT_EQ(r.id(), 7u);
    EXPECT_EQ(r.method(), Method::RouterDump);
    EXPECT_EQ(r.methodName(), "router.dump");
    EXPECT_EQ(r.internalId("routerId"), "r1");
    EXPECT_EQ(r.data()["x"], 1);
}

TEST(Request, MissingInternalAndDataAreEmptyObjects) {
    Capture c;
    Request r = parse(R"({"id":1,"method":"worker.dump"})", c);
    EXPECT_TRUE(r.internal().is_object());
    EXPECT_TRUE(r.internal().empty());
    EXPECT_TRUE(r.data().is_object());
}

TEST(Request, UnknownMethodStillParses) {
    Capture c;
    Request r = parse(R"({"id":3,"method":"chicken.soup"})", c);
    EXPECT_FALSE(r.method().has_value());
    EXPECT_EQ(r.methodName(), "chicken.soup");
}

TEST(Request, MalformedRequestsThrow) {
    Capture c;
    for (const std::string text :
         {"", "not json", "[]", "42", R"({"method":"worker.dump"})",
          R"({"id":0,"method":"worker.dump"})", R"({"id":-1,"method":"worker.dump"})",
          R"({"id":4294967296,"method":"worker.dump"})", R"({"id":"1","method":"worker.dump"})",
          R"({"id":1.5,"method":"worker.dump"})", R"({"id":1})", R"({"id":1,"method":5})",
          R"({"id":1,"method":"worker.dump")"}) {
        EXPECT_THROW(parse(text, c), MalformedRequest) << text;
    }
    EXPECT_TRUE(c.responses.empty());
}

TEST(Request, MaxIdIsAccepted) {
    Capture c;
    EXPECT_EQ(parse(R"({"id":4294967295,"method":"worker.dump"})", c).id(), 4294967295u);
}

TEST(Request, InternalIdErrorsNameTheField) {
    Capture c;
    Request r = parse(R"({"id":1,"method":"router.dump","internal":{"routerId":5}})", c);
    try {
        r.internalId("routerId");
        FAIL() << "expected sfu::Error";
    } catch (const sfu::Error& e) {
        EXPECT_NE(std::string(e.what()).find("routerId"), std::string::npos);
    }
}

TEST(Request, AcceptAndErrorResponsesHaveProtocolShape) {
    Capture c;
    Request a = parse(R"({"id":1,"method":"worker.dump"})", c);
    a.accept();
    Request b = parse(R"({"id":2,"method":"worker.dump"})", c);
    b.accept(json{{"pid", 1}});
    Request d = parse(R"({"id":3,"method":"worker.dump"})", c);
    d.typeError("bad");
    Request e = parse(R"({"id":4,"method":"worker.dump"})", c);
    e.error("worse");
    ASSERT_EQ(c.responses.size(), 4u);
    EXPECT_EQ(c.responses[0], (json{{"id", 1}, {"accepted", true}}));
    EXPECT_EQ(c.responses[1], (json{{"id", 2}, {"accepted", true}, {"data", {{"pid", 1}}}}));
    EXPECT_EQ(c.responses[2], (json{{"id", 3}, {"error", "TypeError"}, {"reason", "bad"}}));
    EXPECT_EQ(c.responses[3], (json{{"id", 4}, {"error", "Error"}, {"reason", "worse"}}));
}

TEST(Request, AnsweredOnlyOnce) {
    Capture c;
    Request r = parse(R"({"id":1,"method":"worker.dump"})", c);
    r.accept();
    r.error("late");
    EXPECT_EQ(c.responses.size(), 1u);
    EXPECT_TRUE(r.replied());
}

TEST(Request, RunRequestMapsExceptions) {
    Capture c;
    auto run = [&](auto thrower) {
        Request r = parse(R"({"id":9,"method":"worker.dump"})", c);
        sfu::channel::runRequest(r, thrower);
        return c.responses.back();
    };
    EXPECT_EQ(run([](Request&) { throw sfu::TypeError("t"); })["error"], "TypeError");
    EXPECT_EQ(run([](Request&) { throw sfu::Error("e"); })["error"], "Error");
    EXPECT_EQ(run([](Request& r) { (void)r.data().at("missing").get<int>(); })["error"],
              "TypeError");
    EXPECT_EQ(run([](Request&) { throw std::runtime_error("x"); })["error"], "Error");
    EXPECT_EQ(run([](Request& r) { r.accept(); })["accepted"], true);
}

TEST(Method, AllNamesRoundTrip) {
    // The 54 of mediasoup 3.8 and transport.setMinOutgoingBitrate (3.9).
    const size_t count = static_cast<size_t>(Method::Count);
    EXPECT_EQ(count, 55u);
    for (size_t i = 0; i < count; ++i) {
        const auto m = static_cast<Method>(i);
        EXPECT_EQ(sfu::channel::methodFromName(sfu::channel::methodName(m)), m);
    }
    EXPECT_FALSE(sfu::channel::methodFromName("worker.chicken").has_value());
}
