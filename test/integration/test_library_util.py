"""library_util: workers spawned through the control library are checked
like harness.WorkerProcess's. A stand-in worker (a script that speaks just
enough of the protocol) prints a sanitizer report as it shuts down: the
report reaches harness.CHECKER_REPORTS, which run_tests.py turns into a
failure; a clean one adds nothing."""

import os
import stat
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from library_util import library_worker, run_async  # noqa: E402

REPORT = "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"


def stand_in_worker(directory, last_words):
    path = os.path.join(directory, "worker.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "trap 'echo \"%s\" >&2; exit 0' TERM\n"
                "msg='{\"targetId\":\"'$$'\",\"event\":\"running\"}'\n"
                "printf '%%d:%%s,' ${#msg} \"$msg\" >&4\n"
                "while :; do sleep 0.05; done\n" % last_words)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


class LibraryWorkerCheckTest(unittest.TestCase):

    def run_worker(self, last_words):
        """Runs the stand-in; returns the reports it added (taken back out
        of harness.CHECKER_REPORTS, so that this test itself passes)."""
        before = len(harness.CHECKER_REPORTS)

        async def scenario():
            async with library_worker() as worker:
                self.assertGreater(worker.pid, 0)

        with tempfile.TemporaryDirectory() as directory, \
                mock.patch.dict(os.environ, {"SFU_WORKER_BIN": stand_in_worker(directory,
                                                                               last_words)}):
            os.environ.pop("MEDIASOUP_USE_VALGRIND", None)
            run_async(scenario(), 20)
        added = harness.CHECKER_REPORTS[before:]
        del harness.CHECKER_REPORTS[before:]
        return added

    def test_sanitizer_report_is_collected(self):
        added = self.run_worker(REPORT)
        self.assertEqual(len(added), 1, added)
        self.assertIn("heap-use-after-free", added[0])

    def test_clean_worker_adds_nothing(self):
        self.assertEqual(self.run_worker("bye"), [])


if __name__ == "__main__":
    unittest.main()
