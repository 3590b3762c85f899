#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compile coverage: compile.sh NAME (a file in tests/compile) configures a
# COMPILE_TEST kernel for one architecture, builds only the directories
# the definition names with W=1, and prints one row per check:
#   compile/NAME/config     every option asked for took effect
#   compile/NAME/build      the directories built
#   compile/NAME/objects    every object the definition lists was compiled
#   compile/NAME/warnings   no W=1 warning on a line the project changed
#                           (owned files and the patches' lines)
# The build log is build/logs/compile-NAME.log.
. "$(dirname "$0")/lib.sh"
# stdout carries the rows; progress goes to stderr
step() { printf '[%s] %s\n' "$(elapsed)" "$*" >&2; }

name=${1:-}
def=$TOP/tests/compile/$name
[ -n "$name" ] && [ -f "$def" ] ||
	die "unknown compile target '$name' (one of: $(ls "$TOP/tests/compile" | tr '\n' ' '))"
ARCH= CROSS= FRAGMENTS= DIRS= OBJECTS=
. "$def"
[ -n "$ARCH" ] && [ -n "$DIRS" ] && [ -n "$OBJECTS" ] ||
	die "compile/$name: ARCH, DIRS and OBJECTS must be set"
[ -d "$TREE/.git" ] || die "no kernel tree in build/linux: run 'make tree'"
need make "${CROSS}gcc" ccache flex bison bc

row() { printf '%s\tcompile/%s/%s\t%s\n' "$1" "$name" "$2" "$3"; }

out=$BUILD/out/compile-$name
log=$LOGDIR/compile-$name.log
mkdir -p "$out" "$LOGDIR"
kernel_setup "compile/$name" "$out" "$CROSS" "$FRAGMENTS"

step "compile $name: configuring (tinyconfig + $FRAGMENTS)"
# A fresh log every run: configure_kernel writes one only when it has to
# configure, and the warnings below are read from the whole log, so an
# old run's warnings would otherwise be reported again.
: >"$log"
if ! configure_kernel "$out" "$log" "${kmake[@]}" -- "${frags[@]}"; then
	row FAIL config "$(tail -n1 "$log")"
	exit 1
fi
row PASS config ""

# Every object is compiled again (ccache makes that cheap), so the log
# holds the warnings of every file, not only of what changed.
for d in $DIRS; do
	[ -d "$out/$d" ] && find "$out/$d" -name '*.o' -delete
done
step "compile $name: make W=1 $DIRS ($ARCH)"
# shellcheck disable=SC2086
if ! "${kmake[@]}" W=1 $(for d in $DIRS; do echo "${d%/}/"; done) >>"$log" 2>&1; then
	row FAIL build "$(grep -m1 -E 'error:|Error [0-9]' "$log")"
	exit 1
fi
row PASS build "$DIRS"

missing=
for o in $OBJECTS; do
	[ -f "$out/$o" ] || missing="$missing $o"
done
if [ -n "$missing" ]; then
	row FAIL objects "not compiled:$missing"
else
	row PASS objects "$(echo "$OBJECTS" | wc -w) objects"
fi

# Warnings the project brought in: in a file the patches
# changed, on a line that git blame puts after the base commit.  Warnings
# on untouched lines of those files are upstream's and only counted.
base=$(git -C "$TREE" rev-parse harness/base)
changed=$(git -C "$TREE" diff --name-only harness/base HEAD -- '*.c' '*.h')
new= old=0
while IFS= read -r l; do
	f=${l%%:*}
	f=${f#"$TREE"/}
	while [ "${f#../}" != "$f" ]; do f=${f#../}; done
	f=${f#linux/}
	grep -qxF "$f" <<<"$changed" || continue
	n=${l#*:}
	n=${n%%:*}
	c=$(git -C "$TREE" blame -L "$n,$n" --porcelain -- "$f" 2>/dev/null | head -1 | cut -d' ' -f1)
	if [ "$c" = "$base" ]; then
		old=$((old + 1))
	else
		new="$new${new:+; }$f:${l#*:}"
	fi
done < <(grep -E '^[^ ]+\.[ch]:[0-9]+:[0-9]+: warning:' "$log" | sort -u)
if [ -n "$new" ]; then
	row FAIL warnings "${new:0:400}"
else
	row PASS warnings "none new ($old on untouched lines of changed files, $(grep -cE ': warning:' "$log") in all)"
fi
