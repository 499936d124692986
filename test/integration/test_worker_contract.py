"""End-to-end checks of the worker's process contract and channel framing
(the README's "How a host spawns it"), driving the real binary through
harness.WorkerProcess; with SFU_TEST_VALGRIND=1 also a short scenario under
valgrind.

Run: test/integration/run_tests.py -v test_worker_contract
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    MAX_PAYLOAD_LEN,
    VALGRIND_SKIP_REASON,
    WorkerProcess,
    make_cert_pair,
    ns_encode,
    valgrind_problems,
    valgrind_requested,
)

RESOURCE_USAGE_KEYS = (
    "ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss",
    "ru_minflt", "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd",
    "ru_msgrcv", "ru_nsignals", "ru_nvcsw", "ru_nivcsw",
)

# Malformed input that must be logged and dropped without killing the worker.
GARBAGE = (
    ("non-digit length", b"abc:xyz,"),
    ("bad length digits", b"12x:abcdefghijkl,"),
    ("huge length", b"99999999999999:"),
    ("oversized length", b"%d:" % (MAX_PAYLOAD_LEN + 1)),
    ("not JSON", b"5:hello,"),
    ("JSON without id", b"2:{},"),
    ("JSON array", b"7:[1,2,3],"),
    ("missing comma", b"3:abcX"),
)

# Time given to the worker to digest garbage before the next write.
SETTLE = 0.2


class WorkerTestCase(unittest.TestCase):
    """Spawns workers that are always cleaned up, with assertion helpers."""

    def spawn(self, *args, **kwargs):
        worker = WorkerProcess(list(args), **kwargs)
        self.addCleanup(worker.terminate)
        return worker

    def start(self, *args, **kwargs):
        """Spawns a worker and waits for its 'running' notification."""
        worker = self.spawn(*args, **kwargs)
        worker.wait_running()
        return worker

    def assert_exit_code(self, worker, expected, timeout=5):
        code = worker.wait_exit(timeout)
        self.assertEqual(code, expected, "exit code %s, expected %s; stderr: %r"
                         % (code, expected, worker.stderr[-1000:]))

    def assert_answers(self, worker, timeout=5):
        """worker.dump succeeds and names the worker's pid."""
        data = worker.request_ok("worker.dump", timeout=timeout)
        self.assertEqual(data.get("pid"), worker.pid)
        return data

    def assert_rejected(self, response, kinds=("Error",)):
        self.assertFalse(response.get("accepted"), "unexpectedly accepted: %r" % response)
        self.assertIn(response.get("error"), kinds, "wrong error kind: %r" % response)
        self.assertIsInstance(response.get("reason"), str, response)

    def assert_no_protocol_errors(self, worker):
        self.assertEqual(worker.protocol_errors, [], "malformed output from the worker")

    def assert_logged_problem(self, worker, since, what):
        """An 'E' or 'W' log line arrived at or after log index `since`."""
        try:
            worker.wait_log("EW", since=since, timeout=1)
        except Exception as exc:  # harness raises WorkerError on timeout
            self.fail("no E/W log line for %s (%s); logs: %r"
                      % (what, exc, worker.logs[since:][-5:]))


# --------------------------------------------------------------------------
# Start-up and settings
# --------------------------------------------------------------------------

class StartupTest(WorkerTestCase):

    def test_running_notification_names_pid(self):
        worker = self.spawn()
        note = worker.wait_running()
        self.assertEqual(note.get("targetId"), str(worker.pid))
        self.assertEqual(note.get("event"), "running")
        self.assert_answers(worker)
        self.assertEqual(worker.close(), 0)
        self.assert_no_protocol_errors(worker)

    def test_without_mediasoup_version_exits_1(self):
        worker = self.spawn(env_extra={"MEDIASOUP_VERSION": None})
        self.assert_exit_code(worker, 1)
        self.assertTrue(worker.stderr.strip(), "no message on stderr")
        self.assertEqual(worker.all_notifications, [], "sent notifications anyway")

    def test_valid_settings_start(self):
        worker = self.start("--logLevel=debug", "--logTag=info", "--logTag=ice",
                            "--rtcMinPort=10000", "--rtcMaxPort=10100")
        self.assert_answers(worker)
        self.assertEqual(worker.close(), 0)

    def test_every_log_tag_is_accepted(self):
        tags = ("info ice dtls rtp srtp rtcp rtx bwe score simulcast svc sctp message"
                .split())
        worker = self.start("--logLevel=warn", *["--logTag=" + t for t in tags])
        self.assertEqual(worker.close(), 0)

    def test_invalid_settings_exit_42(self):
        cases = (
            ["--foo=1"],
            ["--logLevel=chicken"],
            ["--logTag=chicken"],
            ["--rtcMinPort=abc"],
            ["--rtcMinPort=70000"],
            ["--rtcMaxPort=-1"],
            ["--rtcMinPort=5000", "--rtcMaxPort=4000"],
        )
        for args in cases:
            with self.subTest(args=args):
                worker = self.spawn(*args)
                self.assert_exit_code(worker, 42)
                self.assertTrue(worker.stderr.strip(), "no message on stderr")


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl CLI")
class CertificateSettingsTest(WorkerTestCase):

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="sfu-certs-")
        d = cls._tmp.name
        cls.cert, cls.key = make_cert_pair(d, "a")
        cls.other_cert, cls.other_key = make_cert_pair(d, "b")
        cls.garbage = os.path.join(d, "garbage.pem")
        with open(cls.garbage, "wb") as f:
            f.write(b"-----BEGIN NONSENSE-----\n\x00\x01chicken soup\n")
        cls.empty = os.path.join(d, "empty.pem")
        open(cls.empty, "wb").close()
        cls.missing = os.path.join(d, "does-not-exist.pem")
        cls.directory = os.path.join(d, "a-directory.pem")
        os.mkdir(cls.directory)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @staticmethod
    def _args(cert=None, key=None):
        args = []
        if cert is not None:
            args.append("--dtlsCertificateFile=" + cert)
        if key is not None:
            args.append("--dtlsPrivateKeyFile=" + key)
        return args

    def test_valid_pair_is_accepted(self):
        worker = self.start(*self._args(self.cert, self.key))
        self.assert_answers(worker)
        self.assertEqual(worker.close(), 0)

    def test_invalid_files_exit_42(self):
        cases = {
            "cert without key": (self.cert, None),
            "key without cert": (None, self.key),
            "missing cert": (self.missing, self.key),
            "missing key": (self.cert, self.missing),
            "garbage cert": (self.garbage, self.key),
            "garbage key": (self.cert, self.garbage),
            "empty cert": (self.empty, self.key),
            "empty key": (self.cert, self.empty),
            "unreadable cert (directory)": (self.directory, self.key),
            "unreadable key (directory)": (self.cert, self.directory),
            "key as cert": (self.key, self.key),
            "cert and key that do not match": (self.cert, self.other_key),
        }
        for name, (cert, key) in cases.items():
            with self.subTest(case=name):
                worker = self.spawn(*self._args(cert, key))
                self.assert_exit_code(worker, 42)
                self.assertTrue(worker.stderr.strip(), "no message on stderr")

    def test_weak_certificate_lowers_the_security_level_with_a_warning(self):
        cert, key = make_rsa_cert_pair(self._tmp.name, "weak", 1024, "sha1")
        worker = self.start("--logLevel=warn", *self._args(cert, key))
        level, text = worker.wait_log(lambda e: "security level" in e[1], timeout=2)
        self.assertEqual(level, "W")
        self.assertRegex(text, r"^DTLS certificate needs security level 1 "
                               r"\(RSA 1024 bits, SHA1 signature\); lowering it from [2-5]$")
        self.assert_answers(worker)
        self.assertEqual(worker.close(), 0)

    def test_strong_certificates_keep_the_security_level(self):
        strong = {"rsa-2048": make_rsa_cert_pair(self._tmp.name, "strong", 2048, "sha256"),
                  "ec-p256": (self.cert, self.key)}
        for name, (cert, key) in strong.items():
            with self.subTest(certificate=name):
                worker = self.start("--logLevel=warn", *self._args(cert, key))
                self.assert_answers(worker)
                self.assertEqual(worker.close(), 0)
                self.assertEqual([e for e in worker.logs if "security level" in e[1]], [])

    def test_generated_certificate_keeps_the_security_level(self):
        worker = self.start("--logLevel=warn")
        self.assert_answers(worker)
        self.assertEqual(worker.close(), 0)
        self.assertEqual([e for e in worker.logs if "security level" in e[1]], [])

    @unittest.skipIf(os.geteuid() == 0, "root can read mode 000 files")
    def test_unreadable_mode_000_exits_42(self):
        path = os.path.join(self._tmp.name, "locked-key.pem")
        shutil.copy(self.key, path)
        os.chmod(path, 0)
        worker = self.spawn(*self._args(self.cert, path))
        self.assert_exit_code(worker, 42)


def make_rsa_cert_pair(directory, name, bits, digest):
    """A self-signed RSA certificate of `bits` signed with `digest` (e.g.
    "sha1"), made with the openssl CLI; returns (cert_path, key_path)."""
    import subprocess
    cert = os.path.join(directory, name + "-cert.pem")
    key = os.path.join(directory, name + "-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:%d" % bits, "-%s" % digest, "-nodes",
         "-subj", "/CN=test", "-days", "1", "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return cert, key


class FdTest(WorkerTestCase):

    def test_missing_payload_fds_exit_1(self):
        for fd in (5, 6):
            with self.subTest(missing_fd=fd):
                worker = self.spawn(missing_fds=(fd,))
                self.assert_exit_code(worker, 1)
                self.assertTrue(worker.stderr.strip(), "no message on stderr")

    def test_missing_channel_fd_exits_1(self):
        worker = self.spawn(missing_fds=(3,))
        self.assert_exit_code(worker, 1)
        self.assertTrue(worker.stderr.strip(), "no message on stderr")


# --------------------------------------------------------------------------
# Worker and router requests
# --------------------------------------------------------------------------

class WorkerRequestTest(WorkerTestCase):

    def setUp(self):
        self.worker = self.start("--logLevel=warn")

    def test_dump_of_fresh_worker(self):
        data = self.worker.request_ok("worker.dump")
        self.assertEqual(data, {"pid": self.worker.pid, "routerIds": []})

    def test_create_router(self):
        w = self.worker
        self.assertTrue(w.request("worker.createRouter", {"routerId": "r1"})["accepted"])
        self.assertEqual(w.request_ok("worker.dump"), {"pid": w.pid, "routerIds": ["r1"]})
        w.request_ok("worker.createRouter", {"routerId": "r2"})
        self.assertEqual(sorted(w.request_ok("worker.dump")["routerIds"]), ["r1", "r2"])

    def test_duplicate_router_id_is_error(self):
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        self.assert_rejected(w.request("worker.createRouter", {"routerId": "r1"}))
        self.assertEqual(w.request_ok("worker.dump")["routerIds"], ["r1"])

    def test_create_router_without_id_is_rejected(self):
        w = self.worker
        for internal in ({}, None, {"routerId": 5}):
            with self.subTest(internal=internal):
                self.assert_rejected(w.request("worker.createRouter", internal),
                                     ("Error", "TypeError"))
        self.assertEqual(w.request_ok("worker.dump")["routerIds"], [])

    def test_get_resource_usage(self):
        data = self.worker.request_ok("worker.getResourceUsage")
        self.assertEqual(set(data), set(RESOURCE_USAGE_KEYS))
        for key in RESOURCE_USAGE_KEYS:
            value = data[key]
            self.assertTrue(isinstance(value, (int, float)) and not isinstance(value, bool),
                            "%s is %r" % (key, value))
            self.assertGreaterEqual(value, 0, key)

    def test_update_settings(self):
        w = self.worker
        w.request_ok("worker.updateSettings", data={"logLevel": "debug", "logTags": ["ice"]})
        w.request_ok("worker.updateSettings", data={"logLevel": "warn"})
        self.assert_rejected(w.request("worker.updateSettings", data={"logLevel": "chicken"}),
                             ("TypeError",))
        self.assert_rejected(w.request("worker.updateSettings", data={"logTags": "ice"}),
                             ("TypeError",))
        self.assert_answers(w)

    def test_unknown_method(self):
        response = self.worker.request("chicken.soup")
        self.assert_rejected(response)
        self.assertIn("chicken.soup", response["reason"])

    def test_router_dump(self):
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        dump = w.request_ok("router.dump", {"routerId": "r1"})
        self.assertEqual(dump.get("id"), "r1")
        expected = {
            "transportIds": [], "rtpObserverIds": [],
            "mapProducerIdConsumerIds": {}, "mapConsumerIdProducerId": {},
            "mapProducerIdObserverIds": {}, "mapDataProducerIdDataConsumerIds": {},
            "mapDataConsumerIdDataProducerId": {},
        }
        for key, value in expected.items():
            self.assertIn(key, dump)
            self.assertEqual(dump[key], value, key)

    def test_router_close(self):
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        self.assertTrue(w.request("router.close", {"routerId": "r1"})["accepted"])
        self.assert_rejected(w.request("router.dump", {"routerId": "r1"}))
        self.assertEqual(w.request_ok("worker.dump")["routerIds"], [])
        # The id is free again.
        w.request_ok("worker.createRouter", {"routerId": "r1"})

    def test_unknown_router_is_error(self):
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        internal = {"routerId": "nope", "transportId": "t1"}
        self.assert_rejected(w.request("transport.dump", internal))
        self.assert_rejected(w.request("router.dump", {"routerId": "nope"}))
        self.assert_rejected(w.request("router.close", {"routerId": "nope"}))

    def test_no_malformed_output(self):
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.request("chicken.soup")
        w.request_ok("router.dump", {"routerId": "r1"})
        self.assertEqual(w.close(), 0)
        self.assert_no_protocol_errors(w)


# --------------------------------------------------------------------------
# Framing on the channel (fd 3)
# --------------------------------------------------------------------------

def padded_dump_request(worker, payload_len):
    """A worker.dump request whose JSON is exactly payload_len bytes."""
    rid = worker.next_id()

    def encode(pad):
        req = {"id": rid, "method": "worker.dump", "data": {"pad": "x" * pad}}
        return json.dumps(req, separators=(",", ":")).encode()

    base = len(encode(0))
    body = encode(payload_len - base)
    assert len(body) == payload_len
    return rid, ns_encode(body)


class ChannelFramingTest(WorkerTestCase):

    def setUp(self):
        self.worker = self.start("--logLevel=warn")

    def test_garbage_is_dropped_and_logged(self):
        w = self.worker
        for name, garbage in GARBAGE:
            with self.subTest(garbage=name):
                since = w.log_count()
                w.send_raw(garbage)
                time.sleep(SETTLE)
                self.assert_answers(w)
                self.assert_logged_problem(w, since, name)
        self.assert_no_protocol_errors(w)

    def test_truncated_netstring_then_more_requests(self):
        w = self.worker
        partial = b'{"id":77,"method":"worker.'
        w.send_raw(b"%d:%s" % (len(partial) + 10, partial))
        time.sleep(SETTLE)
        # The first request may be swallowed by the truncated one; the
        # worker must be answering again right after.
        first = w.send_request("worker.dump")
        try:
            w.wait_response(first, timeout=1)
        except Exception:
            time.sleep(SETTLE)
            self.assert_answers(w)
        self.assertFalse(w.has_response(77), "answered the truncated request")

    def test_truncated_netstring_then_eof_exits_0(self):
        w = self.worker
        w.send_raw(b'40:{"id":3,"method":"worker.d')
        time.sleep(SETTLE)
        w.close_fd(3)
        self.assert_exit_code(w, 0, timeout=2)

    def test_largest_message_is_answered(self):
        w = self.worker
        rid, raw = padded_dump_request(w, MAX_PAYLOAD_LEN)
        w.send_raw(raw)
        response = w.wait_response(rid, timeout=20)
        self.assertTrue(response.get("accepted"), response)

    def test_oversized_message_is_dropped(self):
        w = self.worker
        since = w.log_count()
        rid, raw = padded_dump_request(w, MAX_PAYLOAD_LEN + 1)
        w.send_raw(raw)
        time.sleep(1.0)
        self.assert_answers(w, timeout=10)
        self.assertFalse(w.has_response(rid), "answered an oversized request")
        self.assert_logged_problem(w, since, "oversized message")

    def test_burst_of_10000_requests(self):
        w = self.worker
        count = 10000
        ids, chunks = [], []
        for _ in range(count):
            rid, raw = w.encode_request("worker.dump")
            ids.append(rid)
            chunks.append(raw)
        start = len(w.response_ids)
        w.send_raw(b"".join(chunks))
        for rid in ids:
            self.assertTrue(w.wait_response(rid, timeout=30).get("accepted"))
        self.assertEqual(w.response_ids[start:], ids, "responses out of order")

    def test_request_written_byte_by_byte(self):
        w = self.worker
        rid, raw = w.encode_request("worker.dump")
        for i in range(len(raw)):
            w.send_raw(raw[i:i + 1])
            time.sleep(0.002)
        self.assertEqual(w.wait_response(rid)["data"]["pid"], w.pid)

    def test_three_requests_in_one_write(self):
        w = self.worker
        encoded = [w.encode_request("worker.dump") for _ in range(3)]
        w.send_raw(b"".join(raw for _, raw in encoded))
        for rid, _ in encoded:
            self.assertTrue(w.wait_response(rid).get("accepted"))


# --------------------------------------------------------------------------
# Payload channel (fds 5/6)
# --------------------------------------------------------------------------

NO_DATA_CONSUMER = {"routerId": "r1", "transportId": "t", "dataProducerId": "dp",
                    "dataConsumerId": "nope"}


class PayloadChannelTest(WorkerTestCase):

    def setUp(self):
        self.worker = self.start("--logLevel=warn")
        self.worker.request_ok("worker.createRouter", {"routerId": "r1"})

    def assert_payload_channel_answers(self, worker=None):
        """dataConsumer.send for a missing dataConsumer is answered on fd 6."""
        response = (worker or self.worker).payload_request(
            "dataConsumer.send", NO_DATA_CONSUMER, {"ppid": 51}, b"hello")
        self.assert_rejected(response, ("Error", "TypeError"))
        return response

    def test_data_consumer_send_to_missing_target(self):
        w = self.worker
        response = self.assert_payload_channel_answers()
        self.assertFalse(w.has_response(response["id"]), "response also sent on fd 4")
        self.assert_answers(w)

    def test_producer_send_to_missing_target_is_dropped(self):
        w = self.worker
        since = w.log_count()
        internal = {"routerId": "r1", "transportId": "t", "producerId": "nope"}
        rtp = bytes([0x80, 0x60, 0x00, 0x01]) + bytes(8) + b"payload"
        w.payload_notify("producer.send", internal, {}, rtp)
        self.assert_payload_channel_answers()
        self.assert_answers(w)
        self.assert_logged_problem(w, since, "producer.send to a missing producer")
        self.assertEqual(w.payload_notifications, [])

    def test_garbage_is_dropped(self):
        # A fresh worker per case: a desynchronised channel would otherwise
        # make every later case fail too.
        for name, garbage in GARBAGE:
            with self.subTest(garbage=name):
                w = self.start("--logLevel=warn")
                w.request_ok("worker.createRouter", {"routerId": "r1"})
                since = w.log_count()
                w.send_payload_raw(garbage)
                time.sleep(SETTLE)
                self.assert_payload_channel_answers(w)
                self.assert_answers(w)
                self.assert_logged_problem(w, since, name)
                self.assert_no_protocol_errors(w)
                w.terminate()

    def test_garbage_instead_of_payload_resets_pairing(self):
        """A request's JSON followed by garbage instead of its payload: the
        half-received request is dropped and later pairs parse normally."""
        w = self.worker
        request = {"id": 999999, "method": "dataConsumer.send",
                   "internal": NO_DATA_CONSUMER, "data": {"ppid": 51}}
        w.send_payload_raw(ns_encode(json.dumps(request)))
        time.sleep(SETTLE)
        since = w.log_count()
        w.send_payload_raw(b"abc:")
        time.sleep(SETTLE)
        self.assert_payload_channel_answers()
        self.assert_logged_problem(w, since, "garbage instead of a payload")

    def test_garbage_is_logged_before_more_data(self):
        """An unparseable message is reported as soon as it arrives, not
        held back waiting for a payload netstring."""
        w = self.worker
        since = w.log_count()
        w.send_payload_raw(b"5:hello,")
        time.sleep(SETTLE)
        self.assert_answers(w)
        self.assert_logged_problem(w, since, "non-JSON payload channel message")


# --------------------------------------------------------------------------
# JSON nesting bound (kMaxJsonDepth in include/channel/JsonScan.hpp)
# --------------------------------------------------------------------------

MAX_JSON_DEPTH = 64
TOO_DEEP_REASON = "JSON nesting deeper than 64 levels of arrays and objects"


def nested_arrays(depth):
    """JSON text of `depth` nested arrays (Python's json cannot write it)."""
    return "[" * depth + "]" * depth


def raw_request(rid, method, internal, data_prefix, deep_value, data_suffix="}"):
    """A request whose data embeds `deep_value` as raw JSON text."""
    head = json.dumps({"id": rid, "method": method, "internal": internal},
                      separators=(",", ":"))[:-1]
    return ('%s,"data":%s%s%s}' % (head, data_prefix, deep_value, data_suffix)).encode()


class NestingDepthTest(WorkerTestCase):
    """A transport.produce whose rtpParameters nest 200,000 levels deep once
    killed the worker (a recursive copy of the parsed value); every message
    nested deeper than the limit is now refused before it is parsed."""

    def setUp(self):
        self.worker = self.start("--logLevel=warn")
        w = self.worker
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.request_ok("router.createDirectTransport", {"routerId": "r1", "transportId": "direct"},
                     {"direct": True, "maxMessageSize": 262144})
        w.request_ok("router.createPlainTransport", {"routerId": "r1", "transportId": "plain"},
                     {"listenIp": {"ip": "127.0.0.1"}, "rtcpMux": True, "comedia": True,
                      "enableSrtp": False})

    def produce_deep(self, transport_id, depth):
        w = self.worker
        rid = w.next_id()
        internal = {"routerId": "r1", "transportId": transport_id, "producerId": "p-deep"}
        w.send_raw(ns_encode(raw_request(rid, "transport.produce", internal,
                                         '{"kind":"audio","rtpParameters":',
                                         nested_arrays(depth))))
        return w.wait_response(rid, timeout=20)

    def test_deep_produce_is_refused_on_both_transports(self):
        w = self.worker
        for transport_id in ("direct", "plain"):
            with self.subTest(transport=transport_id):
                since = w.log_count()
                response = self.produce_deep(transport_id, 200000)
                self.assertEqual(response, {"id": response["id"], "error": "Error",
                                            "reason": TOO_DEEP_REASON})
                self.assertTrue(w.alive, "worker died (exit %s)" % w.returncode)
                self.assert_logged_problem(w, since, "deep request")
                dump = w.request_ok("transport.dump",
                                    {"routerId": "r1", "transportId": transport_id})
                self.assertEqual(dump["producerIds"], [])
        self.assert_answers(w)
        self.assertEqual(w.close(), 0)
        self.assert_no_protocol_errors(w)

    def test_the_limit_itself_is_parsed(self):
        # The root object and data are 2 levels, the rest arrays.
        response = self.produce_deep("direct", MAX_JSON_DEPTH - 2)
        self.assert_rejected(response, ("TypeError",))
        self.assertNotIn("nesting", response["reason"])
        response = self.produce_deep("direct", MAX_JSON_DEPTH - 1)
        self.assertEqual(response["reason"], TOO_DEEP_REASON)

    def test_deep_objects_and_deep_strings(self):
        w = self.worker
        rid = w.next_id()
        deep_objects = '{"a":' * 100000 + "1" + "}" * 100000
        w.send_raw(ns_encode(raw_request(rid, "worker.dump", {}, "", deep_objects, "")))
        self.assertEqual(w.wait_response(rid, timeout=20)["reason"], TOO_DEEP_REASON)
        # Brackets inside a string are no nesting.
        data = w.request_ok("worker.dump", data={"s": "[" * 100000})
        self.assertEqual(data["pid"], w.pid)

    def test_deep_message_without_id_is_dropped(self):
        w = self.worker
        since = w.log_count()
        w.send_raw(ns_encode('{"method":"worker.dump","data":%s}' % nested_arrays(200000)))
        time.sleep(SETTLE)
        self.assert_answers(w)
        self.assert_logged_problem(w, since, "deep message without id")

    def test_deep_payload_channel_request_is_answered(self):
        w = self.worker
        rid = w.next_id()
        internal = {"routerId": "r1", "transportId": "direct", "dataProducerId": "dp",
                    "dataConsumerId": "dc"}
        body = raw_request(rid, "dataConsumer.send", internal, '{"ppid":51,"x":',
                           nested_arrays(200000))
        # Its payload, if taken for a message, would be a request of its own.
        trap = json.dumps({"id": rid + 1000000, "method": "dataConsumer.send"}).encode()
        w.send_payload_raw(ns_encode(body) + ns_encode(trap))
        response = w._wait_for(lambda: w._payload_responses.pop(rid, None), 20,
                               "payload channel response %d" % rid)
        self.assertEqual(response, {"id": rid, "error": "Error", "reason": TOO_DEEP_REASON})
        self.assert_rejected(w.payload_request("dataConsumer.send", NO_DATA_CONSUMER,
                                               {"ppid": 51}, b"hello"), ("Error", "TypeError"))
        self.assertNotIn(rid + 1000000, w.payload_response_ids)
        self.assert_answers(w)


# --------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------

def exercise(worker):
    """A few requests, good and bad, ending with a round trip."""
    worker.request_ok("worker.createRouter", {"routerId": "r1"})
    worker.request_ok("router.dump", {"routerId": "r1"})
    worker.request("router.dump", {"routerId": "nope"})
    worker.request_ok("worker.dump")


class LogTest(WorkerTestCase):

    def test_warn_level_sends_no_debug_lines(self):
        w = self.start("--logLevel=warn", "--logTag=info")
        exercise(w)
        self.assertEqual([e for e in w.logs if e[0] == "D"], [])

    def test_debug_level_with_info_tag_sends_debug_lines(self):
        w = self.start("--logLevel=debug", "--logTag=info")
        since = w.log_count()
        exercise(w)
        w.wait_log("D", since=since, timeout=2)

    def test_update_settings_enables_debug(self):
        w = self.start("--logLevel=warn")
        exercise(w)
        self.assertEqual([e for e in w.logs if e[0] == "D"], [])
        w.request_ok("worker.updateSettings", data={"logLevel": "debug", "logTags": ["info"]})
        since = w.log_count()
        w.request_ok("worker.dump")
        w.wait_log("D", since=since, timeout=2)

    def test_update_settings_none_silences_warnings(self):
        w = self.start("--logLevel=warn")
        since = w.log_count()
        w.send_raw(b"5:hello,")
        time.sleep(SETTLE)
        w.request_ok("worker.dump")
        self.assert_logged_problem(w, since, "garbage (before)")

        w.request_ok("worker.updateSettings", data={"logLevel": "none"})
        since = w.log_count()
        w.send_raw(b"5:hello,")
        time.sleep(SETTLE)
        w.request_ok("worker.dump")
        self.assertEqual(w.logs_since(since), [], "logs after logLevel none")


# --------------------------------------------------------------------------
# Signals and shutdown
# --------------------------------------------------------------------------

IGNORED_SIGNALS = ("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM")


class ShutdownTest(WorkerTestCase):

    def test_sigterm_exits_0(self):
        w = self.start()
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.kill_signal(signal.SIGTERM)
        self.assert_exit_code(w, 0, timeout=2)

    def test_sigint_exits_0(self):
        w = self.start()
        w.kill_signal(signal.SIGINT)
        self.assert_exit_code(w, 0, timeout=2)

    def test_ignored_signals(self):
        w = self.start()
        for name in IGNORED_SIGNALS:
            with self.subTest(signal=name):
                w.kill_signal(getattr(signal, name))
                time.sleep(SETTLE)
                self.assertTrue(w.alive, "died on %s (exit %s)" % (name, w.returncode))
                self.assert_answers(w)
        self.assertEqual(w.close(), 0)

    def test_eof_on_channel_exits_0(self):
        w = self.start()
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.close_fd(3)
        self.assert_exit_code(w, 0, timeout=2)

    def test_worker_close_exits_0(self):
        w = self.start()
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.send_request("worker.close")
        self.assert_exit_code(w, 0, timeout=2)


# --------------------------------------------------------------------------
# Valgrind
# --------------------------------------------------------------------------

@unittest.skipUnless(valgrind_requested(), VALGRIND_SKIP_REASON)
class ValgrindTest(WorkerTestCase):
    """Requests, garbage and a payload channel error under valgrind
    (memcheck): no error, no definite or indirect leak. Media, ICE, DTLS and
    SRTP under valgrind: test_webrtc_aiortc.AiortcWebRtcUnderValgrindTest."""

    def test_short_scenario_is_clean(self):
        w = self.spawn("--logLevel=warn", valgrind=True)
        note = w.wait_running()
        self.assertEqual(note["targetId"], str(w.pid))
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        w.request_ok("router.dump", {"routerId": "r1"})
        for _, garbage in GARBAGE[:5]:
            w.send_raw(garbage)
            time.sleep(SETTLE * 2)
            self.assert_answers(w)
        self.assert_rejected(w.request("router.dump", {"routerId": "nope"}))
        self.assert_rejected(w.request("chicken.soup"))
        self.assert_payload_error(w)
        w.send_request("worker.close")
        self.assert_exit_code(w, 0, timeout=10)
        self.assertEqual(valgrind_problems(w.stderr), [], w.stderr[-3000:])

    def test_data_scenario_is_clean(self):
        """Direct data producers and consumers with messages both ways, and
        SCTP associations created and closed, under valgrind."""
        w = self.spawn("--logLevel=warn", valgrind=True)
        w.wait_running()
        w.request_ok("worker.createRouter", {"routerId": "r1"})
        base = {"routerId": "r1", "transportId": "d"}
        w.request_ok("router.createDirectTransport", base, {"maxMessageSize": 262144})
        w.request_ok("transport.produceData", dict(base, dataProducerId="dp"),
                     {"type": "direct", "label": "l", "protocol": "p"})
        w.request_ok("transport.consumeData",
                     dict(base, dataConsumerId="dc", dataProducerId="dp"),
                     {"type": "direct", "label": "l", "protocol": "p"})
        for i, size in enumerate((1, 1024, 65536, 262144)):
            w.payload_notify("dataProducer.send", dict(base, dataProducerId="dp"),
                             {"ppid": 53}, bytes([i]) * size)
            note, payload = w.wait_payload_notification(
                lambda n: n.get("targetId") == "dc" and n.get("event") == "message", timeout=20)
            self.assertEqual(note["data"]["ppid"], 53)
            self.assertEqual(payload, bytes([i]) * size)
        # The host's own send to a direct consumer comes back as a message.
        response = w.payload_request("dataConsumer.send", dict(base, dataConsumerId="dc"),
                                     {"ppid": 51}, b"hi", timeout=20)
        self.assertTrue(response.get("accepted"), response)
        note, payload = w.wait_payload_notification("message", timeout=20)
        self.assertEqual((note["data"]["ppid"], payload), (51, b"hi"))
        for i in range(3):
            sctp = {"routerId": "r1", "transportId": "s%d" % i}
            w.request_ok("router.createPlainTransport", sctp,
                         {"listenIp": {"ip": "127.0.0.1"}, "rtcpMux": True, "comedia": True,
                          "enableSctp": True, "numSctpStreams": {"OS": 16, "MIS": 16},
                          "maxSctpMessageSize": 262144, "sctpSendBufferSize": 262144,
                          "isDataChannel": False})
            w.request_ok("transport.produceData", dict(sctp, dataProducerId="sp%d" % i),
                         {"type": "sctp", "sctpStreamParameters": {"streamId": 1}})
            w.request_ok("transport.consumeData",
                         dict(sctp, dataConsumerId="sc%d" % i, dataProducerId="dp"),
                         {"type": "sctp", "sctpStreamParameters": {"streamId": 2, "ordered": True}})
        w.request_ok("transport.close", {"routerId": "r1", "transportId": "s0"})
        w.request_ok("dataProducer.close", dict(base, dataProducerId="dp"))
        w.send_request("worker.close")
        self.assert_exit_code(w, 0, timeout=20)
        self.assertEqual(valgrind_problems(w.stderr), [], w.stderr[-3000:])

    def assert_payload_error(self, w):
        response = w.payload_request("dataConsumer.send", NO_DATA_CONSUMER,
                                     {"ppid": 51}, b"hello")
        self.assert_rejected(response, ("Error", "TypeError"))


if __name__ == "__main__":
    unittest.main()
