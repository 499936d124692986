#!/usr/bin/env bash
# The project's test command: installs what is missing, builds, then runs
#   1. the GoogleTest unit tests (ctest),
#   2. the Python integration harness against the worker binary,
#   3. the mediasoup 3.8.4 package's own tests with our worker as its binary,
#   4. a real browser (headless Chromium) sending and receiving through it.
# Environment: SFU_TEST_VALGRIND=1 also runs the worker under valgrind.
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
run "integration (python harness)" \
  "$python" -m unittest discover -s test/integration -p 'test_*.py'
# The host's own suites, less the tests of features not built yet (data
# channels).
run "mediasoup host tests" \
  test/integration/host/run-mediasoup-tests.sh test-Worker.js test-Router.js \
  test-PlainTransport.js test-DirectTransport.js test-WebRtcTransport.js test-Producer.js \
  test-Consumer.js test-multiopus.js -- -t '^(?!.*dataProducer)'


run "browser (Chromium + mediasoup-client over UDP and ICE-TCP)" \
  test/integration/browser/run.sh

echo "test groups: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
