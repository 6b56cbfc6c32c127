"""api_rps.py: requests/s of GET /api/tasks (50 tasks in the table) against a
hello-world libfcgi program, both behind the same nginx, in the same run.

    python3 bench/api_rps.py [--runs 3] [--seconds 5] [--connections 64]

Starts a stack (tests/integration/harness.py) with nthpi-fcgi's default 4
children x 300 threads, fills the table with 50 done tasks, starts
build/bench/hello_fcgi (bench/hello_fcgi.c, built by bench/run.sh) with the
same children x threads on a socket of its own, and adds a second server
block to the stack's nginx for it: the stack's own server block, as
scripts/nginx-conf.sh writes it, with the upstream renamed, so that both go
through the same locations, buffers and timeouts. Then wrk alternates
between the two (nthpi, hello, nthpi, hello...), and the ratio of the
median requests/s is nthpi/hello. Figures go to stdout, and to
$BENCH_SUMMARY for bench/run.sh's table. Exits 0 when the runs ran, 1 when
they could not.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Stack, free_port, nginx_binary  # noqa: E402

SECTION = "API requests/s"
TARGET_RATIO = 0.8
TASKS = 50
CHILDREN, THREADS = 4, 300  # nthpi-fcgi's defaults (common/config.c)


def figure(name, value, target="", verdict=""):
    """Adds one line to bench/run.sh's summary table."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((SECTION, name, value, target, verdict)) + "\n")


class BenchError(Exception):
    """The section cannot run."""


def add_hello_server(s, hello_sock):
    """Adds a server block for hello_fcgi to stack s's nginx and reloads it.
    Returns the port it listens on."""
    port = free_port()
    prefix = os.path.join(s.tmp, "nginx-hello")
    user = ["--user=nobody nogroup"] if os.geteuid() == 0 else []
    conf = subprocess.run(
        ["sh", os.path.join(REPO, "scripts", "nginx-conf.sh"),
         "--prefix=" + prefix, "--port=%d" % port, "--socket=" + hello_sock,
         "--publish=" + os.path.join(prefix, "publish.sock"),
         "--htdocs=" + s.htdocs, "--workers=%d" % s.nginx_workers,
         "--rate=" + s.rate, "--burst=%d" % s.burst] + user,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if conf.returncode != 0:
        raise BenchError("nginx-conf.sh failed: " + conf.stderr)
    lines = conf.stdout.splitlines()
    # From the upstream to the end of the server block: all of the http
    # block after its shared settings, up to its closing brace.
    start = [i for i, l in enumerate(lines)
             if re.match(r"\s*upstream\s+nthpi_fcgi\b", l)]
    end = [i for i, l in enumerate(lines) if l.rstrip() == "}"]
    if not start or not end or end[-1] < start[0]:
        raise BenchError("cannot find the upstream and server blocks in "
                         "nginx-conf.sh's output")
    # The upstream block, then the server blocks; the http-level settings
    # between them (headers) are already in the stack's configuration.
    up_end = next(i for i in range(start[0], len(lines))
                  if lines[i].strip() == "}")
    first_server = next(i for i in range(up_end, len(lines))
                        if re.match(r"\s*server\s*\{", lines[i]))
    block = "\n".join(lines[start[0]:up_end + 1] +
                      lines[first_server:end[-1]]).replace("nthpi_fcgi",
                                                           "hello_fcgi")
    with open(s.nginx_conf) as f:
        text = f.read().rstrip()
    if not text.endswith("}"):
        raise BenchError("the stack's nginx.conf does not end with '}'")
    with open(s.nginx_conf, "w") as f:
        f.write(text[:-1] + "\n    # bench/api_rps.py: the same server "
                "block, passing to hello_fcgi\n" + block + "\n}\n")
    test = subprocess.run([nginx_binary(), "-t", "-q", "-p", s.nginx_prefix,
                           "-c", s.nginx_conf], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if test.returncode != 0:
        raise BenchError("nginx -t refused the bench configuration:\n" +
                         test.stdout)
    s.nginx.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            st, _, body = _get(port, "/api/tasks")
            if st == 200 and b"hello" in body:
                return port
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError("nginx did not serve hello_fcgi on port %d after the "
                     "reload" % port)


def _get(port, path):
    """GET on 127.0.0.1:port; returns (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def wrk(url, seconds, connections, threads):
    """Runs wrk; returns a dict of requests/s, errors and latencies."""
    argv = ["wrk", "-t%d" % threads, "-c%d" % connections,
            "-d%ds" % seconds, "--latency", url]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    out = p.stdout
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if p.returncode != 0 or not m:
        raise BenchError("wrk failed (exit %d):\n%s" % (p.returncode, out))
    r = {"rps": float(m.group(1)), "non2xx": 0, "sockerr": "none",
         "out": out}
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors:\s*(.*)", out)
    if m:
        r["sockerr"] = m.group(1).strip()
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else 0
    for pct in ("50", "99"):
        m = re.search(r"^\s*%s%%\s+(\S+)" % pct, out, re.M)
        r["p" + pct] = m.group(1) if m else "?"
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(
        REPO, os.environ.get("NTHPI_BUILD", "build"), "bench", "hello_fcgi"))
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        print("api_rps.py: %s is not built (sh bench/run.sh builds it)"
              % a.bin)
        return 1
    if not shutil.which("wrk"):
        print("api_rps.py: wrk is not installed (apt-get install wrk)")
        return 1
    print("nthpi-fcgi and hello_fcgi: %d children x %d threads each, behind "
          "one nginx (%d workers); wrk -t%d -c%d -d%ds, %d runs each, "
          "alternating" % (CHILDREN, THREADS, os.cpu_count() or 1,
                           a.wrk_threads, a.connections, a.seconds, a.runs))
    sys.stdout.flush()
    hello = None
    try:
        with Stack(children=CHILDREN, threads=THREADS,
                   nginx_workers=os.cpu_count() or 1,
                   label="requests/s stack") as s:
            for i in range(TASKS):
                st, t = s.api_create(1000 + 37 * i)
                if st != 201:
                    raise BenchError("POST /api/tasks answered %d: %r"
                                     % (st, t))
            deadline = time.monotonic() + 60
            while True:
                st, _, body = s.api("GET", "/api/tasks")
                if st == 200 and body["counts"]["done"] == TASKS:
                    break
                if time.monotonic() > deadline:
                    raise BenchError("the %d tasks were not done in 60 s: "
                                     "%r" % (TASKS, body.get("counts")))
                time.sleep(0.1)
            if len(body["tasks"]) != TASKS:
                raise BenchError("GET /api/tasks lists %d tasks, not %d"
                                 % (len(body["tasks"]), TASKS))
            hello_sock = os.path.join(s.tmp, "hello.sock")
            log = open(os.path.join(s.log_dir, "hello_fcgi.log"), "ab")
            hello = subprocess.Popen(
                [a.bin, hello_sock, str(CHILDREN), str(THREADS)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
            log.close()
            deadline = time.monotonic() + 10
            while not os.path.exists(hello_sock):
                if hello.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("hello_fcgi did not listen on %s"
                                     % hello_sock)
                time.sleep(0.02)
            hello_port = add_hello_server(s, hello_sock)
            urls = {"nthpi": "%s/api/tasks" % s.url,
                    "hello": "http://127.0.0.1:%d/api/tasks" % hello_port}
            b = _get(s.port, "/api/tasks")[2]
            print("GET /api/tasks: nthpi answers %d bytes (%d tasks), "
                  "hello %d bytes" % (len(b), TASKS,
                                      len(_get(hello_port, "/api/tasks")[2])))
            for name in urls:  # warm-up, not counted
                wrk(urls[name], 1, a.connections, a.wrk_threads)
            results = {"nthpi": [], "hello": []}
            print("%-5s %-6s %10s %9s %9s %8s  %s" % (
                "run", "peer", "req/s", "p50", "p99", "non-2xx",
                "socket errors"))
            for run in range(1, a.runs + 1):
                for name in ("nthpi", "hello"):
                    r = wrk(urls[name], a.seconds, a.connections,
                            a.wrk_threads)
                    results[name].append(r)
                    print("%-5d %-6s %10.0f %9s %9s %8d  %s" % (
                        run, name, r["rps"], r["p50"], r["p99"],
                        r["non2xx"], r["sockerr"]))
                    sys.stdout.flush()
            errors = [l.rstrip() for l in
                      open(s.nginx_error_log, errors="replace")
                      if re.search(r"\[(error|crit|alert|emerg)\]", l)]
    except BenchError as e:
        print("api_rps.py: %s" % e)
        return 1
    finally:
        if hello is not None and hello.poll() is None:
            hello.terminate()
            try:
                hello.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(hello.pid, signal.SIGKILL)
                hello.wait()
    med = {k: statistics.median(r["rps"] for r in v)
           for k, v in results.items()}
    ratio = med["nthpi"] / med["hello"] if med["hello"] else 0.0
    bad = sum(r["non2xx"] for v in results.values() for r in v)
    sockerr = [r["sockerr"] for v in results.values() for r in v
               if r["sockerr"] != "none"]
    print("median req/s: nthpi %.0f, hello %.0f; ratio nthpi/hello %.2f "
          "(target >= %.1f: %s)" % (med["nthpi"], med["hello"], ratio,
                                    TARGET_RATIO,
                                    "met" if ratio >= TARGET_RATIO
                                    else "NOT met"))
    pairs = [n["rps"] / h["rps"] for n, h in
             zip(results["nthpi"], results["hello"]) if h["rps"]]
    print("ratio of each run's pair (nthpi, then hello right after): %s; "
          "median %.2f" % (", ".join("%.2f" % x for x in pairs),
                           statistics.median(pairs) if pairs else 0))
    print("non-2xx answers: %d; runs with socket errors: %d%s" % (
        bad, len(sockerr), "".join("\n  " + e for e in sockerr)))
    print("nginx error log: %d error lines%s" % (
        len(errors), "".join("\n  " + l for l in errors[:5])))
    figure("median req/s nthpi / hello", "%.0f / %.0f" % (
        med["nthpi"], med["hello"]), "", "")
    figure("ratio nthpi/hello", "%.2f" % ratio, ">= %.1f" % TARGET_RATIO,
           "met" if ratio >= TARGET_RATIO else "NOT met")
    figure("ratio of each pair", ", ".join("%.2f" % x for x in pairs),
           "", "")
    figure("non-2xx; socket-error runs; nginx errors",
           "%d; %d; %d" % (bad, len(sockerr), len(errors)), "0; 0; 0",
           "met" if not (bad or sockerr or errors) else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
