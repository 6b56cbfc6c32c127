"""test_nginx.py: what nginx.conf promises: the configuration is valid,
static files with caching and security headers, no version in Server, the
body size limit, /metrics for loopback only, the rate limit on POSTs and
the limit on held long polls, and nginx's own refusals in the words and
headers of the part of the site asked for."""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time

import tap
from harness import REPO, Stack, nginx_binary

check = tap.check


def test_checked_in_config():
    """nginx -t on nginx.conf as it is installed. It opens the log files it
    names under /var/log/nginx, so only as root; and it binds the publisher
    socket, whose directory (/run/nthpi) exists only where nthpi runs: that
    one path is moved into a temp dir, nothing else changes."""
    if os.geteuid() != 0 or not os.path.isdir("/var/log/nginx"):
        tap.skip("nginx -t passes on nginx.conf", "needs root")
        return
    with open(os.path.join(REPO, "nginx.conf")) as f:
        text = f.read()
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(text.replace("unix:/run/nthpi/publish.sock",
                                 "unix:%s/publish.sock" % d))
        r = subprocess.run([nginx_binary(), "-t", "-c", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    check("nginx -t passes on nginx.conf", r.returncode == 0, r.stdout)


def test_generated_config():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
             "--prefix=" + d, "--port=8089", "--socket=%s/x.sock" % d,
             "--publish=%s/p.sock" % d,
             "--htdocs=" + os.path.join(REPO, "htdocs"), "--no-user"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check("nginx-conf.sh writes a configuration", r.returncode == 0,
              r.stderr)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(r.stdout)
        t = subprocess.run([nginx_binary(), "-t", "-p", d, "-c", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        check("nginx -t passes on the generated configuration",
              t.returncode == 0, t.stdout)
        with open(os.path.join(REPO, "nginx.conf")) as f:
            orig = f.read().splitlines()
        gen = r.stdout.splitlines()[1:]
        changed = [(a, b) for a, b in zip(orig, gen) if a != b]
        check("the generated configuration changes only paths, port, user, "
              "workers and rate limit, line for line",
              len(orig) == len(gen) and all(
                  a.split()[0] in ("load_module", "user", "worker_processes",
                                   "pid",
                                   "error_log", "access_log", "server",
                                   "listen", "root", "limit_req_zone",
                                   "limit_req") or a.split()[0].endswith(
                                       "_temp_path") for a, b in changed),
              changed)
        bad = subprocess.run(
            ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
             "--prefix=relative", "--port=1", "--socket=/x", "--htdocs=/y",
             "--publish=/z"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check("nginx-conf.sh refuses a relative prefix", bad.returncode != 0)


def test_static(s):
    for path, ctype in (("/style.css", "text/css"),
                        ("/app.js", "application/javascript")):
        if not os.path.exists(os.path.join(REPO, "htdocs", path[1:])):
            check("htdocs%s exists" % path, False)
            continue
        st, h, body = s.request("GET", path)
        with open(os.path.join(REPO, "htdocs", path[1:]), "rb") as f:
            want = f.read()
        check("GET %s serves htdocs%s as %s" % (path, path, ctype),
              st == 200 and body == want and
              h.get("content-type", "").startswith(ctype),
              (st, h.get("content-type")))
        check("GET %s has a Cache-Control max-age and a validator" % path,
              "max-age=" in h.get("cache-control", "") and
              ("etag" in h or "last-modified" in h), h)
        check("GET %s has the CSP, nosniff and Referrer-Policy" % path,
              "frame-ancestors 'none'" in h.get(
                  "content-security-policy", "") and
              h.get("x-content-type-options") == "nosniff" and
              h.get("referrer-policy") == "same-origin", h)
        if "etag" in h:
            st, h2, body = s.request("GET", path,
                                     headers={"If-None-Match": h["etag"]})
            check("GET %s with its ETag answers 304" % path, st == 304, st)
    st, h, body = s.request("GET", "/no-such-file.css")
    check("a missing static file answers 404 with nosniff", st == 404 and
          h.get("x-content-type-options") == "nosniff", (st, h))
    st, h, body = s.request("GET", "/../../etc/passwd")
    check("a path out of htdocs answers 400 or 404", st in (400, 404), st)
    check("the Server header names no version",
          h.get("server", "nginx") == "nginx", h.get("server"))


def test_limits(s):
    st, h, body = s.request("POST", "/api/tasks", b'{"n": 5' + b" " * 20000
                            + b"}", {"Content-Type": "application/json"})
    check("a 20 kB body is refused with 413", st == 413, st)
    check("the API's 413 is JSON that says the limit",
          api_error(h, body, "16 KiB"), (h.get("content-type"), body[:300]))
    st, h, body = s.request("POST", "/tasks", b"n=5&x=" + b"a" * 20000,
                            {"Content-Type":
                             "application/x-www-form-urlencoded"})
    check("a 20 kB form is refused with a page that says the limit and "
          "links back", st == 413 and page_says(h, body, b"16 KiB"),
          (st, h.get("content-type"), body[:300]))
    st, h, body = s.request("GET", "/no/such/page")
    check("an unknown address gets a 404 page that links to the task "
          "list, with the security headers",
          st == 404 and page_says(h, body, b"Not found") and
          secure_headers(h), (st, h, body[:300]))
    st, h, body = s.request("GET", "/metrics")
    check("/metrics is not refused from 127.0.0.1", st != 403, st)
    # nginx.conf allows 127.0.0.1 and ::1 only; 127.0.0.2 is outside
    # that list, though on loopback, which is what lets a test try it.
    st, h, body = s.request("GET", "/metrics", source="127.0.0.2")
    check("/metrics is refused from another address (127.0.0.2)",
          st == 403, st)
    check("the 403 of /metrics is a page that says it is for this host "
          "only and links back, with the security headers",
          page_says(h, body, b"loopback") and secure_headers(h),
          (h, body[:300]))


def raw(s, data):
    """Sends bytes as they are; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", s.port), 10) as c:
        c.sendall(data)
        chunks = []
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except OSError:
            pass
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    h = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), h, body


def refusal_problems(area, h, body, words):
    """What is wrong with an nginx refusal for area ("api", "v1" or
    "page"): its form, its sentence (holding words) and its headers."""
    p = []
    ctype = h.get("content-type", "")
    if area == "api":
        try:
            err = json.loads(body).get("error", "")
        except (ValueError, AttributeError):
            err = ""
        if not ctype.startswith("application/json") or words not in err:
            p.append("not JSON holding %r: %r %r" % (words, ctype, body))
    elif area == "v1":
        if not ctype.startswith("text/plain") or \
                words.encode() not in body or b"<" in body:
            p.append("not plain text holding %r: %r %r" % (words, ctype,
                                                          body))
        if h.get("access-control-allow-origin") != "*":
            p.append("no Access-Control-Allow-Origin: *")
    elif not page_says(h, body, words.encode()):
        p.append("not a page holding %r with a link to /: %r %r" % (
            words, ctype, body))
    if area != "v1" and "access-control-allow-origin" in h:
        p.append("Access-Control-Allow-Origin outside /v1/")
    if b"nginx" in body:
        p.append("nginx's own page")
    if not secure_headers(h) or h.get("referrer-policy") != "same-origin":
        p.append("security headers missing: %r" % h)
    return p


AREAS = (("api", "/api/tasks"), ("v1", "/v1/pi"), ("page", "/tasks/1"))


def test_refusals(s):
    """nginx's 400 (headers too large), 414 and 405, before the app sees
    the request, in each part's language: JSON under /api/, plain text
    with CORS under /v1/, a page elsewhere."""
    big = "a" * 9000
    for area, path in AREAS:
        st, h, body = s.request("GET", path + "?x=" + big)
        check("nginx's 414 under %s is the part's own sentence, with the "
              "security headers" % path, st == 414 and not
              refusal_problems(area, h, body, "8 KiB"),
              (st, refusal_problems(area, h, body, "8 KiB")))
        st, h, body = s.request("GET", path, headers={"X-Big": big})
        check("nginx's 400 for a header too long under %s is the part's "
              "own sentence" % path, st == 400 and not
              refusal_problems(area, h, body, "8 KiB a line"),
              (st, refusal_problems(area, h, body, "8 KiB a line")))
        # Before Host nginx does not know the server: the default one
        # (of the 421) refuses it, in the same words.
        st, h, body = raw(s, ("GET %s HTTP/1.1\r\nCookie: %s\r\nHost: "
                              "127.0.0.1\r\nConnection: close\r\n\r\n" %
                              (path, big)).encode())
        check("nginx's 400 for a header too long before Host, under %s, "
              "is the same sentence" % path, st == 400 and not
              refusal_problems(area, h, body, "8 KiB a line"),
              (st, refusal_problems(area, h, body, "8 KiB a line")))
    st, h, body = raw(s, b"HEAD /v1/pi?x=" + big.encode() +
                      b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n")
    check("a HEAD refused 414 has the headers and no body", st == 414 and
          body == b"" and h.get("access-control-allow-origin") == "*",
          (st, h, body))
    st, h, body = s.request("POST", "/style.css", "x")
    check("nginx's 405 for a POST to a static file is a page with a "
          "sentence", st == 405 and not
          refusal_problems("page", h, body, "GET and HEAD"),
          (st, refusal_problems("page", h, body, "GET and HEAD")))
    st, h, body = s.request("GET", "/.nthpi-refusal/414.json")
    check("the refusals' own location is not reachable from outside (a 404 "
          "page)", st == 404 and page_says(h, body, b"Not found"),
          (st, body[:200]))


def test_bare_prefixes(s):
    """/api and /v1 without the slash: a 404 that names the addresses
    there are, in the part's language (nginx used to answer its 301)."""
    st, h, body = s.api("GET", "/api")
    check("GET /api answers a JSON 404 that names /api/tasks",
          st == 404 and "/api/tasks" in (body or {}).get("error", ""),
          (st, body))
    st, h, body = s.request("GET", "/v1")
    check("GET /v1 answers a plain 404 that names /v1/pi, readable by any "
          "origin", st == 404 and h.get("content-type", "").startswith(
              "text/plain") and b"/v1/pi?start=" in body and
          h.get("access-control-allow-origin") == "*", (st, h, body))
    st, h, body = s.request("POST", "/api", "{}",
                            {"Content-Type": "application/json"})
    check("POST /api answers the JSON 404 too, not a redirect", st == 404 and
          "location" not in h, (st, h))


def api_error(h, body, words):
    """Whether body is the API's {"error": sentence} holding words."""
    try:
        err = json.loads(body).get("error", "")
    except ValueError:
        return False
    return h.get("content-type", "").startswith("application/json") and \
        words in err


def page_says(h, body, words):
    """Whether body is an HTML page holding words and a link to /."""
    return h.get("content-type", "").startswith("text/html") and \
        words in body and b'href="/"' in body


def secure_headers(h):
    return "default-src 'self'" in h.get("content-security-policy", "") \
        and h.get("x-content-type-options") == "nosniff"


def test_unknown_host(s):
    st, h, body = s.request("POST", "/api/tasks", b'{"n": 5}',
                            {"Host": "attacker.example",
                             "Origin": "http://attacker.example",
                             "Content-Type": "application/json"})
    check("a request for another host name (DNS rebinding) gets 421",
          st == 421, st)
    check("the 421 says what to do", b"server_name" in body, body[:200])
    check("nginx's own answers carry the security headers",
          "default-src 'self'" in h.get("content-security-policy", "") and
          h.get("x-content-type-options") == "nosniff", h)
    st, h, body = s.request("GET", "/", headers={"Host": "localhost"})
    check("the page answers for localhost too", st == 200, st)


def test_rate_limit():
    """A stack with 1 POST a minute and a burst of 5: the sixth and later
    POSTs in a quick row get 429 (a minute, so that a stalled machine does
    not free a slot); GETs are not limited."""
    with Stack(worker=False, rate="1r/m", burst=5,
               label="rate limit stack") as s:
        statuses = []
        for i in range(12):
            st, h, body = s.request("POST", "/api/tasks", '{"n": 0}',
                                    {"Content-Type": "application/json"})
            statuses.append(st)
        check("POSTs beyond the burst are answered 429",
              429 in statuses[6:] and 429 not in statuses[:5], statuses)
        st, h, body = s.request("POST", "/api/tasks", '{"n": 0}',
                                {"Content-Type": "application/json"})
        check("the API's 429 is JSON that says to wait, with the security "
              "headers", st == 429 and api_error(h, body, "Wait") and
              secure_headers(h), (st, h, body[:300]))
        st, h, body = s.request("POST", "/tasks", "n=5",
                                {"Content-Type":
                                 "application/x-www-form-urlencoded"})
        check("the API's 429 says when to try again (Retry-After)",
              h.get("retry-after", "").isdigit(), h)
        st, h, body = s.request("POST", "/tasks", "n=5",
                                {"Content-Type":
                                 "application/x-www-form-urlencoded"})
        check("a form's 429 is a page that says to wait and links back",
              st == 429 and page_says(h, body, b"Wait a few seconds"),
              (st, h.get("content-type"), body[:300]))
        check("the form's 429 has Retry-After and the security headers",
              h.get("retry-after", "").isdigit() and secure_headers(h) and
              h.get("referrer-policy") == "same-origin", h)
        st, h, body = s.request("POST", "/v1/pi", "")
        check("a 429 under /v1/ is plain text that any origin may read, "
              "with Retry-After", st == 429 and not refusal_problems(
                  "v1", h, body, "Wait") and
              h.get("retry-after", "").isdigit(),
              (st, h, body[:300]))
        gets = [s.request("GET", "/api/tasks?limit=1")[0] for _ in range(30)]
        check("GETs are not rate limited", all(g == 200 for g in gets),
              gets)


def test_poll_limit():
    """100 long polls held at once from an address other than 127.0.0.1
    (127.0.0.2: loopback is exempt, and nginx.conf names 127.0.0.1 only):
    the 101st gets nginx's 429 in JSON with Retry-After. Enough threads
    that the app holds them all (it keeps a tenth free of polls)."""
    with Stack(worker=False, children=2, threads=80, hold_seconds=6,
               label="poll limit stack") as s:
        version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        path = "/api/tasks?since=%d" % version
        done = []

        def poll():
            try:
                done.append(s.request("GET", path, source="127.0.0.2",
                                      timeout=30)[0])
            except OSError as e:
                done.append(str(e))

        threads = [threading.Thread(target=poll) for _ in range(100)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        held = 100 - len(done)
        st, h, data = s.request("GET", path, source="127.0.0.2")
        try:
            err = json.loads(data).get("error", "")
        except ValueError:
            err = ""
        for t in threads:
            t.join()
        tap.diag("held %d polls from 127.0.0.2; the next got %s" % (held,
                                                                     st))
        check("with 100 polls held from one address, the next gets 429",
              held == 100 and st == 429, (held, st, done[:5]))
        check("that 429 is JSON that names the held polls and says to try "
              "again, with Retry-After and the security headers",
              "100 long polls" in err and "try again" in err and
              h.get("retry-after", "").isdigit() and secure_headers(h),
              (h, data[:300]))
        check("the held polls then end as holds do (200)",
              done.count(200) == 100, done[:10])


def run():
    test_checked_in_config()
    test_generated_config()
    with Stack(worker=False, label="nginx stack") as s:
        test_static(s)
        test_limits(s)
        test_refusals(s)
        test_bare_prefixes(s)
        test_unknown_host(s)
    test_rate_limit()
    test_poll_limit()


if __name__ == "__main__":
    tap.main(run)
