#!/usr/bin/env bash
# Fan-out load run: builds the worker (Release, in build/), then forwards one
# VP8 stream to N consumers for each N given (default: 10 100) and prints
# rates, loss and the worker's CPU cost per forwarded packet.
#   scripts/load.sh                          # N = 10 and 100
#   scripts/load.sh 50 200 --rate 500 --duration 12
#   scripts/load.sh --compare --loads 10x5000 10x20000 100x2000
# --compare runs ours, mediasoup 3.8.4's worker (when built) and the floor
# (build/sfu-raw_forwarder: recvmmsg in, sendmmsg out) in turn at each load,
# 3 times each, and prints the medians and the ratios of CPU per packet;
# --json FILE also saves them for bench/load/chart.py to draw. The scale
# runs (1,000 consumer legs, 10,000 WebRtcTransports) are bench/load/scale.py.
# --legs srtp-cm|srtp-gcm|webrtc|webrtc-cm puts the producer and the
# consumers on SRTP PlainTransports or WebRtcTransports (ICE, DTLS-SRTP;
# webrtc-cm: AES_CM_128_HMAC_SHA1_80 only), driven by build/sfu-load_peer;
# the default is plain RTP. --shared-port PORT puts our worker's
# WebRtcTransports on one UDP port:
#   scripts/load.sh --compare --loads 10x10000 --legs srtp-cm --repeat 1
#   scripts/load.sh --compare --loads 10x5000 100x1000 --legs webrtc
#   scripts/load.sh --compare --loads 10x10000 --legs webrtc-cm --shared-port 40000
# Options go to bench/load/fanout.py (see its --help). BUILD_DIR is honoured
# as in scripts/build.sh. A measurement, not a test: about 12 s per N. On a
# machine busy with other work, --nice -10 (as root) keeps the run from being
# starved; the output says how busy the host was.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
export SFU_WORKER_BIN="${BUILD_DIR:-$root/build}/sfu-worker"
exec /usr/bin/python3 "$root/bench/load/fanout.py" "$@"
