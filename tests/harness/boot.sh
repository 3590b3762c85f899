#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot one case (a file in tests/cases) under QEMU and judge it.
# Usage: boot.sh CASE [KERNEL]   (the kernel must be built)
#
# KERNEL, if given, replaces the case's own (a benchmark boots the same case
# on the unpatched base); the results then go to build/cases/CASE@KERNEL.
#
# A case file sets KERNEL (a file in tests/kernels), QEMU_MACHINE (machine
# and IOMMU options), APPEND (kernel command line additions, including the
# guest init's iommutest.* parameters) and optionally TIMEOUT (seconds) and
# MEM, and KSELFTESTS: programs of tools/testing/selftests (DIR/NAME, as
# "iommu/iommufd") built static from build/linux against the kernel's own
# exported headers and put in the initramfs as /bin/NAME, for the guest
# init's iommutest.kselftest= and iommutest.dmabench= to run (rebuilt for
# every boot, against that kernel's headers); KSFT_SKIPS, the number of
# tests each of them may skip (default 0); QEMU=backports, to boot on the
# QEMU that deps.sh unpacked from bookworm-backports (10.0) instead of the
# system's (arm64 only); SMMU_STAGE, the one SMMUv3 translation stage the
# case expects the driver to find (evaluate.py checks the driver's feature
# line for it).  The console
# log is kept in build/cases/CASE/console.log; results in
# build/cases/CASE/results.tsv.
. "$(dirname "$0")/lib.sh"

case=${1:-}
cdef=$TOP/tests/cases/$case
[ -f "$cdef" ] || cdef=$TOP/tests/bench/$case
[ -n "$case" ] && [ -f "$cdef" ] ||
	die "unknown case '$case' (one of: $(ls "$TOP/tests/cases" "$TOP/tests/bench" | grep -v : | tr '\n' ' '))"
KERNEL= QEMU_MACHINE= APPEND= TIMEOUT=900 MEM=2G KSELFTESTS= KSFT_SKIPS=0 QEMU= SMMU_STAGE=
. "$cdef"
dir=$BUILD/cases/$case
label=$case
if [ -n "${2:-}" ]; then
	KERNEL=$2
	dir=$BUILD/cases/$case@$2
	label=$case@$2
fi
kdef=$TOP/tests/kernels/$KERNEL
[ -f "$kdef" ] || die "case $case: unknown KERNEL=$KERNEL"
ARCH=
. "$kdef"
image=$BUILD/images/$KERNEL
kout=$BUILD/out/$KERNEL
[ -f "$image" ] || die "case $case: kernel $KERNEL is not built (make build KERNEL=$KERNEL)"

case $ARCH in
x86_64)
	qemu=qemu-system-x86_64 cc=gcc console=ttyS0 ;;
arm64)
	qemu=qemu-system-aarch64 cc=aarch64-linux-gnu-gcc console=ttyAMA0 ;;
*) die "unsupported ARCH=$ARCH" ;;
esac
qemu_opts=()
case $QEMU in
'') ;;
backports)
	[ "$ARCH" = arm64 ] || die "case $case: QEMU=backports is arm64 only"
	bash "$HARNESS/deps.sh" arm64 || exit 1
	qemu_opts=(-L "$QEMU_BP/root/usr/share/qemu")
	qemu=$QEMU_BP/root/usr/bin/$qemu ;;
*) die "case $case: unknown QEMU=$QEMU (backports or unset)" ;;
esac
need "$qemu" "$cc" python3 timeout

mkdir -p "$dir" "$BUILD/initramfs"

# The kselftest programs the case asks for, built out of tree with the
# selftests' own makefiles; make decides what is stale.
progs=()
if [ -n "$KSELFTESTS" ]; then
	hdr=$kout/usr/include
	[ -f "$hdr/linux/types.h" ] ||
		die "case $case: kernel $KERNEL has no exported headers in ${hdr#$TOP/} (make build KERNEL=$KERNEL)"
	klog=$LOGDIR/kselftests-$case.log
	: >"$klog"
	for t in $KSELFTESTS; do
		d=${t%/*} p=${t##*/}
		[ "$d" != "$t" ] && [ -f "$TREE/tools/testing/selftests/$t.c" ] ||
			die "case $case: KSELFTESTS names '$t', but there is no tools/testing/selftests/$t.c"
		o=$BUILD/selftests/$KERNEL/$d
		mkdir -p "$o"
		# CFLAGS from the environment come first: the exported headers
		# win over the -I of the tree that a selftest Makefile may add.
		# -B: the makefiles know only some of the headers a program uses.
		CFLAGS="-I$hdr" LDFLAGS=-static make -B -C "$TREE/tools/testing/selftests/$d" \
			OUTPUT="$o" CROSS_COMPILE="${cc%gcc}" KHDR_INCLUDES="-isystem $hdr" \
			"$o/$p" >>"$klog" 2>&1 ||
			fail_log "case $case: building the kselftest $t for $ARCH failed" "$klog"
		progs+=("$o/$p")
	done
fi

# The initramfs: /init (static), /dev/console and the case's programs.
tag=$ARCH
[ ${#progs[@]} -gt 0 ] && tag=$KERNEL-$(printf '%s\n' $KSELFTESTS | sha1sum | cut -c1-10)
initrd=$BUILD/initramfs/$tag.cpio
src=$TOP/tests/guest/init.c
isum=$(cat "$src" "$HARNESS/boot.sh" ${progs[@]+"${progs[@]}"} | sha1sum | cut -c1-40)
if [ ! -f "$initrd" ] || [ "$(cat "$initrd.sum" 2>/dev/null)" != "$isum" ]; then
	"$cc" -static -O2 -Wall -Wextra -Werror -o "$BUILD/initramfs/init-$ARCH" "$src" \
		>"$LOGDIR/init-$ARCH.log" 2>&1 || fail_log "building the guest init for $ARCH failed" "$LOGDIR/init-$ARCH.log"
	{
		cat <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
file /init $BUILD/initramfs/init-$ARCH 0755 0 0
LIST
		[ ${#progs[@]} -gt 0 ] && echo "dir /bin 0755 0 0"
		for p in ${progs[@]+"${progs[@]}"}; do
			echo "file /bin/${p##*/} $p 0755 0 0"
		done
	} >"$BUILD/initramfs/$tag.list"
	"$kout/usr/gen_init_cpio" "$BUILD/initramfs/$tag.list" >"$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd" || die "gen_init_cpio failed for $ARCH"
	echo "$isum" >"$initrd.sum"
fi

# A fresh disk for the DMA workload.
rm -f "$dir/disk.img"
truncate -s 64M "$dir/disk.img"

log=$dir/console.log
accel=${ACCEL:-tcg}
cmd=("$qemu" ${qemu_opts[@]+"${qemu_opts[@]}"} $QEMU_MACHINE -accel "$accel" -smp 2 -m "$MEM" -display none -no-reboot
	-serial stdio -monitor none
	-kernel "$image" -initrd "$initrd"
	-append "console=$console panic=-1 $APPEND"
	-drive "file=$dir/disk.img,if=none,id=d0,format=raw,cache=none"
	-device "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on")
printf '%q ' "${cmd[@]}" >"$dir/qemu.cmd"
echo >>"$dir/qemu.cmd"

step "boot $label: $qemu ($accel), timeout ${TIMEOUT}s, log: ${log#$TOP/}"
s=$(date +%s)
timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$log" 2>&1
rc=$?
took=$(($(date +%s) - s))
[ $rc -eq 124 ] && echo "harness: QEMU killed after ${TIMEOUT}s" >>"$log"

python3 "$HARNESS/evaluate.py" --case "$label" --log "$log" --config "$kout/.config" \
	--ksft-skips "$KSFT_SKIPS" ${SMMU_STAGE:+--smmu-stage "$SMMU_STAGE"} \
	--kunit-py "$TREE/tools/testing/kunit/kunit.py" --exit-status "$rc" \
	--results "$dir/results.tsv"
ok=$?
np=$(grep -c '^PASS' "$dir/results.tsv" 2>/dev/null)
nf=$(grep -c '^FAIL' "$dir/results.tsv" 2>/dev/null)
grep -h 'init| # mem ' "$log" | tr -d '\r' | sed 's/^init| # mem /    /' >"$dir/memory.txt"
# /sys/kernel/debug/iommu/pages as the guest printed it at the end
grep -h 'init| # pages| ' "$log" | tr -d '\r' | sed 's/^init| # pages| //' >"$dir/pages.txt"
# /sys/kernel/debug/iommu/generic_pt as the guest printed it at the end
grep -h 'init| # pt| ' "$log" | tr -d '\r' | sed 's/^init| # pt| //' >"$dir/pt.txt"
# both reports as snapshots for tools/iommu/iommu_pt_report: at boot, before
# any DMA, and at the end
rm -rf "$dir/snap-boot" "$dir/snap-end"
mkdir -p "$dir/snap-boot" "$dir/snap-end"
grep -h 'init| # boot-pt| ' "$log" | tr -d '\r' | sed 's/^init| # boot-pt| //' >"$dir/snap-boot/generic_pt"
grep -h 'init| # boot-pages| ' "$log" | tr -d '\r' | sed 's/^init| # boot-pages| //' >"$dir/snap-boot/pages"
cp "$dir/pt.txt" "$dir/snap-end/generic_pt"
cp "$dir/pages.txt" "$dir/snap-end/pages"
if [ $ok -eq 0 ]; then
	step "boot $label: PASS ($np checks) in ${took}s"
else
	step "boot $label: FAIL ($nf of $((np + nf)) checks failed) in ${took}s; console log: ${log#$TOP/}"
	exit 1
fi
