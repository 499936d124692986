"""PlainTransport SRTP with the AEAD GCM suites (RFC 7714) against a real
peer: GStreamer's srtpenc/srtpdec (gstreamer1.0-plugins-bad, on libsrtp2).

    GStreamer sender: videotestsrc ! vp8enc ! rtpvp8pay ! rtpbin (SRs)
        ! srtpenc (aes-128-gcm or aes-256-gcm) ! one UDP socket
      --> producer PlainTransport (comedia, rtcp-mux, enableSrtp with
          srtpCryptoSuite AEAD_AES_*_GCM, connect() with the sender's key)
    consumer PlainTransport (rtcpMux false, the same suite)
      --> GStreamer receiver: RTP and RTCP ports ! srtpdec (keyed with the
          transport's own srtpParameters) ! rtpvp8depay ! vp8dec

Each suite: the worker decrypts every packet the sender encrypted (the
producer's packetCount and srtpInbound.rtpPackets at least 99% of them,
at most all), with zero authentication, replay and other failures in
transport.dump's srtpInbound, the sender's SRTCP too; the receiver
decrypts at least 99% of what the consumer sent, its SRTCP sender reports
included, and decodes at least 90% of the frames encoded. ffmpeg 5.1's SRTP
has the AES-CM suites only, hence GStreamer.

Requires GStreamer with srtpenc/srtpdec (scripts/setup.sh installs
gstreamer1.0-plugins-bad): the test fails, not skips, without it.

Run: python3 -m unittest discover -s test/integration -p test_srtp_gcm_gstreamer.py -v
Environment: SFU_TEST_VERBOSE=1 prints the counts.
"""

import base64
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import loss_util as lu  # noqa: E402

ROUTER_ID = "router-srtp-gcm"
SEND_TRANSPORT = "transport-srtp-send"
RECV_TRANSPORT = "transport-srtp-recv"
PRODUCER_ID = "producer-srtp"
CONSUMER_ID = "consumer-srtp"
SENDER_PT, SENDER_SSRC = 101, 51111111
MAPPED_PT, MAPPED_SSRC = 96, 910001
CONSUMER_PT, CONSUMER_SSRC = 96, 920001
FRAMES = 120
# Master key + salt lengths of the suites (RFC 7714 12: 12-byte salts).
SUITES = {"AEAD_AES_128_GCM": ("aes-128-gcm", 16 + 12),
          "AEAD_AES_256_GCM": ("aes-256-gcm", 32 + 12)}
MIN_DELIVERED_SHARE = 0.99
MIN_DECODED_SHARE = 0.9


class SrtpGcmGStreamerTest(unittest.TestCase):

    def setUp(self):
        python = lu.gst_python(lu.GST_SRTP_ELEMENTS)
        if python is None:
            self.fail(lu.gst_missing_reason(lu.GST_SRTP_ELEMENTS))
        self.python = python
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def request(self, method, internal, data=None):
        return self.worker.request_ok(method, internal=internal, data=data)

    def internal(self, transport_id, **extra):
        out = {"routerId": ROUTER_ID, "transportId": transport_id}
        out.update(extra)
        return out

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    def transport_options(self, suite, rtcp_mux, comedia):
        options = lu.plain_transport_options(rtcp_mux=rtcp_mux, comedia=comedia)
        options.update(enableSrtp=True, srtpCryptoSuite=suite)
        return options

    def run_suite(self, suite):
        cipher, key_length = SUITES[suite]
        send = self.request("router.createPlainTransport", self.internal(SEND_TRANSPORT),
                            self.transport_options(suite, rtcp_mux=True, comedia=True))
        recv = self.request("router.createPlainTransport", self.internal(RECV_TRANSPORT),
                            self.transport_options(suite, rtcp_mux=False, comedia=False))
        for answer in (send, recv):
            own = answer["srtpParameters"]
            self.assertEqual(own["cryptoSuite"], suite, answer)
            self.assertEqual(len(base64.b64decode(own["keyBase64"])), key_length, answer)

        # The key the sender encrypts with, given to the worker to decrypt.
        sender_key = os.urandom(key_length)
        self.request("transport.connect", self.internal(SEND_TRANSPORT), {"srtpParameters": {
            "cryptoSuite": suite, "keyBase64": base64.b64encode(sender_key).decode()}})
        self.request("transport.produce", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID),
                     lu.produce_video_data(SENDER_PT, SENDER_SSRC, MAPPED_PT, MAPPED_SSRC,
                                           nack=False, cname="gst-srtp"))

        rtp_port, rtcp_port = lu.free_udp_port(), lu.free_udp_port()
        # The receiver sends nothing: any key of the suite does for the
        # worker's inbound side. The worker sends with its own key.
        connected = self.request("transport.connect", self.internal(RECV_TRANSPORT), {
            "ip": lu.LOCAL_IP, "port": rtp_port, "rtcpPort": rtcp_port,
            "srtpParameters": {"cryptoSuite": suite, "keyBase64": base64.b64encode(
                os.urandom(key_length)).decode()}})
        receiver_key = base64.b64decode(
            (connected.get("srtpParameters") or recv["srtpParameters"])["keyBase64"])
        self.request("transport.consume",
                     self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID,
                                   consumerId=CONSUMER_ID),
                     lu.consume_video_data(CONSUMER_PT, CONSUMER_SSRC, MAPPED_SSRC, nack=False))

        args = [self.python, os.path.abspath(lu.__file__), "gst-srtp", "--cipher", cipher,
                "--frames", str(FRAMES), "--send-to", str(send["tuple"]["localPort"]),
                "--send-key", sender_key.hex(), "--send-ssrc", str(SENDER_SSRC),
                "--send-pt", str(SENDER_PT), "--recv-rtp-port", str(rtp_port),
                "--recv-rtcp-port", str(rtcp_port), "--recv-key", receiver_key.hex(),
                "--recv-pt", str(CONSUMER_PT)]
        peer = subprocess.run(args, capture_output=True, text=True, timeout=60)
        lines = [line for line in peer.stdout.splitlines() if line.startswith("{")]
        self.assertTrue(lines, "no summary from the GStreamer peer (exit %d): %s"
                        % (peer.returncode, peer.stderr[-1500:]))
        gst = json.loads(lines[-1])
        self.assertEqual((peer.returncode, gst["errors"]), (0, []),
                         "GStreamer peer: %s\n%s" % (gst, peer.stderr[-1500:]))

        producer = lu.stream_stats(self.request(
            "producer.getStats", self.internal(SEND_TRANSPORT, producerId=PRODUCER_ID)),
            "inbound-rtp")
        consumer = lu.stream_stats(self.request(
            "consumer.getStats", self.internal(RECV_TRANSPORT, producerId=PRODUCER_ID,
                                               consumerId=CONSUMER_ID)), "outbound-rtp")
        inbound = self.request("transport.dump", self.internal(SEND_TRANSPORT))["srtpInbound"]
        recv_inbound = self.request("transport.dump",
                                    self.internal(RECV_TRANSPORT))["srtpInbound"]
        figures = {"gstreamer": gst, "producerPackets": producer["packetCount"],
                   "consumerPackets": consumer["packetCount"], "srtpInbound": inbound}
        where = json.dumps(figures)

        # In: every packet decrypted and authenticated, nothing refused.
        self.assertEqual(gst["encodedFrames"], FRAMES, where)
        sent = gst["rtpSent"]
        self.assertGreater(sent, FRAMES, where)
        self.assertTrue(MIN_DELIVERED_SHARE * sent <= producer["packetCount"] <= sent, where)
        self.assertEqual(inbound["rtpPackets"], producer["packetCount"], where)
        self.assertEqual((inbound["authFailures"], inbound["replayFailures"],
                          inbound["otherFailures"]), (0, 0, 0), where)
        self.assertGreaterEqual(gst["rtcpSent"], 1, where)
        self.assertTrue(1 <= inbound["rtcpPackets"] <= gst["rtcpSent"], where)
        self.assertEqual(recv_inbound["rtpPackets"] + recv_inbound["authFailures"], 0,
                         "the receiver sent nothing: %s" % recv_inbound)

        # Out: the receiver decrypts what the consumer sent, and decodes it.
        self.assertTrue(MIN_DELIVERED_SHARE * consumer["packetCount"] <= gst["rtpReceived"]
                        <= consumer["packetCount"], where)
        self.assertGreaterEqual(consumer["packetCount"], MIN_DELIVERED_SHARE * sent, where)
        self.assertGreaterEqual(gst["rtcpReceived"], 2, "no SRTCP from the worker: " + where)
        self.assertGreaterEqual(gst["decodedFrames"], MIN_DECODED_SHARE * FRAMES, where)

        errors = [t for level, t in self.worker.logs if level == "E"]
        self.assertEqual(errors, [], "worker logged errors")
        self.assertEqual(self.worker.close(), 0)
        self.report(where)

    def test_aead_aes_128_gcm(self):
        self.run_suite("AEAD_AES_128_GCM")

    def test_aead_aes_256_gcm(self):
        self.run_suite("AEAD_AES_256_GCM")


if __name__ == "__main__":
    unittest.main()
