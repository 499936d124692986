#!/usr/bin/env bash
# The demo room: builds the worker, installs and bundles the page, and starts
# a video call server (demo/server.py, on the Python control library) with a
# test pattern participant. Open the URL it prints in a browser on this
# machine: video tiles, speaking highlight, camera/mic buttons, chat.
#
#   scripts/demo.sh [--port N] [--listen-ip IP --announced-ip IP]   serve the room
#   scripts/demo.sh --headless [--seconds N] [--screenshot FILE]    check it: two
#       headless Chromium pages join, chat and watch each other and the
#       test pattern; prints what each received; exit 0 only if media and
#       chat flowed both ways
#
# BUILD_DIR is honoured as in scripts/build.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
headless=0
if [[ ${1:-} == --headless ]]; then
  headless=1
  shift
fi

# The build's progress goes to a log, shown if it fails.
build_log="$(mktemp)"
echo "demo: building the worker (scripts/build.sh)"
if ! "$root/scripts/build.sh" >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"
export SFU_WORKER_BIN="${BUILD_DIR:-$root/build}/sfu-worker"
python=/usr/bin/python3
[[ -x $python ]] || python=python3

# The page's npm packages (mediasoup-client, esbuild, playwright-core), from
# the lock file; reinstalled only when package.json or the lock changed.
web="$root/demo/web"
stamp="$web/node_modules/.install-stamp"
want="$(cat "$web/package.json" "$web/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "demo: installing the page's node packages"
  (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi
"$web/node_modules/.bin/esbuild" "$web/src/app.js" --bundle --format=iife --target=es2020 \
  --outfile="$web/dist/app.js" --log-level=warning

if ((!headless)); then
  exec "$python" "$root/demo/server.py" "$@"
fi

# Headless: the server on a free port, the check against it, then the
# server stopped (it stops ffmpeg and the worker on SIGTERM).
tmp="$(mktemp -d)"
"$python" "$root/demo/server.py" --port 0 --url-file "$tmp/url" >"$tmp/server.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap stop EXIT
for _ in $(seq 100); do
  [[ -s "$tmp/url" ]] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "demo: the room server exited:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -s "$tmp/url" ]] || { echo "demo: the room server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
status=0
timeout -k 5 70 node "$root/demo/headless.js" "$(cat "$tmp/url")" "$@" || status=$?
if ((status)) && [[ -s "$tmp/server.log" ]]; then
  echo "demo: room server log:"
  cat "$tmp/server.log"
fi
exit "$status"
