#!/usr/bin/env bash
# Configures and builds the worker, its tests and benchmarks in build/.
# BUILD_DIR and extra CMake arguments may be given: scripts/build.sh -DSFU_SANITIZE=ON
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
build_dir="${BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}"
