"""test_digits_api.py: GET /v1/pi through nginx, the Pi Delivery API's
interface (api.pi.delivery, github.com/GoogleCloudPlatform/pi-delivery
functions.go) served from the digit store: positions from the "3", the
defaults, the 1,000-digit cap, its four error sentences as text/plain,
short answers at the store's end, and CORS (any origin, preflight)."""

import json

import storefile
import tap
from harness import Stack, reference_digits

check = tap.check
REF = reference_digits()  # "3" and 10,000 decimals


def put_store(s, text):
    """Test setup: replaces the digit store and its check file as the
    worker does (temp file, rename)."""
    storefile.put(s.store_path, text)


def get(s, query, method="GET", headers=None):
    return s.request(method, "/v1/pi" + query, headers=headers)


def content_of(st, h, body):
    """The "content" of a 200 JSON answer, or None."""
    if st != 200 or not h.get("content-type", "").startswith(
            "application/json"):
        return None
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict) or set(obj) != {"content"}:
        return None
    return obj["content"]


def test_without_store(s):
    st, h, body = get(s, "?start=0&numberOfDigits=5")
    check("without a digit store, start=0 gives the 3",
          content_of(st, h, body) == "3", (st, body))
    st, h, body = get(s, "?start=1&numberOfDigits=5")
    check("without a digit store, start=1 is out of range",
          st == 400 and body == b"start out of range", (st, body))


def test_content(s):
    st, h, body = get(s, "")
    check("GET /v1/pi answers 200 application/json",
          st == 200 and h.get("content-type", "").startswith(
              "application/json"), (st, h.get("content-type")))
    check("GET /v1/pi without parameters gives the first 100 digits, the "
          "3 first", content_of(st, h, body) == REF[:100], body[:120])
    check("GET /v1/pi allows any origin (Access-Control-Allow-Origin: *)",
          h.get("access-control-allow-origin") == "*", h)
    check("GET /v1/pi answers with the security headers too",
          h.get("x-content-type-options") == "nosniff", h)
    cases = [
        ("start=0&numberOfDigits=1", REF[0]),
        ("start=1&numberOfDigits=1", REF[1]),
        ("start=5&numberOfDigits=1", REF[5]),
        ("start=0&numberOfDigits=50", REF[:50]),
        ("start=1&numberOfDigits=50", REF[1:51]),
        ("start=0&numberOfDigits=0", ""),
        ("start=1&numberOfDigits=0", ""),
        ("start=9000&numberOfDigits=1000", REF[9000:10000]),
        ("numberOfDigits=1000", REF[:1000]),
        ("start=777", REF[777:877]),
        ("start=&numberOfDigits=", REF[:100]),
        ("start=%2B5&numberOfDigits=3", REF[5:8]),
        ("start=005&numberOfDigits=3", REF[5:8]),
        ("start=3&numberOfDigits=4&radix=10", REF[3:7]),
        ("start=2&numberOfDigits=2&other=x", REF[2:4]),
        # Past the store's end: what there is.
        ("start=9990&numberOfDigits=100", REF[9990:]),
        ("start=10000&numberOfDigits=100", REF[10000:]),
        ("start=10000&numberOfDigits=1", REF[10000]),
    ]
    for q, want in cases:
        st, h, body = get(s, "?" + q)
        got = content_of(st, h, body)
        check("GET /v1/pi?%s gives %d digit%s" % (
            q, len(want), "" if len(want) == 1 else "s"), got == want,
            (st, body[:80], want[:40]))
    st, h, body = get(s, "?start=12&numberOfDigits=3")
    check("decimal n is at start=n (start=12 gives decimals 12-14)",
          content_of(st, h, body) == REF[12:15], body)
    check("the answer is {\"content\":\"...\"} and a newline, as the Pi "
          "Delivery API sends it", body == b'{"content":"%s"}\n' %
          REF[12:15].encode(), body)


def test_errors(s):
    cases = [
        ("start=-1", "start is negative"),
        ("start=-1&numberOfDigits=5000", "start is negative"),
        ("start=10001", "start out of range"),
        ("start=9223372036854775807", "start out of range"),
        ("start=99999999999999999999", "start out of range"),
        ("start=-99999999999999999999", "start is negative"),
        ("numberOfDigits=99999999999999999999", "numberOfDigits is too big"),
        ("start=10001&numberOfDigits=-1", "start out of range"),
        ("numberOfDigits=-1", "numberOfDigits is negative"),
        ("start=5&numberOfDigits=-1000", "numberOfDigits is negative"),
        ("numberOfDigits=1001", "numberOfDigits is too big"),
        ("start=0&numberOfDigits=99999999", "numberOfDigits is too big"),
    ]
    for q, want in cases:
        st, h, body = get(s, "?" + q)
        check("GET /v1/pi?%s answers 400 \"%s\"" % (q, want),
              st == 400 and body == want.encode(), (st, body[:120]))
        check("the 400 for %s is text/plain and allows any origin" % q,
              h.get("content-type", "").startswith("text/plain") and
              h.get("access-control-allow-origin") == "*", h)
    for q, name in (("start=abc", "start"), ("start=1.5", "start"),
                    ("start=1e3", "start"), ("start=%201", "start"),
                    ("numberOfDigits=ten", "numberOfDigits"),
                    ("numberOfDigits=0x10", "numberOfDigits"),
                    ("radix=x", "radix")):
        st, h, body = get(s, "?" + q)
        text = body.decode("utf-8", "replace")
        check("GET /v1/pi?%s answers 400 naming %s" % (q, name),
              st == 400 and name in text and "invalid" in text and
              "content" not in text, (st, text))
    st, h, body = get(s, "?radix=16")
    check("radix=16 answers 400 (this store holds decimal digits only)",
          st == 400 and b"radix" in body, (st, body))


def test_methods_and_cors(s):
    st, h, body = get(s, "?start=0&numberOfDigits=10", method="HEAD")
    check("HEAD /v1/pi answers 200 without a body",
          st == 200 and body == b"" and
          h.get("access-control-allow-origin") == "*", (st, body))
    st, h, body = get(s, "?numberOfDigits=3",
                      headers={"Origin": "http://elsewhere.example"})
    check("GET /v1/pi from another site's page answers 200 with "
          "Access-Control-Allow-Origin: *",
          content_of(st, h, body) == "314" and
          h.get("access-control-allow-origin") == "*", (st, h))
    st, h, body = get(s, "?numberOfDigits=3", method="OPTIONS", headers={
        "Origin": "http://elsewhere.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-requested-with"})
    methods = {m.strip() for m in
               h.get("access-control-allow-methods", "").split(",")}
    check("OPTIONS /v1/pi (a preflight) answers 204 allowing GET from any "
          "origin", st == 204 and
          h.get("access-control-allow-origin") == "*" and "GET" in methods,
          (st, h))
    check("the preflight allows the requested headers and may be cached",
          h.get("access-control-allow-headers") == "*" and
          h.get("access-control-max-age", "").isdigit(), h)
    st, h, body = s.request("OPTIONS", "/api/tasks", headers={
        "Origin": "http://elsewhere.example",
        "Access-Control-Request-Method": "POST"})
    check("OPTIONS on the task API grants nothing (405, no "
          "Access-Control-Allow-Origin)", st == 405 and
          "access-control-allow-origin" not in h, (st, h))
    st, h, body = s.request("OPTIONS", "/api/tasks/1", headers={
        "Origin": "http://elsewhere.example",
        "Access-Control-Request-Method": "DELETE"})
    check("a preflight for DELETE /api/tasks/ID is not granted",
          st == 405 and "access-control-allow-origin" not in h, (st, h))
    st, h, body = s.request("POST", "/v1/pi", "{}",
                            {"Content-Type": "application/json"})
    allow = {m.strip() for m in h.get("allow", "").split(",")}
    check("POST /v1/pi answers 405 with Allow: GET, HEAD, OPTIONS",
          st == 405 and allow == {"GET", "HEAD", "OPTIONS"}, (st, h))
    check("the 405 is the API's plain text, readable by any origin",
          plain_refusal(h, body, b"GET, HEAD, OPTIONS"), (h, body))
    for path, st_want, words in (
            ("/v1/nothing", 404, b"/v1/pi?start="),
            ("/v1/pi?start=1&start=2", 400, b"twice"),
            ("/v1/pi?start=%zz", 400, b"percent-escape"),
            ("/v1/pi?x=" + "a" * 3000, 414, b"too long")):
        st, h, body = s.request("GET", path)
        check("GET %s answers %d in the API's plain text, readable by any "
              "origin" % (path[:30], st_want), st == st_want and
              plain_refusal(h, body, words), (st, h, body[:200]))


def plain_refusal(h, body, words):
    """Whether an answer is a /v1/ refusal: a sentence holding words as
    text/plain, with Access-Control-Allow-Origin: *."""
    return h.get("content-type", "").startswith("text/plain") and \
        h.get("access-control-allow-origin") == "*" and \
        words in body and not body.startswith(b"{") and \
        b"<" not in body


def test_store_grows(s):
    put_store(s, REF[:21])
    st, h, body = get(s, "?start=15")
    check("a smaller store gives what it holds (start=15 of 20 decimals)",
          content_of(st, h, body) == REF[15:21], body)
    st, h, body = get(s, "?start=21")
    check("past a smaller store's end, start is out of range",
          st == 400 and body == b"start out of range", body)
    put_store(s, REF)
    st, h, body = get(s, "?start=21&numberOfDigits=5")
    check("once the store is replaced by a larger one, the new digits are "
          "served", content_of(st, h, body) == REF[21:26], body)


def run():
    with Stack(worker=False, label="digits api stack") as s:
        test_without_store(s)
        put_store(s, REF)
        test_content(s)
        test_errors(s)
        test_methods_and_cors(s)
        test_store_grows(s)


if __name__ == "__main__":
    tap.main(run)
