"""test_dashboard.py: what users of a digit service and a task dashboard
expect, through nginx: pi.txt with byte ranges, the task page's pages of
decimals, a repeated n answered from the digit store, the form and API
actions refused without CSRF protection, the main page in pages of 50 with
a status filter, its speed with 100,000 tasks, /metrics, and one log line
per request at the right level.

Prints main_page_100k_ms (median of 20 GET / with 100,000 tasks; the check
allows 300 ms), api_tasks_100k_ms and metrics_100k_ms."""

import datetime
import os
import random
import re
import shutil
import statistics
import subprocess
import time

import tap
from harness import REPO, Stack, reference_digits
from pages import Page, decimals_shown, marked_digit

check = tap.check
REF = reference_digits()
STATUSES = ("queued", "running", "done", "error", "cancelled")
PAGE = 50


def iso_ms(text):
    """Milliseconds since the epoch of "2026-11-24T10:55:26.123Z"."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def last_task_id(s):
    return s.sql("SELECT max(id) FROM tasks")[0][0]


def status_of(s, task_id):
    rows = s.sql("SELECT status FROM tasks WHERE id = ?", (task_id,))
    return rows[0][0] if rows else None


def pre_digits(page, ident):
    """The decimals in <pre id=ident>, without "3." and white space."""
    e = page.by_id(ident)
    if e is None:
        return None
    text = "".join(e.text.split())
    return text[2:] if text.startswith("3.") else text


def log_since(path, offset):
    with open(path, errors="replace") as f:
        f.seek(offset)
        return f.read()


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# ---- pi.txt ---------------------------------------------------------------


def test_pi_txt(s, t):
    n, path = t["n"], "/tasks/%d/pi.txt" % t["id"]
    length = n + 2
    st, h, full = s.request("GET", path)
    check("pi.txt of n=%d answers 200 with \"3.\" and the n decimals" % n,
          st == 200 and len(full) == length and full[:2] == b"3." and
          full[2:10002].decode() == REF[1:min(n, 10000) + 1],
          (st, len(full), full[:20]))
    check("pi.txt of n=%d has Content-Length %d" % (n, length),
          h.get("content-length") == str(length), h.get("content-length"))
    check("pi.txt says Accept-Ranges: bytes",
          h.get("accept-ranges") == "bytes", h)
    check("pi.txt is inline with the file name pi-%d.txt" % n,
          h.get("content-disposition") ==
          'inline; filename="pi-%d.txt"' % n, h.get("content-disposition"))
    check("pi.txt may be kept and revalidated (Cache-Control: no-cache)",
          h.get("cache-control") == "no-cache", h.get("cache-control"))
    check("pi.txt is text/plain", h.get("content-type", "").startswith(
        "text/plain"), h.get("content-type"))
    etag = h.get("etag")
    last = length - 1
    ranges = [
        ("bytes=0-0", 0, 0), ("bytes=0-1", 0, 1), ("bytes=1-2", 1, 2),
        ("bytes=2-2", 2, 2), ("bytes=1-", 1, last),
        ("bytes=%d-%d" % (last, last), last, last),
        ("bytes=%d-" % last, last, last), ("bytes=%d-" % (last - 4),
                                           last - 4, last),
        ("bytes=-1", last, last), ("bytes=-%d" % length, 0, last),
        ("bytes=-%d" % (length + 100), 0, last),
        ("bytes=0-%d" % (last + 100), 0, last),
        ("bytes=10000-20000", 10000, min(20000, last)),
        ("bytes=262140-262200", 262140, min(262200, last)),
        ("BYTES=3-7", 3, 7),
    ]
    for header, a, b in ranges:
        if a > last:
            continue
        st, h, body = s.request("GET", path, headers={"Range": header})
        want = full[a:b + 1]
        check("pi.txt with Range: %s answers 206, bytes %d-%d of %d" %
              (header, a, b, length), st == 206 and body == want and
              h.get("content-range") == "bytes %d-%d/%d" % (a, b, length) and
              h.get("content-length") == str(b - a + 1),
              (st, h.get("content-range"), h.get("content-length"),
               body[:20], want[:20]))
    for header in ("bytes=%d-" % length, "bytes=%d-%d" % (length, length + 9),
                   "bytes=99999999999999999999-", "bytes=-0"):
        st, h, body = s.request("GET", path, headers={"Range": header})
        check("pi.txt with Range: %s answers 416 with Content-Range "
              "bytes */%d" % (header, length), st == 416 and
              h.get("content-range") == "bytes */%d" % length,
              (st, h.get("content-range")))
    for header in ("bytes=5-3", "bytes=0-1,4-5", "bytes=0-1, 4-5",
                   "items=0-1", "bytes=x-", "bytes=1"):
        st, h, body = s.request("GET", path, headers={"Range": header})
        check("pi.txt with Range: %s (not one usable range) answers the "
              "whole 200" % header, st == 200 and body == full, st)
    st, h, body = s.request("GET", path, headers={"Range": "bytes=2-11",
                                                  "If-Range": etag or "x"})
    check("If-Range with the ETag gets the range", etag is not None and
          st == 206 and body == full[2:12], (etag, st))
    for other in ('"pi-1"', "Tue, 24 Nov 2026 10:00:00 GMT"):
        st, h, body = s.request("GET", path, headers={
            "Range": "bytes=2-11", "If-Range": other})
        check("If-Range: %s (not this file) gets the whole file" % other,
              st == 200 and body == full, st)
    st, h, body = s.request("GET", path, headers={"If-None-Match": etag or
                                                  "x"})
    check("If-None-Match with the ETag answers 304 without the digits",
          etag is not None and st == 304 and body == b"" and
          h.get("etag") == etag, (etag, st, len(body)))
    st, h, body = s.request("GET", path, headers={
        "If-None-Match": 'W/"other", ' + (etag or "x")})
    check("... also as the second of a list", st == 304, st)
    st, h, body = s.request("GET", path, headers={"If-None-Match": '"pi-1"'})
    check("If-None-Match with another tag gets the whole file",
          st == 200 and body == full, st)
    st, h, body = s.request("HEAD", path, headers={"Range": "bytes=0-9"})
    check("HEAD with a Range answers 206 with its length and no body",
          st == 206 and body == b"" and h.get("content-length") == "10" and
          h.get("content-range") == "bytes 0-9/%d" % length,
          (st, h.get("content-length"), body[:10]))
    return full


# ---- the task page's pages -------------------------------------------------


def test_task_pages(s, small, big, big_text):
    base = "/tasks/%d" % big["id"]
    n = big["n"]
    pages = (n + 9999) // 10000
    st, h, body = s.request("GET", base)
    p = Page(body)
    check("the page of n=%d shows the first 1,000 decimals" % n,
          pre_digits(p, "digits") == REF[1:1001], st)
    window = pre_digits(p, "digits-window")
    check("it shows the lines up to decimal n, n marked",
          window is not None and big_text.decode().endswith(window) and
          marked_digit(body) == big_text.decode()[-1],
          window and window[-20:])
    links = p.find("a", href=base + "/pi.txt")
    check("it links to pi.txt as a download (not 20 MB shown in the tab)",
          links and "download" in links[0].attrs,
          [a.attrs for a in links])
    check("it links to page 1 and the last page of decimals",
          p.find("a", href=base + "?page=1") and
          p.find("a", href=base + "?page=%d" % pages), body[-1500:])
    forms = [f for f in p.find("form") if f.attrs.get("action") == base]
    check("it has a GET form that goes to any page without a script",
          forms and forms[0].attrs.get("method") == "get" and
          p.find("input", name="page"), [f.attrs for f in p.find("form")])
    text = big_text.decode()
    # ?decimal=D: the page that holds D, D marked ("3." then decimal i at
    # text[i + 1]).
    for d in (12345, 10000, 10001, n):
        st, h, body = s.request("GET", "%s?decimal=%d" % (base, d))
        k = (d - 1) // 10000 + 1
        first = (k - 1) * 10000 + 1
        m = re.search(rb'<mark id="(sought|nth)">(.)</mark>', body)
        check("?decimal=%d shows page %d with decimal %d marked" % (d, k, d),
              st == 200 and pre_digits(Page(body), "digits-page") ==
              text[first + 1:min(k * 10000, n) + 2] and m is not None and
              m.group(2).decode() == text[d + 1] and
              (m.group(1) == b"nth") == (d == n),
              (st, m and m.groups()))
    for q, want in (("?decimal=%d" % (n + 1), 404), ("?decimal=0", 400),
                    ("?decimal=x", 400)):
        st, h, body = s.request("GET", base + q)
        check("%s answers %d saying why" % (q, want), st == want and
              (b"decimal" in body), (st, body[:200]))
    st, h, body = s.request("GET", base + "?page=2")
    check("the pages have a form that goes to a decimal, scrolled to it",
          b'name="decimal"' in body and b'<label for="decimal-top">' in body
          and b'action="%s#sought"' % base.encode() in body)
    check("a page of the task list is never kept (Cache-Control: no-store)",
          s.request("GET", "/")[1].get("cache-control") == "no-store")
    for k in range(1, pages + 1):
        st, h, body = s.request("GET", "%s?page=%d" % (base, k))
        p = Page(body)
        first = (k - 1) * 10000 + 1
        last = min(k * 10000, n)
        check("page %d of n=%d shows decimals %d to %d" % (k, n, first,
                                                           last),
              st == 200 and pre_digits(p, "digits-page") ==
              text[first + 1:last + 2], (st, (pre_digits(
                  p, "digits-page") or "")[:20]))
        prev = p.find("a", rel="prev")
        nxt = p.find("a", rel="next")
        check("page %d links to the previous and next pages as there are"
              % k, (bool(prev) == (k > 1)) and (bool(nxt) == (k < pages)) and
              (k == 1 or prev[0].attrs.get("href") == "%s?page=%d" %
               (base, k - 1)) and
              (k == pages or nxt[0].attrs.get("href") == "%s?page=%d" %
               (base, k + 1)), [a.attrs for a in p.find("a")])
        ids = re.findall(rb'\sid="([^"]*)"', body)
        fors = re.findall(rb'<label for="([^"]*)"', body)
        check("page %d has no id twice, and each label names an id" % k,
              len(ids) == len(set(ids)) and all(f in ids for f in fors),
              (ids, fors))
        if k == pages:
            check("the last page marks decimal n",
                  marked_digit(body) == text[-1], marked_digit(body))
        elif k == 1:
            check("page 1 starts with 3. and marks nothing",
                  b">3." in body and marked_digit(body) is None)
        pre = p.by_id("digits-page")
        lines = pre.text.strip("\n").split("\n") if pre else []
        check("page %d lays the decimals out in groups of 10" % k,
              lines and all(len(g) == 10 for ln in lines[:-1]
                            for g in ln.replace("3.", "").split()),
              lines[:2])
    for q, want in (("?page=%d" % (pages + 1), 404), ("?page=0", 400),
                    ("?page=x", 400), ("?page=-1", 400),
                    ("?page=99999999999999999999", 400)):
        st, h, body = s.request("GET", base + q)
        check("the task page with %s answers %d" % (q, want), st == want, st)
    small_base = "/tasks/%d" % small["id"]
    st, h, body = s.request("GET", small_base)
    digits, _ = decimals_shown(body, small["n"])
    check("a small n (%d) shows all its decimals and no pages" %
          small["n"], digits == REF[1:small["n"] + 1] and
          b"digit-pages" not in body, digits)
    st, h, body = s.request("GET", small_base + "?page=1")
    digits, _ = decimals_shown(body, small["n"])
    check("?page=1 of a small n shows all its decimals", st == 200 and
          digits == REF[1:small["n"] + 1], st)
    st, h, body = s.request("GET", small_base + "?page=2")
    check("?page=2 of a small n answers 404", st == 404, st)


# ---- a repeated n -------------------------------------------------------------


def test_duplicates(s, big):
    st0 = os.stat(s.store_path)
    offset = log_size(s.worker_log)
    status, h, body = s.submit_form(big["n"])
    again_id = last_task_id(s)
    check("a repeated n (%d) is accepted as a task of its own" % big["n"],
          status == 303 and again_id != big["id"], (status, again_id))
    again = s.wait_task(again_id, 30)
    st, small = s.api_create(10)
    small2 = s.wait_task(small["id"], 30) if st == 201 else {}
    check("the repeated task is done with the same digit",
          again["status"] == "done" and again["digit"] == big["digit"],
          again)
    ms = iso_ms(again["finished_at"]) - iso_ms(again["started_at"])
    tap.diag("duplicate_ms=%d (started_at to finished_at)" % ms)
    check("the repeated task takes milliseconds (%d ms, under 500)" % ms,
          0 <= ms < 500, again)
    check("a repeated small n is done from the store too",
          small2.get("digit") == REF[10], small2)
    st1 = os.stat(s.store_path)
    check("the digit store was not rewritten (same size and mtime)",
          (st1.st_size, st1.st_mtime_ns) == (st0.st_size, st0.st_mtime_ns),
          (st0.st_mtime_ns, st1.st_mtime_ns))
    time.sleep(0.2)
    text = log_since(s.worker_log, offset)
    check("the worker answered it from the store without a computation",
          ("task %d: decimal %d is %s (from the store)" %
           (again_id, big["n"], big["digit"])) in text and
          "computed" not in text and "waits for a computation" not in text,
          text[-2000:])
    st, h, body = s.request("GET", "/")
    rows = [r for r in Page(body).rows
            if r["cells"].get("n", "").strip() == str(big["n"])]
    check("the main page shows the repeated n as a row of its own",
          len(rows) >= 2 and len({r["attrs"]["id"] for r in rows}) ==
          len(rows), [r["attrs"] for r in rows])


# ---- /metrics ---------------------------------------------------------------


SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z]+="[^"]*"\})? (-?[0-9.e+]+)$')


def scrape(s):
    """GET /metrics. Returns (status, headers, {"name{labels}": value},
    problems)."""
    st, h, body = s.request("GET", "/metrics")
    samples, problems, typed = {}, [], set()
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("bad line %r" % line)
            continue
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and base not in typed:
            problems.append("no TYPE before %r" % line)
        samples[name + (m.group(2) or "")] = float(m.group(3))
    return st, h, samples, problems


def test_metrics(s):
    st, h, m, problems = scrape(s)
    check("GET /metrics answers 200 in the Prometheus text format 0.0.4",
          st == 200 and h.get("content-type", "").startswith(
              "text/plain; version=0.0.4"), (st, h.get("content-type")))
    check("every sample line is well-formed and has a TYPE", not problems,
          problems)
    db = dict(s.sql("SELECT status, count(*) FROM tasks GROUP BY status"))
    check("nthpi_tasks{status} matches the database for every status",
          all(m.get('nthpi_tasks{status="%s"}' % k) == db.get(k, 0)
              for k in STATUSES), (m, db))
    check("nthpi_queue_depth is the number of queued tasks",
          m.get("nthpi_queue_depth") == db.get("queued", 0), m)
    # The time the worker measured, as the histogram's triggers take it.
    rows = s.sql("SELECT coalesce(elapsed_ms, max(0, finished_at - "
                 "started_at)) FROM tasks WHERE status = 'done' AND "
                 "(elapsed_ms IS NOT NULL OR (started_at IS NOT NULL AND "
                 "finished_at IS NOT NULL))")
    bounds = ["0.01", "0.1", "1", "10", "60", "600", "3600", "+Inf"]
    buckets = [m.get('nthpi_compute_seconds_bucket{le="%s"}' % b)
               for b in bounds]
    want = [sum(1 for (d,) in rows if b == "+Inf" or d <= float(b) * 1000)
            for b in bounds]
    check("nthpi_compute_seconds has cumulative buckets that match the done "
          "tasks", buckets == want, (buckets, want))
    check("its _count and _sum match the done tasks",
          m.get("nthpi_compute_seconds_count") == len(rows) and
          abs(m.get("nthpi_compute_seconds_sum", -1) -
              sum(d for (d,) in rows) / 1000) < 0.002,
          (m.get("nthpi_compute_seconds_count"),
           m.get("nthpi_compute_seconds_sum"), rows[:5]))
    check("nthpi_digit_store_decimals is the store's size less the 3",
          m.get("nthpi_digit_store_decimals") ==
          os.path.getsize(s.store_path) - 1, m)
    seen = m.get("nthpi_worker_last_seen_seconds", 0)
    check("nthpi_worker_last_seen_seconds is a recent Unix time",
          abs(time.time() - seen) < 10, (seen, time.time()))
    # Idle, the worker still reports in every few seconds.
    time.sleep(6)
    st, h, m2, problems = scrape(s)
    seen2 = m2.get("nthpi_worker_last_seen_seconds", 0)
    check("an idle worker reports in again within 6 s",
          seen2 > seen and abs(time.time() - seen2) < 6, (seen, seen2))
    # A histogram only grows (Prometheus reads a drop as a restart):
    # deleting a done task leaves it, and the gauge of done tasks falls.
    done = s.sql("SELECT id FROM tasks WHERE status = 'done' AND "
                 "started_at IS NOT NULL LIMIT 1")
    if check("a done task to delete", done, done):
        st, _, _ = s.api("DELETE", "/api/tasks/%d" % done[0][0])
        st2, h, m3, problems = scrape(s)
        check("deleting a done task leaves the histogram as it was, and "
              "the done gauge falls by one",
              st == 200 and all(
                  m3.get(k) == m2.get(k) for k in m2
                  if k.startswith("nthpi_compute_seconds")) and
              m3.get('nthpi_tasks{status="done"}') ==
              m2.get('nthpi_tasks{status="done"}') - 1,
              (st, {k: (m2.get(k), m3.get(k)) for k in m2
                    if "compute_seconds_count" in k or "done" in k}))
    st, h, body = s.request("GET", "/metrics", source="127.0.0.2")
    check("/metrics from another address than 127.0.0.1 is refused by "
          "nginx (403)", st == 403, st)


# ---- logs ---------------------------------------------------------------


def test_logs(s):
    offset = log_size(s.fcgi_log)
    s.request("GET", "/")
    s.request("GET", "/tasks/999999")
    s.request("GET", "/v1/pi?start=-1")
    s.request("GET", "/api/tasks?limit=1")
    time.sleep(0.3)
    text = log_since(s.fcgi_log, offset)
    lines = text.splitlines()
    check("a 404 is logged once at info with method, path, status and time",
          sum(1 for ln in lines if re.search(
              r"\]: info: GET /tasks/999999: 404 in \d+ ms$", ln)) == 1,
          text[-1500:])
    check("a 400 of /v1/pi is logged at info",
          any(re.search(r"\]: info: GET /v1/pi: 400 in", ln)
              for ln in lines), text[-1500:])
    check("successful requests are not logged at info (debug only)",
          not any(re.search(r"GET /(api/tasks)?: 200", ln) for ln in lines),
          text[-1500:])
    check("every request line has a level", all(
        re.search(r"\]: (debug|info|warn|error): ", ln) for ln in lines),
        lines[:10])


# ---- CSRF on every action ------------------------------------------------


def test_actions_csrf(s):
    """Every action, as a form and through the API, refused without the
    token or from another site, and done with them."""
    def new_task(cancelled=False):
        st, t = s.api_create(4242)
        if cancelled:
            s.api("POST", "/api/tasks/%d/cancel" % t["id"], {})
        return t["id"]

    token, cookie = s.get_csrf()
    form_refusals = [
        ("without token or cookie", dict(csrf=False)),
        ("with a wrong token", dict(csrf=("0" * len(token), cookie))),
        ("with the token but no cookie", dict(csrf=(token, ""),
                                              headers={"Cookie": ""})),
        ("from a foreign Origin", dict(csrf=(token, cookie),
                                       origin="http://evil.example")),
        ("with Origin null", dict(csrf=(token, cookie), origin="null")),
        ("with Sec-Fetch-Site cross-site",
         dict(csrf=(token, cookie), headers={"Sec-Fetch-Site": "cross-site"})),
    ]
    for action, cancelled, done in (("cancel", False, "cancelled"),
                                    ("retry", True, "queued"),
                                    ("delete", False, None)):
        tid = new_task(cancelled)
        before = status_of(s, tid)
        path = "/tasks/%d/%s" % (tid, action)
        for what, kw in form_refusals:
            st, h, body = s.form_post(path, [], **kw)
            check("the %s form %s is refused with 403" % (action, what),
                  st == 403 and status_of(s, tid) == before,
                  (st, status_of(s, tid)))
        st, h, body = s.form_post(path, [], csrf=(token, cookie))
        check("the %s form with the token answers 303 to the list and acts"
              % action, st == 303 and status_of(s, tid) == done and
              h.get("location") == "/", (st, h.get("location"),
                                         status_of(s, tid)))
        # The same form on the task page comes back to it, but a deleted
        # task has no page left.
        tid = new_task(cancelled)
        st, h, page = s.request("GET", "/tasks/%d" % tid)
        forms = [f for f in Page(page).find("form")
                 if f.attrs.get("action") == "/tasks/%d/%s" % (tid, action)]
        m = re.search(rb'action="/tasks/%d/%s".*?</form>' %
                      (tid, action.encode()), page, re.S)
        back = bool(m) and b'name="back" value="task"' in m.group(0)
        st, h, body = s.form_post("/tasks/%d/%s" % (tid, action),
                                  [("back", "task")] if back else [],
                                  csrf=(token, cookie))
        want = "/" if action == "delete" else "/tasks/%d" % tid
        check("from the task page, the %s form answers 303 to %s" %
              (action, "the list" if action == "delete" else "the task page"),
              forms and back == (action != "delete") and st == 303 and
              h.get("location") == want and status_of(s, tid) == done,
              (len(forms), back, st, h.get("location")))

    api_refusals = [
        ("from a foreign Origin", {"Origin": "http://evil.example"}, None,
         403),
        ("with Sec-Fetch-Site cross-site", {"Sec-Fetch-Site": "cross-site"},
         None, 403),
        ("as text/plain (a cross-site form could send it)", {},
         "text/plain", 415),
        ("as a form type", {}, "application/x-www-form-urlencoded", 415),
        ("without a content type", {}, "", 415),
    ]
    for action, cancelled, done in (("cancel", False, "cancelled"),
                                    ("retry", True, "queued")):
        tid = new_task(cancelled)
        before = status_of(s, tid)
        path = "/api/tasks/%d/%s" % (tid, action)
        for what, hdrs, ctype, want in api_refusals:
            h = dict(hdrs)
            if ctype is None:
                h["Content-Type"] = "application/json"
            elif ctype:
                h["Content-Type"] = ctype
            st, _, body = s.request("POST", path, "{}", h)
            check("POST %s %s is refused with %d" %
                  (path.replace(str(tid), "ID"), what, want),
                  st == want and status_of(s, tid) == before,
                  (st, status_of(s, tid), body[:200]))
        st, _, body = s.api("POST", path, {})
        check("POST /api/tasks/ID/%s from the page's origin acts" % action,
              st == 200 and status_of(s, tid) == done, (st, body))
    tid = new_task()
    for what, hdrs in (("from a foreign Origin",
                        {"Origin": "http://evil.example"}),
                       ("with Sec-Fetch-Site cross-site",
                        {"Sec-Fetch-Site": "cross-site"})):
        st, _, body = s.request("DELETE", "/api/tasks/%d" % tid, None, hdrs)
        check("DELETE /api/tasks/ID %s is refused with 403" % what,
              st == 403 and status_of(s, tid) == "queued", (st, body))
    st, _, body = s.api("DELETE", "/api/tasks/%d" % tid)
    check("DELETE /api/tasks/ID from the page's origin deletes",
          st == 200 and status_of(s, tid) is None, (st, body))


# ---- the main page in pages ---------------------------------------------------


def insert_tasks(s, count, seed=1):
    """Test setup: count tasks, statuses in turn, inserted with SQL (the
    triggers keep the versions as the app would)."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    rows = []
    for i in range(count):
        status = STATUSES[i % 5]
        created = now - (count - i) * 10
        started = created + 5 if status in ("running", "done",
                                            "error") else None
        finished = started + rng.randrange(1, 5000) if status in (
            "done", "error") else None
        rows.append((rng.randrange(1, 10**7), status,
                     rng.randrange(10) if status == "done" else None,
                     "out of memory" if status == "error" else None,
                     0.5 if status == "running" else
                     (1.0 if status == "done" else 0.0),
                     created, started, finished))
    s.sql_write("INSERT INTO tasks (n, status, digit, error, progress, "
                "created_at, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def row_ids(page):
    return [int(r["attrs"]["data-id"]) for r in page.rows]


def link(page, rel):
    a = page.find("a", rel=rel)
    return a[0].attrs.get("href").replace("&amp;", "&") if a else None


def walk(s, start, rel):
    """Follows rel links from start. Returns the list of (url, page)."""
    out, url = [], start
    while url is not None and len(out) < 20:
        st, h, body = s.request("GET", url)
        if st != 200:
            out.append((url, None))
            break
        p = Page(body)
        out.append((url, p))
        url = link(p, rel)
    return out


def test_pi_txt_not_done(s):
    """pi.txt of a task without digits says why, and what to do."""
    st, _, t = s.api("POST", "/api/tasks", {"n": 12})
    path = "/tasks/%d/pi.txt" % t["id"]
    st, h, body = s.request("GET", path)
    check("pi.txt of a queued task answers 409: once it is done",
          st == 409 and b"once it is done" in body, (st, body[:200]))
    s.api("POST", "/api/tasks/%d/cancel" % t["id"], {})
    st, h, body = s.request("GET", path)
    check("pi.txt of a cancelled task answers 409: it has no digits, retry "
          "it", st == 409 and b"was cancelled" in body and
          b"Retry it" in body, (st, body[:200]))
    st, h, body = s.request("GET", "/tasks/%d" % t["id"])
    check("the page of a task not started shows a dash for Ran for",
          re.search(rb'<dd class="ran">\xe2\x80\x94</dd>', body) is not None,
          body[:100])


def test_paging(s):
    insert_tasks(s, 300)
    ids = [r[0] for r in s.sql("SELECT id FROM tasks ORDER BY id DESC")]
    st, h, body = s.request("GET", "/")
    p = Page(body)
    table = p.by_id("tasks")
    check("the main page shows the 50 newest tasks, newest first",
          row_ids(p) == ids[:PAGE], row_ids(p)[:5])
    check("table#tasks says it is the newest page of 50, unfiltered",
          table.attrs.get("data-page") == "newest" and
          table.attrs.get("data-page-size") == "50" and
          "data-filter" not in table.attrs, table.attrs)
    check("the newest page links to older tasks (?before=the last id) "
          "and to no newer", link(p, "next") == "/?before=%d" % ids[PAGE - 1]
          and link(p, "prev") is None, (link(p, "next"), link(p, "prev")))
    pages = walk(s, "/", "next")
    seen = [i for _, pg in pages if pg for i in row_ids(pg)]
    check("following the older links shows every task once, in order, 50 "
          "a page (%d pages)" % len(pages), seen == ids and
          [len(row_ids(pg)) for _, pg in pages] == [50] * 6,
          [(u, len(row_ids(pg)) if pg else None) for u, pg in pages])
    second = pages[1][1]
    check("an older page is marked data-page=older and links to the newer "
          "page and the newest", second.by_id("tasks").attrs.get(
              "data-page") == "older" and
          link(second, "prev") == "/?after=%d" % ids[PAGE] and
          second.find("a", href="/"), (link(second, "prev")))
    back = walk(s, pages[-1][0], "prev")
    check("following the newer links from the last page comes back page by "
          "page to the newest", [row_ids(pg) for _, pg in back] ==
          [row_ids(pg) for _, pg in reversed(pages)] and
          back[-1][1].by_id("tasks").attrs.get("data-page") == "newest",
          [u for u, _ in back])

    done = [r[0] for r in s.sql(
        "SELECT id FROM tasks WHERE status = 'done' ORDER BY id DESC")]
    st, h, body = s.request("GET", "/?status=done")
    p = Page(body)
    check("?status=done shows the 50 newest done tasks only",
          st == 200 and row_ids(p) == done[:PAGE] and
          all(r["attrs"]["data-status"] == "done" for r in p.rows),
          row_ids(p)[:5])
    check("table#tasks says the page is filtered by done",
          p.by_id("tasks").attrs.get("data-filter") == "done", p.by_id(
              "tasks").attrs)
    check("the filter is kept in the older link",
          link(p, "next") == "/?status=done&before=%d" % done[PAGE - 1],
          link(p, "next"))
    filtered = walk(s, "/?status=done", "next")
    check("paging through done tasks shows each once",
          [i for _, pg in filtered if pg for i in row_ids(pg)] == done,
          [u for u, _ in filtered])
    back = walk(s, filtered[-1][0], "prev")
    check("the filter is kept in the newer links",
          all("status=done" in u for u, _ in back[:-1]) and
          back[-1][0].startswith("/?status=done") and
          row_ids(back[-1][1]) == done[:PAGE], [u for u, _ in back])
    db = dict(s.sql("SELECT status, count(*) FROM tasks GROUP BY status"))
    st, h, body = s.request("GET", "/")
    p = Page(body)
    for k in STATUSES:
        e = p.by_id("count-%s" % k)
        a = p.find("a", href="/?status=%s" % k)
        check("the header count of %s (%d) links to /?status=%s" %
              (k, db.get(k, 0), k), e is not None and
              e.text.strip() == str(db.get(k, 0)) and a, e and e.text)
    st, h, body = s.request("GET", "/?status=error")
    p = Page(body)
    cur = [a.attrs.get("href") for a in p.find("a")
           if a.attrs.get("aria-current") == "page"]
    check("on a filtered page its count is marked as the current page",
          cur == ["/?status=error"], cur)
    for q in ("status=bogus", "status=DONE", "before=x", "after=0",
              "before=5&after=5", "before=-1"):
        st, h, body = s.request("GET", "/?" + q)
        check("GET /?%s answers 400" % q, st == 400, st)
    st, h, body = s.request("GET", "/?status=")
    check("GET /?status= (empty) shows all tasks",
          st == 200 and row_ids(Page(body)) == ids[:PAGE], st)
    st, h, body = s.request("GET", "/?before=1")
    p = Page(body)
    check("a page older than the oldest task is empty and links to the "
          "newest", st == 200 and row_ids(p) == [] and
          link(p, "prev") is None and p.find("a", href="/"),
          (st, link(p, "prev")))
    st, h, body = s.api("GET", "/api/tasks?status=done&limit=10&before=%d" %
                        done[5])
    check("GET /api/tasks?status=&limit=&before= pages the API likewise",
          st == 200 and [t["id"] for t in body["tasks"]] == done[6:16],
          body and [t["id"] for t in body.get("tasks", [])])


# ---- 100,000 tasks ----------------------------------------------------------


def median_ms(s, path, count=20):
    """Median ms of count GET path through nginx; also prints the median
    of the app's own time (its Server-Timing header)."""
    s.request("GET", path)  # warms caches
    samples, app = [], []
    for _ in range(count):
        t0 = time.perf_counter()
        st, h, body = s.request("GET", path)
        samples.append((time.perf_counter() - t0) * 1000)
        if st != 200:
            return None, st, body
        m = re.search(r"app;dur=([0-9.]+)", h.get("server-timing", ""))
        if m:
            app.append(float(m.group(1)))
    if app:
        tap.diag("%s: the app's own time %.1f ms (median)" %
                 (path, statistics.median(app)))
    return statistics.median(samples), st, body


def test_scale(s):
    have = s.sql("SELECT count(*) FROM tasks")[0][0]
    t0 = time.monotonic()
    insert_tasks(s, 100000 - have, seed=2)
    tap.diag("inserted %d tasks in %.1f s" % (100000 - have,
                                               time.monotonic() - t0))
    total = s.sql("SELECT count(*) FROM tasks")[0][0]
    check("100,000 tasks are in the database", total == 100000, total)
    ids = [r[0] for r in s.sql(
        "SELECT id FROM tasks ORDER BY id DESC LIMIT 50")]
    med, st, body = median_ms(s, "/")
    tap.diag("main_page_100k_ms=%.1f (median of 20 GET / through nginx, "
             "%d bytes)" % (med or -1, len(body)))
    p = Page(body)
    check("GET / with 100,000 tasks shows the 50 newest",
          st == 200 and row_ids(p) == ids, (st, row_ids(p)[:3]))
    check("GET / with 100,000 tasks takes under 300 ms (median of 20)",
          med is not None and med < 300, med)
    mid = ids[0] // 2
    for what, path in (("?status=done", "/?status=done"),
                       ("?before=the middle", "/?before=%d" % mid),
                       ("?after=the middle", "/?after=%d" % mid),
                       ("?status=running&before=the middle",
                        "/?status=running&before=%d" % mid)):
        med, st, body = median_ms(s, path)
        tap.diag("main_page_100k_ms %s: %.1f" % (what, med or -1))
        check("GET /%s with 100,000 tasks takes under 300 ms" % what,
              med is not None and med < 300 and len(Page(body).rows) == 50,
              (med, st))
    med, st, body = median_ms(s, "/api/tasks")
    tap.diag("api_tasks_100k_ms=%.1f (median of 20 GET /api/tasks)" %
             (med or -1))
    check("GET /api/tasks with 100,000 tasks takes under 300 ms",
          med is not None and med < 300, med)
    med, st, body = median_ms(s, "/metrics")
    tap.diag("metrics_100k_ms=%.1f (median of 20 GET /metrics)" %
             (med or -1))
    check("GET /metrics with 100,000 tasks takes under 300 ms",
          med is not None and med < 300, med)
    st, h, m, problems = scrape(s)
    check("/metrics counts 100,000 tasks",
          sum(m.get('nthpi_tasks{status="%s"}' % k, 0)
              for k in STATUSES) == 100000, m)


# ---- live updates on filtered and older pages (a browser) ---------------


def test_live_pages(s):
    """tests/browser/live_pages.mjs in chromium: the page script keeps each
    page of the list what a reload shows, "stopping…" reaches every tab,
    and a task's page follows its task."""
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if node is None or not os.access(chromium, os.X_OK) or not os.path.isdir(
            os.path.join(REPO, "tests", "browser", "node_modules",
                         "playwright-core")):
        tap.skip("live updates on filtered and older pages",
                 "node, chromium or playwright-core is missing "
                 "(make deps-test)")
        return
    now = int(time.time() * 1000)
    s.sql_write("INSERT INTO tasks (n, status, created_at, finished_at) "
                "VALUES (?, ?, ?, ?)",
                [(i, "queued" if i % 2 else "cancelled", now + i,
                  None if i % 2 else now + i) for i in range(1, 121)])
    # Running, and staying so: there is no worker to finish or stop them.
    s.sql_write("INSERT INTO tasks (n, status, progress, created_at, "
                "started_at) VALUES (?, 'running', 0.25, ?, ?)",
                [(10**6 + i, now + i, now + i) for i in range(121, 124)])
    try:
        p = subprocess.run([node, "tests/browser/live_pages.mjs", s.url],
                           cwd=REPO, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=240)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = e.stdout or "", None
    results = 0
    for line in out.splitlines():
        if line.startswith("ok - "):
            results += 1
            check("live: " + line[5:], True)
        elif line.startswith("not ok - "):
            results += 1
            check("live: " + line[9:], False)
        elif line.strip():
            tap.diag(line.lstrip("# "))
    check("live_pages.mjs exits 0 having run its checks",
          rc == 0 and results > 0, "exit status %s" % rc)


def run():
    with Stack(n_max=10**6, label="dashboard stack") as s:
        st, small = s.api_create(10)
        st, big = s.api_create(25000)
        st, large = s.api_create(300000)
        small = s.wait_task(small["id"], 60)
        big = s.wait_task(big["id"], 60)
        large = s.wait_task(large["id"], 120)
        if check("the tasks of n = 10, 25000 and 300000 are done",
                 all(t["status"] == "done" for t in (small, big, large)),
                 (small, big, large)):
            test_pi_txt(s, small)
            big_text = test_pi_txt(s, big)
            test_pi_txt(s, large)
            test_task_pages(s, small, big, big_text)
            test_duplicates(s, big)
        test_metrics(s)
        test_logs(s)
    with Stack(worker=False, label="actions stack") as s:
        test_actions_csrf(s)
        test_pi_txt_not_done(s)
    with Stack(worker=False, label="live pages stack") as s:
        test_live_pages(s)
    with Stack(worker=False, label="scale stack") as s:
        test_paging(s)
        test_scale(s)


if __name__ == "__main__":
    tap.main(run)
