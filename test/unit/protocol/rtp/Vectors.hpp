// Wire vectors for the rtp tests, as hex. The browser packets are laid out
// the way Chrome sends to a mediasoup router (element order, padding, and
// mediasoup's preferred ids: mid 1, abs-send-time 4, transport-wide-cc 5,
// audio level 10); the RFC 8285 ones transcribe the examples of its sections
// 4.2 and 4.3.
#pragma once

#include <string>
#include <string_view>

namespace sfu::rtp::test {

// VP8, PT 96, marker, seq 0x3a4c, ts 0x5d8c71f0, ssrc 0x4a5f1c3e.
// One-byte block: abs-send-time 0xc46a0b (id 4), transport-cc 391 (id 5),
// mid "0" (id 1), three padding bytes. 14 bytes of payload.
inline constexpr std::string_view kChromeVideo = "90e03a4c 5d8c71f0 4a5f1c3e"
                                                 "bede0003 42c46a0b 51018710 30000000"
                                                 "9080802a 30b5009d 012a8002 e001";

// Opus, PT 111, seq 0x1234, ts 0x3c80, ssrc 0x11223344. One-byte block: mid
// "1", abs-send-time 0x0a1b2c, audio level (voice, 30 dBov), transport-cc 66.
inline constexpr std::string_view kChromeAudio = "906f1234 00003c80 11223344"
                                                 "bede0003 1031420a 1b2ca09e 51004200"
                                                 "780be4c1 36ecc58d 8c494699 ac";

// ffmpeg's RTP muxer: no extension, H264 FU-A start, marker, PT 96.
inline constexpr std::string_view kFfmpegH264 = "80e00001 00000000 deadbeef"
                                                "7c851111 2222";

// A mixer's PCMA packet with two CSRCs, seq 0xffff.
inline constexpr std::string_view kMixedAudio = "8208ffff 12345678 0badcafe"
                                                "00000001 00000002"
                                                "d5d5d5d5 d5d5";

// RFC 8285 4.2: ids 1 (1 byte), 2 (2 bytes), two padding bytes, 3 (4 bytes).
inline constexpr std::string_view kRfc8285OneByte = "90600001 00000001 00000002"
                                                    "bede0003 10aa21bb bb000033 cccccccc"
                                                    "010203";

// RFC 8285 4.3: ids 1 (empty), 2 (1 byte), a padding byte, 3 (4 bytes).
inline constexpr std::string_view kRfc8285TwoByte = "90600002 00000001 00000002"
                                                    "10000003 01000201 dd000304 eeeeeeee"
                                                    "010203";

// Two-byte block that needs it: id 200 with 20 bytes ("rtp-stream-id-long-1")
// and id 2 with one byte, then padding.
inline constexpr std::string_view kTwoByteLongValue = "90600003 00000001 00000002"
                                                      "10000007 c814"
                                                      "7274702d 73747265 616d2d69 642d6c6f 6e672d31"
                                                      "0201ff00 0000"
                                                      "0a0b0c0d";

// The ffmpeg packet retransmitted over RTX: PT 97, ssrc 0x01020304, seq 100,
// the original sequence number 1 in front of the original payload.
inline constexpr std::string_view kFfmpegH264Rtx = "80e10064 00000000 01020304"
                                                   "0001 7c851111 2222";

// A bandwidth probe: RTX PT 97, transport-cc 16 (id 5) and 224 bytes of
// padding, no payload.
inline std::string probePaddingOnly() {
    return "b0610005 00001000 cafebabe"
           "bede0001 51001000" +
           std::string(2 * 223, '0') + "e0";
}

} // namespace sfu::rtp::test
