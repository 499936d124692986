#!/usr/bin/env bash
# Runs the mediasoup 3.8.4 package's own test files against our worker binary.
# The package is fetched from npm once by install-host.sh (with
# --ignore-scripts, so mediasoup's own worker is never built) into .cache/
# and reused afterwards.
# Usage: run-mediasoup-tests.sh test-Worker.js test-Router.js ... [-- jest options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
pkg="$("$root/test/integration/host/install-host.sh")"

tests=()
while (($#)); do
  if [[ "$1" == "--" ]]; then
    shift
    break
  fi
  tests+=("test/$1")
  shift
done
cd "$pkg"
MEDIASOUP_WORKER_BIN="${SFU_WORKER_BIN:-$root/build/sfu-worker}" \
  npx jest --ci --colors=false "$@" "${tests[@]}"
