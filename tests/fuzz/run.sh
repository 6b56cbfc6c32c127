#!/bin/sh
# run.sh: runs the libFuzzer targets, briefly as a test or at length.
#
# Usage: sh tests/fuzz/run.sh smoke|long DIR SECONDS
#
# DIR holds the built targets (DIR/fuzz_NAME, from tests/fuzz/fuzz_NAME.c;
# `make fuzz-build`). Each runs for SECONDS, seeded from tests/fuzz/corpus/NAME
# with tests/fuzz/NAME.dict if there is one.
#
# smoke: also replays tests/fuzz/crashes/NAME (fixed crashes kept as
#        regression seeds). New inputs go to a temp dir that is then removed,
#        so the checked-in corpus never changes. Prints one
#        "ok - fuzz NAME: N runs, no crash" or "not ok - fuzz NAME: ..." line
#        per target; a failure's log and input are kept in tests/out/fuzz/.
# long:  new inputs are kept in DIR/corpus/NAME for the next run; a crashing
#        input is saved in tests/fuzz/crashes/NAME/, logs in DIR/logs/.
#        Prints the same lines with runs per second and libFuzzer's
#        coverage, then a summary.
#
# The exit status is 1 if a target crashed, broke an invariant or did not run.
set -u

mode=${1:-}
dir=${2:-}
secs=${3:-}
case $mode in
smoke | long) ;;
*) echo "usage: tests/fuzz/run.sh smoke|long DIR SECONDS" >&2; exit 2 ;;
esac
case $secs in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
root=$(pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# A smoke run logs into its temp dir, as `make test` may run twice at once in
# one checkout, and copies only a failure's log and input to keep.
if [ "$mode" = smoke ]; then
	out=$tmp/logs
	keep=tests/out/fuzz
else
	out=$dir/logs
	keep=$out
fi
rm -rf "$out"
mkdir -p "$out" "$keep"

# A leak is a failure too; UBSan's reports are fatal (-fno-sanitize-recover)
# and need a stack to be of use.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# Longest input tried: past the limit each parser enforces, so the
# "too long" answers are fuzzed too.
max_len() {
	case $1 in
	nparse) echo 128 ;;
	path | query) echo 4200 ;;
	*) echo 8192 ;;
	esac
}

# The value of libFuzzer's final statistic $2 in log $1, or "?".
stat() {
	v=$(sed -n "s/^stat::$2: *//p" "$1" | tail -n 1)
	echo "${v:-?}"
}

total=0
bad=0
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	bin=$dir/fuzz_$name
	log=$out/$name.log
	total=$((total + 1))
	if ! [ -x "$bin" ]; then
		echo "not ok - fuzz $name: not built ($bin)"
		bad=$((bad + 1))
		continue
	fi
	seeds=
	for d in tests/fuzz/corpus/$name tests/fuzz/crashes/$name; do
		[ -d "$d" ] || continue
		[ "$mode" = long ] && [ "$d" = "tests/fuzz/crashes/$name" ] &&
		    continue
		seeds="$seeds $d"
	done
	if [ "$mode" = smoke ]; then
		work=$tmp/$name
		artifacts=$tmp/$name-
	else
		work=$dir/corpus/$name
		artifacts=tests/fuzz/crashes/$name/
		mkdir -p "tests/fuzz/crashes/$name"
	fi
	mkdir -p "$work"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
	# libFuzzer writes what it finds into the first directory only.
	# shellcheck disable=SC2086
	timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
	    -print_final_stats=1 -artifact_prefix="$artifacts" $dict \
	    "$work" $seeds > "$log" 2>&1
	rc=$?
	runs=$(stat "$log" number_of_executed_units)
	speed=$(stat "$log" average_exec_per_sec)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 |
	    sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
	inputs=$(find "$work" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ "$runs" != "?" ]; then
		if [ "$mode" = smoke ]; then
			echo "ok - fuzz $name: $runs runs, no crash"
		else
			echo "ok - fuzz $name: $runs runs ($speed/s), ${cov:-cov ?}, $inputs inputs in $work, no crash"
		fi
		continue
	fi
	bad=$((bad + 1))
	unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	if [ "$mode" = smoke ]; then
		cp "$log" "$keep/" 2>/dev/null && log=$keep/$name.log
		[ -n "$unit" ] && cp "$unit" "$keep/" 2>/dev/null &&
		    unit=$keep/$(basename "$unit")
	fi
	what=$(grep -m 1 -E 'invariant broken|^SUMMARY:|ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error' "$log")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		what="did not stop within $((secs + 120)) s"
	fi
	# printf: dash's echo would turn a "\0" in the message into a NUL.
	printf 'not ok - fuzz %s: %s\n' "$name" "${what:-exit status $rc}"
	printf '# input: %s; log: %s\n' "${unit:-none saved}" "$log"
	# The stack from the first frame of nthpi's own code on.
	grep -E '^ +#[0-9]+ ' "$log" |
	    grep -v -E 'fuzzer::|__sanitizer|libc\.so|ref_fail|/sanitizer_common/|in (main|_start|__libc_start)' |
	    head -n 6 | sed 's/^ */# /'
done

if [ "$mode" = long ]; then
	echo "fuzz: $total targets for $secs s each, $bad failed"
fi
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
