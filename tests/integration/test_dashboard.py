"""test_dashboard.py: the task table as a user of a dashboard meets it,
through nginx: the form and API actions refused without CSRF protection,
the main page in pages of 50 with a status filter and Older/Newer links,
live pages that stay what a reload shows (live_pages.mjs), and its speed
with 100,000 tasks.

Prints main_page_100k_ms (median of 20 GET / with 100,000 tasks; the check
allows 300 ms), api_tasks_100k_ms and metrics_100k_ms."""

import os
import random
import re
import shutil
import statistics
import subprocess
import time

import tap
from harness import REPO, Stack
from pages import Page, scrape_metrics

check = tap.check
STATUSES = ("queued", "running", "done", "error", "cancelled")
PAGE = 50


def status_of(s, task_id):
    rows = s.sql("SELECT status FROM tasks WHERE id = ?", (task_id,))
    return rows[0][0] if rows else None


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
    st, h, m, problems = scrape_metrics(s)
    check("/metrics counts 100,000 tasks",
          sum(m.get('nthpi_tasks{status="%s"}' % k, 0)
              for k in STATUSES) == 100000, m)


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
    with Stack(worker=False, label="actions stack") as s:
        test_actions_csrf(s)
    with Stack(worker=False, label="live pages stack") as s:
        test_live_pages(s)
    with Stack(worker=False, label="scale stack") as s:
        test_paging(s)
        test_scale(s)


if __name__ == "__main__":
    tap.main(run)
