"""test_hostile.py: bad and hostile requests through nginx are refused with
a 4xx and a sentence, change nothing and crash nothing; CSRF on every
state-changing route; the security headers on every kind of answer; a
task's error text is shown as text; the queue cap answers 503.

Every request tried is listed as a "# tried: ..." line: what it is, the
request, the status and the start of the message. For each, the checks
are: a 4xx in the expected set; from the app, {"error": sentence} for
/api and a page with the sentence (p#error-message or p#n-error) for
pages; from nginx (a request it refuses before the app sees it), its own
4xx; no task added; the FastCGI children still the same processes; a
valid request right after still answered.

test_api.py and test_tasks_html.py hold the plain bad values of n (empty,
zero, signs, spaces, 20 digits, ...) and the basic CSRF cases of POST
/tasks and /api/tasks; these are the hostile ones, and every route.
"""

import json
import os
import re
import socket

import tap
from harness import REPO, Stack
from pages import Page

check = tap.check
N_MAX = 10000
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# The methods each route answers (docs/design.md, cgi-bin/route.c).
ROUTES = [
    ("/", {"GET", "HEAD"}),
    ("/tasks", {"POST"}),
    ("/tasks/1", {"GET", "HEAD"}),
    ("/tasks/1/pi.txt", {"GET", "HEAD"}),
    ("/tasks/1/cancel", {"POST"}),
    ("/tasks/1/retry", {"POST"}),
    ("/tasks/1/delete", {"POST"}),
    ("/api/tasks", {"GET", "HEAD", "POST"}),
    ("/api/tasks/1", {"GET", "HEAD", "DELETE"}),
    ("/api/tasks/1/cancel", {"POST"}),
    ("/api/tasks/1/retry", {"POST"}),
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
           "PROPFIND", "FOO"]


def count_tasks(s):
    return s.sql("SELECT count(*) FROM tasks")[0][0]


def header_problems(h):
    """What is missing of the security headers, as a list."""
    p = []
    csp = h.get("content-security-policy", "")
    for want in ("default-src 'self'", "frame-ancestors 'none'"):
        if want not in csp:
            p.append("CSP lacks %s: %r" % (want, csp))
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        p.append("CSP allows unsafe-inline/eval: %r" % csp)
    if h.get("x-content-type-options") != "nosniff":
        p.append("X-Content-Type-Options %r" % h.get(
            "x-content-type-options"))
    if h.get("referrer-policy") != "same-origin":
        p.append("Referrer-Policy %r" % h.get("referrer-policy"))
    return p


def nginx_bodies():
    """The answers nginx.conf words itself (return CODE "text", and the
    refusals' texts in the map $nthpi_refusal), as nginx sends them."""
    with open(os.path.join(REPO, "nginx.conf")) as f:
        conf = f.read()
    quoted = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
    refusals = re.search(r"map \$uri \$nthpi_refusal \{(.*?)\n    \}", conf,
                         re.S)
    out = set()
    for m in list(re.finditer(r"return\s+4\d\d\s+" + quoted + ";", conf)) + \
            list(re.finditer(r"\n\s*\S+\s+" + quoted + ";",
                             refusals.group(1) if refusals else "")):
        text = m.group(1) if m.group(1) is not None else m.group(2)
        text = re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(
            e.group(1), e.group(1)), text)
        out.add(text.encode())
    return out


NGINX_BODIES = nginx_bodies()


def from_nginx(h, body):
    """Whether the answer is one of nginx's own: its built-in error pages,
    or the ones nginx.conf words."""
    return body in NGINX_BODIES or (
        not h.get("content-type", "").startswith(JSON) and
        b"<center>nginx</center>" in body)


def message_of(h, body):
    """The sentence of an error answer from the app, or None."""
    ctype = h.get("content-type", "")
    if ctype.startswith(JSON):
        try:
            obj = json.loads(body)
        except ValueError:
            return None
        if isinstance(obj, dict) and set(obj) == {"error"} and \
                isinstance(obj["error"], str):
            return obj["error"]
        return None
    if ctype.startswith("text/html"):
        try:
            p = Page(body.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        for ident in ("error-message", "n-error"):
            e = p.by_id(ident)
            if e is not None and e.text.strip():
                return " ".join(e.text.split())
    return None


class Hostile:
    """Sends the bad requests and keeps the state they must not change."""

    def __init__(self, s):
        self.s = s
        self.kids = self.initial = s.fcgi_children()
        self.tried = 0

    def raw(self, data, half_close=False, timeout=5):
        """Sends bytes as they are. Returns (status or None, headers,
        body)."""
        with socket.create_connection(("127.0.0.1", self.s.port),
                                      timeout) as c:
            c.sendall(data)
            if half_close:
                c.shutdown(socket.SHUT_WR)
            chunks = []
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
            except OSError:
                pass
        data = b"".join(chunks)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        if not m:
            return None, {}, data
        head, _, body = data.partition(b"\r\n\r\n")
        h = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            h[k.strip().lower()] = v.strip()
        return int(m.group(1)), h, body

    def tried_line(self, what, desc, st, h, body):
        msg = message_of(h, body)
        who = "nginx" if from_nginx(h, body) else "app"
        tap.diag("tried: %s: %s -> %s (%s) %s" % (
            what, desc, st, who if st else "no answer",
            json.dumps(msg[:110]) if msg else ""))
        return msg, who

    def one(self, what, method, path, body=None, headers=None, expect=(400,),
            who="app", raw=None, half_close=False, extra=None):
        """Sends one bad request and checks the answer. who: "app" (must
        be answered by nthpi-fcgi with a sentence), "nginx" (refused by
        nginx before the app) or "either". extra(st, h, body) may return a
        problem sentence."""
        s = self.s
        before = count_tasks(s)
        if raw is not None:
            st, h, data = self.raw(raw, half_close)
            desc = repr(raw[:70])[2:-1] + ("..." if len(raw) > 70 else "")
        else:
            st, h, data = s.request(method, path, body, headers)
            desc = "%s %s" % (method, path[:70] + (
                "..." if len(path) > 70 else ""))
            if body:
                b = body if isinstance(body, bytes) else body.encode()
                desc += " body %r%s (%d bytes)" % (
                    b[:40], "..." if len(b) > 40 else "", len(b))
        self.tried += 1
        msg, answered_by = self.tried_line(what, desc, st, h, data)
        problems = []
        if st not in expect:
            problems.append("status %s, want %s" % (st, sorted(
                e for e in expect if e is not None)))
        if st is not None and not 400 <= st < 500:
            problems.append("not a 4xx")
        if who != "either" and st is not None and answered_by != who:
            problems.append("answered by %s, want %s" % (answered_by, who))
        if answered_by == "app" and st is not None:
            if path and path.startswith("/api") and not h.get(
                    "content-type", "").startswith(JSON):
                problems.append("an /api error that is not JSON")
            if msg is None or len(msg) < 10:
                problems.append("no error sentence: %r" % data[:200])
            problems += header_problems(h)
        if extra:
            p = extra(st, h, data)
            if p:
                problems.append(p)
        after = count_tasks(s)
        if after != before:
            problems.append("tasks %d -> %d" % (before, after))
        kids = s.fcgi_children()
        if kids != self.kids or s.fcgi.poll() is not None:
            problems.append("FastCGI children %r -> %r" % (self.kids, kids))
            self.kids = kids
        st2 = s.request("GET", "/api/tasks?limit=1")[0]
        if st2 != 200:
            problems.append("the next valid request answered %s" % st2)
        check("hostile: %s is refused (%s)%s" % (what, st, "" if st else
              " without an answer"), not problems, "; ".join(problems))
        return st, h, data


def no_raw(needle):
    """An extra check: the raw bytes do not appear in the answer."""
    def f(st, h, body):
        if needle in body:
            return "the answer holds %r unescaped" % needle
        return None
    return f


def test_inputs(s):
    hx = Hostile(s)
    token, cookie = s.get_csrf()
    form = {"Content-Type": FORM, "Cookie": cookie, "Origin": s.url}
    jh = {"Content-Type": JSON}

    def f(body):
        return body + "&csrf=" + token

    def bad_form(what, body, expect=(400,), **kw):
        return hx.one(what, "POST", "/tasks", body, form, expect, **kw)

    def bad_json(what, body, expect=(400,), **kw):
        return hx.one(what, "POST", "/api/tasks", body, jh, expect, **kw)

    # Overlong values and bodies.
    big = "9" * 1000
    bad_json("a 1000-digit n in JSON", '{"n": %s}' % big)
    hx.one("a 1000-digit limit in the query", "GET", "/api/tasks?limit=" +
           big)
    hx.one("a 1000-digit task id in a page path", "GET", "/tasks/" + big,
           expect=(404,))
    hx.one("a 1000-digit task id in an API path", "GET", "/api/tasks/" +
           big, expect=(404,))
    bad_form("a 5,000-byte form body", f("n=5&pad=" + "x" * 4940),
             expect=(413,))
    bad_json("a 5,000-byte JSON body", '{"n": 5, "pad": "%s"}' %
             ("x" * 4980), expect=(413,))
    hx.one("a 20,000-byte form body (over client_max_body_size)", "POST",
           "/tasks", f("n=5&pad=" + "x" * 20000), form, (413,), "nginx")

    # NUL bytes.
    bad_form("a NUL in a form field's name", f("n%00=5"))
    bad_form("a raw NUL byte in the form body", f("n=5\x00"))
    bad_form("a NUL in the csrf field", "n=5&csrf=%00" + token[1:])
    hx.one("a NUL in the query (page)", "GET", "/?x=%00")
    hx.one("a NUL in the query (API)", "GET", "/api/tasks?status=done%00")
    bad_json("a raw NUL in a JSON string", b'{"n": 5, "x": "a\x00b"}')
    bad_json("an escaped NUL as n", '{"n": "\\u0000"}')
    bad_json("an escaped NUL in the member name", '{"n\\u0000": 5}')
    bad_json("a NUL after the JSON object", b'{"n": 5}\x00')
    hx.one("an encoded NUL in a page path", "GET", "/tasks/1%00",
           expect=(400, 404), who="either")
    hx.one("an encoded NUL in an API path", "GET", "/api/tasks/1%00",
           expect=(400, 404), who="either")
    hx.one("a raw NUL in the request line", None, None, raw=(
        b"GET /tasks/1\x00/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\n\r\n"), expect=(400,), who="nginx")

    # Invalid UTF-8.
    bad_form("invalid UTF-8 as n", f("n=%ff%fe"), extra=lambda st, h, b:
             None if b.decode("utf-8", "replace") == b.decode(
                 "utf-8", "ignore") else "the page is not valid UTF-8")
    bad_json("an overlong UTF-8 encoding in JSON",
             b'{"n": 5, "x": "\xc0\xaf"}')
    bad_json("a UTF-16 surrogate in UTF-8 in JSON",
             b'{"n": 5, "x": "\xed\xa0\x80"}')
    bad_json("a lone surrogate escape as n", '{"n": "\\ud800"}')
    hx.one("invalid UTF-8 in the query", "GET", "/api/tasks?status=%ff")
    hx.one("invalid UTF-8 in a page path", "GET", "/tasks/%ff",
           expect=(400, 404))
    hx.one("invalid UTF-8 in an API path", "GET", "/api/tasks/%c0%af",
           expect=(400, 404))

    # Duplicate parameters.
    bad_form("n given twice in the form", f("n=1&n=2"))
    bad_form("csrf given twice in the form", f("n=5&csrf=" + token))
    hx.one("limit given twice in the query", "GET",
           "/api/tasks?limit=1&limit=2")
    hx.one("a parameter given twice in a page's query", "GET", "/?a=1&a=2")
    bad_json("n given twice in JSON", '{"n": 5, "n": 6}')

    # Content-Length that lies, or is out of range.
    hx.one("Content-Length 10^12 with a small body", None, "/api/tasks",
           raw=(b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 1000000000000\r\n\r\n{\"n\": 5}"),
           expect=(413,), who="nginx")
    hx.one("Content-Length 20000 (over client_max_body_size) on the form",
           None, "/tasks", raw=(
               b"POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: 20000\r\n\r\nn=5"),
           expect=(413,), who="nginx")
    hx.one("Content-Length 9000 with 8 bytes sent, then the client stops "
           "sending", None, "/api/tasks", raw=(
               b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: 9000\r\n\r\n{\"n\": 5}"),
           half_close=True, expect=(None, 400, 408), who="either")
    hx.one("a negative Content-Length", None, "/api/tasks", raw=(
        b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: -1\r\n"
        b"Connection: close\r\n\r\n{\"n\": 5}"), expect=(400,),
        who="nginx")
    hx.one("two different Content-Lengths", None, "/api/tasks", raw=(
        b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 8\r\n"
        b"Content-Length: 9\r\nConnection: close\r\n\r\n{\"n\": 5} "),
        expect=(400,), who="nginx")
    hx.one("a chunked body with a chunk of 2^48 bytes", None, "/api/tasks",
           raw=(b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"1000000000000\r\n{\"n\": 5}"), expect=(413, 400),
           who="nginx")

    # Path traversal: nothing outside htdocs, and no 5xx.
    secret = lambda st, h, b: ("the answer shows a file from outside "
                               "htdocs" if b"root:x:0:0" in b or
                               b"worker_processes" in b or
                               b"SQLite format" in b else None)
    for path in ("/%2e%2e/%2e%2e/etc/passwd", "/tasks/../../etc/passwd",
                 "/tasks/..%2f..%2fetc%2fpasswd", "/tasks/../",
                 "/htdocs/../nginx.conf", "/api/tasks/../../etc/passwd",
                 "/style.css/../../../etc/passwd", "/..%5c..%5cetc/passwd",
                 "/%2e%2e%2fnginx.conf", "/tasks/1/../../../../etc/passwd",
                 "/nthpi.db", "/data/nthpi.db", "/../data/nthpi.db"):
        hx.one("path traversal %s" % path, "GET", path, expect=(400, 404),
               who="either", extra=secret)

    # SQL metacharacters: refused as values, and the table is still there.
    bad_form("n = 1;DROP TABLE tasks", f("n=1%3BDROP+TABLE+tasks"))
    bad_form("n = 1' OR '1'='1", f("n=1%27+OR+%271%27%3D%271"))
    bad_json("n = \"1;DROP TABLE tasks\" in JSON",
             '{"n": "1;DROP TABLE tasks"}')
    bad_json("n = \"1' OR '1'='1\" in JSON", '{"n": "1\' OR \'1\'=\'1"}')
    hx.one("status = done' OR '1'='1 in the query", "GET",
           "/api/tasks?status=done%27%20OR%20%271%27%3D%271")
    hx.one("before = 1 OR 1=1 in the query", "GET",
           "/api/tasks?before=1%20OR%201%3D1")
    hx.one("a task id of 1 OR 1=1", "GET", "/api/tasks/1%20OR%201=1",
           expect=(404,))
    check("hostile: the tasks table is still there after the SQL "
          "metacharacters", s.sql("SELECT count(*) FROM sqlite_master WHERE "
                                  "name = 'tasks'")[0][0] == 1)

    # HTML metacharacters: refused, and echoed only escaped.
    bad_form("n = <script>alert(1)</script>",
             f("n=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
             extra=no_raw(b"<script>alert(1)"))
    bad_form("n = \"><img src=x onerror=alert(1)>",
             f("n=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E"),
             extra=no_raw(b"<img src=x"))
    hx.one("status = <script> in the query", "GET",
           "/api/tasks?status=%3Cscript%3Ealert(1)%3C/script%3E",
           extra=no_raw(b"<script>"))
    hx.one("<script> in a page path", "GET",
           "/tasks/%3Cscript%3Ealert(1)%3C/script%3E", expect=(404,),
           extra=no_raw(b"<script>alert(1)"))
    hx.one("an Origin holding <script>", "POST", "/tasks",
           f("n=5"), dict(form, Origin="http://<script>alert(1)</script>"),
           expect=(403,), extra=no_raw(b"<script>alert(1)"))
    hx.one("Sec-Fetch-Site holding <script>", "POST", "/api/tasks",
           '{"n": 5}', dict(jh, **{"Sec-Fetch-Site": "<script>x"}),
           expect=(403,), extra=no_raw(b"<script>x"))

    # Too many parameters (the app takes 16).
    many = "&".join("p%d=1" % i for i in range(20))
    hx.one("20 query parameters", "GET", "/api/tasks?" + many)
    bad_form("20 form fields", f(many + "&n=5"))

    # Oversized addresses.
    hx.one("a 3,000-byte query string", "GET", "/api/tasks?x=" + "a" * 3000,
           expect=(414,))
    hx.one("a 3,000-byte query string on a page", "GET", "/?x=" +
           "a" * 3000, expect=(414,))
    hx.one("a 1,500-byte path", "GET", "/tasks/" + "a" * 1500,
           expect=(404, 414))
    hx.one("a 10,000-byte query string (over nginx's header buffers)",
           "GET", "/api/tasks?x=" + "a" * 10000, expect=(414,),
           who="nginx")

    # JSON edge cases.
    bad_json("JSON nested 40 deep", '{"a":' * 40 + '1' + '}' * 40)
    bad_json("JSON arrays nested 2,000 deep", "[" * 2000 + "]" * 2000)
    bad_json("an object holding arrays nested 4,000 deep",
             '{"a": ' + "[" * 4000 + "]" * 30)
    bad_json("n = 1e400", '{"n": 1e400}')
    bad_json("n = 1e999999999", '{"n": 1e999999999}')
    bad_json("n = -5", '{"n": -5}')
    bad_json("n = -0", '{"n": -0}')
    bad_json("n = 5.5", '{"n": 5.5}')
    bad_json("n = 5.0", '{"n": 5.0}')
    bad_json("n = 5e0", '{"n": 5e0}')
    bad_json("n = \"5\" (a string)", '{"n": "5"}')
    bad_json("n = 05 (leading zero)", '{"n": 05}')
    bad_json("n = 0x10", '{"n": 0x10}')
    bad_json("n = NaN", '{"n": NaN}')
    bad_json("n = Infinity", '{"n": Infinity}')
    bad_json("n = [5]", '{"n": [5]}')
    bad_json("trailing garbage after the object", '{"n": 5} garbage')
    bad_json("a second object after the first", '{"n": 5}{"n": 6}')
    bad_json("a number, not an object", "5")
    bad_json("a string, not an object", '"n"')
    bad_json("null, not an object", "null")
    bad_json("true, not an object", "true")
    bad_json("a byte order mark before the object",
             b'\xef\xbb\xbf{"n": 5}')
    bad_json("single quotes", "{'n': 5}")
    bad_json("a trailing comma", '{"n": 5,}')
    bad_json("a comment", '{"n": 5 /* x */}')
    tap.diag("%d bad inputs tried" % hx.tried)
    return hx


def test_methods(s, hx):
    """Every route with every method it does not take: 405 and an Allow
    header naming the ones it does (TRACE and CONNECT nginx refuses
    itself)."""
    for path, allowed in ROUTES:
        problems = []
        for m in METHODS:
            if m in allowed:
                continue
            body = '{"n": 5}' if m in ("POST", "PUT", "PATCH") else None
            st, h, data = hx.s.request(m, path, body, {"Content-Type": JSON})
            allow = {x.strip() for x in h.get("allow", "").split(",")
                     if x.strip()}
            msg = message_of(h, data) if m != "HEAD" else "(HEAD)"
            tap.diag("tried: method %s on %s -> %s Allow: %s %s" % (
                m, path, st, h.get("allow"),
                json.dumps(msg[:80]) if msg else ""))
            hx.tried += 1
            if st != 405 or allow != allowed or not msg:
                problems.append("%s: %s Allow %r message %r" % (
                    m, st, h.get("allow"), msg))
            elif path.startswith("/api") and m != "HEAD" and not h.get(
                    "content-type", "").startswith(JSON):
                problems.append("%s: not JSON" % m)
        check("hostile: every other method on %s answers 405 with Allow: %s"
              % (path, ", ".join(sorted(allowed))), not problems,
              "\n".join(problems))
    for m in ("TRACE", "CONNECT"):
        st, h, data = hx.raw(("%s / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n" % m).encode())
        tap.diag("tried: method %s on / -> %s (nginx)" % (m, st))
        hx.tried += 1
        check("hostile: %s is refused by nginx with a 4xx" % m,
              st is not None and 400 <= st < 500, st)


def test_csrf(s, hx):
    """Each state-changing route, each way a request from another site can
    look: 403 (or 415 for a content type a cross-site form can send), and
    the task stays as it was."""
    st, t = s.api_create(3)
    tid = s.wait_task(t["id"])["id"]
    token, cookie = s.get_csrf()
    port = s.port

    def state():
        return s.sql("SELECT status, version FROM tasks WHERE id = ?",
                     (tid,)), count_tasks(s)

    origins = [("a foreign Origin", {"Origin": "http://evil.example"}),
               ("Origin null", {"Origin": "null"}),
               ("an Origin whose host only starts with ours",
                {"Origin": "http://127.0.0.1.evil.example:%d" % port}),
               ("an Origin with our host as user name",
                {"Origin": "http://127.0.0.1:%d@evil.example" % port}),
               ("an Origin of our host and port over https (the server "
                "is http)", {"Origin": "https://127.0.0.1:%d" % port}),
               ("Sec-Fetch-Site cross-site",
                {"Sec-Fetch-Site": "cross-site"}),
               ("Sec-Fetch-Site same-site", {"Sec-Fetch-Site": "same-site"})]
    forms = [("/tasks", "n=7")] + [
        ("/tasks/%d/%s" % (tid, a), "") for a in ("cancel", "retry",
                                                   "delete")]
    for path, body in forms:
        cases = [(what, dict(h, **{"Content-Type": FORM, "Cookie": cookie}),
                  body + "&csrf=" + token, 403) for what, h in origins]
        cases += [
            ("no token and no cookie", {"Content-Type": FORM}, body, 403),
            ("a wrong token", {"Content-Type": FORM, "Cookie": cookie},
             body + "&csrf=" + "0" * 32, 403),
            ("the token without its cookie", {"Content-Type": FORM},
             body + "&csrf=" + token, 403),
            ("a token of the wrong length", {"Content-Type": FORM,
                                             "Cookie": cookie},
             body + "&csrf=" + token + "0", 403),
            ("text/plain (a cross-site form can send it)",
             {"Content-Type": "text/plain", "Cookie": cookie},
             body + "&csrf=" + token, 415),
        ]
        problems = []
        for what, h, b, want in cases:
            before = state()
            st, hh, data = s.request("POST", path, b.lstrip("&"), h)
            hx.tried += 1
            tap.diag("tried: CSRF %s on POST %s -> %s" % (what, path, st))
            if st != want or state() != before or not message_of(hh, data):
                problems.append("%s: %s (want %s), %r -> %r" % (
                    what, st, want, before, state()))
        check("hostile: CSRF: POST %s from another site is refused (%d "
              "ways)" % (path.replace(str(tid), "ID"), len(cases)),
              not problems, "\n".join(problems))

    apis = [("POST", "/api/tasks", '{"n": 7}'),
            ("POST", "/api/tasks/%d/cancel" % tid, "{}"),
            ("POST", "/api/tasks/%d/retry" % tid, "{}"),
            ("DELETE", "/api/tasks/%d" % tid, None)]
    for method, path, body in apis:
        cases = [(what, dict(h, **{"Content-Type": JSON}), 403)
                 for what, h in origins]
        if method == "POST":
            cases += [
                ("text/plain", {"Content-Type": "text/plain"}, 415),
                ("a form content type", {"Content-Type": FORM}, 415),
                ("multipart/form-data",
                 {"Content-Type": "multipart/form-data; boundary=x"}, 415),
                ("no content type", {}, 415),
                ("application/jsonx", {"Content-Type": "application/jsonx"},
                 415),
            ]
        problems = []
        for what, h, want in cases:
            before = state()
            st, hh, data = s.request(method, path, body, h)
            hx.tried += 1
            tap.diag("tried: CSRF %s on %s %s -> %s" % (what, method, path,
                                                         st))
            if st != want or state() != before or \
                    message_of(hh, data) is None:
                problems.append("%s: %s (want %s)" % (what, st, want))
        check("hostile: CSRF: %s %s from another site is refused (%d ways)"
              % (method, path.replace(str(tid), "ID"), len(cases)),
              not problems, "\n".join(problems))


def test_headers(s):
    """The security headers on an HTML page, a JSON answer, a static file
    and on error answers of each kind."""
    for what, method, path, body, h in (
            ("the main page", "GET", "/", None, {}),
            ("a JSON list", "GET", "/api/tasks", None, {}),
            ("a static file", "GET", "/style.css", None, {}),
            ("a missing static file", "GET", "/missing.js", None, {}),
            ("an HTML 404", "GET", "/tasks/999999", None, {}),
            ("a JSON 404", "GET", "/api/tasks/999999", None, {}),
            ("an HTML 405", "PUT", "/", None, {}),
            ("a JSON 400", "POST", "/api/tasks", "x", {"Content-Type": JSON}),
            ("a form 403", "POST", "/tasks", "n=5", {"Content-Type": FORM}),
            ("an app 413", "POST", "/api/tasks", "x" * 5000,
             {"Content-Type": JSON})):
        st, hh, data = s.request(method, path, body, h)
        p = header_problems(hh)
        check("hostile: headers: %s (%d) has the CSP with frame-ancestors "
              "'none' and no unsafe-inline, nosniff and Referrer-Policy"
              % (what, st), not p, p)
    for what, method, path, h in (
            ("an encoded NUL in the path", "GET", "/tasks/1%00", {}),
            ("nginx's 414 (a query string too long for nginx)", "GET",
             "/api/tasks?x=" + "a" * 10000, {}),
            ("nginx's 400 (a header too long)", "GET", "/",
             {"X-Big": "a" * 9000}),
            ("nginx's 404 (a missing static file)", "GET", "/missing.js",
             {}),
            ("nginx's 405 (POST to a static file)", "POST", "/style.css",
             {})):
        st, hh, data = s.request(method, path, None, h)
        p = header_problems(hh)
        check("hostile: headers: %s (%d) has the CSP with frame-ancestors "
              "'none' and no unsafe-inline, nosniff and Referrer-Policy"
              % (what, st), not p, p)


def test_error_text_escaped(s):
    """A task whose error holds markup: the page shows it as text, the
    JSON as a string."""
    evil = "<script>alert(1)</script>"
    s.sql_write("INSERT INTO tasks (n, status, error, created_at, "
                "finished_at) VALUES (?, 'error', ?, 1795000000000, "
                "1795000001000)", [(77, evil)])
    tid = s.sql("SELECT max(id) FROM tasks")[0][0]
    escaped = b"&lt;script&gt;alert(1)&lt;/script&gt;"
    st, h, body = s.request("GET", "/")
    p = Page(body)
    row = p.row(tid)
    check("hostile: the main page's row of a task whose error is <script> "
          "shows it escaped", st == 200 and row is not None and
          escaped in body and evil.encode() not in body,
          row and row["cells"])
    st, h, body = s.request("GET", "/tasks/%d" % tid)
    check("hostile: its task page shows the error as text, escaped",
          st == 200 and escaped in body and evil.encode() not in body and
          evil in Page(body).source.replace("&lt;", "<")
          .replace("&gt;", ">"), body[:300])
    st, h, body = s.request("GET", "/api/tasks/%d" % tid)
    t = json.loads(body) if st == 200 else {}
    check("hostile: its JSON has the error as a string, and no raw "
          "</script> in the bytes", t.get("error") == evil and
          b"</script>" not in body, body[:300])
    st, h, body = s.request("GET", "/api/tasks?since=0")
    lst = json.loads(body) if st == 200 else {}
    check("hostile: the long-poll answer has it as the same string",
          any(x.get("error") == evil for x in lst.get("tasks", [])),
          body[:300])


def test_queue_cap():
    """queue_cap 5 with no worker: the sixth submission gets 503 with a
    sentence, by the form and by the API; retry is held to the cap too;
    a cancel makes room again."""
    with Stack(worker=False, extra_fcgi_args=["--queue_cap=5"],
               label="queue cap stack") as s:
        sts = [s.api_create(n)[0] for n in range(1, 6)]
        check("hostile: cap: five tasks fill a queue of 5", sts == [201] * 5,
              sts)
        st, h, body = s.api("POST", "/api/tasks", {"n": 6})
        msg = (body or {}).get("error", "")
        tap.diag("tried: the sixth task by the API -> %d %s" % (st, msg))
        check("hostile: cap: the sixth by the API answers 503 JSON saying "
              "the queue is full, with Retry-After", st == 503 and
              "queue is full" in msg and h.get("retry-after") == "30",
              (st, body, h))
        st, h, body = s.submit_form(6)
        err = Page(body).by_id("n-error")
        tap.diag("tried: the sixth task by the form -> %d %s" % (
            st, err and err.text))
        check("hostile: cap: the sixth by the form answers 503 with the "
              "form and #n-error saying the queue is full", st == 503 and
              err is not None and "queue is full" in err.text, st)
        check("hostile: cap: the form's 503 says when to try again, once "
              "(Retry-After: 30, as room comes when tasks finish)",
              h.get("retry-after") == "30", h.get("retry-after"))
        check("hostile: cap: still 5 tasks", count_tasks(s) == 5)
        st, _, t = s.api("POST", "/api/tasks/1/cancel", {})
        check("hostile: cap: a cancel makes room", st == 200, st)
        st, _, t = s.api("POST", "/api/tasks", {"n": 6})
        check("hostile: cap: then a new task is taken", st == 201, st)
        st, _, body = s.api("POST", "/api/tasks/1/retry", {})
        tap.diag("tried: a retry into a full queue -> %d %s" % (
            st, (body or {}).get("error")))
        check("hostile: cap: a retry into the full queue answers 503 and "
              "leaves the task cancelled", st == 503 and s.sql(
                  "SELECT status FROM tasks WHERE id = 1")[0][0] ==
              "cancelled", (st, body))


def run():
    with Stack(n_max=N_MAX, label="hostile stack") as s:
        hx = test_inputs(s)
        test_methods(s, hx)
        test_csrf(s, hx)
        test_headers(s)
        test_error_text_escaped(s)
        st, t = s.api_create(5)
        t = s.wait_task(t["id"]) if st == 201 else {}
        check("hostile: after it all, a valid task is taken and done",
              t.get("status") == "done", t)
        check("hostile: after it all, the FastCGI children are the ones "
              "that started", s.fcgi_children() == hx.initial,
              (hx.initial, s.fcgi_children()))
        tap.diag("%d hostile requests tried in all" % hx.tried)
    test_queue_cap()


if __name__ == "__main__":
    tap.main(run)
