"""covered.py: how soon a task whose n the digit store already covers is
done, idle and while a large computation runs, against a plain request.

    python3 bench/covered.py [--tasks 200] [--store 100000]

Starts a stack (tests/integration/harness.py) with a worker, lets it compute
the store to --store decimals (one task for that n), then submits --tasks
tasks one at a time, with n the store covers. For each it times, on one
keep-alive connection through nginx, the POST /api/tasks and the long polls
(GET /api/tasks?since=V) that follow until one shows the task done: that is
the done-latency a page sees. Right after, the same connection times a plain
GET /api/tasks/{id}: the peer of the same run, so that the figure reads
"done-latency = X x a plain request". It also prints the server's own view,
finished_at - created_at of the task (whole ms). Then the same again while a
large computation runs (a task for --big decimals, the next size up when it
ends before the tasks are through; only tasks both started and finished while
it ran are counted). Figures go to stdout, and to $BENCH_SUMMARY for
bench/run.sh's table. Exits 0 when it ran, 1 when it could not.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Stack  # noqa: E402

SECTION = "covered-task latency"
TARGET_P99_MS = 50.0
SAMPLE_TIMEOUT = 10.0


def figure(name, value, target="", verdict=""):
    """Adds one line to bench/run.sh's summary table."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((SECTION, name, value, target, verdict)) + "\n")


class BenchError(Exception):
    """The section cannot run."""


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    return v[max(1, -(-p * len(v) // 100)) - 1]


def iso_ms(s):
    """ms since the epoch of "2026-11-24T10:55:26.123Z"."""
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000


class Client:
    """One keep-alive HTTP/1.1 connection to nginx."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, obj=None):
        """Returns (status, parsed JSON); reconnects once if nginx closed
        the connection between requests."""
        body = json.dumps(obj) if obj is not None else None
        headers = {"Content-Type": "application/json"} if body else {}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return r.status, json.loads(data) if data else None
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_status(c, task_id, want, timeout):
    """Polls a task until its status is in want; returns it or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st, t = c.call("GET", "/api/tasks/%d" % task_id)
        if st == 200 and t["status"] in want:
            return t
        time.sleep(0.05)
    return None


def sample(c, n, version):
    """Submits n and long-polls until it is done. Returns (done ms, plain
    GET ms, server ms, last version), or None on a timeout."""
    t0 = time.perf_counter()
    st, t = c.call("POST", "/api/tasks", {"n": n})
    if st != 201:
        raise BenchError("POST /api/tasks answered %d: %r" % (st, t))
    task_id = t["id"]
    deadline = time.monotonic() + SAMPLE_TIMEOUT
    done = t if t["status"] == "done" else None
    while done is None:
        if time.monotonic() > deadline:
            return None
        st, body = c.call("GET", "/api/tasks?since=%d" % version)
        if st != 200:
            raise BenchError("GET /api/tasks?since=%d answered %d: %r"
                             % (version, st, body))
        version = body["version"]
        for x in body["tasks"]:
            if x["id"] == task_id and x["status"] != "queued":
                if x["status"] != "done":
                    raise BenchError("task %d ended %s: %r"
                                     % (task_id, x["status"], x))
                done = x
    t_done = time.perf_counter()
    st, t = c.call("GET", "/api/tasks/%d" % task_id)
    t_plain = time.perf_counter()
    if st != 200 or t["status"] != "done" or t["digit"] is None:
        raise BenchError("GET /api/tasks/%d after done: %d %r"
                         % (task_id, st, t))
    server = iso_ms(done["finished_at"]) - iso_ms(done["created_at"])
    return ((t_done - t0) * 1000, (t_plain - t_done) * 1000, server, version)


def report(label, samples, timeouts):
    """Prints the figures of one phase and adds them to the summary."""
    if not samples:
        print("%s: no samples" % label)
        figure(label + ": done-latency", "no samples", "", "NOT met")
        return
    done = [x[0] for x in samples]
    plain = [x[1] for x in samples]
    server = [x[2] for x in samples]
    r50 = pct(done, 50) / pct(plain, 50)
    r99 = pct(done, 99) / pct(plain, 99)
    ok = pct(done, 99) <= TARGET_P99_MS and not timeouts
    print("%s: %d tasks (%d not done within %g s)" % (
        label, len(samples), timeouts, SAMPLE_TIMEOUT))
    for name, v in (("POST -> seen done", done),
                    ("plain GET /api/tasks/{id}", plain),
                    ("server: finished - created", server)):
        print("  %-28s p50 %7.2f  p99 %7.2f  max %7.2f ms" % (
            name, pct(v, 50), pct(v, 99), max(v)))
    print("  done-latency = %.1f x a plain request at p50, %.1f x at p99; "
          "target p99 <= %g ms: %s" % (r50, r99, TARGET_P99_MS,
                                       "met" if ok else "NOT met"))
    figure(label + ": p50 / p99 / max",
           "%.1f / %.1f / %.1f ms" % (pct(done, 50), pct(done, 99),
                                      max(done)),
           "p99 <= %g ms" % TARGET_P99_MS, "met" if ok else "NOT met")
    figure(label + ": / plain GET at p50, p99",
           "%.1fx, %.1fx (plain %.2f, %.2f ms)" % (
               r50, r99, pct(plain, 50), pct(plain, 99)), "", "")
    figure(label + ": server p99, timeouts",
           "%.0f ms, %d of %d" % (pct(server, 99), timeouts,
                                  len(samples) + timeouts), "", "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--store", type=int, default=100000)
    ap.add_argument("--big", type=int, nargs="+",
                    default=[5000000, 10000000])
    a = ap.parse_args()
    rng = random.Random(4)
    try:
        with Stack(children=4, threads=300, n_max=max(a.big),
                   nginx_workers=os.cpu_count() or 1,
                   label="covered-task stack") as s:
            c = Client(s.port)
            t0 = time.monotonic()
            st, t = c.call("POST", "/api/tasks", {"n": a.store})
            if st != 201 or not wait_status(c, t["id"], ("done",), 300):
                raise BenchError("the store did not reach %d decimals"
                                 % a.store)
            print("store: %d decimals in %.1f s" % (
                os.path.getsize(s.store_path) - 1, time.monotonic() - t0))
            version = c.call("GET", "/api/tasks?limit=1")[1]["version"]

            samples, timeouts = [], 0
            for _ in range(a.tasks):
                r = sample(c, rng.randint(1, a.store), version)
                if r is None:
                    timeouts += 1
                    continue
                samples.append(r[:3])
                version = r[3]
            report("idle", samples, timeouts)
            sys.stdout.flush()

            # While a large computation runs: count only tasks that began
            # and ended while the big task was running.
            samples, timeouts, outside, bigs = [], 0, 0, list(a.big)
            big = None
            while len(samples) + timeouts < a.tasks:
                if big is None or c.call(
                        "GET", "/api/tasks/%d" % big)[1]["status"] \
                        != "running":
                    if not bigs:
                        break
                    n = bigs.pop(0)
                    st, t = c.call("POST", "/api/tasks", {"n": n})
                    if st != 201:
                        raise BenchError("POST n=%d answered %d" % (n, st))
                    big = t["id"]
                    if not wait_status(c, big, ("running",), 60):
                        raise BenchError("the task for n=%d did not start"
                                         % n)
                    print("large computation: n=%d (task %d) running" %
                          (n, big))
                    version = c.call("GET",
                                     "/api/tasks?limit=1")[1]["version"]
                r = sample(c, rng.randint(1, a.store), version)
                still = c.call("GET", "/api/tasks/%d" % big)[1]
                if still["status"] != "running":
                    outside += 1
                    continue
                if r is None:
                    timeouts += 1
                    continue
                samples.append(r[:3])
                version = r[3]
            print("  (%d tasks not counted: the large computation ended "
                  "while they ran)" % outside)
            report("big n running", samples, timeouts)
            if len(samples) + timeouts < a.tasks:
                print("  only %d of %d tasks ran while a large computation "
                      "ran" % (len(samples) + timeouts, a.tasks))
            if big is not None:
                c.call("POST", "/api/tasks/%d/cancel" % big)
            c.close()
    except BenchError as e:
        print("covered.py: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
