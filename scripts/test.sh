#!/usr/bin/env bash
# The project's test command: installs what is missing, builds, then runs
#   1. the GoogleTest unit tests (ctest),
#   2. the Python integration tests against the worker binary, through
#      test/integration/run_tests.py in strict mode: a skip that
#      test/integration/allowed_skips.py does not list (a missing tool, say)
#      fails, and so does a sanitizer or valgrind report from a worker,
#   3. the mediasoup 3.8.4 package's own tests with our worker as its binary,
#   4. a real browser (headless Chromium) sending and receiving through it,
#      media and data channels,
#   5. the Python control library's tests (python/tests, its offline pip
#      install included) and mypy --strict,
#   6. the demo room (scripts/demo.sh --headless).
# Environment: SFU_TEST_VALGRIND=1 also runs the valgrind tests (the worker
# under valgrind for a channel scenario and for a WebRTC call with aiortc);
# SFU_TEST_SHAPED=1 also runs the shaped-link browser runs (as root).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/build.sh" || exit 1

python=/usr/bin/python3
[[ -x $python ]] || python=python3

passed=0
failed=0
run() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "!! $name failed"
  fi
}

run "unit tests" ctest --test-dir build --output-on-failure
export SFU_TEST_STRICT=1
run "integration (python harness)" "$python" test/integration/run_tests.py
# The host's own test files (node_modules/mediasoup/test/ of the 3.8.4
# package): all 16 files and 142 tests, every one of which must pass
# (test-ortc.js and test-mediasoup.js need no worker; test-node-sctp.js
# talks SCTP over UDP to a PlainTransport with the npm sctp package).
run "mediasoup host tests" \
  test/integration/host/run-mediasoup-tests.sh test-Worker.js test-Router.js \
  test-PlainTransport.js test-PipeTransport.js test-DirectTransport.js test-WebRtcTransport.js \
  test-Producer.js test-Consumer.js test-multiopus.js test-ortc.js test-mediasoup.js \
  test-DataProducer.js test-DataConsumer.js test-node-sctp.js test-ActiveSpeakerObserver.js \
  test-AudioLevelObserver.js

run "browser (Chromium + mediasoup-client over UDP and ICE-TCP, data channels)" \
  test/integration/browser/run.sh
# Bandwidth estimation and allocation over a shaped link (a receiving
# Chromium in a network namespace behind tbf: 5 Mbit/s, 600 kbit/s, 5 Mbit/s;
# about 50 s a run, as root), on request: SFU_TEST_SHAPED=1.
if [[ ${SFU_TEST_SHAPED:-0} == 1 ]]; then
  run "shaped link (VP8 simulcast and VP9 SVC through 600 kbit/s)" \
    test/integration/browser/run.sh shaped vp8 vp9
fi

# The Python control library (python/sfu_host): its pytest suites against the
# worker (its ORTC results compared with the host package's ortc.js, fetched
# above), and mypy --strict on the package.
run "python library (pytest)" \
  env SFU_WORKER_BIN="$root/build/sfu-worker" "$python" -m pytest -q -p no:cacheprovider \
  "$root/python/tests"
# The demo room end to end: two headless Chromium pages, the test pattern,
# media and chat both ways (about 20 s).
run "demo (headless)" scripts/demo.sh --headless

run "python library (mypy --strict)" "$python" -m mypy --strict --no-incremental "$root/python/sfu_host"

echo "test groups: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
