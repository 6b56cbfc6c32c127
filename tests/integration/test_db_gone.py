#!/usr/bin/env python3
"""test_db_gone.py: the database file deleted or moved while nthpi runs.

Before, both programs went on writing into the file no name reached any
more (201 for every submission, tasks done), and the next start made a new,
empty database over its -wal file: every task gone, no word in any log.
Now a process that finds the file gone takes no change (503 with a
sentence and Retry-After, page and API alike; never 201 for a task that
would be lost), the worker stops claiming and says so, pages still show
the tasks with a banner, one process saves a whole copy and says how to go
on from it, and neither program starts over what the lost file left. The
tasks acknowledged before are all there again after following what the
log says. A file moved away is found too, and goes on once moved back; with
no database and no -wal file at all, a start makes a new, empty one and
says so.
"""

import os
import re
import signal
import subprocess
import threading
import time

import tap
from harness import BUILD, Stack, wait_for
from pages import Page

check = tap.check

GONE = ("The task database was removed while the server was running, so "
        "it cannot take this change until the people who run this site "
        "put it back. Try again later; the tasks shown are as they were.")


def logs(s):
    """The FastCGI app's and the worker's logs, as one text."""
    text = ""
    for path in (s.fcgi_log, s.worker_log):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def refused(s, what, status, headers, sentence):
    """Checks one refused change: 503, Retry-After, the sentence."""
    check("db gone: %s: 503 with Retry-After and the sentence" % what,
          status == 503 and headers.get("retry-after", "").isdigit() and
          sentence == GONE, (status, headers.get("retry-after"), sentence))


def page_sentence(body, ident):
    e = Page(body).by_id(ident)
    return e.text.strip() if e is not None else None


def hammer(s, stop, out):
    """POSTs tasks until stop is set; appends (start, end, status, id)."""
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            st, _, t = s.api("POST", "/api/tasks", {"n": 7}, timeout=15)
        except OSError as e:
            st, t = repr(e), None
        out.append((t0, time.monotonic(), st,
                    t.get("id") if isinstance(t, dict) else None))


def start_alone(s, program):
    """Runs one program on the stack's data directory as a start would
    (nginx and the other program stopped). Returns (exit status or None if
    it kept running, its output)."""
    argv = [os.path.join(BUILD, program), "--data=" + s.data_dir]
    if program == "nthpi-fcgi":
        argv.append("--socket=" + s.socket_path)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=10)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out.decode(errors="replace")


def test_deleted_database():
    with Stack(n_max=10**6, children=2, label="db gone stack") as s:
        acked = {}
        for n in (100, 200, 300):
            st, t = s.api_create(n)
            acked[t["id"]] = "done"
            s.wait_task(t["id"])
        done_id = min(acked)
        # The worker held still (between its writes), so that the queued
        # tasks below stay queued for it to leave alone once it goes on.
        time.sleep(0.3)
        s.worker.send_signal(signal.SIGSTOP)
        try:
            st, q = s.api_create(400)
            acked[q["id"]] = "queued"
            st, c = s.api_create(500)
            s.api("POST", "/api/tasks/%d/cancel" % c["id"], {})
            acked[c["id"]] = "cancelled"
            check("db gone: the tasks to come back to are there: done, "
                  "queued, cancelled",
                  s.get_task(c["id"])["status"] == "cancelled" and
                  s.get_task(q["id"])["status"] == "queued", acked)

            # Submissions from 4 clients while the file is deleted.
            stop, posts = threading.Event(), []
            threads = [threading.Thread(target=hammer, args=(s, stop, posts))
                       for _ in range(4)]
            for th in threads:
                th.start()
            time.sleep(0.4)
            t_rm = time.monotonic()
            os.unlink(s.db_path)
            time.sleep(0.4)
            stop.set()
            for th in threads:
                th.join()
            created = [p for p in posts if p[2] == 201]
            after = [p for p in posts if p[0] > t_rm]
            late = [p for p in created if p[0] > t_rm]
            tap.diag("db gone: %d submissions, %d before the removal "
                     "(201), %d after it (%s)" %
                     (len(posts), len(created), len(after),
                      sorted(set(p[2] for p in after))))
            check("db gone: no submission sent after the removal got 201 (%d "
                  "sent)" % len(after), after and not late, late[:5])
            check("db gone: every one after it got 503",
                  all(p[2] == 503 for p in after),
                  [p for p in after if p[2] != 503][:5])
            for p in created:
                acked[p[3]] = None

            st, h, t = s.api("POST", "/api/tasks", {"n": 9})
            refused(s, "POST /api/tasks", st, h, t and t.get("error"))
            st, h, body = s.submit_form(9)
            refused(s, "POST /tasks (the form, n kept)", st, h,
                    page_sentence(body, "n-error"))
            for action, tid in (("cancel", q["id"]), ("retry", c["id"]),
                                ("delete", done_id)):
                if action == "delete":
                    st, h, t = s.api("DELETE", "/api/tasks/%d" % tid)
                else:
                    st, h, t = s.api("POST",
                                     "/api/tasks/%d/%s" % (tid, action), {})
                refused(s, "the API's %s" % action, st, h,
                        t and t.get("error"))
                st, h, body = s.form_post("/tasks/%d/%s" % (tid, action), {})
                refused(s, "the page's %s" % action, st, h,
                        page_sentence(body, "error-message"))

            st, _, body = s.request("GET", "/")
            page = Page(body)
            banner = page.by_id("outage")
            check("db gone: the main page still shows the tasks, with a "
                  "banner that says no change is taken",
                  st == 200 and banner is not None and
                  "no new task, cancel, retry or delete is taken" in
                  banner.text and len(page.rows) == 50,
                  (st, banner and banner.text, len(page.rows)))
            st, _, body = s.request("GET", "/tasks/%d" % done_id)
            check("db gone: a task page too",
                  st == 200 and Page(body).by_id("outage") is not None, st)
            st, _, lst = s.api("GET", "/api/tasks?limit=1000")
            check("db gone: the API still lists them",
                  st == 200 and {t["id"] for t in lst["tasks"]} >= set(acked),
                  st)

        finally:
            s.worker.send_signal(signal.SIGCONT)
        said = wait_for(lambda: "worker: not claiming tasks" in
                        open(s.worker_log).read(), 5)
        time.sleep(1)
        check("db gone: the worker says it claims nothing more, and "
              "leaves the queued task alone",
              said and s.get_task(q["id"])["status"] == "queued",
              open(s.worker_log).read()[-1500:])
        text = logs(s)
        whole = re.findall(r"A copy of the database as it was is saved as "
                           r"(\S+) in (\S+)\. To go on from it, stop nthpi,"
                           r" then: (cd [^;]+); and start it again\.", text)
        per_pid = re.findall(r"\[(\d+)\]: error: database: \S+ was deleted "
                             r"while this process used it", text)
        check("db gone: one process saves a copy and says, once, what to "
              "do; each other process says it once, shortly",
              len(whole) == 1 and len(per_pid) == len(set(per_pid)) and
              os.path.getsize(os.path.join(s.data_dir, whole[0][0])) > 0,
              text[-3000:])

        s.kill_all(signal.SIGTERM)
        check("db gone: stopped, nthpi.db is missing and its -wal file is "
              "kept", not os.path.exists(s.db_path) and
              os.path.exists(s.db_path + "-wal"), os.listdir(s.data_dir))
        for program in ("nthpi-fcgi", "nthpi-worker"):
            rc, out = start_alone(s, program)
            check("db gone: %s refuses to start over the -wal file, and "
                  "says what happened and what to do" % program,
                  rc == 1 and "nthpi.db is missing from" in out and
                  "will not make a new, empty database" in out and
                  "mv nthpi.db.rescued-" in out and
                  not os.path.exists(s.db_path), (rc, out[-1500:]))
        if not whole:
            return
        cmd = whole[0][2]
        sh = subprocess.run(["sh", "-c", cmd], capture_output=True,
                            text=True)
        check("db gone: the command the log gives runs",
              sh.returncode == 0, sh.stderr)
        s.restart()
        st, _, lst = s.api("GET", "/api/tasks?limit=1000")
        have = {t["id"]: t["status"] for t in lst["tasks"]}
        lost = [i for i in acked if i not in have]
        check("db gone: after the restart every task acknowledged before "
              "is there (%d of them)" % len(acked), not lost, lost[:10])
        check("db gone: as they were: done, queued, cancelled",
              all(have.get(i) == was for i, was in acked.items()
                  if was in ("done", "cancelled")) and
              have.get(q["id"]) in ("queued", "running", "done"),
              [(i, was, have.get(i)) for i, was in acked.items() if was])
        t = s.wait_task(q["id"], 30)
        check("db gone: the queued one is claimed and done now",
              t["status"] == "done", t)
        st, t = s.api_create(11)
        st2, _, body = s.request("GET", "/")
        check("db gone: changes are taken again, and the banner is gone",
              st == 201 and Page(body).by_id("outage") is None, st)


def test_moved_database():
    with Stack(n_max=10**6, children=2, label="db moved stack") as s:
        ids = []
        for n in (100, 200):
            st, t = s.api_create(n)
            ids.append(t["id"])
            s.wait_task(t["id"])
        moved = os.path.join(s.data_dir, "elsewhere.db")
        os.rename(s.db_path, moved)
        st, h, t = s.api("POST", "/api/tasks", {"n": 9})
        refused(s, "moved: POST /api/tasks", st, h, t and t.get("error"))
        text = logs(s)
        check("db gone: a moved file is named where it went, with what to "
              "do, and no copy is saved",
              "was moved to %s" % moved in text and
              "move %s back to %s" % (moved, s.db_path) in text and
              not [f for f in os.listdir(s.data_dir) if ".rescued-" in f],
              text[-2000:])
        s.kill_all(signal.SIGTERM)
        os.rename(moved, s.db_path)
        s.restart()
        st, _, lst = s.api("GET", "/api/tasks")
        check("db gone: moved back, it goes on with its tasks",
              st == 200 and {t["id"] for t in lst["tasks"]} == set(ids) and
              s.api_create(5)[0] == 201, lst)

        # Gone with its -wal and -shm files: nothing is left to protect.
        s.kill_all(signal.SIGTERM)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(s.db_path + suffix):
                os.unlink(s.db_path + suffix)
        s.restart()
        st, _, lst = s.api("GET", "/api/tasks")
        with open(s.fcgi_log) as f:
            text = f.read()
        check("db gone: with no database and no -wal file, a start makes "
              "a new, empty one and says so",
              st == 200 and lst["tasks"] == [] and
              text.count("in a new, empty database: there was none at %s" %
                         s.db_path) == 2, text[-1500:])


if __name__ == "__main__":
    tap.main(test_deleted_database, test_moved_database)
