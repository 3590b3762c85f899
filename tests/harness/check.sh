#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Makefile's front end.
#   check.sh build [KERNEL]        build one kernel, or all
#   check.sh boot CASE             build the case's kernel, boot the case
#   check.sh run [CASE]            boot one case, print the memory summary
#   check.sh check [ARCH]          harness tests, kernels, every case
#   check.sh compile [TARGET]      compile coverage (tests/compile), W=1
#   check.sh source                the source check (tests/harness/srccheck.py)
#   check.sh harness-test          the harness's own tests
#   check.sh kunit [DIR] [ARCH]    kunit.py run with a .kunitconfig
# Every check leaves one row in build/results/results.tsv for "check", and
# in build/results/results-COMMAND.tsv for the other commands, so that a
# "bench" or "boot" never erases what the last "check" found; "check" ends
# with the line "N passed, N failed".
. "$(dirname "$0")/lib.sh"

RES=$BUILD/results
ALL=$RES/results.tsv
case ${1:-} in
check | "") ;;
*) ALL=$RES/results-$1.tsv ;;
esac

kernel_arch() { (ARCH= && . "$TOP/tests/kernels/$1" && echo "$ARCH"); }
case_file() {
	if [ -f "$TOP/tests/cases/$1" ]; then
		echo "$TOP/tests/cases/$1"
	else
		echo "$TOP/tests/bench/$1"
	fi
}
case_kernel() { (KERNEL= && . "$(case_file "$1")" && echo "$KERNEL"); }
all_kernels() { ls "$TOP/tests/kernels"; }
all_cases() { ls "$TOP/tests/cases"; }
all_benches() { ls "$TOP/tests/bench"; }
# The kernels that make check boots: those its cases name.
check_kernels() { for c in $(all_cases); do case_kernel "$c"; done | sort -u; }

# valid_names WHAT DIR NAME...: die unless each NAME is a file in DIR.
valid_names() {
	local what=$1 dir=$2 n
	shift 2
	for n in "$@"; do
		[ -f "$dir/$n" ] ||
			die "unknown $what '$n' (one of: $(ls "$dir" | tr '\n' ' '))"
	done
}

valid_case() {
	[ -n "$1" ] && [ -f "$TOP/tests/cases/$1" ] ||
		die "unknown case '$1' (one of: $(all_cases | tr '\n' ' '))"
}

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$ALL"; }

# build_kernel NAME: build it once per run; record the result.
declare -A BUILT
build_kernel() {
	local k=$1
	[ -n "${BUILT[$k]:-}" ] && return "${BUILT[$k]}"
	if bash "$HARNESS/build.sh" "$k"; then
		BUILT[$k]=0
		record PASS "build/$k" ""
	else
		BUILT[$k]=1
		record FAIL "build/$k" "see build/logs/build-$k.log"
	fi
	return "${BUILT[$k]}"
}

all_compiles() { ls "$TOP/tests/compile"; }

# compile_target NAME: compile coverage for one architecture; its rows.
compile_target() {
	step "compile coverage: $1 (W=1, drivers/iommu)"
	bash "$HARNESS/compile.sh" "$1" >"$RES/compile-$1.rows"
	cat "$RES/compile-$1.rows" >>"$ALL"
	grep '^FAIL' "$RES/compile-$1.rows" | cut -f2,3 | sed 's/^/  FAIL /' | cut -c1-300
	grep -q '^FAIL' "$RES/compile-$1.rows" && return 1
	grep -q . "$RES/compile-$1.rows" || {
		record FAIL "compile/$1" "compile.sh printed nothing (see above)"
		return 1
	}
}

# boot_case CASE [KERNEL]: build the kernel (the case's own unless named),
# boot the case on it, record its rows.
boot_case() {
	local c=$1 k=${2:-} d=$BUILD/cases/$1
	[ -n "$k" ] && d=$d@$k
	k=${k:-$(case_kernel "$c")}
	if ! build_kernel "$k"; then
		record FAIL "$c" "not booted: kernel $k did not build"
		return 1
	fi
	# a boot that never starts must not leave the last one's log behind
	rm -f "$d/results.tsv" "$d/console.log"
	bash "$HARNESS/boot.sh" "$c" ${2:+"$2"}
	local rc=$?
	if [ -f "$d/results.tsv" ]; then
		cat "$d/results.tsv" >>"$ALL"
	else
		record FAIL "$c" "boot harness error (see above)"
	fi
	return $rc
}

summary() {
	local np nf
	np=$(grep -c '^PASS' "$ALL")
	nf=$(grep -c '^FAIL' "$ALL")
	if [ "$nf" -gt 0 ]; then
		echo "Failed checks:"
		grep '^FAIL' "$ALL" | cut -f2,3 | sed 's/\t/: /; s/^/  /' | cut -c1-300
	fi
	echo "Results: ${ALL#"$TOP"/}; logs: build/logs, build/cases/*/console.log"
	echo "Elapsed: $(elapsed)"
	echo "$np passed, $nf failed"
	[ "$nf" -eq 0 ]
}

memory_summary() {
	local c=$1 f=$BUILD/cases/$1/memory.txt
	echo "IOMMU page-table memory, case $c (nr_iommu_pages, SecPageTables):"
	if [ -s "$f" ]; then
		sed -E 's/^ *//; s/^([^:]*): nr_iommu_pages=([-0-9]+) \(([-0-9]+) kB\) SecPageTables=([-0-9]+) kB/\1|\2|\3|\4/' "$f" |
			awk -F'|' 'BEGIN { printf "  %-18s %8s %10s %15s\n", "when", "pages", "kB", "SecPageTables" }
				   { printf "  %-18s %8s %10s %12s kB\n", $1, $2, $3, $4 }'
	else
		echo "  (no figures: the guest did not report any)"
	fi
}

# run: the guest's last read of /sys/kernel/debug/iommu/pages.
pages_report() {
	local f=$BUILD/cases/$1/pages.txt
	[ -s "$f" ] || return 0
	echo "/sys/kernel/debug/iommu/pages at the end of case $1:"
	sed 's/^/  /' "$f"
	f=$BUILD/cases/$1/pt.txt
	[ -s "$f" ] || return 0
	echo "/sys/kernel/debug/iommu/generic_pt at the end of case $1:"
	sed 's/^/  /' "$f"
	pt_tool || return 0
	echo "tools/iommu/iommu_pt_report on the snapshot at the end of case $1:"
	"$BUILD/bin/iommu_pt_report" -d "$BUILD/cases/$1/snap-end" | sed 's/^/  /'
	[ -s "$BUILD/cases/$1/snap-boot/pages" ] || return 0
	echo "iommu_pt_report --diff: from boot (before DMA) to the end of case $1:"
	"$BUILD/bin/iommu_pt_report" --diff "$BUILD/cases/$1/snap-boot" \
		"$BUILD/cases/$1/snap-end" | sed 's/^/  /'
}

# Build tools/iommu/iommu_pt_report from the tree for the host.
pt_tool() {
	local src=$TREE/tools/iommu/iommu_pt_report.c bin=$BUILD/bin/iommu_pt_report
	[ -f "$src" ] || return 1
	[ "$bin" -nt "$src" ] && return 0
	mkdir -p "$BUILD/bin"
	cc -O2 -Wall -Wextra -Werror -o "$bin" "$src"
}

start() {
	mkdir -p "$RES" "$LOGDIR"
	: >"$ALL"
}

cmd=${1:-}
shift
case $cmd in
build)
	start
	ks=${1:-$(all_kernels)}
	valid_names kernel "$TOP/tests/kernels" $ks
	rc=0
	for k in $ks; do build_kernel "$k" || rc=1; done
	exit $rc
	;;
boot)
	valid_case "${1:-}"
	start
	bash "$HARNESS/deps.sh" "$(kernel_arch "$(case_kernel "$1")")" || exit 1
	boot_case "$1"
	summary
	;;
run)
	c=${1:-vtd-strict}
	valid_case "$c"
	start
	bash "$HARNESS/deps.sh" "$(kernel_arch "$(case_kernel "$c")")" || exit 1
	boot_case "$c"
	rc=$?
	memory_summary "$c"
	pages_report "$c"
	summary >/dev/null
	grep -c '^PASS' "$ALL" | xargs printf 'case %s: %s checks passed, ' "$c"
	grep -c '^FAIL' "$ALL" | xargs printf '%s failed\n'
	exit $rc
	;;
check)
	arch=${1:-}
	case $arch in
	"" | x86_64 | arm64) ;;
	*) die "unknown ARCH '$arch' (x86_64 or arm64)" ;;
	esac
	start
	step "check: installing what is missing"
	bash "$HARNESS/deps.sh" "${arch:-all}" || exit 1
	step "check: assembling the tree"
	if ! bash "$HARNESS/tree.sh" assemble; then
		record FAIL tree "build/linux could not be assembled"
		summary
		exit 1
	fi
	step "check: the series (owned files, make series, git am onto the base)"
	if out=$(bash "$HARNESS/tree.sh" verify 2>&1); then
		record PASS series/owned-files "$out"
	else
		record FAIL series/owned-files "$(echo "$out" | tr '\n' ' ' | cut -c1-300)"
	fi
	if V= bash "$HARNESS/series.sh" write >"$LOGDIR/series.log" 2>&1; then
		record PASS series/write "$(tail -3 "$LOGDIR/series.log" | head -1)"
	else
		record FAIL series/write "$(tail -1 "$LOGDIR/series.log")"
	fi
	V= bash "$HARNESS/series.sh" am-check >>"$ALL"
	grep '^FAIL.*series/' "$ALL" | cut -f2,3 | sed 's/^/  FAIL /' | cut -c1-300
	step "check: harness self-tests"
	bash "$HARNESS/selftest.sh" >>"$ALL"
	step "check: harness self-tests: $(grep -c '^PASS.*harness/' "$ALL") passed, $(grep -c '^FAIL.*harness/' "$ALL") failed"
	grep '^FAIL.*harness/' "$ALL" | cut -f2,3 | sed 's/^/  FAIL /'
	for k in $(check_kernels); do
		[ -z "$arch" ] || [ "$(kernel_arch "$k")" = "$arch" ] || continue
		build_kernel "$k"
	done
	if [ -z "$arch" ] || [ "$arch" = x86_64 ]; then
		step "check: kernel style (checkpatch, kernel-doc, W=1, sparse)"
		bash "$HARNESS/lint.sh" >>"$ALL"
		step "check: kernel style: $(grep -c '^PASS.*lint/' "$ALL") passed, $(grep -c '^FAIL.*lint/' "$ALL") failed"
		grep '^FAIL.*lint/' "$ALL" | cut -f2,3 | sed 's/^/  FAIL /'
	fi
	step "check: source check (table memory through iommu-pages only)"
	python3 "$HARNESS/srccheck.py" "$TREE" "$TOP/tests/srccheck/allow" >>"$ALL" 2>"$LOGDIR/srccheck.log"
	grep '^FAIL.*source/' "$ALL" | cut -f2,3 | sed 's/^/  FAIL /' | cut -c1-300
	for t in $(all_compiles); do
		[ -z "$arch" ] || [ "$t" = "$arch" ] || continue
		compile_target "$t"
	done
	for c in $(all_cases); do
		[ -z "$arch" ] || [ "$(kernel_arch "$(case_kernel "$c")")" = "$arch" ] || continue
		boot_case "$c"
	done
	for c in $(all_cases); do
		[ -s "$BUILD/cases/$c/memory.txt" ] && memory_summary "$c"
	done
	# what the cover letter of 'make series' reports; only a full run
	if [ -z "$arch" ]; then
		cp "$ALL" "$RES/check.tsv"
		git -C "$TREE" rev-parse HEAD >"$RES/check.tsv.head"
	fi
	summary
	;;
bench)
	bs=${1:-$(all_benches)}
	valid_names benchmark "$TOP/tests/bench" $bs
	runs=${RUNS:-1}
	[[ "$runs" =~ ^[1-9][0-9]?$ ]] ||
		die "RUNS must be a number of boots from 1 to 99, not '$runs'"
	start
	rc=0
	for b in $bs; do
		bash "$HARNESS/deps.sh" "$(kernel_arch "$(case_kernel "$b")")" || exit 1
		SUITE= BASE_KERNEL=
		. "$TOP/tests/bench/$b"
		out=$BUILD/bench/$b.txt
		mkdir -p "$BUILD/bench"
		rm -f "$BUILD/bench/$b".run*.txt
		for r in $(seq "$runs"); do
			boot_case "$b" || rc=1
			if [ -n "$BASE_KERNEL" ]; then
				# the same case on the unpatched base; one table of both
				boot_case "$b" "$BASE_KERNEL" || rc=1
				python3 "$HARNESS/benchsum.py" --dma "$BUILD/cases/$b/console.log" \
					"$BUILD/cases/$b@$BASE_KERNEL/console.log" >"$out" || rc=1
			else
				# kunit_info() lines of the benchmark: "# <case>: <text>"
				sed -n 's/^\[[ 0-9.]*\] *# [a-z_]*bench[a-z_]*: //p' \
					"$BUILD/cases/$b/console.log" >"$out"
			fi
			[ -s "$out" ] || {
				echo "error: benchmark $b printed no table" >&2
				rc=1
				break
			}
			cp "$out" "$BUILD/bench/$b.run$r.txt"
		done
		{
			if [ -n "$BASE_KERNEL" ]; then
				echo "benchmark $b (kernels $(case_kernel "$b") and $BASE_KERNEL, ${ACCEL:-tcg}):"
			else
				echo "benchmark $b (suite $SUITE, kernel $(case_kernel "$b"), ${ACCEL:-tcg}):"
			fi
			sed 's/^/  /' "$out"
			if [ "$runs" -gt 1 ] && [ "$rc" -eq 0 ]; then
				python3 "$HARNESS/benchsum.py" \
					$(seq -f "$BUILD/bench/$b.run%g.txt" "$runs") |
					sed 's/^/  /'
			fi
		} | tee "$out.summary"
	done
	exit $rc
	;;
compile)
	ts=${1:-$(all_compiles)}
	valid_names "compile target" "$TOP/tests/compile" $ts
	start
	bash "$HARNESS/deps.sh" all || exit 1
	rc=0
	for t in $ts; do compile_target "$t" || rc=1; done
	summary || rc=1
	exit $rc
	;;
source)
	start
	python3 "$HARNESS/srccheck.py" "$TREE" "$TOP/tests/srccheck/allow" >>"$ALL" 2>"$LOGDIR/srccheck.log"
	cut -c1-300 "$LOGDIR/srccheck.log"
	summary
	;;
harness-test)
	start
	bash "$HARNESS/selftest.sh" >>"$ALL"
	summary
	;;
kunit)
	dir=${1:-} karch=${2:-}
	karch=${karch:-x86_64}
	case $karch in
	x86_64) cross= ;;
	arm64) cross=--cross_compile=aarch64-linux-gnu- ;;
	*) die "unknown KUNIT_ARCH '$karch' (x86_64 or arm64)" ;;
	esac
	if [ -z "$dir" ]; then
		[ "$karch" = arm64 ] && dir=drivers/iommu/arm/arm-smmu-v3 || dir=drivers/iommu
	fi
	[ -f "$TREE/$dir/.kunitconfig" ] || [ -f "$TREE/$dir" ] ||
		die "no .kunitconfig at build/linux/$dir"
	bash "$HARNESS/deps.sh" "$karch" || exit 1
	log=$LOGDIR/kunit-$karch.log
	mkdir -p "$LOGDIR"
	step "kunit: kunit.py run --kunitconfig=$dir --arch=$karch (log: ${log#$TOP/})"
	# shellcheck disable=SC2086
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py run --kunitconfig="$dir" \
		--arch="$karch" $cross --build_dir="$BUILD/kunit-$karch" \
		--jobs="$(nproc)" --make_options CC="ccache ${cross:+aarch64-linux-gnu-}gcc") \
		>"$log" 2>&1
	rc=$?
	grep -E 'Testing complete|PASSED|FAILED|CRASHED' "$log" | tail -15
	[ $rc -eq 0 ] || fail_log "kunit.py run failed" "$log"
	;;
*)
	die "usage: check.sh build|boot|run|check|compile|source|harness-test|kunit ..."
	;;
esac
