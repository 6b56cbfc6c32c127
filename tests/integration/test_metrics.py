"""test_metrics.py: what an operator reads: /metrics (loopback only, the
Prometheus text format, task gauges and the compute-time histogram from
the time the worker measured, a histogram that never falls), and one log
line per request at the right level."""

import os
import re
import time

import tap
from harness import Stack
from pages import log_since, log_size, scrape_metrics

check = tap.check
STATUSES = ("queued", "running", "done", "error", "cancelled")


def test_metrics(s):
    st, h, m, problems = scrape_metrics(s)
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
    st, h, m2, problems = scrape_metrics(s)
    seen2 = m2.get("nthpi_worker_last_seen_seconds", 0)
    check("an idle worker reports in again within 6 s",
          seen2 > seen and abs(time.time() - seen2) < 6, (seen, seen2))
    # A histogram only grows (Prometheus reads a drop as a restart):
    # deleting a done task leaves it, and the gauge of done tasks falls.
    done = s.sql("SELECT id FROM tasks WHERE status = 'done' AND "
                 "started_at IS NOT NULL LIMIT 1")
    if check("a done task to delete", done, done):
        st, _, _ = s.api("DELETE", "/api/tasks/%d" % done[0][0])
        st2, h, m3, problems = scrape_metrics(s)
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


def run():
    with Stack(n_max=10**6, label="metrics stack") as s:
        tasks = [s.api_create(n)[1] for n in (10, 25000)]
        done = [s.wait_task(t["id"], 60) for t in tasks]
        check("the tasks of n = 10 and 25000 are done",
              all(t["status"] == "done" for t in done), done)
        test_metrics(s)
        test_logs(s)


if __name__ == "__main__":
    tap.main(run)
