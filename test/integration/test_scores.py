"""Stream scores (0-10) and their `score` notifications, end to end with one
VP8 stream (see stream_case.py).

How the worker scores (src/rtc/RtpStream.cpp): each report interval gets
round(delivered^4 * 10), delivered being the share of the packets expected
in the interval that arrived (a producer stream: after repair, closed at
each RR the worker sends; a consumer stream: 1 - fractionLost/256 of each
report block its receiver sends); the score is the average of the last 8
interval scores weighted 1..8, the newest heaviest. A stream starts at 10
with an empty history. A producer's `score` notification is
[{encodingIdx, ssrc, rid?, score}] for each stream, a consumer's
{score, producerScore, producerScores}; each is sent when a value changes.

Run: python3 -m unittest discover -s test/integration -p test_scores.py -v
Environment: SFU_TEST_VERBOSE=1 prints the scores seen.
"""

import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import stream_case as sc  # noqa: E402
import wire_util as wire  # noqa: E402

LOSS = 0.3
LOSS_SECONDS = 3.5
# During the loss (and one report interval after it) the producer score
# must fall to this or lower: 30% loss scores 2 per interval (0.7^4 * 10),
# so after four lossy intervals of eight the average is about 4.
MAX_SCORE_UNDER_LOSS = 5
# After the loss it must be back to this within RECOVERY_SECONDS: five clean
# intervals (0.82 s each on average, 1.23 s at most) make it 9.
MIN_SCORE_RECOVERED = 9
RECOVERY_SECONDS = 7.0


def interval_score(delivered):
    """std::lround(pow(delivered, 4) * 10) of a share in [0, 1]."""
    return int(math.floor(max(0.0, min(1.0, delivered)) ** 4 * 10 + 0.5))


def scores_after(history, interval_scores):
    """The score after each interval score is added (ScoreHistory::add)."""
    history = list(history)
    out = []
    for value in interval_scores:
        history = (history + [value])[-8:]
        weighted = sum(v * (i + 1) for i, v in enumerate(history))
        weights = sum(range(1, len(history) + 1))
        out.append(int(math.floor(weighted / weights + 0.5)))
    return out


class ScoresTest(sc.StreamCase):

    def producer_scores(self, since=0):
        """[(position, score)] of the producer's score notifications, each
        checked to be a single entry for the sender's stream."""
        out = []
        for i, data in self.notifications(sc.PRODUCER_ID, "score", since):
            self.assertEqual(len(data), 1, data)
            self.assertEqual(set(data[0]), {"encodingIdx", "ssrc", "score"}, data)
            self.assertEqual((data[0]["encodingIdx"], data[0]["ssrc"]), (0, sc.SENDER_SSRC), data)
            out.append((i, data[0]["score"]))
        return out

    def consumer_scores(self, since=0, index=0):
        out = []
        for i, data in self.notifications(sc.consumer_id(index), "score", since):
            self.assertEqual(set(data), {"score", "producerScore", "producerScores"}, data)
            self.assertEqual(data["producerScores"], [data["producerScore"]], data)
            out.append((i, data["score"], data["producerScore"]))
        return out

    def test_producer_score_falls_under_loss_and_recovers(self):
        """The sender drops 30% of its packets for 3.5 s (no NACK
        negotiated: nothing is repaired), then none: the producer score
        falls to 5 or less during the loss and is back to 9 or more within
        7 s after it; the consumer's producerScore follows every change
        while its own score (no reports from its receiver) stays 10."""
        self.setup_stream(nack=False, frame_packets=(4,))
        self.wait_until("the producer score 10", lambda: [
            s for _, s in self.producer_scores() if s == 10], 3)
        time.sleep(1.0)
        before = self.producer_scores()
        self.assertEqual({s for _, s in before}, {10}, before)

        t_loss = time.monotonic()
        loss_mark = self.mark()
        self.sender.set_loss(LOSS)
        time.sleep(LOSS_SECONDS)
        self.sender.set_loss(0.0)
        t_clean = time.monotonic()
        clean_mark = self.mark()
        sent = self.sender.sent_packets(0, t_loss)
        sent = [p for p in sent if p.t < t_clean]
        dropped = sum(1 for p in sent if p.dropped) / len(sent)
        self.assertTrue(0.25 <= dropped <= 0.35, "dropped %.3f of %d" % (dropped, len(sent)))

        self.wait_until("the producer score back to %d" % MIN_SCORE_RECOVERED, lambda: [
            s for _, s in self.producer_scores(clean_mark) if s >= MIN_SCORE_RECOVERED],
            RECOVERY_SECONDS)
        t_recovered = time.monotonic()
        time.sleep(0.3)
        during = [s for _, s in self.producer_scores(loss_mark)]
        self.assertTrue(during and min(during) <= MAX_SCORE_UNDER_LOSS,
                        "producer scores since the loss began: %s" % during)
        stats = self.producer_stats()
        self.assertGreater(stats["packetsLost"], 0.2 * len(sent), stats)

        # The consumer: score 10 throughout, producerScore = the producer's
        # score, changed with each producer notification.
        consumer = self.consumer_scores()
        self.assertEqual({s for _, s, _ in consumer}, {10}, consumer)
        producer = [s for _, s in self.producer_scores()]
        followed = [p for _, _, p in consumer]
        self.assertEqual(followed, producer,
                         "consumer producerScore %s, producer scores %s" % (followed, producer))
        self.assertEqual(self.consumer_stats()["score"], 10)
        self.report("scores during loss %s; back to >= %d %.1f s after it; %.1f%% of %d "
                    "packets dropped; consumer %s" % (
                        during, MIN_SCORE_RECOVERED, t_recovered - t_clean, 100 * dropped,
                        len(sent), consumer))
        self.finish()

    def test_consumer_score_from_receiver_reports(self):
        """The consumer's receiver sends RRs: fractionLost 0, then 64
        (25%) three times, then 0 eight times. Each changes the consumer
        score exactly as the documented formula says (10, 5, 4, 4, 6, 7, 8,
        8, 9, ...), producerScore staying 10; a report block about another
        SSRC changes nothing."""
        self.setup_stream()
        time.sleep(0.5)
        fractions = [0, 64, 64, 64] + [0] * 8
        expected = scores_after([], [interval_score(1 - f / 256) for f in fractions])
        changes = []
        last = 10
        for value in expected:
            if value != last:
                changes.append(value)
            last = value
        self.assertEqual(changes[:3], [5, 4, 6], "the formula's own figures")

        mark = self.mark()
        highest = self.receiver.rtp(sc.CONSUMER_SSRCS[0])[-1].seq
        for fraction in fractions:
            self.send_to_worker(wire.rtcp_receiver_report(sc.RECEIVER_SSRC, [wire.report_block(
                sc.CONSUMER_SSRCS[0], highest_seq=highest, fraction_lost=fraction)]))
            time.sleep(0.1)
        # About an SSRC this consumer does not send: no effect.
        self.send_to_worker(wire.rtcp_receiver_report(
            sc.RECEIVER_SSRC, [wire.report_block(12345, fraction_lost=255)]))
        self.wait_until("%d consumer score changes" % len(changes),
                        lambda: len(self.consumer_scores(mark)) >= len(changes), 3)
        time.sleep(0.3)
        got = self.consumer_scores(mark)
        self.assertEqual([(s, p) for _, s, p in got], [(s, 10) for s in changes],
                         "consumer score notifications")
        stats = self.consumer_stats()
        self.assertEqual((stats["score"], stats["fractionLost"]), (expected[-1], 0), stats)
        self.assertEqual(min(s for _, s, _ in got), 4)
        self.report("fractionLost %s -> scores %s (notified %s)" % (fractions, expected,
                                                                   [s for _, s, _ in got]))
        self.finish()


if __name__ == "__main__":
    unittest.main()
