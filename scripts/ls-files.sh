#!/bin/sh
# ls-files.sh: the project's files whose names match the patterns, one path a
# line from the repository root, for make format and tests/hygiene.py.
#
# Usage: sh scripts/ls-files.sh PATTERN...      e.g. '*.c' '*.h'
#
# In a git checkout: the files git tracks (a new file counts once it is
# added), those deleted from the work tree left out. In a copy without git:
# what find sees, without what .gitignore leaves out (build/, var/,
# node_modules/, tests/out/, __pycache__/).
set -eu

cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || { echo "usage: ls-files.sh PATTERN..." >&2; exit 2; }

# git only if this directory is the top of its work tree: a copy without
# .git inside another repository is not that repository's.
if command -v git >/dev/null 2>&1 &&
    top=$(git rev-parse --show-toplevel 2>/dev/null) &&
    [ "$top" = "$(pwd -P)" ]; then
	git ls-files -- "$@" | while IFS= read -r f; do
		[ -e "$f" ] && printf '%s\n' "$f"
	done
	exit 0
fi

first=1
for p in "$@"; do
	if [ "$first" -eq 1 ]; then
		set -- -name "$p"
		first=0
	else
		set -- "$@" -o -name "$p"
	fi
done
find . \( -path ./.git -o -path ./build -o -path ./var -o -name node_modules \
    -o -path ./tests/out -o -name __pycache__ \) -prune -o \
    -type f \( "$@" \) -print | sed 's|^\./||' | LC_ALL=C sort
