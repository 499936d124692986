#!/usr/bin/env bash
# End-to-end test with a real browser: headless Chromium (Debian's package)
# runs mediasoup-client against the mediasoup 3.8.4 host driving our worker,
# over UDP and over ICE-TCP, and data channels between two pages and the
# host. Installs what it needs on first use.
# Usage: run.sh [udp] [tcp] [simulcast] [svc] [data]   (default: all)
#        run.sh shaped [--compare] [vp8] [vp9] [--runs N]   (as root; shaped.js)
# Env: SFU_WORKER_BIN (default build/sfu-worker), SFU_LOG_LEVEL=debug,
#      SFU_LOG_TAGS="ice dtls rtp", DEBUG=mediasoup* (host and worker logs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

export SFU_WORKER_BIN="${SFU_WORKER_BIN:-$root/build/sfu-worker}"
if [[ ! -x "$SFU_WORKER_BIN" ]]; then
  echo "browser: no worker binary at $SFU_WORKER_BIN (cmake --build build --target sfu-worker)" >&2
  exit 1
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "browser: installing chromium"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Reinstall only when package.json or the lock file changed. --ignore-scripts
# keeps mediasoup from building its own worker.
stamp="$here/node_modules/.install-stamp"
want="$(cat "$here/package.json" "$here/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "browser: installing node packages"
  cmd=install
  [[ -f "$here/package-lock.json" ]] && cmd=ci
  (cd "$here" && npm "$cmd" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  want="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
  echo "$want" >"$stamp"
fi

# Host-side warnings and errors (including the worker's) are worth seeing
# when a scenario fails; DEBUG=mediasoup* shows everything.
export DEBUG="${DEBUG:-mediasoup:WARN* mediasoup:ERROR*}"
cd "$here"
# The runner cleans up after itself; the outer timeout is a backstop in case
# something hangs, and the worker exits on its own when the host goes away.
if [[ "${1:-}" == shaped ]]; then
  shift
  # About 70 s a run; shaped.js bounds each of its waits.
  exec timeout -k 10 3600 node shaped.js "$@"
fi
exec timeout -k 5 140 node test.js "$@"
