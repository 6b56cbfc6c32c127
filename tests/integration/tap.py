"""tap.py: prints test results as "ok - name" / "not ok - name" lines.

    import tap
    tap.check("digit of n=5 is 9", digit == "9", f"got {digit!r}")
    tap.diag("render_1000_ms=12.3")
    tap.main(run)        # runs run(), turns an exception into "not ok",
                         # and exits 1 if any check failed

Names should be unique within a program and say what behaviour is checked.
"""

import sys
import traceback

passed = 0
failed = 0


def diag(text):
    """Prints text as "# " lines (diagnostics, not results)."""
    for line in str(text).splitlines() or [""]:
        print("# " + line, flush=True)


def check(name, cond, detail=None):
    """Prints the result of one check; detail is printed when it fails.
    Returns cond as a bool, so that a test can stop when a premise fails."""
    global passed, failed
    name = " ".join(str(name).split())
    if cond:
        passed += 1
        print("ok - " + name, flush=True)
    else:
        failed += 1
        print("not ok - " + name, flush=True)
        if detail is not None:
            diag(detail)
    return bool(cond)


def skip(name, why):
    """Prints a check that could not run here, counted as passed."""
    global passed
    passed += 1
    print("ok - %s # SKIP %s" % (" ".join(str(name).split()), why), flush=True)


def main(*fns):
    """Runs each function in turn. An exception in one prints a "not ok"
    line with the traceback and moves on to the next. Exits 1 if any check
    failed."""
    for fn in fns:
        try:
            fn()
        except Exception:  # report and go on: one bug, one failure
            check("%s ran to the end" % fn.__name__, False,
                  traceback.format_exc())
    diag("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
