#!/bin/sh
# run.sh: runs nthpi on this machine: the FastCGI app, the worker and nginx
# on 127.0.0.1:PORT, restarting a part that dies, until Ctrl-C.
#
# Usage: [PORT=8080] [DATA=./var] sh scripts/run.sh   (make run builds first)
#
# Keeps everything in DATA: the database, the digit store, the FastCGI
# socket, each part's output (DATA/logs/PART.log, also shown here) and
# nginx's configuration, logs and temp files (DATA/nginx).
#
# Supervises as systemd's Restart=always would: a part that stops for any
# reason (the worker, the FastCGI master or nginx) is started again after
# 0.2, 0.5, 1 and 2 s as it keeps dying, and one line says how it ended;
# the fifth death of a part within 30 s stops everything. A part's children
# outlive it only briefly: they are sent SIGTERM, and nginx's old workers
# must be gone before a new nginx can take the port. NTHPI_BUILD_SECONDS
# (from make run) is reported at start-up.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
PORT=${PORT:-8080}
DATA=${DATA:-./var}
BUILD=${BUILD:-build}

case $PORT in
'' | *[!0-9]*) echo "run.sh: PORT must be a number, not '$PORT'" >&2; exit 2 ;;
esac
for b in "$BUILD/nthpi-fcgi" "$BUILD/nthpi-worker"; do
	if ! [ -x "$b" ]; then
		echo "run.sh: $b is not built; run 'make run' (or 'make programs')" >&2
		exit 1
	fi
done
nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
if ! [ -x "$nginx" ]; then
	echo "run.sh: nginx is not installed; run 'make deps'" >&2
	exit 1
fi

mkdir -p "$DATA/nginx" "$DATA/logs"
DATA=$(cd "$DATA" && pwd)
socket=$DATA/nthpi-fcgi.sock
publish=$DATA/nthpi-publish.sock
htdocs=$root/htdocs
conf=$DATA/nginx/nginx.conf
logs=$DATA/logs

# Is path reachable by a user who is neither its owner nor in its group, as
# nginx's workers are when started by root (they run as nobody)?
reachable_by_others() {
	p=$1
	while [ -n "$p" ] && [ "$p" != / ]; do
		case $(stat -L -c %A "$p") in
		d????????[xt]) ;;
		-??????r??) ;;
		*) return 1 ;;
		esac
		p=$(dirname "$p")
	done
}

user_arg=--no-user
if [ "$(id -u)" -eq 0 ]; then
	if reachable_by_others "$htdocs/style.css" && reachable_by_others "$DATA"
	then
		user_arg="--user=nobody nogroup"
	else
		# The checkout sits in a directory that others cannot enter (such
		# as /root). For a server on the loopback address during
		# development, nginx's workers then stay root rather than moving
		# the files elsewhere.
		echo "run.sh: note: $root is not reachable for user nobody;" \
		    "nginx's workers run as root"
		user_arg="--user=root"
	fi
fi
sh scripts/nginx-conf.sh --prefix="$DATA/nginx" --port="$PORT" \
    --socket="$socket" --htdocs="$htdocs" --publish="$publish" \
    "$user_arg" > "$conf.new"
mv "$conf.new" "$conf"

# The parts, by the short names used in variable names: pid_PART (empty
# while it is not running), kids_PART (its children at the last look),
# deaths_PART (the times of its recent deaths), restart_PART (the tick at
# which to start it again) and the descriptor of its log.
parts="worker fcgi nginx"
tick=0
for part in $parts; do
	eval "pid_$part= kids_$part= deaths_$part= restart_$part=0"
done
strays=
tees=
stopping=0

name_of() {
	case $1 in
	worker) echo nthpi-worker ;;
	fcgi) echo nthpi-fcgi ;;
	nginx) echo nginx ;;
	esac
}

# Each part writes to a pipe whose reader, tee, appends to DATA/logs/PART.log
# and shows the lines here. The pipe stays open in this shell (descriptors
# 4, 5 and 6), so that each restart writes to the same tee; the tee ends
# once this shell and every process of the part have let go of it, having
# shown every line.
# Usage: open_log PART FD
open_log() {
	log=$logs/$(name_of "$1").log
	fifo=$logs/.$1.fifo
	echo "---- run.sh started $(date '+%Y-%m-%d %H:%M:%S'), port $PORT" \
	    >> "$log"
	rm -f "$fifo"
	mkfifo "$fifo"
	(trap '' HUP; exec tee -a "$log") < "$fifo" >&2 4>&- 5>&- 6>&- &
	tees="$tees $!"
	# Opening for writing waits for the tee to open for reading.
	eval "exec $2>\"\$fifo\""
	rm -f "$fifo"
}
open_log worker 4
open_log fcgi 5
open_log nginx 6

# Writes a line of run.sh's about a part into that part's log (and so here).
say() {
	case $1 in
	worker) shift; echo "run.sh: $*" >&4 ;;
	fcgi) shift; echo "run.sh: $*" >&5 ;;
	nginx) shift; echo "run.sh: $*" >&6 ;;
	esac
}

# shellcheck disable=SC2034 # pid_PART is read through eval
# The parts and the tees ignore a hangup, which this shell turns into an
# orderly stop: else the worker would stop at once, before the web side
# (nthpi-fcgi and nginx handle a hangup themselves, ignored or not), and
# the tees would lose the last lines.
start_part() {
	case $1 in
	worker)
		(trap '' HUP; exec "$BUILD/nthpi-worker" --data="$DATA") \
		    >&4 2>&4 4>&- 5>&- 6>&- &
		pid_worker=$! ;;
	fcgi)
		(trap '' HUP
		    exec "$BUILD/nthpi-fcgi" --data="$DATA" --socket="$socket") \
		    >&5 2>&5 4>&- 5>&- 6>&- &
		pid_fcgi=$! ;;
	nginx)
		# A killed nginx leaves its publish socket, which blocks the
		# next one's bind.
		rm -f "$DATA/nginx/nginx.pid" "$publish"
		(trap '' HUP
		    exec "$nginx" -p "$DATA/nginx" -c "$conf" -g 'daemon off;') \
		    >&6 2>&6 4>&- 5>&- 6>&- &
		pid_nginx=$! ;;
	esac
}

# Sets kids to the children of process $1 (Linux: /proc/PID/task/*/children).
children_of() {
	kids=
	for f in /proc/"$1"/task/*/children; do
		k=
		{ read -r k < "$f"; } 2>/dev/null || :
		kids="$kids $k"
	done
}

# Is $1 a live process named $2 (by /proc/PID/comm; a zombie is not live)?
# Checked before signalling a recorded child, whose pid may have been
# reused since.
alive_as() {
	c='' s=''
	{ read -r c < "/proc/$1/comm"; } 2>/dev/null || return 1
	{ read -r _ _ s _ < "/proc/$1/stat"; } 2>/dev/null || return 1
	[ "$c" = "$2" ] && [ "$s" != Z ]
}

# Sets live to the live ones among the pid:name pairs in list $1.
live_of() {
	live=
	for pn in $1; do
		if alive_as "${pn%%:*}" "${pn#*:}"; then
			live="$live $pn"
		fi
	done
}

# Sends signal $1 to the live ones among the pid:name pairs in list $2.
signal_live() {
	live_of "$2"
	for pn in $live; do
		kill "-$1" "${pn%%:*}" 2>/dev/null || :
	done
}

# Waits up to $1 tenths of a second for the pid:name pairs in list $2 to
# be gone; returns 1 if some are left (in live).
wait_gone() {
	n=$1
	while :; do
		live_of "$2"
		[ -z "$live" ] && return 0
		[ "$n" -le 0 ] && return 1
		n=$((n - 1))
		sleep 0.1
	done
}

# How a process ended, from the status wait gave: "exit code 1" or
# "killed by SIGKILL".
describe() {
	if [ "$1" -gt 128 ] && sig=$(kill -l "$1" 2>/dev/null); then
		echo "killed by SIG${sig#SIG}"
	else
		echo "exit code $1"
	fi
}

# Ends the children a dead part left, as systemd ends a unit's processes:
# the FastCGI children finish their requests and exit (they also get
# SIGTERM from the kernel, PR_SET_PDEATHSIG), the compute child stops. An
# nginx master killed outright leaves its workers serving on the port, which
# the next nginx needs: those are waited for, and killed after 1 s.
end_children() {
	eval "kids=\$kids_$1"
	name=$(name_of "$1")
	pairs=
	for k in $kids; do
		pairs="$pairs $k:$name"
	done
	# Noted first: a Ctrl-C during the wait below must find them too.
	strays="$strays $pairs"
	signal_live TERM "$pairs"
	if [ "$1" = nginx ] && ! wait_gone 10 "$pairs"; then
		signal_live KILL "$pairs"
		wait_gone 10 "$pairs" || :
	fi
}

# A part stopped: says how, and schedules its restart, or stops everything
# if it keeps dying.
part_died() {
	part=$1
	name=$(name_of "$part")
	eval "pid=\$pid_$part"
	st=0
	wait "$pid" || st=$?
	eval "pid_$part="
	how=$(describe "$st")
	now=$(date +%s)
	old=
	eval "old=\$deaths_$part"
	recent=$now
	count=1
	for t in $old; do
		if [ $((now - t)) -lt 30 ]; then
			recent="$recent $t"
			count=$((count + 1))
		fi
	done
	eval "deaths_$part=\$recent"
	case $count in
	1) delay=0.2 ticks=2 ;;
	2) delay=0.5 ticks=5 ;;
	3) delay=1 ticks=10 ;;
	4) delay=2 ticks=20 ;;
	*)
		say "$part" "$name exited ($how), the 5th time within 30 s;" \
		    "stopping everything"
		end_children "$part"
		give_up "$part"
		;;
	esac
	say "$part" "$name exited ($how); restarting in $delay s"
	end_children "$part"
	if [ "$part" = fcgi ]; then
		# A master killed outright leaves its socket, and its
		# children may still hold it for a moment while they finish.
		rm -f "$socket"
	fi
	eval "restart_$part=$((tick + ticks))"
}

# Stops whatever runs, the web side first so that no request is cut off by
# a missing app, and waits for each (killing what is left after 5 s) and for
# the children of dead parts; then for the tees to show the last lines.
stop_all() {
	trap - EXIT
	trap '' INT TERM HUP
	[ "$stopping" -eq 1 ] && return
	stopping=1
	pairs=
	for part in nginx worker fcgi; do
		eval "pid=\$pid_$part"
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || :
		pairs="$pairs $pid:$(name_of "$part")"
	done
	# Each part stops its own children first: nginx its workers, the
	# FastCGI master its children, the worker its compute child.
	if ! wait_gone 50 "$pairs"; then
		echo "run.sh: still running after 5 s; killing:$live" >&2
		signal_live KILL "$pairs"
	fi
	for part in $parts; do
		eval "pid=\$pid_$part"
		[ -z "$pid" ] || wait "$pid" 2>/dev/null || :
	done
	if ! wait_gone 20 "$strays"; then
		signal_live KILL "$strays"
	fi
	rm -f "$socket"
	exec 4>&- 5>&- 6>&-
	n=10
	for t in $tees; do
		while kill -0 "$t" 2>/dev/null && [ "$n" -gt 0 ]; do
			n=$((n - 1))
			sleep 0.1
		done
		kill "$t" 2>/dev/null || :
	done
}

give_up() {
	stop_all
	log=$logs/$(name_of "$1").log
	if [ "$1" = nginx ]; then
		log="$log and $DATA/nginx/logs/error.log"
	fi
	echo "run.sh: stopped: $(name_of "$1") died 5 times within 30 s;" \
	    "see its log, $log" >&2
	exit 1
}

# A part that fails while starting stops everything: it is not going to
# do better on a second try (a taken port, another run on the same DATA).
# Usage: start_failed MESSAGE [FILE to show]
start_failed() {
	stop_all
	echo "run.sh: $1" >&2
	if [ -n "${2:-}" ]; then
		cat "$2" >&2
	fi
	exit 1
}

# A hangup (the terminal closed) stops it too, rather than leave the
# parts running without it.
trap 'echo; echo "run.sh: stopping"; stop_all; exit 0' INT TERM HUP
trap 'stop_all' EXIT

# nthpi-fcgi first: it creates or migrates the database before its children
# open it, and the worker opening a new database at the same moment may
# make it fail ("enabling WAL: database is locked"). nginx cannot pass
# requests on before the app serves either. nthpi-fcgi says so once its
# children run (a socket file is no sign: a killed nthpi-fcgi leaves one,
# which the next removes unless another nthpi-fcgi serves it).
start_part fcgi
i=0
until grep -q "^nthpi-fcgi\[$pid_fcgi\]: info: ready" \
    "$logs/nthpi-fcgi.log"; do
	if ! kill -0 "$pid_fcgi" 2>/dev/null; then
		start_failed "nthpi-fcgi exited; see its messages above\
 ($logs/nthpi-fcgi.log)"
	fi
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		start_failed "nthpi-fcgi was not ready within 10 s"
	fi
	sleep 0.1
done

start_part worker
: > "$DATA/nginx/logs/error.log"
start_part nginx
# nginx writes its pid file once it listens. If the port is taken it logs
# that at once and keeps trying for a few seconds; no need to wait for that.
i=0
while ! [ -s "$DATA/nginx/nginx.pid" ]; do
	if grep -q 'Address already in use' "$DATA/nginx/logs/error.log"; then
		start_failed "port $PORT is taken by another program;\
 choose another: PORT=8081 make run"
	fi
	i=$((i + 1))
	if ! kill -0 "$pid_nginx" 2>/dev/null || [ "$i" -gt 100 ]; then
		start_failed "nginx did not start:" \
		    "$DATA/nginx/logs/error.log"
	fi
	sleep 0.1
done
for part in $parts; do
	eval "pid=\$pid_$part"
	if ! kill -0 "$pid" 2>/dev/null; then
		name=$(name_of "$part")
		start_failed "$name exited; see its messages above\
 ($logs/$name.log)"
	fi
done

case ${NTHPI_BUILD_SECONDS:-} in
'') ;;
0) echo "Built nthpi-fcgi and nthpi-worker in less than a second." ;;
*) echo "Built nthpi-fcgi and nthpi-worker in $NTHPI_BUILD_SECONDS s." ;;
esac
echo "nthpi is at http://127.0.0.1:$PORT/ — Ctrl-C stops it"
echo "(data in $DATA; logs in $logs/, nginx's own in $DATA/nginx/logs/)"

# Every tenth of a second: notes each part's children, and restarts a part
# that stopped once its delay is over. The sleep runs in the background so
# that a signal's trap runs at once.
while :; do
	tick=$((tick + 1))
	for part in $parts; do
		restart=
		eval "pid=\$pid_$part restart=\$restart_$part"
		if [ -z "$pid" ]; then
			if [ "$tick" -ge "$restart" ]; then
				start_part "$part"
			fi
		elif kill -0 "$pid" 2>/dev/null; then
			children_of "$pid"
			eval "kids_$part=\$kids"
		else
			part_died "$part"
		fi
	done
	sleep 0.1 &
	wait $! || :
done
