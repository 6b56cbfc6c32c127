"""test_store_integrity.py: the digit store proves itself, against the real
processes. A digit changed in place while everything runs; the store
replaced by garbage of the same size, and cut short, while the worker is
stopped (so that what the web app does alone can be seen, then what the
worker does when it starts); a store an older version left (no check
file) when the new version starts; and an engine whose digits are wrong.
In each: no wrong digit is served or becomes a task's, only the intact
prefix is served, the worker rebuilds the store by itself, and every task
ends done with pi's digit. The check file the worker writes is the one
storefile.py (the format written again, in Python) makes of the digits.

Sizes: 10^6 decimals, 16 blocks of 64 KiB; a computation takes about
0.3 s."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import traceback

import storefile
import tap
from harness import REPO, Stack, reference_sha256, wait_for

check = tap.check
N = 10**6


def v1(s, start, count=5):
    """GET /v1/pi: (status, headers, content or the refusal's text)."""
    st, h, body = s.request(
        "GET", "/v1/pi?start=%d&numberOfDigits=%d" % (start, count))
    if st == 200:
        return st, h, json.loads(body)["content"]
    return st, h, body.decode(errors="replace")


def pi_txt(s, tid):
    return s.request("GET", "/tasks/%d/pi.txt" % tid)


def store_bytes(s):
    with open(s.store_path, "rb") as f:
        return f.read()


def done_task(s, n, timeout=60):
    st, t = s.api_create(n)
    return s.wait_task(t["id"], timeout) if st == 201 else {"status": st}


def log_count(path, pattern):
    with open(path, errors="replace") as f:
        return len(re.findall(pattern, f.read()))


def rebuilt(s, good):
    """Whether the store is pi's N decimals again with a matching check
    file (read only once the worker has written a new pair)."""
    info = storefile.read_check(s.store_path)
    return (info is not None and info["bytes"] == N + 1 and
            store_bytes(s) == good and
            storefile.damaged_blocks(s.store_path) == [])


def wait_rebuilt(s, good, since_ino, timeout=30):
    """Waits for the worker to write a new pair (a new check file), then
    says whether it holds pi again."""
    def new_pair():
        try:
            return os.stat(s.store_path + ".check").st_ino != since_ino
        except OSError:
            return False
    return wait_for(new_pair, timeout, 0.05) and rebuilt(s, good)


def check_ino(s):
    try:
        return os.stat(s.store_path + ".check").st_ino
    except OSError:
        return None


def fill(s):
    """A first task computes the store; returns its bytes, checked against
    the published SHA-256 of 10^6 decimals."""
    t = done_task(s, N)
    good = store_bytes(s)
    ok = check("the first task computes the store: %d decimals, pi's "
               "(published SHA-256)" % N,
               t.get("status") == "done" and len(good) == N + 1 and
               hashlib.sha256(good).hexdigest() == reference_sha256(N), t)
    try:
        with open(s.store_path + ".check", "rb") as f:
            written = f.read()
    except OSError as e:
        written = str(e).encode()
    check("the check file the worker wrote is the one storefile.py makes "
          "of the same digits (bytes, block, SHA-256, 16 CRCs, its own "
          "check)", written == storefile.check_text(good),
          written[:200])
    return good if ok else None


def test_flipped_digit_while_running(s, good):
    """A byte changed in place under the running stack."""
    f = 654321  # block 9: bytes 589824 to 655359
    label = "flipped digit"
    wrong = str((good[f] - 48 + 1) % 10)
    t0 = done_task(s, f - 1)
    check("%s: before the change, a task next to it is done from the "
          "store" % label, t0.get("digit") == chr(good[f - 1]), t0)
    for _ in range(4):  # both FastCGI children read (and check) block 9
        v1(s, f - 2)
    logged = log_count(s.worker_log, r"does not match its check")
    ino = check_ino(s)
    with open(s.store_path, "r+b") as fp:
        fp.seek(f)
        fp.write(wrong.encode())
    tap.diag("%s: decimal %d changed from %s to %s in place" %
             (label, f, chr(good[f]), wrong))
    st, t = s.api_create(f)
    seen, bad = {}, []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        code, h, content = v1(s, f - 2)
        seen[code] = seen.get(code, 0) + 1
        want = good[f - 2:f + 3].decode()
        if code == 200 and not want.startswith(content):
            bad.append(content)
        if code == 200 and content == want and \
                check_ino(s) != ino:
            break
        time.sleep(0.01)
    tap.diag("%s: /v1/pi at decimal %d answered %s while the store was "
             "rebuilt" % (label, f - 2, seen))
    check("%s: /v1/pi never serves the changed digit" % label, not bad,
          "%d answers with it, such as %r" % (len(bad), bad[:3]))
    t = s.wait_task(t["id"]) if st == 201 else {}
    check("%s: a task for that n, asked right after the change, ends done "
          "with pi's digit" % label,
          t.get("status") == "done" and t.get("digit") == chr(good[f]), t)
    check("%s: the worker rebuilds the store by itself" % label,
          wait_rebuilt(s, good, ino), storefile.damaged_blocks(s.store_path))
    check("%s: the worker logs the damage once, with the block and its "
          "bytes" % label,
          log_count(s.worker_log, r"block 9 \(bytes 589824 to 655359\) "
                    r"does not match its check") == 1 and
          log_count(s.worker_log, r"does not match its check") ==
          logged + 1)
    st, h, body = pi_txt(s, t0["id"])
    check("%s: pi.txt of the task next to it is pi's again" % label,
          st == 200 and body == b"3." + good[1:f], (st, len(body)))


def test_garbage_while_worker_stopped(s, good):
    """The store replaced by garbage of the same length: first what the
    web app does alone, then what the worker does when it starts."""
    label = "garbage"
    t1 = done_task(s, 300000)
    s.stop_worker()
    ino = check_ino(s)
    tmp = s.store_path + ".garbage"
    with open(tmp, "wb") as fp:
        fp.write(b"garbage!" * (len(good) // 8) + b"g" * (len(good) % 8))
    os.rename(tmp, s.store_path)
    code, h, content = v1(s, 0, 10)
    check("%s: /v1/pi from position 0 gives only the 3, not the garbage" %
          label, code == 200 and content == "3", (code, content))
    code, h, text = v1(s, 1)
    check("%s: /v1/pi at position 1 answers 503 with Retry-After: the "
          "digits are being recomputed" % label,
          code == 503 and "being recomputed" in text and
          h.get("retry-after"), (code, text))
    st, h, body = pi_txt(s, t1["id"])
    check("%s: pi.txt of a done task answers 503, says the digits are "
          "being recomputed, with Retry-After" % label,
          st == 503 and b"being recomputed" in body and
          h.get("retry-after") and b"garbage" not in body,
          (st, body[:200]))
    st, h, body = s.request("GET", "/tasks/%d" % t1["id"])
    check("%s: the task page shows its digit but none of the garbage, and "
          "says why" % label,
          st == 200 and b"garbage" not in body and
          b"recomputed after it was found damaged" in body, st)
    st, t = s.api_create(200000)
    s.start_worker()
    check("%s: the worker, started, rebuilds the store without a task "
          "asking for more digits" % label, wait_rebuilt(s, good, ino))
    t = s.wait_task(t["id"]) if st == 201 else {}
    check("%s: a task the store covered, asked meanwhile, ends done with "
          "pi's digit" % label,
          t.get("status") == "done" and t.get("digit") == chr(good[200000]),
          t)
    st, h, body = pi_txt(s, t1["id"])
    check("%s: pi.txt of the done task is back" % label,
          st == 200 and body == b"3." + good[1:300001], (st, len(body)))
    errors = s.sql("SELECT id, error FROM tasks WHERE status = 'error'")
    check("%s: no task ended in error" % label, not errors, errors)
    check("%s: the worker logged where: block 0 (bytes 0 to 65535)" %
          label, log_count(s.worker_log, r"block 0 \(bytes 0 to 65535\) "
                           r"does not match its check") == 1)


def test_truncated_while_worker_stopped(s, good):
    """truncate -s 500001: the tasks above the cut get pi.txt back once
    the recomputation, which starts by itself, is over."""
    label = "cut short"
    high, low = done_task(s, 900000), done_task(s, 100000)
    s.stop_worker()
    ino = check_ino(s)
    os.truncate(s.store_path, 500001)
    st, h, body = pi_txt(s, high["id"])
    check("%s: pi.txt of a done task above the cut answers 503 with "
          "Retry-After and says the digits are being recomputed" % label,
          st == 503 and b"being recomputed" in body and
          h.get("retry-after"), (st, body[:200]))
    st, h, body = pi_txt(s, low["id"])
    check("%s: pi.txt of a done task below the cut is still served" % label,
          st == 200 and body == b"3." + good[1:100001], (st, len(body)))
    code, h, text = v1(s, 600000)
    check("%s: /v1/pi past the cut, within what the store held: 503" %
          label, code == 503 and "being recomputed" in text, (code, text))
    code, h, text = v1(s, N + 1)
    check("%s: /v1/pi past what the store ever held: 400 start out of "
          "range" % label, code == 400 and text == "start out of range",
          (code, text))
    code, h, content = v1(s, 458750, 5)
    check("%s: /v1/pi gives the intact prefix up to the cut block (ends "
          "at byte 458751)" % label,
          code == 200 and content == good[458750:458752].decode(),
          (code, content))
    s.start_worker()
    check("%s: the worker rebuilds the store to what it held" % label,
          wait_rebuilt(s, good, ino))
    st, h, body = pi_txt(s, high["id"])
    check("%s: pi.txt of the task above the cut is back, and right" %
          label, st == 200 and body == b"3." + good[1:900001],
          (st, len(body)))
    t = s.get_task(high["id"])
    check("%s: the done task kept its digit throughout" % label,
          t.get("status") == "done" and t.get("digit") == chr(good[900000]),
          t)


def test_older_version_store(s, good):
    """The new version starts on a store an older one wrote (no check
    file): nothing of it is served until the worker has verified it by
    computing it again."""
    label = "older store"
    s.kill_all(signal.SIGTERM)
    if os.path.exists(s.store_path + ".check"):
        os.unlink(s.store_path + ".check")
    s.want_worker = False
    s.restart()
    s.want_worker = True
    check("%s: nthpi-fcgi says at start that the store has no check file" %
          label, log_count(s.fcgi_log, r"warn: digit store .*no check "
                           r"file") >= 1)
    code, h, text = v1(s, 1)
    check("%s: /v1/pi serves none of the unchecked store (503)" % label,
          code == 503 and "being recomputed" in text, (code, text))
    s.start_worker()
    check("%s: the worker rebuilds it to its size, with a check file" %
          label, wait_rebuilt(s, good, None))
    code, h, content = v1(s, 1, 100)
    check("%s: then /v1/pi serves it" % label,
          code == 200 and content == good[1:101].decode(), (code, content))
    check("%s: the worker said why it rebuilt it" % label,
          log_count(s.worker_log, r"no check file") >= 1)


def test_wrong_engine():
    """An engine whose digits contradict a published prefix (every digit
    mpz_get_str gives is made wrong by an LD_PRELOAD library): the store is
    not replaced and the task fails with a sentence that says so."""
    label = "wrong engine"
    work = tempfile.mkdtemp(prefix="nthpi-wrong-")
    lib = os.path.join(work, "wrong_digits.so")
    src = os.path.join(REPO, "tests", "integration", "wrong_digits.c")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, src,
                        "-ldl"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        tap.skip("%s: the store is not replaced" % label,
                 "cannot build wrong_digits.c: " + r.stdout[-200:])
        return
    try:
        wrong_engine_stack(label, lib)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def wrong_engine_stack(label, lib):
    with Stack(n_max=10**5, label=label + " stack") as s:
        t = done_task(s, 100)
        before = store_bytes(s)
        s.stop_worker()
        saved = {k: os.environ.get(k) for k in ("LD_PRELOAD", "ASAN_OPTIONS")}
        os.environ["LD_PRELOAD"] = lib
        # An ASan build wants its runtime first; the library only wraps
        # mpz_get_str.
        os.environ["ASAN_OPTIONS"] = ":".join(
            x for x in (saved["ASAN_OPTIONS"], "verify_asan_link_order=0")
            if x)
        try:
            s.start_worker()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        t = done_task(s, 50000)
        err = t.get("error") or ""
        tap.diag("%s: error: %s" % (label, err))
        check("%s: a task that needs the wrong computation ends in error, "
              "saying the digits are wrong and it is a bug" % label,
              t.get("status") == "error" and "digits are wrong" in err and
              "first 10000 decimals" in err and "bug" in err, t)
        check("%s: the store is left as it was" % label,
              store_bytes(s) == before and
              storefile.damaged_blocks(s.store_path) == [])
        check("%s: the worker's log says which prefix" % label,
              log_count(s.worker_log, r"the first 10000 decimals computed "
                        r"do not match the published SHA-256") == 1)
        s.stop_worker()
        s.start_worker()


def run():
    with Stack(n_max=N, label="store stack") as s:
        t0 = time.monotonic()
        good = fill(s)
        if good is None:
            return
        for fn in (test_flipped_digit_while_running,
                   test_garbage_while_worker_stopped,
                   test_truncated_while_worker_stopped,
                   test_older_version_store):
            # One that fails leaves the store damaged for the next,
            # whose own checks then say so.
            try:
                fn(s, good)
            except Exception:
                check("%s ran to the end" % fn.__name__, False,
                      traceback.format_exc())
                if s.worker is None:
                    s.start_worker()
        tap.diag("store stack: %.1f s" % (time.monotonic() - t0))
    test_wrong_engine()


if __name__ == "__main__":
    tap.main(run)
