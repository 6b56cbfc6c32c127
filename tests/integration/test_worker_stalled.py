"""test_worker_stalled.py: a worker stopped with SIGSTOP (stalled, or as
good as gone) shows: within 12 s the main page has its banner, GET
/api/tasks says "worker": "stalled" and a held long poll is answered with
it; after SIGCONT all three say it is back within a few seconds.
"""

import json
import os
import re
import signal
import threading
import time

import tap
from harness import Stack, wait_for

check = tap.check


def banner(s):
    """The main page's worker banner: "shown", "hidden" or None (none)."""
    _, _, body = s.request("GET", "/")
    m = re.search(r'<p id="worker-banner"[^>]*>', body.decode())
    if not m:
        return None
    return "hidden" if " hidden" in m.group(0) else "shown"


def api_worker(s):
    _, _, data = s.api("GET", "/api/tasks")
    return data.get("worker") if isinstance(data, dict) else None


class Poll(threading.Thread):
    """GET /api/tasks?since=V in the background; .answer is the JSON."""

    def __init__(self, s, since):
        super().__init__(daemon=True)
        self.s, self.since, self.answer = s, since, None

    def run(self):
        st, _, data = self.s.request(
            "GET", "/api/tasks?since=%d" % self.since, timeout=60)
        if st == 200:
            self.answer = json.loads(data)


def test_sigstop_shows_and_sigcont_clears():
    label = "stalled worker"
    with Stack(label=label) as s:
        seen = wait_for(lambda: s.sql("SELECT last_seen FROM worker_state"),
                        10)
        if not check("%s: the worker reports in" % label, seen):
            return
        check("%s: while it does, the banner is there but hidden, and the "
              "API says ok" % label,
              banner(s) == "hidden" and api_worker(s) == "ok",
              (banner(s), api_worker(s)))
        _, _, data = s.api("GET", "/api/tasks")
        poll = Poll(s, data["version"])
        poll.start()
        pid = s.worker.pid
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            shown = wait_for(lambda: banner(s) == "shown", 20, step=0.2)
            took = time.monotonic() - t0
            tap.diag("banner after %.1f s" % took)
            check("%s: the main page shows the banner within 12 s of "
                  "SIGSTOP (%.1f s)" % (label, took),
                  shown and took <= 12.5, took)
            check("%s: not before 8 s: the worker was seen less than 2 s "
                  "before it stopped" % label, took >= 7.5, took)
            check("%s: GET /api/tasks says worker stalled" % label,
                  api_worker(s) == "stalled", api_worker(s))
            poll.join(15)
            a = poll.answer or {}
            check("%s: a held long poll is answered with worker stalled" %
                  label, a.get("worker") == "stalled", a)
            since = a.get("version", 0)
        finally:
            os.kill(pid, signal.SIGCONT)
        t1 = time.monotonic()
        poll = Poll(s, since)
        poll.start()
        gone = wait_for(lambda: banner(s) == "hidden", 10, step=0.1)
        took = time.monotonic() - t1
        check("%s: after SIGCONT the banner goes within 3 s (%.1f s)" %
              (label, took), gone and took <= 3, took)
        check("%s: and the API says ok" % label, api_worker(s) == "ok",
              api_worker(s))
        poll.join(10)
        a = poll.answer or {}
        check("%s: a held long poll is answered with worker ok" % label,
              a.get("worker") == "ok", a)
        st, t = s.api_create(100)
        t = s.wait_task(t["id"], timeout=30) if st == 201 else {}
        check("%s: the worker takes tasks again" % label,
              t.get("status") == "done", t)


def run():
    test_sigstop_shows_and_sigcont_clears()


if __name__ == "__main__":
    tap.main(run)
