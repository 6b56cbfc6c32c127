#!/bin/sh
# run.sh: runs nthpi on this machine: the FastCGI app, the worker and nginx
# on 127.0.0.1:PORT, until Ctrl-C.
#
# Usage: [PORT=8080] [DATA=./var] sh scripts/run.sh   (make run builds first)
#
# Keeps everything in DATA: the database, the digit store, the FastCGI
# socket, and nginx's configuration, logs and temp files (DATA/nginx).
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
		echo "run.sh: $b is not built; run 'make run' (or 'make all')" >&2
		exit 1
	fi
done
nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
if ! [ -x "$nginx" ]; then
	echo "run.sh: nginx is not installed; run 'make deps'" >&2
	exit 1
fi

mkdir -p "$DATA/nginx"
DATA=$(cd "$DATA" && pwd)
socket=$DATA/nthpi-fcgi.sock
htdocs=$root/htdocs
conf=$DATA/nginx/nginx.conf

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
    --socket="$socket" --htdocs="$htdocs" "$user_arg" > "$conf.new"
mv "$conf.new" "$conf"

fcgi_pid=
worker_pid=
nginx_pid=

# Stops whatever was started, the web side first so that no request is cut
# off by a missing app, and waits for each.
stop_all() {
	trap - INT TERM EXIT
	for pid in $nginx_pid $worker_pid $fcgi_pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $nginx_pid $worker_pid $fcgi_pid; do
		wait "$pid" 2>/dev/null || true
	done
	rm -f "$socket"
}
trap 'echo; echo "run.sh: stopping"; stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

rm -f "$socket"
"$BUILD/nthpi-fcgi" --data="$DATA" --socket="$socket" &
fcgi_pid=$!
"$BUILD/nthpi-worker" --data="$DATA" &
worker_pid=$!

# nginx cannot pass requests on before the app listens.
i=0
while ! [ -S "$socket" ]; do
	if ! kill -0 "$fcgi_pid" 2>/dev/null; then
		echo "run.sh: nthpi-fcgi exited; see its messages above" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "run.sh: nthpi-fcgi did not create $socket within 10 s" >&2
		exit 1
	fi
	sleep 0.1
done

: > "$DATA/nginx/logs/error.log"
rm -f "$DATA/nginx/nginx.pid"
"$nginx" -p "$DATA/nginx" -c "$conf" -g 'daemon off;' &
nginx_pid=$!
# nginx writes its pid file once it listens. If the port is taken it logs
# that at once and keeps trying for a few seconds; no need to wait for that.
i=0
while ! [ -s "$DATA/nginx/nginx.pid" ]; do
	if grep -q 'Address already in use' "$DATA/nginx/logs/error.log"; then
		echo "run.sh: port $PORT is taken by another program;" \
		    "choose another: PORT=8081 make run" >&2
		exit 1
	fi
	i=$((i + 1))
	if ! kill -0 "$nginx_pid" 2>/dev/null || [ "$i" -gt 100 ]; then
		echo "run.sh: nginx did not start:" >&2
		cat "$DATA/nginx/logs/error.log" >&2
		exit 1
	fi
	sleep 0.1
done

echo "nthpi is at http://127.0.0.1:$PORT/ — Ctrl-C stops it"
echo "(data in $DATA; nginx log in $DATA/nginx/logs/)"

# Runs until a signal comes or one of the three stops by itself. The short
# sleeps in the background let the trap run at once.
while :; do
	for pid in $fcgi_pid $worker_pid $nginx_pid; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run.sh: a process stopped by itself (pid $pid);" \
			    "stopping the others" >&2
			exit 1
		fi
	done
	sleep 1 &
	wait $! || true
done
