#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build one test kernel out of tree: build.sh NAME (a file in tests/kernels).
# The .config is tinyconfig plus the kernel's fragments; it is regenerated
# only when a fragment changes, and every option a fragment asks for is
# checked to have taken effect.
. "$(dirname "$0")/lib.sh"

name=${1:-}
kdef=$TOP/tests/kernels/$name
[ -n "$name" ] && [ -f "$kdef" ] ||
	die "unknown kernel '$name' (one of: $(ls "$TOP/tests/kernels" | tr '\n' ' '))"
ARCH= FRAGMENTS=
. "$kdef"
[ -d "$TREE/.git" ] || die "no kernel tree in build/linux: run 'make tree'"

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
mkdir -p "$BUILD/images"
cp "$out/$image" "$BUILD/images/$name"
step "build $name: done in $(($(date +%s) - s)) s -> build/images/$name"
