#!/usr/bin/env python3
"""test_progress.py: a long computation's progress, as a page sees it.

A task for 5*10^7 decimals runs for about 20 s on two cores, through the
series, the final division and square root (single GMP calls of seconds)
and the decimal conversion. A client follows it the way app.js does, with
long polls of GET /api/tasks?since=V, and checks what the issue asks: the
progress moves at least once a second, smoothly (no big jumps, never back)
from 0 to done.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import Stack  # noqa: E402

check = tap.check
N = int(os.environ.get("NTHPI_PROGRESS_N", 50000000))
# "At least once a second", with room for a noisy machine.
MAX_GAP_S = 1.5
# The largest step between two readings a second apart.
MAX_JUMP = 0.15


def follow(s, task_id, timeout):
    """Long-polls until the task ends; returns [(seconds, status,
    progress)] at each change, and the final task."""
    seen, t0, task = [], time.monotonic(), None
    version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
    while time.monotonic() - t0 < timeout:
        st, _, body = s.api("GET", "/api/tasks?since=%d" % version,
                            timeout=40)
        if st != 200:
            raise AssertionError("long poll answered %d: %r" % (st, body))
        version = body["version"]
        for t in body["tasks"]:
            if t["id"] != task_id:
                continue
            task = t
            now = (t["status"], t["progress"])
            if not seen or seen[-1][1:] != now:
                seen.append((time.monotonic() - t0,) + now)
        if task and task["status"] in ("done", "error", "cancelled"):
            break
    return seen, task


def test_progress_moves():
    with Stack(label="progress stack") as s:
        st, t = s.api_create(N)
        if not check("a task for n=%d is accepted" % N, st == 201, (st, t)):
            return
        seen, task = follow(s, t["id"], 300)
        running = [x for x in seen if x[1] == "running"]
        tap.diag("n=%d: %d readings while running, done after %.1f s" %
                 (N, len(running), seen[-1][0] if seen else -1))
        tap.diag("progress: " + " ".join("%.1f:%.3f" % (x[0], x[2])
                                         for x in running))
        check("the task ends done", task and task["status"] == "done" and
              task["progress"] == 1, task)
        if not check("it runs long enough to follow (10 readings or more)",
                     len(running) >= 10, seen):
            return
        # From the first reading after 0 % to the last before done.
        moving = [x for x in running if x[2] > 0]
        gaps = [b[0] - a[0] for a, b in zip(moving, moving[1:])]
        gaps.append(seen[-1][0] - moving[-1][0])
        worst = max(range(len(gaps)), key=lambda i: gaps[i])
        check("the progress moves at least every %.1f s until done "
              "(longest wait %.2f s)" % (MAX_GAP_S, gaps[worst]),
              gaps[worst] <= MAX_GAP_S,
              "after %r" % (moving[worst],))
        steps = [b[2] - a[2] for a, b in zip(running, running[1:])]
        check("it never moves back", min(steps) >= 0, running)
        check("no step is larger than %.2f (largest %.3f)" %
              (MAX_JUMP, max(steps)), max(steps) <= MAX_JUMP, running)
        check("it goes from 0 to past 0.85 before done",
              running[0][2] <= 0.05 and running[-1][2] >= 0.85,
              (running[0], running[-1]))


if __name__ == "__main__":
    tap.main(test_progress_moves)
