#!/usr/bin/env bash
# Runs the mediasoup 3.8.4 package's own test files against our worker binary.
# The package is fetched from npm once (with --ignore-scripts, so mediasoup's
# own worker is never built) into .cache/ and reused afterwards.
# Usage: run-mediasoup-tests.sh test-Worker.js test-Router.js ... [-- jest options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
version=3.8.4
pkg="$root/.cache/mediasoup-$version"

if [[ ! -f "$pkg/.installed" ]]; then
  rm -rf "$pkg" && mkdir -p "$pkg"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "mediasoup@$version" >/dev/null)
  tar -xzf "$tmp"/mediasoup-$version.tgz -C "$pkg" --strip-components=1
  rm -rf "$tmp"
  (cd "$pkg" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$pkg/.installed"
fi

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
