"""harness.py: runs a real nthpi for a test: nginx, nthpi-fcgi and
nthpi-worker on a free loopback port, in a temp dir of their own.

    from harness import Stack
    with Stack(n_max=10**7, children=2, threads=16) as s:
        status, headers, body = s.request("GET", "/")
        status, task = s.api_create(5)
        task = s.wait_task(task["id"])

Uses the Python standard library only. The binaries come from build/ (or
$NTHPI_BUILD), nginx's configuration from scripts/nginx-conf.sh. Prints
diagnostics as "# " lines. On exit it stops the three programs and reports,
as results (see tap.py), whether they stopped on SIGTERM, whether nginx's
error log has crit/alert/emerg lines and whether a sanitizer or a crash
showed up in the programs' logs. The temp dir is removed unless a check
failed while the stack ran or NTHPI_KEEP_TMP is set.
"""

import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse

import tap

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, os.environ.get("NTHPI_BUILD", "build"))
FINAL = ("done", "error", "cancelled")


class HarnessError(Exception):
    """The stack could not be started or did not behave as a stack should."""


def reference_dir():
    """The directory of the reference digits, kept in the repository."""
    return os.path.join(REPO, "tests", "data")


def reference_digits():
    """Returns "3" followed by the first 10,000 decimals of pi."""
    with open(os.path.join(reference_dir(), "pi-10000.txt")) as f:
        digits = f.read().strip()
    if len(digits) != 10001 or not digits.isdigit():
        raise HarnessError("pi-10000.txt is not '3' and 10000 decimals")
    return digits


def reference_sha256(decimals):
    """Returns the SHA-256 (hex) of "3" and that many decimals, from
    pi-prefix.sha256."""
    with open(os.path.join(reference_dir(), "pi-prefix.sha256")) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 2 and fields[0] == str(decimals):
                return fields[1].lower()
    raise HarnessError("pi-prefix.sha256 has no line for %d" % decimals)


def wait_for(cond, timeout, step=0.02):
    """Polls cond() until it returns something true; returns that, or the
    last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def free_port():
    """Returns a TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable_by_others(path):
    """Whether a user who is neither owner nor in the group (nginx's workers
    run as nobody when the tests run as root) can read path."""
    path = os.path.abspath(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            if st.st_mode & 0o005 != 0o005:
                return False
        elif not st.st_mode & 0o004:
            return False
        d = os.path.dirname(path)
        while True:
            if not os.stat(d).st_mode & 0o001:
                return False
            if d == "/":
                return True
            d = os.path.dirname(d)
    except OSError:
        return False


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def tail(path, lines=30):
    """The last lines of a file, or a note that there is none."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


class _CsrfParser(html.parser.HTMLParser):
    """Finds the csrf hidden input of form#new-task (or of any form)."""

    def __init__(self):
        super().__init__()
        self.in_new_task = False
        self.token = None
        self.any_token = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_new_task = a.get("id") == "new-task"
        elif tag == "input" and a.get("name") == "csrf":
            if self.in_new_task and self.token is None:
                self.token = a.get("value")
            if self.any_token is None:
                self.any_token = a.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_new_task = False


_stack_count = 0


class Stack:
    """nginx + nthpi-fcgi + nthpi-worker in a temp dir; a context manager.

    Attributes once started: url, port, tmp, data_dir, db_path, store_path,
    socket_path, htdocs, nginx_conf, nginx_prefix, log_dir.
    """

    def __init__(self, n_max=None, children=2, threads=16, hold_seconds=None,
                 extra_fcgi_args=(), extra_worker_args=(), worker=True,
                 rate="100000r/s", burst=100000, nginx_workers=1,
                 label=None, fcgi_env=None, prepare_data=None,
                 worker_env=None):
        global _stack_count
        _stack_count += 1
        self.label = label or "stack %d" % _stack_count
        self.fcgi_args = []
        self.worker_args = []
        if n_max is not None:
            self.fcgi_args.append("--n_max=%d" % n_max)
            self.worker_args.append("--n_max=%d" % n_max)
        self.n_max = n_max if n_max is not None else 100000000
        self.fcgi_args += ["--children=%d" % children,
                           "--threads=%d" % threads]
        if hold_seconds is not None:
            self.fcgi_args.append("--hold_seconds=%d" % hold_seconds)
        self.fcgi_args += list(extra_fcgi_args)
        self.worker_args += list(extra_worker_args)
        self.want_worker = worker
        self.fcgi_env = fcgi_env
        # Added to the worker's environment only (an LD_PRELOAD shim).
        self.worker_env = worker_env
        self.prepare_data = prepare_data
        self.port = None
        self.rate = rate
        self.burst = burst
        self.nginx_workers = nginx_workers
        self.fcgi = self.worker = self.nginx = None
        self.tmp = None
        self.problems = []
        self._worker_logs = 0

    # -- starting and stopping --------------------------------------------

    def __enter__(self):
        self._failed_at_start = tap.failed
        try:
            self.start()
        except BaseException:
            self.stop(report=False)
            raise
        return self

    def __exit__(self, *exc):
        self.stop(report=True, failed=exc[0] is not None)
        return False

    def start(self):
        for b in ("nthpi-fcgi", "nthpi-worker"):
            if not os.access(os.path.join(BUILD, b), os.X_OK):
                raise HarnessError("%s/%s is not built (make all)" % (BUILD, b))
        self.tmp = tempfile.mkdtemp(prefix="nthpi-test-")
        # nginx's workers (nobody, when run by root) must reach the socket.
        os.chmod(self.tmp, 0o755)
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_dir = os.path.join(self.tmp, "logs")
        self.nginx_prefix = os.path.join(self.tmp, "nginx")
        for d in (self.data_dir, self.log_dir, self.nginx_prefix):
            os.mkdir(d)
            os.chmod(d, 0o755)
        # A test's own file system for DATA (a small tmpfs, say), made
        # before anything is written there.
        if self.prepare_data is not None:
            self.prepare_data(self.data_dir)
        self.db_path = os.path.join(self.data_dir, "nthpi.db")
        self.store_path = os.path.join(self.data_dir, "pi-digits.txt")
        self.socket_path = os.path.join(self.data_dir, "nthpi-fcgi.sock")
        # nginx listens here for the app's live updates (Nchan).
        self.publish_path = os.path.join(self.data_dir, "nthpi-publish.sock")
        self.nginx_conf = os.path.join(self.nginx_prefix, "nginx.conf")
        self.nginx_error_log = os.path.join(self.nginx_prefix, "logs",
                                            "error.log")

        src = os.path.join(REPO, "htdocs")
        files = [os.path.join(src, f) for f in os.listdir(src)]
        if os.geteuid() != 0 or all(map(reachable_by_others, [src] + files)):
            self.htdocs = src
        else:
            # A checkout under /root (0700): nginx's workers cannot read it.
            self.htdocs = os.path.join(self.tmp, "htdocs")
            shutil.copytree(src, self.htdocs)
            for dirpath, dirs, names in os.walk(self.htdocs):
                os.chmod(dirpath, 0o755)
                for n in names:
                    os.chmod(os.path.join(dirpath, n), 0o644)
            tap.diag("%s: htdocs copied to %s (checkout not readable by "
                     "nobody)" % (self.label, self.htdocs))

        self._start_fcgi()
        if self.want_worker:
            self.start_worker()
        self._start_nginx()
        self._wait_ready()
        tap.diag("%s: %s (tmp %s)" % (self.label, self.url, self.tmp))

    def _spawn(self, name, argv, preexec_fn=None, env=None):
        log = open(os.path.join(self.log_dir, name + ".log"), "ab")
        if env is not None:
            env = dict(os.environ, **env)
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.tmp, start_new_session=True,
                                    preexec_fn=preexec_fn, env=env)
        finally:
            log.close()

    def _start_fcgi(self):
        argv = [os.path.join(BUILD, "nthpi-fcgi"), "--data=" + self.data_dir,
                "--socket=" + self.socket_path] + self.fcgi_args
        # A killed nthpi-fcgi leaves its socket behind; wait for the new.
        stale = _inode(self.socket_path)
        self.fcgi = self._spawn("fcgi", argv, env=self.fcgi_env)
        deadline = time.monotonic() + 15
        while _inode(self.socket_path) in (None, stale):
            if self.fcgi.poll() is not None:
                raise HarnessError(
                    "nthpi-fcgi exited with %s before listening:\n%s" %
                    (self.fcgi.returncode, tail(self.fcgi_log)))
            if time.monotonic() > deadline:
                raise HarnessError("nthpi-fcgi did not create %s in 15 s:\n%s"
                                   % (self.socket_path, tail(self.fcgi_log)))
            time.sleep(0.02)
        mode = os.stat(self.socket_path).st_mode
        if os.geteuid() == 0 and not mode & 0o002:
            tap.diag("%s: the socket is %o: nginx's workers (nobody) may "
                     "not be able to connect" % (self.label, mode & 0o777))

    @property
    def fcgi_log(self):
        return os.path.join(self.log_dir, "fcgi.log")

    @property
    def worker_log(self):
        return os.path.join(self.log_dir, "worker.log")

    def _start_nginx(self, same_port=False):
        user = ["--user=nobody nogroup"] if os.geteuid() == 0 else []
        for attempt in range(5):
            if not same_port:
                self.port = free_port()
            self.url = "http://127.0.0.1:%d" % self.port
            conf = subprocess.run(
                ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
                 "--prefix=" + self.nginx_prefix, "--port=%d" % self.port,
                 "--socket=" + self.socket_path, "--htdocs=" + self.htdocs,
                 "--publish=" + self.publish_path,
                 "--workers=%s" % self.nginx_workers, "--rate=" + self.rate,
                 "--burst=%d" % self.burst] + user,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if conf.returncode != 0:
                raise HarnessError("nginx-conf.sh failed: " + conf.stderr)
            with open(self.nginx_conf, "w") as f:
                f.write(conf.stdout)
            # A killed nginx leaves its socket behind, which a new one
            # cannot bind.
            if os.path.exists(self.publish_path):
                os.unlink(self.publish_path)
            self.nginx = self._spawn("nginx", [
                nginx_binary(), "-p", self.nginx_prefix, "-c",
                self.nginx_conf, "-g", "daemon off;"])
            # nginx binds at once, or exits.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.nginx.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.2).close()
                    return
                except OSError:
                    time.sleep(0.02)
            text = tail(self.nginx_error_log) + tail(
                os.path.join(self.log_dir, "nginx.log"))
            self._stop_proc("nginx", self.nginx, signal.SIGTERM, 5)
            self.nginx = None
            if "Address already in use" not in text:
                raise HarnessError("nginx did not start:\n" + text)
            tap.diag("%s: port %d was taken, trying another" %
                     (self.label, self.port))
        raise HarnessError("nginx found no free port in 5 tries")

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        last = None
        while time.monotonic() < deadline:
            try:
                status, _, body = self.request("GET", "/", timeout=5)
                if status < 500:
                    return
                last = "GET / answered %d" % status
            except OSError as e:
                last = "GET / failed: %s" % e
            for name, p in (("nthpi-fcgi", self.fcgi),
                            ("nginx", self.nginx)):
                if p.poll() is not None:
                    raise HarnessError("%s exited with %s" %
                                       (name, p.returncode))
            time.sleep(0.05)
        raise HarnessError("the stack did not answer GET / in 20 s (%s)\n"
                           "nginx: %s\nfcgi: %s" %
                           (last, tail(self.nginx_error_log),
                            tail(self.fcgi_log)))

    def _stop_proc(self, name, p, sig, timeout):
        """Sends sig and waits; kills the process group after timeout.
        Returns a problem sentence or None."""
        if p is None or p.poll() is not None:
            return None
        t0 = time.monotonic()
        try:
            p.send_signal(sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            return "%s did not stop within %g s of %s" % (
                name, timeout, signal.Signals(sig).name)
        ms = (time.monotonic() - t0) * 1000
        # Children of its own (fcgi children, compute child) go too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        if p.returncode not in (0, -sig):
            return "%s exited with status %s on %s" % (
                name, p.returncode, signal.Signals(sig).name)
        if ms > 1000:
            tap.diag("%s: %s took %.0f ms to stop" % (self.label, name, ms))
        return None

    def stop(self, report=True, failed=False):
        """Stops the three programs; with report, prints the results about
        how they stopped and what their logs say."""
        if self.tmp is None:
            return
        problems = list(self.problems)
        for name, p, sig, timeout in (
                ("nginx", self.nginx, signal.SIGTERM, 10),
                ("nthpi-worker", self.worker, signal.SIGTERM, 15),
                ("nthpi-fcgi", self.fcgi, signal.SIGTERM, 10)):
            problem = self._stop_proc(name, p, sig, timeout)
            if problem:
                problems.append(problem)
        self.nginx = self.worker = self.fcgi = None
        if report:
            tap.check("%s: the programs stop cleanly on SIGTERM" % self.label,
                      not problems, "\n".join(problems))
            bad = [l for l in tail(self.nginx_error_log, 100000).splitlines()
                   if re.search(r"\[(crit|alert|emerg)\]", l)]
            tap.check("%s: nginx's error log has no crit, alert or emerg "
                      "lines" % self.label, not bad, "\n".join(bad[:20]))
            crashes = []
            for name in os.listdir(self.log_dir):
                text = tail(os.path.join(self.log_dir, name), 100000)
                for pat in ("ERROR: AddressSanitizer", "runtime error:",
                            "ERROR: LeakSanitizer", "Segmentation fault"):
                    if pat in text:
                        crashes.append("%s: %s" % (name, pat))
            tap.check("%s: no sanitizer report or crash in the logs" %
                      self.label, not crashes, "\n".join(crashes))
        went_wrong = failed or tap.failed > self._failed_at_start
        if went_wrong or not report:
            for name in sorted(os.listdir(self.log_dir)):
                tap.diag("--- %s (last lines)" % name)
                tap.diag(tail(os.path.join(self.log_dir, name)))
            tap.diag("--- nginx error.log (last lines)")
            tap.diag(tail(self.nginx_error_log))
        if went_wrong or os.environ.get("NTHPI_KEEP_TMP"):
            tap.diag("%s: kept %s" % (self.label, self.tmp))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    # -- the programs -----------------------------------------------------

    def start_worker(self, preexec_fn=None):
        """Starts nthpi-worker (again). preexec_fn runs in the child before
        the exec (to set a resource limit, for example)."""
        if self.worker is not None and self.worker.poll() is None:
            raise HarnessError("the worker is running already")
        argv = [os.path.join(BUILD, "nthpi-worker"),
                "--data=" + self.data_dir] + self.worker_args
        self.worker = self._spawn("worker", argv, preexec_fn,
                                  env=self.worker_env)
        return self.worker.pid

    def stop_worker(self, sig=signal.SIGTERM, timeout=15, group=True):
        """Sends sig to the worker and waits for it to exit. Returns its exit
        status (negative: the signal that ended it). After a SIGKILL its
        process group goes too, unless group=False: then a compute child
        is left to notice on its own that its worker is gone."""
        p = self.worker
        if p is None:
            raise HarnessError("the worker is not running")
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            self.problems.append("nthpi-worker did not exit within %g s of %s"
                                 % (timeout, signal.Signals(sig).name))
        if sig == signal.SIGKILL and group:
            # Its compute child, if any, is in its process group.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        self.worker = None
        return p.returncode

    def fcgi_children(self):
        """The pids of the FastCGI master's request children (not the
        publisher)."""
        return [k for k in _children(self.fcgi.pid)
                if _comm(k) != "nthpi-publisher"]

    def fcgi_publisher(self):
        """The pid of the FastCGI master's publisher child, or None."""
        for k in _children(self.fcgi.pid):
            if _comm(k) == "nthpi-publisher":
                return k
        return None

    def channel_info(self, channel, kind="once"):
        """What nginx's Nchan says of a channel, asked on the publisher
        socket: {"messages": N, "subscribers": N}, or None if it has no
        such channel (yet)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(self.publish_path)
            s.sendall(("GET /pub/%s/%s HTTP/1.0\r\nHost: nthpi\r\n\r\n" %
                       (kind, channel)).encode())
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        text = data.decode("latin-1")
        if not text.startswith("HTTP/1.1 200"):
            return None
        m = re.search(r"queued messages: (\d+)", text)
        n = re.search(r"active subscribers: (\d+)", text)
        return {"messages": int(m.group(1)) if m else 0,
                "subscribers": int(n.group(1)) if n else 0}

    def worker_children(self):
        """The pids of the worker's child processes (its compute child)."""
        return _children(self.worker.pid) if self.worker else []

    def kill_all(self, sig=signal.SIGKILL):
        """Sends sig to the process groups of nginx, nthpi-fcgi and
        nthpi-worker at once (a power cut, with SIGKILL) and waits for the
        three to end. restart() starts them again."""
        procs = [p for p in (self.nginx, self.fcgi, self.worker)
                 if p is not None]
        for p in procs:
            try:
                os.killpg(p.pid, sig)
            except OSError:
                pass
        for p in procs:
            p.wait()
        self.nginx = self.fcgi = self.worker = None

    def restart(self):
        """Starts the programs again after kill_all(), on the same data
        directory (nginx on a new port: s.url changes)."""
        self._start_fcgi()
        if self.want_worker:
            self.start_worker()
        self._start_nginx()
        self._wait_ready()
        tap.diag("%s: restarted at %s" % (self.label, self.url))

    def restart_nginx(self, sig=signal.SIGKILL):
        """Stops nginx with sig (SIGKILL: its whole process group, a crash)
        and starts it again on the same port: what it held is lost."""
        if sig == signal.SIGKILL:
            os.killpg(self.nginx.pid, sig)
            self.nginx.wait()
        else:
            problem = self._stop_proc("nginx", self.nginx, sig, 10)
            if problem:
                self.problems.append(problem)
        self.nginx = None
        self._start_nginx(same_port=True)

    def start_fcgi(self):
        """Starts nthpi-fcgi again after its master died (s.fcgi exited),
        as a supervisor would: on the same socket path, leaving a stale
        socket there for the new master to deal with."""
        if self.fcgi is not None and self.fcgi.poll() is None:
            raise HarnessError("nthpi-fcgi is running already")
        self._start_fcgi()

    def kill_fcgi_child(self, sig=signal.SIGKILL):
        """Sends sig to one FastCGI child. Returns its pid."""
        kids = self.fcgi_children()
        if not kids:
            raise HarnessError("nthpi-fcgi has no child processes")
        os.kill(kids[0], sig)
        return kids[0]

    # -- HTTP -------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=30,
                source=None):
        """One HTTP/1.1 request through nginx, on a new connection; no
        redirects followed. Returns (status, headers with lower-case names
        (repeated ones joined with ", "), body bytes). source binds the
        client side to that address (for example 127.0.0.2)."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout,
            source_address=(source, 0) if source else None)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
            return r.status, hdrs, data
        finally:
            conn.close()

    def raw_request(self, data, timeout=10):
        """Sends bytes as they are and returns all bytes of the answer (the
        connection is closed by the server or after timeout)."""
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout) as c:
            c.sendall(data)
            chunks = []
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
            except socket.timeout:
                pass
            return b"".join(chunks)

    def get_csrf(self):
        """Loads the main page as a new visitor. Returns (token, cookie
        header value) for a form POST."""
        status, h, body = self.request("GET", "/")
        m = re.search(r"(?:^|[,;]\s*)nthpi_csrf=([^;,\s]+)",
                      h.get("set-cookie", ""))
        p = _CsrfParser()
        p.feed(body.decode("utf-8", "replace"))
        token = p.token or p.any_token
        if status != 200 or not m or not token:
            raise HarnessError(
                "GET / gave no CSRF cookie and token (status %d, "
                "Set-Cookie %r, hidden csrf field %r)" %
                (status, h.get("set-cookie"), token))
        return token, "nthpi_csrf=" + m.group(1)

    def form_post(self, path, fields, csrf=True, origin=True, headers=None):
        """POSTs fields (dict or list of pairs; str or bytes values) as a
        form, as a browser on this site does: with the csrf field and cookie
        (csrf=False leaves both out, or give a (token, cookie) pair) and an
        Origin header (origin=False leaves it out, or give one)."""
        fields = list(fields.items() if isinstance(fields, dict) else fields)
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if csrf:
            token, cookie = self.get_csrf() if csrf is True else csrf
            fields.append(("csrf", token))
            h["Cookie"] = cookie
        if origin:
            h["Origin"] = self.url if origin is True else origin
        h.update(headers or {})
        return self.request("POST", path, urllib.parse.urlencode(fields), h)

    def submit_form(self, n, **kw):
        """POST /tasks with n (str, bytes or int) as the form does. Returns
        (status, headers, body)."""
        return self.form_post("/tasks", [("n", str(n) if isinstance(
            n, int) else n)], **kw)

    def api(self, method, path, obj=None, headers=None, timeout=30):
        """A JSON request: obj is sent as JSON (str/bytes as they are).
        Returns (status, headers, parsed JSON or None)."""
        h = {}
        body = None
        if obj is not None:
            h["Content-Type"] = "application/json"
            body = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
        h.update(headers or {})
        status, hdrs, data = self.request(method, path, body, h, timeout)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, hdrs, parsed

    def api_create(self, n):
        """POST /api/tasks {"n": n}. Returns (status, parsed JSON)."""
        status, _, parsed = self.api("POST", "/api/tasks", {"n": n})
        return status, parsed

    def get_task(self, task_id):
        status, _, t = self.api("GET", "/api/tasks/%d" % task_id)
        if status != 200 or not isinstance(t, dict):
            raise HarnessError("GET /api/tasks/%d: %d %r" %
                               (task_id, status, t))
        return t

    def wait_task(self, task_id, timeout=60):
        """Polls GET /api/tasks/ID until the task is done, error or
        cancelled. Returns the task; raises HarnessError after timeout."""
        deadline = time.monotonic() + timeout
        t = None
        while time.monotonic() < deadline:
            t = self.get_task(task_id)
            if t.get("status") in FINAL:
                return t
            time.sleep(0.05)
        raise HarnessError("task %d not finished in %g s: %r" %
                           (task_id, timeout, t))

    # -- the database -----------------------------------------------------

    def sql(self, query, params=()):
        """Runs a query on a read-only connection to the database. Returns
        the rows as tuples."""
        c = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True,
                            timeout=10)
        try:
            return c.execute(query, params).fetchall()
        finally:
            c.close()

    def sql_write(self, script, params=None):
        """Test setup only: runs SQL on a read-write connection (executemany
        when params is a list of tuples)."""
        c = sqlite3.connect(self.db_path, timeout=10)
        try:
            if params is None:
                c.executescript(script)
            else:
                c.executemany(script, params)
            c.commit()
        finally:
            c.close()


def _comm(pid):
    """A process's name (/proc/PID/comm), or "" once it is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _inode(path):
    """Which file is at path: (inode, ctime in ns), or None. A socket bound
    anew differs from the stale one even if its inode number is reused."""
    try:
        st = os.stat(path)
        return st.st_ino, st.st_ctime_ns
    except OSError:
        return None


def _children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after ")".
        fields = s[s.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(d))
    return sorted(kids)
