"""test_faults.py: nothing is lost when a part of nthpi dies or cannot write,
and the service keeps its promises under load.

(a) the worker SIGKILLed during a computation: its compute child dies with
    it; the restarted worker, holding the data directory's lock, claims the
    task again at once (not when a lease lapses) and it finishes exactly
    once; a second worker on the same directory is refused;
(b) the worker stopped with SIGTERM: it exits within 2 s and puts the task
    back in the queue;
(c) a FastCGI child, then the publisher, SIGKILLed while long polls are
    held by nginx: the master replaces each, no held poll ends, and all get
    the next change;
(d) nginx, nthpi-fcgi and nthpi-worker all SIGKILLed during a burst of
    submissions: the database is intact and every acknowledged task is
    there and finishes;
(e) the digit store cannot be replaced: the task ends in error with a clear
    sentence and the old store is still served;
(f) 1,000 concurrent submissions through nginx: 1,000 tasks, all done, no
    5xx.
"""

import hashlib
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import threading
import time

import tap
from harness import BUILD, Stack, reference_digits
from pages import decimals_shown

check = tap.check
REF = reference_digits()


def row(s, tid):
    """The task's row as a dict (None if there is none)."""
    rows = s.sql("SELECT id, n, status, digit, error, attempts, started_at, "
                 "finished_at, lease_until FROM tasks WHERE id = ?", (tid,))
    if not rows:
        return None
    return dict(zip(("id", "n", "status", "digit", "error", "attempts",
                     "started_at", "finished_at", "lease_until"), rows[0]))


def wait_for(what, cond, timeout, step=0.02):
    """Polls cond() until it returns something true; returns that, or the
    last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def wait_computing(s, tid, timeout=30):
    """Waits until task tid is running and the worker has a compute child.
    Returns the child's pid or None."""
    def computing():
        r = row(s, tid)
        kids = s.worker_children()
        return kids[0] if r and r["status"] == "running" and kids else None
    return wait_for("computing", computing, timeout)


def now_ms():
    """The wall clock in ms since the epoch, as the database keeps time."""
    return int(time.time() * 1000)


def alive(pid):
    """Whether pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def done_lines(s, tid):
    """The worker's log lines that finish task tid with a digit."""
    with open(s.worker_log, errors="replace") as f:
        return [l for l in f if re.search(r"task %d: decimal \d+ is \d" % tid,
                                          l)]


def store_ok(s, decimals):
    """Whether the store starts with "3" and the reference decimals and
    holds at least `decimals` decimals, digits only."""
    with open(s.store_path, "rb") as f:
        data = f.read()
    return (len(data) >= decimals + 1 and data[:len(REF)] ==
            REF[:len(data)].encode() and data[1:].isdigit(), len(data) - 1)


def test_worker_sigkill():
    """(a) The worker is SIGKILLed (the worker alone, not its process group)
    during a computation."""
    n = 5000000
    with Stack(n_max=10**7, label="sigkill stack") as s:
        st, t = s.api_create(n)
        if not check("(a) a task of n=%d is accepted" % n, st == 201, st):
            return
        tid = t["id"]
        child = wait_computing(s, tid)
        if not check("(a) the task runs in a compute child", child, row(s, tid)):
            return
        time.sleep(0.3)
        old_pgid = s.worker.pid
        s.stop_worker(signal.SIGKILL, group=False)
        t_kill = time.monotonic()
        gone = wait_for("child gone", lambda: not alive(child), 5)
        check("(a) the compute child dies with its SIGKILLed worker "
              "(within %.1f s)" % (time.monotonic() - t_kill), gone,
              "child %d still runs" % child)
        if not gone:
            try:
                os.killpg(old_pgid, signal.SIGKILL)
            except OSError:
                pass
        dead = row(s, tid)
        check("(a) the task of the dead worker still shows running, with "
              "its lease", dead["status"] == "running" and
              dead["lease_until"] and dead["attempts"] == 1, dead)
        s.start_worker()
        t_start = now_ms()
        # The new worker holds the data directory's lock, so the running
        # task is a dead worker's: claimed again at once, not when its
        # lease (10 s) lapses.
        r = wait_for("claimed again", lambda: (lambda x: x if x["attempts"]
                     >= 2 else None)(row(s, tid)), 30)
        check("(a) the restarted worker claims the task again at once, "
              "before its old lease would have lapsed",
              r and r["status"] in ("running", "done") and
              r["started_at"] < dead["lease_until"] and
              r["started_at"] - t_start < 3000, (dead, r, t_start))
        # A second worker on the same data directory is refused.
        argv = [os.path.join(BUILD, "nthpi-worker"),
                "--data=" + s.data_dir] + s.worker_args
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=10)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            # It ran as a second worker (run() has killed it).
            rc, err = None, "still running after 10 s"
        check("(a) a second worker on the same data directory exits 1, "
              "naming the first",
              rc == 1 and "another nthpi-worker (pid %d)" %
              s.worker.pid in err and s.worker.poll() is None, (rc, err))
        t = s.wait_task(tid, timeout=120)
        r = row(s, tid)
        check("(a) the task finishes done on its second attempt",
              t["status"] == "done" and t["digit"] is not None and
              r["attempts"] == 2 and r["lease_until"] is None, (t, r))
        check("(a) it is finished exactly once (one 'decimal n is d' line "
              "in the worker's log)", len(done_lines(s, tid)) == 1,
              done_lines(s, tid))
        check("(a) no task is left running",
              s.sql("SELECT count(*) FROM tasks WHERE status = 'running'")
              [0][0] == 0)
        ok, have = store_ok(s, n)
        check("(a) the store holds the %d decimals, a prefix of pi" % n,
              ok, have)


def test_worker_sigterm():
    """(b) The worker gets SIGTERM during a computation."""
    n = 5000000
    with Stack(n_max=10**7, label="sigterm stack") as s:
        st, t = s.api_create(n)
        st2, t2 = s.api_create(n + 1)
        if not check("(b) two tasks are accepted", st == 201 and st2 == 201,
                     (st, st2)):
            return
        tid = t["id"]
        child = wait_computing(s, tid)
        if not check("(b) the task runs in a compute child", child,
                     row(s, tid)):
            return
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = s.stop_worker(signal.SIGTERM, timeout=10)
        secs = time.monotonic() - t0
        tap.diag("worker_sigterm_ms=%.0f" % (secs * 1000))
        check("(b) the worker exits within 2 s of SIGTERM (%.2f s), "
              "status 0" % secs, secs <= 2 and rc == 0, (secs, rc))
        check("(b) its compute child is gone with it", not alive(child),
              child)
        rows = [row(s, tid), row(s, t2["id"])]
        check("(b) both running tasks are back in the queue (queued, no "
              "lease, no start time)", all(
                  r["status"] == "queued" and r["lease_until"] is None and
                  r["started_at"] is None for r in rows), rows)
        s.start_worker()
        t = s.wait_task(tid, timeout=120)
        t2 = s.wait_task(t2["id"], timeout=60)
        r = row(s, tid)
        check("(b) after a restart the tasks finish done, the first on its "
              "second attempt", t["status"] == "done" and
              t2["status"] == "done" and r["attempts"] == 2, (t, t2, r))
        check("(b) each is finished exactly once",
              len(done_lines(s, tid)) == 1 and
              len(done_lines(s, t2["id"])) == 1)


class Poll(threading.Thread):
    """A long poll through nginx; keeps its status (or the exception)."""

    def __init__(self, s, since):
        super().__init__(daemon=True)
        self.s, self.since = s, since
        self.status = self.body = self.error = None
        self.start()

    def run(self):
        try:
            self.status, _, self.body = self.s.api(
                "GET", "/api/tasks?since=%d" % self.since, timeout=40)
        except Exception as e:
            self.error = e


def test_fcgi_child_killed():
    """(c) A FastCGI child, then the publisher, is SIGKILLed while long polls
    are held and short requests keep coming. nginx holds the polls (Nchan),
    so none of them is lost with a process of the app."""
    with Stack(worker=False, children=2, threads=16, hold_seconds=20,
               label="fcgi child kill stack") as s:
        kids = s.fcgi_children()
        if not check("(c) nthpi-fcgi runs 2 children and a publisher",
                     len(kids) == 2 and s.fcgi_publisher(), kids):
            return
        version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        polls = [Poll(s, version) for _ in range(12)]
        chan = "l%d" % version
        held = wait_for("held", lambda: (s.channel_info(chan) or {}).get(
            "subscribers") == 12, 10)
        if not check("(c) the 12 long polls are held by nginx",
                     held, s.channel_info(chan)):
            return
        victim = kids[0]
        other = kids[1]

        results = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    st = s.request("GET", "/api/tasks?limit=5")[0]
                except OSError as e:
                    st = repr(e)
                results.append((t0, time.monotonic(), st))

        threads = [threading.Thread(target=hammer, daemon=True)
                   for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t_kill = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        dead = wait_for("dead", lambda: not alive(victim), 5, 0.001)
        # The test sees the death only once the master has reaped the
        # child, a few ms after the kill: a request in flight at any
        # moment between the two may have been the dying child's.
        t_dead = time.monotonic()
        now = wait_for("replaced", lambda: (lambda c: c if len(c) == 2 and
                       victim not in c else None)(s.fcgi_children()), 5)
        check("(c) the master replaces the killed child within 5 s",
              dead and now and other in now, (victim, now))
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(10)

        for p in polls:
            p.join(0.05)
        cut = [p for p in polls if not p.is_alive()]
        check("(c) no long poll ended with the child", not cut,
              [(p.status, p.error) for p in cut])
        # The publisher too: the master starts another, which goes on from
        # where the first stopped.
        pub = s.fcgi_publisher()
        os.kill(pub, signal.SIGKILL)
        again = wait_for("publisher", lambda: (lambda q: q if q and q != pub
                         else None)(s.fcgi_publisher()), 5)
        check("(c) a killed publisher is replaced within 5 s", again,
              (pub, again))
        st, t = s.api_create(7)
        for p in polls:
            p.join(10)
        check("(c) all 12 long polls are answered 200 with the new task",
              st == 201 and all(
                  p.status == 200 and t["id"] in
                  [x["id"] for x in p.body.get("tasks", [])]
                  for p in polls),
              [(p.status, p.error, p.body) for p in polls][:3])

        during = [r for r in results if r[0] < t_dead and r[1] > t_kill]
        after = [r for r in results if r[0] >= t_dead]
        failed = [r for r in results if r[2] != 200]
        tap.diag("short requests: %d in all, %d in flight while the child "
                 "died (%.1f ms from kill to reaped), %d after it, %d "
                 "failed: %r" % (
                     len(results), len(during), (t_dead - t_kill) * 1000,
                     len(after), len(failed),
                     sorted({str(r[2]) for r in failed})))
        check("(c) every short request that failed was in flight when the "
              "child died, and failed with 502",
              all(r in during and r[2] == 502 for r in failed), failed[:5])
        check("(c) every short request sent after the child died succeeded "
              "(%d)" % len(after), after and all(r[2] == 200 for r in after),
              [r for r in after if r[2] != 200][:5])
        kids_now = s.fcgi_children()
        ok = [s.request("GET", "/")[0] for _ in range(10)]
        check("(c) pages are served by both children afterwards",
              all(x == 200 for x in ok) and len(kids_now) == 2, ok)


def test_kill_everything():
    """(d) SIGKILL to nginx, nthpi-fcgi (master and children) and the worker
    (and its compute child) at once, in the middle of a burst of form and
    API submissions."""
    with Stack(n_max=10**6, children=2, threads=16,
               label="power cut stack") as s:
        # A distinct n for each submission: a 303 names no task, so the n
        # is what shows that the task it acknowledged is there.
        ns = random.Random(5).sample(range(1, 10**6 + 1), 20000)
        lock = threading.Lock()
        acked_api, acked_form, other = {}, set(), []
        stop = threading.Event()
        t_kill = [None]

        def submit(form):
            csrf = s.get_csrf() if form else None
            while not stop.is_set():
                with lock:
                    n = ns.pop()
                t0 = time.monotonic()
                try:
                    if form:
                        st, h, _ = s.submit_form(n, csrf=csrf)
                    else:
                        st, h, body = s.api("POST", "/api/tasks", {"n": n})
                except Exception as e:
                    st, h, body = repr(e), {}, None
                with lock:
                    if form and st == 303:
                        acked_form.add(n)
                    elif not form and st == 201:
                        acked_api[n] = (body["id"], h.get("location", ""))
                    else:
                        other.append((t0, time.monotonic(), st))

        threads = [threading.Thread(target=submit, args=(i % 2 == 0,),
                                    daemon=True) for i in range(8)]
        for t in threads:
            t.start()
        # Two seconds into the burst, and at least 100 acknowledged (an
        # ASan build on a busy machine takes longer to get there).
        t_start = time.monotonic()
        while time.monotonic() - t_start < 20:
            with lock:
                acked = len(acked_api) + len(acked_form)
            if acked > 100 and time.monotonic() - t_start >= 2.0:
                break
            time.sleep(0.05)
        running = s.sql("SELECT count(*) FROM tasks WHERE status = "
                        "'running'")[0][0]
        t_kill[0] = time.monotonic()
        s.kill_all(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(30)
        before = [o for o in other if o[1] < t_kill[0]]
        tap.diag("acknowledged before the kill: %d by the API (201), %d by "
                 "the form (303); %d tasks were running; %d requests got "
                 "no acknowledgement: %r" % (
                     len(acked_api), len(acked_form), running, len(other),
                     sorted({str(o[2])[:60] for o in other})))
        check("(d) the burst was under way: over 100 submissions "
              "acknowledged", len(acked_api) + len(acked_form) > 100,
              (len(acked_api), len(acked_form)))
        check("(d) nothing was refused before the kill", not before,
              before[:5])

        s.restart()
        check("(d) PRAGMA integrity_check is ok after the restart",
              s.sql("PRAGMA integrity_check") == [("ok",)],
              s.sql("PRAGMA integrity_check"))
        rows = s.sql("SELECT id, n FROM tasks")
        by_n = {}
        for tid, n in rows:
            by_n.setdefault(n, []).append(tid)
        check("(d) no submission was stored twice",
              all(len(v) == 1 for v in by_n.values()),
              [(n, v) for n, v in by_n.items() if len(v) > 1][:5])
        lost = [(n, tid, loc) for n, (tid, loc) in acked_api.items()
                if by_n.get(n) != [tid] or
                not loc.endswith("/api/tasks/%d" % tid)]
        check("(d) every task answered 201 is there with its id and "
              "Location (%d)" % len(acked_api), not lost, lost[:10])
        lost = [n for n in acked_form if n not in by_n]
        check("(d) every task answered 303 is there (%d)" % len(acked_form),
              not lost, lost[:10])

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            left = s.sql("SELECT count(*) FROM tasks WHERE status IN "
                         "('queued', 'running')")[0][0]
            if left == 0:
                break
            time.sleep(0.2)
        counts = dict(s.sql("SELECT status, count(*) FROM tasks GROUP BY "
                            "status"))
        check("(d) after the restart every task finishes done (%d)" %
              len(rows), counts == {"done": len(rows)}, counts)
        wrong = s.sql("SELECT id, n, digit FROM tasks WHERE n <= 10000")
        wrong = [w for w in wrong if str(w[2]) != REF[w[1]]]
        check("(d) their digits are right (checked for n <= 10000)",
              not wrong, wrong[:5])
        ok, have = store_ok(s, 0)
        check("(d) the digit store is whole: digits only, a prefix of pi "
              "(%d decimals)" % have, ok, have)
        leftovers = [f for f in os.listdir(s.data_dir) if ".tmp." in f]
        tap.diag("temp files left by the killed compute child: %r" %
                 leftovers)


def can_make_immutable(path):
    """Tries chattr +i on path. Returns None if it worked, or why not."""
    if not shutil.which("chattr"):
        return "no chattr"
    r = subprocess.run(["chattr", "+i", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return None if r.returncode == 0 else r.stdout.strip()


def test_store_unwritable():
    """(e) The store cannot be replaced. As root, permissions do not stop a
    write, so the store file is made immutable (chattr +i: the rename onto
    it fails with EPERM even for root). Where chattr cannot work, the worker
    runs under RLIMIT_FSIZE, so writing the larger store fails with EFBIG
    (NTHPI_NO_CHATTR=1 picks that way)."""
    with Stack(n_max=10**6, label="store stack") as s:
        st, t = s.api_create(100)
        t = s.wait_task(t["id"]) if st == 201 else {}
        if not check("(e) a first task fills the store", t.get("digit") ==
                     REF[100], t):
            return
        with open(s.store_path, "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        if os.environ.get("NTHPI_NO_CHATTR"):
            why = "NTHPI_NO_CHATTR is set"
        else:
            why = can_make_immutable(s.store_path)
        method = "chattr +i on the store"
        if why is not None:
            # The database files stay far below it in a test this short.
            limit = 512 * 1024
            method = "RLIMIT_FSIZE of %d bytes" % limit
            tap.diag("(e) chattr +i is not possible here (%s); using %s" %
                     (why, method))

            def small_files():
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            s.stop_worker()
            s.start_worker(preexec_fn=small_files)
        try:
            tap.diag("(e) store of %d decimals made unwritable by %s" %
                     (len(data) - 1, method))
            st, t = s.api_create(10**6)
            t = s.wait_task(t["id"], timeout=60) if st == 201 else {}
            err = t.get("error") or ""
            tap.diag("(e) error: %s" % err)
            check("(e) the task that needs a larger store ends in error",
                  t.get("status") == "error" and t.get("digit") is None, t)
            check("(e) its error says that the digits could not be saved "
                  "and why", "Could not save the digits" in err and
                  re.search(r"not permitted|too large", err), err)
            if why is None:
                check("(e) ... and what to do", "retry the task" in err, err)
            with open(s.store_path, "rb") as f:
                now = f.read()
            check("(e) the store is untouched (same %d bytes, same "
                  "SHA-256)" % len(data),
                  hashlib.sha256(now).hexdigest() == digest, len(now))
            tmp = [f for f in os.listdir(s.data_dir) if ".tmp." in f]
            check("(e) no temp file is left beside it", not tmp, tmp)
            st, t2 = s.api_create(9999)
            t2 = s.wait_task(t2["id"]) if st == 201 else {}
            check("(e) a task the store covers is still answered from it",
                  t2.get("digit") == REF[9999], t2)
            st, h, body = s.request("GET", "/tasks/1")
            check("(e) the first task's page still shows its digits",
                  st == 200 and decimals_shown(body, 100)[0] == REF[1:101],
                  st)
            st, h, body = s.request("GET", "/tasks/%d" % t["id"])
            check("(e) the failed task's page shows the error",
                  st == 200 and b"Could not save the digits" in body, st)
        finally:
            if why is None:
                subprocess.run(["chattr", "-i", s.store_path])
            else:
                s.stop_worker()
                s.start_worker()
        st, _, t3 = s.api("POST", "/api/tasks/%d/retry" % t["id"], {})
        t3 = s.wait_task(t["id"], timeout=60) if st == 200 else {}
        check("(e) once the store can be written, a retry of the task "
              "succeeds", t3.get("status") == "done", (st, t3))


def test_load():
    """(f) 1,000 submissions from 50 threads at once through nginx, half
    by the form and half by the API (the rate limit is raised, as for
    every test stack)."""
    with Stack(n_max=10000, children=2, threads=32, label="load stack") as s:
        ns = random.Random(6).sample(range(1, 10001), 1000)
        statuses = []
        lock = threading.Lock()
        go = threading.Barrier(50)

        def client(k):
            mine = ns[k * 20:(k + 1) * 20]
            form = k % 2 == 0
            csrf = s.get_csrf() if form else None
            go.wait()
            for n in mine:
                try:
                    if form:
                        st, h, body = s.submit_form(n, csrf=csrf)
                    else:
                        st, h, body = s.request(
                            "POST", "/api/tasks", '{"n": %d}' % n,
                            {"Content-Type": "application/json"})
                except Exception as e:
                    st, body = repr(e), b""
                with lock:
                    statuses.append((st, body[:200] if st not in (
                        201, 303) else b""))

        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,), daemon=True)
                   for k in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        secs = time.monotonic() - t0
        tap.diag("load: 1000 submissions from 50 threads in %.2f s "
                 "(%.0f a second)" % (secs, 1000 / secs))
        bad = [x for x in statuses if x[0] not in (201, 303)]
        check("(f) all 1,000 submissions are answered 201 or 303 (no 5xx, "
              "no 429)", len(statuses) == 1000 and not bad,
              (len(statuses), bad[:5]))
        count = s.sql("SELECT count(*) FROM tasks")[0][0]
        stored = sorted(r[0] for r in s.sql("SELECT n FROM tasks"))
        check("(f) exactly 1,000 tasks are stored, one per submission",
              count == 1000 and stored == sorted(ns), count)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if s.sql("SELECT count(*) FROM tasks WHERE status IN "
                     "('queued', 'running')")[0][0] == 0:
                break
            time.sleep(0.2)
        tap.diag("load: all finished %.2f s after the first submission" %
                 (time.monotonic() - t0))
        rows = s.sql("SELECT n, status, digit FROM tasks")
        check("(f) all 1,000 finish done with the right digit",
              all(st == "done" and str(d) == REF[n] for n, st, d in rows),
              [r for r in rows if r[1] != "done" or str(r[2]) != REF[r[0]]]
              [:5])
        busy = []
        for log in (s.fcgi_log, s.worker_log):
            with open(log, errors="replace") as f:
                busy += [l.strip() for l in f if re.search(
                    r"(?i)busy|locked|: (warn|error): ", l)]
        check("(f) no SQLITE_BUSY, lock or error line in the logs",
              not busy, busy[:10])


def run():
    for fn in (test_worker_sigkill, test_worker_sigterm,
               test_fcgi_child_killed, test_kill_everything,
               test_store_unwritable, test_load):
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
