"""A short tour of the worker: spawn it, create a router, show what it
reports, close it. Run by scripts/demo.sh."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WorkerProcess, worker_bin  # noqa: E402


def show(title, value):
    print("== %s" % title)
    print(json.dumps(value, indent=2, sort_keys=True))


def main():
    print("worker binary: %s" % worker_bin())
    with WorkerProcess(["--logLevel=warn"]) as worker:
        running = worker.wait_running()
        print("worker running, pid %s" % running["targetId"])
        worker.request_ok("worker.createRouter", {"routerId": "demo-router"})
        show("router.dump", worker.request_ok("router.dump", {"routerId": "demo-router"}))
        show("worker.getResourceUsage", worker.request_ok("worker.getResourceUsage"))
        code = worker.close()
        print("worker exit code: %s" % code)
        for level, text in worker.logs:
            print("worker log %s: %s" % (level, text))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
