"""A short run of the stateful channel-protocol fuzzer (channel_fuzz.py):
random sequences of every channel method on live and closed entities, with
mutated data, must each get exactly one well-formed answer, keep the worker
alive and its memory bounded.

The seed is fixed plus random: SFU_CHANNEL_FUZZ_SEED picks it (a failure
prints it and how to replay it), else a random one is printed.
SFU_CHANNEL_FUZZ_SECONDS sets the length (default 20).

Run: python3 -m unittest discover -s test/integration -p test_channel_fuzz.py -v
Longer runs: scripts/fuzz-channel.sh [seconds] [seed]
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from channel_fuzz import ChannelFuzzer  # noqa: E402
from harness import valgrind_enabled_by_env  # noqa: E402

# A fixed seed, so that every run covers at least this sequence; then a
# fresh one each run.
FIXED_SEED = 20240601


def _seconds():
    return float(os.environ.get("SFU_CHANNEL_FUZZ_SECONDS", "20"))


@unittest.skipIf(valgrind_enabled_by_env(),
                 "under valgrind the worker's pace and VmRSS are valgrind's")
class ChannelFuzzTest(unittest.TestCase):

    def run_fuzzer(self, seed, seconds):
        print("\nchannel fuzzer: seed %d, %.0f s" % (seed, seconds), file=sys.stderr, flush=True)
        result = ChannelFuzzer(seed, seconds=seconds).run()
        print("channel fuzzer: %s" % result, file=sys.stderr, flush=True)
        self.assertGreater(result["messages"], 0)
        self.assertGreater(result["accepted"], 0, "nothing was ever accepted")
        self.assertGreater(result["Error"] + result["TypeError"], 0, "nothing was ever refused")
        return result

    def test_fixed_seed(self):
        self.run_fuzzer(FIXED_SEED, _seconds() / 2)

    def test_random_seed(self):
        seed = os.environ.get("SFU_CHANNEL_FUZZ_SEED")
        seed = int(seed) if seed else random.SystemRandom().randrange(2 ** 32)
        self.run_fuzzer(seed, _seconds() / 2)


if __name__ == "__main__":
    unittest.main()
