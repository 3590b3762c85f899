# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the harness scripts; sourced, not run.
set -o pipefail
HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=${TOP:-$(cd "$HARNESS/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
LOGDIR=${LOGDIR:-$BUILD/logs}
TREE=$BUILD/linux
# QEMU from bookworm-backports, unpacked by deps.sh for QEMU=backports cases.
QEMU_BP=$BUILD/qemu-backports
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

# kernel_setup WHO OUT CROSS FRAGMENTS: set the arrays kmake (make in the
# tree for out-of-tree directory OUT, ARCH, ccache) and frags (the paths of
# the named tests/configs fragments; WHO names the definition in errors).
kernel_setup() {
	local who=$1 f
	export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content
	kmake=(make -C "$TREE" O="$2" ARCH="$ARCH" CROSS_COMPILE="$3"
		CC="ccache ${3}gcc" HOSTCC="ccache gcc" -j"${JOBS:-$(nproc)}")
	frags=()
	for f in $4; do
		[ -f "$TOP/tests/configs/$f.config" ] ||
			die "$who names fragment '$f', but tests/configs/$f.config does not exist"
		frags+=("$TOP/tests/configs/$f.config")
	done
}

# configure_kernel OUT LOG MAKE-COMMAND... -- FRAGMENT...: tinyconfig plus
# the fragments in OUT, unless OUT/.config already came from exactly these
# fragments.  Every option a fragment sets (or unsets) must be in the final
# .config; if one is not, the log ends with the list and this returns 1.
configure_kernel() {
	local out=$1 log=$2 kmake=() frags sum bad f l o
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		kmake+=("$1")
		shift
	done
	shift
	frags=("$@")
	sum=$(cat "${frags[@]}" | sha1sum | cut -c1-40)
	[ -f "$out/.config" ] && [ "$(cat "$out/.fragments" 2>/dev/null)" = "$sum" ] &&
		return 0
	rm -f "$out/.fragments"
	step "configuring ${out#"$BUILD"/}: tinyconfig + $(for f in "${frags[@]}"; do basename "$f" .config; done | tr '\n' ' ')"
	{
		"${kmake[@]}" tinyconfig &&
			(cd "$out" && "$TREE/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}") &&
			"${kmake[@]}" olddefconfig
	} >"$log" 2>&1 || {
		echo "error: configuring failed" >>"$log"
		return 1
	}
	bad=
	for f in "${frags[@]}"; do
		while IFS= read -r l; do
			case $l in
			CONFIG_*=*)
				grep -qxF "$l" "$out/.config" ||
					bad="$bad\n  $(basename "$f"): $l (got: $(grep -E "^(# )?${l%%=*}[= ]" "$out/.config" || echo absent))"
				;;
			"# CONFIG_"*" is not set")
				o=${l#\# }
				o=${o%% *}
				grep -q "^$o=" "$out/.config" &&
					bad="$bad\n  $(basename "$f"): $l (got: $(grep "^$o=" "$out/.config"))"
				;;
			esac
		done <"$f"
	done
	if [ -n "$bad" ]; then
		printf 'error: options the fragments ask for did not take effect (a missing dependency?):%b\n' "$bad" >>"$log"
		return 1
	fi
	echo "$sum" >"$out/.fragments"
}

# git_plain ARGS...: git without the user's global and system config, for
# output that must not depend on it (diff.noprefix, format.*).
git_plain() { GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 git "$@"; }

# worktree_new REPO DIR REV: a fresh detached worktree of REPO at REV in DIR
# (any old one there removed); worktree_drop REPO DIR removes it.
worktree_drop() {
	git -C "$1" worktree remove --force "$2" >/dev/null 2>&1
	rm -rf "$2"
	git -C "$1" worktree prune
}
worktree_new() {
	worktree_drop "$1" "$2"
	git -C "$1" worktree add -q --detach "$2" "$3"
}
