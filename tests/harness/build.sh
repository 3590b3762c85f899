#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build one test kernel out of tree: build.sh NAME (a file in tests/kernels).
# The .config is tinyconfig plus the kernel's fragments; it is regenerated
# only when a fragment changes, and every option a fragment asks for is
# checked to have taken effect.
#
# A kernel definition with SOURCE=base is built from the unpatched 6.12.117
# base instead (its own worktree, build/base-tree, at harness/base), for the
# benchmarks that compare with it.  Its fragments are the same files, less
# the options that only the series defines (every one dropped is named).
. "$(dirname "$0")/lib.sh"

name=${1:-}
kdef=$TOP/tests/kernels/$name
[ -n "$name" ] && [ -f "$kdef" ] ||
	die "unknown kernel '$name' (one of: $(ls "$TOP/tests/kernels" | tr '\n' ' '))"
ARCH= FRAGMENTS= SOURCE=
. "$kdef"
[ -d "$TREE/.git" ] || die "no kernel tree in build/linux: run 'make tree'"
case $SOURCE in
"") ;;
base)
	base=$(git -C "$TREE" rev-parse -q --verify refs/tags/harness/base^{commit}) ||
		die "build/linux has no harness/base tag: run 'make tree'"
	wt=$BUILD/base-tree
	if [ "$(git -C "$wt" rev-parse -q --verify HEAD 2>/dev/null)" != "$base" ] ||
		[ -n "$(git -C "$wt" status --porcelain 2>/dev/null)" ]; then
		step "build $name: a worktree of the 6.12.117 base in ${wt#$TOP/}"
		worktree_new "$TREE" "$wt" "$base" >/dev/null 2>&1 ||
			die "could not make the base worktree $wt"
	fi
	TREE=$wt
	;;
*) die "kernels/$name: unknown SOURCE=$SOURCE (empty or base)" ;;
esac

case $ARCH in
x86_64) cross= image=arch/x86/boot/bzImage target=bzImage ;;
arm64) cross=aarch64-linux-gnu- image=arch/arm64/boot/Image target=Image ;;
*) die "kernels/$name: unsupported ARCH=$ARCH" ;;
esac
need make "${cross}gcc" ccache flex bison bc

# wait_quiet PID SECONDS: true once PID has exited, false after SECONDS.
wait_quiet() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	! kill -0 "$1" 2>/dev/null
}

out=$BUILD/out/$name
log=$LOGDIR/build-$name.log
mkdir -p "$out" "$LOGDIR"
export KBUILD_BUILD_TIMESTAMP="2000-01-01" KBUILD_BUILD_USER=harness KBUILD_BUILD_HOST=qemu
jobs=${JOBS:-$(nproc)}
kernel_setup "kernels/$name" "$out" "$cross" "$FRAGMENTS"
if [ "$SOURCE" = base ]; then
	# The same fragments without the options the base has no Kconfig for.
	mkdir -p "$out/fragments"
	known=$(cat $(find "$TREE" -name 'Kconfig*' -not -path '*/.git/*') |
		sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/\2/p' | sort -u)
	i=0
	for f in "${frags[@]}"; do
		i=$((i + 1))
		g=$out/fragments/$i-$(basename "$f")
		: >"$g"
		while IFS= read -r l; do
			o=$(printf '%s\n' "$l" | sed -n 's/^\(# \)\{0,1\}CONFIG_\([A-Za-z0-9_]*\)[= ].*/\2/p')
			if [ -n "$o" ] && ! grep -qxF "$o" <<<"$known"; then
				step "build $name: $(basename "$f"): CONFIG_$o is the series' own; left out"
				continue
			fi
			printf '%s\n' "$l" >>"$g"
		done <"$f"
		frags[$((i - 1))]=$g
	done
fi
if ! configure_kernel "$out" "$log" "${kmake[@]}" -- "${frags[@]}"; then
	grep -q '^error: options' "$log" || fail_log "configuring kernel $name failed" "$log"
	printf 'error: kernel %s: %s\n' "$name" "$(sed -n '/^error: options/,$p' "$log" | sed '1s/^error: //')" >&2
	exit 1
fi

step "build $name: make $target ($ARCH, -j$jobs, log: ${log#$TOP/})"
s=$(date +%s)
"${kmake[@]}" "$target" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
# A line a minute, so a long build shows it is alive.
while ! wait_quiet $pid 60; do
	step "build $name: $(grep -c '^  CC ' "$log") files compiled so far"
done
wait $pid || fail_log "building kernel $name failed" "$log"
trap - EXIT
# The uAPI headers, for the kselftest programs the cases build (boot.sh).
"${kmake[@]}" headers >>"$log" 2>&1 || fail_log "exporting the headers of kernel $name failed" "$log"
mkdir -p "$BUILD/images"
cp "$out/$image" "$BUILD/images/$name"
step "build $name: done in $(($(date +%s) - s)) s -> build/images/$name"
