"""test_task_pages.py: what a user of a digit service expects of a task's
own pages, through nginx: pi.txt with byte ranges, ETag and If-Range, and
what it answers while a task is not done; the task page's pages of
decimals with its page and decimal jumps; a repeated n answered from the
digit store."""

import datetime
import os
import re
import time

import tap
from harness import Stack, reference_digits
from pages import Page, decimals_shown, log_since, log_size, marked_digit

check = tap.check
REF = reference_digits()


def iso_ms(text):
    """Milliseconds since the epoch of "2026-11-24T10:55:26.123Z"."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def last_task_id(s):
    return s.sql("SELECT max(id) FROM tasks")[0][0]


def pre_digits(page, ident):
    """The decimals in <pre id=ident>, without "3." and white space."""
    e = page.by_id(ident)
    if e is None:
        return None
    text = "".join(e.text.split())
    return text[2:] if text.startswith("3.") else text


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


def run():
    with Stack(n_max=10**6, label="task pages stack") as s:
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
    with Stack(worker=False, label="not done stack") as s:
        test_pi_txt_not_done(s)


if __name__ == "__main__":
    tap.main(run)
