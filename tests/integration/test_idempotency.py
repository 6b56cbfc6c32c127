"""test_idempotency.py: a submission sent again makes no second task. POST
/api/tasks with an Idempotency-Key: the same key and n within 24 h answer
200 with the same task; another n 422 with a sentence; a malformed key 400.
The form without script: its one-time field ("once") sent again makes no
second task either.
"""

import re
import threading
import urllib.parse

import tap
from harness import Stack

check = tap.check
KEY = "0123456789abcdef-test_KEY"


def post(s, n, key):
    h = {} if key is None else {"Idempotency-Key": key}
    return s.api("POST", "/api/tasks", {"n": n}, headers=h)


def tasks_with(s, n):
    return s.sql("SELECT count(*) FROM tasks WHERE n = ?", (n,))[0][0]


def test_api_key(s):
    label = "api"
    st1, h1, t1 = post(s, 1234, KEY)
    st2, h2, t2 = post(s, 1234, KEY)
    check("%s: the first POST with a key makes a task (201)" % label,
          st1 == 201 and isinstance(t1, dict), (st1, t1))
    check("%s: the same POST again answers 200 with the same task" % label,
          st2 == 200 and isinstance(t2, dict) and t2.get("id") == t1["id"],
          (st2, t2))
    check("%s: ... with its Location, marked as replayed" % label,
          h2.get("location") == "/api/tasks/%d" % t1["id"] and
          h2.get("idempotent-replayed") == "true", h2)
    check("%s: one task only" % label, tasks_with(s, 1234) == 1,
          tasks_with(s, 1234))
    st, _, body = post(s, 999, KEY)
    err = body.get("error", "") if isinstance(body, dict) else ""
    check("%s: the same key with another n is 422 with a sentence that "
          "names the first n" % label,
          st == 422 and "n = 1234" in err and err.endswith("."), (st, body))
    check("%s: ... and makes no task" % label, tasks_with(s, 999) == 0)
    st, _, t3 = post(s, 1234, KEY + "x")
    check("%s: another key makes another task" % label,
          st == 201 and t3.get("id") != t1["id"], (st, t3))
    st, _, t4 = post(s, 1234, None)
    check("%s: no key: a new task each time, as before" % label, st == 201,
          st)

    for bad in ("short-key", "x" * 129, "has space 0123456789",
                "bad!chars0123456789", "cl\u00e90123456789abcdef"):
        st, _, body = post(s, 4321, bad)
        err = body.get("error", "") if isinstance(body, dict) else ""
        check("%s: key %r is refused with 400 and a sentence" %
              (label, bad[:24]),
              st == 400 and "Idempotency-Key" in err, (st, body))
    check("%s: no refused key made a task" % label, tasks_with(s, 4321) == 0)

    # A key past 24 h is forgotten: the same request makes a new task.
    s.sql_write("UPDATE request_keys SET created_at = created_at - "
                "25 * 3600 * 1000 WHERE key = 'api:%s'" % KEY)
    st, _, t5 = post(s, 1234, KEY)
    check("%s: a key older than 24 h makes a new task" % label,
          st == 201 and t5.get("id") not in (t1["id"], t3["id"]), (st, t5))

    # A key whose task was deleted makes a new one.
    s.api("DELETE", "/api/tasks/%d" % t5["id"])
    st, _, t6 = post(s, 1234, KEY)
    check("%s: a key whose task was deleted makes a new task" % label,
          st == 201 and t6.get("id") != t5["id"], (st, t6))

    # Sent at once from many connections: still one task.
    key = "concurrent-0123456789"
    out = []
    threads = [threading.Thread(target=lambda: out.append(
        post(s, 5555, key)[0])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("%s: 8 concurrent POSTs with one key make one task (one 201, "
          "seven 200)" % label,
          sorted(out) == [200] * 7 + [201] and tasks_with(s, 5555) == 1,
          (out, tasks_with(s, 5555)))


def form_fields(s):
    """GET / as a new visitor: (csrf token, once value, cookie)."""
    st, h, body = s.request("GET", "/")
    page = body.decode()
    form = re.search(r'<form id="new-task".*?</form>', page, re.S)
    form = form.group(0) if form else ""
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    once = re.search(r'name="once" value="([^"]+)"', form)
    cookie = re.search(r"nthpi_csrf=([^;,\s]+)", h.get("set-cookie", ""))
    return (csrf and csrf.group(1), once and once.group(1),
            cookie and "nthpi_csrf=" + cookie.group(1))


def send_form(s, n, csrf, once, cookie):
    fields = [("n", str(n)), ("csrf", csrf), ("once", once)]
    return s.request("POST", "/tasks", urllib.parse.urlencode(fields),
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "Cookie": cookie, "Origin": s.url})


def test_form_once(s):
    label = "form"
    csrf, once, cookie = form_fields(s)
    if not check("%s: the new-task form has a one-time field" % label,
                 csrf and once and cookie, (csrf, once, cookie)):
        return
    check("%s: each page load gives a new one" % label,
          form_fields(s)[1] not in (None, once))
    st1, h1, _ = send_form(s, 77, csrf, once, cookie)
    st2, h2, _ = send_form(s, 77, csrf, once, cookie)
    check("%s: sent twice, both answer 303 to /" % label,
          st1 == 303 and st2 == 303 and h2.get("location") == "/",
          (st1, st2, h2.get("location")))
    check("%s: sent twice, one task" % label, tasks_with(s, 77) == 1,
          tasks_with(s, 77))
    st, _, body = send_form(s, 78, csrf, once, cookie)
    page = body.decode()
    m = re.search(r'<p id="n-error"[^>]*>([^<]*)</p>', page)
    check("%s: the same form with another n is 422, said beside the field" %
          label, st == 422 and m and "n = 77" in m.group(1), (st, m and
                                                               m.group(1)))
    check("%s: ... makes no task, and the page comes with a new one-time "
          "field" % label,
          tasks_with(s, 78) == 0 and 'name="once"' in page and
          once not in page)
    st, _, body = send_form(s, 79, csrf, "not valid!", cookie)
    check("%s: a changed one-time field is 400 with a sentence" % label,
          st == 400 and "one-time field" in body.decode(), st)


def run():
    with Stack(worker=False, label="idempotency") as s:
        for fn in (test_api_key, test_form_once):
            try:
                fn(s)
            except Exception:
                import traceback
                check("%s ran to the end" % fn.__name__, False,
                      traceback.format_exc())


if __name__ == "__main__":
    tap.main(run)
