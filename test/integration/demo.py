"""A short tour, end to end: spawn the worker under a control host, send a
real encoded stream (ffmpeg: a VP8 test pattern) into a PlainTransport
producer, consume it on a second PlainTransport and receive it here. Prints
what flowed and the worker's own statistics (the demo room of scripts/demo.sh is
demo/server.py)."""

import json
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import media_util as mu  # noqa: E402
from harness import WorkerProcess, worker_bin  # noqa: E402

SECONDS = 5
ROUTER = {"routerId": "demo-router"}
PRODUCER_PT, ROUTER_PT = 101, 96
SENDER_SSRC, ROUTER_SSRC, CONSUMER_SSRC = 1111, 2222, 3333


def internal(**ids):
    return dict(ROUTER, **ids)


def show(title, value):
    print("== %s" % title)
    print(json.dumps(value, indent=2, sort_keys=True))


def receive(sock, until):
    """Counts the consumer's RTP packets and frames (distinct timestamps)."""
    packets, frames, size = 0, set(), 0
    sock.settimeout(0.2)
    while time.time() < until:
        try:
            data = sock.recv(2048)
        except socket.timeout:
            continue
        if len(data) >= 12 and 96 <= (data[1] & 0x7F) <= 127:
            packets += 1
            size += len(data)
            frames.add(int.from_bytes(data[4:8], "big"))
    return packets, len(frames), size


def main():
    if not mu.has_ffmpeg():
        print("ffmpeg is missing: scripts/setup.sh installs it")
        return 1
    print("worker binary: %s" % worker_bin())
    with WorkerProcess(["--logLevel=warn"]) as worker:
        print("worker running, pid %s" % worker.wait_running()["targetId"])
        worker.request_ok("worker.createRouter", ROUTER)
        # ffmpeg sends RTCP from a second socket: RTCP on its own port.
        send = worker.request_ok("router.createPlainTransport", internal(transportId="in"),
                                 mu.plain_transport_options(rtcp_mux=False, comedia=True))
        worker.request_ok("router.createPlainTransport", internal(transportId="out"),
                          mu.plain_transport_options(rtcp_mux=True, comedia=False))
        worker.request_ok("transport.produce", internal(transportId="in", producerId="camera"),
                          mu.produce_data(mu.VP8, PRODUCER_PT, SENDER_SSRC, ROUTER_PT,
                                          ROUTER_SSRC))
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind((mu.LOCAL_IP, 0))
        worker.request_ok("transport.connect", internal(transportId="out"),
                          {"ip": mu.LOCAL_IP, "port": sink.getsockname()[1]})
        worker.request_ok("transport.consume",
                          internal(transportId="out", producerId="camera", consumerId="viewer"),
                          mu.consume_data(mu.VP8, ROUTER_PT, CONSUMER_SSRC, ROUTER_SSRC))

        print("sending %d s of VP8 (320x240, 30 fps) with ffmpeg..." % SECONDS)
        args = mu.lavfi_input_args("video", SECONDS) + mu.sender_output_args(
            mu.VP8, 0, PRODUCER_PT, SENDER_SSRC, send["tuple"]["localPort"],
            send["rtcpTuple"]["localPort"])
        with tempfile.TemporaryDirectory() as tmp:
            sender = mu.FfmpegProcess(args, os.path.join(tmp, "sender.log"), "sender")
            packets, frames, size = receive(sink, time.time() + SECONDS + 2)
            sender.stop()
        print("received from the worker: %d RTP packets, %d frames, %d bytes"
              % (packets, frames, size))
        show("producer.getStats", worker.request_ok(
            "producer.getStats", internal(transportId="in", producerId="camera")))
        show("consumer.getStats", worker.request_ok(
            "consumer.getStats", internal(transportId="out", consumerId="viewer")))
        show("worker.getResourceUsage", worker.request_ok("worker.getResourceUsage"))
        code = worker.close()
        print("worker exit code: %s" % code)
    return 0 if code == 0 and frames > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
