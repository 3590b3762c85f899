#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every patch builds: bisect.sh [TARGET...] builds the tree after each
# commit of build/linux after harness/base, oldest first, for the named
# compile-coverage targets (tests/compile/*; default x86_64 arm64
# arm-noapi): "make W=1" of the target's directories, incrementally, with
# the .config the target gets at HEAD (options that do not exist yet at a
# patch are dropped by Kconfig there and come back later).
#
# It works in its own worktree (build/bisect-tree) and output directories
# (build/out/bisect-NAME), so build/linux and the other builds are left as
# they were.  Fails naming the first patch that does not build.  The log
# is build/logs/bisect.log.
. "$(dirname "$0")/lib.sh"

LINUX=$TREE
WT=$BUILD/bisect-tree
log=$LOGDIR/bisect.log
targets=${*:-x86_64 arm64 arm-noapi}
[ -n "${BISECT_CMD:-}" ] && targets=test
for t in $targets; do
	[ -n "${BISECT_CMD:-}" ] && break
	[ -f "$TOP/tests/compile/$t" ] ||
		die "unknown compile target '$t' (one of: $(ls "$TOP/tests/compile" | tr '\n' ' '))"
done
[ -d "$LINUX/.git" ] || die "no kernel tree in build/linux: run 'make tree'"
git -C "$LINUX" rev-parse -q --verify refs/tags/harness/base >/dev/null ||
	die "build/linux has no harness/base tag: run 'make tree'"
mkdir -p "$LOGDIR"
: >"$log"

# the commit tested is fixed at the start; an older result is dropped
rev=$(git -C "$LINUX" rev-parse --verify -q "${BISECT_REV:-HEAD}^{commit}") ||
	die "bisect: no commit ${BISECT_REV:-HEAD} in build/linux"
rm -f "$BUILD/results/bisect.txt"
commits=$(git -C "$LINUX" rev-list --reverse "harness/base..$rev")
n=$(echo "$commits" | grep -c .)
[ "$n" -gt 0 ] || die "no commits after harness/base in build/linux"

worktree_new "$LINUX" "$WT" "$rev" >>"$log" 2>&1 ||
	fail_log "could not make the worktree $WT" "$log"
trap 'worktree_drop "$LINUX" "$WT"' EXIT
TREE=$WT

# target NAME: set kmake (make in the worktree for NAME's output directory)
# and dirs (the directories NAME builds).
target() {
	ARCH= CROSS= FRAGMENTS= DIRS= OBJECTS=
	# shellcheck disable=SC1090
	. "$TOP/tests/compile/$1"
	out=$BUILD/out/bisect-$1
	mkdir -p "$out"
	kernel_setup "compile/$1" "$out" "$CROSS" "$FRAGMENTS"
	dirs=()
	for d in $DIRS; do dirs+=("${d%/}/"); done
}

# Configure each target once, at the last commit (or BISECT_CONFIG_REV).
git -C "$WT" checkout -q --detach "${BISECT_CONFIG_REV:-$rev}" >>"$log" 2>&1 ||
	fail_log "bisect: could not check out ${BISECT_CONFIG_REV:-$rev}" "$log"
for t in $targets; do
	[ -n "${BISECT_CMD:-}" ] && break
	target "$t"
	# always configure afresh: the loop below leaves an older patch's
	# .config behind, which must not become the next run's config
	rm -f "$out/.fragments"
	configure_kernel "$out" "$log" "${kmake[@]}" -- "${frags[@]}" ||
		fail_log "bisect: configuring $t at HEAD failed" "$log"
	cp "$out/.config" "$out/config.head"
done

i=0
t0=$(date +%s)
for c in $commits; do
	i=$((i + 1))
	subj=$(git -C "$LINUX" log -1 --format=%s "$c")
	git -C "$WT" checkout -q --detach "$c" >>"$log" 2>&1 ||
		fail_log "bisect: could not check out $c" "$log"
	for t in $targets; do
		[ -z "${BISECT_CMD:-}" ] && target "$t" && cp "$out/config.head" "$out/.config"
		step "bisect: $i/$n $t: $subj"
		echo "=== $i/$n $t $c $subj" >>"$log"
		if [ -n "${BISECT_CMD:-}" ]; then
			# the harness self-test: a command in place of the build
			(cd "$WT" && eval "$BISECT_CMD") >>"$log" 2>&1
		else
			"${kmake[@]}" W=1 "${dirs[@]}" >>"$log" 2>&1
		fi
		if [ $? -ne 0 ]; then
			grep -E 'error:|Error [0-9]' "$log" | head -5 >&2
			die "patch $i/$n does not build for $t: $(git -C "$LINUX" log -1 --format='%h %s' "$c") (log: ${log#"$TOP"/})"
		fi
	done
done
msg="all $n patches build for $targets, W=1 ($(($(date +%s) - t0)) s on $(nproc) cores)"
echo "bisect: $msg"
mkdir -p "$BUILD/results"
printf '%s\n%s\n' "$(git -C "$LINUX" rev-parse "$rev")" "$msg" >"$BUILD/results/bisect.txt"
