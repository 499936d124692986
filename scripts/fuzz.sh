#!/usr/bin/env bash
# Builds every libFuzzer target with clang and runs each for N seconds
# (default 60) on a scratch copy of its seed corpus, fuzzers/corpus/<name
# without fuzz_>/. Fails if a target has no seed corpus (or an empty one), or
# if any run finds a crash, a leak, or an input that takes longer than
# FUZZ_TIMEOUT seconds (default 10: a hang).
# The build (FUZZ_BUILD_DIR, default build-fuzz) is clang with ASan, UBSan
# and libFuzzer's instrumentation; it builds the unit tests and the worker
# too, and CI uses that one build for its sanitizer runs.
# Usage: scripts/fuzz.sh [seconds] [target-name-filter]
#        scripts/fuzz.sh --build     (builds every target of that build, runs nothing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
configure() {
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DSFU_FUZZ=ON -DSFU_SANITIZE=ON \
    -DSFU_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
}
if [[ "${1:-}" == "--build" ]]; then
  "$root/scripts/setup.sh"
  configure
  cmake --build "$build" -j"${JOBS:-2}"
  exit 0
fi
seconds="${1:-60}"
filter="${2:-}"
timeout="${FUZZ_TIMEOUT:-10}"

# Every target needs seeds: a fuzzer that starts from nothing spends its
# short CI run finding the input format, not the bugs behind it.
status=0
targets=()
for src in "$root"/fuzzers/fuzz_*.cpp; do
  name="$(basename "$src" .cpp)"
  [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
  corpus="$root/fuzzers/corpus/${name#fuzz_}"
  if [[ ! -d "$corpus" ]] || [[ -z "$(ls -A "$corpus")" ]]; then
    echo "!! $name has no seed corpus: fuzzers/corpus/${name#fuzz_}/ is missing or empty"
    status=1
    continue
  fi
  targets+=("$name")
done
if ((${#targets[@]} == 0)); then
  echo "!! no fuzz target${filter:+ matches '$filter'}"
  exit 1
fi

"$root/scripts/setup.sh"
configure
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}"

for name in "${targets[@]}"; do
  work="$(mktemp -d)"
  mkdir "$work/corpus"
  cp -r "$root/fuzzers/corpus/${name#fuzz_}"/. "$work/corpus"/
  echo "-- $name (${seconds}s, ${timeout}s per input at most)"
  # libFuzzer exits non-zero on a crash, a leak, or a time-out (-timeout,
  # exit code 70), and leaves the input that did it in the work directory.
  if (cd "$work" && "$build/$name" -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb=4096 -print_final_stats=1 corpus >log 2>&1); then
    grep -E "stat::number_of_executed_units" "$work/log" || true
  else
    echo "!! $name found a problem:"
    tail -40 "$work/log"
    status=1
  fi
  rm -rf "$work"
done
exit $status
