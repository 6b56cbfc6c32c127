"""test_resilience.py: the service keeps going when a part dies: a killed
FastCGI child is replaced, and a task whose worker was killed is claimed
again once its lease (10 s) has passed."""

import signal
import time

import tap
from harness import Stack, reference_digits

check = tap.check
REF = reference_digits()


def test_fcgi_child_killed(s):
    kids = s.fcgi_children()
    check("nthpi-fcgi runs the configured 2 children", len(kids) == 2, kids)
    if not kids:
        return
    dead = s.kill_fcgi_child(signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        now = s.fcgi_children()
        if len(now) == 2 and dead not in now:
            break
        time.sleep(0.05)
    check("a killed FastCGI child is replaced within 5 s",
          len(now) == 2 and dead not in now, (kids, now))
    ok = [s.request("GET", "/")[0] for _ in range(20)]
    check("pages are served after a child was killed",
          all(st == 200 for st in ok), ok)
    st, t = s.api_create(4)
    t = s.wait_task(t["id"]) if st == 201 else {}
    check("tasks are taken after a child was killed",
          t.get("digit") == REF[4], t)


def test_worker_killed(s):
    st, t = s.api_create(s.n_max)
    if not check("a big task is accepted", st == 201, (st, t)):
        return
    tid = t["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and t["status"] == "queued":
        time.sleep(0.05)
        t = s.get_task(tid)
    if not check("the big task runs", t["status"] == "running", t):
        return
    s.stop_worker(signal.SIGKILL)
    t = s.get_task(tid)
    check("the task of a killed worker still shows running",
          t["status"] == "running", t)
    s.start_worker()
    t = s.wait_task(tid, timeout=300)
    attempts = s.sql("SELECT attempts FROM tasks WHERE id = ?", (tid,))[0][0]
    check("the restarted worker claims it again and finishes it",
          t["status"] == "done" and attempts >= 2, (t, attempts))


def run():
    with Stack(n_max=2000000, children=2, label="resilience stack") as s:
        test_fcgi_child_killed(s)
        test_worker_killed(s)


if __name__ == "__main__":
    tap.main(run)
