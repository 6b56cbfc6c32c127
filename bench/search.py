"""search.py: the search for a string of digits at 10^8 decimals: index
size and build time against the engine's, queries through nginx against a
memmem scan, and the main page while 64 connections search.

    python3 bench/search.py [--decimals 100000000] [--queries 1000]
                            [--load-seconds 10]

The store of --decimals decimals is computed once by `nthpi-worker
--digits` into $NTHPI_BUILD/bench/search-DECIMALS/ (about a minute at
10^8 on 2 cores) and kept there with the engine's time, so that later runs
reuse it. Each run copies it into a fresh stack's data directory and builds
the index there with build/bench/search_build (bench/search_build.c: the
worker's own searchidx_build, timed), which then times a memmem scan of
the store for the first 50 of the same queries. Then the stack (4 children
x 16 threads, as make run) answers --queries random queries of 1 to 20
digits (half taken from the store, half random digits) one after another
on a keep-alive connection, after 20 to warm up (a process's first search
checks every block of the store once). Last, the main page is timed alone,
then while wrk keeps 64 connections searching, and beside it, as the
peer, while 64 connections read 20 digits each from /v1/pi. Figures go to stdout and to
$BENCH_SUMMARY. Exits 0 when it ran, 1 when it could not.
"""

import argparse
import http.client
import json
import mmap
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import BUILD, Stack, wait_for  # noqa: E402

SECTION = "search"
TARGET_P99_MS = 10.0
TARGET_BYTES = 5.0
TARGET_BUILD_RATIO = 0.25

# wrk's searchers: random strings of 1 to 20 digits.
WRK_LUA = """
math.randomseed(os.time())
request = function()
  local t = {}
  for i = 1, math.random(1, 20) do t[i] = tostring(math.random(0, 9)) end
  return wrk.format("GET", "/api/search?q=" .. table.concat(t))
end
"""
# The peer: as many connections reading digits from the store.
WRK_PEER_LUA = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/pi?start=" .. math.random(0, 99999000) ..
                    "&numberOfDigits=20")
end
"""


class BenchError(Exception):
    """The section cannot run."""


def figure(name, value, target="", verdict=""):
    """Adds one line to bench/run.sh's summary table."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((SECTION, name, value, target, verdict)) + "\n")


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    return v[max(1, -(-p * len(v) // 100)) - 1]


def met(ok):
    return "met" if ok else "NOT met"


def cached_store(decimals):
    """Returns (store path, engine ms), computing the store the first time."""
    cache = os.path.join(BUILD, "bench", "search-%d" % decimals)
    store = os.path.join(cache, "pi-digits.txt")
    timing = os.path.join(cache, "engine-ms")
    if (os.path.isfile(store) and os.path.isfile(store + ".check") and
            os.path.isfile(timing) and
            os.path.getsize(store) == decimals + 1):
        with open(timing) as f:
            ms = int(f.read().strip())
        print("store: reusing %s (engine: %.1f s when it was computed)" %
              (store, ms / 1000))
        return store, ms
    os.makedirs(cache, exist_ok=True)
    print("store: computing %d decimals with nthpi-worker --digits, once "
          "(kept in %s)" % (decimals, cache), flush=True)
    p = subprocess.run(
        [os.path.join(BUILD, "nthpi-worker"), "--digits", str(decimals),
         "--output", store], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    m = re.search(r"computed %d decimals in (\d+) ms" % decimals, p.stdout)
    if p.returncode != 0 or not m:
        raise BenchError("nthpi-worker --digits failed:\n" + p.stdout)
    with open(timing, "w") as f:
        f.write(m.group(1) + "\n")
    print("store: the engine took %.1f s" % (int(m.group(1)) / 1000))
    return store, int(m.group(1))


def make_queries(store, count):
    """count queries of 1 to 20 digits: half from the store, half random."""
    rnd = random.Random(13)
    out = []
    with open(store, "rb") as f, \
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        n = len(m) - 1
        for i in range(count):
            length = rnd.randint(1, 20)
            if i % 2 == 0:
                at = rnd.randint(1, n - length + 1)
                out.append(m[at:at + length].decode())
            else:
                out.append("".join(rnd.choice("0123456789")
                                   for _ in range(length)))
    return out


class Client:
    """One keep-alive HTTP/1.1 connection to nginx."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path):
        """Returns (status, body bytes, ms)."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60)
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                return r.status, body, (time.perf_counter() - t0) * 1000
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise BenchError("unreachable")


def main_page_times(port, count):
    c = Client(port)
    times = []
    for _ in range(count):
        st, _, ms = c.get("/")
        if st != 200:
            raise BenchError("GET / answered %d" % st)
        times.append(ms)
    return times


def run(args):
    store, engine_ms = cached_store(args.decimals)
    queries = make_queries(store, args.queries + 20)
    work = tempfile.mkdtemp(prefix="search-")
    qfile = os.path.join(work, "queries.txt")
    with open(qfile, "w") as f:
        f.write("\n".join(queries[20:]) + "\n")
    built = {}

    def prepare(data_dir):
        dst = os.path.join(data_dir, "pi-digits.txt")
        shutil.copyfile(store, dst)
        shutil.copyfile(store + ".check", dst + ".check")
        p = subprocess.run(
            [os.path.join(BUILD, "bench", "search_build"), dst, qfile],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(p.stdout.rstrip())
        if p.returncode != 0:
            raise BenchError("search_build failed")
        for line in p.stdout.splitlines():
            k, _, v = line.partition(" ")
            built[k] = float(v) if re.match(r"^[\d.]+$", v) else v

    try:
        with Stack(children=4, threads=16, prepare_data=prepare,
                   label="search bench stack") as s:
            ok = wait_for(lambda: s.request(
                "GET", "/api/search?q=14159")[0] == 200, 60, 0.1)
            if not ok:
                raise BenchError("the stack's search did not answer")
            report(s, args, queries, built, engine_ms)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(s, args, queries, built, engine_ms):
    n = int(built["decimals"])
    per = built["index_bytes"] / n
    ratio = built["build_ms"] / engine_ms
    print("index: %d bytes, %.2f bytes a decimal (target <= %.0f)" %
          (built["index_bytes"], per, TARGET_BYTES))
    print("index build: %.2f s; the engine computed the same decimals in "
          "%.1f s: ratio %.3f (target <= %.2f)" %
          (built["build_ms"] / 1000, engine_ms / 1000, ratio,
           TARGET_BUILD_RATIO))
    figure("index size, bytes a decimal", "%.2f" % per,
           "<= %.0f" % TARGET_BYTES, met(per <= TARGET_BYTES))
    figure("index build / engine time, 10^8",
           "%.3f (%.1f s / %.1f s)" % (ratio, built["build_ms"] / 1000,
                                      engine_ms / 1000),
           "<= %.2f" % TARGET_BUILD_RATIO, met(ratio <= TARGET_BUILD_RATIO))

    c = Client(s.port)
    warm = [c.get("/api/search?q=" + q)[2] for q in queries[:20]]
    times, found, bad = [], 0, 0
    for q in queries[20:]:
        st, body, ms = c.get("/api/search?q=" + q)
        times.append(ms)
        if st != 200:
            bad += 1
            continue
        obj = json.loads(body)
        found += obj["position"] is not None
    p50, p99 = pct(times, 50), pct(times, 99)
    print("queries: %d through nginx, %d found, %d not 200; warm-up max "
          "%.1f ms" % (len(times), found, bad, max(warm)))
    print("query time: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 "
          "<= %.0f ms)" % (p50, p99, max(times), TARGET_P99_MS))
    mp50 = built["memmem_p50_ms"]
    print("memmem scan of the store, same queries (first %d): p50 %.1f ms, "
          "p99 %.1f ms; scan p50 / search p99 = %.0f" %
          (built["memmem_scans"], mp50, built["memmem_p99_ms"], mp50 / p99))
    figure("query p99 through nginx (%d queries)" % len(times),
           "%.2f ms (p50 %.2f)" % (p99, p50), "<= %.0f ms" % TARGET_P99_MS,
           met(p99 <= TARGET_P99_MS and bad == 0))
    figure("memmem scan p50, same store", "%.1f ms: %.0f x the search p99" %
           (mp50, mp50 / p99))

    idle = main_page_times(s.port, 200)
    busy, rps, errs = main_page_under(s, args, WRK_LUA)
    peer, prps, perrs = main_page_under(s, args, WRK_PEER_LUA)
    print("main page alone: p50 %.2f ms, p99 %.2f ms (%d requests)" %
          (pct(idle, 50), pct(idle, 99), len(idle)))
    print("main page while 64 connections search (%.0f searches/s%s): p50 "
          "%.2f ms, p99 %.2f ms (%d requests)" %
          (rps, errs, pct(busy, 50), pct(busy, 99), len(busy)))
    print("peer: main page while 64 connections read 20 digits from "
          "/v1/pi (%.0f reads/s%s): p50 %.2f ms, p99 %.2f ms" %
          (prps, perrs, pct(peer, 50), pct(peer, 99)))
    figure("main page p99 while 64 connections search",
           "%.2f ms (alone %.2f; %.0f searches/s)" %
           (pct(busy, 99), pct(idle, 99), rps))
    figure("main page p99 while 64 connections read /v1/pi (peer)",
           "%.2f ms (%.0f reads/s): search / peer %.2f" %
           (pct(peer, 99), prps, pct(busy, 99) / pct(peer, 99)))


def main_page_under(s, args, script):
    """Times the main page while wrk runs script on 64 connections.
    Returns (times, wrk's requests/s, a note of its non-2xx answers)."""
    lua = os.path.join(s.tmp, "load.lua")
    with open(lua, "w") as f:
        f.write(script)
    out = {}

    def load():
        p = subprocess.run(
            ["wrk", "-t2", "-c64", "-d%ds" % args.load_seconds, "-s", lua,
             s.url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        out["wrk"] = p.stdout

    t = threading.Thread(target=load)
    t.start()
    time.sleep(1)
    times = []
    deadline = time.monotonic() + args.load_seconds - 2
    while time.monotonic() < deadline:
        times += main_page_times(s.port, 20)
    t.join()
    m = re.search(r"Requests/sec:\s*([\d.]+)", out.get("wrk", ""))
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out.get("wrk", ""))
    return (times, float(m.group(1)) if m else 0.0,
            ", %s not 2xx" % bad.group(1) if bad else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--decimals", type=int, default=10 ** 8)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--load-seconds", type=int, default=10)
    args = ap.parse_args()
    try:
        run(args)
    except BenchError as e:
        print("search: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
