#!/bin/sh
# deps.sh: checks that what nthpi needs is here, to build and run it (run)
# or also to test it (test), and installs what is missing from Debian.
#
# Usage: deps.sh run|test
#
# Looks for each thing itself, not for a package, so that it works where
# there is no dpkg: a program with command -v, a library with pkg-config or
# else its header, a file where it must be. Each missing thing is named with
# the Debian package that has it. As root where apt-get exists, it installs
# those packages (one `apt-get update` first); otherwise it prints what is
# missing and how to install it, and fails. In test mode it then installs
# the browser test's npm packages from tests/browser/package-lock.json with
# `npm ci`. Does nothing, quickly, when everything is there.
set -eu

mode=${1:-}
case $mode in
run | test) ;;
*) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

have_program() {
	command -v "$1" >/dev/null 2>&1
}

# Can the C compiler include header $1? Without a compiler, is it in one of
# the usual include directories?
have_header() {
	if have_program cc; then
		printf '#include <%s>\n' "$1" |
		    cc -E -x c - >/dev/null 2>&1
		return
	fi
	for d in /usr/local/include /usr/include /usr/include/*-linux-*; do
		[ -f "$d/$1" ] && return 0
	done
	return 1
}

# nginx: in PATH, or where Debian puts it (not in the PATH of a user who is
# not root).
have_nginx() {
	have_program nginx || [ -x /usr/sbin/nginx ]
}

# A library to build against: known to pkg-config as $1, or its header $2.
have_library() {
	if have_program pkg-config && pkg-config --exists "$1" 2>/dev/null
	then
		return 0
	fi
	have_header "$2"
}

# libFuzzer, which clang links the fuzz targets with: where clang looks for
# it, or, without clang, where Debian's libclang-rt-N-dev puts it.
have_libfuzzer() {
	a=libclang_rt.fuzzer-$(uname -m).a
	if have_program clang; then
		f=$(clang -print-file-name="$a" 2>/dev/null) || return 1
		[ -f "$f" ]
		return
	fi
	for f in /usr/lib/llvm-*/lib/clang/*/lib/linux/"$a"; do
		[ -f "$f" ] && return 0
	done
	return 1
}

# Lines "what is missing|Debian package".
missing=

# Usage: need 'what it is' debian-package check [args...]
need() {
	what=$1
	pkg=$2
	shift 2
	if ! "$@"; then
		missing="$missing$what|$pkg
"
	fi
}

check_all() {
	missing=
	# To build: a C compiler and its C library, make, pkg-config and the
	# libraries' headers.
	need "cc (a C compiler)" build-essential have_program cc
	need "make" build-essential have_program make
	need "the C library's headers (stdio.h)" build-essential \
	    have_header stdio.h
	need "pkg-config" pkg-config have_program pkg-config
	need "libfcgi (fcgiapp.h)" libfcgi-dev have_library fcgi fcgiapp.h
	need "SQLite (sqlite3.h)" libsqlite3-dev have_library sqlite3 sqlite3.h
	need "MPFR (mpfr.h)" libmpfr-dev have_library mpfr mpfr.h
	need "GMP (gmp.h)" libgmp-dev have_library gmp gmp.h
	# To run: nginx (any of Debian's nginx packages will do: nginx,
	# nginx-light, nginx-full...), its Nchan module, and sqlite3 to look
	# into the database.
	need "nginx" nginx have_nginx
	need "nginx's Nchan module (/usr/lib/nginx/modules/ngx_nchan_module.so)" \
	    libnginx-mod-nchan test -f /usr/lib/nginx/modules/ngx_nchan_module.so
	need "sqlite3 (the program)" sqlite3 have_program sqlite3
	[ "$mode" = test ] || return 0
	# python3 runs the integration tests, curl is handy in them, chromium
	# is the browser of the browser test (npm must not download one) and
	# wrk is the load generator of the benchmarks. gcc's ASan and UBSan
	# come with build-essential; clang and libFuzzer build the fuzz
	# targets; clang-format checks the layout of the C files
	# (tests/hygiene.py).
	need "python3" python3 have_program python3
	need "curl" curl have_program curl
	need "chromium (${CHROMIUM:-/usr/bin/chromium})" chromium \
	    test -x "${CHROMIUM:-/usr/bin/chromium}"
	need "wrk" wrk have_program wrk
	need "clang" clang have_program clang
	need "clang-format" clang-format have_program clang-format
	# Debian names the package by clang's major version (14 in Debian 12).
	v=$(clang -dumpversion 2>/dev/null || echo 14)
	need "libFuzzer (libclang_rt.fuzzer-$(uname -m).a)" \
	    "libclang-rt-${v%%.*}-dev" have_libfuzzer
	# node and npm may come from elsewhere than Debian (a newer release
	# installed by hand or by the machine image): any will do.
	need "node" nodejs have_program node
	need "npm" npm have_program npm
}

# The Debian packages of what is missing, each once.
packages() {
	printf '%s' "$missing" | cut -d'|' -f2 | awk '!seen[$0]++' |
	    tr '\n' ' ' | sed 's/ $//'
}

# What is missing, one a line, with its package.
report() {
	printf '%s' "$missing" |
	    awk -F'|' '{ printf "  %s: Debian package %s\n", $1, $2 }'
}

check_all
if [ -n "$missing" ]; then
	pkgs=$(packages)
	if [ "$(id -u)" -ne 0 ] || ! have_program apt-get; then
		echo "deps.sh: these are missing:" >&2
		report >&2
		if have_program apt-get; then
			echo "Install them with:" >&2
			echo "sudo apt-get install -y --no-install-recommends $pkgs" >&2
		else
			echo "This system has no apt-get: install them with its" \
			    "package manager (the names above are Debian's)." >&2
		fi
		exit 1
	fi
	echo "deps.sh: installing $pkgs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# Installing nginx may start the system's nginx on port 80. Nothing
	# here uses it; each test starts an nginx of its own.
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y --no-install-recommends $pkgs
	check_all
	if [ -n "$missing" ]; then
		echo "deps.sh: still missing after apt-get install:" >&2
		report >&2
		exit 1
	fi
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
