#!/bin/sh
# deps.sh: installs what nthpi needs from Debian, to build and run it (run)
# or also to test it (test).
#
# Usage: deps.sh run|test
#
# Asks dpkg which packages are missing. As root it installs them with apt-get
# (one `apt-get update` first); otherwise it prints the command to run and
# fails. In test mode it then installs the browser test's npm packages from
# tests/browser/package-lock.json with `npm ci`. Does nothing, quickly, when
# everything is there.
set -eu

mode=${1:-}
case $mode in
run | test) ;;
*) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

# Debian packages: to build (make, cc, pkg-config and the libraries' headers)
# and to run (nginx, and sqlite3 to look into the database).
pkgs="build-essential pkg-config libfcgi-dev libsqlite3-dev libmpfr-dev \
libgmp-dev sqlite3"
# Any of Debian's nginx packages will do (nginx, nginx-light, nginx-full...).
if ! [ -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null 2>&1; then
	pkgs="$pkgs nginx"
fi
if [ "$mode" = test ]; then
	# python3 runs the integration tests, curl is handy in them, chromium is
	# the browser of the browser test (npm must not download one) and wrk
	# is the load generator of the benchmarks. gcc's ASan and UBSan come
	# with build-essential; clang and libclang-rt-14-dev (libFuzzer and
	# clang's sanitizers) build the fuzz targets.
	pkgs="$pkgs python3 curl chromium wrk clang libclang-rt-14-dev"
	# node and npm may come from elsewhere than Debian (a newer release
	# installed by hand or by the machine image); then leave them alone.
	if ! command -v node >/dev/null 2>&1; then
		pkgs="$pkgs nodejs"
	fi
	if ! command -v npm >/dev/null 2>&1; then
		pkgs="$pkgs npm"
	fi
fi

missing=
for p in $pkgs; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $status in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: these Debian packages are missing; install them with:" >&2
		echo "sudo apt-get install -y --no-install-recommends$missing" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# Installing nginx may start the system's nginx on port 80. Nothing
	# here uses it; each test starts an nginx of its own.
	apt-get install -y --no-install-recommends $missing
fi

if [ "$mode" = test ]; then
	dir=tests/browser
	if ! [ -f "$dir/package.json" ]; then
		echo "deps.sh: note: no $dir/package.json yet, no npm packages to install"
	elif ! [ -f "$dir/package-lock.json" ]; then
		echo "deps.sh: note: $dir has no package-lock.json, so npm ci" \
		    "cannot install its packages; the browser test will fail"
	elif ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.nthpi-lock"
	then
		echo "deps.sh: npm ci in $dir"
		# The browser test drives Debian's chromium: no browser downloads.
		(cd "$dir" &&
		    PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		    npm ci --no-audit --no-fund)
		# Remembers what was installed, so that the next run skips npm.
		cp "$dir/package-lock.json" "$dir/node_modules/.nthpi-lock"
	fi
fi
