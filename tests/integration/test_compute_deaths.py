"""test_compute_deaths.py: a compute child ended by a signal nthpi did not
send (here a SIGKILL, as a person or the OOM killer acting for another
process gives) is not "out of memory": its tasks go back to the queue and
finish right on a later computation; only after 3 such deaths in a row do
they fail, with a sentence that names the signal.
"""

import hashlib
import os
import re
import signal
import time

import tap
from harness import Stack, reference_digits, reference_sha256, wait_for

check = tap.check
REF = reference_digits()


def row(s, tid):
    """status, digit, error, attempts of task tid."""
    rows = s.sql("SELECT status, digit, error, attempts FROM tasks "
                 "WHERE id = ?", (tid,))
    return dict(zip(("status", "digit", "error", "attempts"), rows[0])) \
        if rows else None


def new_child(s, old, timeout=60):
    """Waits for a compute child whose pid is not in old. Returns it or
    None."""
    def fresh():
        kids = [k for k in s.worker_children() if k not in old]
        return kids[0] if kids else None
    return wait_for(fresh, timeout, step=0.01)


def log_lines(s, pattern):
    with open(s.worker_log, errors="replace") as f:
        return [l.rstrip("\n") for l in f if re.search(pattern, l)]


def test_killed_once_requeues():
    """One SIGKILL of the compute child: the tasks waiting on it go back to
    the queue (claimed again, attempts 2) and end done with the right
    digits; none says out of memory."""
    label = "one kill"
    with Stack(n_max=10**7, label=label) as s:
        # In one transaction, so that one computation is for both.
        now = int(time.time() * 1000)
        s.sql_write("INSERT INTO tasks (n, created_at) VALUES (?, ?)",
                    [(5000, now), (2 * 10**6, now)])
        small, big = [{"id": r[0]} for r in
                      s.sql("SELECT id FROM tasks ORDER BY n")]
        kid = new_child(s, [])
        if not check("%s: a computation starts" % label, kid is not None):
            return
        os.kill(kid, signal.SIGKILL)
        t_small = s.wait_task(small["id"], timeout=120)
        t_big = s.wait_task(big["id"], timeout=120)
        check("%s: the small task ends done with the right digit" % label,
              t_small["status"] == "done" and t_small["digit"] == REF[5000],
              t_small)
        with open(s.store_path, "rb") as f:
            head = f.read(10**6 + 1)
            f.seek(2 * 10**6)
            last = f.read(1).decode()
        check("%s: the large task ends done with the store's digit, and the "
              "store's first 10^6 decimals are pi's" % label,
              t_big["status"] == "done" and t_big["digit"] == last and
              hashlib.sha256(head).hexdigest() == reference_sha256(10**6),
              t_big)
        rows = [row(s, small["id"]), row(s, big["id"])]
        check("%s: both were put back in the queue and claimed again "
              "(attempts 2 or more)" % label,
              all(r["attempts"] >= 2 for r in rows), rows)
        check("%s: no task says out of memory" % label,
              not any("memory" in (r["error"] or "") for r in rows), rows)
        check("%s: the worker's log names the signal and the requeue" %
              label,
              log_lines(s, r"ended by SIGKILL.*back in the queue"),
              log_lines(s, r"SIGKILL|memory"))


def test_killed_three_times_fails():
    """Three SIGKILLs in a row of the computation a task waits for: the task
    fails with a sentence that names SIGKILL, not memory."""
    label = "three kills"
    with Stack(n_max=10**7, label=label) as s:
        st, t = s.api_create(2 * 10**6)
        if not check("%s: the task is accepted" % label, st == 201, st):
            return
        seen = []
        for i in range(3):
            kid = new_child(s, seen)
            if not check("%s: computation %d starts" % (label, i + 1),
                         kid is not None, seen):
                return
            seen.append(kid)
            os.kill(kid, signal.SIGKILL)
        t = s.wait_task(t["id"], timeout=60)
        err = t.get("error") or ""
        check("%s: the task ends in error naming SIGKILL" % label,
              t["status"] == "error" and "SIGKILL" in err and
              "3 times in a row" in err, t)
        check("%s: the sentence does not say out of memory" % label,
              "memory" not in err, err)
        time.sleep(0.5)
        check("%s: no fourth computation starts for it" % label,
              not [k for k in s.worker_children() if k not in seen],
              s.worker_children())


def run():
    for fn in (test_killed_once_requeues, test_killed_three_times_fails):
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
