"""test_search.py: the search for a string of digits through nginx: GET
/api/search against a scan of the store for strings of every length from
1 to 20, the places the issue names (14159 at 1, 999999 at 762, at the
very start and end, absent), the errors, the page without script, the
button to a task page (POST /search/task, CSRF-checked), and the index
built again when the store grows."""

import random
import re
import time
import urllib.parse

import tap
from harness import Stack, wait_for

check = tap.check
FIRST = 200000  # decimals of the first computation


def search(s, q, frm=None):
    path = "/api/search?q=" + urllib.parse.quote(q)
    if frm is not None:
        path += "&from=%d" % frm
    return s.api("GET", path)


def scan(digits, q, frm=1):
    """What the search must say, from the store's bytes (digits[0] the 3):
    count, first start >= frm, last before it."""
    count, first, last, at = 0, None, None, digits.find(q, 1)
    while at != -1 and at + len(q) - 1 <= len(digits) - 1:
        count += 1
        if at >= frm and first is None:
            first = at
        if at < frm:
            last = at
        at = digits.find(q, at + 1)
    return count, first, last


def agrees(s, digits, q, frm=1):
    st, _, obj = search(s, q, frm)
    count, first, last = scan(digits, q, frm)
    if st != 200 or obj["count"] != count or obj["position"] != first:
        return False, (q, frm, st, obj, count, first)
    if obj["searched"] != len(digits) - 1 or obj["previous"] != last:
        return False, (q, frm, obj, last)
    if first is not None:
        if obj["before"] != digits[max(1, first - 40):first] or \
                obj["after"] != digits[first + len(q):first + len(q) + 40]:
            return False, (q, obj)
        nxt = scan(digits, q, first + 1)[1]
        if obj["next"] != nxt:
            return False, (q, obj, nxt)
    return True, None


def wait_index(s, decimals):
    def ready():
        st, _, obj = search(s, "14159")
        return st == 200 and obj["searched"] >= decimals
    return wait_for(ready, 60, 0.1)


def read_store(s):
    with open(s.store_path) as f:
        return f.read()


def test_api(s, digits):
    st, h, obj = search(s, "14159")
    check("14159 starts at decimal 1",
          st == 200 and obj["position"] == 1 and obj["q"] == "14159", obj)
    check("the answer has the fields the API names",
          set(obj) >= {"q", "position", "count", "searched", "before",
                       "after"}, obj)
    ok, why = agrees(s, digits, "999999")
    check("999999 starts at decimal 762, counted as a scan counts", ok, why)
    st, _, obj = search(s, "999999")
    check("999999 at 762 has the decimals before it",
          obj["position"] == 762 and obj["before"].endswith("34"), obj)
    st, _, obj = search(s, " 14031879 ")
    check("a birthday with spaces around it is searched",
          st == 200 and obj["q"] == "14031879", obj)
    ok, why = agrees(s, digits, "14031879")
    check("the birthday agrees with a scan", ok, why)
    st, _, obj = search(s, "12345678901234567890")
    check("an absent string: position null, how far it searched",
          st == 200 and obj["position"] is None and obj["count"] == 0 and
          obj["searched"] == len(digits) - 1 and obj["before"] is None, obj)
    n = len(digits) - 1
    bad = []
    for length in range(1, 21):
        for q, frm in ((digits[1:1 + length], 1),
                       (digits[n - length + 1:], 1),
                       (digits[n - length + 1:], n - length + 1)):
            ok, why = agrees(s, digits, q, frm)
            if not ok:
                bad.append(why)
    check("strings at the very start and the very end, every length", not bad,
          bad[:3])
    rnd = random.Random(13)
    bad = []
    for length in range(1, 21):
        for _ in range(3):
            at = rnd.randrange(1, n - length + 2)
            q = digits[at:at + length]
            for frm in (1, at, at + 1, rnd.randrange(1, n + 1)):
                ok, why = agrees(s, digits, q, frm)
                if not ok:
                    bad.append(why)
            q = "".join(rnd.choice("0123456789") for _ in range(length))
            ok, why = agrees(s, digits, q)
            if not ok:
                bad.append(why)
    check("random strings of every length 1..20 agree with a scan", not bad,
          bad[:3])


def test_api_errors(s):
    for query, what in (("", "no q"), ("?q=", "an empty q"),
                        ("?q=12a4", "a letter"), ("?q=3.14", "a point"),
                        ("?q=" + "1" * 21, "21 digits"),
                        ("?q=1&from=0", "from=0"),
                        ("?q=1&from=x", "from=x"),
                        ("?q=1&to=5", "an unknown parameter")):
        st, h, obj = s.api("GET", "/api/search" + query)
        check("/api/search with %s: 400 with a sentence" % what,
              st == 400 and isinstance(obj, dict) and
              obj.get("error", "").endswith("."), (st, obj))
    st, h, obj = s.api("POST", "/api/search?q=1", {})
    check("POST /api/search is refused (405)", st == 405, st)


def test_page(s, digits):
    st, h, body = s.request("GET", "/")
    page = body.decode()
    check("the main page has the search form beside the task form",
          'id="search"' in page and 'action="/search"' in page and
          'id="new-task"' in page, page[:200])
    st, h, body = s.request("GET", "/search?q=14159")
    check("at decimal 1 the digits shown start with the 3.",
          b"3.<mark>14159</mark>" in body, body[-800:])
    check("the pages load search.js, no inline script",
          '<script src="/search.js" defer></script>' in page and
          "<script>" not in page)
    st, h, body = s.request("GET", "/search.js")
    check("search.js is served", st == 200 and b"search-result" in body, st)
    st, h, body = s.request("GET", "/search?q=999999")
    page = body.decode()
    check("GET /search?q=999999: the place, the count, the digits marked",
          st == 200 and ">762</strong>" in page and
          "<mark>999999</mark>" in page and
          digits[722:762] in page, page[-1500:])
    check("it links to the next occurrence",
          re.search(r'rel="next" href="/search\?q=999999&amp;from=\d+"',
                    page) is not None, page[-1500:])
    st, h, body = s.request("GET", "/search?q=14159&from=2")
    page = body.decode()
    check("from=2 links back to the one at decimal 1",
          'href="/search?q=14159&amp;from=1"' in page,
          page[-1500:])
    st, h, body = s.request("GET", "/search?q=12%3Cb%3E")
    page = body.decode()
    check("a bad string: 400, the sentence beside the field, the text kept "
          "and escaped",
          st == 400 and 'id="q-error"' in page and "digits only" in page and
          'value="12&lt;b&gt;"' in page, page[-1500:])
    st, h, body = s.request("GET", "/search?q=98765432109876543210")
    check("an absent string says so and how far it searched",
          st == 200 and b"does not occur" in body and
          str(len(digits) - 1).encode() in body, body[-800:])


def test_task_button(s):
    st, h, body = s.form_post("/search/task", {"q": "999999",
                                               "decimal": "762"})
    loc = h.get("location", "")
    m = re.match(r"^/tasks/(\d+)\?decimal=762#sought$", loc)
    check("the button leads (303) to a task page at decimal 762",
          st == 303 and m is not None, (st, loc, body[:300]))
    if not m:
        return
    task = s.wait_task(int(m.group(1)))
    check("that task is done and shows the place",
          task["status"] == "done" and task["n"] >= 767, task)
    st, h, body = s.request("GET", loc.split("#")[0])
    check("its page marks decimal 762", st == 200 and b'id="sought"' in body,
          st)
    st2, h2, _ = s.form_post("/search/task", {"q": "99", "decimal": "762"})
    check("a place a task already shows reuses that task",
          st2 == 303 and h2.get("location", "").startswith(
              "/tasks/%s?" % m.group(1)), h2.get("location"))
    st, h, body = s.form_post("/search/task", {"q": "999999",
                                               "decimal": "762"}, csrf=False)
    check("without the CSRF token the button is refused (403)", st == 403, st)
    st, h, body = s.form_post("/search/task", {"q": "1",
                                               "decimal": str(10 ** 9)})
    check("a place past the store is refused with a sentence (400)",
          st == 400 and b"past the decimals computed" in body, st)


def test_grows(s):
    st, task = s.api_create(2 * FIRST + 1000)
    s.wait_task(task["id"])
    ok = wait_index(s, 2 * FIRST + 1000)
    check("the index is built again when the store grows", ok)
    digits = read_store(s)
    good, why = agrees(s, digits, digits[-9:])
    check("the grown store's last digits are found", good, why)


def run():
    with Stack(n_max=10 ** 6, label="search stack") as s:
        st, _, obj = search(s, "14159")
        check("with no digits yet, nothing is searched",
              st == 200 and obj["searched"] == 0 and
              obj["position"] is None, (st, obj))
        st, task = s.api_create(FIRST)
        s.wait_task(task["id"])
        started = time.monotonic()
        check("the index is built once the store is written",
              wait_index(s, FIRST))
        tap.diag("index ready %.2f s after the task was done" %
                 (time.monotonic() - started))
        digits = read_store(s)
        test_api(s, digits)
        test_api_errors(s)
        test_page(s, digits)
        test_task_button(s)
        test_grows(s)


if __name__ == "__main__":
    tap.main(run)
