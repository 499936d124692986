#!/usr/bin/env bash
# Installs the mediasoup 3.8.4 package (the Node host, its tests and their
# jest devDependencies) into .cache/ once, with --ignore-scripts so that
# mediasoup's own worker is never built, and prints its directory.
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
echo "$pkg"
