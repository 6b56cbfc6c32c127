"""test_digits.py: the digits that come out, end to end: tasks submitted
through nginx (form and API), computed by the real worker, checked against
the reference digits of pi (tests/data)."""

import hashlib
import os
import random
import time

import tap
from harness import Stack, reference_digits, reference_sha256

check = tap.check
REF = reference_digits()


def test_small_n(s):
    seed = int(os.environ.get("NTHPI_SEED", time.time()))
    tap.diag("random n from seed %d (NTHPI_SEED to repeat)" % seed)
    rng = random.Random(seed)
    # 762..768 is the Feynman point (six 9s from 762 to 767).
    ns = [1, 2, 3, 5, 10, 100, 761, 762, 763, 764, 765, 766, 767, 768, 769,
          1000, 9999, 10000] + sorted(rng.sample(range(1, 10001), 8))
    ids = {}
    for n in ns:
        status, t = s.api_create(n)
        if check("POST /api/tasks n=%d answers 201" % n, status == 201 and
                 isinstance(t, dict) and "id" in t, (status, t)):
            ids[n] = t["id"]
    for n, task_id in ids.items():
        t = s.wait_task(task_id, timeout=120)
        check("the digit of n=%d is %s" % (n, REF[n]),
              t["status"] == "done" and t["digit"] == REF[n],
              "task %r" % t)

    # The same through the HTML form, which takes another path in the app.
    for n in (6, 767):
        status, h, body = s.submit_form(n)
        rows = s.sql("SELECT id, n FROM tasks ORDER BY id DESC LIMIT 1")
        if not check("the form accepts n=%d" % n, status == 303 and rows and
                     rows[0][1] == n, status):
            continue
        t = s.wait_task(rows[0][0], timeout=120)
        check("the digit of n=%d asked through the form is %s" % (n, REF[n]),
              t["digit"] == REF[n], t)


def test_store_matches_reference(s):
    with open(s.store_path, "rb") as f:
        head = f.read(10001)
    check("the digit store starts with 3 and the 10000 reference decimals",
          head == REF.encode(), "store starts %r" % head[:40])


def test_million(s):
    n = 1000000
    t0 = time.monotonic()
    status, t = s.api_create(n)
    if not check("POST /api/tasks n=10^6 answers 201", status == 201,
                 (status, t)):
        return
    t = s.wait_task(t["id"], timeout=600)
    secs = time.monotonic() - t0
    tap.diag("n=10^6 took %.1f s from submission to done" % secs)
    if not check("the task n=10^6 is done", t["status"] == "done", t):
        return
    with open(s.store_path, "rb") as f:
        head = f.read(n + 1)
    check("the digit store holds at least 10^6 decimals",
          len(head) == n + 1, "read %d bytes" % len(head))
    got = hashlib.sha256(head).hexdigest()
    want = reference_sha256(n)
    check("SHA-256 of the store's first 10^6 decimals matches the "
          "reference", got == want, "got %s want %s" % (got, want))
    check("the digit of n=10^6 is the store's byte 10^6",
          len(head) == n + 1 and t["digit"] == chr(head[n]),
          "task %r, store %r" % (t["digit"], head[n:n + 1]))

    status, h, body = s.request("GET", "/tasks/%d/pi.txt" % t["id"],
                                timeout=60)
    if status == 404:
        tap.skip("GET /tasks/ID/pi.txt gives the digits",
                 "the app has no such route")
        return
    digits = body.replace(b".", b"").replace(b"\n", b"").replace(b"\r", b"")
    check("GET /tasks/ID/pi.txt of n=10^6 answers 200 text/plain",
          status == 200 and h.get("content-type", "").startswith(
              "text/plain"), (status, h.get("content-type")))
    check("GET /tasks/ID/pi.txt of n=10^6 gives 3 and the reference "
          "decimals", hashlib.sha256(digits[:n + 1]).hexdigest() == want and
          len(digits) == n + 1, "%d bytes, starts %r" % (len(body),
                                                        body[:20]))


def run():
    with Stack(label="digits stack") as s:
        test_small_n(s)
        test_store_matches_reference(s)
        test_million(s)


if __name__ == "__main__":
    tap.main(run)
