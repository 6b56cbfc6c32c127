#!/usr/bin/env python3
"""test_disk_full.py: a real full disk under DATA.

DATA is a small tmpfs of its own, filled with a file until writes fail
(ENOSPC). Every write route, page and API alike (a new task, cancel,
retry, delete), then answers 503 with Retry-After and one sentence, never
500; reads go on; the worker, which tries to claim a queued task all along,
logs a few lines, the repeats folded into a count, not 50 a second. Once
the file is removed everything works again, and every task acknowledged
before is there, also after a restart.
"""

import os
import re
import signal
import subprocess
import time

import tap
from harness import Stack, wait_for
from pages import Page

check = tap.check

FULL = ("The server's disk is full, so it could not save this change, and "
        "nothing was changed. Try again in a few minutes.")
# Room for the database, its -wal and -shm files and a small digit store.
TMPFS_SIZE = "8m"


def mount_tmpfs(path):
    """Mounts a tmpfs of TMPFS_SIZE at path. Returns None, or why not."""
    r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%s,mode=0755" % TMPFS_SIZE, "nthpi-test", path],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip() or
                                           "mount exited %d" % r.returncode)


def fill(path):
    """Writes zeros to path until the disk is full. Returns the bytes
    written and the error that stopped it."""
    written, err = 0, None
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n = f.write(block)
            except OSError as e:
                err = e
                break
            written += n
            # The last bytes that fit, a page at a time.
            if n < len(block):
                block = block[:4096]
    return written, err


def refused(what, status, headers, sentence):
    """Checks one refused change: 503, Retry-After, the sentence."""
    return check("disk full: %s: 503 with Retry-After and the sentence" %
                 what, status == 503 and
                 headers.get("retry-after", "").isdigit() and
                 sentence == FULL,
                 (status, headers.get("retry-after"), sentence))


def page_sentence(body, ident):
    e = Page(body).by_id(ident)
    return e.text.strip() if e is not None else None


def worker_lines(s):
    with open(s.worker_log, errors="replace") as f:
        return f.read().splitlines()


def test_full_disk():
    mounted = []

    def prepare(data_dir):
        why = mount_tmpfs(data_dir)
        if why is None:
            mounted.append(data_dir)
        else:
            mounted.append(None)
            tap.diag("disk full: cannot mount a tmpfs on DATA (%s)" % why)

    try:
        with Stack(n_max=10**4, children=2, label="disk full stack",
                   prepare_data=prepare) as s:
            if mounted != [s.data_dir]:
                tap.skip("disk full: a full disk", "mount(8) of a tmpfs is "
                         "not permitted here (it needs root and "
                         "CAP_SYS_ADMIN)")
                return
            full_disk(s)
    finally:
        for path in mounted:
            if path:
                subprocess.run(["umount", "-l", path])
                try:
                    os.rmdir(path)
                    os.rmdir(os.path.dirname(path))
                except OSError:
                    pass


def full_disk(s):
    acked = {}
    st, d = s.api_create(100)
    acked[d["id"]] = "done"
    s.wait_task(d["id"])
    # The worker held still between its writes, so that a task stays
    # queued for it to fail to claim once the disk is full.
    time.sleep(0.3)
    s.worker.send_signal(signal.SIGSTOP)
    try:
        st, q = s.api_create(200)
        acked[q["id"]] = "queued"
        st, c = s.api_create(300)
        s.api("POST", "/api/tasks/%d/cancel" % c["id"], {})
        acked[c["id"]] = "cancelled"
        token = s.get_csrf()
        filler = os.path.join(s.data_dir, "filler")
        written, err = fill(filler)
        df = os.statvfs(s.data_dir)
        check("disk full: DATA filled with a file until writes fail "
              "(%d KiB, then %s)" % (written // 1024,
                                     err and os.strerror(err.errno)),
              err is not None and err.errno == 28 and df.f_bavail == 0,
              (err, df.f_bavail))
    finally:
        s.worker.send_signal(signal.SIGCONT)
    lines_before = len(worker_lines(s))
    t_full = time.monotonic()

    results = []
    st, h, t = s.api("POST", "/api/tasks", {"n": 9})
    results.append(st)
    refused("POST /api/tasks", st, h, t and t.get("error"))
    st, h, body = s.submit_form(9, csrf=token)
    results.append(st)
    refused("POST /tasks (the form, n kept)", st, h,
            page_sentence(body, "n-error"))
    check("disk full: the form keeps what was typed",
          st == 503 and b'value="9"' in body, body[:200])
    for action, tid in (("cancel", q["id"]), ("retry", c["id"]),
                        ("delete", d["id"])):
        if action == "delete":
            st, h, t = s.api("DELETE", "/api/tasks/%d" % tid)
        else:
            st, h, t = s.api("POST", "/api/tasks/%d/%s" % (tid, action), {})
        results.append(st)
        refused("the API's %s" % action, st, h, t and t.get("error"))
        st, h, body = s.form_post("/tasks/%d/%s" % (tid, action), {},
                                  csrf=token)
        results.append(st)
        refused("the page's %s" % action, st, h,
                page_sentence(body, "error-message"))
    check("disk full: no write route answered 500", 500 not in results,
          results)
    st, _, body = s.request("GET", "/")
    st2, _, lst = s.api("GET", "/api/tasks")
    check("disk full: the pages and the API still read",
          st == 200 and st2 == 200 and
          {t["id"] for t in lst["tasks"]} == set(acked), (st, st2))

    # The worker tries to claim the queued task all along.
    time.sleep(3)
    during = worker_lines(s)[lines_before:]
    secs = time.monotonic() - t_full
    full_lines = [l for l in during if "full" in l]
    tap.diag("disk full: the worker logged %d lines in %.1f s" %
             (len(during), secs))
    check("disk full: the worker says the disk is full, in a few lines, "
          "not 50 a second (%d lines in %.1f s)" % (len(during), secs),
          full_lines and len(during) <= 12, during[-20:])
    check("disk full: the queued task is still queued",
          s.get_task(q["id"])["status"] == "queued")

    os.unlink(os.path.join(s.data_dir, "filler"))
    t = s.wait_task(q["id"], 20)
    check("disk full: space back, the worker claims the queued task and "
          "it is done", t["status"] == "done", t)
    folded = [l for l in worker_lines(s)[lines_before:]
              if re.search(r"\(repeated \d+ more times? in [\d.]+ s\)$", l)]
    counts = [int(re.search(r"repeated (\d+)", l).group(1)) for l in folded]
    tap.diag("disk full: the worker's folded lines: %s" % counts)
    check("disk full: then the worker's log says how often each line "
          "was repeated", folded and max(counts) >= 5,
          worker_lines(s)[lines_before:][-20:])
    st, t = s.api_create(9)
    st2, h, body = s.submit_form(8)
    st3, _, r = s.api("POST", "/api/tasks/%d/retry" % c["id"], {})
    st4, _, _ = s.api("DELETE", "/api/tasks/%d" % d["id"])
    check("disk full: every route works again",
          st == 201 and st2 == 303 and st3 == 200 and st4 == 200,
          (st, st2, st3, st4))
    acked.pop(d["id"])
    acked[c["id"]] = None
    acked[t["id"]] = None
    s.kill_all(signal.SIGTERM)
    s.restart()
    st, _, lst = s.api("GET", "/api/tasks")
    have = {x["id"]: x["status"] for x in lst["tasks"]}
    check("disk full: after a restart every task acknowledged is there",
          set(acked) <= set(have) and d["id"] not in have,
          (acked, have))


if __name__ == "__main__":
    tap.main(test_full_disk)
