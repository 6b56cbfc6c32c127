"""longpoll.py: long-poll fan-out. Holds 1,000 and then 20,000 long polls
through nginx at once, changes the queue, and times how soon each poll
gets its answer; beside it, bare Nchan with as many subscribers.

    python3 bench/longpoll.py [--small 1000] [--big 20000] [--rounds 3]
                              [--big-rounds 2] [--procs 2] [--addrs 250]

The stack is make run's configuration (tests/integration/harness.py with
the settings scripts/run.sh gives): nginx.conf as scripts/nginx-conf.sh
writes it (worker_processes auto, make run's rate limit) and nthpi-fcgi's
defaults (4 children x 16 threads, hold_seconds 25); no worker, so that
nothing but the bench changes the queue. The app looks at the database
and hands each poll to nginx, where Nchan holds it until the publisher
publishes the change.

The clients are build/bench/longpoll (bench/longpoll.c, built by
bench/run.sh), in several processes (one process may hold at most
`ulimit -Hn` files), each from source addresses of its own in 127.77.0.x:
nginx holds at most 100 polls per address (127.0.0.1 is exempt; the bench
is not). Each process sends its GETs and says so; once Nchan counts every
poll as a subscriber of the channel, the driver measures what 20,000 held
polls cost (memory, and CPU while nothing changes), makes the change (a
POST, timed by longpoll post) and tells the processes. Each answer is timed
twice, when its read completed and when the kernel received it
(SO_TIMESTAMPNS), from the moment the POST was written. The peer runs in
the same run: bare Nchan (bench/nchan-bare.conf, a second nginx with
nthpi's Nchan settings and no app), as many subscribers on a channel, and
one publish to it on its unix socket.

Figures go to stdout, and to $BENCH_SUMMARY for bench/run.sh's table.
Exits 0 when the rounds ran, 1 when they could not.
"""

import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Stack, free_port, nginx_binary  # noqa: E402

SECTION = "long-poll fan-out"
TARGET_SMALL_P99_MS = 100.0
TARGET_BIG_P50_MS = 300.0
TARGET_BIG_P99_MS = 1000.0
TARGET_KIB_PER_POLL = 10.0
TARGET_IDLE_CPU_PCT = 1.0
HOLD_SECONDS = 25      # nthpi-fcgi's default (common/config.c)
IDLE_SECONDS = 8.0     # CPU is measured over this long while polls wait
PER_ADDRESS = 100      # nginx.conf: limit_conn nthpi_hold 100
FIRST_ADDR = "127.77.0.1"
PEER_ROUNDS = 5
WAIT_S = 10            # how long a client waits for answers after the POST
# Polls started a second, all client processes together. Faster, they
# overflow nginx's listen queue (511 a worker) while it passes each to the
# app, and a dropped SYN is sent again only a second later; at this rate
# 20,000 are held in 3.3 s, with time to spare on 2 cores (16,000 a second
# overflowed it at times).
CONNECT_RATE = 6000
# After the last poll is held, the processes finish what they were doing
# (Nchan's messages between its workers) before the CPU figure starts.
SETTLE_SECONDS = 1.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def figure(name, value, target="", verdict=""):
    """Adds one line to bench/run.sh's summary table."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join((SECTION, name, value, target, verdict)) + "\n")


def met(ok):
    return "met" if ok else "NOT met"


class BenchError(Exception):
    """The section cannot run."""


def log_lines(path, pattern):
    """Lines of a log that match pattern (a regex)."""
    try:
        with open(path, errors="replace") as f:
            # Nchan writes channel ids with NUL bytes in them.
            return [re.sub(r"[\x00-\x1f\x7f]", lambda c: "\\x%02x" % ord(
                c.group()), l.rstrip()) for l in f if re.search(pattern, l)]
    except OSError:
        return []


def percentile(v, p):
    """Nearest-rank percentile of the sorted list v (not empty)."""
    rank = max(1, (p * len(v) + 99) // 100)
    return v[rank - 1]


# -- processes: memory and CPU ------------------------------------------------

def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    # The command name may hold spaces and parentheses: split after ")".
    return s[s.rindex(")") + 2:].split()


def process_tree(pid):
    """pid and all its descendants."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = int(_stat_fields(int(d))[1])
            except (OSError, ValueError):
                pass
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return sorted(tree)


def rss_kib(pids):
    """(sum of VmRSS, sum of Pss) of the processes, in KiB. RSS counts a
    shared page (Nchan's shared memory, the code) once per process, PSS
    shares it out."""
    rss = pss = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                rss += next(int(l.split()[1]) for l in f
                            if l.startswith("VmRSS:"))
            with open("/proc/%d/smaps_rollup" % pid) as f:
                pss += next(int(l.split()[1]) for l in f
                            if l.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return rss, pss


def cpu_ticks(pids):
    """utime + stime of the processes (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            f = _stat_fields(pid)
            total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_ns(pids):
    """Time on a CPU of the processes' threads, in ns (/proc/PID/task/*/
    schedstat): finer than the clock ticks of cpu_ticks."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            pass
    return total


def listen_drops():
    """The kernel's count of connections turned away by a listen queue
    (TcpExt ListenDrops: an overflow counts there too), all sockets."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            d = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return d.get("ListenDrops", 0)
    return 0


def socket_count(pid):
    """How many sockets a process holds (its /proc/PID/fd)."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                        "socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


def unix_peers(path):
    """Connections accepted on the unix socket at path that are still open
    (from /proc/net/unix: the accepted end carries the path)."""
    n = 0
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            # Flags 0 (not listening), state 03 (connected).
            if len(fields) >= 8 and fields[7] == path and \
                    fields[3] == "00000000" and fields[5] == "03":
                n += 1
    return n


# -- HTTP helpers --------------------------------------------------------------

def unix_get(path, target):
    """GET target on nginx's unix socket at path; returns (status, body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n"
                   "Accept: application/json\r\nConnection: close\r\n\r\n"
                   % target).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def subscribers(publish_path, channel):
    """How many subscribers Nchan counts on a channel (its publisher
    location answers GET with the channel's numbers); 0 if none."""
    try:
        status, body = unix_get(publish_path, "/pub/once/" + channel)
    except (OSError, ValueError, IndexError):
        return -1
    if status != 200:
        return 0
    try:
        return int(json.loads(body)["subscribers"])
    except (ValueError, KeyError):
        return -1


def http_get(port, target):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# -- one round -----------------------------------------------------------------

class Target:
    """What a round holds polls on and how it makes the change."""

    def __init__(self, name, port, publish_path, procs):
        self.name = name
        self.port = port
        self.publish_path = publish_path
        self.procs = procs  # {"nginx": pid, "app": pid or None}

    def prepare(self, k):
        """Returns (GET target, channel to count subscribers on)."""
        raise NotImplementedError

    def post_args(self):
        raise NotImplementedError

    def match(self, post):
        """What an answer must contain, from the POST's answer; or None."""
        raise NotImplementedError


class Nthpi(Target):
    def prepare(self, k):
        status, body = http_get(self.port, "/api/tasks?limit=1")
        if status != 200:
            raise BenchError("GET /api/tasks?limit=1 answered %d" % status)
        v = json.loads(body)["version"]
        return "/api/tasks?since=%d" % v, "l%d" % v

    def post_args(self):
        return ["-p", str(self.port), "-t", "/api/tasks"]

    def match(self, post):
        m = re.search(rb'"id": (\d+)', post["body"])
        if post["status"] != 201 or not m:
            return None
        return '{"id": %s,' % m.group(1).decode()


class Bare(Target):
    """Bare Nchan: subscribers on channel b<k>, and tick channel of the
    second their hold would end, as nthpi's /internal/poll has them."""

    body_file = None

    def prepare(self, k):
        self.channel = "b%d_%d" % (os.getpid(), k)
        tick = int(time.time()) + HOLD_SECONDS + 1
        return "/sub?c=%s&t=t%d" % (self.channel, tick), self.channel

    def post_args(self):
        return ["-u", self.publish_path, "-t", "/pub/once/" + self.channel,
                "-f", self.body_file]

    def match(self, post):
        if post["status"] not in (201, 202):
            return None
        return self.match_text


def spawn_holders(bin, port, target, clients, procs, naddrs, rate):
    """Starts procs hold processes for clients polls, each with its own
    share of the naddrs source addresses, rate polls a second in all."""
    ps = []
    a0 = sum(int(x) << s for x, s in zip(FIRST_ADDR.split("."),
                                         (24, 16, 8, 0)))
    for i in range(procs):
        n = clients // procs + (1 if i < clients % procs else 0)
        lo, hi = naddrs * i // procs, naddrs * (i + 1) // procs
        addr = socket.inet_ntoa((a0 + lo).to_bytes(4, "big"))
        ps.append(subprocess.Popen(
            [bin, "hold", "-p", str(port), "-t", target, "-c", str(n),
             "-a", "%s,%d" % (addr, hi - lo), "-w", str(WAIT_S),
             "-r", str(rate // procs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    return ps


def read_sent(p):
    """Waits for a hold process's SENT line; returns its fields."""
    line = p.stdout.readline()
    if not line.startswith("SENT "):
        raise BenchError("a client process said %r (exit %s)" %
                         (line, p.poll()))
    return {k: int(v) for k, v in (kv.split("=")
                                   for kv in line.split()[1:])}


def run_post(bin, args):
    p = subprocess.run([bin, "post"] + args, stdout=subprocess.PIPE)
    head, _, body = p.stdout.partition(b"\n")
    m = re.match(rb"POST status=(-?\d+) t0_mono=(\d+) t0_real=(\d+) "
                 rb"ms=([-\d.]+)", head)
    if not m:
        raise BenchError("longpoll post said %r" % p.stdout[:200])
    return {"status": int(m.group(1)), "t0": int(m.group(2)),
            "t0_real": int(m.group(3)), "ms": float(m.group(4)),
            "body": body}


def group_cpu(t):
    """CPU time so far of t's nginx and of its app, in s (schedstat)."""
    out = {"nginx": cpu_ns(process_tree(t.procs["nginx"])) / 1e9}
    if t.procs.get("app"):
        out["app"] = cpu_ns(process_tree(t.procs["app"])) / 1e9
    return out


def cpu_delta(a, b):
    return {k: b[k] - a[k] for k in a}


def hold_round(bin, t, k, clients, procs, naddrs, while_held=None,
               echo=True):
    """One round on target t: hold clients polls, change, time the answers.
    while_held(t, info) runs once they are held, before the change.
    Returns the round's figures (a dict)."""
    target, channel = t.prepare(k)
    cpu0, drops0 = group_cpu(t), listen_drops()
    ps = spawn_holders(bin, t.port, target, clients, procs, naddrs,
                       CONNECT_RATE)
    try:
        sent = [read_sent(p) for p in ps]
        errors = sum(s["errors"] for s in sent)
        t_first = min(s["t_first"] for s in sent) / 1e9
        t_sent = max(s["t_last"] for s in sent) / 1e9
        # Held: Nchan counts them all on the channel, and no request is
        # left at the app. Waits no longer than part of the hold.
        want = clients - errors
        subs = -1
        while True:
            subs = subscribers(t.publish_path, channel)
            busy_app = (unix_peers(t.app_socket)
                        if getattr(t, "app_socket", None) else 0)
            if subs >= want and busy_app == 0:
                break
            if time.monotonic() - t_first > HOLD_SECONDS / 2:
                break
            time.sleep(0.05)
        t_held = time.monotonic()
        cpu1, drops1 = group_cpu(t), listen_drops()
        info = {"subs": subs, "t_first": t_first, "t_held": t_held}
        if while_held:
            while_held(t, info)
        cpu2 = group_cpu(t)
        post = run_post(bin, t.post_args())
        match = t.match(post)
        for p in ps:
            p.stdin.write("GO %s\n" % (match or "(the change failed)"))
            p.stdin.flush()
        outs = [p.communicate(timeout=WAIT_S + 60)[0] for p in ps]
        cpu3 = group_cpu(t)
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
                p.wait()
    lat, klat, ovh, busy = [], [], [], []
    r = {"name": t.name, "clients": clients, "errors": errors,
         "subs": subs, "early": 0, "got": 0, "non200": 0, "wrong": 0,
         "broken": 0, "unanswered": 0, "post_status": post["status"],
         "post_ms": post["ms"], "fill_s": t_sent - t_first,
         "held_s": t_held - t_first, "bytes": 0, "statuses": {},
         "fill_cpu": cpu_delta(cpu0, cpu1), "fan_cpu": cpu_delta(cpu2, cpu3),
         "drops": drops1 - drops0}
    t0, t0_real = post["t0"], post["t0_real"]
    first = last = None
    for out in outs:
        for line in out.splitlines():
            f = line.split()
            if f[0] == "BUSY":
                busy.append(float(f[1]))
                continue
            if f[0] != "A":
                continue
            status, complete, failed, t_user, t_kern, has, nbytes = \
                map(int, f[1:])
            if complete and t_user < t0:
                r["early"] += 1
                r["statuses"][status] = r["statuses"].get(status, 0) + 1
            elif failed:
                r["broken"] += 1
            elif not complete:
                r["unanswered"] += 1
            elif status != 200:
                r["non200"] += 1
                r["statuses"][status] = r["statuses"].get(status, 0) + 1
            elif not has:
                r["wrong"] += 1
            else:
                r["got"] += 1
                r["bytes"] = nbytes
                lat.append((t_user - t0) / 1e6)
                first = t_user if first is None else min(first, t_user)
                last = t_user if last is None else max(last, t_user)
                if t_kern:
                    klat.append((t_kern - t0_real) / 1e6)
                    ovh.append((t_user - t0) / 1e6 - (t_kern - t0_real) / 1e6)
    for name, v in (("lat", lat), ("klat", klat), ("ovh", ovh)):
        v.sort()
        r[name] = ({"min": v[0], "p50": percentile(v, 50),
                    "p99": percentile(v, 99), "max": v[-1], "n": len(v)}
                   if v else None)
    r["busy"] = busy
    r["spread"] = (last - first) / 1e6 if lat else 0.0
    if echo:
        print_round(r)
    return r


def print_round(r):
    print("%s, %d polls: sent in %.1f s, held (Nchan counts %d) after "
          "%.1f s; connect/send errors %d; answered before the change %d%s"
          % (r["name"], r["clients"], r["fill_s"], r["subs"], r["held_s"],
             r["errors"], r["early"],
             (" (statuses %s)" % r["statuses"]) if r["statuses"] else ""))
    print("  change answered %d in %.2f ms; %d of %d got it; other answers "
          "%d (non-200 %d, without the change %d); broken %d; unanswered "
          "after %d s %d" % (
              r["post_status"], r["post_ms"], r["got"], r["clients"],
              r["non200"] + r["wrong"], r["non200"], r["wrong"], r["broken"],
              WAIT_S, r["unanswered"]))
    for label, key in (("change -> answer read", "lat"),
                       ("change -> kernel got it", "klat"),
                       ("client delay (kernel -> read)", "ovh")):
        s = r[key]
        if s is None:
            print("  %-31s none" % label)
        else:
            print("  %-31s min %7.2f  p50 %7.2f  p99 %7.2f  max %7.2f ms "
                  "(n=%d)" % (label, s["min"], s["p50"], s["p99"], s["max"],
                              s["n"]))
    print("  client busy reading answers: %s ms (per process); first to "
          "last answer read: %.1f ms; an answer is %d bytes of body" % (
              " + ".join("%.1f" % b for b in r["busy"]), r["spread"],
              r["bytes"]))
    print("  CPU s until held: %s; from the change to the last answer: %s; "
          "connections a full listen queue dropped: %d" % (
              ", ".join("%s %.2f" % kv for kv in sorted(r["fill_cpu"].items())),
              ", ".join("%s %.2f" % kv for kv in sorted(r["fan_cpu"].items())),
              r["drops"]))
    sys.stdout.flush()


def spread(r, fmt):
    """A round's min / p50 / p99 / max, or "none"."""
    if r["lat"] is None:
        return "none"
    return " / ".join(fmt % r["lat"][k] for k in ("min", "p50", "p99", "max"))


def ok_round(r):
    return (r["got"] == r["clients"] and r["early"] == 0 and
            r["errors"] == 0 and r["lat"] is not None)


# -- the stacks ----------------------------------------------------------------

def start_bare(tmp):
    """Starts bare Nchan (bench/nchan-bare.conf) in tmp. Returns (Popen,
    port, publish socket path, error log path)."""
    prefix = os.path.join(tmp, "nchan-bare")
    for d in (prefix, os.path.join(prefix, "logs"),
              os.path.join(prefix, "tmp")):
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
    publish = os.path.join(prefix, "publish.sock")
    with open(os.path.join(REPO, "bench", "nchan-bare.conf")) as f:
        text = f.read()
    for attempt in range(5):
        port = free_port()
        conf = (text.replace("@PREFIX@", prefix)
                .replace("@PORT@", str(port))
                .replace("@PUBLISH@", publish)
                .replace("@WORKERS@", "auto")
                .replace("@NCHAN@",
                         "/usr/lib/nginx/modules/ngx_nchan_module.so")
                .replace("@USER@", "user                    nobody nogroup;"
                         if os.geteuid() == 0 else ""))
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        if os.path.exists(publish):
            os.unlink(publish)
        log = open(os.path.join(prefix, "logs", "stdout.log"), "ab")
        p = subprocess.Popen([nginx_binary(), "-p", prefix, "-c", path,
                              "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                if os.path.exists(publish):
                    return p, port, publish, os.path.join(prefix, "logs",
                                                          "error.log")
            except OSError:
                pass
            time.sleep(0.02)
        p.kill()
        p.wait()
    raise BenchError("bare Nchan's nginx did not start: see %s" % prefix)


def stop_bare(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def server_pids(t):
    """nginx's processes and the app's (master, children, publisher)."""
    pids = process_tree(t.procs["nginx"])
    if t.procs.get("app"):
        pids += process_tree(t.procs["app"])
    return pids


# -- the section ---------------------------------------------------------------

def small_part(a, nthpi):
    """1,000 held polls, as before; and the single poll, the peer."""
    print("== %d held long polls (1 client process, %d source addresses) =="
          % (a.small, a.addrs))
    print("-- warm-up round (not counted) --")
    hold_round(a.bin, nthpi, 0, a.small, 1, a.addrs)
    print("-- measured rounds --")
    rounds = [hold_round(a.bin, nthpi, k, a.small, 1, a.addrs)
              for k in range(1, a.rounds + 1)]
    single = [hold_round(a.bin, nthpi, 100 + k, 1, 1, 1, echo=False)
              for k in range(PEER_ROUNDS)]
    for i, r in enumerate(rounds, 1):
        ok = ok_round(r) and r["lat"]["p99"] <= TARGET_SMALL_P99_MS
        figure("%d polls, round %d: got it; min / p50 / p99 / max"
               % (a.small, i), "%d/%d; %s ms" % (
                   r["got"], r["clients"], spread(r, "%.1f")),
               "all; p99 <= %g ms" % TARGET_SMALL_P99_MS, met(ok))
    one = sorted(r["lat"]["p50"] for r in single if r["got"] == 1)
    if one:
        peer = one[len(one) // 2]
        print("peer: a single held poll is answered in %s ms (median %.1f)"
              % (", ".join("%.1f" % x for x in one), peer))
        ratios = ", ".join("%.1fx" % (r["lat"]["p99"] / peer)
                           for r in rounds if r["lat"])
        print("p99 of %d polls = %s a single poll" % (a.small, ratios))
        figure("single held poll (peer), median", "%.1f ms" % peer)
        figure("%d polls: p99 / single poll, per round" % a.small, ratios)
    else:
        print("peer: the single held poll got no answer")
        figure("single held poll (peer)", "no answer", "", "NOT met")
    return rounds


def idle_cpu(t, secs):
    """CPU of t's processes over secs seconds, as % of a core: (from clock
    ticks, from schedstat, by group {"nginx": %, "app": %} from
    schedstat, the ticks, the seconds)."""
    pids = server_pids(t)
    c0, n0, g0, w0 = cpu_ticks(pids), cpu_ns(pids), group_cpu(t), \
        time.monotonic()
    time.sleep(secs)
    c1, n1, g1, w1 = cpu_ticks(pids), cpu_ns(pids), group_cpu(t), \
        time.monotonic()
    w = w1 - w0
    return (100.0 * (c1 - c0) / CLK_TCK / w, 100.0 * (n1 - n0) / 1e9 / w,
            {k: 100.0 * v / w for k, v in cpu_delta(g0, g1).items()},
            c1 - c0, w)


def measurer(store):
    """A while_held hook: the memory of t's nginx and app with the polls
    held, the balance of nginx's workers, and their CPU while nothing
    changes, into store."""
    def measure(t, info):
        pids = server_pids(t)
        store["rss"], store["pss"] = rss_kib(pids)
        store["nginx_rss"] = rss_kib(process_tree(t.procs["nginx"]))[0]
        store["pids"] = len(pids)
        workers = [p for p in process_tree(t.procs["nginx"])
                   if p != t.procs["nginx"]]
        store["workers"] = [socket_count(p) for p in workers]
        # Nothing changes now: CPU over IDLE_SECONDS, well inside the hold
        # of the first poll held (it ends HOLD_SECONDS after it came).
        time.sleep(SETTLE_SECONDS)
        room = info["t_first"] + HOLD_SECONDS - 4 - time.monotonic()
        w0 = time.monotonic() - info["t_first"]
        (store["cpu_pct"], store["cpu_ns_pct"], store["cpu_groups"],
         store["cpu_ticks"], store["cpu_s"]) = idle_cpu(
            t, max(1.0, min(IDLE_SECONDS, room)))
        store["window"] = (w0, w0 + store["cpu_s"])
    return measure


def idle_memory(nthpi, bare):
    """The memory of both before they hold anything: the base of the
    memory figure. Taken on the fresh stacks (after one request), since
    nginx keeps the memory of the 1,000 polls for the next ones."""
    m = {"nthpi": {}, "bare": {}}
    for t, d in ((nthpi, m["nthpi"]), (bare, m["bare"])):
        d["idle"] = rss_kib(server_pids(t))
        d["idle_nginx"] = rss_kib(process_tree(t.procs["nginx"]))[0]
    return m


def big_part(a, nthpi, bare, m):
    """20,000 held polls: latency, memory, idle CPU; bare Nchan beside.
    m: idle_memory's figures, which it adds to."""
    per_addr = -(-a.big // a.addrs)
    print("== %d held long polls (%d client processes, %d source addresses, "
          "%d polls an address) ==" % (a.big, a.procs, a.addrs, per_addr))
    # The peer of the CPU figure: the same processes with no poll held.
    m["nthpi"]["none"] = idle_cpu(nthpi, IDLE_SECONDS)
    print("CPU of nthpi (nginx and the app) with no poll held: %.2f %% of "
          "a core (schedstat %.3f %%: %s) over %.1f s" % (
              m["nthpi"]["none"][0], m["nthpi"]["none"][1],
              ", ".join("%s %.3f" % kv for kv in
                        sorted(m["nthpi"]["none"][2].items())),
              m["nthpi"]["none"][4]))
    # The first 20,000 of a stack are slower at times (nginx and the
    # clients growing their memory, on a busy machine); not counted. The
    # memory figure stays held minus fresh: nginx keeps what it grew.
    print("-- warm-up: nthpi, then bare Nchan (not counted) --")
    for t, k in ((nthpi, 1000), (bare, 0)):
        if t is bare:
            prepare_bare_message(bare, nthpi)
        r = hold_round(a.bin, t, k, a.big, a.procs, a.addrs, echo=False)
        print("%s: %d of %d got it; p50 %.0f, p99 %.0f ms" % (
            t.name, r["got"], r["clients"],
            r["lat"]["p50"] if r["lat"] else -1,
            r["lat"]["p99"] if r["lat"] else -1))
        sys.stdout.flush()
    ours, theirs = [], []
    for k in range(1, a.big_rounds + 1):
        print("-- round %d: nthpi --" % k)
        ours.append(hold_round(a.bin, nthpi, 1000 + k, a.big, a.procs,
                               a.addrs,
                               measurer(m["nthpi"]) if k == 1 else None))
        if k == 1:
            print_measured(a, "nthpi (nginx and the app)", m["nthpi"])
        print("-- round %d: bare Nchan (the peer) --" % k)
        theirs.append(hold_round(a.bin, bare, k, a.big, a.procs, a.addrs,
                                 measurer(m["bare"]) if k == 1 else None))
        if k == 1:
            print_measured(a, "bare Nchan (its nginx)", m["bare"])
    return ours, theirs, m


def prepare_bare_message(bare, nthpi):
    """The peer publishes what nthpi's polls got: the change list of the
    last task, as long as theirs."""
    status, body = http_get(nthpi.port, "/api/tasks?limit=1")
    v = json.loads(body)["version"]
    status, body = http_get(nthpi.port, "/api/tasks?since=%d" % (v - 1))
    m = re.search(rb'"id": (\d+)', body)
    if status != 200 or not m:
        raise BenchError("cannot read the last change for bare Nchan")
    path = os.path.join(os.path.dirname(bare.publish_path), "message.json")
    with open(path, "wb") as f:
        f.write(body)
    bare.body_file = path
    bare.match_text = '{"id": %s,' % m.group(1).decode()


def print_measured(a, what, m):
    if "rss" not in m:
        return
    idle_rss, idle_pss = m["idle"]
    print("memory of %s, %d processes: RSS %.1f MiB idle, %.1f MiB with %d "
          "held: %.2f KiB a held poll (PSS %.1f -> %.1f MiB: %.2f KiB)" % (
              what, m["pids"], idle_rss / 1024, m["rss"] / 1024, a.big,
              (m["rss"] - idle_rss) / a.big, idle_pss / 1024,
              m["pss"] / 1024, (m["pss"] - idle_pss) / a.big))
    print("of which nginx's: %.2f KiB a held poll; nginx workers' sockets "
          "while held: %s" % ((m["nginx_rss"] - m["idle_nginx"]) / a.big,
                              ", ".join(map(str, m["workers"]))))
    print("CPU of %s with %d held and nothing changing: %d ticks in %.1f s "
          "= %.2f %% of a core (schedstat %.3f %%: %s), from %.1f s to "
          "%.1f s after the first poll was sent (its hold ends at about "
          "%d s)" % (
              what, a.big, m["cpu_ticks"], m["cpu_s"], m["cpu_pct"],
              m["cpu_ns_pct"], ", ".join(
                  "%s %.3f" % kv for kv in sorted(m["cpu_groups"].items())),
              m["window"][0], m["window"][1], HOLD_SECONDS))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big", type=int, default=20000)
    ap.add_argument("--big-rounds", type=int, default=2)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--addrs", type=int, default=250)
    ap.add_argument("--bin", default=os.path.join(
        REPO, os.environ.get("NTHPI_BUILD", "build"), "bench", "longpoll"))
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        print("longpoll.py: %s is not built (sh bench/run.sh builds it)"
              % a.bin)
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if -(-a.big // a.procs) + 16 > hard:
        print("longpoll.py: %d polls in %d processes: %d files a process, "
              "%d allowed" % (a.big, a.procs, -(-a.big // a.procs), hard))
        return 1
    if -(-a.big // a.addrs) > PER_ADDRESS:
        print("longpoll.py: %d polls from %d addresses: more than %d an "
              "address" % (a.big, a.addrs, PER_ADDRESS))
        return 1
    print("nthpi-fcgi: its defaults (4 children x 16 threads, hold_seconds "
          "%d); nginx: worker_processes auto (%d CPUs), make run's rate "
          "limit; no worker" % (HOLD_SECONDS, os.cpu_count() or 1))
    print("A poll's time runs from the moment the POST is written to the "
          "moment its answer is read.")
    sys.stdout.flush()
    tmp = tempfile.mkdtemp(prefix="nthpi-nchan-")
    os.chmod(tmp, 0o755)
    bare_p = None
    try:
        with Stack(children=4, threads=16, worker=False,
                   nginx_workers="auto", rate="10r/s", burst=50,
                   label="long-poll stack") as s:
            nthpi = Nthpi("nthpi", s.port, s.publish_path,
                          {"nginx": s.nginx.pid, "app": s.fcgi.pid})
            nthpi.app_socket = s.socket_path
            bare_p, bport, bpub, berr = start_bare(tmp)
            bare = Bare("bare Nchan", bport, bpub, {"nginx": bare_p.pid})
            http_get(s.port, "/api/tasks")
            m = idle_memory(nthpi, bare)
            small = small_part(a, nthpi)
            ours, theirs, m = big_part(a, nthpi, bare, m)
            stop_bare(bare_p)
            errors = log_lines(s.nginx_error_log,
                               r"\[(warn|error|crit|alert|emerg)\]")
            bare_errors = log_lines(berr, r"\[(warn|error|crit|alert|emerg)\]")
            app_warn = log_lines(s.fcgi_log, r"(warn|error|err):")
    except BenchError as e:
        print("longpoll.py: %s" % e)
        return 1
    finally:
        if bare_p is not None:
            stop_bare(bare_p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("nginx error log: %d warn/error lines%s" % (
        len(errors), "".join("\n  " + l for l in errors[:5])))
    print("bare Nchan's error log: %d warn/error lines%s" % (
        len(bare_errors), "".join("\n  " + l for l in bare_errors[:5])))
    print("nthpi-fcgi log: %d warning/error lines%s" % (
        len(app_warn), "".join("\n  " + l for l in app_warn[:5])))
    summarise_big(a, ours, theirs, m)
    figure("nginx error-log lines (warn and up)", str(len(errors)), "0",
           met(not errors))
    return 0 if small and ours else 1


def summarise_big(a, ours, theirs, m):
    if ours:
        figure("time to hold %d; CPU s then (app, nginx)" % a.big,
               "%s" % "; ".join("%.1f s (%.1f, %.1f)" % (
                   r["held_s"], r["fill_cpu"].get("app", 0),
                   r["fill_cpu"]["nginx"]) for r in ours))
    for i, (r, b) in enumerate(zip(ours, theirs), 1):
        ok = (ok_round(r) and r["lat"]["p50"] <= TARGET_BIG_P50_MS and
              r["lat"]["p99"] <= TARGET_BIG_P99_MS)
        figure("%d polls, round %d: got it; min / p50 / p99 / max"
               % (a.big, i), "%d/%d, %d early; %s ms" % (
                   r["got"], r["clients"], r["early"], spread(r, "%.0f")),
               "all, 0 early; p50 <= %g, p99 <= %g ms" % (
                   TARGET_BIG_P50_MS, TARGET_BIG_P99_MS), met(ok))
        if r["klat"] and r["ovh"]:
            figure("  kernel got it p99; client's own delay max",
                   "%.0f ms; %.1f ms" % (r["klat"]["p99"],
                                         r["ovh"]["max"]))
        if b["lat"]:
            figure("  bare Nchan (peer): got it; min / p50 / p99 / max",
                   "%d/%d; %s ms" % (b["got"], b["clients"],
                                     spread(b, "%.0f")),
                   "all", met(ok_round(b)))
        if r["lat"] and b["lat"]:
            ratio = r["lat"]["p99"] / b["lat"]["p99"]
            print("round %d: nthpi p99 / bare Nchan p99 = %.0f / %.0f ms = "
                  "%.2f" % (i, r["lat"]["p99"], b["lat"]["p99"], ratio))
            figure("  nthpi p99 / bare Nchan p99", "%.2f" % ratio)
    ours_m, bare_m = m["nthpi"], m["bare"]
    if "rss" in ours_m:
        per = (ours_m["rss"] - ours_m["idle"][0]) / a.big
        value = "%.2f KiB (PSS %.2f)" % (
            per, (ours_m["pss"] - ours_m["idle"][1]) / a.big)
        if "rss" in bare_m:
            value += "; bare Nchan %.2f KiB" % (
                (bare_m["rss"] - bare_m["idle"][0]) / a.big)
        figure("memory a held poll (RSS, held - idle)", value,
               "<= %g KiB" % TARGET_KIB_PER_POLL,
               met(per <= TARGET_KIB_PER_POLL))
        none = ours_m.get("none")
        figure("CPU with %d held, nothing changing (%.0f s)" % (
            a.big, ours_m["cpu_s"]), "%.2f %% of a core%s" % (
                ours_m["cpu_pct"], "; none held: %.2f %%" % none[0]
                if none else ""),
            "< %g %%" % TARGET_IDLE_CPU_PCT,
            met(ours_m["cpu_pct"] < TARGET_IDLE_CPU_PCT))
        figure("nginx workers' sockets while held",
               " / ".join(map(str, ours_m["workers"])))


if __name__ == "__main__":
    sys.exit(main())
