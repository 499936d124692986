#!/usr/bin/env bash
# Installs every Debian package the project builds and tests with, if missing.
# Idempotent: a machine that has everything is left untouched.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libuv1-dev nlohmann-json3-dev libssl-dev libsrtp2-dev libusrsctp-dev
  libgtest-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  python3 valgrind nodejs npm
  ffmpeg chromium python3-aiortc
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  python3-gi gir1.2-gstreamer-1.0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js may come from outside Debian's packages; any node >= 16 with npm will do.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
