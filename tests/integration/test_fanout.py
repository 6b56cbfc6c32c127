"""test_fanout.py: many held long polls at once, through nginx: all of them
are held, pages still load meanwhile, and one change answers them all."""

import statistics
import threading
import time

import tap
from harness import Stack

check = tap.check
POLLS = 200


def run():
    # 4 children x 64 threads (the defaults) serve 256 requests at once.
    with Stack(worker=False, children=4, threads=64, hold_seconds=20,
               label="fan-out stack") as s:
        v = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        done = [None] * POLLS
        results = [None] * POLLS

        def poll(i):
            try:
                results[i] = s.api("GET", "/api/tasks?since=%d" % v,
                                   timeout=30)
            except Exception as e:
                results[i] = (None, None, repr(e))
            done[i] = time.monotonic()

        threads = [threading.Thread(target=poll, args=(i,), daemon=True)
                   for i in range(POLLS)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        held = sum(1 for d in done if d is None)
        check("%d long polls are held at once" % POLLS, held == POLLS,
              "%d answered early: %r" % (POLLS - held,
                                         [r for r in results if r][:3]))
        t0 = time.perf_counter()
        st, h, body = s.request("GET", "/")
        ms = (time.perf_counter() - t0) * 1000
        tap.diag("page_while_%d_held_ms=%.1f" % (POLLS, ms))
        check("GET / answers within 1 s while %d polls are held" % POLLS,
              st == 200 and ms < 1000, (st, ms))
        st, task = s.api_create(5)
        t_change = time.monotonic()
        for t in threads:
            t.join(10)
        answered = [d for d in done if d is not None]
        lat = [(d - t_change) * 1000 for d in answered]
        good = sum(1 for r in results if r and r[0] == 200 and
                   isinstance(r[2], dict) and
                   task.get("id") in [x["id"] for x in r[2]["tasks"]])
        if lat:
            tap.diag("fanout_%d_ms median=%.1f max=%.1f" %
                     (POLLS, statistics.median(lat), max(lat)))
        check("one change answers all %d polls with the new task" % POLLS,
              good == POLLS, "%d of %d; e.g. %r" % (
                  good, POLLS, [r for r in results if not r or
                                r[0] != 200][:3]))
        check("the last of %d polls is answered within 1 s of the change"
              % POLLS, len(lat) == POLLS and max(lat) < 1000,
              lat and max(lat))


if __name__ == "__main__":
    tap.main(run)
