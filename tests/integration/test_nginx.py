"""test_nginx.py: what nginx.conf promises: the configuration is valid,
static files with caching and security headers, no version in Server, the
body size limit, /metrics for loopback only, and the rate limit on POSTs."""

import json
import os
import subprocess
import tempfile

import tap
from harness import REPO, Stack, nginx_binary

check = tap.check


def test_checked_in_config():
    """nginx -t on nginx.conf as it is installed. It opens the log files it
    names under /var/log/nginx, so only as root."""
    if os.geteuid() != 0 or not os.path.isdir("/var/log/nginx"):
        tap.skip("nginx -t passes on nginx.conf", "needs root")
        return
    r = subprocess.run([nginx_binary(), "-t", "-c",
                        os.path.join(REPO, "nginx.conf")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check("nginx -t passes on nginx.conf", r.returncode == 0, r.stdout)


def test_generated_config():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
             "--prefix=" + d, "--port=8089", "--socket=%s/x.sock" % d,
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
                  a.split()[0] in ("user", "worker_processes", "pid",
                                   "error_log", "access_log", "server",
                                   "listen", "root", "limit_req_zone",
                                   "limit_req") or a.split()[0].endswith(
                                       "_temp_path") for a, b in changed),
              changed)
        bad = subprocess.run(
            ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
             "--prefix=relative", "--port=1", "--socket=/x", "--htdocs=/y"],
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
    st, h, body = s.request("GET", "/metrics", source="127.0.0.2")
    check("/metrics is refused from another address (127.0.0.2)",
          st == 403, st)


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
        check("a form's 429 is a page that says to wait and links back",
              st == 429 and page_says(h, body, b"Wait a few seconds"),
              (st, h.get("content-type"), body[:300]))
        gets = [s.request("GET", "/api/tasks?limit=1")[0] for _ in range(30)]
        check("GETs are not rate limited", all(g == 200 for g in gets),
              gets)


def run():
    test_checked_in_config()
    test_generated_config()
    with Stack(worker=False, label="nginx stack") as s:
        test_static(s)
        test_limits(s)
        test_unknown_host(s)
    test_rate_limit()


if __name__ == "__main__":
    tap.main(run)
