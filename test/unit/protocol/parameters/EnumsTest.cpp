#include "protocol/parameters/Enums.hpp"

#include <gtest/gtest.h>

using namespace sfu::params;

TEST(Enums, MediaKind) {
    EXPECT_EQ(mediaKindFromString("audio"), MediaKind::Audio);
    EXPECT_EQ(mediaKindFromString("video"), MediaKind::Video);
    // The produce request's kind is lowercase on the wire.
    EXPECT_EQ(mediaKindFromString("Audio"), std::nullopt);
    EXPECT_EQ(mediaKindFromString("chicken"), std::nullopt);
    EXPECT_EQ(toString(MediaKind::Audio), "audio");
    EXPECT_EQ(toString(MediaKind::Video), "video");
}

TEST(Enums, CodecSubtypes) {
    EXPECT_EQ(codecSubtypeFromString("h264"), CodecSubtype::H264);
    EXPECT_EQ(codecSubtypeFromString("OPUS"), CodecSubtype::Opus);
    EXPECT_EQ(codecSubtypeFromString("RTX"), CodecSubtype::Rtx);
    EXPECT_EQ(codecSubtypeFromString("ilbc"), CodecSubtype::Ilbc);
    EXPECT_EQ(codecSubtypeFromString("AV1"), CodecSubtype::Unknown);
    EXPECT_EQ(codecSubtypeFromString(""), CodecSubtype::Unknown);
    EXPECT_EQ(toString(CodecSubtype::H264), "H264");
    EXPECT_EQ(toString(CodecSubtype::Opus), "opus");
    EXPECT_EQ(toString(CodecSubtype::Ilbc), "iLBC");
    EXPECT_EQ(toString(CodecSubtype::TelephoneEvent), "telephone-event");
    EXPECT_EQ(toString(CodecSubtype::Unknown), "");
    for (auto s :
         {CodecSubtype::Cn, CodecSubtype::TelephoneEvent, CodecSubtype::Rtx, CodecSubtype::Ulpfec,
          CodecSubtype::XUlpfec, CodecSubtype::Flexfec, CodecSubtype::Red}) {
        EXPECT_FALSE(isMediaSubtype(s)) << toString(s);
        EXPECT_EQ(codecSubtypeFromString(toString(s)), s);
    }
    for (auto s : {CodecSubtype::Opus, CodecSubtype::Multiopus, CodecSubtype::Pcma,
                   CodecSubtype::Pcmu, CodecSubtype::Isac, CodecSubtype::G722, CodecSubtype::Ilbc,
                   CodecSubtype::Silk, CodecSubtype::Vp8, CodecSubtype::Vp9, CodecSubtype::H264,
                   CodecSubtype::XH264uc, CodecSubtype::H265, CodecSubtype::Unknown}) {
        EXPECT_TRUE(isMediaSubtype(s)) << toString(s);
    }
}

TEST(Enums, HeaderExtensionUris) {
    // Exactly the URIs of the host's supported capabilities.
    const std::pair<const char*, HeaderExtensionUri> known[] = {
        {"urn:ietf:params:rtp-hdrext:sdes:mid", HeaderExtensionUri::Mid},
        {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", HeaderExtensionUri::RtpStreamId},
        {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
         HeaderExtensionUri::RepairedRtpStreamId},
        {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
         HeaderExtensionUri::AbsSendTime},
        {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
         HeaderExtensionUri::TransportWideCc01},
        {"http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07",
         HeaderExtensionUri::FrameMarking07},
        {"urn:ietf:params:rtp-hdrext:framemarking", HeaderExtensionUri::FrameMarking},
        {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", HeaderExtensionUri::SsrcAudioLevel},
        {"urn:3gpp:video-orientation", HeaderExtensionUri::VideoOrientation},
        {"urn:ietf:params:rtp-hdrext:toffset", HeaderExtensionUri::TOffset},
    };
    for (const auto& [uri, type] : known) {
        EXPECT_EQ(headerExtensionUriFromString(uri), type) << uri;
        EXPECT_EQ(toString(type), uri);
    }
    EXPECT_EQ(headerExtensionUriFromString("URN:IETF:PARAMS:RTP-HDREXT:SDES:MID"),
              HeaderExtensionUri::Unknown);
    EXPECT_EQ(headerExtensionUriFromString("urn:example"), HeaderExtensionUri::Unknown);
    EXPECT_EQ(toString(HeaderExtensionUri::Unknown), "");
}

TEST(Enums, RtpParametersType) {
    for (auto t : {RtpParametersType::Simple, RtpParametersType::Simulcast, RtpParametersType::Svc,
                   RtpParametersType::Pipe}) {
        EXPECT_EQ(rtpParametersTypeFromString(toString(t)), t);
    }
    EXPECT_EQ(toString(RtpParametersType::Svc), "svc");
    EXPECT_EQ(rtpParametersTypeFromString("SIMPLE"), std::nullopt);
    EXPECT_EQ(rtpParametersTypeFromString(""), std::nullopt);
}
