"""longpoll.py: long-poll fan-out. Holds 1,000 long polls through nginx at
once, changes the queue, and times how soon each poll gets its answer.

    python3 bench/longpoll.py [--clients 1000] [--rounds 3]

Starts a stack (tests/integration/harness.py) with the FastCGI app's default
4 children x 300 threads and no worker (so that nothing but the bench changes
the queue), then runs the C client build/bench/longpoll (bench/longpoll.c,
built by bench/run.sh): a warm-up round that is not counted, then the rounds.
The client times each answer twice: when its read completed, and when the
kernel received it (SO_TIMESTAMPNS); the difference is the client's own
delay. Figures go to stdout, and to $BENCH_SUMMARY for bench/run.sh's table.
Exits 0 when the rounds ran, 1 when they could not.
"""

import argparse
import os
import re
import resource
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Stack  # noqa: E402

SECTION = "long-poll fan-out"
TARGET_P99_MS = 100.0
CHILDREN, THREADS = 4, 300  # nthpi-fcgi's defaults (common/config.c)
PEER_ROUNDS = 5


def figure(name, value, target="", verdict=""):
    """Adds one line to bench/run.sh's summary table."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((SECTION, name, value, target, verdict)) + "\n")


def log_lines(path, pattern):
    """Lines of a log that match pattern (a regex)."""
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip() for l in f if re.search(pattern, l)]
    except OSError:
        return []


def run_client(binary, s, args, echo=True):
    """Runs the C client against stack s, echoing its report (unless
    echo is false); returns its exit status and its ROUND lines, parsed."""
    argv = [binary, "-p", str(s.port),
            "-P", ",".join(map(str, s.fcgi_children()))] + args
    p = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    out = p.stdout
    for line in out.splitlines() if echo else ():
        if not line.startswith("ROUND "):
            print(line)
    sys.stdout.flush()
    rounds = []
    for m in re.finditer(r"^ROUND (\d+) (.*)$", out, re.M):
        rounds.append({k: float(v) for k, v in
                       (kv.split("=") for kv in m.group(2).split())})
    return p.returncode, rounds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(
        REPO, os.environ.get("NTHPI_BUILD", "build"), "bench", "longpoll"))
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        print("longpoll.py: %s is not built (sh bench/run.sh builds it)"
              % a.bin)
        return 1
    # The client holds one descriptor per poll; it inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < a.clients + 64:
        print("longpoll.py: only %d descriptors allowed, %d clients need "
              "more" % (hard, a.clients))
        return 1
    spare = CHILDREN * THREADS - a.clients
    print("nthpi-fcgi: %d children x %d threads = %d request threads for "
          "%d polls (%d spare); nginx: %d workers; hold_seconds 25"
          % (CHILDREN, THREADS, CHILDREN * THREADS, a.clients, spare,
             os.cpu_count() or 1))
    print("The change is a POST /api/tasks; a poll's time runs from the "
          "moment the POST is written to the moment its answer is read.")
    sys.stdout.flush()
    with Stack(children=CHILDREN, threads=THREADS, worker=False,
               nginx_workers=os.cpu_count() or 1,
               label="long-poll stack") as s:
        print("-- warm-up round (not counted) --")
        run_client(a.bin, s, ["-c", str(a.clients), "-r", "1"])
        print("-- measured rounds --")
        rc, rounds = run_client(a.bin, s, ["-c", str(a.clients),
                                           "-r", str(a.rounds)])
        # The peer, in the same run: one held poll alone, the same way.
        print("-- peer: a single held poll, %d rounds --" % PEER_ROUNDS)
        _, single = run_client(a.bin, s, ["-c", "1", "-s", "200",
                                          "-r", str(PEER_ROUNDS)], echo=False)
        errors = log_lines(s.nginx_error_log, r"\[(error|crit|alert|emerg)\]")
        app_warn = log_lines(s.fcgi_log, r"(warn|error|err):")
    print("nginx error log: %d error lines%s" % (
        len(errors), "".join("\n  " + l for l in errors[:5])))
    print("nthpi-fcgi log: %d warning/error lines%s" % (
        len(app_warn), "".join("\n  " + l for l in app_warn[:5])))
    if not rounds:
        print("longpoll.py: the client measured nothing (exit %d)" % rc)
        return 1
    for i, r in enumerate(rounds, 1):
        ok = r["got"] == r["clients"] and 0 <= r["p99"] <= TARGET_P99_MS
        figure("round %d: got it; p50 / p99 / max" % i,
               "%d/%d; %.1f / %.1f / %.1f ms" % (
                   r["got"], r["clients"], r["p50"], r["p99"], r["max"]),
               "all; p99 <= %g ms" % TARGET_P99_MS,
               "met" if ok else "NOT met")
    held = all(r["held"] >= r["clients"] and r["early"] == 0
               for r in rounds)
    figure("held by the app before the change",
           ", ".join("%d" % r["held"] for r in rounds) +
           " of %d" % a.clients, "all", "met" if held else "NOT met")
    figure("p99 when the kernel got it",
           ", ".join("%.1f" % r["kp99"] for r in rounds) + " ms", "", "")
    figure("client's own delay, max",
           ", ".join("%.1f" % r["ovh_max"] for r in rounds) + " ms", "", "")
    one = sorted(r["p50"] for r in single if r["got"] == 1)
    if one:
        peer = one[len(one) // 2]
        print("peer: a single held poll is answered in %s ms (median %.1f)"
              % (", ".join("%.1f" % x for x in one), peer))
        print("p99 of %d polls = %s x a single poll" % (
            a.clients, ", ".join("%.1f" % (r["p99"] / peer)
                                 for r in rounds)))
        figure("single held poll (peer), median", "%.1f ms" % peer, "", "")
        figure("p99 / single poll, per round",
               ", ".join("%.1fx" % (r["p99"] / peer) for r in rounds), "", "")
    else:
        print("peer: the single held poll got no answer")
        figure("single held poll (peer)", "no answer", "", "NOT met")
    worst = max(r["p99"] for r in rounds)
    print("worst p99 of %d rounds: %.1f ms (target <= %g ms: %s)" % (
        len(rounds), worst, TARGET_P99_MS,
        "met" if worst <= TARGET_P99_MS else "NOT met"))
    figure("nginx error-log lines", str(len(errors)), "0",
           "met" if not errors else "NOT met")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
