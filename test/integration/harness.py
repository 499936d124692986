"""Drives an sfu-worker process over its four inherited fds, the way the
mediasoup Node host does (the process contract is in the README's "How a
host spawns it").

    with WorkerProcess(["--logLevel=warn"]) as w:
        w.wait_running()
        w.request_ok("worker.createRouter", internal={"routerId": "r1"})
        print(w.request_ok("router.dump", internal={"routerId": "r1"}))
        print(w.close())

Python 3 standard library only.
"""

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import threading
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_WORKER_BIN = os.path.join(REPO_ROOT, "build", "sfu-worker")

MEDIASOUP_VERSION = "3.8.4"
DEFAULT_VALGRIND_OPTIONS = (
    "--leak-check=full --show-leak-kinds=definite,indirect "
    "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no"
)
# How much slower everything gets under valgrind.
VALGRIND_TIMEOUT_SCALE = 15.0

# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print
# when they find something (UBSan's "runtime error" lines come before its
# SUMMARY, and without one when it is told not to print summaries).
_SANITIZER_RE = re.compile(
    r"(==\d+==ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|^\S+:\d+:\d+: runtime error: )",
    re.MULTILINE)
_VALGRIND_ERRORS_RE = re.compile(r"ERROR SUMMARY: ([\d,]+) errors")

# Every checker report (sanitizer or valgrind) that a worker printed before
# it exited, in order: the integration test runner (run_tests.py) fails the
# test during which one appears. Appended to by WorkerProcess.
CHECKER_REPORTS = []

# Largest netstring payload either side may send.
MAX_PAYLOAD_LEN = 4194304
LOG_LEVELS = ("D", "W", "E", "X")

# Signals reset to their default disposition in the child, as libuv does for
# the Node host (Python itself ignores SIGPIPE, which would otherwise be
# inherited across exec).
_DEFAULT_SIGNALS = tuple(
    s for s in (
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM",
        "SIGTERM", "SIGCHLD", "SIGXFSZ", "SIGXCPU", "SIGTSTP", "SIGTTIN", "SIGTTOU",
    ) if hasattr(signal, s)
)


def worker_bin():
    """Path of the worker binary under test."""
    return os.environ.get("SFU_WORKER_BIN", DEFAULT_WORKER_BIN)


def valgrind_enabled_by_env():
    return os.environ.get("MEDIASOUP_USE_VALGRIND", "") == "true"


def valgrind_requested():
    """The valgrind tests run: SFU_TEST_VALGRIND=1 (or every worker is under
    valgrind anyway)."""
    return os.environ.get("SFU_TEST_VALGRIND") == "1" or valgrind_enabled_by_env()


VALGRIND_SKIP_REASON = "set SFU_TEST_VALGRIND=1 or MEDIASOUP_USE_VALGRIND=true"


def timeout_scale():
    """Extra slack for slow builds (sanitizers): SFU_TEST_TIMEOUT_SCALE=N."""
    try:
        return max(1.0, float(os.environ.get("SFU_TEST_TIMEOUT_SCALE", "1")))
    except ValueError:
        return 1.0


# --------------------------------------------------------------------------
# Netstrings
# --------------------------------------------------------------------------

class NetstringError(ValueError):
    """Malformed netstring data."""


def ns_encode(payload):
    """Encodes bytes (or str, as UTF-8) as one netstring."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return b"%d:%s," % (len(payload), payload)


class NetstringDecoder:
    """Incremental netstring decoder.

    feed() accepts any chunk (part of a netstring, several netstrings, or
    both) and returns the list of complete payloads; the rest stays buffered.
    Malformed input raises NetstringError.
    """

    def __init__(self, max_len=MAX_PAYLOAD_LEN):
        self.max_len = max_len
        self._max_digits = len(str(max_len))
        self._buf = bytearray()

    @property
    def buffered(self):
        return len(self._buf)

    def feed(self, data):
        self._buf += data
        buf = self._buf
        out = []
        pos = 0
        try:
            while True:
                item, pos_after = self._parse_one(buf, pos)
                if item is None:
                    break
                out.append(item)
                pos = pos_after
        finally:
            del buf[:pos]
        return out

    def _parse_one(self, buf, pos):
        """Returns (payload, next position) or (None, pos) when incomplete."""
        n = len(buf)
        colon = buf.find(b":", pos, min(n, pos + self._max_digits + 1))
        if colon < 0:
            head = bytes(buf[pos:n])
            if len(head) > self._max_digits or (head and not head.isdigit()):
                raise NetstringError("bad netstring length prefix %r" % head[:20])
            return None, pos
        digits = bytes(buf[pos:colon])
        if not digits or not digits.isdigit():
            raise NetstringError("bad netstring length prefix %r" % digits[:20])
        length = int(digits)
        if length > self.max_len:
            raise NetstringError("netstring too long (%d bytes)" % length)
        end = colon + 1 + length
        if end >= n:
            return None, pos
        if buf[end] != ord(","):
            raise NetstringError("netstring not terminated by ','")
        return bytes(buf[colon + 1:end]), end + 1


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class WorkerError(Exception):
    """The worker process misbehaved (exited, timed out, bad output)."""


class RequestError(Exception):
    """The worker rejected a request: .error is "Error" or "TypeError"."""

    def __init__(self, method, response):
        self.method = method
        self.response = response
        self.error = response.get("error")
        self.reason = response.get("reason")
        super().__init__("%s failed: %s: %s" % (method, self.error, self.reason))


# --------------------------------------------------------------------------
# Spawning
# --------------------------------------------------------------------------

def _high_dup(fd):
    """Duplicates fd to a close-on-exec descriptor above the target range."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)


def _build_argv(args, valgrind):
    binary = worker_bin()
    if not os.path.exists(binary):
        raise FileNotFoundError(
            "worker binary %s not found (build it with scripts/build.sh or set "
            "SFU_WORKER_BIN)" % binary)
    argv = [binary] + list(args)
    if not valgrind:
        return argv
    vg = os.environ.get("MEDIASOUP_VALGRIND_BIN") or "valgrind"
    vg_path = vg if os.sep in vg else shutil.which(vg)
    if not vg_path:
        raise FileNotFoundError("valgrind binary %r not found" % vg)
    options = os.environ.get("MEDIASOUP_VALGRIND_OPTIONS") or DEFAULT_VALGRIND_OPTIONS
    return [vg_path] + [o for o in options.split(" ") if o] + argv


def _build_env(env_extra):
    env = dict(os.environ)
    env["MEDIASOUP_VERSION"] = MEDIASOUP_VERSION
    for key, value in (env_extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


class _Collector:
    """Reads a pipe to EOF in a thread, keeping everything."""

    def __init__(self, fd, name):
        self._fd = fd
        self._chunks = []
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    break
                with self._lock:
                    self._chunks.append(chunk)
        except OSError:
            pass
        finally:
            os.close(self._fd)

    def text(self):
        with self._lock:
            data = b"".join(self._chunks)
        return data.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# The worker process
# --------------------------------------------------------------------------

class WorkerProcess:
    """A running worker with its channel (fds 3/4) and payload channel (5/6).

    args: command line arguments for the worker.
    env_extra: environment overrides; a value of None removes the variable
        (e.g. {"MEDIASOUP_VERSION": None}).
    valgrind: True/False, or None to follow MEDIASOUP_USE_VALGRIND=true.
    missing_fds: child fds among 3..6 to leave closed (for start-up checks).
    """

    CHANNEL_FDS = (3, 4, 5, 6)

    def __init__(self, args=(), env_extra=None, valgrind=None, missing_fds=()):
        if valgrind is None:
            valgrind = valgrind_enabled_by_env()
        self.args = list(args)
        self.valgrind = bool(valgrind)
        self.scale = timeout_scale() * (VALGRIND_TIMEOUT_SCALE if self.valgrind else 1.0)
        self.returncode = None

        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._payload_send_lock = threading.Lock()
        self._next_id = 0

        self._responses = {}            # id -> response (channel)
        self.response_ids = []          # channel response ids, arrival order
        self._payload_responses = {}    # id -> response (payload channel)
        self.payload_response_ids = []  # payload channel response ids, arrival order
        self._notifications = []        # channel notifications not yet taken
        self.all_notifications = []     # every channel notification
        self.payload_notifications = []  # (notification dict, payload bytes)
        self._logs = []                 # (level char, text)
        self.protocol_errors = []       # malformed output from the worker
        self._channel_eof = False
        self._payload_eof = False
        self._checked = False  # stderr looked at for checker reports

        self._spawn(missing_fds, env_extra)

    # ----- spawning -------------------------------------------------------

    def _spawn(self, missing_fds, env_extra):
        argv = _build_argv(self.args, self.valgrind)
        env = _build_env(env_extra)

        ours = {}      # child fd -> our socket
        theirs = {}    # child fd -> high fd to dup2 in the child
        for fd in self.CHANNEL_FDS:
            if fd in missing_fds:
                continue
            mine, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            ours[fd] = mine
            theirs[fd] = _high_dup(child.fileno())
            child.close()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        out_w_hi, err_w_hi = _high_dup(out_w), _high_dup(err_w)
        os.close(out_w)
        os.close(err_w)

        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_w_hi, 1),
            (os.POSIX_SPAWN_DUP2, err_w_hi, 2),
        ]
        for fd in self.CHANNEL_FDS:
            if fd in theirs:
                actions.append((os.POSIX_SPAWN_DUP2, theirs[fd], fd))
            else:
                actions.append((os.POSIX_SPAWN_CLOSE, fd))
        try:
            self.pid = os.posix_spawn(
                argv[0], argv, env, file_actions=actions,
                setsigmask=(),
                setsigdef=[getattr(signal, s) for s in _DEFAULT_SIGNALS])
        finally:
            for fd in list(theirs.values()) + [out_w_hi, err_w_hi]:
                os.close(fd)
            if not hasattr(self, "pid"):
                for sock in ours.values():
                    sock.close()
                os.close(out_r)
                os.close(err_r)

        self._channel_eof = 4 not in ours
        self._payload_eof = 6 not in ours
        self._stdout = _Collector(out_r, "worker-stdout")
        self._stderr = _Collector(err_r, "worker-stderr")
        self._sock = ours  # child fd -> socket
        for fd in (3, 5):
            if fd in ours:
                # A worker that stops reading must not hang a test forever.
                ours[fd].settimeout(60 * self.scale)
        self._threads = [self._stdout.thread, self._stderr.thread]
        if 4 in ours:
            self._start_reader(ours[4], self._on_channel_message, "_channel_eof")
        if 6 in ours:
            self._start_reader(ours[6], self._payload_reader_state(), "_payload_eof")

    def _start_reader(self, sock, on_message, eof_attr):
        t = threading.Thread(target=self._read_loop, args=(sock, on_message, eof_attr),
                             name="worker-reader-%s" % eof_attr, daemon=True)
        t.start()
        self._threads.append(t)

    # ----- reading --------------------------------------------------------

    def _read_loop(self, sock, on_message, eof_attr):
        decoder = NetstringDecoder()
        try:
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    break
                for msg in decoder.feed(chunk):
                    on_message(msg)
        except NetstringError as exc:
            self._protocol_error("%s: %s" % (eof_attr, exc))
        except OSError:
            pass
        finally:
            with self._cond:
                setattr(self, eof_attr, True)
                self._cond.notify_all()

    def _protocol_error(self, text):
        with self._cond:
            self.protocol_errors.append(text)
            self._cond.notify_all()

    def _on_channel_message(self, msg):
        if msg[:1] == b"{":
            try:
                obj = json.loads(msg)
            except ValueError as exc:
                self._protocol_error("channel: bad JSON %r: %s" % (msg[:80], exc))
                return
            self._on_channel_json(obj, msg)
        elif msg[:1] in (b"D", b"W", b"E", b"X"):
            with self._cond:
                self._logs.append((chr(msg[0]), msg[1:].decode("utf-8", "replace")))
                self._cond.notify_all()
        else:
            self._protocol_error("channel: unexpected message %r" % msg[:80])

    def _on_channel_json(self, obj, raw):
        with self._cond:
            if isinstance(obj, dict) and "id" in obj:
                self._responses[obj["id"]] = obj
                self.response_ids.append(obj["id"])
            elif isinstance(obj, dict) and "targetId" in obj and "event" in obj:
                self._notifications.append(obj)
                self.all_notifications.append(obj)
            else:
                self.protocol_errors.append("channel: not a response nor a notification %r"
                                            % raw[:80])
            self._cond.notify_all()

    def _payload_reader_state(self):
        """Returns the fd 6 message handler: JSON, or JSON + payload pairs."""
        ongoing = []

        def on_message(msg):
            if ongoing:
                with self._cond:
                    self.payload_notifications.append((ongoing.pop(), msg))
                    self._cond.notify_all()
                return
            try:
                obj = json.loads(msg)
            except ValueError as exc:
                self._protocol_error("payload channel: bad JSON %r: %s" % (msg[:80], exc))
                return
            if isinstance(obj, dict) and "id" in obj:
                with self._cond:
                    self._payload_responses[obj["id"]] = obj
                    self.payload_response_ids.append(obj["id"])
                    self._cond.notify_all()
            elif isinstance(obj, dict) and "targetId" in obj and "event" in obj:
                ongoing.append(obj)
            else:
                self._protocol_error("payload channel: unexpected message %r" % msg[:80])

        return on_message

    # ----- waiting --------------------------------------------------------

    def _wait_for(self, check, timeout, what):
        """Waits until check() (called under the lock) returns non-None.

        Gives up early, with a WorkerError, once the worker's fd 4 has
        reached EOF and check() still fails.
        """
        deadline = time.monotonic() + timeout * self.scale
        with self._cond:
            while True:
                result = check()
                if result is not None:
                    return result
                if self._channel_eof and self._payload_eof:
                    raise WorkerError("worker gone while waiting for %s%s"
                                      % (what, self._diagnostics()))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkerError("timed out after %.1fs waiting for %s%s"
                                      % (timeout * self.scale, what, self._diagnostics()))
                self._cond.wait(min(remaining, 0.1))

    def _diagnostics(self):
        self.poll()
        state = "running" if self.returncode is None else "exit code %s" % self.returncode
        tail = self.stderr[-800:].strip()
        return " (worker %s; stderr: %s)" % (state, tail or "<empty>")

    def wait_notification(self, match, timeout=5):
        """Takes the first channel notification matching `match` (an event
        name or a predicate on the notification dict) and returns it."""
        pred = (lambda n: n.get("event") == match) if isinstance(match, str) else match

        def check():
            for i, n in enumerate(self._notifications):
                if pred(n):
                    return self._notifications.pop(i)
            return None
        return self._wait_for(check, timeout, "notification %r" % (match,))

    def wait_payload_notification(self, match, timeout=5):
        """Takes the first fd 6 notification matching `match` (an event name
        or a predicate on the notification dict); returns (dict, payload)."""
        pred = (lambda n: n.get("event") == match) if isinstance(match, str) else match

        def check():
            for i, (n, _) in enumerate(self.payload_notifications):
                if pred(n):
                    return self.payload_notifications.pop(i)
            return None
        return self._wait_for(check, timeout, "payload notification %r" % (match,))

    def wait_running(self, timeout=5):
        """Waits for the 'running' notification and returns it."""
        return self.wait_notification("running", timeout)

    def wait_log(self, match=None, since=0, timeout=2):
        """Returns the first log (level, text) at index >= since matching
        `match` (a string of level chars like "EW", or a predicate)."""
        if match is None:
            pred = lambda entry: True  # noqa: E731
        elif isinstance(match, str):
            pred = lambda entry: entry[0] in match  # noqa: E731
        else:
            pred = match

        def check():
            for entry in self._logs[since:]:
                if pred(entry):
                    return entry
            return None
        return self._wait_for(check, timeout, "log line %r" % (match,))

    def take_response_ids(self):
        """Returns (channel ids, payload channel ids) of the responses that
        arrived since the last call, in arrival order, and forgets them."""
        with self._cond:
            ids, payload_ids = self.response_ids, self.payload_response_ids
            self.response_ids, self.payload_response_ids = [], []
            return ids, payload_ids

    def discard_received(self):
        """Forgets the notifications and log lines received so far, so that
        a long run does not keep them all; returns how many logs there were.
        Log indexes (log_count(), since=) restart from 0."""
        with self._cond:
            count = len(self._logs)
            self._notifications.clear()
            self.all_notifications.clear()
            self.payload_notifications.clear()
            self._logs.clear()
            return count

    @property
    def logs(self):
        with self._cond:
            return list(self._logs)

    def log_count(self):
        with self._cond:
            return len(self._logs)

    def logs_since(self, index, levels=LOG_LEVELS):
        with self._cond:
            return [e for e in self._logs[index:] if e[0] in levels]

    # ----- channel (fds 3/4) ----------------------------------------------

    def next_id(self):
        with self._cond:
            self._next_id = self._next_id + 1 if self._next_id < 4294967295 else 1
            return self._next_id

    def encode_request(self, method, internal=None, data=None, request_id=None):
        """Returns (id, netstring bytes) for a channel request."""
        rid = self.next_id() if request_id is None else request_id
        req = {"id": rid, "method": method}
        if internal is not None:
            req["internal"] = internal
        if data is not None:
            req["data"] = data
        return rid, ns_encode(json.dumps(req, separators=(",", ":")))

    def send_raw(self, data):
        """Writes raw bytes on fd 3."""
        with self._send_lock:
            self._sock[3].sendall(data)

    def send_request(self, method, internal=None, data=None):
        """Sends a channel request without waiting; returns its id."""
        rid, raw = self.encode_request(method, internal, data)
        self.send_raw(raw)
        return rid

    def wait_response(self, rid, timeout=5):
        return self._wait_for(lambda: self._responses.pop(rid, None), timeout,
                              "response to request %s" % rid)

    def has_response(self, rid):
        with self._cond:
            return rid in self._responses

    def request(self, method, internal=None, data=None, timeout=5):
        """Sends a request and returns the response dict."""
        rid = self.send_request(method, internal, data)
        return self.wait_response(rid, timeout)

    def request_ok(self, method, internal=None, data=None, timeout=5):
        """Like request(), but raises RequestError unless accepted; returns
        the response's data (None when it has none)."""
        response = self.request(method, internal, data, timeout)
        if not response.get("accepted"):
            raise RequestError(method, response)
        return response.get("data")

    # ----- payload channel (fds 5/6) --------------------------------------

    def send_payload_raw(self, data):
        """Writes raw bytes on fd 5."""
        with self._payload_send_lock:
            self._sock[5].sendall(data)

    def payload_notify(self, event, internal=None, data=None, payload=b""):
        """Sends a payload channel notification (JSON netstring + payload)."""
        msg = {"event": event, "internal": internal or {}}
        if data is not None:
            msg["data"] = data
        self.send_payload_raw(
            ns_encode(json.dumps(msg, separators=(",", ":"))) + ns_encode(payload))

    def payload_request(self, method, internal=None, data=None, payload=b"", timeout=5):
        """Sends a payload channel request and returns its fd 6 response."""
        rid = self.next_id()
        msg = {"id": rid, "method": method, "internal": internal or {}}
        if data is not None:
            msg["data"] = data
        self.send_payload_raw(
            ns_encode(json.dumps(msg, separators=(",", ":"))) + ns_encode(payload))
        return self._wait_for(lambda: self._payload_responses.pop(rid, None), timeout,
                              "payload channel response to %s %s" % (method, rid))

    # ----- process control ------------------------------------------------

    def poll(self):
        """Reaps the process if it exited; returns the exit code or None.
        Death by signal N is reported as -N."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    @property
    def alive(self):
        return self.poll() is None

    def wait_exit(self, timeout=5):
        """Waits for the process to exit; returns its exit code, or raises
        WorkerError on timeout."""
        deadline = time.monotonic() + timeout * self.scale
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise WorkerError("worker %d still running after %.1fs"
                                  % (self.pid, timeout * self.scale))
            time.sleep(0.01)
        self._join_output()
        return self.returncode

    def kill_signal(self, sig):
        """Sends a signal to the worker (no-op once it exited)."""
        if self.poll() is None:
            os.kill(self.pid, sig)

    def close_fd(self, child_fd):
        """Closes our end of the socket mapped to the child's fd (3..6)."""
        sock = self._sock.get(child_fd)
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def close(self, timeout=5):
        """Sends worker.close, waits for the exit, closes our fds; returns
        the exit code (the process is killed if it does not exit)."""
        if self.poll() is None:
            try:
                self.send_request("worker.close")
            except OSError:
                pass
            try:
                self.wait_exit(timeout)
            except WorkerError:
                pass
        if self.poll() is None:
            # Closing fd 3 is the host going away: the worker must exit.
            self.close_fd(3)
            try:
                self.wait_exit(2)
            except WorkerError:
                self.kill_signal(signal.SIGKILL)
                self.wait_exit(5)
        self._close_all()
        return self.returncode

    def terminate(self):
        """Ends the worker if still running and releases everything: first
        as a host would (worker.close, then EOF on fd 3), so that valgrind
        and LeakSanitizer get to report, and SIGKILL if that fails."""
        if self.poll() is None:
            self.close(timeout=2)
        self._close_all()

    def _close_all(self):
        for fd in list(self._sock):
            self.close_fd(fd)
        self._join_output()

    def _join_output(self):
        for t in self._threads:
            t.join(timeout=2)
        if self.returncode is not None and not self._checked:
            self._checked = True
            report = checker_report(self.stderr, self.valgrind)
            if report:
                CHECKER_REPORTS.append("worker %s (pid %d, exit %s):\n%s"
                                       % (" ".join(self.args) or "<no args>", self.pid,
                                          self.returncode, report))

    @property
    def stdout(self):
        return self._stdout.text()

    @property
    def stderr(self):
        return self._stderr.text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.terminate()
        return False


# --------------------------------------------------------------------------
# Helpers for tests
# --------------------------------------------------------------------------

_LEAK_RE = re.compile(r"(definitely|indirectly) lost: ([\d,]+) bytes")


def valgrind_problems(stderr_text):
    """What the report of a worker run under valgrind (memcheck) says is
    wrong, as texts: errors, definitely or indirectly lost bytes, or no
    final ERROR SUMMARY at all (valgrind did not get to the end)."""
    counts = _VALGRIND_ERRORS_RE.findall(stderr_text)
    if not counts:
        return ["no valgrind ERROR SUMMARY (killed before the end?)"]
    problems = []
    errors = sum(int(n.replace(",", "")) for n in counts)
    if errors:
        problems.append("valgrind found %d errors" % errors)
    for kind, amount in sorted(valgrind_leaks(stderr_text).items()):
        if amount:
            problems.append("%s lost: %d bytes" % (kind, amount))
    return problems


def checker_report(stderr_text, valgrind=False):
    """The part of a worker's stderr in which a sanitizer (or, for a worker
    run under valgrind, valgrind) reports an error or a leak; "" when it
    reports none."""
    match = _SANITIZER_RE.search(stderr_text)
    if match:
        start = stderr_text.rfind("\n", 0, max(0, match.start() - 200)) + 1
        return stderr_text[start:start + 6000]
    if valgrind:
        problems = valgrind_problems(stderr_text)
        if problems:
            return "%s\n%s" % ("; ".join(problems), stderr_text[-6000:])
    return ""


def valgrind_leaks(stderr_text):
    """Returns {"definitely": bytes, "indirectly": bytes} from a valgrind
    leak summary (empty when there is none, e.g. no leaks possible)."""
    found = {}
    for kind, amount in _LEAK_RE.findall(stderr_text):
        found[kind] = found.get(kind, 0) + int(amount.replace(",", ""))
    return found


def make_cert_pair(directory, name="dtls"):
    """Creates a self-signed EC certificate and key with the openssl CLI;
    returns (cert_path, key_path)."""
    import subprocess
    cert = os.path.join(directory, name + "-cert.pem")
    key = os.path.join(directory, name + "-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=test", "-days", "1",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return cert, key
