"""keyFrameRequestDelay on a producer, end to end: two simple consumers of
one VP8 stream (see stream_case.py) ask for key frames with
consumer.requestKeyFrame and with PLIs from their receiver, and the sender
counts the PLIs the worker sends it, timed by their kernel receive stamps.

The rules (src/protocol/recovery/KeyFrameRequestManager.cpp), per producer
stream, whoever asks:
- a request while one is outstanding (sent, no key frame since) or held
  back is merged into it: no new PLI;
- with a delay D > 0, a request less than D after the last PLI is held
  back and sent D after that PLI;
- an outstanding request unanswered for max(1000 ms, D) is sent once more,
  then given up after as long again;
- otherwise a request gives a PLI at once.

Run: python3 -m unittest discover -s test/integration -p test_keyframe_request_delay.py -v
Environment: SFU_TEST_VERBOSE=1 prints the requests' and PLIs' times.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import stream_case as sc  # noqa: E402
import test_simulcast as sim  # noqa: E402

# How soon a PLI follows the request that causes it (the request's answer
# comes after it is sent; a loaded machine may be slow to read it).
PROMPT_S = 0.08
# How far after the delay (or the retry timeout) a held back PLI may come:
# the worker's 20 ms recovery tick, plus a loaded machine's late timer.
LATE_S = 0.1
# No PLI for this long: nothing outstanding, nothing held back, no retry due.
QUIET_S = 1.3


class KeyFrameRequestDelayTest(sc.StreamCase):

    def setUp(self):
        super().setUp()
        # Kernel stamps are CLOCK_REALTIME; the test's clock is monotonic.
        self.clock_offset = time.time() - time.monotonic()

    def pli_times(self, since=0.0):
        """Arrival times (monotonic) of the PLIs at the sender."""
        out = []
        for stamp, data in list(self.sender.rtcp_stamps):
            if stamp is None:
                self.fail("no kernel timestamps on this system")
            t = stamp - self.clock_offset
            if t >= since:
                out.extend(t for kind, _ in sim.key_frame_requests(data) if kind == "pli")
        return out

    def wait_quiet(self):
        """Until no PLI has come for QUIET_S (at most 6 s)."""
        def quiet():
            times = self.pli_times()
            return not times or time.monotonic() - times[-1] >= QUIET_S
        self.wait_until("no PLI for %.1f s" % QUIET_S, quiet, 6)

    def run_script(self, script, until):
        """Runs (offset s, actions) from t0, each action letter a request:
        "A" consumer.requestKeyFrame on consumer 0, "B" a PLI from consumer
        1's receiver; then waits until t0 + until. Returns ({offset: time of
        the actions}, PLI times), both relative to t0."""
        self.wait_quiet()
        pli_count = self.producer_stats()["pliCount"]
        t0 = time.monotonic()
        done = {}
        for offset, action in script:
            delay = t0 + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            done[offset] = time.monotonic() - t0
            # All of an action's requests leave before any answer is awaited.
            sent = []
            for who in action:
                if who == "A":
                    sent.append(self.worker.send_request("consumer.requestKeyFrame",
                                                         internal=self.consumer_internal(0)))
                else:
                    self.receiver_pli(index=1)
            for rid in sent:
                self.assertTrue(self.worker.wait_response(rid).get("accepted"))
        delay = t0 + until - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        plis = [t - t0 for t in self.pli_times(t0)]
        # The producer counts exactly the PLIs the sender got.
        self.assertEqual(self.producer_stats()["pliCount"] - pli_count, len(plis))
        self.report("actions %s; PLIs at %s s" % (
            [(round(done[o], 3), a) for o, a in script], [round(t, 3) for t in plis]))
        return done, plis

    def assert_prompt(self, pli, action_time, what):
        self.assertTrue(action_time - 0.005 <= pli <= action_time + PROMPT_S,
                        "%s: PLI at %.3f s, the request at %.3f s" % (what, pli, action_time))

    def assert_after(self, pli, previous, delay, what):
        self.assertTrue(previous + delay - 0.005 <= pli <= previous + delay + LATE_S,
                        "%s: PLI at %.3f s, %.3f s after the one before (%.3f s expected)"
                        % (what, pli, pli - previous, delay))

    def test_no_delay_each_request_not_covered_gives_a_pli(self):
        """Delay 0, a sender that answers with key frames: three requests
        at once give one PLI (the others are covered by it); each later
        request, after the key frame came, gives its own PLI at once."""
        self.setup_stream(consumers=2, key_frame_request_delay=0)
        done, plis = self.run_script([(0.0, "AAA"), (0.4, "B"), (0.8, "A"), (1.2, "BA")],
                                     until=1.7)
        self.assertEqual(len(plis), 4, plis)
        for pli, offset in zip(plis, (0.0, 0.4, 0.8, 1.2)):
            self.assert_prompt(pli, done[offset], "request at %.1f s" % offset)
        self.finish()

    def test_delay_merges_and_defers(self):
        """Delay 1000 ms, a sender that answers: requests at 0, 150 and
        300 ms (from both consumers) give a PLI at once and one more 1000 ms
        after it; a request 2.2 s in (more than the delay after the last
        PLI) gives one at once, and one 200 ms later is held back until
        1000 ms after that. Four PLIs in all."""
        self.setup_stream(consumers=2, key_frame_request_delay=1000)
        done, plis = self.run_script(
            [(0.0, "A"), (0.15, "B"), (0.3, "A"), (2.2, "A"), (2.4, "B")], until=4.5)
        self.assertEqual(len(plis), 4, plis)
        self.assert_prompt(plis[0], done[0.0], "first request")
        self.assert_after(plis[1], plis[0], 1.0, "held back requests")
        self.assert_prompt(plis[2], done[2.2], "request after the delay")
        self.assert_after(plis[3], plis[2], 1.0, "request within the delay")
        self.finish()

    def test_delay_with_a_sender_that_does_not_answer(self):
        """Delay 1000 ms, a sender that ignores PLIs (its only key frame is
        its first): three requests within 300 ms give one PLI and one retry
        1000 ms later, then the request is given up (no third PLI); a new
        request 2.6 s in gives a PLI at once."""
        self.setup_stream(consumers=2, key_frame_request_delay=1000, answer_requests=False,
                          key_frame_interval=3600)
        done, plis = self.run_script([(0.0, "A"), (0.15, "B"), (0.3, "A"), (2.6, "A")],
                                     until=3.3)
        self.assertEqual(len(plis), 3, plis)
        self.assert_prompt(plis[0], done[0.0], "first request")
        self.assert_after(plis[1], plis[0], 1.0, "retry of the unanswered request")
        self.assert_prompt(plis[2], done[2.6], "request after giving up")
        self.assertEqual(self.sender.summary()["keyFrames"], [1])
        self.finish()


if __name__ == "__main__":
    unittest.main()
