"""test_tasks_html.py: the HTML side through nginx: the main page, the task
form (POST /tasks), the task page, the form actions, CSRF and the security
headers (docs/design.md, "HTTP routes" and "Security")."""

import re
import time

import tap
from harness import Stack, reference_digits
from pages import Page, decimals_shown, marked_digit

check = tap.check
REF = reference_digits()
N_MAX = 20000


def count_tasks(s):
    return s.sql("SELECT count(*) FROM tasks")[0][0]


def last_task(s):
    rows = s.sql("SELECT id, n FROM tasks ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else (None, None)


def is_location(h, path, s):
    loc = h.get("location", "")
    return loc in (path, s.url + path)


def check_security_headers(what, h):
    csp = h.get("content-security-policy", "")
    check("%s: CSP has default-src 'self' and frame-ancestors 'none'" % what,
          "default-src 'self'" in csp and "frame-ancestors 'none'" in csp,
          "Content-Security-Policy: %r" % csp)
    check("%s: CSP allows no inline script or style" % what,
          csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp,
          "Content-Security-Policy: %r" % csp)
    check("%s: X-Content-Type-Options is nosniff" % what,
          h.get("x-content-type-options") == "nosniff",
          "X-Content-Type-Options: %r" % h.get("x-content-type-options"))
    check("%s: Referrer-Policy is same-origin" % what,
          h.get("referrer-policy") == "same-origin",
          "Referrer-Policy: %r" % h.get("referrer-policy"))


def test_main_page(s):
    status, h, body = s.request("GET", "/")
    check("GET / answers 200 with HTML", status == 200 and
          h.get("content-type", "").startswith("text/html"),
          "%d %r" % (status, h.get("content-type")))
    check_security_headers("GET /", h)
    cookie = h.get("set-cookie", "")
    check("GET / sets the nthpi_csrf cookie HttpOnly, SameSite=Strict, "
          "Path=/", "nthpi_csrf=" in cookie and
          re.search(r"(?i)httponly", cookie) and
          re.search(r"(?i)samesite=strict", cookie) and
          re.search(r"(?i)path=/(;|$|\s)", cookie), "Set-Cookie: %r" % cookie)
    p = Page(body)
    form = p.by_id("new-task")
    check("the main page has form#new-task posting to /tasks",
          form is not None and form.tag == "form" and
          form.attrs.get("method", "").lower() == "post" and
          form.attrs.get("action") == "/tasks",
          form and form.attrs)
    n = p.by_id("n")
    check("the form has input#n named n, inputmode numeric",
          n is not None and n.tag == "input" and n.attrs.get("name") == "n"
          and n.attrs.get("inputmode") == "numeric", n and n.attrs)
    csrf = p.find("input", name="csrf", type="hidden")
    check("the form has a hidden csrf field with a token",
          csrf and len(csrf[0].attrs.get("value") or "") >= 16,
          csrf and csrf[0].attrs)
    err = p.by_id("n-error")
    check("the page has an empty p#n-error role=alert",
          err is not None and err.tag == "p" and
          err.attrs.get("role") == "alert" and not err.text.strip(),
          err and (err.attrs, err.text))
    table = p.by_id("tasks")
    check("the page has table#tasks with a numeric data-version",
          table is not None and table.tag == "table" and
          (table.attrs.get("data-version") or "").isdigit(),
          table and table.attrs)


def test_submit(s):
    before = count_tasks(s)
    status, h, body = s.submit_form(5)
    check("POST /tasks with n=5 answers 303 to /",
          status == 303 and is_location(h, "/", s),
          "%d Location %r" % (status, h.get("location")))
    task_id, n = last_task(s)
    check("POST /tasks adds one row with n=5",
          count_tasks(s) == before + 1 and n == 5,
          "rows %d -> %d, last n %r" % (before, count_tasks(s), n))
    if task_id is None:
        return
    t = s.wait_task(task_id)
    check("the task of n=5 is done with digit %s" % REF[5],
          t["status"] == "done" and t["digit"] == REF[5], t)

    status, h, body = s.request("GET", "/")
    p = Page(body)
    row = p.row(task_id)
    check("the main page lists the task as tr#task-ID with data-status "
          "done", row is not None and row["attrs"].get("data-id") ==
          str(task_id) and row["attrs"].get("data-status") == "done",
          row and row["attrs"])
    check("the task's row shows n and the digit",
          row is not None and row["cells"].get("n", "").strip() == "5" and
          row["cells"].get("digit", "").strip() == REF[5],
          row and row["cells"])
    links = p.find("a", href="/tasks/%d" % task_id)
    check("the task's row links to /tasks/ID", bool(links))
    check("the row has action forms with the csrf field",
          any(f.attrs.get("action", "").startswith("/tasks/%d/" % task_id)
              for f in p.find("form")), [f.attrs for f in p.find("form")])


def test_task_page(s):
    for n in (1, 5, 10, 11, 25, 768, 10000):
        status, h, body = s.submit_form(n)
        task_id, got_n = last_task(s)
        if not check("POST /tasks n=%d is accepted" % n,
                     status == 303 and got_n == n, "%d" % status):
            continue
        t = s.wait_task(task_id)
        status, h, body = s.request("GET", "/tasks/%d" % task_id)
        check("GET /tasks/ID of n=%d answers 200 HTML" % n, status == 200 and
              h.get("content-type", "").startswith("text/html"), status)
        if n == 5:
            check_security_headers("the task page", h)
        digits, groups = decimals_shown(body, n)
        check("the task page of n=%d shows 3. and the %d decimals" % (n, n),
              digits == REF[1:n + 1],
              "shown %r" % (digits and digits[:80]))
        check("the task page of n=%d groups the decimals by 10" % n,
              groups is not None and all(g == 10 for g in groups[:-1]) and
              1 <= groups[-1] <= 10, groups and groups[:5])
        check("the task page of n=%d marks the n-th decimal %s" %
              (n, REF[n]), marked_digit(body) == REF[n],
              "mark#nth holds %r" % marked_digit(body))
        check("the task of n=%d has digit %s" % (n, REF[n]),
              t["digit"] == REF[n], t)
        words = (b"to 1 decimal place;", b"All 1 decimal as text") \
            if n == 1 else (b"to %d decimal places," % n,
                            b"All %d decimals as text" % n)
        check("the task page of n=%d says %s" % (n, words[0].decode()),
              all(w in body for w in words), body[-1200:])


def test_n_max_accepted(s):
    status, h, body = s.submit_form(N_MAX)
    task_id, n = last_task(s)
    check("POST /tasks with n = n_max (%d) is accepted" % N_MAX,
          status == 303 and n == N_MAX, status)


def test_bad_n(s):
    cases = [
        ("empty", ""), ("zero", "0"), ("zeros", "000"), ("negative", "-1"),
        ("decimal point", "1.5"), ("exponent", "1e3"),
        ("a space inside", "4 2"), ("only spaces", "   "),
        ("a no-break space around", "\u00a07"),
        ("letters", "abc"), ("plus sign", "+5"), ("hex", "0x10"),
        ("thousands separator", "5,000"),
        ("n_max + 1", str(N_MAX + 1)), ("20 digits", "1" * 20),
        ("20-digit 2^64", "18446744073709551617"),
        ("NUL after", "5\x00"), ("NUL before", "\x005"),
        ("arabic-indic digit", "\u0663"), ("fullwidth digit", "\uff15"),
        ("markup", "<b>\"7\"</b>&amp;"),
        # Well inside the app's 4 KiB body limit: a long n, not a long body.
        ("overlong", "9" * 1000),
    ]
    for what, value in cases:
        before = count_tasks(s)
        status, h, body = s.submit_form(value.encode("utf-8"))
        after = count_tasks(s)
        check("POST /tasks with n %s answers 400" % what, status == 400,
              "%d for %r" % (status, value[:40]))
        check("POST /tasks with n %s adds no task" % what, after == before,
              "%d -> %d" % (before, after))
        p = Page(body)
        err = p.by_id("n-error")
        check("POST /tasks with n %s shows the form with #n-error saying "
              "what is wrong" % what, p.by_id("new-task") is not None and
              err is not None and len(err.text.strip()) > 5,
              err and err.text)
        n = p.by_id("n")
        if "\x00" not in value:
            check("POST /tasks with n %s keeps what was typed" % what,
                  n is not None and (n.attrs.get("value") or "") == value,
                  "value=%r" % (n and (n.attrs.get("value") or "")[:40]))
        if what == "empty":
            check("the field is marked invalid and takes the focus",
                  n is not None and n.attrs.get("aria-invalid") == "true" and
                  "autofocus" in n.attrs, n and n.attrs)
            check("the page's title starts with Error:",
                  b"<title>Error: " in body, body[:300])
        if what == "markup":
            check("what was typed is escaped in the page",
                  value.encode() not in body)
        if what == "n_max + 1":
            check("the message for n_max + 1 names n_max",
                  err is not None and "20000" in err.text.replace(",", "")
                  .replace(" ", "").replace("\u202f", "")
                  .replace("\xa0", ""),
                  err and err.text)


def test_trimmed_n(s):
    """A number pasted with white space around it is that number in the
    form; the JSON API stays strict."""
    for what, value in (("spaces around", " 42 "), ("a tab and a newline",
                                                      "\t43\r\n"),
                        ("a trailing space", "44 ")):
        before = count_tasks(s)
        status, h, body = s.submit_form(value)
        task_id, n = last_task(s)
        check("POST /tasks with n and %s is taken as that number" % what,
              status == 303 and count_tasks(s) == before + 1 and
              n == int(value), (status, n))
    st, h, body = s.api("POST", "/api/tasks", '{"n": " 42 "}')
    check("the JSON API still refuses n with spaces around it (400)",
          st == 400 and "error" in (body or {}), (st, body))


def test_jump_forms(s):
    """The task page's page and decimal forms: white space around a value
    is left out; a value that cannot be followed gets the overview with
    the reason beside its field, which keeps what was typed."""
    st, t = s.api_create(15000)
    t = s.wait_task(t["id"]) if st == 201 else {}
    if not check("a task of n=15000 (two pages of decimals) is done",
                 t.get("status") == "done", t):
        return
    base = "/tasks/%d" % t["id"]
    st, h, body = s.request("GET", base + "?page=%202%20")
    check("?page= 2 (spaces around) shows page 2", st == 200 and
          b"Decimals 10001 to 15000" in body, (st, body[-400:]))
    st, h, body = s.request("GET", base + "?decimal=+12345+")
    check("?decimal= 12345 (spaces around) shows its page with it marked",
          st == 200 and b'<mark id="sought">' in body and
          b"Decimals 10001 to 15000" in body, st)
    for what, query, want, field, typed, words in (
            ("a page that is not a number", "page=abc", 400,
             "page-number-top", "abc", "page number"),
            ("an empty page", "page=", 400, "page-number-top", "",
             "page number"),
            ("a decimal that is not a number", "decimal=12x", 400,
             "decimal-top", "12x", "decimal place"),
            ("a page past the last", "page=+3", 404, "page-number-top",
             " 3", "2 pages"),
            ("a decimal past n", "decimal=15001", 404, "decimal-top",
             "15001", "15000 decimals")):
        st, h, body = s.request("GET", "%s?%s" % (base, query))
        p = Page(body)
        field_ = p.by_id(field)
        err = p.by_id(field + "-error")
        check("the task page with %s answers %d with the overview and the "
              "reason beside the field, which keeps what was typed" % (
                  what, want), st == want and p.by_id("digits") is not None
              and p.by_id("task") is not None and field_ is not None and
              field_.attrs.get("value") == typed and
              field_.attrs.get("aria-invalid") == "true" and
              field + "-error" in field_.attrs.get("aria-describedby", "")
              and err is not None and err.attrs.get("role") == "alert" and
              words in err.text and b"<title>Error: Task" in body,
              (st, field_ and field_.attrs, err and err.text))
        ids = re.findall(rb'\sid="([^"]*)"', body)
        check("... and no id twice on that page",
              len(ids) == len(set(ids)), ids)
    st, h, body = s.request("GET", base + "?page=%3Cb%3E")
    check("what was typed is escaped in the field", st == 400 and
          b"<b>" not in body and b"&lt;b&gt;" in body, st)
    small = s.api_create(30)[1]
    s.wait_task(small["id"])
    st, h, body = s.request("GET", "/tasks/%d?page=x" % small["id"])
    check("a task without the forms (one page) answers a bad page with "
          "the error page (400)", st == 400 and
          Page(body).by_id("error-message") is not None, st)


def test_csrf(s):
    before = count_tasks(s)
    token, cookie = s.get_csrf()
    cases = [
        ("without token or cookie", dict(csrf=False)),
        ("with a wrong token", dict(csrf=("x" * len(token), cookie))),
        ("with the token but no cookie", dict(csrf=(token, ""))),
        ("with a foreign Origin", dict(csrf=(token, cookie),
                                       origin="http://evil.example")),
        ("with Origin null", dict(csrf=(token, cookie), origin="null")),
        ("with Sec-Fetch-Site cross-site",
         dict(csrf=(token, cookie), headers={"Sec-Fetch-Site": "cross-site"})),
        ("with Origin of another port",
         dict(csrf=(token, cookie), origin="http://127.0.0.1:1")),
    ]
    for what, kw in cases:
        if kw.get("csrf") and kw["csrf"][1] == "":
            kw["headers"] = {"Cookie": ""}
        status, h, body = s.submit_form(7, **kw)
        check("a form POST %s is refused with 403" % what, status == 403,
              status)
    check("refused form POSTs add no task", count_tasks(s) == before,
          "%d -> %d" % (before, count_tasks(s)))
    status, h, body = s.submit_form(7, csrf=(token, cookie), origin=False)
    check("a form POST with token and no Origin (older browsers) is "
          "accepted", status == 303, status)
    status, h, body = s.submit_form(
        7, csrf=(token, cookie), headers={"Sec-Fetch-Site": "same-origin"})
    check("a form POST with Sec-Fetch-Site same-origin is accepted",
          status == 303, status)


def cookies_set(h):
    """The cookies a Set-Cookie header (repeats joined by ", ") sets:
    {name: (value, attributes in lower case)}."""
    out = {}
    for m in re.finditer(r"(?:^|,\s*)(nthpi_[a-z_]+)=([^;,\s]*)((?:;[^,]*)*)",
                         h.get("set-cookie", "")):
        out[m.group(1)] = (m.group(2), m.group(3).lower())
    return out


def form_token(body):
    csrf = Page(body).find("input", name="csrf", type="hidden")
    return csrf[0].attrs.get("value") if csrf else None


def test_csrf_cross_site_visit(s):
    """A link from another site brings the Lax cookie only (the browser
    keeps the Strict one but does not send it): the page must keep the
    token that the forms of tabs already open hold, so that they still
    post. docs/design.md, Security."""
    st, h, body = s.request("GET", "/")
    set_ = cookies_set(h)
    token = form_token(body)
    strict, lax = set_.get("nthpi_csrf"), set_.get("nthpi_csrf_lax")
    check("a new visitor gets the token in two cookies: nthpi_csrf "
          "SameSite=Strict and nthpi_csrf_lax SameSite=Lax, both HttpOnly",
          strict and lax and strict[0] == lax[0] == token and
          "samesite=strict" in strict[1] and "samesite=lax" in lax[1] and
          "httponly" in strict[1] and "httponly" in lax[1], (set_, token))
    if not token:
        return
    st, h, body = s.request("GET", "/", headers={
        "Cookie": "nthpi_csrf_lax=" + token,
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    again = cookies_set(h)
    check("a visit from another site's link (Lax cookie only) keeps the "
          "token: the page's forms hold it, and no cookie gets another",
          st == 200 and form_token(body) == token and
          all(v[0] == token for v in again.values()), (again,
                                                       form_token(body)))
    st, h, body = s.submit_form(7, csrf=(token, "nthpi_csrf=" + token))
    check("then the form of a tab opened before posts (303)", st == 303,
          (st, body[:300]))
    st, h, body = s.submit_form(7, csrf=(token, "nthpi_csrf_lax=" + token))
    check("a form post that brings only the Lax cookie is refused (403): "
          "the forms' check is the Strict cookie's", st == 403, st)
    st, h, body = s.request("GET", "/", headers={
        "Cookie": "nthpi_csrf=" + token})
    set_ = cookies_set(h)
    check("a visitor who has only the Strict cookie (from before) gets the "
          "Lax one with the same token", set_.get("nthpi_csrf_lax", ("",))[0]
          == token and "nthpi_csrf" not in set_ and
          form_token(body) == token, set_)
    st, h, body = s.request("GET", "/", headers={
        "Cookie": "nthpi_csrf=%s; nthpi_csrf_lax=%s" % (token, token)})
    check("a visitor with both cookies gets no Set-Cookie",
          "set-cookie" not in h, h.get("set-cookie"))


def test_parameters_that_do_not_apply(s):
    """Pages refuse a parameter they do not take with a page that says
    which and what they take; a form field the form does not send is
    refused beside the field; a POST takes nothing in its address."""
    st, t = s.api_create(12)
    s.wait_task(t["id"])
    for path, name, takes in (
            ("/?page=2", "page", "before, after or status"),
            ("/tasks/%d?before=3" % t["id"], "before", "page or decimal"),
            ("/tasks/%d/pi.txt?x=1" % t["id"], "x", "no parameters")):
        st, h, body = s.request("GET", path)
        err = Page(body).by_id("error-message")
        check("GET %s answers a 400 page naming %s and what the page takes"
              % (path, name), st == 400 and err is not None and
              '"%s"' % name in err.text and takes in err.text,
              (st, err and err.text))
    st, h, body = s.request("GET", "/tasks/%d?page=1&decimal=5" % t["id"])
    err = Page(body).by_id("error-message")
    check("page and decimal together answer 400: the decimal picks the page",
          st == 400 and err is not None and "not both" in err.text,
          (st, err and err.text))
    before = count_tasks(s)
    st, h, body = s.form_post("/tasks", [("n", "5"), ("priority", "1")])
    err = Page(body).by_id("n-error")
    check("POST /tasks with a field the form does not send answers 400 "
          "with the form and the reason in #n-error", st == 400 and
          err is not None and '"priority"' in err.text and
          count_tasks(s) == before, (st, err and err.text))
    st, h, body = s.form_post("/tasks?n=5", [("n", "6")])
    check("POST /tasks?n=5 answers 400: a POST takes nothing in its "
          "address", st == 400 and count_tasks(s) == before, st)
    st, h, body = s.form_post("/tasks/%d/delete" % t["id"],
                              [("back", "task")])
    check("the delete form refuses back=task, which its form does not send "
          "(a deleted task has no page)", st == 400 and
          s.get_task(t["id"])["status"] == "done", st)
    st, h, body = s.request("GET", "/?status=done&after=1")
    check("the main page still takes its own parameters", st == 200, st)


def test_not_found(s):
    for path in ("/tasks/999999", "/tasks/0", "/tasks/abc",
                 "/tasks/1x", "/tasks/99999999999999999999999"):
        status, h, body = s.request("GET", path)
        check("GET %s answers 404" % path, status == 404, status)
    status, h, body = s.request("GET", "/tasks/999999")
    check("the 404 page is HTML", h.get("content-type", "").startswith(
        "text/html"), h.get("content-type"))
    check_security_headers("the 404 task page", h)


def test_actions(s):
    """Form actions on tasks that stay queued (this stack has no worker)."""
    status, h, body = s.submit_form(42)
    task_id, n = last_task(s)
    if not check("a task to act on is queued", status == 303 and
                 s.sql("SELECT status FROM tasks WHERE id = ?",
                       (task_id,))[0][0] == "queued", status):
        return

    def act(action, **kw):
        return s.form_post("/tasks/%d/%s" % (task_id, action), [], **kw)

    def status_of():
        rows = s.sql("SELECT status FROM tasks WHERE id = ?", (task_id,))
        return rows[0][0] if rows else None

    st, h, _ = act("cancel", csrf=False)
    check("cancel without the csrf token is refused with 403",
          st == 403 and status_of() == "queued", (st, status_of()))
    st, h, _ = act("cancel", origin="http://evil.example")
    check("cancel from a foreign Origin is refused with 403",
          st == 403 and status_of() == "queued", (st, status_of()))
    st, h, _ = act("retry")
    check("retry of a queued task answers 409", st == 409, st)
    st, h, _ = act("cancel")
    check("cancel of a queued task answers 303 to / and cancels it",
          st == 303 and is_location(h, "/", s) and
          status_of() == "cancelled", (st, h.get("location"), status_of()))
    st, h, _ = act("cancel")
    check("cancel of a cancelled task answers 409", st == 409, st)
    st, h, _ = act("retry")
    check("retry of a cancelled task answers 303 and queues it again",
          st == 303 and status_of() == "queued", (st, status_of()))
    st, h, _ = act("delete")
    check("delete answers 303 and removes the task",
          st == 303 and status_of() is None, (st, status_of()))
    st, h, _ = s.request("GET", "/tasks/%d" % task_id)
    check("the deleted task's page answers 404", st == 404, st)
    st, h, _ = act("delete")
    check("delete of a deleted task answers 404", st == 404, st)
    st, h, _ = s.form_post("/tasks/%d/frobnicate" % task_id, [])
    check("an unknown action answers 404", st == 404, st)


def run():
    with Stack(n_max=N_MAX, label="html stack") as s:
        test_main_page(s)
        test_submit(s)
        test_task_page(s)
        test_n_max_accepted(s)
        test_bad_n(s)
        test_trimmed_n(s)
        test_jump_forms(s)
        test_csrf(s)
        test_csrf_cross_site_visit(s)
        test_parameters_that_do_not_apply(s)
        test_not_found(s)
    with Stack(n_max=N_MAX, worker=False, label="html stack without worker") \
            as s:
        test_actions(s)


if __name__ == "__main__":
    tap.main(run)
