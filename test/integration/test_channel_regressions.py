"""Requests the channel fuzzer (channel_fuzz.py) found mishandled, each
checked on its own: the answer the worker must give and that it goes on
answering.

Run: python3 -m unittest discover -s test/integration -p test_channel_regressions.py -v
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess  # noqa: E402
import media_util as mu  # noqa: E402

ROUTER = {"routerId": "r1"}


class ChannelRegressionTest(unittest.TestCase):

    def setUp(self):
        self.worker = WorkerProcess(["--logLevel=warn"])
        self.addCleanup(self.worker.terminate)
        self.worker.wait_running()
        self.worker.request_ok("worker.createRouter", ROUTER)

    def tearDown(self):
        w = self.worker
        self.assertTrue(w.alive, "worker died (exit %s): %s" % (w.returncode, w.stderr[-2000:]))
        self.assertEqual(w.request_ok("worker.dump")["pid"], w.pid)
        self.assertNotIn("runtime error:", w.stderr)

    def assert_type_error(self, response, what):
        self.assertEqual(response.get("error"), "TypeError", "%s: %r" % (what, response))
        self.assertIsInstance(response.get("reason"), str)

    def audio_consumer(self):
        """A direct transport with an audio producer and its consumer."""
        w = self.worker
        internal = dict(ROUTER, transportId="t1")
        w.request_ok("router.createDirectTransport", internal, {"direct": True})
        w.request_ok("transport.produce", dict(internal, producerId="p1"),
                     mu.produce_data(mu.OPUS, 100, 1111, 100, 2222))
        consumer = dict(internal, producerId="p1", consumerId="c1")
        w.request_ok("transport.consume", consumer, mu.consume_data(mu.OPUS, 100, 3333, 2222))
        return consumer

    def test_sctp_numbers_out_of_range_are_type_errors(self):
        # 1e300 as an unsigned SCTP field was converted from a double out of
        # range (undefined behaviour); negative ones wrapped around.
        w = self.worker
        base = {"listenIp": {"ip": mu.LOCAL_IP}, "enableSctp": True}
        cases = {
            "maxSctpMessageSize 1e300": {"maxSctpMessageSize": 1e300},
            "maxSctpMessageSize -1": {"maxSctpMessageSize": -1},
            "sctpSendBufferSize 2^32": {"sctpSendBufferSize": 2 ** 32},
            "OS 1e300": {"numSctpStreams": {"OS": 1e300, "MIS": 1024}},
            "MIS 65536": {"numSctpStreams": {"OS": 1024, "MIS": 65536}},
            "OS 0": {"numSctpStreams": {"OS": 0, "MIS": 1024}},
            "OS 1.5": {"numSctpStreams": {"OS": 1.5, "MIS": 1024}},
        }
        for i, (name, extra) in enumerate(cases.items()):
            with self.subTest(case=name):
                response = w.request("router.createPlainTransport",
                                     dict(ROUTER, transportId="t%d" % i), dict(base, **extra))
                self.assert_type_error(response, name)
        self.assertEqual(w.request_ok("router.dump", ROUTER)["transportIds"], [])
        dump = w.request_ok("router.createPlainTransport", dict(ROUTER, transportId="ok"),
                            dict(base, numSctpStreams={"OS": 65535, "MIS": 1},
                                 maxSctpMessageSize=4294967295))
        self.assertEqual((dump["sctpParameters"]["OS"], dump["sctpParameters"]["MIS"],
                          dump["sctpParameters"]["maxMessageSize"]), (65535, 1, 4294967295))

    def test_consumer_priority_out_of_range_is_a_type_error(self):
        # 1e300 was converted to an unsigned int (undefined behaviour), and
        # 2^40 was truncated to 0, below the minimum of 1.
        w = self.worker
        consumer = self.audio_consumer()
        for priority in (1e300, 2 ** 40, 4294967296, 0.5, -3, "2"):
            with self.subTest(priority=priority):
                self.assert_type_error(
                    w.request("consumer.setPriority", consumer, {"priority": priority}),
                    "priority %r" % priority)
        self.assertEqual(w.request_ok("consumer.dump", consumer)["priority"], 1)
        for priority, expected in ((4294967295, 4294967295), (2.9, 2), (7, 7)):
            self.assertEqual(w.request_ok("consumer.setPriority", consumer,
                                          {"priority": priority}), {"priority": expected})

    def test_32_bit_fields_beyond_32_bits_are_type_errors(self):
        # These were truncated: a bitrate of 2^32 became 0 ("no limit").
        w = self.worker
        internal = dict(ROUTER, transportId="d1")
        self.assert_type_error(
            w.request("router.createDirectTransport", internal,
                      {"direct": True, "maxMessageSize": 2 ** 32 + 5}), "maxMessageSize")
        w.request_ok("router.createDirectTransport", internal, {"direct": True})
        for method in ("transport.setMaxIncomingBitrate", "transport.setMaxOutgoingBitrate"):
            with self.subTest(method=method):
                self.assert_type_error(w.request(method, internal, {"bitrate": 2 ** 32}), method)
                w.request_ok(method, internal, {"bitrate": 2 ** 32 - 1})
        data = mu.produce_data(mu.OPUS, 100, 1111, 100, 2222)
        data["keyFrameRequestDelay"] = 2 ** 32
        self.assert_type_error(
            w.request("transport.produce", dict(internal, producerId="p1"), data),
            "keyFrameRequestDelay")
        self.assertEqual(w.request_ok("transport.dump", internal)["producerIds"], [])


if __name__ == "__main__":
    unittest.main()
