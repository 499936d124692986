// RTCP test vectors as browsers send them. Sources: packets from public
// capture-based test suites (mediasoup, pion) and the examples of the specs.
#pragma once

namespace sfu::rtcp::test::vectors {

// SR without report blocks (SSRC 0x5d931534) followed by SDES with a
// 16-character CNAME: the shape of the compound Chrome sends for an outgoing
// stream (both packets captured, SSRCs aligned).
inline constexpr const char* kChromeSrSdes =
    "80c80006 5d931534 dd3ac1b4 76547171 0008cf00 00000e18 0008cf00"
    "81ca0006 5d931534 0110 74376d6b 596e436d 34364f63 494e792f 0000";

// RR with one report block followed by REMB for two SSRCs.
inline constexpr const char* kRrRemb =
    "81c90007 5d931534 01932db4 00000001 00000000 00000000 00000000 00000005"
    "8fce0006 fa17fa17 00000000 52454d42 0201df82 02d03702 04a76747";

// A packet dump (Firefox): RR + SDES(CNAME) + BYE, then PLI, RTCP-SR-REQ
// (RTPFB FMT 5) and APP.
inline constexpr const char* kFirefoxCompound =
    "81c90007 902f9e2e bc5e9a40 00000000 000046e1 00000111 09f36432 00024a79"
    "81ca000c 902f9e2e 0126 7b396330 30656239 322d3161 66622d39 6434392d 61343764 2d393166"
    "36346565 65363966 357d 00000000"
    "81cb0001 902f9e2e"
    "81ce0002 902f9e2e 902f9e2e"
    "85cd0002 902f9e2e 902f9e2e"
    "80cc0003 4baae1ab 4e414d45 41424344";

// Generic NACK from a receive-only browser peer (sender SSRC 1): PID 2959,
// BLP 0x0003.
inline constexpr const char* kNack = "81cd0003 00000001 0330bdee 0b8f0003";

// PLI and FIR as browsers send them (FIR media SSRC 0, seq 4).
inline constexpr const char* kPli = "81ce0002 902f9e2e 902f9e2e";
inline constexpr const char* kFir = "84ce0004 fa17fa17 00000000 02d03702 04000000";

// Transport-cc feedback with the P bit, as libwebrtc pads it: one received
// packet (run of 1, delta 148 ticks), pad count 1.
inline constexpr const char* kTccRun1 = "afcd0005 fa17fa17 43032fa0 00990001 3de80217 2001 94 01";
// Seven received packets in one run, 3 octets of padding.
inline constexpr const char* kTccRun7 =
    "afcd0007 fa17fa17 193dd8bb 00040007 10636e01 2007 4c24 24100c0c 10 000003";
// 13 statuses in a one-bit vector (7 received, 3 lost, 3 received), no
// padding needed.
inline constexpr const char* kTccOneBit =
    "8fcd0007 fa17fa17 09faff67 0027000d 5fc2f103 bf8e 1000 00000000 001c0400";
// No statuses and a negative reference time (-2 x 64 ms).
inline constexpr const char* kTccNegativeRef = "8fcd0004 fa17fa17 09faff67 00270000 fffffe01";
// Two-bit vector (5 small, 1 lost, 1 large) then a run of lost longer than
// the status count needs; parses, but is not the canonical encoding.
inline constexpr const char* kTccLongRun =
    "afcd0007 9b74f61f 9371dcbc 853c0009 63f916b3 d552 0030 9baa6aaa 7b 0109 01";

// RFC 3611 XR with every block type of the RFC: loss RLE (1), duplicate RLE
// (2), packet receipt times (3), RRT (4), DLRR (5), statistics summary (6)
// and VoIP metrics (7).
inline constexpr const char* kXrAllBlocks =
    "80cf0033 01020304"
    "010c0004 12345689 0005000c 40060006 87650000"
    "02060004 12345689 0005000c 41233fff ffff0000"
    "03030007 98765432 3c483cd9 11111111 22222222 33333333 44444444 55555555"
    "04000002 01020304 05060708"
    "05000009 88888888 12345678 99999999 09090909 12345678 99999999 11223344 12345678 99999999"
    "06e80009 fedcba98 12345678 11111111 22222222 33333333 44444444 55555555 66666666 01020304"
    "07000008 89abcdef 05060708 11112222 33334444 11223344 55667788 99001122 33445566";

} // namespace sfu::rtcp::test::vectors
