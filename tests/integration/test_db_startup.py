"""test_db_startup.py: nthpi-fcgi and nthpi-worker started at the same
moment on a new, empty data directory, many times over, with the machine
under load. Every time, both must come up (the worker stays running and
says it is ready; the FastCGI program's children serve and one answers a
request on its socket), the database they made must hold the whole schema
that a program opening it alone makes, exactly one of them must have
created it (db_open's "created the schema" line), and no log may have an
error or a warning, or say that the database was locked or busy.

SQLite answers SQLITE_BUSY without waiting in a few places of a new
database's life (switching to WAL, upgrading a read to a write), so a race
there turns into an error unless db_open tries again; see common/db.c.

Environment: NTHPI_DB_STARTUP_ROUNDS (default 200), NTHPI_DB_STARTUP_LOAD
(busy-loop processes beside the programs, default 2).
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

import tap
from harness import BUILD, HarnessError, tail, wait_for

ROUNDS = int(os.environ.get("NTHPI_DB_STARTUP_ROUNDS", "200"))
LOAD = int(os.environ.get("NTHPI_DB_STARTUP_LOAD", "2"))
# Two children open the database as the worker does: four openers at once.
CHILDREN = 2
# Far more than a start takes even under ASan and load; a start that takes
# this long has hung on a lock.
UP_TIMEOUT = 30
# Rounds whose files are kept for a look, when they fail.
KEEP_FAILED = 3

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, \
    FCGI_STDOUT = 1, 3, 4, 5, 6


def fcgi_record(rtype, content):
    """One FastCGI record of request 1 (version 1, no padding)."""
    return struct.pack(">BBHHBx", 1, rtype, 1, len(content), 0) + content


def fcgi_get(socket_path, path, timeout=10):
    """GET path from the FastCGI program at socket_path, as nginx asks.
    Returns the STDOUT stream (headers and body), or raises OSError."""
    params = b""
    for k, v in (("REQUEST_METHOD", "GET"), ("REQUEST_URI", path),
                 ("QUERY_STRING", path.partition("?")[2]),
                 ("HTTP_HOST", "localhost"), ("SERVER_PORT", "80")):
        params += bytes([len(k), len(v)]) + k.encode() + v.encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(timeout)
        c.connect(socket_path)
        c.sendall(fcgi_record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", 1, 0))
                  + fcgi_record(FCGI_PARAMS, params)
                  + fcgi_record(FCGI_PARAMS, b"")
                  + fcgi_record(FCGI_STDIN, b""))
        data = out = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                raise OSError("the connection closed before END_REQUEST")
            data += chunk
            while len(data) >= 8:
                _, rtype, _, clen, plen = struct.unpack(">BBHHBx", data[:8])
                if len(data) < 8 + clen + plen:
                    break
                if rtype == FCGI_STDOUT:
                    out += data[8:8 + clen]
                elif rtype == FCGI_END_REQUEST:
                    return out
                data = data[8 + clen + plen:]


def read_log(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def database_state(db_path):
    """What a finished open leaves: the schema (sqlite_master), the schema
    version, the journal mode and the rows the schema seeds. None if the
    file cannot be read."""
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True,
                            timeout=10)
    except sqlite3.Error:
        return None
    try:
        state = {
            "schema": c.execute("SELECT type, name, tbl_name, sql FROM "
                                "sqlite_master ORDER BY type, name")
            .fetchall(),
            "user_version": c.execute("PRAGMA user_version").fetchone()[0],
            "journal_mode": c.execute("PRAGMA journal_mode").fetchone()[0],
        }
        for table in ("queue_state", "compute_time_buckets",
                      "compute_totals"):
            state[table] = c.execute("SELECT * FROM %s ORDER BY 1" %
                                     table).fetchall()
        return state
    except sqlite3.Error as e:
        return {"error": str(e)}
    finally:
        c.close()


def state_diff(want, got):
    """A short sentence on how got differs from want."""
    if got is None or "error" in got:
        return "cannot read the database: %r" % (got,)
    keys = [k for k in want if want[k] != got.get(k)]
    if "schema" in keys:
        names = lambda s: {r[1] for r in s}
        return "schema differs: missing %s, extra %s" % (
            sorted(names(want["schema"]) - names(got["schema"])),
            sorted(names(got["schema"]) - names(want["schema"])))
    return "; ".join("%s is %r, not %r" % (k, got.get(k), want[k])
                     for k in keys)


class Round:
    """Both programs started at one moment on a new data directory."""

    def __init__(self, parent, index):
        self.dir = os.path.join(parent, "round-%03d" % index)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        self.db_path = os.path.join(self.data, "nthpi.db")
        self.socket_path = os.path.join(self.data, "nthpi-fcgi.sock")
        self.fcgi_log = os.path.join(self.dir, "fcgi.log")
        self.worker_log = os.path.join(self.dir, "worker.log")
        self.procs = []

    def start(self):
        """Starts both. Each waits in a shell, reading a pipe, until both
        exist; then they go at once (or, every other round on average, one
        a random moment of up to 2 ms before the other), so that rounds
        meet the race at different points. With debug = 1, db_open says
        when it had to try again."""
        gate_r, gate_w = os.pipe()
        try:
            for argv, log in (
                    ([os.path.join(BUILD, "nthpi-fcgi"),
                      "--data=" + self.data, "--socket=" + self.socket_path,
                      "--children=%d" % CHILDREN, "--threads=4",
                      "--debug=1"], self.fcgi_log),
                    ([os.path.join(BUILD, "nthpi-worker"),
                      "--data=" + self.data, "--debug=1"],
                     self.worker_log)):
                with open(log, "ab") as f:
                    self.procs.append(subprocess.Popen(
                        ["sh", "-c", 'read _; exec "$@" </dev/null', "sh"] +
                        argv, stdin=gate_r, stdout=f,
                        stderr=subprocess.STDOUT, cwd=self.dir,
                        start_new_session=True))
            if random.random() < 0.5:
                # The shell's read takes one line: one of the two goes.
                os.write(gate_w, b"\n")
                time.sleep(random.uniform(0, 0.002))
        finally:
            os.close(gate_w)
            os.close(gate_r)

    def wait_up(self):
        """Waits until both programs say they are ready, or one exits.
        Returns None if both are up, else what went wrong."""
        fcgi, worker = self.procs
        ready = "ready: %d children serving" % CHILDREN

        def settled():
            if fcgi.poll() is not None or worker.poll() is not None:
                return True
            return (ready in read_log(self.fcgi_log) and
                    "worker: ready" in read_log(self.worker_log))

        if not wait_for(settled, UP_TIMEOUT, step=0.005):
            return "not ready within %d s" % UP_TIMEOUT
        if fcgi.poll() is not None:
            return "nthpi-fcgi exited with %s" % fcgi.returncode
        if worker.poll() is not None:
            return "nthpi-worker exited with %s" % worker.returncode
        try:
            answer = fcgi_get(self.socket_path, "/api/tasks?limit=1")
        except OSError as e:
            return "GET /api/tasks on the socket failed: %s" % e
        try:
            tasks = json.loads(answer.partition(b"\r\n\r\n")[2])["tasks"]
        except (ValueError, KeyError, TypeError):
            tasks = None
        if tasks != []:
            return "GET /api/tasks on the socket answered %r" % answer[:200]
        # Still there after answering: a worker that fails late exits now.
        if worker.poll() is not None:
            return "nthpi-worker exited with %s" % worker.returncode
        return None

    def stop(self):
        """Kills both process groups (a clean stop is other tests' matter
        and would cost most of the time here) and waits for them."""
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        for p in self.procs:
            p.wait()

    def logs(self):
        return read_log(self.fcgi_log) + read_log(self.worker_log)


def start_load(n):
    """n processes that keep a core busy each, so that the programs are
    preempted at any point of their start."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             stdin=subprocess.DEVNULL)
            for _ in range(n)]


def reference_state(tmp):
    """The database that nthpi-worker makes when it starts alone."""
    r = Round(tmp, 999)
    with open(r.worker_log, "ab") as f:
        r.procs = [subprocess.Popen([os.path.join(BUILD, "nthpi-worker"),
                                     "--data=" + r.data],
                                    stdin=subprocess.DEVNULL, stdout=f,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True)]
    up = wait_for(lambda: r.procs[0].poll() is not None or
                  "worker: ready" in read_log(r.worker_log), UP_TIMEOUT)
    r.stop()
    if not up or "worker: ready" not in read_log(r.worker_log):
        raise HarnessError("nthpi-worker alone did not start:\n" +
                           tail(r.worker_log))
    state = database_state(r.db_path)
    if state is None or "error" in state or not state["schema"]:
        raise HarnessError("nthpi-worker alone made no schema: %r" %
                           (state,))
    shutil.rmtree(r.dir)
    return state


def test_simultaneous_start():
    for b in ("nthpi-fcgi", "nthpi-worker"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            raise HarnessError("%s/%s is not built (make all)" % (BUILD, b))
    tmp = tempfile.mkdtemp(prefix="nthpi-test-dbstart-")
    load = []
    not_up, bad_schema, noisy, twice, crashed = [], [], [], [], []
    retried = 0
    kept = 0
    t0 = time.monotonic()
    try:
        want = reference_state(tmp)
        tap.diag("reference: schema version %d, %d schema objects, "
                 "journal mode %s" % (want["user_version"],
                                      len(want["schema"]),
                                      want["journal_mode"]))
        load = start_load(LOAD)
        for i in range(ROUNDS):
            r = Round(tmp, i)
            try:
                r.start()
                why = r.wait_up()
            finally:
                r.stop()
            if why:
                not_up.append("round %d: %s" % (i, why))
            got = database_state(r.db_path)
            if got != want:
                bad_schema.append("round %d: %s" % (i, state_diff(want, got)))
            text = r.logs()
            # db_open's debug line when it had to try again: the race met.
            retried += "opened at try" in text
            # A clean start logs neither; SQLite says "database is
            # locked" for SQLITE_BUSY, "locking protocol" for
            # SQLITE_PROTOCOL.
            lines = [l for l in text.splitlines()
                     if re.search(r": (error|warn): |locked|locking|busy",
                                  l, re.I)]
            if lines:
                noisy.append("round %d: %s" % (i, lines[0]))
            created = text.count("database: created the schema")
            if created != 1:
                twice.append("round %d: %d" % (i, created))
            crash = [pat for pat in ("ERROR: AddressSanitizer",
                                     "runtime error:", "Segmentation fault")
                     if pat in text]
            if crash:
                crashed.append("round %d: %s" % (i, crash[0]))
            failed = why or got != want or lines or created != 1 or crash
            if failed and kept < KEEP_FAILED:
                kept += 1
                tap.diag("round %d kept in %s; its logs:" % (i, r.dir))
                tap.diag(tail(r.fcgi_log, 10) + tail(r.worker_log, 10))
            else:
                shutil.rmtree(r.dir, ignore_errors=True)
    finally:
        for p in load:
            p.kill()
            p.wait()
        if not kept:
            shutil.rmtree(tmp, ignore_errors=True)
    secs = time.monotonic() - t0
    tap.diag("db_startup_rounds=%d db_startup_s=%.1f db_startup_retried=%d "
             "(rounds where an open was tried again; load: %d busy loops)"
             % (ROUNDS, secs, retried, LOAD))
    tap.check("db startup: both programs came up in each of %d "
              "simultaneous starts on a new database (%d did not)" %
              (ROUNDS, len(not_up)), not not_up, "\n".join(not_up[:10]))
    tap.check("db startup: the database has the whole schema after each "
              "start (%d had not)" % len(bad_schema), not bad_schema,
              "\n".join(bad_schema[:10]))
    tap.check("db startup: no error or warning in the logs, none says "
              "the database was locked or busy (%d rounds had one)" %
              len(noisy), not noisy, "\n".join(noisy[:10]))
    tap.check("db startup: one program created the schema in each start, "
              "the other found it made (%d rounds had not one creator)" %
              len(twice), not twice, "\n".join(twice[:10]))
    tap.check("db startup: no sanitizer report or crash in the logs",
              not crashed, "\n".join(crashed[:10]))


if __name__ == "__main__":
    tap.main(test_simultaneous_start)
