"""The one list of skips a strict run of the integration tests accepts.

A strict run (run_tests.py with SFU_TEST_STRICT=1 or CI=true, as
scripts/test.sh and .ci/run make it) fails on every skip that no entry here
matches: a missing tool (ffmpeg, aiortc, pyOpenSSL, GStreamer, the test
peers) is then a failure, not a skip. An entry matches a skip when the
test's id (unittest's "module.Class.test_name") matches `test` as an
fnmatch pattern AND the skip's reason contains `reason`, so that the same
test skipped for another reason still fails.
"""

import collections
import fnmatch

AllowedSkip = collections.namedtuple("AllowedSkip", "test reason why")

ALLOWED_SKIPS = (
    AllowedSkip(
        test="test_worker_contract.CertificateSettingsTest.test_unreadable_mode_000_exits_42",
        reason="root can read mode 000 files",
        why="CI and the project's machines run the tests as root, which reads any file; "
            "the other unreadable-file cases (a directory as the key) still run"),
    AllowedSkip(
        test="test_*.*Valgrind*.*",
        reason="set SFU_TEST_VALGRIND=1",
        why="valgrind runs take minutes and are asked for with SFU_TEST_VALGRIND=1, which "
            ".ci/run sets for its release run; its ASan run leaves them out (valgrind "
            "cannot run an ASan binary)"),
    AllowedSkip(
        test="test_pipe_host.PipeCascadeTest.*",
        reason="network namespaces need root",
        why="the cascade test builds two network namespaces, a veth pair and nftables "
            "rules, which only root can; CI and the project's machines run as root, so "
            "there it runs (and a missing ip or nft fails it)"),
)


def allowed(test_id, reason):
    """The entry allowing this skip, or None."""
    for entry in ALLOWED_SKIPS:
        if fnmatch.fnmatchcase(test_id, entry.test) and entry.reason in (reason or ""):
            return entry
    return None
