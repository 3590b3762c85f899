# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the harness scripts; sourced, not run.
set -o pipefail
HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=${TOP:-$(cd "$HARNESS/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
LOGDIR=${LOGDIR:-$BUILD/logs}
TREE=$BUILD/linux
T0=${T0:-$(date +%s)}
export TOP BUILD LOGDIR T0

elapsed() {
	local s=$(($(date +%s) - T0))
	printf '%d:%02d' $((s / 60)) $((s % 60))
}

step() { printf '[%s] %s\n' "$(elapsed)" "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# fail_log MESSAGE LOGFILE: print the tail of a log and its path, then exit 1.
fail_log() {
	printf 'error: %s\n' "$1" >&2
	if [ -f "$2" ]; then
		printf -- '--- last lines of %s ---\n' "$2" >&2
		tail -n "${TAIL:-25}" "$2" >&2
		printf -- '--- full log: %s ---\n' "$2" >&2
	fi
	exit 1
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "missing tool '$t' (run 'make deps' to install it)"
	done
}
