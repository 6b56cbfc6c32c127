#!/bin/sh
# run.sh: the `make bench` driver: runs each benchmark section, prints its
# figures under a header, and ends with a summary table of all of them.
#
# Usage: sh bench/run.sh [SECTION...]     (after `make all`)
#        BENCH_BIG=1 sh bench/run.sh      the engine also at 10^8 decimals
#
# Sections: longpoll (1,000, then 20,000 held long polls, one change;
# bare Nchan beside; memory and idle CPU of 20,000 held), api (GET
# /api/tasks requests/s against a hello-world libfcgi program), covered
# (done-latency of tasks the digit store covers), store (bench/store_check.c:
# what the digit store's check costs at 10^8 decimals, checked reads beside
# unchecked ones), search (bench/search.py, bench/search_build.c: the
# search index at 10^8 decimals, its build against the engine's time,
# queries through nginx against a memmem scan, the main page meanwhile)
# and engine (bench/engine.sh: the pi engine against Arb and
# MPFR). Figures are ratios against a peer run
# in the same run wherever there is one: the machines are noisy. Everything
# runs on 127.0.0.1 only. See bench/README.md for how to read them.
#
# Installs wrk and python3 with apt-get when missing (as root). Exits 1 if
# a section could not run; a target that is not met is reported, not an
# error. Environment: NTHPI_BUILD (default build), BENCH_BIG.
set -u

cd "$(dirname "$0")/.." || exit 1
build=${NTHPI_BUILD:-build}
sections=${*:-longpoll api covered store search engine}

# Installs a Debian package for a missing command, if we may.
need() { # COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: $1 is missing: apt-get install $2" >&2
		return 1
	fi
	echo "bench: installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "$2" >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null &&
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	          --no-install-recommends "$2" >/dev/null; }
}
need python3 python3
need wrk wrk

# A directory of our own for the stacks' temp dirs (the harness uses
# $TMPDIR), reachable by nginx's workers when they run as nobody.
work=$(mktemp -d /tmp/nthpi-bench.XXXXXX) || exit 1
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
export TMPDIR="$work"
export BENCH_SUMMARY="$work/summary.tsv"
: >"$BENCH_SUMMARY"

# The two C programs of the web sections.
warn="-std=c11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes"
mkdir -p "$build/bench"
built=1
# shellcheck disable=SC2086
cc -O2 -g $warn -D_GNU_SOURCE -o "$build/bench/longpoll" bench/longpoll.c ||
    built=0
# shellcheck disable=SC2086,SC2046
cc -O2 -g $warn -D_GNU_SOURCE $(pkg-config --cflags fcgi 2>/dev/null) \
    -pthread -o "$build/bench/hello_fcgi" bench/hello_fcgi.c \
    $(pkg-config --libs fcgi 2>/dev/null || echo -lfcgi) || built=0
if [ "$built" -eq 0 ]; then
	echo "bench: building bench/longpoll.c or bench/hello_fcgi.c failed" >&2
fi
# The store section's program, on the digit store's code as make built it.
store_built=1
# shellcheck disable=SC2086
cc -O2 -g $warn -D_GNU_SOURCE -Icommon -pthread -o "$build/bench/store_check" \
    bench/store_check.c "$build/libcommon.a" || store_built=0
# The search section's program, on the index code as make built it.
search_built=1
# shellcheck disable=SC2086
cc -O2 -g $warn -D_GNU_SOURCE -Icommon -pthread -o "$build/bench/search_build" \
    bench/search_build.c "$build/libcommon.a" || search_built=0

failed=
ran=
total=$(echo "$sections" | wc -w)
k=0
# Runs one section with its output shown and kept in $work/NAME.out.
section() { # NAME TITLE COMMAND...
	name=$1 title=$2
	shift 2
	k=$((k + 1))
	echo
	# The load shows how busy the machine was with others' work.
	echo "==== [$k/$total] $title ($(date -u '+%H:%M:%S') UTC," \
	    "load $(cut -d' ' -f1-3 /proc/loadavg)) ===="
	start=$(date +%s)
	{ "$@"; echo $? >"$work/$name.rc"; } 2>&1 | tee "$work/$name.out"
	rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		ran="$ran $name"
		echo "---- $title: done in ${secs} s"
	else
		failed="$failed $name"
		echo "---- $title: COULD NOT RUN (exit $rc) after ${secs} s"
		printf '%s\t%s\t%s\t%s\t%s\n' "$title" "section" \
		    "could not run (exit $rc)" "" "FAILED" >>"$BENCH_SUMMARY"
	fi
}

# bench/engine.sh prints a table; its ratio lines go into the summary.
engine_section() {
	{ sh bench/engine.sh; echo $? >"$work/engine-sh.rc"; } 2>&1 |
	    tee "$work/engine-sh.out"
	rc=$(cat "$work/engine-sh.rc" 2>/dev/null || echo 1)
	grep ' ratio ' "$work/engine-sh.out" 2>/dev/null |
	    sed -n 's/^\([0-9]*\)[[:space:]]*ratio[[:space:]]*/\1\t/p' |
	    while IFS="$(printf '\t')" read -r n rest; do
		printf 'engine\t%s decimals\t%s\t\t\n' "$n" "$rest"
	    done >>"$BENCH_SUMMARY"
	if grep -q MISMATCH "$work/engine-sh.out" 2>/dev/null; then
		printf 'engine\tsha256 of every output\tMISMATCH\tok\tNOT met\n' \
		    >>"$BENCH_SUMMARY"
	fi
	return "$rc"
}

for s in $sections; do
	case $s in
	longpoll)
		if [ "$built" -eq 1 ]; then
			section longpoll "long-poll fan-out" python3 bench/longpoll.py
		else
			section longpoll "long-poll fan-out" false
		fi ;;
	api)
		if [ "$built" -eq 1 ]; then
			section api "API requests/s" python3 bench/api_rps.py
		else
			section api "API requests/s" false
		fi ;;
	covered) section covered "covered-task latency" python3 bench/covered.py ;;
	store)
		if [ "$store_built" -eq 1 ]; then
			section store "store check" \
			    "$build/bench/store_check" 100000000 "$work"
		else
			section store "store check" false
		fi ;;
	search)
		if [ "$search_built" -eq 1 ]; then
			section search "search" python3 bench/search.py
		else
			section search "search" false
		fi ;;
	engine) section engine "engine" engine_section ;;
	*) echo "bench: unknown section $s" >&2; failed="$failed $s" ;;
	esac
done

echo
echo "==== summary ===="
awk -F '\t' '
{ for (i = 1; i <= 5; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
END {
	h[1] = "section"; h[2] = "figure"; h[3] = "value"; h[4] = "target"; h[5] = ""
	for (i = 1; i <= 4; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
	fmt = "%-" w[1] "s  %-" w[2] "s  %-" w[3] "s  %-" w[4] "s  %s\n"
	printf(fmt, h[1], h[2], h[3], h[4], h[5])
	for (r = 1; r <= NR; r++) {
		s = c[r, 1] == last ? "" : c[r, 1]
		last = c[r, 1]
		printf(fmt, s, c[r, 2], c[r, 3], c[r, 4], c[r, 5])
	}
}' "$BENCH_SUMMARY"
echo "sections run:${ran:- none}; could not run:${failed:- none}"
[ -z "$failed" ]
