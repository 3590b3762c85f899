#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Kernel style on what the project owns and changes.  Prints one row per
# check ("PASS<TAB>lint/...<TAB>detail"); details go to build/logs/lint.log.
#   - checkpatch --strict on every owned .c/.h file and every patch
#     (patches carry no Signed-off-by: whoever posts them adds theirs);
#   - kernel-doc -none on every owned .c/.h file, and no new kernel-doc
#     warnings in upstream headers the patches touch;
#   - W=1 and sparse (C=1) on the objects built from owned .c files, in
#     the x86_64 test kernel's build directory (arm64's for code only ARM
#     builds), after it is built.
. "$(dirname "$0")/lib.sh"

LOG=$LOGDIR/lint.log
mkdir -p "$LOGDIR"
: >"$LOG"
row() { printf '%s\tlint/%s\t%s\n' "$1" "$2" "$3"; }
[ -d "$TREE/.git" ] || die "lint: no build/linux (make tree)"
cd "$TREE" || exit 1
# Ignored: MISSING_SIGN_OFF (whoever posts the series adds theirs);
# UNKNOWN_COMMIT_ID (build/linux has no upstream history to look the
# Fixes: commits up in; they were looked up upstream); FILE_PATH_CHANGES
# (every new file lies below a path that the IOMMU SUBSYSTEM entry of
# MAINTAINERS covers, and the patches that added the two that were not
# covered add them there).
CP=(perl scripts/checkpatch.pl --strict --no-tree -q
	--ignore MISSING_SIGN_OFF,UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES)

owned_src=$(cd "$TOP" && find drivers include -name '*.[ch]' 2>/dev/null | sort)

# checkpatch NAME ARGS...: one row for checkpatch --strict on ARGS.
checkpatch() {
	local name=$1 out n
	shift
	out=$("${CP[@]}" "$@" 2>&1)
	echo "=== checkpatch $name" >>"$LOG"
	echo "$out" >>"$LOG"
	n=$(echo "$out" | grep -cE '^(ERROR|WARNING|CHECK)')
	if [ "$n" -eq 0 ]; then
		row PASS "checkpatch/$name" ""
	else
		row FAIL "checkpatch/$name" "$n complaint(s): $(echo "$out" | grep -m1 -E '^(ERROR|WARNING|CHECK)')"
	fi
}

# Owned files are checked as they are in the repo (what gets committed).
for f in $owned_src; do
	checkpatch "$f" -f "$TOP/$f"
	out=$(scripts/kernel-doc -none "$TOP/$f" 2>&1)
	echo "=== kernel-doc $f" >>"$LOG"
	echo "$out" >>"$LOG"
	if [ -z "$out" ]; then
		row PASS "kernel-doc/$f" ""
	else
		row FAIL "kernel-doc/$f" "$(echo "$out" | head -1)"
	fi
done

for p in $(sed -e 's/#.*//' "$TOP/patches/series" 2>/dev/null); do
	checkpatch "$p" "$TOP/patches/$p"
done

# Upstream headers the series touches: no more kernel-doc warnings than base.
for h in $(git diff --name-only --diff-filter=M refs/tags/harness/base HEAD -- '*.h'); do
	git show "refs/tags/harness/base:$h" >"$BUILD/lint-base.h" 2>/dev/null || : >"$BUILD/lint-base.h"
	b=$(scripts/kernel-doc -none "$BUILD/lint-base.h" 2>&1 | wc -l)
	n=$(scripts/kernel-doc -none "$h" 2>&1 | wc -l)
	if [ "$n" -le "$b" ]; then
		row PASS "kernel-doc/$h" "$n warnings, base $b"
	else
		row FAIL "kernel-doc/$h" "$n kernel-doc warnings, base has $b"
	fi
done
rm -f "$BUILD/lint-base.h"

# W=1 and sparse on the owned objects, in the x86_64 test kernel's tree;
# code only ARM builds (its Makefile's option off in x86_64, on in arm64)
# in the arm64 test kernel's.
out=$BUILD/out/x86_64
objs=
for f in $owned_src; do
	case $f in *.c) objs="$objs ${f%.c}.o" ;; esac
done

# lint_arch OBJ: the test kernel whose configuration builds OBJ.
lint_arch() {
	local dir base sym
	dir=$(dirname "$1")
	base=$(basename "$1")
	sym=$(sed -n "s/^obj-\$(CONFIG_\([A-Z0-9_]*\)).*[[:space:]]${base//./\\.}\$/\1/p" \
		"$TREE/$dir/Makefile" 2>/dev/null | head -1)
	if [ -n "$sym" ] && ! grep -q "^CONFIG_$sym=y" "$BUILD/out/x86_64/.config" &&
		grep -q "^CONFIG_$sym=y" "$BUILD/out/arm64/.config" 2>/dev/null; then
		echo arm64
	else
		echo x86_64
	fi
}

if [ -n "$objs" ] && [ -f "$out/.config" ] && command -v sparse >/dev/null; then
	for o in $objs; do
		out=$BUILD/out/x86_64
		mk=(ARCH=x86_64 CC="ccache gcc")
		if [ "$(lint_arch "$o")" = arm64 ]; then
			out=$BUILD/out/arm64
			mk=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- CC="ccache aarch64-linux-gnu-gcc")
		fi
		# force a rebuild of just this object, with W=1 and sparse
		rm -f "$out/$o"
		# (the vDSO, which the arm64 prepare step may rebuild, is the
		# base kernel's and not ours to judge)
		res=$(make -C "$TREE" O="$out" "${mk[@]}" W=1 C=1 "$o" 2>&1 |
			grep -E 'warning:|error:' | grep -v '/kernel/vdso/')
		echo "=== W=1 C=1 $o" >>"$LOG"
		echo "$res" >>"$LOG"
		[ -f "$out/$o" ] || res="$o was not built${res:+; $res}"
		if [ -z "$res" ]; then
			row PASS "w1-sparse/$o" ""
		else
			row FAIL "w1-sparse/$o" "$(echo "$res" | head -1)"
		fi
	done
else
	row FAIL "w1-sparse" "not run: needs sparse and a built x86_64 test kernel"
fi
