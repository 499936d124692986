#!/usr/bin/env bash
# Builds the worker, then spawns it through the Python test harness: creates
# a router, prints router.dump and worker.getResourceUsage, closes it.
# BUILD_DIR is honoured as in scripts/build.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
export SFU_WORKER_BIN="${BUILD_DIR:-$root/build}/sfu-worker"
exec python3 "$root/test/integration/demo.py"
