#!/usr/bin/env python3
"""test_run.py: `make run` as a new user meets it (scripts/run.sh, which make
run starts once the programs are built).

It serves the page on PORT with its state in DATA, computes a digit, says
clearly when the port is taken or PORT is not a number, writes nothing into
the checkout, and Ctrl-C (SIGINT to its process group, as a terminal sends
it) stops nginx, the app and the worker. It restarts a part killed with
SIGKILL (the worker mid-computation, the FastCGI master, nginx's master)
with one line that says so, while the page keeps answering and the
computation still ends right; a part that dies 5 times within 30 s stops
everything, naming the part and its log. `make run` itself builds only the
two programs and says how long that took.
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import (BUILD, REPO, free_port, reference_digits,  # noqa: E402
                     reference_sha256, wait_for)

check = tap.check


def start(port, data, argv=("sh", "scripts/run.sh"), env=None):
    """Starts scripts/run.sh (or argv) in a process group of its own, as a
    shell starts a foreground job; its output goes to DATA/../run-PORT.log."""
    env = dict(os.environ, PORT=str(port), DATA=data, BUILD=BUILD,
               **(env or {}))
    log = open(os.path.join(os.path.dirname(data), "run-%s.log" % port), "w+")
    p = subprocess.Popen(list(argv), cwd=REPO, env=env,
                         stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    p.log = log
    return p


def output(p):
    p.log.flush()
    p.log.seek(0)
    return p.log.read()


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def proc(pid):
    """(ppid, start time, comm, state) of a process, or None if there is
    none or it is a zombie: what tells a process from a later one that
    reuses its pid."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    fields = s[s.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[19]), comm, fields[0]


def same(pid, info):
    """Whether pid is still the live process info described."""
    now = proc(pid)
    return now is not None and now[1] == info[1]


def children(pid):
    """{pid: info} of the live children of pid."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            info = proc(int(d))
            if info and info[0] == pid:
                kids[int(d)] = info
    return kids


def tree(pid):
    """{pid: info} of pid and everything under it."""
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        info = proc(p)
        if info:
            out[p] = info
            todo.extend(children(p))
    return out


def child_named(pid, comm):
    """The pid of pid's live child named comm (the newest), or None."""
    kids = [(i[1], k) for k, i in children(pid).items() if i[2] == comm]
    return max(kids)[1] if kids else None


def gone(procs):
    """Those of {pid: info} still alive, as a list (empty once all are
    gone)."""
    return [(p, i[2]) for p, i in procs.items() if same(p, i)]


def page_up(base):
    """Seconds until GET / answers 200 (polled), or None after 10 s."""
    t0 = time.monotonic()

    def ok():
        try:
            return http("GET", base + "/", timeout=1)[0] == 200
        except OSError:
            return False
    if wait_for(ok, 10, 0.05):
        return time.monotonic() - t0
    return None


def api_task(base, n):
    st, body = http("POST", base + "/api/tasks",
                    json.dumps({"n": n}).encode(),
                    {"Content-Type": "application/json", "Origin": base})
    return json.loads(body) if st == 201 else None


def get_task(base, task_id):
    try:
        st, body = http("GET", base + "/api/tasks/%d" % task_id, timeout=5)
    except OSError:
        return None
    return json.loads(body) if st == 200 else None


def wait_final(base, task_id, timeout):
    """The task once done, error or cancelled; None after timeout."""
    def final():
        t = get_task(base, task_id)
        return t if t and t["status"] in ("done", "error", "cancelled") \
            else None
    return wait_for(final, timeout, 0.2)


def computing(base, run_pid, task_id):
    """The worker's compute child once task task_id runs, else None."""
    t = get_task(base, task_id)
    w = child_named(run_pid, "nthpi-worker")
    if not t or t["status"] != "running" or w is None:
        return None
    return child_named(w, "nthpi-worker")


def stop_line(name, how):
    return "run.sh: %s exited (%s); restarting in 0.2 s" % (name, how)


def kill_part(p, base, data, name):
    """SIGKILLs run.sh's part name; checks that a new one serves within
    2 s and that one line says how the old one ended, in the terminal and
    its log. Returns the dead one's children as they were."""
    old = child_named(p.pid, name)
    if not check("there is a %s to kill" % name, old is not None,
                 tree(p.pid)):
        return {}
    kids = children(old)
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    def replaced():
        c = child_named(p.pid, name)
        return c if c != old else None
    new = wait_for(replaced, 5, 0.01)
    # Only now: the old one's workers or children may have answered for
    # a moment after its death.
    up = page_up(base) if new else None
    took = time.monotonic() - t0 if up is not None else None
    check("killed %s (-9): a new one runs and the page answers within 2 s "
          "(%s s)" % (name, took if took is None else "%.2f" % took),
          new and took is not None and took <= 2, output(p)[-2000:])
    line = stop_line(name, "killed by SIGKILL")
    log = "nginx.log" if name == "nginx" else name + ".log"
    logged = wait_for(lambda: output(p).count(line) == 1, 5)
    with open(os.path.join(data, "logs", log)) as f:
        in_log = f.read().count(line)
    check("one line says %s was killed by SIGKILL and restarts, here and "
          "in DATA/logs/%s" % (name, log), logged and in_log == 1,
          (in_log, output(p)[-2000:]))
    return kids


def checkout_state():
    """What git sees in the checkout: changed and new files."""
    r = subprocess.run(["git", "status", "--porcelain",
                        "--untracked-files=all"], cwd=REPO,
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def processes_using(data):
    """Pids of the processes whose command line names DATA."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # Stripped first: the worker's command line ends "--data=DATA\0".
        cmd = cmd.strip()
        if data + "/" in cmd or cmd.endswith(data):
            pids.append((int(d), cmd))
    return pids


def test_make_run():
    pi = reference_digits()
    before = checkout_state()
    # make run's default DATA, which git ignores: it must stay untouched.
    var = os.path.join(REPO, "var")
    var_before = sorted(os.listdir(var)) if os.path.isdir(var) else None
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        p = start(port, data)
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 30, 0.1)
            if not check("run.sh says where nthpi is and how to stop it",
                         up and p.poll() is None and
                         ("http://127.0.0.1:%d/" % port) in output(p),
                         output(p)):
                return
            st, body = http("GET", base + "/")
            check("the main page is served on PORT, with the form",
                  st == 200 and b'id="new-task"' in body, st)
            st, body = http("POST", base + "/api/tasks",
                            json.dumps({"n": 762}).encode(),
                            {"Content-Type": "application/json",
                             "Origin": base})
            task = json.loads(body) if st == 201 else {}

            def done():
                s, b = http("GET", base + "/api/tasks/%d" % task["id"])
                t = json.loads(b) if s == 200 else {}
                return t if t.get("status") in ("done", "error") else None

            t = wait_for(done, 60, 0.2) if task else None
            check("a task for n=762 is computed: 9",
                  t and t["status"] == "done" and t["digit"] == pi[762], t)
            check("the state is in DATA: the database and the digit store",
                  os.path.exists(os.path.join(data, "nthpi.db")) and
                  os.path.getsize(os.path.join(data, "pi-digits.txt")) >= 763,
                  sorted(os.listdir(data)))

            # A second run on the same port says so and stops.
            p2 = start(port, os.path.join(tmp, "data2"))
            try:
                p2.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p2.pid, signal.SIGKILL)
                p2.wait()
            check("a second run on a taken port exits 1, saying so and "
                  "what to do",
                  p2.returncode == 1 and "port %d is taken" % port in
                  output(p2) and "PORT=" in output(p2), output(p2))
            check("and the first one still serves",
                  http("GET", base + "/")[0] == 200 and p.poll() is None)
            p3 = subprocess.run(["sh", "scripts/run.sh"], cwd=REPO,
                                env=dict(os.environ, PORT="80a"),
                                capture_output=True, text=True, timeout=30)
            check("PORT that is not a number is refused with a message",
                  p3.returncode == 2 and "PORT must be a number" in
                  p3.stderr, (p3.returncode, p3.stderr))

            running = processes_using(data)
            os.killpg(p.pid, signal.SIGINT)
            try:
                rc = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                rc = None
            check("Ctrl-C stops run.sh within 15 s, exit status 0",
                  rc == 0, (rc, output(p)[-2000:]))
            left = wait_for(lambda: not processes_using(data), 5)
            check("and nginx, the app and the worker are gone (%d "
                  "processes ran)" % len(running),
                  left and len(running) >= 3, processes_using(data))
            check("the app's socket is removed",
                  not os.path.exists(os.path.join(data, "nthpi-fcgi.sock")))
            out = output(p)
            check("no sanitizer report or crash in its output",
                  "Sanitizer" not in out and "runtime error" not in out and
                  "Segmentation" not in out, out[-3000:])
            var_after = sorted(os.listdir(var)) if os.path.isdir(var) \
                else None
            check("nothing was written into the checkout (git sees no "
                  "change, and ./var is as it was)",
                  before is not None and checkout_state() == before and
                  var_after == var_before,
                  (before, checkout_state(), var_before, var_after))
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for pid, _ in processes_using(data):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


BIG = 10**7


def test_restarts():
    """Each part killed in turn, mid-computation, comes back by itself."""
    pi = reference_digits()
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        p = start(port, data)
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 30, 0.1)
            if not check("run.sh starts (for the restarts)",
                         up and p.poll() is None, output(p)):
                return
            small = api_task(base, 5000)
            t = wait_final(base, small["id"], 60) if small else None
            check("a small task is done first: decimal 5000",
                  t and t["status"] == "done" and t["digit"] == pi[5000], t)
            big = api_task(base, BIG)
            compute = wait_for(lambda: computing(base, p.pid, big["id"]),
                               60, 0.05) if big else None
            if not check("a task for n=%d runs in a compute child" % BIG,
                         compute is not None, big and get_task(base,
                                                               big["id"])):
                return
            # The web side first, so that the computation is still the
            # same one after; then the worker, which restarts it.
            dead = {}
            dead["nthpi-fcgi"] = kill_part(p, base, data, "nthpi-fcgi")
            dead["nginx"] = kill_part(p, base, data, "nginx")
            t = get_task(base, big["id"])
            check("the computation carried on while nthpi-fcgi and nginx "
                  "were restarted",
                  t and t["status"] == "running" and
                  computing(base, p.pid, big["id"]) == compute, t)
            dead["nthpi-worker"] = kill_part(p, base, data, "nthpi-worker")
            t = get_task(base, big["id"])
            check("the task is still on (not an error) after the worker "
                  "died", t and t["status"] in ("queued", "running"), t)
            again = wait_for(lambda: computing(base, p.pid, big["id"]),
                             30, 0.05)
            check("the new worker computes it again", again is not None,
                  get_task(base, big["id"]))
            for name, kids in dead.items():
                left = wait_for(lambda: not gone(kids), 4, 0.05)
                check("the dead %s's %d children are gone (%s)" %
                      (name, len(kids), ", ".join(sorted(set(
                          i[2] for i in kids.values())))),
                      left and len(kids) > 0, gone(kids))
            t = wait_final(base, big["id"], 300)
            ms = re.findall(r"computed %d decimals in (\d+) ms" % BIG,
                            output(p))
            tap.diag("the restarted computation of %d decimals took %s ms"
                     % (BIG, ms[-1] if ms else "?"))
            store = os.path.join(data, "pi-digits.txt")
            with open(store, "rb") as f:
                head = f.read(BIG + 1)
            check("it ends done, its digit the store's decimal %d" % BIG,
                  t and t["status"] == "done" and len(head) == BIG + 1 and
                  t["digit"] == chr(head[BIG]), t)
            check("and the store's first %d decimals have the published "
                  "SHA-256" % BIG,
                  hashlib.sha256(head).hexdigest() == reference_sha256(BIG))
            check("no other part was restarted",
                  output(p).count("exited (") == 3,
                  re.findall(r"run\.sh: .*exited.*", output(p)))
            check("the programs' lines are shown here and kept in "
                  "DATA/logs",
                  "task %d: decimal 5000 is %s" % (small["id"], pi[5000])
                  in output(p) and "task %d: decimal 5000 is" % small["id"]
                  in open(os.path.join(data, "logs",
                                       "nthpi-worker.log")).read(),
                  output(p)[-2000:])

            # Ctrl-C while a computation runs stops every process of it.
            more = api_task(base, 2 * BIG)
            compute = wait_for(lambda: computing(base, p.pid, more["id"]),
                               60, 0.05) if more else None
            procs = tree(p.pid)
            check("a second computation runs before Ctrl-C",
                  compute is not None and compute in procs, procs)
            t0 = time.monotonic()
            os.killpg(p.pid, signal.SIGINT)
            all_gone = wait_for(lambda: not gone(procs), 10, 0.01)
            took = time.monotonic() - t0
            tap.diag("ctrl_c_stop_s=%.2f (%d processes)" % (took,
                                                            len(procs)))
            check("Ctrl-C stops all %d processes within 2 s (%.2f s): "
                  "run.sh, the tees, nginx and its workers, the FastCGI "
                  "master and its children, the worker and its compute "
                  "child" % (len(procs), took),
                  all_gone and took <= 2, gone(procs))
            check("run.sh exits 0 after Ctrl-C", p.wait(5) == 0,
                  output(p)[-2000:])
            check("the task Ctrl-C cut off is queued again",
                  sqlite_status(data, more["id"]) == "queued",
                  sqlite_status(data, more["id"]))
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for pid, _ in processes_using(data):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def sqlite_status(data, task_id):
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "nthpi.db"),
                         uri=True)
    try:
        row = db.execute("SELECT status FROM tasks WHERE id = ?",
                         (task_id,)).fetchone()
    finally:
        db.close()
    return row and row[0]


def test_crash_loop():
    """A worker that cannot start (another one holds DATA) stops it all."""
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        port = free_port()
        p = start(port, data)
        other = None
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 30, 0.1)
            if not check("run.sh starts (for the crash loop)",
                         up and p.poll() is None, output(p)):
                return
            procs = tree(p.pid)
            worker = child_named(p.pid, "nthpi-worker")
            # Another worker on DATA takes the lock as soon as run.sh's is
            # gone; each worker run.sh starts then exits at once.
            os.kill(worker, signal.SIGKILL)
            wait_for(lambda: proc(worker) is None, 5, 0.005)
            other = subprocess.Popen(
                [os.path.join(BUILD, "nthpi-worker"), "--data=" + data],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
            t0 = time.monotonic()
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - t0
            out = output(p)
            log = os.path.join(data, "logs", "nthpi-worker.log")
            restarts = re.findall(r"run\.sh: nthpi-worker exited \(exit "
                                  r"code 1\); restarting in ([0-9.]+) s",
                                  out)
            check("each worker after the first exits 1 and is restarted "
                  "later each time: 0.5, 1, 2 s",
                  restarts == ["0.5", "1", "2"], out[-3000:])
            check("the 5th exit within 30 s says so in one line",
                  "run.sh: nthpi-worker exited (exit code 1), the 5th time "
                  "within 30 s; stopping everything" in out, out[-3000:])
            check("run.sh stops and exits 1 (after %.1f s)" % took,
                  rc == 1, (rc, out[-3000:]))
            check("its last line names the part and its log",
                  out.rstrip().splitlines()[-1] ==
                  "run.sh: stopped: nthpi-worker died 5 times within 30 s; "
                  "see its log, " + log, out[-500:])
            with open(log) as f:
                text = f.read()
            check("the log holds why the workers exited (the other worker "
                  "holds the lock)",
                  "another nthpi-worker (pid %d) already works on" %
                  other.pid in text,
                  text[-2000:])
            check("nothing of it is left running",
                  wait_for(lambda: not gone(procs), 5), gone(procs))
            check("the other worker was left alone", other.poll() is None)
        finally:
            if other is not None:
                other.terminate()
                other.wait()
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for pid, _ in processes_using(data):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def http_headers(method, url, body=None, headers=None, timeout=5):
    """(status, headers as a dict with lower-case names, body); the error
    as a string if there was no answer."""
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, \
                r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, \
            e.read()
    except OSError as e:
        return repr(e), {}, b""


def test_master_killed():
    """The FastCGI master killed outright under run.sh: the next one
    serves within a second, the requests its children were serving are
    answered, and what fails in between is a 502 in JSON under /api/."""
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        # Each long poll spends 500 ms in the app before nginx holds it.
        p = start(port, data, env={"NTHPI_TEST_HANDOFF_DELAY_MS": "500"})
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 30, 0.1)
            if not check("run.sh starts (for the master's death)",
                         up and p.poll() is None, output(p)):
                return
            t = api_task(base, 5)
            wait_final(base, t["id"], 30)
            version = json.loads(http("GET", base + "/api/tasks")[1])[
                "version"]
            polls, asked, stop = [], [], threading.Event()

            def poll():
                polls.append(http_headers(
                    "GET", base + "/api/tasks?since=%d" % version,
                    timeout=40))

            def ask():
                while not stop.is_set():
                    t0 = time.monotonic()
                    st, h, body = http_headers("GET", base + "/api/tasks",
                                               timeout=5)
                    asked.append((t0, time.monotonic(), st,
                                  h.get("content-type"),
                                  h.get("retry-after"), body[:120]))
                    time.sleep(0.01)

            threads = [threading.Thread(target=poll) for _ in range(3)]
            asker = threading.Thread(target=ask)
            for th in threads + [asker]:
                th.start()
            time.sleep(0.2)
            master = child_named(p.pid, "nthpi-fcgi")
            t_kill = time.monotonic()
            os.kill(master, signal.SIGKILL)
            new = wait_for(lambda: child_named(p.pid, "nthpi-fcgi") not in
                           (None, master), 5, 0.01)
            wait_for(lambda: [a for a in asked if a[0] > t_kill and
                              a[2] == 200 and time.monotonic() - a[0] > 0.5],
                     10, 0.05)
            stop.set()
            asker.join()
            after = [a for a in asked if a[1] > t_kill]
            failed = [a for a in after if a[2] != 200]
            last_fail = max((a[1] for a in failed), default=t_kill)
            ok_after = [a for a in after if a[2] == 200 and
                        a[0] >= last_fail]
            gap = ok_after[0][0] - t_kill if ok_after else None
            tap.diag("master_gap_s=%s (%d of %d requests failed, run.sh's "
                     "first restart after 0.2 s)" %
                     (gap is not None and "%.2f" % gap, len(failed),
                      len(after)))
            check("killed the master: requests succeed again within 1 s "
                  "(%s s)" % (gap is not None and "%.2f" % gap),
                  new and gap is not None and gap <= 1.0,
                  (failed[-3:], output(p)[-1500:]))
            check("and what failed meanwhile under /api/ is nginx's 502 in "
                  "JSON, with Retry-After (%d)" % len(failed),
                  all(a[2] == 502 and a[3] == "application/json" and
                      a[4] and a[5].startswith(b'{"error": ')
                      for a in failed), failed[:5])
            # A change for the held polls' channel, from the new master's
            # publisher.
            api_task(base, 6)
            for th in threads:
                th.join(30)
            check("the long polls in the app when the master died are "
                  "answered (200, JSON), none cut off",
                  len(polls) == 3 and all(
                      st == 200 and h.get("content-type") ==
                      "application/json" for st, h, _ in polls),
                  [(st, h.get("content-type"), b[:200])
                   for st, h, b in polls])
            out = output(p)
            check("no sanitizer report or crash in run.sh's output (the "
                  "master's death)",
                  "Sanitizer" not in out and "runtime error" not in out and
                  "Segmentation" not in out, out[-3000:])
        finally:
            stop_run(p, data)


def stop_run(p, data):
    """Stops run.sh p and whatever it left using data."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    for pid, _ in processes_using(data):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_make_run_builds_programs():
    """make run in a fresh build directory builds the two programs, not the
    unit tests, and says how long that took."""
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        build = os.path.join(tmp, "build")
        port = free_port()
        p = start(port, data, argv=("make", "--no-print-directory", "run",
                                    "BUILD=" + build))
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 300, 0.2)
            out = output(p)
            m = re.search(r"^Built nthpi-fcgi and nthpi-worker in "
                          r"(\d+ s|less than a second)\.$", out, re.M)
            check("make run builds and says how long that took",
                  up and p.poll() is None and m, out[-3000:])
            if m:
                tap.diag("make_run_build=%s" % m.group(1))
            running = [c for _, c in processes_using(data)]
            check("it runs the programs it built",
                  any(c.startswith(build + "/nthpi-fcgi ") for c in running)
                  and any(c.startswith(build + "/nthpi-worker ")
                          for c in running), running)
            check("and built no unit test (no %s/tests)" % build,
                  not os.path.exists(os.path.join(build, "tests")),
                  os.listdir(build) if os.path.isdir(build) else None)
            procs = tree(p.pid)
            os.killpg(p.pid, signal.SIGINT)
            check("Ctrl-C stops make run and all it started",
                  wait_for(lambda: not gone(procs), 10), gone(procs))
            p.wait(10)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for pid, _ in processes_using(data):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def test_hangup():
    """A closed terminal (SIGHUP to the group) stops it all in order: the
    worker, started with SIGHUP ignored, is stopped with SIGTERM."""
    with tempfile.TemporaryDirectory(prefix="nthpi-run-") as tmp:
        data = os.path.join(tmp, "data")
        p = start(free_port(), data)
        try:
            up = wait_for(lambda: "Ctrl-C stops it" in output(p) or
                          p.poll() is not None, 30, 0.1)
            if not check("run.sh starts (for the hangup)",
                         up and p.poll() is None, output(p)):
                return
            procs = tree(p.pid)
            os.killpg(p.pid, signal.SIGHUP)
            check("a hangup stops every process of it",
                  wait_for(lambda: not gone(procs), 10), gone(procs))
            check("run.sh exits 0", p.wait(5) == 0, output(p)[-2000:])
            with open(os.path.join(data, "logs", "nthpi-worker.log")) as f:
                last = f.read().rstrip().splitlines()[-1]
            check("the worker stopped cleanly, and its log has its last "
                  "line", last.endswith("info: worker: stopping"), last)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            for pid, _ in processes_using(data):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


if __name__ == "__main__":
    tap.main(test_make_run, test_restarts, test_master_killed,
             test_crash_loop, test_hangup, test_make_run_builds_programs)
