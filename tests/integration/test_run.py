#!/usr/bin/env python3
"""test_run.py: `make run` as a new user meets it (scripts/run.sh, which make
run starts once the programs are built).

It serves the page on PORT with its state in DATA, computes a digit, says
clearly when the port is taken or PORT is not a number, writes nothing into
the checkout, and Ctrl-C (SIGINT to its process group, as a terminal sends
it) stops nginx, the app and the worker.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import BUILD, REPO, free_port, reference_digits, wait_for  # noqa: E402,E501

check = tap.check


def start(port, data):
    """Starts scripts/run.sh in a process group of its own, as a shell
    starts a foreground job; its output goes to DATA/../run-PORT.log."""
    env = dict(os.environ, PORT=str(port), DATA=data, BUILD=BUILD)
    log = open(os.path.join(os.path.dirname(data), "run-%s.log" % port), "w+")
    p = subprocess.Popen(["sh", "scripts/run.sh"], cwd=REPO, env=env,
                         stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    p.log = log
    return p


def output(p):
    p.log.flush()
    p.log.seek(0)
    return p.log.read()


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


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
        if data + "/" in cmd or cmd.endswith(data):
            pids.append((int(d), cmd.strip()))
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


if __name__ == "__main__":
    tap.main(test_make_run)
