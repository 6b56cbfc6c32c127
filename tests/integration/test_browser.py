#!/usr/bin/env python3
"""test_browser.py: the page in a real browser, against a real stack.

Starts nginx + nthpi-fcgi + nthpi-worker (harness.Stack) and runs

    node tests/browser/browser_test.mjs URL tests/out/browser

from the repository root: Debian's chromium driven by playwright-core (see
tests/browser/). Then, on a stack without a worker whose nginx takes one
change a minute (and a burst of one), tests/browser/rate_limit.mjs: what
the page says when nginx refuses a change (429); and on the first stack
tests/browser/search_test.mjs, the search form. The scripts' "ok - " /
"not ok - " lines are relayed with the prefix "browser: " and counted as
this program's results; their other output becomes "# " diagnostics.
Fails if node, playwright-core (npm ci in tests/browser, done by `make
deps-test`) or chromium is missing, or if a browser test fails, crashes
or hangs. Screenshots land in tests/out/browser/.
"""

import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import REPO, Stack  # noqa: E402

BROWSER_DIR = os.path.join(REPO, "tests", "browser")
SCRIPT = os.path.join("tests", "browser", "browser_test.mjs")
RATE_SCRIPT = os.path.join("tests", "browser", "rate_limit.mjs")
SEARCH_SCRIPT = os.path.join("tests", "browser", "search_test.mjs")
OUT_DIR = os.path.join("tests", "out", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The browser test's own watchdog; this program allows a minute more.
TIMEOUT_S = int(os.environ.get("BROWSER_TEST_TIMEOUT", "300"))


def relay(line):
    """Prints one line of the browser test's output and counts results."""
    line = line.rstrip("\n")
    if line.startswith("ok - "):
        tap.passed += 1
        print("ok - browser: " + line[5:], flush=True)
    elif line.startswith("not ok - "):
        tap.failed += 1
        print("not ok - browser: " + line[9:], flush=True)
    elif line.startswith("#"):
        print(line, flush=True)
    else:
        tap.diag(line)


def prerequisites():
    """Returns the path of node, or None after a failing check."""
    node = shutil.which("node")
    if not tap.check("node is installed", node is not None,
                     "the browser test needs Node.js (make deps-test)"):
        return None
    if not tap.check(
            "playwright-core is installed in tests/browser",
            os.path.isfile(os.path.join(BROWSER_DIR, "node_modules",
                                        "playwright-core", "package.json")),
            "run: (cd tests/browser && npm ci)  (make deps-test does)"):
        return None
    if not tap.check("chromium is installed", os.access(CHROMIUM, os.X_OK),
                     "%s is missing: apt-get install -y chromium "
                     "(make deps-test does)" % CHROMIUM):
        return None
    return node


def run_script(node, s, script, args=()):
    """Runs a browser test script with node against stack s; relays and
    counts its results."""
    env = dict(os.environ)
    env["CHROMIUM"] = CHROMIUM
    # To stop and go on with the worker (its banner).
    if s.worker is not None:
        env["NTHPI_WORKER_PID"] = str(s.worker.pid)
    env.setdefault("BROWSER_TEST_TIMEOUT_MS", str((TIMEOUT_S - 30) * 1000))
    argv = [script, s.url] + list(args)
    tap.diag("running: node %s" % " ".join(argv))
    p = subprocess.Popen([node] + argv, cwd=REPO, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         errors="replace", start_new_session=True)
    results = {"ok": 0, "not ok": 0}

    def pump():
        for line in p.stdout:
            if line.startswith("ok - "):
                results["ok"] += 1
            elif line.startswith("not ok - "):
                results["not ok"] += 1
            relay(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        rc = p.wait(TIMEOUT_S + 30)
    except subprocess.TimeoutExpired:
        # The browser and its helpers are in node's process group.
        os.killpg(p.pid, 9)
        rc = p.wait()
        tap.check("%s finishes in time" % script, False,
                  "killed after %d s" % (TIMEOUT_S + 30))
    reader.join(10)
    tap.check("%s exits 0 having run its checks" % os.path.basename(script),
              rc == 0 and results["ok"] > 0 and results["not ok"] == 0,
              "exit status %s, %d ok, %d not ok" %
              (rc, results["ok"], results["not ok"]))


def test_browser():
    node = prerequisites()
    if node is None:
        return
    os.makedirs(os.path.join(REPO, OUT_DIR), exist_ok=True)
    with Stack(label="browser stack") as s:
        run_script(node, s, SCRIPT, [OUT_DIR])
        run_script(node, s, SEARCH_SCRIPT, [OUT_DIR])
        if os.path.isfile(os.path.join(REPO, OUT_DIR, "main-page.png")):
            tap.diag("screenshots in %s" % os.path.join(REPO, OUT_DIR))
    # nginx's limit on changes, low enough to reach from one page.
    with Stack(worker=False, rate="1r/m", burst=1,
               label="rate-limited browser stack") as s:
        run_script(node, s, RATE_SCRIPT)


if __name__ == "__main__":
    tap.main(test_browser)
