#!/usr/bin/env bash
# Builds every libFuzzer target with clang and runs each for N seconds
# (default 60) on a scratch copy of its seed corpus. Fails if any finds a
# crash, a leak or a timeout.
# Usage: scripts/fuzz.sh [seconds] [target-name-filter]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
filter="${2:-}"
"$root/scripts/setup.sh"
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DSFU_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}"

status=0
for src in "$root"/fuzzers/fuzz_*.cpp; do
  name="$(basename "$src" .cpp)"
  [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
  corpus="$root/fuzzers/corpus/${name#fuzz_}"
  work="$(mktemp -d)"
  [[ -d "$corpus" ]] && cp -r "$corpus"/. "$work"/
  echo "-- $name (${seconds}s)"
  if (cd "$work" && "$build/$name" -max_total_time="$seconds" -rss_limit_mb=4096 \
        -print_final_stats=1 "$work" >"$work/log" 2>&1); then
    grep -E "stat::number_of_executed_units" "$work/log" || true
  else
    echo "!! $name found a problem:"
    tail -40 "$work/log"
    status=1
  fi
  rm -rf "$work"
done
exit $status
