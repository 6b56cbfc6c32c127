"""test_install.py: `make install DESTDIR=... PREFIX=/usr` puts every part
where the units, nginx.conf and the man pages say it is, and systemd
accepts the units (systemd-analyze verify, and security exposure at most
2.0 for both services)."""

import filecmp
import os
import re
import shutil
import subprocess
import tempfile

import tap
from harness import REPO

check = tap.check
PREFIX = "/usr"
BINDIR = PREFIX + "/bin"
SHAREDIR = PREFIX + "/share/nthpi"
UNITDIR = PREFIX + "/lib/systemd/system"
MANDIR = PREFIX + "/share/man"
PROGRAMS = ("nthpi-fcgi", "nthpi-worker")
SERVICES = ("nthpi-fcgi.service", "nthpi-worker.service")


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


def test_files(dest):
    for prog in PROGRAMS:
        path = dest + BINDIR + "/" + prog
        check("%s/%s is installed executable" % (BINDIR, prog),
              os.access(path, os.X_OK) and
              os.stat(path).st_mode & 0o777 == 0o755,
              oct(os.stat(path).st_mode) if os.path.exists(path) else
              "missing")
        r = run([path, "--help"], timeout=10) if os.path.exists(path) \
            else None
        check("%s --help answers with its usage and exits 0" % prog,
              r is not None and r.returncode == 0 and "usage" in
              r.stdout.lower() and "--key=value" in r.stdout,
              r and (r.returncode, r.stdout[:300]))
    src = os.path.join(REPO, "htdocs")
    want = sorted(os.listdir(src))
    got = dest + SHAREDIR + "/htdocs"
    have = sorted(os.listdir(got)) if os.path.isdir(got) else []
    check("htdocs is installed whole into %s/htdocs" % SHAREDIR,
          have == want and all(filecmp.cmp(os.path.join(src, f),
                                           os.path.join(got, f), False)
                               for f in want), (want, have))
    path = dest + SHAREDIR + "/sql/schema.sql"
    check("sql/schema.sql is installed as %s/sql/schema.sql" % SHAREDIR,
          os.path.exists(path) and filecmp.cmp(
              os.path.join(REPO, "sql", "schema.sql"), path, False))
    check("nginx.conf is installed as %s/nginx.conf" % SHAREDIR,
          os.path.exists(dest + SHAREDIR + "/nginx.conf"))
    migrations = [f for f in os.listdir(os.path.join(REPO, "sql",
                                                     "migrations"))
                  if f.endswith(".sql")] if os.path.isdir(
        os.path.join(REPO, "sql", "migrations")) else []
    inst = dest + SHAREDIR + "/sql/migrations"
    check("the %d migrations are installed" % len(migrations),
          all(os.path.exists(os.path.join(inst, f)) for f in migrations))

    conf = dest + SHAREDIR + "/nginx.conf"
    if os.path.exists(conf):
        with open(conf) as f:
            text = f.read()
        roots = re.findall(r"^\s*root\s+([^;]+);", text, re.M)
        check("the installed nginx.conf serves the installed htdocs "
              "(root %s/htdocs)" % SHAREDIR,
              roots == [SHAREDIR + "/htdocs"],
              "root is %r, but make install PREFIX=%s put htdocs in "
              "%s/htdocs" % (roots, PREFIX, SHAREDIR))

    units = sorted(os.listdir(os.path.join(REPO, "systemd")))
    for u in units:
        path = dest + UNITDIR + "/" + u
        if not check("systemd/%s is installed into %s" % (u, UNITDIR),
                     os.path.exists(path)):
            continue
        with open(path) as f:
            text = f.read()
        left = re.findall(r"@[A-Z_]+@", text)
        execs = re.findall(r"^Exec\w*=[-@:+!]*(\S+)", text, re.M)
        check("%s: no @...@ left, and every Exec names a program installed "
              "in %s" % (u, BINDIR), not left and all(
                  e.startswith(BINDIR + "/") and
                  os.access(dest + e, os.X_OK) for e in execs),
              (left, execs))

    man8 = dest + MANDIR + "/man8"
    pages = sorted(os.listdir(man8)) if os.path.isdir(man8) else []
    tap.diag("man pages installed: %s" % pages)
    for page in pages:
        r = run(["groff", "-t", "-mandoc", "-Tutf8", "-ww", "-z",
                 os.path.join(man8, page)]) if shutil.which("groff") \
            else None
        if r is None:
            tap.skip("man8/%s renders without warnings" % page, "no groff")
        else:
            check("man8/%s renders without warnings" % page,
                  r.returncode == 0 and not r.stdout.strip(), r.stdout)
    for prog in PROGRAMS:
        check("%s has a man page (%s/man8/%s.8)" % (prog, MANDIR, prog),
              prog + ".8" in pages, pages)


def verify_root(dest):
    """A root for systemd-analyze: the installed files, plus the host's
    own units (sysinit.target and the rest the units depend on)."""
    root = tempfile.mkdtemp(prefix="nthpi-root-")
    os.makedirs(root + "/usr/lib/systemd")
    shutil.copytree("/usr/lib/systemd/system",
                    root + "/usr/lib/systemd/system", symlinks=True)
    shutil.copytree(dest + PREFIX, root + PREFIX, symlinks=True,
                    dirs_exist_ok=True)
    return root


def test_systemd(dest):
    tool = shutil.which("systemd-analyze")
    names = ["verify: the installed units pass systemd-analyze verify"] + [
        "security: %s exposure is at most 2.0" % u for u in SERVICES]
    if not tool:
        for n in names:
            tap.skip(n, "systemd-analyze is not installed (apt package "
                     "systemd)")
        return
    if not os.path.isdir("/usr/lib/systemd/system"):
        for n in names:
            tap.skip(n, "no /usr/lib/systemd/system to verify against")
        return
    root = verify_root(dest)
    try:
        units = [root + UNITDIR + "/" + u
                 for u in sorted(os.listdir(os.path.join(REPO, "systemd")))]
        # Documentation=man:... is looked up with man(1): point it at the
        # installed pages.
        env = dict(os.environ, MANPATH=dest + MANDIR,
                   SYSTEMD_LOG_LEVEL="notice")
        r = run([tool, "verify", "--root=" + root] + units, env=env,
                timeout=60)
        out = r.stdout.strip()
        tap.diag("systemd-analyze verify --root=ROOT %s: status %d%s" % (
            " ".join(os.path.basename(u) for u in units), r.returncode,
            "\n" + out if out else ", no output"))
        if r.returncode != 0 and re.search(
                r"(?i)unrecognized option|unknown option|failed to "
                r"connect|not booted|no such file or directory: .*/proc",
                out) and "nthpi" not in out:
            tap.skip(names[0], "systemd-analyze cannot run here: " +
                     out.splitlines()[0])
        else:
            check(names[0], r.returncode == 0 and not out, out)
        for u, name in zip(SERVICES, names[1:]):
            r = run([tool, "security", "--offline=true", "--root=" + root,
                     root + UNITDIR + "/" + u], env=env, timeout=60)
            m = re.search(r"Overall exposure level for \S+: ([\d.]+)",
                          r.stdout)
            if m is None and re.search(r"(?i)unrecognized option|unknown "
                                       r"option|offline", r.stdout):
                tap.skip(name, "systemd-analyze security --offline is not "
                         "supported: " + r.stdout.strip().splitlines()[0])
                continue
            level = float(m.group(1)) if m else None
            tap.diag("systemd-analyze security --offline=true %s: exposure "
                     "%s" % (u, level))
            check(name, level is not None and level <= 2.0,
                  r.stdout[-2000:])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    dest = tempfile.mkdtemp(prefix="nthpi-install-")
    try:
        r = run(["make", "-s", "-C", REPO, "install", "DESTDIR=" + dest,
                 "PREFIX=" + PREFIX], timeout=600)
        if not check("make install DESTDIR=%s PREFIX=%s succeeds" % (
                "TMP", PREFIX), r.returncode == 0, r.stdout[-3000:]):
            return
        found = sorted(os.path.relpath(os.path.join(d, f), dest)
                       for d, _, fs in os.walk(dest) for f in fs)
        tap.diag("installed: " + ", ".join(found))
        outside = [f for f in found if not ("/" + f).startswith(PREFIX +
                                                                "/")]
        check("make install puts everything under DESTDIR%s" % PREFIX,
              not outside, outside)
        test_files(dest)
        test_systemd(dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    tap.main(main)
