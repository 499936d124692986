#!/usr/bin/env bash
# Runs the stateful channel-protocol fuzzer (test/integration/channel_fuzz.py)
# against build/sfu-worker for N seconds (default 300) with a seed (default
# random; printed, and a failure prints how to replay it).
# Usage: scripts/fuzz-channel.sh [seconds] [seed]
# SFU_WORKER_BIN picks another worker binary (e.g. an ASan build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-300}"
seed="${2:-}"
args=(--seconds "$seconds" --verbose)
[[ -n "$seed" ]] && args+=(--seed "$seed")
exec python3 "$root/test/integration/channel_fuzz.py" "${args[@]}"
