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
  python3-pytest python3-pytest-asyncio mypy
  iproute2 nftables python3-aiohttp python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js may come from outside Debian's packages. The oldest that runs the
# pinned npm packages: the browser test's playwright-core 1.65.1 declares
# engines node >= 20 (esbuild 0.28.2 >= 18, mediasoup 3.8.4 >= 10;
# mediasoup-client 3.24.1 declares >= 22 but only runs in the browser, bundled
# by esbuild). Debian's nodejs/npm are installed when node or npm is missing
# or older; if that is still older, setup fails.
node_min=20
node_major() {
  local v
  v="$(node --version 2>/dev/null)" || return 1
  v="${v#v}"
  echo "${v%%.*}"
}
node_ok() {
  command -v npm >/dev/null 2>&1 && [[ "$(node_major || echo 0)" -ge $node_min ]]
}
if node_ok; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
else
  for p in nodejs npm; do
    [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
  done
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! node_ok; then
  echo "setup: Node.js >= $node_min with npm is needed (the browser test's playwright-core" \
    "1.65.1); this machine has $(node --version 2>/dev/null || echo "no node")" \
    "$(command -v npm >/dev/null 2>&1 || echo "and no npm")" >&2
  exit 1
fi
