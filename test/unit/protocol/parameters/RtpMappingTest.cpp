#include "protocol/parameters/RtpMapping.hpp"

#include "protocol/parameters/ExpectTypeError.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace sfu::params;
using sfu::params::test::throwsTypeError;

namespace {

// What the host computes for the video producer of its producer test.
const char* kMapping = R"({
  "codecs": [
    {"payloadType": 112, "mappedPayloadType": 103},
    {"payloadType": 113, "mappedPayloadType": 104}
  ],
  "encodings": [
    {"ssrc": 22222222, "scalabilityMode": "L1T3", "mappedSsrc": 861478127},
    {"ssrc": 22222224, "mappedSsrc": 861478128},
    {"ssrc": 22222226, "mappedSsrc": 861478129},
    {"ssrc": 22222228, "mappedSsrc": 861478130}
  ]
})";

const char* kParams = R"({
  "mid": "VIDEO",
  "codecs": [
    {"mimeType": "video/H264", "payloadType": 112, "clockRate": 90000},
    {"mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000, "parameters": {"apt": 112}}
  ],
  "encodings": [
    {"ssrc": 22222222, "rtx": {"ssrc": 22222223}, "scalabilityMode": "L1T3"},
    {"ssrc": 22222224, "rtx": {"ssrc": 22222225}},
    {"ssrc": 22222226, "rtx": {"ssrc": 22222227}},
    {"ssrc": 22222228, "rtx": {"ssrc": 22222229}}
  ]
})";

RtpParameters params(const char* text = kParams) {
    return parseRtpParameters(json::parse(text));
}

} // namespace

TEST(RtpMapping, ParsesAndRoundTrips) {
    const json in = json::parse(kMapping);
    const auto mapping = parseRtpMapping(in);
    ASSERT_EQ(mapping.codecs.size(), 2u);
    EXPECT_EQ(mapping.mappedPayloadType(112), 103);
    EXPECT_EQ(mapping.mappedPayloadType(113), 104);
    EXPECT_EQ(mapping.mappedPayloadType(96), std::nullopt);
    ASSERT_EQ(mapping.encodings.size(), 4u);
    EXPECT_EQ(mapping.encodings[0].ssrc, 22222222u);
    EXPECT_EQ(mapping.encodings[0].scalabilityMode, "L1T3");
    EXPECT_FALSE(mapping.encodings[1].scalabilityMode);
    EXPECT_FALSE(mapping.encodings[1].rid);
    EXPECT_EQ(mapping.encodings[3].mappedSsrc, 861478130u);
    EXPECT_EQ(toJson(mapping), in);
    EXPECT_EQ(parseRtpMapping(toJson(mapping)), mapping);
    EXPECT_NO_THROW(checkRtpMapping(mapping, params()));
}

TEST(RtpMapping, RidMapping) {
    const json in = json::parse(R"({"codecs": [{"payloadType": 96, "mappedPayloadType": 101}],
        "encodings": [{"rid": "r0", "mappedSsrc": 1}, {"rid": "r1", "mappedSsrc": 2}]})");
    const auto mapping = parseRtpMapping(in);
    EXPECT_EQ(mapping.encodings[1].rid, "r1");
    EXPECT_EQ(toJson(mapping), in);
    EXPECT_NO_THROW(checkRtpMapping(mapping, params(R"({"codecs": [{"mimeType": "video/VP8",
        "payloadType": 96, "clockRate": 90000}], "encodings": [{"rid": "r0"}, {"rid": "r1"}]})")));
}

TEST(RtpMapping, FieldErrors) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {R"([])", "invalid rtpMapping"},
        {R"({"encodings": []})", "missing rtpMapping.codecs"},
        {R"({"codecs": {}, "encodings": []})", "invalid rtpMapping.codecs"},
        {R"({"codecs": [1], "encodings": []})", "invalid rtpMapping.codecs entry"},
        {R"({"codecs": [{"mappedPayloadType": 100}], "encodings": []})",
         "missing rtpMapping.codecs.payloadType"},
        {R"({"codecs": [{"payloadType": 128, "mappedPayloadType": 100}], "encodings": []})",
         "invalid rtpMapping.codecs.payloadType"},
        {R"({"codecs": [{"payloadType": 96}], "encodings": []})",
         "missing rtpMapping.codecs.mappedPayloadType"},
        {R"({"codecs": [{"payloadType": 96, "mappedPayloadType": "100"}], "encodings": []})",
         "invalid rtpMapping.codecs.mappedPayloadType"},
        {R"({"codecs": [{"payloadType": 96, "mappedPayloadType": 100},
                        {"payloadType": 96, "mappedPayloadType": 101}], "encodings": []})",
         "duplicated rtpMapping.codecs.payloadType 96"},
        {R"({"codecs": []})", "missing rtpMapping.encodings"},
        {R"({"codecs": [], "encodings": {}})", "invalid rtpMapping.encodings"},
        {R"({"codecs": [], "encodings": [[]]})", "invalid rtpMapping.encodings entry"},
        {R"({"codecs": [], "encodings": [{"ssrc": 1}]})",
         "missing rtpMapping.encodings.mappedSsrc"},
        {R"({"codecs": [], "encodings": [{"mappedSsrc": -1}]})",
         "invalid rtpMapping.encodings.mappedSsrc"},
        {R"({"codecs": [], "encodings": [{"ssrc": "1", "mappedSsrc": 1}]})",
         "invalid rtpMapping.encodings.ssrc"},
        {R"({"codecs": [], "encodings": [{"rid": 1, "mappedSsrc": 1}]})",
         "invalid rtpMapping.encodings.rid"},
        {R"({"codecs": [], "encodings": [{"scalabilityMode": 1, "mappedSsrc": 1}]})",
         "invalid rtpMapping.encodings.scalabilityMode"},
    };
    for (const auto& c : cases) {
        EXPECT_TRUE(throwsTypeError([&] { parseRtpMapping(json::parse(c.text)); }, c.message))
            << c.text;
    }
    EXPECT_TRUE(throwsTypeError([] { parseRtpMapping(json()); }, "missing rtpMapping"));
}

TEST(RtpMapping, ChecksAgainstParameters) {
    auto mapping = parseRtpMapping(json::parse(kMapping));

    auto fewer = mapping;
    fewer.encodings.pop_back();
    EXPECT_TRUE(throwsTypeError(
        [&] { checkRtpMapping(fewer, params()); },
        "invalid rtpMapping.encodings (size does not match rtpParameters.encodings)"));

    auto anonymous = mapping;
    anonymous.encodings[1].ssrc.reset();
    EXPECT_TRUE(throwsTypeError([&] { checkRtpMapping(anonymous, params()); },
                                "missing rtpMapping.encodings.ssrc or rid"));

    auto unmapped = mapping;
    unmapped.codecs.pop_back();
    EXPECT_TRUE(throwsTypeError([&] { checkRtpMapping(unmapped, params()); },
                                "missing rtpMapping.codecs entry for payloadType 113"));

    auto extra = mapping;
    extra.codecs.push_back({96, 100});
    EXPECT_TRUE(throwsTypeError([&] { checkRtpMapping(extra, params()); },
                                "invalid rtpMapping.codecs.payloadType 96 (no such codec)"));
}

TEST(RtpMapping, SingleStreamNeedsSsrcRidOrMid) {
    // The host's test: no MID and a single encoding without RID or SSRC.
    const auto noMid = params(R"({"codecs": [{"mimeType": "audio/opus", "payloadType": 111,
        "clockRate": 48000, "channels": 2}], "encodings": [{}], "rtcp": {"cname": "audio-2"}})");
    const auto mapping = parseRtpMapping(json::parse(R"({"codecs": [{"payloadType": 111,
        "mappedPayloadType": 100}], "encodings": [{"mappedSsrc": 5}]})"));
    EXPECT_TRUE(throwsTypeError([&] { checkRtpMapping(mapping, noMid); },
                                "missing rtpMapping.encodings.ssrc or rid, or rtpParameters.mid"));

    auto withMid = noMid;
    withMid.mid = "AUDIO";
    EXPECT_NO_THROW(checkRtpMapping(mapping, withMid));
}
