"""The RTCP report schedule (src/rtc/Transport.cpp, scheduleRtcp()): each
transport sends its receiver reports (about what its producers receive)
and sender reports (one per consumer stream) together, then draws the next
send time as RFC 3550 6.3 does without reconsideration:

    I = 360000 / (the transport's receive + send rate in kbit/s) ms,
        clamped to [100 ms, 1000 ms] with video (5000 ms for audio only);
    next report after I * uniform(0.5, 1.5) / 1.21828 (e - 3/2).

So with video the reports are 41 to 1231 ms apart (mean 0.82 s) at low
rates, and 41 to 123 ms apart (mean 82 ms) from 3.6 Mbit/s on.

Measured here on the wire with kernel receive timestamps (SO_TIMESTAMPNS),
for the worker's RRs at the sender and its SRs at the receiver of a simple
consumer (see stream_case.py), at three rates: every interval must lie in
the drawn range (less 3 ms, plus 80 ms for a loaded machine's late timers),
their mean within a stated band around the expected mean (about three
standard errors of a uniform draw) and their spread that of a uniform draw,
not a fixed period.

Run: python3 -m unittest discover -s test/integration -p test_rtcp_schedule.py -v
Environment: SFU_TEST_VERBOSE=1 prints the intervals' figures.
"""

import os
import statistics
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import stream_case as sc  # noqa: E402
import test_simulcast as sim  # noqa: E402

# RFC 3550 6.3.1 as the worker applies it.
SPREAD = (0.5, 1.5)
COMPENSATION = 1.21828
MIN_INTERVAL_MS = 100
MAX_VIDEO_INTERVAL_MS = 1000
# Tolerance on each interval: the kernel stamps are exact, the worker's
# timer may fire late (never early) on a busy machine; uv_now() ticks in ms.
EARLY_MS = 3
LATE_MS = 80


def expected_interval_ms(kbps):
    """The deterministic interval I of a video transport at this rate."""
    interval = 360000 / kbps if kbps > 0 else MAX_VIDEO_INTERVAL_MS
    return min(max(interval, MIN_INTERVAL_MS), MAX_VIDEO_INTERVAL_MS)


def report_times(stamped, packet_type, ssrc=None):
    """Kernel arrival times of the compounds holding an RTCP packet of
    packet_type (from ssrc, when given)."""
    out = []
    for stamp, data in stamped:
        for ptype, _, pkt in sim.rtcp_packets(data):
            if ptype == packet_type and (ssrc is None or
                                         struct.unpack_from("!I", pkt, 4)[0] == ssrc):
                out.append(stamp)
                break
    return out


class RtcpScheduleTest(sc.StreamCase):

    def measure(self, seconds, sample_rates=False):
        """Lets media flow for `seconds` after a second of warm-up; returns
        (RR intervals at the sender, SR intervals at the receiver) in ms and
        the transports' mean rates in kbit/s (receive + send, from getStats)
        when sample_rates."""
        time.sleep(1.0)
        start_rr = len(self.sender.rtcp_stamps)
        start_sr = len(self.receiver.rtcp_stamps)
        rates = {sc.SEND_TRANSPORT: [], sc.RECV_TRANSPORT: []}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            if sample_rates:
                for transport_id in rates:
                    stats = self.request("transport.getStats", self.internal(transport_id))[0]
                    rates[transport_id].append(
                        (stats["recvBitrate"] + stats["sendBitrate"]) / 1000)
        rr = report_times(self.sender.rtcp_stamps[start_rr:], 201)
        sr = report_times(self.receiver.rtcp_stamps[start_sr:], 200, sc.CONSUMER_SSRCS[0])
        self.assertNotIn(None, rr + sr, "no kernel timestamps on this system")
        intervals = [[(b - a) * 1000 for a, b in zip(times, times[1:])] for times in (rr, sr)]
        return intervals[0], intervals[1], {k: statistics.mean(v) for k, v in rates.items() if v}

    def check_intervals(self, name, intervals, interval_ms, mean_band, rate_slack=0.0):
        """Every interval in the drawn range (with the tolerances, and
        rate_slack for an I that moves with the rate), the mean inside
        mean_band (ms), the spread a uniform draw's."""
        low = interval_ms * SPREAD[0] / COMPENSATION
        high = interval_ms * SPREAD[1] / COMPENSATION
        where = "%s: I %.0f ms, range [%.0f, %.0f] ms, intervals %s" % (
            name, interval_ms, low, high, [round(x) for x in intervals])
        self.assertGreaterEqual(len(intervals), 6, where)
        lowest = low * (1 - rate_slack) - EARLY_MS
        highest = high * (1 + rate_slack) + LATE_MS
        outside = [round(x) for x in intervals if not lowest <= x <= highest]
        self.assertEqual(outside, [], where)
        mean = statistics.mean(intervals)
        self.assertTrue(mean_band[0] <= mean <= mean_band[1],
                        "%s: mean %.1f ms outside [%.0f, %.0f]" % (where, mean, *mean_band))
        # A uniform draw over [low, high] has a standard deviation of
        # (high - low) / sqrt(12); a fixed period has none.
        sd = statistics.stdev(intervals)
        uniform_sd = (high - low) / 12 ** 0.5
        self.assertTrue(0.5 * uniform_sd <= sd <= 1.5 * uniform_sd,
                        "%s: standard deviation %.1f ms, a uniform draw's is %.1f"
                        % (where, sd, uniform_sd))
        return "%s: %d intervals, min %.0f max %.0f mean %.1f sd %.1f ms (I %.0f ms)" % (
            name, len(intervals), min(intervals), max(intervals), mean, sd, interval_ms)

    @staticmethod
    def mean_band(interval_ms, count):
        """Expected mean +- 3.3 standard errors of a uniform draw, +5 ms for
        late timers."""
        mean = interval_ms / COMPENSATION
        se = (interval_ms / COMPENSATION) / 12 ** 0.5 / count ** 0.5
        return (mean - 3.3 * se, mean + 3.3 * se + 5)

    def test_low_rate_video_at_most_1231_ms(self):
        """About 45 kbit/s of video: I = 1000 ms (the video cap) on both
        transports; reports 410 to 1231 ms apart, mean 821 ms."""
        self.setup_stream()
        rr, sr, _ = self.measure(8.0)
        figures = []
        for name, intervals in (("RR", rr), ("SR", sr)):
            figures.append(self.check_intervals(
                name, intervals, MAX_VIDEO_INTERVAL_MS,
                self.mean_band(MAX_VIDEO_INTERVAL_MS, len(intervals))))
        # Both transports together: twice the samples for the mean.
        both = rr + sr
        figures.append(self.check_intervals("RR+SR", both, MAX_VIDEO_INTERVAL_MS,
                                            self.mean_band(MAX_VIDEO_INTERVAL_MS, len(both))))
        self.report("; ".join(figures))
        self.finish()

    def test_mid_rate_video_follows_the_rate(self):
        """About 1.2 Mbit/s: I = 360000 / kbps, about 300 ms, from the rate
        each transport reports (getStats recvBitrate + sendBitrate)."""
        self.setup_stream(frame_packets=(8,), packet_size=600)
        rr, sr, rates = self.measure(7.0, sample_rates=True)
        figures = []
        for name, intervals, transport_id in (("RR", rr, sc.SEND_TRANSPORT),
                                              ("SR", sr, sc.RECV_TRANSPORT)):
            kbps = rates[transport_id]
            self.assertTrue(800 <= kbps <= 2000, "%s: %.0f kbit/s" % (transport_id, kbps))
            interval = expected_interval_ms(kbps)
            low, high = self.mean_band(interval, len(intervals))
            # The rate moves a little between the draws: +-10% on I.
            figures.append(self.check_intervals(
                name, intervals, interval, (low * 0.9, high * 1.1), rate_slack=0.1)
                + " at %.0f kbit/s" % kbps)
        self.report("; ".join(figures))
        self.finish()

    def test_high_rate_video_at_least_41_ms(self):
        """About 5.5 Mbit/s: I = 100 ms (the minimum); reports 41 to 123 ms
        apart, mean 82 ms. Only the producer transport: the consumer's
        receiver would need the same rate again on this machine."""
        self.setup_stream(consumers=0, frame_packets=(20,), packet_size=1100)
        rr, _, rates = self.measure(4.0, sample_rates=True)
        kbps = rates[sc.SEND_TRANSPORT]
        self.assertGreaterEqual(kbps, 4000, "the sender reached only %.0f kbit/s" % kbps)
        figure = self.check_intervals("RR", rr, MIN_INTERVAL_MS,
                                      self.mean_band(MIN_INTERVAL_MS, len(rr)))
        self.report(figure + " at %.0f kbit/s" % kbps)
        self.finish()


if __name__ == "__main__":
    unittest.main()
