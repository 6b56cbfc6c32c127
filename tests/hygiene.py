#!/usr/bin/env python3
"""hygiene.py: checks of the repository itself, which CI must fail on.

    python3 tests/hygiene.py        (tests/run.sh runs it first; ~1 s)

format   every C file of the project (scripts/ls-files.sh '*.c' '*.h':
         those git tracks) is as `clang-format --dry-run --Werror` with the
         repository's .clang-format leaves it; `make format` fixes one
         that is not.
orphans  every .c, .h, .py, .js and .mjs file is built, included, imported,
         run or loaded by something (the rules are above find_orphans); a
         planted orphan of each kind is found, and planted files that are
         wired in are not.
bounds   each folder's code includes only what its folder may see
         (BOUNDS below, the map of docs/design.md): every #include "x"
         of a file in common/, cgi-bin/, worker/ or worker/pi/ is found
         beside it or in an allowed folder, with no "..", the engine's
         only through pi.h, and make
         compiles each of its .c files with exactly the allowed -I
         flags; planted crossings are found.
werror   with WERROR=1 (.ci/run sets it) every compile command of
         `make all fuzz-build` has -Werror, also with CFLAGS set as
         tests/run.sh's ASan build sets them; without it, none has. This
         only checks the plumbing: the warnings themselves fail CI in the
         builds make test does (the programs and unit tests, the ASan
         build, the fuzz targets), which stop at the first one.

Files come from scripts/ls-files.sh, so a copy without git is checked by
what find sees there. Prints one ok / not ok line per check, the offending
files in the "# " lines below a failure.
"""

import ast
import fnmatch
import functools
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import tap  # noqa: E402

check = tap.check
KINDS = ("*.c", "*.h", "*.py", "*.js", "*.mjs")


def ls_files(*patterns):
    """The project's files matching the name patterns, from the root."""
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "ls-files.sh")]
                       + list(patterns), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=True)
    return r.stdout.splitlines()


def read(path):
    """The text of a file, by its path from the root."""
    with open(os.path.join(ROOT, path), encoding="utf-8",
              errors="replace") as f:
        return f.read()


def show(lines, most=20):
    """The first lines of a list for a diagnostic, and how many more."""
    lines = list(lines)
    more = len(lines) - most
    return "\n".join(lines[:most] + (["... and %d more" % more]
                                     if more > 0 else []))


@functools.lru_cache(maxsize=None)
def make_dry_run(werror, cflags=None):
    """The compile commands (split into words) that `make -n -B all
    fuzz-build` prints into a temp build directory, with or without
    WERROR=1 in the environment as .ci/run sets it, and CFLAGS=cflags on
    the command line if given. What the calling make or the environment
    set (MAKEFLAGS, WERROR, CFLAGS...) is left out."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "WERROR",
                        "BUILD", "CFLAGS", "LDFLAGS", "WARN")}
    if werror:
        env["WERROR"] = "1"
    with tempfile.TemporaryDirectory(prefix="nthpi-hygiene-") as tmp:
        argv = ["make", "-n", "-B", "BUILD=" + tmp]
        if cflags is not None:
            argv.append("CFLAGS=" + cflags)
        r = subprocess.run(argv + ["all", "fuzz-build"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    if r.returncode != 0:
        raise RuntimeError("make -n all fuzz-build failed:\n" + r.stderr)
    # A recipe line continued with a backslash is one command.
    commands = [shlex.split(line) for line in
                r.stdout.replace("\\\n", " ").splitlines()]
    return [c for c in commands if "-c" in c]


# ---- format ---------------------------------------------------------------

def test_format():
    files = ls_files("*.c", "*.h")
    name = ("every C file (%d) is formatted as .clang-format says" %
            len(files))
    if not shutil.which("clang-format"):
        check(name, False, "clang-format is not installed "
              "(sh scripts/deps.sh test installs it)")
        return
    r = subprocess.run(["clang-format", "--dry-run", "--Werror",
                        "--style=file:" + os.path.join(ROOT, ".clang-format")]
                       + files, cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    bad = sorted(set(re.findall(r"^(\S+?):\d+:\d+: (?:error|warning)",
                                r.stdout, re.M)))
    check(name, r.returncode == 0 and files,
          "not formatted (make format fixes them):\n" + show(bad) +
          "\n" + show(r.stdout.splitlines(), 12) if bad else
          "clang-format exited %d:\n%s" % (r.returncode, r.stdout))


# ---- orphans --------------------------------------------------------------
#
# A .c, .h, .py, .js or .mjs file is used if it is a root, or if a used file
# refers to it; every other one is an orphan, which fails the check.
#
# Roots:
#   - the .c files make compiles (`make -n -B all fuzz-build`);
#   - the files the shell scripts (*.sh: the runners of the build, the
#     tests and the benchmarks) name by their path from the root, a glob
#     standing for several (tests/integration/test_*.py,
#     bench/peer_mpfr.c), outside comments.
# References of a used file:
#   - C: #include "x.h", looked up beside the file, then in the -I
#     directories of make's compile commands;
#   - Python: import x / from x import, x.py beside the file, else any x.py
#     of the project (the benchmarks import the tests' harness);
#   - C, Python and JavaScript: a string literal that has the file's name
#     as a word (not part of a longer name): "<script src=\"/app.js\">" in
#     a page, "./tap.mjs" in an import, "tests/browser/live_pages.mjs" in
#     the test that runs it.
# Comments (and Python's docstrings) do not count. A file is known by its
# name, so an orphan that shares its name with a used file goes unseen; and
# every script counts as a runner, used or not.

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.M)
# Comments and literals, leftmost first, so that a quote inside a comment
# or a "//" inside a string is not taken for what it is not.
C_TOKENS = re.compile(r'//[^\n]*|/\*.*?\*/|"((?:\\.|[^"\\\n])*)"'
                      r"|'(?:\\.|[^'\\\n])*'", re.S)
JS_TOKENS = re.compile(r'//[^\n]*|/\*.*?\*/|"((?:\\.|[^"\\\n])*)"'
                       r"|'((?:\\.|[^'\\\n])*)'|`((?:\\.|[^`\\])*)`", re.S)
NAME = re.compile(r"[\w.-]+")
SH_COMMENT = re.compile(r"(^|\s)#.*$")
SH_WORD = re.compile(r"[\w.*?\[\]/-]+")


def literals(pattern, text):
    """The string literals of C or JavaScript text."""
    out = []
    for m in pattern.finditer(text):
        out.extend(g for g in m.groups() if g is not None)
    return out


def path_matches(word, path):
    """Whether a script's word (a path from the root, maybe a glob) names
    path: as many parts, each matching (a "*" does not cross a "/")."""
    w, p = word.split("/"), path.split("/")
    return len(w) == len(p) and all(fnmatch.fnmatchcase(a, b)
                                    for a, b in zip(p, w))


def script_words(text):
    """The words of a shell script that may be paths, comments left out."""
    words = []
    for line in text.splitlines():
        for w in SH_WORD.findall(SH_COMMENT.sub("", line)):
            w = w.lstrip("/")
            while w.startswith("./"):
                w = w[2:]
            if "/" in w:
                words.append(w)
    return words


def find_orphans(files, text_of, compiled, include_dirs, scripts):
    """files: the paths to check; text_of(path): a file's text; compiled:
    the .c files make compiles; include_dirs: its -I directories; scripts:
    the shell scripts' texts. Returns (orphans, problems): sorted paths, and
    sentences about files that could not be read."""
    known = set(files)
    by_name = {}
    for f in files:
        by_name.setdefault(posixpath.basename(f), []).append(f)
    problems = []

    def named(strings):
        return [f for s in strings for w in NAME.findall(s)
                for f in by_name.get(w, [])]

    def refs(path):
        text = text_of(path)
        here = posixpath.dirname(path)
        ext = path.rsplit(".", 1)[-1]
        if ext in ("c", "h"):
            out = []
            for inc in INCLUDE.findall(text):
                for d in [here] + include_dirs:
                    p = posixpath.normpath(posixpath.join(d, inc))
                    if p in known:
                        out.append(p)
                        break
            return out + named(literals(C_TOKENS, INCLUDE.sub("", text)))
        if ext in ("js", "mjs"):
            return named(literals(JS_TOKENS, text))
        try:
            tree = ast.parse(text, path)
        except SyntaxError as e:
            problems.append("%s: not Python: %s" % (path, e))
            return []
        out, strings = [], []
        # A docstring, or any string standing alone, is a comment.
        alone = {id(n.value) for n in ast.walk(tree)
                 if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module]
            elif isinstance(node, ast.Constant) and \
                    isinstance(node.value, str) and id(node) not in alone:
                strings.append(node.value)
            for m in mods:
                m = m.split(".")[0] + ".py"
                beside = posixpath.join(here, m)
                out.extend([beside] if beside in known else
                           by_name.get(m, []))
        return out + named(strings)

    todo = [f for f in compiled if f in known]
    for text in scripts:
        for w in script_words(text):
            todo.extend(f for f in files if path_matches(w, f))
    used = set()
    while todo:
        f = todo.pop()
        if f in used:
            continue
        used.add(f)
        todo.extend(refs(f))
    return sorted(known - used), problems


def orphans_of_tree(planted=None):
    """find_orphans on the project, with planted files {path: text} added
    (or in place of a file's own text)."""
    planted = planted or {}
    files = sorted(set(ls_files(*KINDS)) | set(planted))
    commands = make_dry_run(False)
    compiled = {w for c in commands for w in c if w.endswith(".c")}
    include_dirs = sorted({w[2:] for c in commands for w in c
                           if w.startswith("-I") and len(w) > 2})
    scripts = [read(s) for s in ls_files("*.sh")]

    def text_of(path):
        return planted[path] if path in planted else read(path)

    return find_orphans(files, text_of, compiled, include_dirs, scripts)


def test_orphans():
    files = ls_files(*KINDS)
    orphans, problems = orphans_of_tree()
    check("every .c, .h, .py, .js and .mjs file (%d) is built, included, "
          "imported, run or loaded" % len(files),
          files and not orphans and not problems,
          "nobody builds, includes, imports, runs or loads these "
          "(tests/hygiene.py says what counts):\n" +
          show(orphans + problems))

    # Planted files: orphans of each kind, some referred to only by an
    # orphan; and used ones, each wired in by another rule.
    buf = "common/buf.c"
    plant_orphans = {
        "bench/planted.c": '#include "planted_only.h"\nint planted;\n',
        "bench/planted_only.h": "",
        "cgi-bin/planted.h": "/* cgi-bin/planted.h */\n",
        "tests/integration/planted.py": "import planted_too\n",
        "tests/integration/planted_too.py": "",
        "htdocs/planted.js": "",
        "tests/browser/planted.mjs": 'import "./planted_too.mjs";\n',
        "tests/browser/planted_too.mjs": "",
    }
    plant_used = {
        # tests/run.sh runs tests/integration/test_*.py. The comments and
        # the docstring below name orphans: that does not make them used.
        "tests/integration/test_planted.py":
            '"""Not planted.py."""\nimport planted_used\n'
            "run(['node', 'tests/browser/planted_used.mjs'])  # planted.py\n",
        "tests/integration/planted_used.py": "",
        "tests/browser/planted_used.mjs":
            "// planted.mjs\nimport { a } from './planted_used_too.mjs';\n",
        "tests/browser/planted_used_too.mjs": "",
        buf: read(buf) + '\n#include "planted_used.h"\n/* "planted.h" */\n'
             'const char *planted = "<script src=\\"/planted_used.js\\">";\n',
        "common/planted_used.h": "",
        "htdocs/planted_used.js": "",
    }
    # This file's own strings name the planted files: here it says nothing.
    plant_used["tests/hygiene.py"] = ""
    got, _ = orphans_of_tree(dict(plant_orphans, **plant_used))
    got = set(got) - set(orphans)
    check("the orphan check finds a planted orphan of each kind, and passes "
          "planted files that are wired in",
          got == set(plant_orphans),
          "missed: %s; wrongly found: %s" % (
              sorted(set(plant_orphans) - got),
              sorted(got - set(plant_orphans))))


# ---- bounds ---------------------------------------------------------------
#
# The folders and what each may include, as the Makefile's INC_* say:
# common/ sees itself; cgi-bin/ sees common/; worker/ sees common/ and
# worker/pi/; worker/pi/ (the engine, GMP alone) sees only itself.

BOUNDS = {
    "common": ["common"],
    "cgi-bin": ["cgi-bin", "common"],
    "worker": ["worker", "worker/pi", "common"],
    "worker/pi": ["worker/pi"],
}
# A folder seen from outside through these headers alone: the engine's
# API is pi.h; its other headers are its own.
PUBLIC = {"worker/pi": ["pi.h"]}
# Where a project header may live: a folder of BOUNDS, or one of these.
HEADER_DIRS = sorted(BOUNDS) + ["tests/unit", "tests/fuzz"]


def include_crossings(files, text_of):
    """The #include "x" lines of files (paths in BOUNDS' folders) that
    reach outside what their folder may see: a ".." in the name, or a
    project header not beside the file nor in an allowed folder. Returns
    sorted "path: #include "x"" strings."""
    known = set(files)
    out = []
    for path in files:
        here = posixpath.dirname(path)
        if here not in BOUNDS:
            continue
        for inc in INCLUDE.findall(text_of(path)):
            seen = [posixpath.normpath(posixpath.join(d, inc))
                    for d in [here] + BOUNDS[here]]
            elsewhere = [posixpath.normpath(posixpath.join(d, inc))
                         for d in HEADER_DIRS]
            found = [p for p in seen if p in known][:1]
            private = [p for p in found
                       if posixpath.dirname(p) in PUBLIC and
                       posixpath.dirname(p) != here and
                       posixpath.basename(p) not in
                       PUBLIC[posixpath.dirname(p)]]
            if ".." in inc.split("/") or private or (
                    not found and any(p in known for p in elsewhere)):
                out.append('%s: #include "%s"' % (path, inc))
    return sorted(out)


def compile_flag_crossings(commands):
    """The compile commands of a .c file in a BOUNDS folder whose -I
    flags (the project's own) are not exactly its folder's."""
    out = []
    for c in commands:
        srcs = [w for w in c if w.endswith(".c")]
        if len(srcs) != 1 or "fuzz" in " ".join(c):
            continue
        here = posixpath.dirname(srcs[0])
        if here not in BOUNDS:
            continue
        dirs = [w[2:] for w in c if w.startswith("-I") and
                os.path.isdir(os.path.join(ROOT, w[2:]))]
        if sorted(dirs) != sorted(BOUNDS[here]):
            out.append("%s: -I %s (may: %s)" % (
                srcs[0], " ".join(dirs), " ".join(BOUNDS[here])))
    return out


def test_bounds():
    files = ls_files("*.c", "*.h")
    crossings = include_crossings(files, read)
    check("every #include of common/, cgi-bin/, worker/ and worker/pi/ "
          "stays inside what its folder may see", not crossings,
          "these cross a folder's bounds (docs/design.md, the map):\n" +
          show(crossings))
    commands = make_dry_run(False)
    flags = compile_flag_crossings(commands)
    check("make compiles each of those folders' files with its own -I "
          "flags alone", commands and not flags, show(flags))

    planted = {
        "common/planted.c": '#include "route.h"\n',
        "worker/pi/planted.c": '#include "log.h"\n#include "pi.h"\n',
        "cgi-bin/planted.c": '#include "../worker/queue.h"\n',
        "worker/planted.c": '#include "pi.h"\n#include "buf.h"\n',
        "worker/planted2.c": '#include "pi_ctl.h"\n',
    }
    got = include_crossings(sorted(set(files) | set(planted)),
                            lambda p: planted.get(p) or read(p))
    want = ['cgi-bin/planted.c: #include "../worker/queue.h"',
            'common/planted.c: #include "route.h"',
            'worker/pi/planted.c: #include "log.h"',
            'worker/planted2.c: #include "pi_ctl.h"']
    check("the bounds check finds a planted crossing of each kind and "
          "passes allowed includes", got == want, got)
    bad = [["cc", "-Icommon", "-Icgi-bin", "-c", "common/planted.c"],
           ["cc", "-Iworker/pi", "-Icommon", "-c", "worker/pi/planted.c"],
           ["cc", "-Iworker", "-Iworker/pi", "-Icommon", "-c",
            "worker/planted.c"]]
    got = compile_flag_crossings(bad)
    check("the bounds check finds planted -I flags a folder may not have",
          len(got) == 2 and "worker/planted.c" not in " ".join(got), got)


# ---- werror ---------------------------------------------------------------

def test_werror():
    commands = make_dry_run(True, "-O1 -g -fno-omit-frame-pointer "
                            "-fsanitize=address,undefined")
    missing = [" ".join(c) for c in commands if "-Werror" not in c]
    check("WERROR=1: each of the %d compile commands of make all fuzz-build "
          "has -Werror, also with CFLAGS set as the ASan build sets them" %
          len(commands), commands and not missing, show(missing))
    commands = make_dry_run(False)
    having = [" ".join(c) for c in commands if "-Werror" in c]
    check("a plain make compiles without -Werror", commands and not having,
          show(having))


if __name__ == "__main__":
    tap.main(test_format, test_orphans, test_bounds, test_werror)
