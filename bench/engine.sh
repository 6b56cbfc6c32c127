#!/bin/sh
# engine.sh: times the pi engine against the previous commit's, Arb (2
# threads) and MPFR, checking every output.
#
# Usage: sh bench/engine.sh            10^6 and 10^7 decimals
#        BENCH_BIG=1 sh bench/engine.sh  also 10^8
#
# Each program writes "3" and N decimals to a file; the file's sha256 is
# checked against tests/data/pi-prefix.sha256. Wall time and peak RSS come
# from /usr/bin/time. The engine runs as the service runs it, through
# `nthpi-worker --digits N --output FILE`: one driver, so that what is
# timed is what serves. "base" is the same program built from BENCH_BASE
# (default HEAD~1, the commit before this one; "none" leaves it out) with
# the same compiler and flags, from `git archive` into $build/bench/ and
# kept there by commit, so that a change's effect on the engine's speed
# shows as the engine/base ratio of one run on one machine.
# With BENCH_REPEAT=R (default 1) each program runs R times, alternating,
# and the best wall time and largest RSS are shown: on a busy machine the
# best run is the closest to the program's own speed.
# Environment: BENCH_PROGRAMS (default "engine base arb mpfr"; MPFR takes
# minutes at 10^8), BENCH_THREADS (the worker's compute_threads, default
# 2), BENCH_BASE, NTHPI_BUILD.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
build=${NTHPI_BUILD:-build}
ref=$root/tests/data
threads=${BENCH_THREADS:-2}
mkdir -p "$build/bench"
out=$(cd "$build/bench" && pwd)

# Only the benchmark needs Arb and GNU time; install them if we may.
need_pkg() {
	dpkg -s "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "bench: please install $1 (apt-get install $1)" >&2
		exit 1
	fi
	apt-get install -y -q "$1" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q "$1" >/dev/null; }
}
need_pkg time
need_pkg libflint-arb-dev

cflags="-O2 -std=c11 -D_GNU_SOURCE -pthread"
cc $cflags -o "$out/peer_arb" bench/peer_arb.c -lflint-arb -lflint -lmpfr -lgmp
cc $cflags -o "$out/peer_mpfr" bench/peer_mpfr.c -lmpfr -lgmp

# Whether the worker at $1 gets 100 decimals right.
worker_works() { # PATH
	[ -x "$1" ] &&
	    "$1" --digits 100 --output "$out/probe.txt" >/dev/null 2>&1 &&
	    [ "$(cat "$out/probe.txt")" = "$(head -c 101 "$ref/pi-10000.txt")" ]
}

if ! worker_works "$build/nthpi-worker"; then
	echo "bench: $build/nthpi-worker is missing or wrong: make programs" >&2
	exit 1
fi

# The base: the worker as BENCH_BASE built it. A base that cannot be built
# (no git, a commit before the worker had --digits) leaves its rows out.
programs=${BENCH_PROGRAMS:-engine base arb mpfr}
base=${BENCH_BASE:-HEAD~1}
case " $programs " in *" base "*) ;; *) base=none ;; esac
base_bin=
if [ "$base" != none ] &&
	sha=$(git rev-parse -q --verify "$base^{commit}" 2>/dev/null); then
	dir=$out/base-$sha
	base_bin=$dir/build/nthpi-worker
	if ! worker_works "$base_bin"; then
		echo "bench: building the base, $base ($sha), into $dir"
		rm -rf "$dir" && mkdir -p "$dir/src"
		if ! { git archive "$sha" | tar -x -C "$dir/src" &&
		    make -s -j2 -C "$dir/src" BUILD="$dir/build" "$base_bin" \
			>"$dir/build.log" 2>&1 && worker_works "$base_bin"; }; then
			echo "bench: the base did not build or run: $dir/build.log" >&2
			base_bin=
		fi
	fi
fi
if [ -z "$base_bin" ]; then
	programs=$(echo "$programs" | sed 's/\bbase\b//')
	base_desc="none"
else
	base_desc="$base ($(git log -1 --format='%h %s' "$sha" | cut -c1-60))"
fi

run_one() { # NAME N FILE
	case $1 in
	engine)
		set -- "$build/nthpi-worker" --compute_threads="$threads" \
		    --digits "$2" --output "$3" ;;
	base)
		set -- "$base_bin" --compute_threads="$threads" \
		    --digits "$2" --output "$3" ;;
	arb) set -- "$out/peer_arb" "$2" "$3" ;;
	mpfr) set -- "$out/peer_mpfr" "$2" "$3" ;;
	esac
	/usr/bin/time -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt"
}

sizes="1000000 10000000"
if [ "${BENCH_BIG:-0}" = 1 ]; then
	sizes="$sizes 100000000"
fi

echo "engine: nthpi-worker --digits, $threads threads; base: $base_desc;"
echo "arb: 2 threads; mpfr: 1 thread"
printf '%-10s %-7s %9s %9s  %s\n' decimals program wall_s rss_MiB sha256
status=0
for n in $sizes; do
	want=$(awk -v n="$n" '$1 == n { print $2 }' "$ref/pi-prefix.sha256" 2>/dev/null || true)
	t_engine=0 m_engine=0 t_base=0 m_base=0 t_arb=0 m_arb=0 t_mpfr=0 m_mpfr=0
	rep=0
	while [ "$rep" -lt "${BENCH_REPEAT:-1}" ]; do
		rep=$((rep + 1))
		for prog in $programs; do
			file=$out/$prog-$n.txt
			if ! run_one "$prog" "$n" "$file"; then
				printf '%-10s %-7s failed: %s\n' "$n" "$prog" \
				    "$(tail -1 "$out/stderr.txt")"
				status=1
				continue
			fi
			read -r t m <"$out/time.txt"
			got=$(sha256sum <"$file" | cut -d' ' -f1)
			if [ -z "$want" ]; then
				check="(no reference)"
			elif [ "$got" = "$want" ]; then
				check=ok
			else
				check="MISMATCH"
				status=1
			fi
			printf '%-10s %-7s %9s %9.1f  %s\n' "$n" "$prog" "$t" \
			    "$(echo "$m" | awk '{ print $1 / 1024 }')" "$check"
			rm -f "$file"
			# Keep the best time and the largest RSS of the runs.
			eval "bt=\$t_$prog bm=\$m_$prog"
			t=$(awk -v a="$t" -v b="$bt" 'BEGIN { print (b == 0 || a < b) ? a : b }')
			m=$(awk -v a="$m" -v b="$bm" 'BEGIN { print (a > b) ? a : b }')
			eval "t_$prog=$t m_$prog=$m"
		done
	done
	# shellcheck disable=SC2154
	awk -v n="$n" -v te="$t_engine" -v tb="$t_base" -v ta="$t_arb" \
	    -v tm="$t_mpfr" -v me="$m_engine" -v mb="$m_base" -v ma="$m_arb" \
	    -v mm="$m_mpfr" '
	# A peer that did not run (BENCH_PROGRAMS) has no ratio: "n/a".
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
	BEGIN {
		printf("%-10s ratio   engine/base: time %s rss %s; engine/arb: time %s rss %s; engine/mpfr: time %s rss %s\n", n, ratio(te, tb), ratio(me, mb), ratio(te, ta), ratio(me, ma), ratio(te, tm), ratio(me, mm))
	}'
done
exit $status
