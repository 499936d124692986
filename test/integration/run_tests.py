#!/usr/bin/env python3
"""Runs the integration tests with unittest's own runner and closing lines
("Ran N tests", "OK" / "FAILED (...)"), and adds two rules:

- A worker that printed a sanitizer report (ASan, LSan, UBSan) or, when run
  under valgrind, a valgrind error or leak, fails the test during which it
  exited (harness.CHECKER_REPORTS), or, for a worker a class shared, the
  run.
- In a strict run (SFU_TEST_STRICT=1 or CI=true; scripts/test.sh and .ci/run
  set it), a skip that allowed_skips.py does not list is a failure, and so
  is an expected failure (assert what the worker does instead). A run that
  ran no test fails too.

Usage: run_tests.py [-v] [-p PATTERN] [-k SUBSTRING] [TEST_NAME ...]
  TEST_NAME is a module, class or test as unittest names them
  (test_simulcast, test_simulcast.SimulcastTest.test_2_switch_down_and_up);
  without one, every test_*.py here (or those matching -p) is run.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import allowed_skips  # noqa: E402
import harness  # noqa: E402


def strict_requested():
    return os.environ.get("SFU_TEST_STRICT") == "1" or os.environ.get("CI") == "true"


class RunProblem(Exception):
    """A rule of this runner that a test (or the run) broke."""


class RunLevel:
    """Stands for what is not one test (a class's shared worker, the run) in
    the result's error lists, as unittest's own _ErrorHolder does."""

    failureException = None

    def __init__(self, description):
        self.description = description

    def id(self):
        return self.description

    def shortDescription(self):
        return None

    def __str__(self):
        return self.description


def _exc_info(text):
    try:
        raise RunProblem(text)
    except RunProblem:
        return sys.exc_info()


class CheckedResult(unittest.TextTestResult):
    """unittest's text result, with the rules above."""

    strict = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = []      # (test id, reason, AllowedSkip)
        self._reports_seen = 0
        self._last_test = None

    # ----- checker reports ---------------------------------------------------

    def _new_reports(self):
        reports = harness.CHECKER_REPORTS[self._reports_seen:]
        self._reports_seen += len(reports)
        return reports

    def _report_shared_workers(self):
        """Reports of workers that exited between tests: a class's shared
        worker, closed by its class clean-up."""
        reports = self._new_reports()
        if reports:
            where = "workers shared by %s" % (
                type(self._last_test).__name__ if self._last_test else "the run")
            self.addError(RunLevel(where), _exc_info(
                "a worker's checker reported a problem:\n" + "\n".join(reports)))

    def startTest(self, test):
        self._report_shared_workers()
        super().startTest(test)

    def _report_test_workers(self, test):
        """Fails `test` with the reports of workers that exited during it
        (its clean-ups, which close them, have run by now); True if any."""
        reports = self._new_reports()
        if reports:
            self.addFailure(test, _exc_info(
                "a worker's checker reported a problem:\n" + "\n".join(reports)))
        return bool(reports)

    def addSuccess(self, test):
        if not self._report_test_workers(test):
            super().addSuccess(test)

    def stopTest(self, test):
        # A test that failed or was skipped: reports come on top.
        self._report_test_workers(test)
        self._last_test = test
        super().stopTest(test)

    def stopTestRun(self):
        self._report_shared_workers()
        if self.testsRun == 0:
            self.addError(RunLevel("the run"), _exc_info("no test ran"))
        super().stopTestRun()

    def printErrors(self):
        # TextTestRunner calls this just before its closing lines.
        super().printErrors()
        for entry in allowed_skips.ALLOWED_SKIPS:
            tests = [test_id for test_id, _, e in self.allowed if e is entry]
            if tests:
                self.stream.writeln("%d skipped as allowed_skips.py allows (%s): %s"
                                    % (len(tests), entry.why, ", ".join(tests)))
        self.stream.writeln("strict run (every other skip fails): %s"
                            % ("yes" if self.strict else "no"))

    # ----- skips and expected failures ---------------------------------------

    def addSkip(self, test, reason):
        entry = allowed_skips.allowed(test.id(), reason)
        if not self.strict or entry is not None:
            if entry is not None:
                self.allowed.append((test.id(), reason, entry))
            super().addSkip(test, reason)
            return
        self.addFailure(test, _exc_info(
            "skipped (%s), and allowed_skips.py does not allow it in a strict run: a "
            "missing tool is a failure here" % reason))

    def addExpectedFailure(self, test, err):
        if not self.strict:
            super().addExpectedFailure(test, err)
            return
        self.addFailure(test, _exc_info(
            "an expected failure, which a strict run does not accept: assert what the "
            "worker does now instead. The failure was:\n%s"
            % self._exc_info_to_string(err, test)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-v", "--verbose", action="store_const", const=2, default=1,
                    dest="verbosity")
    ap.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbosity")
    ap.add_argument("-p", "--pattern", default="test_*.py",
                    help="file pattern of the test modules to discover (default test_*.py)")
    ap.add_argument("-k", dest="name_patterns", action="append", default=[],
                    help="only tests whose name contains this (repeatable), as unittest -k")
    ap.add_argument("-f", "--failfast", action="store_true")
    ap.add_argument("names", nargs="*", help="modules, classes or tests to run")
    args = ap.parse_args(argv)

    loader = unittest.TestLoader()
    if args.name_patterns:
        loader.testNamePatterns = ["*%s*" % p if "*" not in p else p
                                   for p in args.name_patterns]
    if args.names:
        suite = loader.loadTestsFromNames(args.names)
    else:
        suite = loader.discover(HERE, pattern=args.pattern, top_level_dir=HERE)

    CheckedResult.strict = strict_requested()
    runner = unittest.TextTestRunner(verbosity=args.verbosity, failfast=args.failfast,
                                     resultclass=CheckedResult)
    # unittest's own closing lines end the output: "Ran N tests in Xs", then
    # "OK" or "FAILED (...)".
    result = runner.run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
