#!/bin/sh
# engine.sh: times the pi engine against Arb (2 threads) and MPFR, checking every output.
#
# Usage: sh bench/engine.sh            10^6 and 10^7 decimals
#        BENCH_BIG=1 sh bench/engine.sh  also 10^8
#
# Each program writes "3" and N decimals to a file; the file's sha256 is
# checked against tests/data/pi-prefix.sha256. Wall time and peak RSS come
# from /usr/bin/time. The engine runs through `nthpi-worker --digits N
# --output FILE` once the worker has that, else through bench/pi_cli.c.
# With BENCH_REPEAT=R (default 1) each program runs R times, alternating,
# and the best wall time and largest RSS are shown: on a busy machine the
# best run is the closest to the program's own speed.
# Environment: BENCH_PROGRAMS (default "engine arb mpfr"; MPFR takes
# minutes at 10^8), BENCH_THREADS (pi_cli threads, default 2), BENCH_ENGINE=cli
# (time the engine alone, through pi_cli, even when the worker has a CLI),
# NTHPI_BUILD.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
build=${NTHPI_BUILD:-build}
ref=$root/tests/data
threads=${BENCH_THREADS:-2}
out=$build/bench
mkdir -p "$out"

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
cc $cflags -Iworker/pi -o "$out/pi_cli" bench/pi_cli.c worker/pi/pi_*.c -lgmp -lm

# The worker's own CLI, if it exists and gets 100 decimals right.
engine_cmd=pi_cli
if [ "${BENCH_ENGINE:-worker}" = worker ] && [ -x "$build/nthpi-worker" ] &&
	"$build/nthpi-worker" --digits 100 --output "$out/probe.txt" \
	    >/dev/null 2>&1 &&
	[ "$(cat "$out/probe.txt")" = "$(head -c 101 "$ref/pi-10000.txt")" ]; then
	engine_cmd="worker"
fi

run_one() { # NAME N FILE
	case $1 in
	engine)
		if [ "$engine_cmd" = worker ]; then
			set -- "$build/nthpi-worker" --digits "$2" --output "$3"
		else
			set -- "$out/pi_cli" "$2" "$threads" "$3"
		fi ;;
	arb) set -- "$out/peer_arb" "$2" "$3" ;;
	mpfr) set -- "$out/peer_mpfr" "$2" "$3" ;;
	esac
	/usr/bin/time -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt"
}

sizes="1000000 10000000"
if [ "${BENCH_BIG:-0}" = 1 ]; then
	sizes="$sizes 100000000"
fi

echo "engine: $engine_cmd, $threads threads; arb: 2 threads; mpfr: 1 thread"
printf '%-10s %-7s %9s %9s  %s\n' decimals program wall_s rss_MiB sha256
status=0
for n in $sizes; do
	want=$(awk -v n="$n" '$1 == n { print $2 }' "$ref/pi-prefix.sha256" 2>/dev/null || true)
	t_engine=0 m_engine=0 t_arb=0 m_arb=0 t_mpfr=0 m_mpfr=0
	rep=0
	while [ "$rep" -lt "${BENCH_REPEAT:-1}" ]; do
		rep=$((rep + 1))
		for prog in ${BENCH_PROGRAMS:-engine arb mpfr}; do
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
	awk -v n="$n" -v te="$t_engine" -v ta="$t_arb" -v tm="$t_mpfr" \
	    -v me="$m_engine" -v ma="$m_arb" -v mm="$m_mpfr" '
	# A peer that did not run (BENCH_PROGRAMS) has no ratio: "n/a".
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
	BEGIN {
		printf("%-10s ratio   engine/arb: time %s rss %s; engine/mpfr: time %s rss %s\n", n, ratio(te, ta), ratio(me, ma), ratio(te, tm), ratio(me, mm))
	}'
done
exit $status
