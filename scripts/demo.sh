#!/usr/bin/env bash
# The main job: builds the worker, spawns it under the Python control host,
# and moves a real VP8 stream (ffmpeg) through a producer and a consumer on
# two PlainTransports, printing what arrived and the worker's statistics.
# BUILD_DIR is honoured as in scripts/build.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
export SFU_WORKER_BIN="${BUILD_DIR:-$root/build}/sfu-worker"
python=/usr/bin/python3
[[ -x $python ]] || python=python3
exec "$python" "$root/test/integration/demo.py"
