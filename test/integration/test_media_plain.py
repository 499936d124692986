"""Real encoded media through the worker's PlainTransports: a sending ffmpeg
feeds producers (VP8 video, Opus audio, optionally H.264) over plain RTP or
SDES-keyed SRTP; simple consumers forward them to a receiving ffmpeg that
writes a Matroska file; ffprobe then decodes what arrived. The worker's own
view (stats, tuple notifications) is checked along the way.

Needs Debian's ffmpeg (scripts/setup.sh installs it); skipped without it
(a strict run fails instead).

Run: test/integration/run_tests.py -v test_media_plain
Environment: SFU_TEST_VERBOSE=1 prints the frame counts and durations;
SFU_TEST_KEEP_MEDIA=1 keeps the SDP, .mkv and ffmpeg logs in /tmp/sfu-media-*.
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import media_util as mu  # noqa: E402

# Seconds of media each sender produces (in real time, -re).
MEDIA_SECONDS = 5
VIDEO_FPS = 30
# Opus as ffmpeg's libopus encodes it: 20 ms frames, one per packet.
OPUS_FRAME_SECONDS = 0.020
# The share of what was sent that must arrive, in decoded frames and in the
# worker's packet counts. The receivers listen before the sender starts and
# its first frame is a key frame, so on loopback everything arrives; the
# margin is for a loaded machine.
MIN_SHARE = 0.9
MIN_VIDEO_FRAMES = int(MIN_SHARE * MEDIA_SECONDS * VIDEO_FPS)
MIN_AUDIO_SECONDS = MIN_SHARE * MEDIA_SECONDS
# Packets a stream takes at least: one per Opus frame, one or more per video
# frame (ffmpeg's -pkt_size splits the larger ones).
MIN_PACKETS = {"audio": int(MIN_SHARE * MEDIA_SECONDS / OPUS_FRAME_SECONDS),
               "video": int(MIN_SHARE * MEDIA_SECONDS * VIDEO_FPS)}

ROUTER_ID = "router-media"


def _missing_ffmpeg_reason():
    if not mu.has_ffmpeg():
        return "ffmpeg/ffprobe not installed (scripts/setup.sh installs ffmpeg)"
    for encoder in ("libvpx", "libopus"):
        if not mu.has_encoder(encoder):
            return "ffmpeg lacks the %s encoder" % encoder
    return None


_SKIP_REASON = _missing_ffmpeg_reason()


class Stream:
    """One media stream end to end: sender -> producer transport ->
    producer -> consumer -> consumer transport -> receiver file."""

    def __init__(self, name, codec, payload_type, mapped_payload_type, ssrc, index):
        self.name = name
        self.codec = codec
        # The sender's payload type, and the router's one that the producer
        # rewrites it to and the consumer sends (the host's rtpMapping).
        self.payload_type = payload_type
        self.mapped_payload_type = mapped_payload_type
        self.ssrc = ssrc
        self.mapped_ssrc = 500000 + index
        self.consumer_ssrc = 600000 + index
        self.send_transport_id = "send-" + name
        self.recv_transport_id = "recv-" + name
        self.producer_id = "producer-" + name
        self.consumer_id = "consumer-" + name
        self.send_answer = None
        self.recv_answer = None
        self.sender_key = None
        self.receiver_key = None
        self.recv_port = None
        self.sdp_path = None
        self.out_path = None
        self.receiver = None


@unittest.skipIf(_SKIP_REASON is not None, _SKIP_REASON or "")
class PlainTransportMediaTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sfu-media-")
        self.processes = []
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        # Cleanups run last-in first-out: the ffmpegs go before the worker.
        self.addCleanup(self._kill_processes)
        self.worker.wait_running()
        self.request("worker.createRouter", {"routerId": ROUTER_ID})

    def _kill_processes(self):
        for process in self.processes:
            process.kill()
        if not self._keep_files():
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _keep_files(self):
        return bool(os.environ.get("SFU_TEST_KEEP_MEDIA"))

    # ----- small helpers ---------------------------------------------------

    def request(self, method, internal, data=None, timeout=5):
        return self.worker.request_ok(method, internal=internal, data=data, timeout=timeout)

    def transport_internal(self, transport_id, **extra):
        internal = {"routerId": ROUTER_ID, "transportId": transport_id}
        internal.update(extra)
        return internal

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start_ffmpeg(self, args, name):
        process = mu.FfmpegProcess(args, self.path(name + ".log"), name)
        self.processes.append(process)
        return process

    def diagnostics(self):
        """Everything useful when a media check fails."""
        parts = [p.describe() for p in self.processes]
        parts.append("worker logs: %s" % [text for _, text in self.worker.logs][-20:])
        parts.append("worker stderr: %s" % (self.worker.stderr.strip()[-800:] or "<empty>"))
        return "\n".join(parts)

    # ----- the scenario ----------------------------------------------------

    def create_transports(self, stream, srtp):
        """Both PlainTransports of a stream and its producer."""
        # Producer side: comedia latches ffmpeg's source. ffmpeg sends RTCP
        # from a second socket (RTP port + 1), so RTCP gets its own port
        # (rtcpMux: false), as mediasoup advises for ffmpeg ingest.
        stream.send_answer = self.request(
            "router.createPlainTransport",
            self.transport_internal(stream.send_transport_id),
            mu.plain_transport_options(rtcp_mux=False, comedia=True, enable_srtp=srtp))
        self.assertIn("rtcpTuple", stream.send_answer)
        if srtp:
            self.assertEqual(stream.send_answer["srtpParameters"]["cryptoSuite"], mu.SRTP_SUITE)
            # The key the worker decrypts ffmpeg's packets with.
            stream.sender_key = mu.random_srtp_key()
            self.request("transport.connect", self.transport_internal(stream.send_transport_id),
                         {"srtpParameters": mu.srtp_parameters(stream.sender_key)})
        self.request(
            "transport.produce",
            self.transport_internal(stream.send_transport_id, producerId=stream.producer_id),
            mu.produce_data(stream.codec, stream.payload_type, stream.ssrc,
                            stream.mapped_payload_type, stream.mapped_ssrc))

        # Consumer side: RTP and RTCP muxed towards the receiving ffmpeg.
        stream.recv_answer = self.request(
            "router.createPlainTransport",
            self.transport_internal(stream.recv_transport_id),
            mu.plain_transport_options(rtcp_mux=True, comedia=False, enable_srtp=srtp))

    def connect_consumer(self, stream, srtp):
        """Points the consumer transport at a free local port pair for the
        receiver and consumes the producer there. Called once the worker has
        all its sockets, so that it cannot take the port in between."""
        stream.recv_port = mu.free_udp_port_pair()
        connect = {"ip": mu.LOCAL_IP, "port": stream.recv_port}
        if srtp:
            # The receiver sends nothing the worker must decrypt; any valid
            # key of the suite will do for the worker's inbound direction.
            connect["srtpParameters"] = mu.srtp_parameters(mu.random_srtp_key())
        connected = self.request("transport.connect",
                                 self.transport_internal(stream.recv_transport_id), connect)
        if srtp:
            # The worker sends with the transport's own key, not the one given
            # in connect(); the host keeps the connect answer's copy.
            own = (connected or {}).get("srtpParameters") or stream.recv_answer["srtpParameters"]
            self.assertEqual(own["cryptoSuite"], mu.SRTP_SUITE)
            stream.receiver_key = own["keyBase64"]
        self.request(
            "transport.consume",
            self.transport_internal(stream.recv_transport_id, producerId=stream.producer_id,
                                    consumerId=stream.consumer_id),
            mu.consume_data(stream.codec, stream.mapped_payload_type, stream.consumer_ssrc,
                            stream.mapped_ssrc))

    def start_receiver(self, stream, srtp):
        stream.sdp_path = self.path(stream.name + ".sdp")
        stream.out_path = self.path(stream.name + ".mkv")
        with open(stream.sdp_path, "w") as f:
            f.write(mu.receiver_sdp(stream.codec, stream.recv_port, stream.mapped_payload_type,
                                    ssrc=stream.consumer_ssrc, srtp_key=stream.receiver_key))
        stream.receiver = self.start_ffmpeg(
            mu.receiver_args(stream.sdp_path, stream.out_path, srtp=srtp),
            "receiver-" + stream.name)

    def start_sender(self, streams, srtp):
        args = []
        for stream in streams:
            args += mu.lavfi_input_args(stream.codec.kind, MEDIA_SECONDS)
        for index, stream in enumerate(streams):
            tuple_ = stream.send_answer["tuple"]
            rtcp_tuple = stream.send_answer["rtcpTuple"]
            args += mu.sender_output_args(
                stream.codec, index, stream.payload_type, stream.ssrc,
                tuple_["localPort"], rtcp_tuple["localPort"],
                srtp_key=stream.sender_key if srtp else None)
        return self.start_ffmpeg(args, "sender")

    def run_media(self, streams, srtp=False):
        """Sets up, moves MEDIA_SECONDS of media, stops everything; returns
        {stream name: {"producer", "consumer", "send", "recv"} stats}."""
        for stream in streams:
            self.create_transports(stream, srtp)
        for stream in streams:
            self.connect_consumer(stream, srtp)

        # Receivers first, so that they are listening for the first key frame.
        for stream in streams:
            self.start_receiver(stream, srtp)
        for stream in streams:
            self.assertTrue(mu.wait_udp_bound(stream.recv_port, 10, stream.receiver.proc),
                            "receiver never bound port %d\n%s"
                            % (stream.recv_port, self.diagnostics()))

        sender = self.start_sender(streams, srtp)
        for stream in streams:
            self.check_latched(stream, "tuple", "tuple")
            self.check_latched(stream, "rtcptuple", "rtcpTuple")

        # Scores are judged while the media flows: a video stream that has
        # stopped is scored 0 at the next report (it is unusable then).
        time.sleep(MEDIA_SECONDS / 2)
        flowing = {stream.name: self.collect_stats(stream) for stream in streams}
        code = sender.wait(MEDIA_SECONDS + 20)
        self.assertEqual(code, 0, "sender did not finish cleanly\n%s" % self.diagnostics())
        # Let the last packets and an RTCP round settle before reading stats.
        time.sleep(0.5)
        self.assertTrue(self.worker.alive, "worker died\n%s" % self.diagnostics())
        stats = {stream.name: self.collect_stats(stream) for stream in streams}
        for stream in streams:
            stats[stream.name]["flowing"] = flowing[stream.name]

        for stream in streams:
            self.end_receiver(stream)
        # Real media must not leave the worker unable to shut down cleanly.
        self.assertEqual(self.worker.close(), 0, "worker close\n%s" % self.diagnostics())
        return stats

    def end_receiver(self, stream):
        """Ends the receiving ffmpeg with an RTCP BYE so that it finishes its
        file (see media_util); signals only if that fails."""
        bye = mu.rtcp_bye(0x5F5F5F5F)
        if stream.receiver_key:
            bye = mu.srtcp_protect_unencrypted(bye, stream.receiver_key)
        for _ in range(2):
            if stream.receiver.poll() is not None:
                break
            mu.send_udp(stream.recv_port, bye)
            stream.receiver.wait(3)
        stream.receiver.stop(grace=2)

    def check_latched(self, stream, event, key):
        """The comedia transport reports the sender's address it latched."""
        note = self.worker.wait_notification(
            lambda n: n.get("targetId") == stream.send_transport_id and n.get("event") == event,
            timeout=15)
        tuple_ = note["data"][key]
        self.assertEqual(tuple_["remoteIp"], mu.LOCAL_IP, note)
        self.assertGreater(tuple_["remotePort"], 0, note)
        self.assertEqual(tuple_["protocol"], "udp", note)

    def collect_stats(self, stream):
        return {
            "producer": self.request(
                "producer.getStats",
                self.transport_internal(stream.send_transport_id, producerId=stream.producer_id)),
            "consumer": self.request(
                "consumer.getStats",
                self.transport_internal(stream.recv_transport_id, producerId=stream.producer_id,
                                        consumerId=stream.consumer_id)),
            "send": self.request("transport.getStats",
                                 self.transport_internal(stream.send_transport_id)),
            "recv": self.request("transport.getStats",
                                 self.transport_internal(stream.recv_transport_id)),
        }

    # ----- checks ----------------------------------------------------------

    def check_worker_stats(self, stream, stats):
        """The producer counted what a stream of its kind and length takes,
        the consumer forwarded (nearly) all of it, scores are perfect on a
        lossless loopback, and the transports carried the streams' bytes.
        Returns the figures."""
        where = "%s stats: %s" % (stream.name, stats)
        inbound = [s for s in stats["producer"] if s.get("type") == "inbound-rtp"]
        self.assertEqual(len(inbound), 1, where)
        inbound = inbound[0]
        self.assertEqual(inbound["ssrc"], stream.ssrc, where)
        received = inbound["packetCount"]
        self.assertGreaterEqual(received, MIN_PACKETS[stream.codec.kind], where)
        if stream.codec.kind == "audio":
            # Nothing the sender never sent: libopus adds a frame or two of
            # priming to the 250 of 5 s.
            self.assertLessEqual(received, MEDIA_SECONDS / OPUS_FRAME_SECONDS + 2, where)
        # The scores of both streams while the media flowed: perfect on a
        # lossless loopback.
        flowing = stats["flowing"]
        self.assertEqual([s["score"] for s in flowing["producer"] if s.get("type") == "inbound-rtp"],
                         [10], "%s while flowing: %s" % (stream.name, flowing))

        outbound = [s for s in stats["consumer"] if s.get("type") == "outbound-rtp"]
        self.assertEqual(len(outbound), 1, where)
        outbound = outbound[0]
        self.assertEqual(outbound["ssrc"], stream.consumer_ssrc, where)
        forwarded = outbound["packetCount"]
        self.assertGreaterEqual(forwarded, MIN_SHARE * received,
                                "%s: the consumer forwarded %d of the producer's %d packets"
                                % (stream.name, forwarded, received))
        self.assertLessEqual(forwarded, received, where)

        send_transport = stats["send"][0]
        recv_transport = stats["recv"][0]
        self.assertGreaterEqual(send_transport["rtpBytesReceived"], inbound["byteCount"], where)
        self.assertGreaterEqual(send_transport["bytesReceived"],
                                send_transport["rtpBytesReceived"], where)
        self.assertGreaterEqual(recv_transport["rtpBytesSent"], outbound["byteCount"], where)
        self.assertGreaterEqual(recv_transport["bytesSent"], recv_transport["rtpBytesSent"],
                                where)
        return {"producer": received, "consumer": forwarded,
                "scores": (inbound["score"], outbound.get("score"))}

    def probe(self, stream):
        """The single stream of the receiver's file, with frames counted."""
        self.assertTrue(os.path.exists(stream.out_path) and os.path.getsize(stream.out_path) > 0,
                        "%s: no output file\n%s" % (stream.name, self.diagnostics()))
        try:
            streams = mu.ffprobe_streams(stream.out_path)
        except RuntimeError as exc:
            self.fail("%s\n%s" % (exc, self.diagnostics()))
        # A receiver that had to be killed may have left a truncated file.
        self.assertEqual(stream.receiver.poll(), 0, "%s: receiver did not end cleanly\n%s"
                         % (stream.name, self.diagnostics()))
        self.assertEqual(len(streams), 1, "%s: %s" % (stream.name, streams))
        probed = streams[0]
        self.assertEqual(probed.get("codec_type"), stream.codec.kind, probed)
        self.assertEqual(probed.get("codec_name"), stream.codec.probe_name, probed)
        return probed

    def check_video(self, stream):
        probed = self.probe(stream)
        frames = int(probed.get("nb_read_frames", 0))
        self.assertEqual((probed.get("width"), probed.get("height")), (320, 240), probed)
        self.assertGreaterEqual(
            frames, MIN_VIDEO_FRAMES,
            "%s: only %d decoded frames of %d sent\n%s"
            % (stream.name, frames, MEDIA_SECONDS * VIDEO_FPS, self.diagnostics()))
        # Nothing arrives that was never sent (e.g. duplicated frames).
        self.assertLessEqual(frames, MEDIA_SECONDS * VIDEO_FPS, probed)
        return frames

    def check_audio(self, stream):
        probed = self.probe(stream)
        frames = int(probed.get("nb_read_frames", 0))
        seconds = frames * OPUS_FRAME_SECONDS
        self.assertGreaterEqual(
            seconds, MIN_AUDIO_SECONDS,
            "%s: only %.2f s of audio (%d frames) of %d s sent\n%s"
            % (stream.name, seconds, frames, MEDIA_SECONDS, self.diagnostics()))
        # Nothing may arrive that was never sent (e.g. duplicated packets).
        self.assertLessEqual(seconds, MEDIA_SECONDS + 0.5, probed)
        return seconds

    def report(self, text):
        if os.environ.get("SFU_TEST_VERBOSE"):
            sys.stderr.write("\n  %s: %s\n" % (self.id().split(".")[-1], text))

    # ----- tests -----------------------------------------------------------

    def run_vp8_and_opus(self, srtp):
        video = Stream("video", mu.VP8, 101, 96, 11111111, 1)
        audio = Stream("audio", mu.OPUS, 100, 111, 22222222, 2)
        stats = self.run_media([video, audio], srtp=srtp)
        packets = {stream.name: self.check_worker_stats(stream, stats[stream.name])
                   for stream in (video, audio)}
        frames = self.check_video(video)
        seconds = self.check_audio(audio)
        self.report("%d VP8 frames, %.2f s of Opus; packets %s" % (frames, seconds, packets))

    def test_vp8_and_opus_over_rtp(self):
        self.run_vp8_and_opus(srtp=False)

    def test_vp8_and_opus_over_srtp(self):
        self.run_vp8_and_opus(srtp=True)

    @unittest.skipUnless(mu.has_encoder("libx264"), "ffmpeg lacks the libx264 encoder")
    def test_h264_over_rtp(self):
        video = Stream("h264", mu.H264, 102, 125, 33333333, 3)
        stats = self.run_media([video])
        packets = self.check_worker_stats(video, stats[video.name])
        frames = self.check_video(video)
        self.report("%d H.264 frames; packets %s" % (frames, packets))


if __name__ == "__main__":
    unittest.main()
