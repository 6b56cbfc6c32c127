"""test_worker_faults.py: the worker under a backlog and when its own steps
fail: it stops on SIGTERM however busy it is, and on SIGHUP as on SIGTERM
(unless started with SIGHUP ignored, as nohup does), keeps the running set
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
from harness import Stack, reference_digits, wait_for

check = tap.check
REF = reference_digits()


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


def hup(action):
    """A preexec_fn that starts the worker with SIGHUP's action set to
    action, whatever the tests were started with."""
    return lambda: signal.signal(signal.SIGHUP, action)


def computing(s, tid):
    """Whether task tid is running in the worker's compute child."""
    return s.worker_children() and s.sql(
        "SELECT status FROM tasks WHERE id = ?", (tid,)) == [("running",)]


def test_sighup():
    """A hangup (the terminal the worker runs in closes, or kill -HUP)
    stops the worker as SIGTERM does: within 2 s, with the task it was
    computing put back in the queue. A worker started with SIGHUP ignored
    (nohup) carries on."""
    label = "sighup"
    n = 5000000
    with Stack(n_max=10**7, label=label + " stack") as s:
        s.stop_worker()
        s.start_worker(preexec_fn=hup(signal.SIG_DFL))
        st, t = s.api_create(n)
        if not check("%s: a task of n=%d is accepted" % (label, n),
                     st == 201, st):
            return
        tid = t["id"]
        if not check("%s: it runs in a compute child" % label,
                     wait_for(lambda: computing(s, tid), 30)):
            return
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = s.stop_worker(signal.SIGHUP, timeout=10)
        secs = time.monotonic() - t0
        tap.diag("worker_sighup_ms=%.0f" % (secs * 1000))
        check("%s: the worker exits within 2 s of SIGHUP (%.2f s), status 0"
              % (label, secs), rc == 0 and secs <= 2, (rc, secs))
        rows = s.sql("SELECT status, lease_until, started_at FROM tasks "
                     "WHERE id = ?", (tid,))
        check("%s: the task is back in the queue (queued, no lease, no "
              "start time)" % label, rows == [("queued", None, None)], rows)
        check("%s: the worker's log says so" % label,
              log_lines(s, r"put 1 running task back in the queue"),
              log_lines(s, r"warn|error|stopping"))

        s.start_worker(preexec_fn=hup(signal.SIG_IGN))
        if not check("%s: a worker started with SIGHUP ignored takes the "
                     "task up again" % label,
                     wait_for(lambda: computing(s, tid), 30)):
            return
        p = s.worker
        p.send_signal(signal.SIGHUP)
        t = s.wait_task(tid, timeout=120)
        check("%s: it carries on after a SIGHUP, as nohup asks: the task "
              "finishes done" % label,
              p.poll() is None and t["status"] == "done", (p.poll(), t))


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


def store_digit(s, n):
    """Decimal n of the digit store, as a one-character string."""
    with open(s.store_path, "rb") as f:
        f.seek(n)
        return f.read(1).decode()


def test_running_set_bounded():
    """600 tasks that need a computation: at most 256 turn running at once
    (the rest stay queued), their leases never lapse, and all finish. Prints
    how fast the queue version moves while they wait."""
    label = "bounded"
    with Stack(n_max=10**7, label=label + " stack") as s:
        base = 8000000
        insert_tasks(s, [base + i for i in range(600)])
        t0 = time.monotonic()
        most, lapsed, samples, during = 0, [], [], []
        deadline = t0 + 240
        while time.monotonic() < deadline:
            now = now_ms()
            (running, queued, done, expired, version,
             progress) = s.sql(
                "SELECT sum(status = 'running'), sum(status = 'queued'), "
                "sum(status = 'done'), sum(status = 'running' AND "
                "lease_until < ?), (SELECT version FROM queue_state), "
                "max(CASE WHEN status = 'running' THEN progress END) "
                "FROM tasks", (now - 500,))[0]
            samples.append((time.monotonic() - t0, running, queued, done,
                            version, progress))
            most = max(most, running or 0)
            if expired:
                lapsed.append((time.monotonic() - t0, expired))
            if running and s.worker_children():
                during.append((time.monotonic(), version, progress))
            if done == 600:
                break
            time.sleep(0.1)
        secs = time.monotonic() - t0
        tap.diag("%s: all 600 done in %.1f s; at most %d running at once"
                 % (label, secs, most))
        check("%s: at most 256 tasks are running at once (%d)" %
              (label, most), 0 < most <= 256, samples[-5:])
        check("%s: the others wait queued meanwhile" % label,
              any(r == 256 and q == 600 - 256 - d
                  for _, r, q, d, _, _ in samples), samples[:5])
        check("%s: no running task's lease lapses" % label, not lapsed,
              lapsed[:5])
        rows = s.sql("SELECT n, status, digit FROM tasks")
        bad = [r for r in rows if r[1] != "done" or
               str(r[2]) != store_digit(s, r[0])]
        check("%s: all 600 finish done with the store's digit" % label,
              len(rows) == 600 and not bad, bad[:5])
        if len(during) >= 2:
            span = during[-1][0] - during[0][0]
            bumps = during[-1][1] - during[0][1]
            tap.diag("%s: while computing, the queue version moved %.0f "
                     "a second (%d in %.1f s)" % (
                         label, bumps / span if span else 0, bumps, span))
        computes = computations(s)
        tap.diag("%s: %d computations: %r" % (label, len(computes),
                                              computes))


def computations(s):
    """The worker's log lines that start a computation."""
    return log_lines(s, r"compute: child \d+ computes")


class WriteLock:
    """Holds the database's write lock (BEGIN IMMEDIATE) from another
    connection, as a slow writer would."""

    def __init__(self, s):
        self.c = sqlite3.connect(s.db_path, timeout=10,
                                 isolation_level=None)
        self.c.execute("BEGIN IMMEDIATE")

    def release(self):
        self.c.execute("ROLLBACK")
        self.c.close()


def test_finish_fails_under_lock():
    """The transaction that finishes the tasks of a computation fails (the
    write lock is held elsewhere for seconds): the digits are in the
    store, so the worker tries the finish again later and does not start
    the same computation over."""
    label = "locked finish"
    with Stack(n_max=10**7, label=label + " stack") as s:
        n = 2000000
        st, t = s.api_create(n)
        if not check("%s: a task of n=%d is accepted" % (label, n),
                     st == 201, st):
            return
        if not check("%s: it is computed" % label,
                     wait_for(s.worker_children, 30)):
            return
        lock = WriteLock(s)
        try:
            grown = wait_for(lambda: os.path.exists(s.store_path) and
                             os.path.getsize(s.store_path) > n, 120)
            if not check("%s: the computation ends and writes the store "
                         "while the lock is held" % label, grown):
                return
            # Each of the worker's transactions waits 1 s for the lock,
            # three times, so it sees the end a few seconds late.
            failed = wait_for(lambda: log_lines(
                s, r"finishing tasks failed \d+ times"), 30, 0.1)
            # Long enough for the loop to come round to a computation
            # again, through two more transactions that wait for the lock.
            computes = wait_for(lambda: (lambda c: c if len(c) > 1 else
                                         None)(computations(s)), 8, 0.1)
            computes = computations(s)
        finally:
            lock.release()
        check("%s: the finish failed while the lock was held" % label,
              failed, log_lines(s, r"warn|error"))
        check("%s: no computation starts again meanwhile" % label,
              len(computes) == 1, computes)
        t = s.wait_task(t["id"], timeout=30)
        check("%s: once the lock is free the task finishes from the store"
              % label, t["status"] == "done" and
              t["digit"] == store_digit(s, n), t)
        computes = computations(s)
        check("%s: the digits were computed once" % label,
              len(computes) == 1, computes)


def test_failed_computation_settles_first():
    """A computation fails (the store cannot be written: RLIMIT_FSIZE) and
    the transaction that fails its task cannot run (the write lock is held
    elsewhere): the worker tries the failure again later, backs off, and
    does not compute the same thing over and over meanwhile."""
    label = "failing computation"
    limit = 512 * 1024

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with Stack(n_max=10**7, label=label + " stack") as s:
        s.stop_worker()
        s.start_worker(preexec_fn=small_files)
        n = 1000000
        st, t = s.api_create(n)
        if not check("%s: a task of n=%d is accepted" % (label, n),
                     st == 201, st):
            return
        if not check("%s: it is computed" % label,
                     wait_for(s.worker_children, 30)):
            return
        lock = WriteLock(s)
        try:
            ended = wait_for(lambda: not s.worker_children(), 60)
            if not check("%s: the computation ends while the lock is held"
                         % label, ended):
                return
            failed = wait_for(lambda: log_lines(
                s, r"failing tasks failed \d+ times"), 30, 0.1)
            # Past its back-off (1 s), only the unsettled task holds the
            # next computation back.
            computes = wait_for(lambda: (lambda c: c if len(c) > 1 else
                                         None)(computations(s)), 8, 0.1)
            computes = computations(s)
            kids = s.worker_children()
        finally:
            lock.release()
        check("%s: failing the task failed while the lock was held" %
              label, failed, log_lines(s, r"warn|error"))
        check("%s: no computation starts again while its task waits to be "
              "failed" % label, len(computes) == 1 and not kids,
              (computes, kids))
        t = s.wait_task(t["id"], timeout=30)
        check("%s: once the lock is free the task ends in error, saying "
              "why" % label, t["status"] == "error" and
              "Could not save the digits" in (t["error"] or ""), t)
        check("%s: the worker backs off before its next computation" %
              label, log_lines(s, r"next computation starts in 1000 ms"))
        computes = computations(s)
        check("%s: it was computed once" % label, len(computes) == 1,
              computes)


def run():
    for fn in (test_sigterm_with_backlog, test_sighup, test_temp_files,
               test_running_set_bounded, test_finish_fails_under_lock,
               test_failed_computation_settles_first):
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
