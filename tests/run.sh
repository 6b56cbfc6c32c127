#!/bin/sh
# run.sh: runs the test programs and sums up their results.
#
# Usage: sh tests/run.sh [hygiene|unit|integration|sanitize-unit|sanitize|all]
#        (default all)
#        sh tests/run.sh NAME...   (or make test T=NAME)
#
# NAME:          one test program by its file's name, with or without
#                "test_": test_api or api runs tests/integration/test_api.py,
#                test_db runs build/tests/test_db (from tests/unit/test_db.c);
#                several names run each in turn
#
# hygiene:       tests/hygiene.py, about a second: every C file formatted as
#                .clang-format says, no .c/.h/.py/.js/.mjs file that nothing
#                builds, includes, imports, runs or loads, and WERROR=1
#                reaching every compile command
# unit:          every build/tests/test_* built from tests/unit/test_*.c
# integration:   every tests/integration/test_*.py and tests/browser/test_*.py
#                (real nginx, nthpi-fcgi and nthpi-worker; see harness.py)
# sanitize-unit: builds the unit tests with ASan and UBSan into build/asan/
#                and runs them
# sanitize:      builds the programs and unit tests with ASan and UBSan into
#                build/asan/ and runs the unit and integration tests against
#                them (about 4 minutes on 2 cores)
# all:           hygiene, unit, the fuzz smoke (make fuzz-smoke: each libFuzzer
#                target a few seconds; tests/fuzz/README.md), integration,
#                then sanitize: every test again against the ASan and UBSan
#                builds, whose reports fail the stack that logged them
#
# Each program prints "ok - name" / "not ok - name" lines, which are echoed
# and counted. A program that exits non-zero (crash, timeout) without a
# "not ok" line counts as one failure; one that prints no result at all also
# does. The output of each program goes to tests/out/NAME.log. The last line
# is "N passed, N failed"; the exit status is 1 if anything failed or nothing
# ran.
#
# The reference digits the tests compare with are in tests/data (facts kept
# in the repository; nothing outside the checkout is read).
# Environment: UNIT_TIMEOUT (default 120 s), INTEGRATION_TIMEOUT (default
# 600 s), NTHPI_BUILD (default build; the harness starts the binaries from
# there).
set -u

cd "$(dirname "$0")/.."
root=$(pwd)
what=${1:-all}
# The file a test program's name stands for, or nothing.
find_test() {
	for n in "$1" "test_$1"; do
		for f in "tests/unit/$n.c" "tests/integration/$n.py" \
		    "tests/browser/$n.py"; do
			[ -e "$f" ] && { echo "$f"; return; }
		done
	done
}

case $what in
hygiene | unit | integration | sanitize-unit | sanitize | all) ;;
*)
	for n in "$@"; do
		if [ -z "$(find_test "$n")" ]; then
			echo "tests/run.sh: no test named $n (see tests/README.md;" \
			    "the names are tests/unit/test_*.c and" \
			    "tests/integration/test_*.py without the suffix)" >&2
			exit 2
		fi
	done
	what=named
	;;
esac

out=$root/tests/out
mkdir -p "$out"
rm -f "$out"/*.log "$out"/summary.txt

NTHPI_BUILD=${NTHPI_BUILD:-build}
export NTHPI_BUILD

python=python3
if [ -x /usr/bin/python3 ]; then
	python=/usr/bin/python3
fi
# Python's own output must not lag behind the programs it starts
# (and leaves no __pycache__ in the checkout).
PYTHONUNBUFFERED=1
PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED PYTHONDONTWRITEBYTECODE

passed=0
failed=0

# Runs one test program with a time limit, echoes and saves its output, and
# adds its results to the counts.
# Usage: run_one NAME TIMEOUT COMMAND...
run_one() {
	name=$1
	limit=$2
	shift 2
	log=$out/$name.log
	echo "# $name"
	rcfile=$out/.rc
	{
		timeout -k 10 "$limit" "$@" 2>&1
		echo $? > "$rcfile"
	} | tee "$log"
	rc=$(cat "$rcfile")
	rm -f "$rcfile"
	ok=$(grep -c '^ok\( \|$\)' "$log")
	not_ok=$(grep -c '^not ok\( \|$\)' "$log")
	passed=$((passed + ok))
	failed=$((failed + not_ok))
	if [ "$rc" -ne 0 ] && [ "$not_ok" -eq 0 ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			why="timed out after $limit s"
		else
			why="exited with status $rc"
		fi
		echo "not ok - $name $why" | tee -a "$log"
		failed=$((failed + 1))
	elif [ "$rc" -eq 0 ] && [ "$ok" -eq 0 ] && [ "$not_ok" -eq 0 ]; then
		echo "not ok - $name printed no results" | tee -a "$log"
		failed=$((failed + 1))
	fi
}

# The checks of the repository itself (tests/hygiene.py). -Werror has no
# line of its own here: with WERROR=1 (.ci/run) a warning fails the builds
# that make test and this script do.
run_hygiene() {
	run_one hygiene "${UNIT_TIMEOUT:-120}" "$python" tests/hygiene.py
}

# Runs the unit test binaries built into dir from tests/unit/test_*.c. Only
# those with a source, so that a stale binary of a removed test is not run.
# Usage: run_unit DIR SUFFIX [SKIP...]
run_unit() {
	dir=$1
	suffix=$2
	shift 2
	for src in tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		t=$(basename "$src" .c)
		case " $* " in *" $t "*) continue ;; esac
		if ! [ -x "$dir/tests/$t" ]; then
			echo "not ok - $t$suffix is not built ($dir/tests/$t)"
			failed=$((failed + 1))
			continue
		fi
		run_one "$t$suffix" "${UNIT_TIMEOUT:-120}" "$dir/tests/$t"
	done
}

# Usage: run_integration [SUFFIX [SKIP...]]: every integration test but
# those named in SKIP.
run_integration() {
	suffix=${1:-}
	[ $# -gt 0 ] && shift
	for t in tests/integration/test_*.py tests/browser/test_*.py; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .py)
		case " $* " in *" $name "*) continue ;; esac
		run_one "$name$suffix" "${INTEGRATION_TIMEOUT:-600}" \
		    "$python" "$t"
	done
}

# Builds the unit tests, and with "programs" nthpi-fcgi and nthpi-worker
# too, with ASan and UBSan (any error fatal) into build/asan, and sets the
# sanitizers' options for what runs next. Returns 1 if the build failed
# (counted as a failure).
# Usage: build_sanitized [programs]
build_sanitized() {
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	bins=
	if [ "${1:-}" = programs ]; then
		bins="build/asan/nthpi-fcgi build/asan/nthpi-worker"
	fi
	for src in tests/unit/test_*.c; do
		[ -e "$src" ] && bins="$bins build/asan/tests/$(basename "$src" .c)"
	done
	if ! make -s -j"$(nproc 2>/dev/null || echo 2)" BUILD=build/asan \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer $san" \
	    LDFLAGS="$san" $bins > "$out/sanitize-build.log" 2>&1; then
		cat "$out/sanitize-build.log"
		echo "not ok - sanitizer build"
		failed=$((failed + 1))
		return 1
	fi
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export ASAN_OPTIONS UBSAN_OPTIONS
	return 0
}

# Builds the fuzz targets and runs each for a few seconds from the checked-in
# corpus (which it leaves as it is); one ok / not ok line per target.
run_fuzz_smoke() {
	run_one fuzz-smoke "${FUZZ_TIMEOUT:-900}" \
	    make -s -j"$(nproc 2>/dev/null || echo 2)" fuzz-smoke
}

# The unit tests alone under ASan and UBSan.
run_sanitize_unit() {
	# shellcheck disable=SC2086
	build_sanitized && run_unit build/asan " (asan)" $SANITIZE_SKIP
}

# The sanitizer pass of "all": the unit tests and the programs built with
# ASan and UBSan, then the unit and integration tests against those builds.
# The harness fails a stack whose logs show a sanitizer report.
#
# It skips what adds no sanitizer coverage to the time make test has (20
# minutes on 2 cores): test_reference_data computes with MPFR in the test
# itself, test_pi_mpfr likewise, test_browser drives the same requests as
# test_api and test_tasks_html from a browser, test_progress times how a
# bar moves through a 20 s computation (85 s under ASan) whose code
# test_digits runs too; and it runs the scale tests
# smaller (500 held polls, 40 simultaneous starts), since under ASan the
# programs are several times slower and the plain pass has run them whole.
SANITIZE_SKIP="test_reference_data test_pi_mpfr test_browser test_progress"
run_sanitize() {
	build_sanitized programs || return
	# shellcheck disable=SC2086
	run_unit build/asan " (asan)" $SANITIZE_SKIP
	NTHPI_BUILD=build/asan
	NTHPI_LIVE_POLLS=${NTHPI_LIVE_POLLS:-500}
	NTHPI_DB_STARTUP_ROUNDS=${NTHPI_DB_STARTUP_ROUNDS:-40}
	export NTHPI_LIVE_POLLS NTHPI_DB_STARTUP_ROUNDS
	# shellcheck disable=SC2086
	run_integration " (asan)" $SANITIZE_SKIP
}

# Runs the test programs named on the command line.
run_named() {
	for n in "$@"; do
		f=$(find_test "$n")
		t=$(basename "$f")
		t=${t%.*}
		case $f in
		*.c) run_one "$t" "${UNIT_TIMEOUT:-120}" "$NTHPI_BUILD/tests/$t" ;;
		*) run_one "$t" "${INTEGRATION_TIMEOUT:-600}" "$python" "$f" ;;
		esac
	done
}

case $what in
named) run_named "$@" ;;
hygiene) run_hygiene ;;
unit) run_unit "$NTHPI_BUILD" "" ;;
integration) run_integration ;;
sanitize-unit) run_sanitize_unit ;;
sanitize) run_sanitize ;;
all)
	run_hygiene
	run_unit "$NTHPI_BUILD" ""
	run_fuzz_smoke
	run_integration
	run_sanitize
	;;
esac

summary="$passed passed, $failed failed"
echo "$summary" > "$out/summary.txt"
echo "$summary"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
	exit 1
fi
exit 0
