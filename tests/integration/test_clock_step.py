"""test_clock_step.py: the worker's wall clock stepped back an hour while
it computes (an LD_PRELOAD library, clockstep.c, on the worker only; the
machine's clock is never touched). The task's finished_at then comes before
its started_at, and "Ran for" and the histogram of /metrics still show the
time it ran, which the worker measured on its monotonic clock.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import tap
from harness import REPO, Stack, wait_for

check = tap.check
STEP_S = 3600
N = 4 * 10**6


def build_shim(work):
    """Builds clockstep.c into work. Returns its path, or None."""
    lib = os.path.join(work, "clockstep.so")
    src = os.path.join(REPO, "tests", "integration", "clockstep.c")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, src,
                        "-ldl"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return lib if r.returncode == 0 else None


def seconds(text):
    """"1.23 s" or "1 min 05 s" as seconds; None for anything else."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?) s", text)
    if m:
        return float(m.group(1))
    m = re.fullmatch(r"(\d+) min (\d+) s", text)
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


def metrics(s):
    """The nthpi_compute_seconds lines of /metrics as {name{labels}: v}."""
    st, _, body = s.request("GET", "/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("nthpi_compute_seconds"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def test_clock_stepped_back():
    label = "clock stepped back"
    work = tempfile.mkdtemp(prefix="nthpi-clockstep-")
    try:
        lib = build_shim(work)
        if lib is None:
            tap.skip("%s: ran for stays right" % label,
                     "cannot build clockstep.c")
            return
        step = os.path.join(work, "step")
        env = {"LD_PRELOAD": lib, "CLOCKSTEP_FILE": step,
               # An ASan build wants its runtime first; the library only
               # wraps the wall clock.
               "ASAN_OPTIONS": ":".join(
                   x for x in (os.environ.get("ASAN_OPTIONS"),
                               "verify_asan_link_order=0") if x)}
        with Stack(n_max=10**7, worker_env=env, label=label) as s:
            stepped_run(s, label, step)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def stepped_run(s, label, step):
    before = metrics(s)
    st, t = s.api_create(N)
    if not check("%s: the task is accepted" % label, st == 201, st):
        return
    tid = t["id"]
    running = wait_for(lambda: s.sql("SELECT 1 FROM tasks WHERE id = ? AND "
                                     "status = 'running'", (tid,)), 30,
                       step=0.005)
    t0 = time.monotonic()
    with open(step, "w") as f:
        f.write("%d\n" % STEP_S)
    if not check("%s: the task runs when the clock steps" % label, running):
        return
    t = s.wait_task(tid, timeout=120)
    took = time.monotonic() - t0
    started, finished = s.sql(
        "SELECT started_at, finished_at FROM tasks WHERE id = ?", (tid,))[0]
    if not check("%s: the task is done, and its finished_at is before its "
                 "started_at (the step happened while it ran)" % label,
                 t["status"] == "done" and finished < started,
                 (t, started, finished)):
        return
    tap.diag("ran %.2f s after the step" % took)
    _, _, page = s.request("GET", "/")
    m = re.search(r'<tr id="task-%d".*?<td class="ran">([^<]*)</td>' % tid,
                  page.decode(), re.S)
    ran = seconds(m.group(1)) if m else None
    check("%s: the main page's Ran for shows the time it ran (%s s; at "
          "least the %.2f s after the step)" % (label, ran, took - 0.2),
          ran is not None and took - 0.2 <= ran <= took + 5, m and m.group(1))
    _, _, page = s.request("GET", "/tasks/%d" % tid)
    m = re.search(r'<dd class="ran">([^<]*)</dd>', page.decode())
    check("%s: the task page's Ran for too" % label,
          m is not None and seconds(m.group(1)) == ran, m and m.group(1))
    after = metrics(s)
    key = 'nthpi_compute_seconds_bucket{le="0.01"}'
    check("%s: the histogram does not count it as 0.01 s or less" % label,
          after.get(key) == before.get(key), (before, after))
    added = after.get("nthpi_compute_seconds_sum", 0) - \
        before.get("nthpi_compute_seconds_sum", 0)
    check("%s: the histogram's sum grows by the time it ran (%.2f s)" %
          (label, added),
          # The page rounds to 0.01 s below 10 s and to 0.1 s above.
          ran is not None and abs(added - ran) <= 0.051 and
          added >= took - 0.2,
          (before, after))


def run():
    test_clock_stepped_back()


if __name__ == "__main__":
    tap.main(run)
