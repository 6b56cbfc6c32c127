#!/usr/bin/env python3
"""test_deps.py: scripts/deps.sh finds what nthpi needs by what it is, not
by asking dpkg, and names what is missing with its Debian package.

Nothing is uninstalled: a program is hidden by a PATH of links to every
program but it; pkg-config is replaced by one that knows no package (the
libraries are then found by their headers); apt-get by one that notes how
it was called, so that the root path runs without installing anything.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import REPO  # noqa: E402

check = tap.check
TMP = None  # a temp dir for the PATHs, made by main
SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
               "/sbin", "/bin"]


def path_without(tmp, hidden, fakes=None):
    """A directory of links to every program in the system's PATH (and
    python3) except those hidden, plus fake programs {name: script}."""
    d = tempfile.mkdtemp(dir=tmp, prefix="bin-")
    os.chmod(d, 0o755)
    for src in SYSTEM_PATH:
        if not os.path.isdir(src):
            continue
        for name in os.listdir(src):
            dst = os.path.join(d, name)
            path = os.path.join(src, name)
            if name in hidden or os.path.lexists(dst) or \
                    not os.access(path, os.X_OK) or os.path.isdir(path):
                continue
            os.symlink(path, dst)
    python3 = os.path.join(d, "python3")
    if "python3" not in hidden and not os.path.lexists(python3):
        os.symlink(shutil.which("python3") or sys.executable, python3)
    for name, script in (fakes or {}).items():
        f = os.path.join(d, name)
        if os.path.lexists(f):
            os.unlink(f)
        with open(f, "w") as out:
            out.write("#!/bin/sh\n" + script)
        os.chmod(f, 0o755)
    return d


def deps(mode, path, user=None, script=None):
    """Runs deps.sh MODE with PATH=path, as user if given (root only);
    returns (exit status, stdout + stderr, seconds)."""
    argv = ["sh", script or os.path.join(REPO, "scripts", "deps.sh"), mode]
    if user:
        argv = ["setpriv", "--reuid=" + user, "--regid=" + user,
                "--clear-groups"] + argv
    env = {"PATH": path, "HOME": "/nonexistent", "LANG": "C"}
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120, cwd="/")
    return r.returncode, r.stdout, time.monotonic() - t0


def test_everything_here():
    rc, out, took = deps("run", ":".join(SYSTEM_PATH))
    tap.diag("deps_run_fast_path_s=%.3f" % took)
    check("run: with everything here it does nothing, quickly (%.2f s)" %
          took, rc == 0 and out == "" and took < 2, (rc, out))


def test_missing_programs():
    tmp = TMP
    # No apt-get: this could be any system.
    path = path_without(tmp, {"wrk", "clang", "sqlite3", "apt-get"})
    rc, out, _ = deps("test", path)
    check("test: a hidden program is named with its Debian package, and "
          "it fails",
          rc == 1 and "  wrk: Debian package wrk" in out and
          "  clang: Debian package clang" in out and
          "  sqlite3 (the program): Debian package sqlite3" in out,
          (rc, out))
    check("only what is missing is named (curl, nginx and the libraries "
          "are here)",
          "curl" not in out and "nginx" not in out and
          "libfcgi" not in out, out)
    check("without clang, libFuzzer is found where Debian puts it",
          "libFuzzer" not in out, out)
    check("without apt-get it says to use the system's package manager",
          "no apt-get" in out and "sudo apt-get" not in out, out)


def test_not_root():
    tmp = TMP
    if os.geteuid() != 0:
        tap.skip("not root: apt-get's sudo line", "the tests run as a user")
        return
    # A copy, which the user nobody can read wherever the checkout is.
    d = tempfile.mkdtemp(dir=tmp, prefix="copy-")
    os.chmod(d, 0o755)
    os.mkdir(os.path.join(d, "scripts"))
    script = os.path.join(d, "scripts", "deps.sh")
    shutil.copy(os.path.join(REPO, "scripts", "deps.sh"), script)
    os.chmod(script, 0o644)
    os.chmod(os.path.join(d, "scripts"), 0o755)
    path = path_without(tmp, {"make", "sqlite3"})
    rc, out, _ = deps("run", path, user="65534", script=script)
    check("not root: it prints the apt-get line of the missing packages, "
          "each once, and fails",
          rc == 1 and "  make: Debian package build-essential" in out and
          "\nsudo apt-get install -y --no-install-recommends "
          "build-essential sqlite3\n" in out, (rc, out))


def test_no_pkg_config_answer():
    tmp = TMP
    path = path_without(tmp, set(), {"pkg-config": "exit 1\n"})
    rc, out, _ = deps("run", path)
    check("a pkg-config that knows no library: the headers are found, "
          "nothing is missing", rc == 0 and out == "", (rc, out))
    # As root deps.sh would install what is missing: a fake apt-get keeps
    # the test from running the machine's (and from its dpkg lock).
    path = path_without(tmp, {"cc"}, {"pkg-config": "exit 1\n",
                                      "apt-get": "exit 0\n"})
    rc, out, _ = deps("run", path)
    check("and without cc either, the headers are found in the include "
          "directories; cc alone is missing",
          rc == 1 and out.count("Debian package") == 1 and
          "  cc (a C compiler): Debian package build-essential" in out,
          (rc, out))


def test_root_installs():
    tmp = TMP
    if os.geteuid() != 0:
        tap.skip("root: apt-get install", "the tests run as a user")
        return
    calls = os.path.join(tmp, "apt-get-calls")
    path = path_without(tmp, {"wrk"}, {
        "apt-get": 'echo "$*" >> %s\n' % calls})
    rc, out, _ = deps("test", path)
    with open(calls) as f:
        got = f.read().splitlines()
    check("root with apt-get: apt-get update, then install of the missing "
          "package", got == ["update",
                             "install -y --no-install-recommends wrk"],
          got)
    check("and it checks again: still missing after apt-get, it says so "
          "and fails",
          rc == 1 and "still missing after apt-get install" in out and
          "  wrk: Debian package wrk" in out, (rc, out))


def main():
    global TMP
    with tempfile.TemporaryDirectory(prefix="nthpi-deps-") as TMP:
        os.chmod(TMP, 0o755)
        tap.main(test_everything_here, test_missing_programs, test_not_root,
                 test_no_pkg_config_answer, test_root_installs)


if __name__ == "__main__":
    main()
