"""test_fcgi_robust.py: nthpi-fcgi under the faults of its own process
model: a peer on the FastCGI socket that stalls, children stopped while a
request is being read, a master that dies or is hung up, long-polls that
would take every thread, and idle threads that would keep the memory of a
big answer.

Some tests speak FastCGI to the app's socket directly (fcgi_records), as
nginx does, to be able to stop halfway through a request.
"""

import json
import os
import signal
import socket
import struct
import threading
import time

import tap
from harness import Stack, wait_for

check = tap.check

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, \
    FCGI_STDOUT = 1, 3, 4, 5, 6


def fcgi_record(rtype, content, request_id=1):
    """One FastCGI record (version 1, no padding)."""
    return struct.pack(">BBHHBx", 1, rtype, request_id, len(content), 0) + \
        content


def fcgi_pair(name, value):
    """One name-value pair of a PARAMS stream (short lengths only)."""
    name, value = name.encode(), value.encode()
    assert len(name) < 128 and len(value) < 128
    return bytes([len(name), len(value)]) + name + value


def fcgi_get(path):
    """The records of GET path, as three parts: the BEGIN_REQUEST record,
    the PARAMS bytes (one record), and the end of the request (empty PARAMS
    and STDIN records)."""
    begin = fcgi_record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", 1, 0))
    params = b"".join(fcgi_pair(k, v) for k, v in (
        ("REQUEST_METHOD", "GET"), ("REQUEST_URI", path),
        ("QUERY_STRING", path.partition("?")[2]), ("HTTP_HOST", "localhost"),
        ("SERVER_PORT", "80")))
    return (begin, fcgi_record(FCGI_PARAMS, params),
            fcgi_record(FCGI_PARAMS, b"") + fcgi_record(FCGI_STDIN, b""))


def fcgi_read_answer(sock, timeout=10):
    """Reads records until END_REQUEST or EOF. Returns (stdout bytes,
    whether END_REQUEST came)."""
    sock.settimeout(timeout)
    data = b""
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            while len(data) >= 8:
                _, rtype, _, clen, plen = struct.unpack(">BBHHBx", data[:8])
                if len(data) < 8 + clen + plen:
                    break
                content = data[8:8 + clen]
                data = data[8 + clen + plen:]
                if rtype == FCGI_STDOUT:
                    out += content
                elif rtype == FCGI_END_REQUEST:
                    return out, True
    except OSError:
        pass
    return out, False


def timed_get(s, path, timeout=10):
    """GET through nginx; returns (status or the error, seconds)."""
    t0 = time.monotonic()
    try:
        st = s.request("GET", path, timeout=timeout)[0]
    except OSError as e:
        st = repr(e)
    return st, time.monotonic() - t0


def alive(pid):
    """Whether pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_stalled_peer():
    """A peer that connects to the FastCGI socket, sends one byte and
    stops holds one thread for a while, not the child's accepts."""
    with Stack(worker=False, children=1, threads=4,
               label="stalled peer stack") as s:
        stalls = []
        for _ in range(2):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(s.socket_path)
            c.sendall(b"\x01")
            stalls.append(c)
        time.sleep(0.3)
        got = [timed_get(s, "/", timeout=5) for _ in range(10)]
        check("robust: with 2 stalled connections on the socket of a child "
              "of 4 threads, pages are still served at once",
              all(st == 200 and secs < 2 for st, secs in got), got)
        # libfcgi's own accept read the request with no time limit.
        stalls[0].settimeout(15)
        t0 = time.monotonic()
        try:
            eof = stalls[0].recv(1) == b""
        except OSError as e:
            eof = repr(e)
        secs = time.monotonic() - t0
        check("robust: a stalled connection is closed by the app within "
              "about 10 s (%.1f s)" % secs, eof is True and secs < 13,
              (eof, secs))
        for c in stalls:
            c.close()


def test_stop_while_reading():
    """A child told to stop while it reads a request (the PARAMS record
    has come halfway) still answers that request: only threads blocked in
    accept are interrupted."""
    with Stack(worker=False, children=1, threads=4,
               label="stop while reading stack") as s:
        begin, params, end = fcgi_get("/api/tasks?limit=1")
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(s.socket_path)
        c.sendall(begin + params[:20])
        time.sleep(0.3)
        kid = s.fcgi_children()[0]
        os.kill(kid, signal.SIGTERM)
        time.sleep(0.3)
        try:
            c.sendall(params[20:] + end)
            out, ended = fcgi_read_answer(c)
        except OSError as e:
            out, ended = repr(e).encode(), False
        c.close()
        check("robust: a request being read when its child gets SIGTERM is "
              "answered in full", ended and out.startswith(b"Status: 200"),
              (ended, out[:200]))
        check("robust: that child then exits, and the master starts another",
              wait_for(lambda: not alive(kid) and len(
                  s.fcgi_children()) == 1, 5), s.fcgi_children())
        st, secs = timed_get(s, "/")
        check("robust: the new child serves", st == 200, st)


def connectable(path):
    """Whether something listens on the unix socket at path."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(path)
        return True
    except OSError:
        return False
    finally:
        c.close()


def test_master_dies():
    """The master killed outright: its children finish the requests they
    hold and exit, letting go of the listening socket at once, so that a
    new master started on the same path serves while they finish;
    meanwhile nginx's 502 says what happened, as JSON under /api/."""
    with Stack(worker=False, children=2, threads=4, hold_seconds=2,
               fcgi_env={"NTHPI_TEST_HANDOFF_DELAY_MS": "800"},
               label="master killed stack") as s:
        st, _, lst = s.api("GET", "/api/tasks")
        answers = []

        def poll():
            st, h, body = s.request("GET", "/api/tasks?since=%d" %
                                    lst["version"], timeout=30)
            answers.append((st, h.get("content-type"), body[:200]))

        # Long polls that each spend 800 ms in the app before nginx holds
        # them: in the middle of a request when the master dies.
        polls = [threading.Thread(target=poll) for _ in range(3)]
        for th in polls:
            th.start()
        time.sleep(0.3)
        kids = s.fcgi_children()
        t_kill = time.monotonic()
        os.kill(s.fcgi.pid, signal.SIGKILL)
        s.fcgi.wait()
        released = wait_for(lambda: not connectable(s.socket_path), 2, 0.005)
        ms = (time.monotonic() - t_kill) * 1000
        running = sum(th.is_alive() for th in polls)
        check("robust: the children let go of the listening socket at once "
              "(%.0f ms), while they still serve the requests they hold" %
              ms, released and ms < 300 and running == 3, (ms, running))
        for path, ctype in (("/api/tasks", "application/json"),
                            ("/v1/pi", "text/plain; charset=utf-8"),
                            ("/", "text/html; charset=utf-8")):
            st, h, body = s.request("GET", path)
            text = body.decode(errors="replace")
            if ctype == "application/json":
                try:
                    text = json.loads(body).get("error", "")
                except ValueError:
                    text = ""
            check("robust: with no master, GET %s is nginx's 502 as %s, "
                  "with Retry-After, saying to try again in a moment" %
                  (path, ctype.split(";")[0]),
                  st == 502 and h.get("content-type") == ctype and
                  h.get("retry-after", "").isdigit() and
                  "not answering" in text and "a moment" in text and
                  (path != "/v1/pi" or
                   h.get("access-control-allow-origin") == "*"),
                  (st, h, body[:300]))
        t0 = time.monotonic()
        s.start_fcgi()
        up = wait_for(lambda: s.request("GET", "/")[0] == 200, 5)
        check("robust: a new master on the same socket path serves (%.2f s "
              "after its start) while the old children finish" %
              (time.monotonic() - t0), up)
        for th in polls:
            th.join(15)
        check("robust: the long polls in the app when its master died are "
              "answered (200, JSON), none cut off",
              len(answers) == 3 and all(
                  a[0] == 200 and a[1] == "application/json" and
                  b'"version"' in a[2] for a in answers), answers)
        gone = wait_for(lambda: not any(alive(k) for k in kids), 5)
        check("robust: the old children exit within 5 s of their master's "
              "SIGKILL", gone, [k for k in kids if alive(k)])


def test_master_hangup():
    """SIGHUP stops the master as SIGTERM does: children stopped, socket
    removed, exit status 0."""
    with Stack(worker=False, children=2, threads=4,
               label="master hangup stack") as s:
        kids = s.fcgi_children()
        os.kill(s.fcgi.pid, signal.SIGHUP)
        try:
            rc = s.fcgi.wait(10)
        except Exception as e:  # TimeoutExpired: the stack stops it
            rc = repr(e)
        check("robust: SIGHUP stops nthpi-fcgi with status 0", rc == 0, rc)
        check("robust: its children are gone after SIGHUP",
              wait_for(lambda: not any(alive(k) for k in kids), 5), kids)
        check("robust: its socket is removed after SIGHUP",
              not os.path.exists(s.socket_path))


def test_long_polls_hold_no_thread():
    """Far more long-polls than the app has threads: nginx holds them all
    (Nchan), none is answered early, page loads find a thread at once, and
    every poll brings the change."""
    with Stack(worker=False, children=2, threads=2, hold_seconds=20,
               label="long polls without threads stack") as s:
        version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        answers = [None] * 200

        def poll(i):
            try:
                answers[i] = s.api("GET", "/api/tasks?since=%d" % version,
                                   timeout=30)
            except OSError as e:
                answers[i] = (repr(e), None, None)

        threads = [threading.Thread(target=poll, args=(i,), daemon=True)
                   for i in range(200)]
        for t in threads:
            t.start()
        held = wait_for(lambda: (s.channel_info("l%d" % version) or {}).get(
            "subscribers") == 200, 10)
        early = [a for a in answers if a is not None]
        check("robust: 200 long-polls on 2 x 2 threads are all held by "
              "nginx (%d answered early)" % len(early), held and not early,
              (s.channel_info("l%d" % version), early[:3]))
        got = [timed_get(s, "/", timeout=5) for _ in range(10)]
        check("robust: pages are served at once while the long-polls are "
              "held", all(st == 200 and secs < 1 for st, secs in got), got)
        st, task = s.api_create(5)
        for t in threads:
            t.join(10)
        check("robust: they all bring the new task", st == 201 and all(
            a is not None and a[0] == 200 and a[2]["tasks"] and
            a[2]["tasks"][0]["id"] == task["id"] for a in answers),
            [a for a in answers if a is None or a[0] != 200][:3])


def test_nginx_limits_polls_per_address():
    """nginx holds at most 100 long-polls per client address (loopback
    excepted): the 101st from 127.0.0.2 is refused with 429."""
    with Stack(worker=False, children=2, threads=64, hold_seconds=20,
               label="poll limit stack") as s:
        version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        path = "/api/tasks?since=%d" % version
        answers = [None] * 100

        def poll(i):
            try:
                answers[i] = s.request("GET", path, timeout=30,
                                       source="127.0.0.2")[0]
            except OSError as e:
                answers[i] = repr(e)

        threads = [threading.Thread(target=poll, args=(i,), daemon=True)
                   for i in range(100)]
        for t in threads:
            t.start()
        time.sleep(2)
        early = [a for a in answers if a is not None]
        try:
            st = s.request("GET", path, timeout=5, source="127.0.0.2")[0]
        except OSError as e:
            st = repr(e)
        check("robust: 100 long-polls from one address are held, the "
              "101st is refused with 429 (%s)" % st,
              not early and st == 429, (early[:3], st))
        other = s.request("GET", "/api/tasks?limit=1", timeout=5,
                          source="127.0.0.2")[0]
        check("robust: other requests from that address still pass",
              other == 200, other)
        s.api_create(5)
        for t in threads:
            t.join(10)
        check("robust: the 100 held polls are answered",
              answers.count(200) == 100, sorted(set(map(str, answers))))


def test_poll_limit_not_bypassed():
    """The cap counts what the app holds, however the query is spelled:
    "%73ince" is "since" to the app, so such polls count too."""
    with Stack(worker=False, children=2, threads=8, hold_seconds=20,
               label="poll limit spelling stack") as s:
        version = s.api("GET", "/api/tasks?limit=1")[2]["version"]
        path = "/api/tasks?%%73ince=%d" % version
        answers = [None] * 100

        def poll(i):
            try:
                answers[i] = s.request("GET", path, timeout=30,
                                       source="127.0.0.3")[0]
            except OSError as e:
                answers[i] = repr(e)

        threads = [threading.Thread(target=poll, args=(i,), daemon=True)
                   for i in range(100)]
        for t in threads:
            t.start()
        wait_for(lambda: (s.channel_info("l%d" % version) or {}).get(
            "subscribers") == 100, 10)
        early = [a for a in answers if a is not None]
        try:
            st = s.request("GET", path, timeout=5, source="127.0.0.3")[0]
        except OSError as e:
            st = repr(e)
        check("robust: 100 polls spelled %%73ince are held, the 101st is "
              "refused with 429 (%s)" % st, not early and st == 429,
              (early[:3], st))
        s.api_create(5)
        for t in threads:
            t.join(10)
        check("robust: the 100 polls spelled %73ince are answered",
              answers.count(200) == 100, sorted(set(map(str, answers))))


def rss_kib(pid):
    """The resident memory of pid in KiB (VmRSS), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def test_idle_threads_free_big_answers():
    """After 100 concurrent big answers (about 600 KB each), the child's
    threads go back to waiting without keeping them: its resident memory
    grows by far less than 100 answers."""
    with Stack(worker=False, children=1, threads=128,
               label="memory stack") as s:
        s.sql_write("INSERT INTO tasks (n, status, error, created_at, "
                    "finished_at) VALUES (?, 'error', ?, ?, ?)",
                    [(1000 + i, "x" * 400 + " %d" % i, 1700000000000 + i,
                      1700000000500 + i) for i in range(1000)])
        path = "/api/tasks?limit=1000"
        st, _, body = s.request("GET", path)
        if not check("robust: the big answer is served (%d bytes)" %
                     len(body), st == 200 and len(body) > 500000,
                     (st, len(body))):
            return
        kid = s.fcgi_children()[0]
        before = rss_kib(kid)
        got = []

        def get():
            try:
                got.append(s.request("GET", path, timeout=60)[0])
            except OSError as e:
                got.append(repr(e))

        threads = [threading.Thread(target=get) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        after = rss_kib(kid)
        tap.diag("child RSS %d KiB before, %d KiB after 100 concurrent "
                 "answers of %d bytes" % (before, after, len(body)))
        check("robust: the 100 concurrent big answers are all 200",
              got.count(200) == 100, sorted(set(map(str, got))))
        check("robust: the child's memory grew by less than 32 MB with 100 "
              "big answers done (%d KiB)" % (after - before),
              after - before < 32 * 1024, (before, after))


if __name__ == "__main__":
    tap.main(test_stalled_peer, test_stop_while_reading, test_master_dies,
             test_master_hangup, test_long_polls_hold_no_thread,
             test_nginx_limits_polls_per_address, test_poll_limit_not_bypassed,
             test_idle_threads_free_big_answers)
