"""test_api.py: the JSON API through nginx (docs/design.md, "JSON"): shapes,
201 and Location, errors, the list's parameters, the actions, and the long
poll (GET /api/tasks?since=V)."""

import json
import re
import statistics
import threading
import time

import tap
from harness import Stack, reference_digits

check = tap.check
REF = reference_digits()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEYS = {"id", "n", "status", "progress", "digit", "error", "created_at",
        "started_at", "finished_at", "cancel_requested", "url"}
STATUSES = ("queued", "running", "done", "error", "cancelled")


def count_tasks(s):
    return s.sql("SELECT count(*) FROM tasks")[0][0]


def is_json(h):
    return h.get("content-type", "").startswith("application/json")


def task_shape_problems(t):
    """What is wrong with a task object, as a list of sentences."""
    if not isinstance(t, dict):
        return ["not an object: %r" % (t,)]
    p = []
    if set(t) != KEYS:
        p.append("keys %s, want %s" % (sorted(t), sorted(KEYS)))
    if not isinstance(t.get("id"), int) or not isinstance(t.get("n"), int):
        p.append("id and n must be integers")
    if t.get("status") not in STATUSES:
        p.append("status %r" % t.get("status"))
    if not isinstance(t.get("progress"), (int, float)) or \
            not 0 <= t["progress"] <= 1:
        p.append("progress %r" % t.get("progress"))
    if not isinstance(t.get("created_at"), str) or \
            not ISO.match(t["created_at"]):
        p.append("created_at %r" % t.get("created_at"))
    for k in ("started_at", "finished_at"):
        if t.get(k) is not None and not ISO.match(str(t[k])):
            p.append("%s %r" % (k, t[k]))
    if t.get("status") == "done":
        if not (isinstance(t.get("digit"), str) and len(t["digit"]) == 1 and
                t["digit"].isdigit()):
            p.append("digit %r" % t.get("digit"))
        if t.get("finished_at") is None or t.get("started_at") is None:
            p.append("a done task needs started_at and finished_at")
    elif t.get("digit") is not None:
        p.append("digit %r before done" % t.get("digit"))
    if t.get("url") != "/tasks/%s" % t.get("id"):
        p.append("url %r" % t.get("url"))
    return p


def error_ok(h, body):
    return is_json(h) and isinstance(body, dict) and \
        isinstance(body.get("error"), str) and len(body["error"]) > 5


def test_create_and_get(s):
    st, h, body = s.api("GET", "/api/tasks")
    check("GET /api/tasks on an empty queue answers 200 JSON",
          st == 200 and is_json(h), (st, h.get("content-type")))
    check("the empty list has version, tasks [] and five zero counts",
          isinstance(body, dict) and isinstance(body.get("version"), int) and
          body.get("tasks") == [] and body.get("counts") ==
          {k: 0 for k in STATUSES}, body)
    check("JSON answers carry nosniff and the CSP",
          h.get("x-content-type-options") == "nosniff" and
          "default-src 'self'" in h.get("content-security-policy", ""), h)

    st, h, t = s.api("POST", "/api/tasks", {"n": 7})
    check("POST /api/tasks {n: 7} answers 201 JSON", st == 201 and
          is_json(h), (st, t))
    if not isinstance(t, dict) or "id" not in t:
        return
    tid = t["id"]
    check("its Location is /api/tasks/ID", h.get("location") in (
        "/api/tasks/%d" % tid, s.url + "/api/tasks/%d" % tid),
        h.get("location"))
    check("the new task has the task shape", not task_shape_problems(t),
          task_shape_problems(t))
    check("the new task has n 7 and is queued or running",
          t.get("n") == 7 and t.get("status") in ("queued", "running"), t)
    done = s.wait_task(tid)
    check("the finished task has the task shape",
          not task_shape_problems(done), task_shape_problems(done))
    check("GET /api/tasks/ID gives digit %s for n=7" % REF[7],
          done.get("digit") == REF[7] and done.get("error") is None and
          done.get("created_at") == t.get("created_at"), done)
    st, h, body = s.api("GET", "/api/tasks/%d" % tid)
    check("GET /api/tasks/ID answers 200 JSON", st == 200 and is_json(h), st)
    for path in ("/api/tasks/999999", "/api/tasks/0", "/api/tasks/abc",
                 "/api/nothing"):
        st, h, body = s.api("GET", path)
        check("GET %s answers 404 with an error sentence" % path,
              st == 404 and error_ok(h, body), (st, body))


def test_bad_requests(s):
    before = count_tasks(s)
    bad = [
        ("not JSON", "n=5"), ("truncated JSON", '{"n": 5'),
        ("trailing bytes", '{"n": 5}x'), ("empty body", ""),
        ("an array", "[5]"), ("no n", "{}"), ("n null", '{"n": null}'),
        ("n 0", '{"n": 0}'), ("n -1", '{"n": -1}'), ("n 1.5", '{"n": 1.5}'),
        ("n true", '{"n": true}'), ("n_max + 1", '{"n": %d}' % (s.n_max + 1)),
        ("a 20-digit n", '{"n": 18446744073709551617}'),
        ("n as an object", '{"n": {"n": 5}}'),
        ("invalid UTF-8", b'{"n": 5, "x": "\xff"}'),
        ("a NUL byte", b'{"n": 5\x00}'),
    ]
    for what, body in bad:
        st, h, parsed = s.api("POST", "/api/tasks", body)
        check("POST /api/tasks with %s answers 400 with an error sentence"
              % what, st == 400 and error_ok(h, parsed), (st, parsed))
    for what, ctype in (("text/plain", "text/plain"),
                        ("a form type", "application/x-www-form-urlencoded"),
                        ("no", None)):
        hdrs = {"Content-Type": ctype} if ctype else {}
        st, h, body = s.request("POST", "/api/tasks", '{"n": 5}', hdrs)
        check("POST /api/tasks with %s content type answers 415" % what,
              st == 415, (st, body[:200]))
    st, h, body = s.api("POST", "/api/tasks", {"n": 5},
                        {"Origin": "http://evil.example"})
    check("POST /api/tasks from a foreign Origin answers 403", st == 403,
          (st, body))
    st, h, body = s.api("POST", "/api/tasks", {"n": 5},
                        {"Sec-Fetch-Site": "cross-site"})
    check("POST /api/tasks with Sec-Fetch-Site cross-site answers 403",
          st == 403, (st, body))
    check("refused API requests add no task", count_tasks(s) == before,
          "%d -> %d" % (before, count_tasks(s)))
    st, h, body = s.api("POST", "/api/tasks", {"n": 5},
                        {"Origin": s.url, "Sec-Fetch-Site": "same-origin"})
    check("POST /api/tasks from the page's own origin answers 201",
          st == 201, (st, body))
    st, h, body = s.api("PUT", "/api/tasks", {"n": 5})
    check("PUT /api/tasks is refused with 405", st == 405, st)


def test_parameters_that_do_not_apply(s):
    """A parameter a route does not take is refused with a sentence that
    names it and what the route takes, not ignored."""
    for path, name, takes in (
            ("/api/tasks?after=3", "after", "limit, before, status or since"),
            ("/api/tasks?limit=5&sort=id", "sort", "since"),
            ("/api/tasks/1?verbose=1", "verbose", "takes since")):
        st, h, body = s.api("GET", path)
        err = (body or {}).get("error", "")
        check("GET %s answers 400 naming %s and what the route takes" % (
            path, name), st == 400 and error_ok(h, body) and
              '"%s"' % name in err and takes in err, (st, body))
    for q in ("limit=5", "before=3", "status=done"):
        name = q.split("=")[0]
        st, h, body = s.api("GET", "/api/tasks?since=0&" + q)
        err = (body or {}).get("error", "")
        check("GET /api/tasks?since=0&%s answers 400: %s does not apply to "
              "a long poll" % (q, name), st == 400 and
              '"%s"' % name in err and "since" in err, (st, body))
    st, h, body = s.api("GET", "/api/tasks?since=0")
    check("since alone is still answered", st == 200, st)
    before = count_tasks(s)
    st, h, body = s.api("POST", "/api/tasks?n=6", {"n": 5})
    check("POST /api/tasks?n=6 answers 400: a POST takes nothing in its "
          "address", st == 400 and '"n"' in (body or {}).get("error", "")
          and count_tasks(s) == before, (st, body))
    st, h, body = s.api("DELETE", "/api/tasks/999999?force=1")
    check("DELETE with a parameter in its address answers 400", st == 400 and
          '"force"' in (body or {}).get("error", ""), (st, body))
    st, h, body = s.request("GET", "/api/tasks?%ff=1")
    try:
        err = json.loads(body).get("error", "")
    except ValueError:
        err = None
    check("a parameter name that is not UTF-8 is quoted safely in valid "
          "JSON", st == 400 and err is not None and '"?"' in err,
          (st, body))


def test_list(s):
    for n in (11, 12, 13):
        st, t = s.api_create(n)
        s.wait_task(t["id"])
    st, h, body = s.api("GET", "/api/tasks")
    ids = [t["id"] for t in body["tasks"]]
    check("GET /api/tasks lists tasks newest first",
          ids == sorted(ids, reverse=True) and len(ids) == count_tasks(s),
          ids)
    check("every listed task has the task shape",
          all(not task_shape_problems(t) for t in body["tasks"]),
          [task_shape_problems(t) for t in body["tasks"]][:3])
    counts = body.get("counts", {})
    db = dict(s.sql("SELECT status, count(*) FROM tasks GROUP BY status"))
    check("the counts match the database",
          all(counts.get(k) == db.get(k, 0) for k in STATUSES), (counts, db))
    version = s.sql("SELECT version FROM queue_state")[0][0]
    check("the list's version is the queue's version",
          body.get("version") == version, (body.get("version"), version))
    st, h, body = s.api("GET", "/api/tasks?limit=2")
    check("?limit=2 gives the 2 newest", st == 200 and
          [t["id"] for t in body["tasks"]] == ids[:2], body)
    st, h, body = s.api("GET", "/api/tasks?before=%d" % ids[1])
    check("?before=ID gives the tasks older than ID", st == 200 and
          [t["id"] for t in body["tasks"]] == ids[2:], body)
    st, h, body = s.api("GET", "/api/tasks?status=done&limit=1000")
    check("?status=done gives only done tasks", st == 200 and
          all(t["status"] == "done" for t in body["tasks"]) and
          len(body["tasks"]) == db.get("done", 0), body)
    for q in ("limit=0", "limit=1001", "limit=x", "status=bogus",
              "before=x", "since=x"):
        st, h, body = s.api("GET", "/api/tasks?" + q)
        check("GET /api/tasks?%s answers 400" % q,
              st == 400 and error_ok(h, body), (st, body))


def test_actions(s):
    """On a stack without a worker, so that tasks stay where put."""
    st, t = s.api_create(99)
    tid = t["id"]
    path = "/api/tasks/%d" % tid

    def status_of():
        rows = s.sql("SELECT status FROM tasks WHERE id = ?", (tid,))
        return rows[0][0] if rows else None

    st, h, body = s.api("POST", path + "/retry", {})
    check("retry of a queued task answers 409", st == 409 and
          error_ok(h, body), (st, body))
    st, h, body = s.api("POST", path + "/cancel", {},
                        {"Origin": "http://evil.example"})
    check("cancel from a foreign Origin answers 403", st == 403 and
          status_of() == "queued", (st, status_of()))
    st, h, body = s.api("POST", path + "/cancel", {})
    check("cancel of a queued task answers 200 with the cancelled task",
          st == 200 and isinstance(body, dict) and
          body.get("status") == "cancelled" and status_of() == "cancelled",
          (st, body))
    st, h, body = s.api("POST", path + "/cancel", {})
    check("cancel of a cancelled task answers 409", st == 409, (st, body))
    st, h, body = s.api("POST", path + "/retry", {})
    check("retry of a cancelled task answers 200 with it queued",
          st == 200 and isinstance(body, dict) and
          body.get("status") == "queued" and status_of() == "queued",
          (st, body))
    st, h, body = s.api("DELETE", path)
    check("DELETE answers 200 with {deleted: id}", st == 200 and
          body == {"deleted": tid} and status_of() is None, (st, body))
    st, h, body = s.api("DELETE", path)
    check("DELETE of a deleted task answers 404", st == 404, (st, body))
    st, h, body = s.api("POST", "/api/tasks/999999/cancel", {})
    check("cancel of an unknown task answers 404", st == 404, (st, body))


def test_cancel_running(s):
    """A running task stops within a second of cancel (design: the worker
    stops it within a second)."""
    st, t = s.api_create(s.n_max)
    if not check("a big task (n=%d) is accepted" % s.n_max, st == 201, st):
        return
    tid = t["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = s.get_task(tid)
        if t["status"] != "queued":
            break
        time.sleep(0.02)
    if not check("the big task starts running", t["status"] == "running", t):
        return
    time.sleep(0.5)
    t0 = time.monotonic()
    st, h, body = s.api("POST", "/api/tasks/%d/cancel" % tid, {})
    check("cancel of a running task answers 200", st == 200, (st, body))
    while time.monotonic() - t0 < 10:
        t = s.get_task(tid)
        if t["status"] != "running":
            break
        time.sleep(0.02)
    secs = time.monotonic() - t0
    tap.diag("cancel_running_ms=%.0f" % (secs * 1000))
    check("the running task is cancelled within 2 s (design: 1 s)",
          t["status"] == "cancelled" and secs < 2, (t, secs))
    st, t2 = s.api_create(3)
    t2 = s.wait_task(t2["id"]) if st == 201 else {}
    check("the worker goes on with the next task after a cancel",
          t2.get("digit") == REF[3], t2)


class Poll(threading.Thread):
    """A long-poll request in a thread; records when its answer came."""

    def __init__(self, s, since, timeout=40):
        super().__init__(daemon=True)
        self.s, self.since, self.timeout = s, since, timeout
        self.result = None
        self.answered_at = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.s.api("GET", "/api/tasks?since=%d" %
                                     self.since, timeout=self.timeout)
        except Exception as e:
            self.error = e
        self.answered_at = time.monotonic()


def current_version(s):
    st, h, body = s.api("GET", "/api/tasks?limit=1")
    return body["version"]


def test_long_poll_wakes(s):
    """Stack without worker, hold_seconds=2."""
    latencies = []
    for i in range(5):
        v = current_version(s)
        p = Poll(s, v)
        time.sleep(0.3)
        held = p.is_alive()
        t_send = time.monotonic()
        st, t = s.api_create(100 + i)
        t_done = time.monotonic()
        p.join(5)
        if not check("long poll %d: held while nothing changes" % (i + 1),
                     held, "answered early: %r" % (p.result,)):
            continue
        if not check("long poll %d: answered after a task was created" %
                     (i + 1), p.result is not None and p.result[0] == 200,
                     (p.result, p.error)):
            continue
        body = p.result[2]
        ids = [x["id"] for x in body.get("tasks", [])]
        check("long poll %d: the answer holds the new task and a newer "
              "version" % (i + 1), t.get("id") in ids and
              body.get("version", 0) > v and body.get("deleted") == [],
              body)
        latencies.append((p.answered_at - t_done) * 1000)
        tap.diag("long poll %d: answered %.1f ms after the POST returned, "
                 "%.1f ms after it was sent" %
                 (i + 1, (p.answered_at - t_done) * 1000,
                  (p.answered_at - t_send) * 1000))
    if latencies:
        med = statistics.median(latencies)
        tap.diag("longpoll_wake_ms median=%.1f max=%.1f" %
                 (med, max(latencies)))
        check("a held long poll answers within 100 ms of a change "
              "(median of 5)", med <= 100, latencies)

    # A delete wakes it too, and is listed in "deleted".
    st, t = s.api_create(200)
    v = current_version(s)
    p = Poll(s, v)
    time.sleep(0.3)
    s.api("DELETE", "/api/tasks/%d" % t["id"])
    p.join(5)
    body = p.result[2] if p.result else {}
    check("a long poll is answered on a delete, listing the id in deleted",
          body.get("deleted") == [t["id"]] and body.get("tasks") == [], body)

    # Nothing changes: held for hold_seconds, then the same version.
    v = current_version(s)
    t0 = time.monotonic()
    p = Poll(s, v)
    p.join(10)
    secs = p.answered_at - t0 if p.answered_at else None
    body = p.result[2] if p.result else {}
    tap.diag("long poll without change answered after %s s" % (
        secs and "%.2f" % secs))
    check("a long poll without change is held for hold_seconds (2 s)",
          secs is not None and 1.8 <= secs <= 3.5, secs)
    check("... and then answered with the same version and no tasks",
          p.result and p.result[0] == 200 and body == {
              "from": v, "version": v, "tasks": [], "deleted": []}, body)

    # An old version is answered at once, oldest change first.
    t0 = time.monotonic()
    st, h, body = s.api("GET", "/api/tasks?since=0")
    secs = time.monotonic() - t0
    versions = [x.get("id") for x in body.get("tasks", [])]
    check("since=0 is answered at once with the tasks there are",
          st == 200 and secs < 1 and len(body.get("tasks", [])) ==
          count_tasks(s), (st, secs, len(body.get("tasks", []))))
    rows = dict(s.sql("SELECT id, version FROM tasks"))
    order = [rows.get(i) for i in versions]
    check("since= lists the oldest change first", order == sorted(order),
          order)


def test_long_poll_worker(s):
    """With a worker: its changes (another process) wake a long poll."""
    v = current_version(s)
    p = Poll(s, v)
    time.sleep(0.2)
    st, t = s.api_create(321)
    p.join(5)
    seen = []
    deadline = time.monotonic() + 20
    while p.result and p.result[0] == 200 and time.monotonic() < deadline:
        body = p.result[2]
        seen += [(x["id"], x["status"]) for x in body["tasks"]]
        if (t["id"], "done") in seen:
            break
        p = Poll(s, body["version"])
        p.join(25)
    check("long polls see a task go through to done (worker's changes "
          "wake them)", (t["id"], "done") in seen, seen)


def iso_ms(text):
    """Milliseconds since the epoch of "2026-11-24T10:55:26.123Z"."""
    import calendar
    secs = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(text[20:23])


def test_long_poll_worker_latency(s):
    """The worker is another process: from its change (finished_at, set in
    the same write as done) to the answer of a held long poll."""
    st, t = s.api_create(3000000)
    if not check("a task of n=3*10^6 is accepted", st == 201, (st, t)):
        return
    tid = t["id"]
    v = current_version(s)
    lat = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        p = Poll(s, v)
        p.join(40)
        wall_ms = time.time() * 1000
        if not p.result or p.result[0] != 200:
            break
        body = p.result[2]
        v = body["version"]
        mine = [x for x in body["tasks"] if x["id"] == tid]
        if mine and mine[-1]["status"] in ("done", "error", "cancelled"):
            if mine[-1]["finished_at"]:
                lat = wall_ms - iso_ms(mine[-1]["finished_at"])
            break
    tap.diag("longpoll_worker_wake_ms=%s (finished_at to the answer)" %
             (lat if lat is None else "%.1f" % lat))
    check("a held long poll answers within 100 ms of the worker finishing "
          "a task", lat is not None and lat <= 100, lat)


def test_more(s):
    """More than 500 changes: the answer is cut at 500 with more: true."""
    now = int(time.time() * 1000)
    v0 = current_version(s)
    s.sql_write("INSERT INTO tasks (n, status, created_at) VALUES (?, ?, ?)",
                [(i + 1, "queued", now) for i in range(600)])
    st, h, body = s.api("GET", "/api/tasks?since=%d" % v0)
    check("since= with 600 changes gives 500 tasks and more: true",
          st == 200 and len(body.get("tasks", [])) == 500 and
          body.get("more") is True, (st, len(body.get("tasks", [])),
                                     body.get("more")))
    if st != 200:
        return
    st, h, body2 = s.api("GET", "/api/tasks?since=%d" % body["version"])
    check("the next since= gives the other 100", st == 200 and
          len(body2.get("tasks", [])) == 100 and not body2.get("more"),
          (st, len(body2.get("tasks", []))))
    ids = {x["id"] for x in body["tasks"]} | {x["id"] for x in
                                              body2.get("tasks", [])}
    check("the two answers together hold all 600 tasks", len(ids) == 600,
          len(ids))


def test_list_sees_own_writes(s):
    """Each change is in the next GET /api/tasks, whichever child answers
    it (each child keeps list answers per queue version)."""
    stale = []
    for i in range(30):
        st, t = s.api_create(100 + i)
        lists = [s.api("GET", "/api/tasks?limit=5")[2] for _ in range(3)]
        if st != 201 or any(t["id"] not in [x["id"] for x in l["tasks"]]
                            for l in lists):
            stale.append((i, st, t.get("id")))
        st, _, _ = s.api("DELETE", "/api/tasks/%d" % t["id"])
        lists = [s.api("GET", "/api/tasks?limit=5")[2] for _ in range(3)]
        if st != 200 or any(t["id"] in [x["id"] for x in l["tasks"]]
                            for l in lists):
            stale.append((i, "delete", st))
    check("a created task is in, and a deleted one out of, every list "
          "asked for right after (30 times, 3 lists each)", not stale,
          stale[:5])


def run():
    with Stack(n_max=10**7, label="api stack") as s:
        test_create_and_get(s)
        test_bad_requests(s)
        test_parameters_that_do_not_apply(s)
        test_list(s)
        test_long_poll_worker(s)
        test_long_poll_worker_latency(s)
        test_cancel_running(s)
    with Stack(worker=False, hold_seconds=2, label="api stack without "
               "worker, hold 2 s") as s:
        test_actions(s)
        test_list_sees_own_writes(s)
        test_long_poll_wakes(s)
        test_more(s)


if __name__ == "__main__":
    tap.main(run)
