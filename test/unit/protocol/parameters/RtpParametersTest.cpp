#include "protocol/parameters/RtpParameters.hpp"

#include "protocol/parameters/ExpectTypeError.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace sfu::params;
using sfu::params::test::throwsTypeError;

namespace {

// The audio producer of the host's producer test, as the host puts it on the
// wire after its own validation (defaults filled in, encodings [{}] added).
const char* kAudioProducer = R"({
  "mid": "AUDIO",
  "codecs": [{
    "mimeType": "audio/opus", "payloadType": 0, "clockRate": 48000, "channels": 2,
    "parameters": {"useinbandfec": 1, "usedtx": 1, "foo": 222.222, "bar": "333"},
    "rtcpFeedback": []
  }],
  "headerExtensions": [
    {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10, "encrypt": false, "parameters": {}},
    {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 12, "encrypt": false,
     "parameters": {}}
  ],
  "encodings": [{}],
  "rtcp": {"cname": "audio-1", "reducedSize": true}
})";

// The video producer of the same test, again as sent: feedback parameters
// normalised to "" and dtx: false added by the host.
const char* kVideoProducer = R"({
  "mid": "VIDEO",
  "codecs": [
    {
      "mimeType": "video/h264", "payloadType": 112, "clockRate": 90000,
      "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032"},
      "rtcpFeedback": [
        {"type": "nack", "parameter": ""},
        {"type": "nack", "parameter": "pli"},
        {"type": "goog-remb", "parameter": ""}
      ]
    },
    {
      "mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
      "parameters": {"apt": 112}, "rtcpFeedback": []
    }
  ],
  "headerExtensions": [
    {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10, "encrypt": false, "parameters": {}},
    {"uri": "urn:3gpp:video-orientation", "id": 13, "encrypt": false, "parameters": {}}
  ],
  "encodings": [
    {"ssrc": 22222222, "rtx": {"ssrc": 22222223}, "dtx": false, "scalabilityMode": "L1T3"},
    {"ssrc": 22222224, "rtx": {"ssrc": 22222225}, "dtx": false},
    {"ssrc": 22222226, "rtx": {"ssrc": 22222227}, "dtx": false},
    {"ssrc": 22222228, "rtx": {"ssrc": 22222229}, "dtx": false}
  ],
  "rtcp": {"cname": "video-1", "reducedSize": true}
})";

// The video consumer of the host's consumer test (getConsumerRtpParameters
// output plus the MID the transport assigns).
const char* kVideoConsumer = R"({
  "mid": "1",
  "codecs": [
    {
      "mimeType": "video/H264", "payloadType": 103, "clockRate": 90000,
      "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032"},
      "rtcpFeedback": [
        {"type": "nack", "parameter": ""},
        {"type": "nack", "parameter": "pli"},
        {"type": "ccm", "parameter": "fir"},
        {"type": "goog-remb", "parameter": ""}
      ]
    },
    {
      "mimeType": "video/rtx", "payloadType": 104, "clockRate": 90000,
      "parameters": {"apt": 103}, "rtcpFeedback": []
    }
  ],
  "headerExtensions": [
    {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1, "encrypt": false, "parameters": {}},
    {"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 4,
     "encrypt": false, "parameters": {}},
    {"uri": "urn:3gpp:video-orientation", "id": 11, "encrypt": false, "parameters": {}},
    {"uri": "urn:ietf:params:rtp-hdrext:toffset", "id": 12, "encrypt": false, "parameters": {}}
  ],
  "encodings": [{"ssrc": 876543210, "rtx": {"ssrc": 876543211}, "scalabilityMode": "S4T1"}],
  "rtcp": {"cname": "FOOBAR", "reducedSize": true, "mux": true}
})";

} // namespace

TEST(RtpParameters, AudioProducerFromHost) {
    const auto params = parseRtpParameters(json::parse(kAudioProducer));
    ASSERT_TRUE(params.mid);
    EXPECT_EQ(*params.mid, "AUDIO");
    ASSERT_EQ(params.codecs.size(), 1u);
    const auto& opus = params.codecs[0];
    EXPECT_EQ(opus.mimeType, "audio/opus");
    EXPECT_EQ(opus.kind, MediaKind::Audio);
    EXPECT_EQ(opus.subtype, CodecSubtype::Opus);
    EXPECT_EQ(opus.payloadType, 0);
    EXPECT_EQ(opus.clockRate, 48000u);
    EXPECT_EQ(opus.channels, std::optional<uint8_t>(2));
    EXPECT_EQ(getInteger(opus.parameters, "useinbandfec"), 1);
    EXPECT_EQ(getString(opus.parameters, "bar"), "333");
    EXPECT_EQ(getInteger(opus.parameters, "foo"), std::nullopt);
    EXPECT_FALSE(opus.isRtx());
    EXPECT_TRUE(opus.isMediaCodec());
    ASSERT_EQ(params.headerExtensions.size(), 2u);
    EXPECT_EQ(params.headerExtensions[0].type, HeaderExtensionUri::Mid);
    EXPECT_EQ(params.headerExtensions[1].type, HeaderExtensionUri::SsrcAudioLevel);
    EXPECT_EQ(params.headerExtensionId(HeaderExtensionUri::SsrcAudioLevel), 12);
    EXPECT_EQ(params.headerExtensionId(HeaderExtensionUri::AbsSendTime), std::nullopt);
    ASSERT_EQ(params.encodings.size(), 1u);
    // Filled from the first media codec, as the reference worker does.
    EXPECT_EQ(params.encodings[0].codecPayloadType, 0);
    EXPECT_EQ(params.rtcp.cname, "audio-1");
    EXPECT_EQ(classify(params), RtpParametersType::Simple);

    const json dump = toJson(params);
    EXPECT_EQ(dump["encodings"], json::parse(R"([{"codecPayloadType": 0}])"));
    EXPECT_EQ(dump["codecs"][0]["parameters"],
              json::parse(R"({"useinbandfec": 1, "usedtx": 1, "foo": 222.222, "bar": "333"})"));
    // Integers stay integers and fractions stay fractions.
    EXPECT_TRUE(dump["codecs"][0]["parameters"]["useinbandfec"].is_number_integer());
    EXPECT_TRUE(dump["codecs"][0]["parameters"]["foo"].is_number_float());
    EXPECT_EQ(dump["headerExtensions"], json::parse(kAudioProducer)["headerExtensions"]);
    EXPECT_EQ(dump["codecs"][0]["rtcpFeedback"], json::array());
}

TEST(RtpParameters, VideoProducerDumpMatchesReferenceWorker) {
    const auto params = parseRtpParameters(json::parse(kVideoProducer));
    ASSERT_EQ(params.codecs.size(), 2u);
    const auto& h264 = params.codecs[0];
    const auto& rtx = params.codecs[1];
    EXPECT_EQ(h264.subtype, CodecSubtype::H264);
    EXPECT_EQ(h264.kind, MediaKind::Video);
    EXPECT_FALSE(h264.channels);
    EXPECT_TRUE(h264.supportsNack());
    EXPECT_TRUE(h264.supportsPli());
    EXPECT_TRUE(h264.supportsRemb());
    EXPECT_FALSE(h264.supportsFir());
    EXPECT_FALSE(h264.supportsTransportCc());
    EXPECT_TRUE(rtx.isRtx());
    EXPECT_FALSE(rtx.isMediaCodec());
    EXPECT_EQ(rtx.apt(), 112);
    EXPECT_EQ(params.rtxCodecFor(112), &rtx);
    EXPECT_EQ(params.rtxCodecFor(113), nullptr);
    EXPECT_EQ(params.findCodec(113), &rtx);
    EXPECT_EQ(params.findCodec(99), nullptr);
    ASSERT_EQ(params.encodings.size(), 4u);
    EXPECT_EQ(params.codecForEncoding(params.encodings[2]), &h264);
    EXPECT_EQ(params.encodings[0].scalability().temporalLayers, 3);
    EXPECT_EQ(params.encodings[1].rtx, (RtxParameters{22222225}));
    EXPECT_EQ(params.headerExtensionId(HeaderExtensionUri::VideoOrientation), 13);
    EXPECT_EQ(classify(params), RtpParametersType::Simulcast);

    // What the host's producer.dump() test expects of the reference worker.
    const json expected = json::parse(R"({
      "mid": "VIDEO",
      "codecs": [
        {
          "mimeType": "video/H264", "payloadType": 112, "clockRate": 90000,
          "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032"},
          "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                           {"type": "goog-remb"}]
        },
        {
          "mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
          "parameters": {"apt": 112}, "rtcpFeedback": []
        }
      ],
      "headerExtensions": [
        {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10, "parameters": {},
         "encrypt": false},
        {"uri": "urn:3gpp:video-orientation", "id": 13, "parameters": {}, "encrypt": false}
      ],
      "encodings": [
        {"codecPayloadType": 112, "ssrc": 22222222, "rtx": {"ssrc": 22222223},
         "scalabilityMode": "L1T3"},
        {"codecPayloadType": 112, "ssrc": 22222224, "rtx": {"ssrc": 22222225}},
        {"codecPayloadType": 112, "ssrc": 22222226, "rtx": {"ssrc": 22222227}},
        {"codecPayloadType": 112, "ssrc": 22222228, "rtx": {"ssrc": 22222229}}
      ],
      "rtcp": {"cname": "video-1", "reducedSize": true}
    })");
    EXPECT_EQ(toJson(params), expected);
}

TEST(RtpParameters, VideoConsumerFromHost) {
    const auto params = parseRtpParameters(json::parse(kVideoConsumer));
    EXPECT_TRUE(params.codecs[0].supportsFir());
    EXPECT_EQ(params.rtcp.mux, true);
    EXPECT_EQ(params.encodings[0].scalability().spatialLayers, 4);
    // One encoding carrying S4T1 on H264: the simulcast consumer handles it.
    EXPECT_EQ(classify(params), RtpParametersType::Simulcast);
    const json dump = toJson(params);
    EXPECT_EQ(dump["encodings"], json::parse(R"([{"codecPayloadType": 103, "ssrc": 876543210,
        "rtx": {"ssrc": 876543211}, "scalabilityMode": "S4T1"}])"));
    EXPECT_EQ(dump["codecs"][0]["rtcpFeedback"],
              json::parse(R"([{"type": "nack"}, {"type": "nack", "parameter": "pli"},
                  {"type": "ccm", "parameter": "fir"}, {"type": "goog-remb"}])"));
    EXPECT_EQ(dump["headerExtensions"], json::parse(kVideoConsumer)["headerExtensions"]);
    EXPECT_EQ(dump["rtcp"], json::parse(R"({"cname": "FOOBAR", "reducedSize": true,
        "mux": true})"));
}

TEST(RtpParameters, RoundTripOfCanonicalInputs) {
    const char* inputs[] = {
        // Audio consumer of the host's consumer test.
        R"({"mid": "0",
            "codecs": [{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000,
                        "channels": 2, "parameters": {"useinbandfec": 1, "usedtx": 1,
                        "foo": 222.222, "bar": "333"}, "rtcpFeedback": []}],
            "headerExtensions": [
              {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1, "encrypt": false,
               "parameters": {}},
              {"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 4,
               "encrypt": false, "parameters": {}},
              {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 10,
               "encrypt": false, "parameters": {}}],
            "encodings": [{"ssrc": 123456789, "codecPayloadType": 100}],
            "rtcp": {"cname": "FOOBAR", "reducedSize": true, "mux": true}})",
        // RID simulcast as a browser client produces it, with every optional
        // encoding field.
        R"({"mid": "2",
            "codecs": [
              {"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
               "parameters": {}, "rtcpFeedback": [{"type": "transport-cc"},
               {"type": "ccm", "parameter": "fir"}, {"type": "nack"},
               {"type": "nack", "parameter": "pli"}]},
              {"mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000,
               "parameters": {"apt": 96}, "rtcpFeedback": []}],
            "headerExtensions": [
              {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 4, "encrypt": false,
               "parameters": {}},
              {"uri": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", "id": 5,
               "encrypt": false, "parameters": {}},
              {"uri": "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", "id": 6,
               "encrypt": false, "parameters": {}},
              {"uri": "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
               "id": 3, "encrypt": false, "parameters": {}}],
            "encodings": [
              {"rid": "r0", "codecPayloadType": 96, "scalabilityMode": "S1T3",
               "scaleResolutionDownBy": 4, "maxBitrate": 100000, "maxFramerate": 15.5,
               "priority": "low", "networkPriority": "high"},
              {"rid": "r1", "codecPayloadType": 96, "scalabilityMode": "S1T3",
               "scaleResolutionDownBy": 2, "maxBitrate": 300000, "dtx": true,
               "adaptivePtime": false},
              {"rid": "r2", "codecPayloadType": 96, "scalabilityMode": "S1T3",
               "scaleResolutionDownBy": 1, "maxBitrate": 900000}],
            "rtcp": {"cname": "x7f", "reducedSize": true}})",
        // SVC, no mid, no cname, and a codec and extension the worker does not
        // know by name: both are kept as given.
        R"({"codecs": [
              {"mimeType": "video/VP9", "payloadType": 98, "clockRate": 90000,
               "parameters": {"profile-id": 2, "x": -5, "y": "a=b"}, "rtcpFeedback": []},
              {"mimeType": "video/AV1X", "payloadType": 35, "clockRate": 90000,
               "parameters": {}, "rtcpFeedback": []}],
            "headerExtensions": [
              {"uri": "urn:example:custom", "id": 200, "encrypt": true,
               "parameters": {"k": 1.25}}],
            "encodings": [{"ssrc": 4294967295, "codecPayloadType": 98,
                           "scalabilityMode": "L3T3_KEY"}],
            "rtcp": {"reducedSize": false}})",
    };
    for (const char* input : inputs) {
        const json in = json::parse(input);
        const auto params = parseRtpParameters(in);
        EXPECT_EQ(toJson(params), in) << input;
        // Parsing the output again gives the same value.
        EXPECT_EQ(parseRtpParameters(toJson(params)), params) << input;
    }
}

TEST(RtpParameters, UnknownNamesAreKept) {
    const auto params = parseRtpParameters(json::parse(R"({
        "codecs": [{"mimeType": "Video/AV1X", "payloadType": 35, "clockRate": 90000}],
        "headerExtensions": [{"uri": "urn:example:custom", "id": 1}],
        "encodings": [{"ssrc": 1}]})"));
    EXPECT_EQ(params.codecs[0].subtype, CodecSubtype::Unknown);
    EXPECT_EQ(params.codecs[0].kind, MediaKind::Video);
    EXPECT_EQ(params.codecs[0].mimeType, "Video/AV1X");
    EXPECT_TRUE(params.codecs[0].isMediaCodec());
    EXPECT_EQ(params.headerExtensions[0].type, HeaderExtensionUri::Unknown);
    EXPECT_EQ(params.headerExtensions[0].uri, "urn:example:custom");
}

TEST(RtpParameters, MimeTypeCaseIsNormalisedForKnownCodecs) {
    const auto codec = parseRtpCodecParameters(
        json::parse(R"({"mimeType": "VIDEO/vp8", "payloadType": 96, "clockRate": 90000})"));
    EXPECT_EQ(codec.kind, MediaKind::Video);
    EXPECT_EQ(codec.subtype, CodecSubtype::Vp8);
    EXPECT_EQ(codec.mimeType, "video/VP8");
    const auto te = parseRtpCodecParameters(json::parse(
        R"({"mimeType": "audio/TELEPHONE-EVENT", "payloadType": 126, "clockRate": 8000})"));
    EXPECT_EQ(te.mimeType, "audio/telephone-event");
    EXPECT_FALSE(te.isMediaCodec());
}

TEST(RtpParameters, AbsentFieldsStayAbsent) {
    const auto params = parseRtpParameters(json::parse(R"({
        "codecs": [{"mimeType": "audio/PCMU", "payloadType": 0, "clockRate": 8000}],
        "encodings": [{"ssrc": 5}]})"));
    const json expected = json::parse(R"({
        "codecs": [{"mimeType": "audio/PCMU", "payloadType": 0, "clockRate": 8000,
                    "parameters": {}, "rtcpFeedback": []}],
        "headerExtensions": [],
        "encodings": [{"ssrc": 5, "codecPayloadType": 0}],
        "rtcp": {"reducedSize": true}})");
    EXPECT_EQ(toJson(params), expected);
}

TEST(RtpParameters, FalsyValuesCountAsUnset) {
    // The host's truthiness checks let these through; the reference worker
    // treats them as unset.
    const auto params = parseRtpParameters(json::parse(R"({
        "mid": null,
        "codecs": [{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
                    "channels": null, "parameters": null, "rtcpFeedback": null}],
        "headerExtensions": null,
        "encodings": [{"ssrc": 0, "rid": "", "rtx": null, "scalabilityMode": "",
                       "maxBitrate": 0, "dtx": false, "codecPayloadType": null}],
        "rtcp": null})"));
    EXPECT_FALSE(params.mid);
    const auto& enc = params.encodings[0];
    EXPECT_FALSE(enc.ssrc);
    EXPECT_FALSE(enc.rid);
    EXPECT_FALSE(enc.rtx);
    EXPECT_FALSE(enc.scalabilityMode);
    EXPECT_FALSE(enc.maxBitrate);
    EXPECT_EQ(toJson(params)["encodings"], json::parse(R"([{"codecPayloadType": 96}])"));
}

TEST(RtpParameters, NumbersAreReadByValue) {
    // JSON has one number type; 96.0 is 96. Fractional bitrates are cut.
    const auto params = parseRtpParameters(json::parse(R"({
        "codecs": [{"mimeType": "video/VP8", "payloadType": 96.0, "clockRate": 9e4}],
        "encodings": [{"ssrc": 1234.0, "maxBitrate": 1500.7}]})"));
    EXPECT_EQ(params.codecs[0].payloadType, 96);
    EXPECT_EQ(params.codecs[0].clockRate, 90000u);
    EXPECT_EQ(params.encodings[0].ssrc, 1234u);
    EXPECT_EQ(params.encodings[0].maxBitrate, 1500u);
}

TEST(RtpParameters, ParameterValues) {
    const auto map = parseRtpCodecParameters(json::parse(R"({
        "mimeType": "video/H264", "payloadType": 100, "clockRate": 90000,
        "parameters": {"a": 18446744073709551615, "b": -3, "c": 2.0, "d": "", "e": 1.5}})"))
                         .parameters;
    EXPECT_TRUE(std::holds_alternative<double>(map.at("a")));
    EXPECT_EQ(getInteger(map, "b"), -3);
    EXPECT_EQ(getInteger(map, "c"), 2);
    EXPECT_EQ(getInteger(map, "d"), std::nullopt);
    EXPECT_EQ(getString(map, "d"), "");
    EXPECT_EQ(getInteger(map, "e"), std::nullopt);
    EXPECT_EQ(getInteger(map, "missing"), std::nullopt);
    EXPECT_EQ(getString(map, "b"), std::nullopt);
    const json out = toJson(map);
    EXPECT_TRUE(out["b"].is_number_integer());
    EXPECT_TRUE(out["c"].is_number_float());
}

TEST(RtpParameters, ConsumableRtpEncodings) {
    // As the host sends them: the producer's encodings minus rid, rtx and
    // codecPayloadType, with the mapped ssrc and the dtx default.
    const json in = json::parse(R"([
        {"ssrc": 11111111, "dtx": false, "scalabilityMode": "L1T3"},
        {"ssrc": 11111112, "dtx": false, "maxBitrate": 500000}])");
    const auto encodings = parseConsumableRtpEncodings(in);
    ASSERT_EQ(encodings.size(), 2u);
    EXPECT_FALSE(encodings[0].codecPayloadType);
    EXPECT_EQ(toJson(encodings), json::parse(R"([
        {"ssrc": 11111111, "scalabilityMode": "L1T3"},
        {"ssrc": 11111112, "maxBitrate": 500000}])"));

    EXPECT_TRUE(throwsTypeError([] { parseConsumableRtpEncodings(json()); },
                                "missing consumableRtpEncodings"));
    EXPECT_TRUE(throwsTypeError([] { parseConsumableRtpEncodings(json::array()); },
                                "missing consumableRtpEncodings"));
    EXPECT_TRUE(throwsTypeError([] { parseConsumableRtpEncodings(json::object()); },
                                "invalid consumableRtpEncodings"));
    EXPECT_TRUE(throwsTypeError([] { parseConsumableRtpEncodings(json::parse(R"([{}])")); },
                                "missing consumableRtpEncodings.ssrc"));
    EXPECT_TRUE(
        throwsTypeError([] { parseConsumableRtpEncodings(json::parse(R"([{"ssrc": "1"}])")); },
                        "invalid encoding.ssrc"));
}

namespace {

RtpParameters videoWith(const char* codec, const char* encodings) {
    return parseRtpParameters(json::parse(std::string(R"({"codecs": [)") + codec +
                                          R"(], "encodings": )" + encodings + "}"));
}

} // namespace

TEST(RtpParameters, Classification) {
    const char* vp8 = R"({"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000})";
    const char* vp9 = R"({"mimeType": "video/VP9", "payloadType": 98, "clockRate": 90000})";
    const char* h264 = R"({"mimeType": "video/H264", "payloadType": 100, "clockRate": 90000})";
    const char* opus =
        R"({"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2})";

    EXPECT_EQ(classify(videoWith(vp8, R"([{"ssrc": 1}])")), RtpParametersType::Simple);
    EXPECT_EQ(classify(videoWith(vp8, R"([{"ssrc": 1, "scalabilityMode": "L1T1"}])")),
              RtpParametersType::Simple);
    EXPECT_EQ(classify(videoWith(vp8, R"([{"ssrc": 1, "scalabilityMode": "L1T3"}])")),
              RtpParametersType::Simulcast);
    EXPECT_EQ(classify(videoWith(h264, R"([{"ssrc": 1}, {"ssrc": 2}])")),
              RtpParametersType::Simulcast);
    EXPECT_EQ(classify(videoWith(vp9, R"([{"ssrc": 1, "scalabilityMode": "L3T3_KEY"}])")),
              RtpParametersType::Svc);
    EXPECT_EQ(classify(videoWith(vp9, R"([{"ssrc": 1, "scalabilityMode": "S3T3"}])")),
              RtpParametersType::Svc);
    EXPECT_EQ(classify(videoWith(opus, R"([{"ssrc": 1}])")), RtpParametersType::Simple);
    // Layers on a codec that has none.
    EXPECT_EQ(classify(videoWith(opus, R"([{"ssrc": 1, "scalabilityMode": "L1T3"}])")),
              std::nullopt);
    EXPECT_EQ(classify(RtpParameters{}), std::nullopt);
}

namespace {

// A valid base document; each case below breaks one field of it.
const char* kBase = R"({
  "mid": "VIDEO",
  "codecs": [
    {"mimeType": "video/H264", "payloadType": 112, "clockRate": 90000,
     "parameters": {"packetization-mode": 1}, "rtcpFeedback": [{"type": "nack"}]},
    {"mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
     "parameters": {"apt": 112}, "rtcpFeedback": []},
    {"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2}
  ],
  "headerExtensions": [
    {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 10, "encrypt": false, "parameters": {}},
    {"uri": "urn:3gpp:video-orientation", "id": 13}
  ],
  "encodings": [
    {"ssrc": 1111, "rtx": {"ssrc": 1112}},
    {"ssrc": 2222, "rtx": {"ssrc": 2223}}
  ],
  "rtcp": {"cname": "c", "reducedSize": true, "mux": true}
})";

struct ErrorCase {
    const char* pointer;
    // Unset means: remove the member.
    std::optional<json> value;
    const char* message;
};

const std::vector<ErrorCase>& errorCases() {
    static const std::vector<ErrorCase> cases = {
        {"/mid", json(5), "invalid rtpParameters.mid"},
        {"/mid", json(""), "invalid rtpParameters.mid"},
        {"/codecs", std::nullopt, "missing rtpParameters.codecs"},
        {"/codecs", json::object(), "invalid rtpParameters.codecs"},
        {"/codecs", json::array(), "missing rtpParameters.codecs"},
        {"/codecs/0", json(1), "invalid codec"},
        {"/codecs/0/mimeType", std::nullopt, "missing codec.mimeType"},
        {"/codecs/0/mimeType", json(42), "invalid codec.mimeType"},
        {"/codecs/0/mimeType", json("video"), "invalid codec.mimeType"},
        {"/codecs/0/mimeType", json("video/"), "invalid codec.mimeType"},
        {"/codecs/0/mimeType", json("/H264"), "invalid codec.mimeType"},
        {"/codecs/0/mimeType", json("text/H264"), "invalid codec.mimeType"},
        {"/codecs/0/payloadType", std::nullopt, "missing codec.payloadType"},
        {"/codecs/0/payloadType", json("112"), "invalid codec.payloadType"},
        {"/codecs/0/payloadType", json(128), "invalid codec.payloadType"},
        {"/codecs/0/payloadType", json(-1), "invalid codec.payloadType"},
        {"/codecs/0/payloadType", json(112.5), "invalid codec.payloadType"},
        {"/codecs/0/clockRate", std::nullopt, "missing codec.clockRate"},
        {"/codecs/0/clockRate", json(0), "invalid codec.clockRate"},
        {"/codecs/0/clockRate", json("90000"), "invalid codec.clockRate"},
        {"/codecs/0/clockRate", json(4294967296), "invalid codec.clockRate"},
        {"/codecs/0/channels", json(2), "invalid codec.channels"},
        {"/codecs/2/channels", json(0), "invalid codec.channels"},
        {"/codecs/2/channels", json(256), "invalid codec.channels"},
        {"/codecs/2/channels", json("2"), "invalid codec.channels"},
        {"/codecs/0/parameters", json::array(), "invalid codec.parameters"},
        {"/codecs/0/parameters/x", json(true), "invalid codec.parameters.x"},
        {"/codecs/0/parameters/x", json(), "invalid codec.parameters.x"},
        {"/codecs/0/parameters/x", json::array({1}), "invalid codec.parameters.x"},
        {"/codecs/0/parameters/x", json::object(), "invalid codec.parameters.x"},
        {"/codecs/0/rtcpFeedback", json::object(), "invalid codec.rtcpFeedback"},
        {"/codecs/0/rtcpFeedback/0", json(1), "invalid codec.rtcpFeedback"},
        {"/codecs/0/rtcpFeedback/0/type", std::nullopt, "missing codec.rtcpFeedback.type"},
        {"/codecs/0/rtcpFeedback/0/type", json(""), "invalid codec.rtcpFeedback.type"},
        {"/codecs/0/rtcpFeedback/0/type", json(3), "invalid codec.rtcpFeedback.type"},
        {"/codecs/0/rtcpFeedback/0/parameter", json(1), "invalid codec.rtcpFeedback.parameter"},
        {"/codecs/1/parameters", json::object(), "missing codec.parameters.apt"},
        {"/codecs/1/parameters", std::nullopt, "missing codec.parameters.apt"},
        {"/codecs/1/parameters/apt", json("112"), "invalid codec.parameters.apt"},
        {"/codecs/1/parameters/apt", json(200), "invalid codec.parameters.apt"},
        {"/codecs/1/parameters/apt", json(-1), "invalid codec.parameters.apt"},
        {"/codecs/1/parameters/apt", json(110),
         "invalid codec.parameters.apt 110 (no such media codec)"},
        {"/codecs/1/parameters/apt", json(113),
         "invalid codec.parameters.apt 113 (no such media codec)"},
        {"/codecs/1/payloadType", json(112), "duplicated codec.payloadType 112"},
        {"/headerExtensions", json::object(), "invalid rtpParameters.headerExtensions"},
        {"/headerExtensions/0", json(1), "invalid headerExtension"},
        {"/headerExtensions/0/uri", std::nullopt, "missing headerExtension.uri"},
        {"/headerExtensions/0/uri", json(""), "invalid headerExtension.uri"},
        {"/headerExtensions/0/uri", json(3), "invalid headerExtension.uri"},
        {"/headerExtensions/0/id", std::nullopt, "missing headerExtension.id"},
        {"/headerExtensions/0/id", json(0), "invalid headerExtension.id"},
        {"/headerExtensions/0/id", json(256), "invalid headerExtension.id"},
        {"/headerExtensions/0/id", json("10"), "invalid headerExtension.id"},
        {"/headerExtensions/0/id", json(13), "duplicated headerExtension.id 13"},
        {"/headerExtensions/0/encrypt", json("no"), "invalid headerExtension.encrypt"},
        {"/headerExtensions/0/parameters", json::array(), "invalid headerExtension.parameters"},
        {"/headerExtensions/0/parameters/a", json(false), "invalid headerExtension.parameters.a"},
        {"/encodings", std::nullopt, "missing rtpParameters.encodings"},
        {"/encodings", json::array(), "missing rtpParameters.encodings"},
        {"/encodings", json::object(), "invalid rtpParameters.encodings"},
        {"/encodings/0", json(1), "invalid encoding"},
        {"/encodings/0/ssrc", json("1111"), "invalid encoding.ssrc"},
        {"/encodings/0/ssrc", json(-1), "invalid encoding.ssrc"},
        {"/encodings/0/ssrc", json(4294967296), "invalid encoding.ssrc"},
        {"/encodings/0/ssrc", json(1.5), "invalid encoding.ssrc"},
        {"/encodings/0/ssrc", json(true), "invalid encoding.ssrc"},
        {"/encodings/0/rid", json(5), "invalid encoding.rid"},
        {"/encodings/0/codecPayloadType", json(113), "invalid encoding.codecPayloadType"},
        {"/encodings/0/codecPayloadType", json(99), "invalid encoding.codecPayloadType"},
        {"/encodings/0/codecPayloadType", json("112"), "invalid encoding.codecPayloadType"},
        {"/encodings/0/rtx", json(5), "invalid encoding.rtx"},
        {"/encodings/0/rtx", json::object(), "missing encoding.rtx.ssrc"},
        {"/encodings/0/rtx/ssrc", json("x"), "invalid encoding.rtx.ssrc"},
        {"/encodings/0/dtx", json("yes"), "invalid encoding.dtx"},
        {"/encodings/0/scalabilityMode", json(3), "invalid encoding.scalabilityMode"},
        {"/encodings/0/scalabilityMode", json("L2T3"),
         "invalid encoding.scalabilityMode (spatial layers with several encodings)"},
        {"/encodings/0/scaleResolutionDownBy", json("2"), "invalid encoding.scaleResolutionDownBy"},
        {"/encodings/0/scaleResolutionDownBy", json(0), "invalid encoding.scaleResolutionDownBy"},
        {"/encodings/0/maxBitrate", json("x"), "invalid encoding.maxBitrate"},
        {"/encodings/0/maxBitrate", json(-1), "invalid encoding.maxBitrate"},
        {"/encodings/0/maxBitrate", json(1e10), "invalid encoding.maxBitrate"},
        {"/encodings/0/maxFramerate", json("x"), "invalid encoding.maxFramerate"},
        {"/encodings/0/maxFramerate", json(-1), "invalid encoding.maxFramerate"},
        {"/encodings/0/adaptivePtime", json(1), "invalid encoding.adaptivePtime"},
        {"/encodings/0/priority", json(1), "invalid encoding.priority"},
        {"/encodings/0/networkPriority", json(1), "invalid encoding.networkPriority"},
        {"/rtcp", json(5), "invalid rtcp"},
        {"/rtcp/cname", json(1), "invalid rtcp.cname"},
        {"/rtcp/reducedSize", json("x"), "invalid rtcp.reducedSize"},
        {"/rtcp/mux", json(1), "invalid rtcp.mux"},
    };
    return cases;
}

} // namespace

TEST(RtpParameters, BaseDocumentIsValid) {
    EXPECT_NO_THROW(parseRtpParameters(json::parse(kBase)));
}

TEST(RtpParameters, EachInvalidFieldIsATypeError) {
    for (const auto& c : errorCases()) {
        json doc = json::parse(kBase);
        const json::json_pointer ptr(c.pointer);
        if (c.value) {
            doc[ptr] = *c.value;
        } else {
            doc[ptr.parent_pointer()].erase(ptr.back());
        }
        EXPECT_TRUE(throwsTypeError([&] { parseRtpParameters(doc); }, c.message))
            << c.pointer << " = " << (c.value ? c.value->dump() : "<removed>");
    }
}

TEST(RtpParameters, WholeObjectErrors) {
    EXPECT_TRUE(throwsTypeError([] { parseRtpParameters(json()); }, "missing rtpParameters"));
    EXPECT_TRUE(
        throwsTypeError([] { parseRtpParameters(json::array()); }, "invalid rtpParameters"));
    EXPECT_TRUE(throwsTypeError([] { parseRtpParameters(json::object()); },
                                "missing rtpParameters.codecs"));
    // Only complementary and feature codecs.
    EXPECT_TRUE(throwsTypeError(
        [] {
            parseRtpParameters(json::parse(R"({"codecs": [{"mimeType": "audio/CN",
                "payloadType": 13, "clockRate": 8000}], "encodings": [{"ssrc": 1}]})"));
        },
        "invalid rtpParameters.codecs (no media codec)"));
    // The host's own test: an RTX codec whose apt names no codec.
    EXPECT_TRUE(throwsTypeError(
        [] {
            parseRtpParameters(json::parse(R"({"codecs": [
                {"mimeType": "video/h264", "payloadType": 112, "clockRate": 90000,
                 "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032"}},
                {"mimeType": "video/rtx", "payloadType": 113, "clockRate": 90000,
                 "parameters": {"apt": 111}}],
                "headerExtensions": [], "encodings": [{"ssrc": 6666, "rtx": {"ssrc": 6667}}],
                "rtcp": {"cname": "video-1"}})"));
        },
        "invalid codec.parameters.apt 111 (no such media codec)"));
}
