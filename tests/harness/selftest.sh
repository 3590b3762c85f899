#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The harness's own tests: it must fail where it must.  Prints one row per
# test ("PASS<TAB>harness/name<TAB>detail") on stdout; details of failures
# go to build/logs/harness-test.log.  With arguments, runs only the tests
# of those names (selftest.sh tree_lifecycle benchsum).
. "$(dirname "$0")/lib.sh"
ONLY=" $* "

FIX=$HARNESS/fixtures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
LOG=$LOGDIR/harness-test.log
mkdir -p "$LOGDIR"
: >"$LOG"
KUNIT_PY=$TREE/tools/testing/kunit/kunit.py

row() { printf '%s\tharness/%s\t%s\n' "$1" "$2" "$3"; }

# t NAME DESCRIPTION: run the function t_NAME; its exit status decides.
t() {
	[ "$ONLY" = "  " ] || [[ "$ONLY" == *" $1 "* ]] || return 0
	local out rc
	echo "=== $1" >>"$LOG"
	# A plain statement, not an "if" condition: there "set -e" in a test
	# would be ignored, and a failed step would not fail the test.
	("t_$1") >"$TMP/t.out" 2>&1
	rc=$?
	out=$(cat "$TMP/t.out")
	if [ $rc -eq 0 ]; then
		row PASS "$1" "$2"
	else
		row FAIL "$1" "$2: $(echo "$out" | tail -3 | tr '\n' ' ' | cut -c1-250)"
	fi
	echo "$out" >>"$LOG"
}

# --- evaluate.py on recorded console logs --------------------------------

# judge LOG CONFIG [EXIT]: run the evaluator, leave its rows in $TMP/rows.
judge() {
	python3 "$HARNESS/evaluate.py" --case fx --log "$1" --config "$2" \
		--kunit-py "$KUNIT_PY" --exit-status "${3:-0}" --results "$TMP/rows" \
		--ksft-skips "${KSFT_SKIPS:-0}" ${SMMU_STAGE:+--smmu-stage "$SMMU_STAGE"}
}

# expect_fail CHECK PATTERN: the evaluator failed, and CHECK failed with a
# detail matching PATTERN.
expect_fail() {
	local rc=$1
	shift
	[ "$rc" -ne 0 ] || {
		echo "evaluator passed a bad log"
		return 1
	}
	grep -P "^FAIL\tfx/$1\t.*$2" "$TMP/rows" >/dev/null || {
		echo "no FAIL row for $1 matching '$2':"
		cat "$TMP/rows"
		return 1
	}
}

# plant LINE AFTER-LINE-NUMBER: the x86 fixture with LINE inserted.
plant() {
	sed "$2a\\$1" "$FIX/vtd-strict.console.log" >"$TMP/planted.log"
}

t_eval_clean() {
	judge "$FIX/vtd-strict.console.log" "$FIX/x86_64.config" || {
		cat "$TMP/rows"
		return 1
	}
	# every expected check is there and passed
	for c in console kunit/list-kunit-test init/dma_integrity init/no_leak_over_domain_life; do
		grep -qP "^PASS\tfx/$c\t" "$TMP/rows" || {
			echo "missing PASS row for $c"
			return 1
		}
	done
}

t_eval_warn() {
	plant '[   12.345678] WARNING: CPU: 1 PID: 1 at drivers/iommu/iommu-pages.c:42 iommu_free_pages+0x1/0x2' 200
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? console 'line 201: WARN'
}

t_eval_kasan() {
	plant '[   30.000001] BUG: KASAN: use-after-free in dma_pte_clear_level+0x10/0x20' 380
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? console 'KASAN|BUG'
}

t_eval_dmar_fault() {
	plant '[   25.100000] DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set' 370
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? console 'DMAR fault'
}

t_eval_kmemleak() {
	plant '[   40.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)' 395
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? console kmemleak
}

t_eval_lockdep() {
	plant '[   10.000000] WARNING: possible circular locking dependency detected' 150
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? console 'lockdep|WARN'
}

t_eval_kunit_fail() {
	sed 's/^\(\[[ 0-9.]*\]     \)ok 3 list_test_list_add_tail/\1not ok 3 list_test_list_add_tail/' \
		"$FIX/vtd-strict.console.log" >"$TMP/k.log"
	! cmp -s "$TMP/k.log" "$FIX/vtd-strict.console.log" || {
		echo "fixture has no KUnit line to flip"
		return 1
	}
	judge "$TMP/k.log" "$FIX/x86_64.config"
	expect_fail $? kunit/list-kunit-test list_test_list_add_tail
}

t_eval_kunit_interleaved() {
	# An asynchronous probe's message between two KTAP lines (seen on a
	# real boot): the suites still parse and pass.
	awk '{ print } /^\[[ 0-9.]*\]     KTAP version 1\r?$/ && !done { print "[   12.552100] input: ImExPS/2 Generic Explorer Mouse as /devices/platform/i8042/serio1/input/input3\r"; done = 1 }' \
		"$FIX/vtd-strict.console.log" >"$TMP/k.log"
	grep -A1 '     KTAP version 1' "$TMP/k.log" | grep -q 'input: ImExPS' || {
		echo "fixture has no nested KTAP version line"
		return 1
	}
	judge "$TMP/k.log" "$FIX/x86_64.config" || {
		cat "$TMP/rows"
		return 1
	}
	grep -qP "^PASS\tfx/kunit/list-kunit-test\t" "$TMP/rows" || {
		echo "list-kunit-test not passed"
		return 1
	}
}

t_eval_kunit_crash() {
	# The kernel's KTAP stops in the middle of a suite: a crash.
	awk '/list_test_list_del_init_careful/ { print "[   22.500000] ---[ end Kernel panic - not syncing: Fatal exception ]---"; exit } { print }' \
		"$FIX/vtd-strict.console.log" >"$TMP/k.log"
	judge "$TMP/k.log" "$FIX/x86_64.config" 1
	expect_fail $? 'kunit/list-kunit-test|console' '.'
}

t_eval_init_fail() {
	sed 's/^init| ok 4 dma_integrity/init| not ok 4 dma_integrity/' \
		"$FIX/vtd-strict.console.log" >"$TMP/i.log"
	judge "$TMP/i.log" "$FIX/x86_64.config"
	expect_fail $? init/dma_integrity '.'
}

t_eval_init_cut() {
	# The init stops early (crash or hang): the plan is not met, no "init done".
	sed '/^init| ok 4 dma_integrity/,$d' "$FIX/vtd-strict.console.log" >"$TMP/i.log"
	judge "$TMP/i.log" "$FIX/x86_64.config"
	expect_fail $? 'console|init/ktap' 'init never finished|plan says'
}

t_eval_hang() {
	judge "$FIX/vtd-strict.console.log" "$FIX/x86_64.config" 124
	expect_fail $? console 'hung boot'
}

# ksft_log OUT LINE...: the fixture with iommutest.kselftest=demo on its
# command line and LINE... forwarded as the demo program's output.
ksft_log() {
	local out=$1 l
	shift
	sed '2s/\r\{0,1\}$/ iommutest.kselftest=demo\r/' "$FIX/vtd-strict.console.log" >"$out"
	for l in "$@"; do printf 'ksft| demo| %s\n' "$l"; done >>"$out"
}

t_eval_kselftest() {
	ksft_log "$TMP/ks.log" 'TAP version 13' '1..3' '#  RUN  fx.one ...' \
		'ok 1 fx.one' 'ok 2 fx.two # SKIP no hugepages' 'ok 3 fx.three' \
		'# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0'
	# one skip, which this case allows
	KSFT_SKIPS=1 judge "$TMP/ks.log" "$FIX/x86_64.config" || {
		cat "$TMP/rows"
		return 1
	}
	grep -qP '^PASS\tfx/kselftest/demo/fx.one\t' "$TMP/rows" &&
		grep -qP '^PASS\tfx/kselftest/demo/fx.two\tskipped: no hugepages' "$TMP/rows" &&
		grep -qP '^PASS\tfx/kselftest/demo/tap\t3 tests; pass:2' "$TMP/rows" || {
		cat "$TMP/rows"
		return 1
	}
	# a failing test fails its row, with the diagnostics before it
	ksft_log "$TMP/ks.log" '1..2' 'ok 1 fx.one' '# fx.c:12:two:Expected 0 (0) == rc (-22)' \
		'not ok 2 fx.two'
	judge "$TMP/ks.log" "$FIX/x86_64.config"
	expect_fail $? kselftest/demo/fx.two 'Expected 0'
	# cut short: the plan is not met
	ksft_log "$TMP/ks.log" '1..3' 'ok 1 fx.one'
	judge "$TMP/ks.log" "$FIX/x86_64.config"
	expect_fail $? kselftest/demo/tap 'plan says 3 tests, 1 reported'
	# asked for, but it printed nothing
	ksft_log "$TMP/ks.log"
	judge "$TMP/ks.log" "$FIX/x86_64.config"
	expect_fail $? kselftest/demo 'printed no TAP' || return 1
	# every test skipped (the program exits 0): the case allows no skip
	ksft_log "$TMP/ks.log" '1..2' 'ok 1 fx.one # SKIP no fault injection' \
		'ok 2 fx.two # SKIP no fault injection'
	judge "$TMP/ks.log" "$FIX/x86_64.config"
	expect_fail $? kselftest/demo/tap '2 of 2 tests skipped; the case allows 0' || return 1
	# an unexpected pass, and a "not ok" marked SKIP, fail
	ksft_log "$TMP/ks.log" '1..2' 'ok 1 fx.one # XPASS oops' 'not ok 2 fx.two # SKIP odd'
	judge "$TMP/ks.log" "$FIX/x86_64.config"
	expect_fail $? kselftest/demo/fx.one 'expected to fail' || return 1
	grep -qP '^FAIL\tfx/kselftest/demo/fx.two\t' "$TMP/rows"
}

t_eval_kunit_off() {
	# kunit.enable=0 on the command line: no KTAP is expected
	sed -e '2s/\r\{0,1\}$/ kunit.enable=0\r/' -e '/^\[[ 0-9.]*\] *\(KTAP\|TAP\|1\.\.\|ok \|not ok \|#\|    \)/d' \
		"$FIX/vtd-strict.console.log" >"$TMP/ko.log"
	judge "$TMP/ko.log" "$FIX/x86_64.config" || {
		cat "$TMP/rows"
		return 1
	}
	grep -qP '^PASS\tfx/kunit\tnot run: kunit.enable=0' "$TMP/rows" || return 1
	# without the parameter the same log fails
	sed '2s/ kunit.enable=0//' "$TMP/ko.log" >"$TMP/ko2.log"
	judge "$TMP/ko2.log" "$FIX/x86_64.config"
	expect_fail $? kunit 'no KTAP output'
}

# The descriptor mode: an overlay log passes an overlay config; with the
# option the init line and both cases are needed, and a skip fails.
t_eval_memdesc() {
	local l='[    0.400000] iommu-pages: descriptors apart from struct page, 40 bytes each'
	cp "$FIX/x86_64.config" "$TMP/sep.config"
	printf 'CONFIG_IOMMU_PAGES_SEPARATE_DESC=y\nCONFIG_IOMMU_PAGES_KUNIT_TEST=y\n' >>"$TMP/sep.config"
	judge "$FIX/vtd-strict.console.log" "$TMP/sep.config"
	expect_fail $? memdesc 'no "iommu-pages: descriptors apart.*desc_apart: did not run' || return 1
	plant "$l" 10
	judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? memdesc 'separate descriptors in an overlay build' || return 1
	{
		sed -n 1,10p "$FIX/vtd-strict.console.log"
		echo "$l"
		sed -n '11,$p' "$FIX/vtd-strict.console.log"
	} >"$TMP/sep.log"
	printf '%s\n' '[    9.000000]     ok 90 iommu_pages_test_desc_apart' \
		'[    9.000001]     ok 91 iommu_pages_test_desc_failure # SKIP no' >"$TMP/cases"
	sed "12r $TMP/cases" "$TMP/sep.log" >"$TMP/sep2.log"
	judge "$TMP/sep2.log" "$TMP/sep.config"
	expect_fail $? memdesc 'desc_failure: SKIP' || return 1
	sed -i 's/desc_failure # SKIP no/desc_failure/' "$TMP/sep2.log"
	judge "$TMP/sep2.log" "$TMP/sep.config"
	grep -qP '^PASS\tfx/memdesc\t' "$TMP/rows" || { cat "$TMP/rows"; return 1; }
}

# Which code built the device's io-pgtable: the init's count after DMA must
# be positive with io_pgtable_arm.generic_pt=1 and zero without it.
t_eval_generic_pt() {
	local l='init| # generic_pt after DMA: 2 live io-pgtable LPAE tables'
	cp "$FIX/x86_64.config" "$TMP/pt.config"
	printf 'CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT=y\n' >>"$TMP/pt.config"
	judge "$FIX/vtd-strict.console.log" "$TMP/pt.config"
	expect_fail $? generic_pt 'no "generic_pt after DMA" count' || return 1
	plant "$l" 368
	judge "$TMP/planted.log" "$TMP/pt.config"
	expect_fail $? generic_pt '2 tables built by generic_pt without' || return 1
	sed -i '2s/\r\{0,1\}$/ io_pgtable_arm.generic_pt=1\r/' "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/pt.config" || { cat "$TMP/rows"; return 1; }
	grep -qP '^PASS\tfx/generic_pt\t2 live LPAE tables' "$TMP/rows" || { cat "$TMP/rows"; return 1; }
	sed -i 's/after DMA: 2 live/after DMA: 0 live/' "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/pt.config"
	expect_fail $? generic_pt 'yet no table built by generic_pt' || return 1
	# without the option the row is not judged
	judge "$TMP/planted.log" "$FIX/x86_64.config" || { cat "$TMP/rows"; return 1; }
	! grep -qP '\tfx/generic_pt\t' "$TMP/rows"
}

# Which code built the AMD-Vi domains' v1 tables: amdv1 domains mapping
# something after DMA exactly with amd_iommu=generic_pt, and the driver's
# own line then.
t_eval_amd_pt() {
	local l='init| # generic_pt after DMA: format amdv1 domains 2 mapped 8192 bytes'
	cp "$FIX/x86_64.config" "$TMP/amd.config"
	printf 'CONFIG_AMD_IOMMU_GENERIC_PT=y\nCONFIG_IOMMU_DEBUGFS=y\n' >>"$TMP/amd.config"
	# not an AMD-Vi boot: not judged
	judge "$FIX/vtd-strict.console.log" "$TMP/amd.config" || { cat "$TMP/rows"; return 1; }
	grep -qP '\tfx/amd-pt\t' "$TMP/rows" && return 1
	plant '[    5.600000] AMD-Vi: Interrupt remapping enabled' 100
	judge "$TMP/planted.log" "$TMP/amd.config"
	expect_fail $? amd-pt 'no "generic_pt after DMA" domain lines' || return 1
	sed -i "368a\\$l" "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/amd.config"
	expect_fail $? amd-pt '2 amdv1 domains built by generic_pt without' || return 1
	sed -i '2s/\r\{0,1\}$/ amd_iommu=force_isolation,generic_pt\r/' "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/amd.config"
	expect_fail $? amd-pt 'never said it built one' || return 1
	sed -i '101a\[    5.700000] AMD-Vi: v1 page tables built by generic_pt' "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/amd.config" || { cat "$TMP/rows"; return 1; }
	grep -qP '^PASS\tfx/amd-pt\t2 amdv1 domains built by generic_pt map 8192 bytes' "$TMP/rows" || { cat "$TMP/rows"; return 1; }
	sed -i 's/domains 2 mapped 8192 bytes/domains 2 mapped 0 bytes/' "$TMP/planted.log"
	judge "$TMP/planted.log" "$TMP/amd.config"
	expect_fail $? amd-pt 'yet 2 amdv1 domains map 0 bytes' || return 1
}

t_eval_smmu_stage() {
	local f='[    3.400000] arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x000'
	# no feature line at all
	SMMU_STAGE=2 judge "$FIX/vtd-strict.console.log" "$FIX/x86_64.config"
	expect_fail $? smmu-stage 'no arm-smmu-v3 feature line' || return 1
	# QEMU 7.2: stage 1 alone
	plant "${f}28305)" 100
	SMMU_STAGE=2 judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? smmu-stage 'wants an SMMUv3 with stage 2 alone; features 0x28305' || return 1
	SMMU_STAGE=1 judge "$TMP/planted.log" "$FIX/x86_64.config" || { cat "$TMP/rows"; return 1; }
	# QEMU 10's virt-9.2 and later: both stages (the driver picks stage 1)
	plant "${f}a8705)" 100
	SMMU_STAGE=2 judge "$TMP/planted.log" "$FIX/x86_64.config"
	expect_fail $? smmu-stage 'features 0xa8705' || return 1
	# stage 2 alone
	plant "${f}28505)" 100
	SMMU_STAGE=2 judge "$TMP/planted.log" "$FIX/x86_64.config" || { cat "$TMP/rows"; return 1; }
	grep -qP '^PASS\tfx/smmu-stage\t.*paging domains are stage 2' "$TMP/rows" || { cat "$TMP/rows"; return 1; }
	# not asked: not judged
	judge "$TMP/planted.log" "$FIX/x86_64.config" || return 1
	! grep -qP '\tfx/smmu-stage\t' "$TMP/rows"
}

t_eval_selftest_fail() {
	printf 'CONFIG_IOMMU_IO_PGTABLE_LPAE_SELFTEST=y\n' >"$TMP/lpae.config"
	plant '[    3.000000] arm-lpae io-pgtable: selftest: completed with 100 PASS 2 FAIL' 100
	judge "$TMP/planted.log" "$TMP/lpae.config"
	expect_fail $? selftest/io-pgtable-lpae '100 PASS 2 FAIL' || return 1
	# and a config that enables it but a log without it fails too
	judge "$FIX/vtd-strict.console.log" "$TMP/lpae.config"
	expect_fail $? selftest/io-pgtable-lpae 'no "selftest: completed"'
}

# --- tree.sh on a tiny fake kernel ---------------------------------------

# A fake kernel source and a fake project repo; tree.sh runs with TOP/BUILD
# pointing at them and KSRC at the fake kernel.  The repo's series has one
# patch, which creates the owned file drivers/iommu/new-owned.c; the repo
# keeps that file as the series gives it.
fake_setup() {
	rm -rf "$TMP/k" "$TMP/repo" "$TMP/kgit"
	mkdir -p "$TMP/k/drivers/iommu" "$TMP/k/include/linux" "$TMP/repo/drivers/iommu" "$TMP/repo/patches"
	printf 'kernelversion:\n\t@echo 6.12.0-fake\n' >"$TMP/k/Makefile"
	printf 'obj-y += iommu.o\n' >"$TMP/k/drivers/iommu/Makefile"
	printf '/* base */\nint base;\n' >"$TMP/k/drivers/iommu/iommu-pages.c"
	printf 'int a;\nint b;\nint c;\n' >"$TMP/k/drivers/iommu/iommu.c"
	cp -r "$TMP/k" "$TMP/kgit"
	(cd "$TMP/kgit" && git init -q . && git add -A &&
		git -c user.name=t -c user.email=t@t commit -qm base &&
		printf 'int new_owned;\n' >drivers/iommu/new-owned.c &&
		git add drivers/iommu/new-owned.c &&
		git -c user.name=t -c user.email=t@t commit -qm "iommu: add new-owned" &&
		git format-patch -q --zero-commit --no-signature -o "$TMP/repo/patches" HEAD~1 >/dev/null)
	(cd "$TMP/repo/patches" && ls ./*.patch | sed 's|^./||' >series)
	printf 'int new_owned;\n' >"$TMP/repo/drivers/iommu/new-owned.c"
	(cd "$TMP/repo" && git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm init)
}

tree_sh() {
	TOP=$TMP/repo BUILD=$TMP/repo/build KSRC=$TMP/k LOGDIR=$TMP/logs \
		bash "$HARNESS/tree.sh" "$@"
}
fg() { git -C "$TMP/repo/build/linux" -c user.name=dev -c user.email=dev@localhost "$@"; }

# must_fail OUT WHAT COMMAND...: COMMAND, its output in OUT, must fail;
# if it succeeds, say WHAT and fail the test.
must_fail() {
	local out=$1 what=$2
	shift 2
	if "$@" >"$out" 2>&1; then
		echo "$what"
		return 1
	fi
}

# fake_commit LINE SUBJECT: a commit in the fake tree adding LINE to iommu.c.
fake_commit() {
	printf '%s\n' "$1" >>"$TMP/repo/build/linux/drivers/iommu/iommu.c"
	fg commit -qam "$2"
}

t_tree_lifecycle() {
	set -e
	fake_setup
	tree_sh assemble
	[ "$(fg rev-list --count HEAD)" = 2 ] || { echo "want base + 1 patch commit, no overlay"; return 1; }
	[ -f "$TMP/repo/build/linux/drivers/iommu/new-owned.c" ]
	grep -q base "$TMP/repo/build/linux/drivers/iommu/iommu-pages.c"
	tree_sh assemble >"$TMP/as"
	grep -q 'up to date' "$TMP/as"
	tree_sh status >/dev/null
	tree_sh verify >"$TMP/vf"
	grep -q 'each exactly what patches/ gives' "$TMP/vf"
	# two commits in the tree: status and assemble must refuse to lose them
	printf 'obj-y += foo.o\n' >>"$TMP/repo/build/linux/drivers/iommu/Makefile"
	fg commit -qam "iommu: build foo"
	sed -i 's/int b;/int bb;/' "$TMP/repo/build/linux/drivers/iommu/iommu.c"
	printf 'int newer;\n' >"$TMP/repo/build/linux/drivers/iommu/newer.c"
	fg add drivers/iommu/newer.c
	fg commit -qam "iommu: rename b, add newer"
	must_fail "$TMP/st" "status passed with unexported commits" tree_sh status
	grep -q 'not exported' "$TMP/st"
	touch "$TMP/repo/drivers/iommu/new-owned.c" # not a content change
	printf 'int x;\n' >>"$TMP/repo/patches/series"
	must_fail "$TMP/as" "assemble threw away unexported work" tree_sh assemble
	grep -q 'not re-assembling' "$TMP/as"
	[ "$(fg log -1 --format=%s)" = "iommu: rename b, add newer" ]
	(cd "$TMP/repo" && git checkout -q patches/series)
	# export writes the series and the new owned file; a second export
	# changes nothing
	tree_sh export >"$TMP/ex"
	grep -q 'owned file written: drivers/iommu/newer.c' "$TMP/ex"
	[ "$(cat "$TMP/repo/patches/series" | wc -l)" = 3 ]
	grep -q '^+int newer;' "$TMP"/repo/patches/0003-*.patch
	grep -q '^+int new_owned;' "$TMP"/repo/patches/0001-*.patch
	sha1sum "$TMP"/repo/patches/* "$TMP"/repo/drivers/iommu/* >"$TMP/sum1"
	tree_sh status >/dev/null
	tree_sh export >/dev/null
	sha1sum "$TMP"/repo/patches/* "$TMP"/repo/drivers/iommu/* | cmp -s - "$TMP/sum1" ||
		{ echo "second export changed the repo"; return 1; }
	grep -q '^From 0000000000000000000000000000000000000000' "$TMP"/repo/patches/0001-*.patch
	# re-assembled from the repo alone, the tree is the same
	local tree1
	tree1=$(fg rev-parse 'HEAD^{tree}')
	rm -rf "$TMP/repo/build"
	tree_sh assemble
	[ "$(fg rev-list --count HEAD)" = 4 ] || { echo "want base + 3 patches"; return 1; }
	[ "$(fg rev-parse 'HEAD^{tree}')" = "$tree1" ] || { echo "re-assembled tree differs"; return 1; }
	[ "$(fg log -1 --format=%s)" = "iommu: rename b, add newer" ]
	# an owned file is changed in the patch that creates it (a fixup
	# rebased in): export rewrites that patch and the repo's copy
	sed -i 's/new_owned;/new_owned_edited;/' "$TMP/repo/build/linux/drivers/iommu/new-owned.c"
	fg commit -qa --fixup=HEAD~2
	GIT_SEQUENCE_EDITOR=true fg rebase -q -i --autosquash harness/base
	[ "$(fg rev-list --count HEAD)" = 4 ]
	tree_sh export >"$TMP/ex"
	grep -q "owned file written: drivers/iommu/new-owned.c" "$TMP/ex"
	grep -q new_owned_edited "$TMP/repo/drivers/iommu/new-owned.c"
	grep -q '^+int new_owned_edited;' "$TMP"/repo/patches/0001-*.patch
	tree_sh status >/dev/null
	tree_sh verify >/dev/null
	# a commit that adds a file, exported at once: the file is written
	printf '/* newest */\n' >"$TMP/repo/build/linux/drivers/iommu/newest.h"
	fg add drivers/iommu/newest.h
	fg commit -qm "iommu: add newest.h"
	tree_sh export >"$TMP/ex"
	grep -q 'owned file written: drivers/iommu/newest.h' "$TMP/ex"
	cmp -s "$TMP/repo/build/linux/drivers/iommu/newest.h" "$TMP/repo/drivers/iommu/newest.h"
	tree_sh verify >/dev/null
	# an owned file edited in the repo is not what the series gives: named
	echo '/* stray */' >>"$TMP/repo/drivers/iommu/newer.c"
	must_fail "$TMP/as" "assemble accepted an owned file that differs from the series" tree_sh assemble
	grep -q 'drivers/iommu/newer.c: differs from what patches/ gives' "$TMP/as"
	must_fail "$TMP/vf" "verify accepted an owned file that differs from the series" tree_sh verify
	grep -q 'drivers/iommu/newer.c: differs' "$TMP/vf"
	(cd "$TMP/repo" && git checkout -q drivers/iommu/newer.c 2>/dev/null || sed -i '/stray/d' drivers/iommu/newer.c)
	tree_sh verify >/dev/null
	# an owned file the series does not create, and one missing: named
	printf 'int stray;\n' >"$TMP/repo/drivers/iommu/stray.c"
	mv "$TMP/repo/drivers/iommu/newer.c" "$TMP/newer.c"
	must_fail "$TMP/vf" "verify accepted a stray and a missing owned file" tree_sh verify
	grep -q 'drivers/iommu/stray.c: in the repo, but patches/ does not create it' "$TMP/vf"
	grep -q 'drivers/iommu/newer.c: created by patches/, missing from the repo' "$TMP/vf"
	rm "$TMP/repo/drivers/iommu/stray.c"
	mv "$TMP/newer.c" "$TMP/repo/drivers/iommu/newer.c"
	tree_sh verify >/dev/null
	# a new file not added (Debian's .gitignore hides it from git status)
	# is uncommitted work too
	echo 'int wip;' >"$TMP/repo/build/linux/drivers/iommu/wip.c"
	printf '/*\n' >"$TMP/repo/build/linux/.gitignore"
	must_fail "$TMP/st" "status passed with a new file not added" tree_sh status
	grep -q 'wip.c' "$TMP/st"
	rm "$TMP/repo/build/linux/drivers/iommu/wip.c" "$TMP/repo/build/linux/.gitignore"
	# an uncommitted edit is reported
	echo '/* wip */' >>"$TMP/repo/build/linux/drivers/iommu/iommu.c"
	must_fail "$TMP/st" "status passed with uncommitted changes" tree_sh status
	grep -q 'uncommitted' "$TMP/st"
}

t_tree_bad_patch() {
	set -e
	fake_setup
	tree_sh assemble >/dev/null
	fake_commit 'int d;' "iommu: add d"
	sed -i 's/int c;/int cc;/' "$TMP/repo/build/linux/drivers/iommu/iommu.c"
	fg commit -qam "iommu: rename c"
	tree_sh export >/dev/null
	local good
	good=$(fg rev-parse 'HEAD~1^{tree}')
	# Patch 3's context no longer matches.
	sed -i 's/^ int b;$/ int B;/' "$TMP"/repo/patches/0003-*.patch
	must_fail "$TMP/as" "a patch that does not apply was accepted" tree_sh assemble
	cat "$TMP/as"
	grep -q 'patch 3, patches/0003-iommu-rename-c.patch, does not apply' "$TMP/as"
	[ "$(fg rev-parse 'HEAD^{tree}')" = "$good" ] && [ "$(fg log -1 --format=%s)" = "iommu: add d" ] ||
		{ echo "tree not left at the last good commit"; return 1; }
	[ -z "$(fg status --porcelain)" ]
	# Retrying without a fix fails again (it is not "up to date").
	must_fail "$TMP/as" "a retry of a failed assembly passed" tree_sh assemble
	grep -q 'does not apply' "$TMP/as"
	tree_sh status >"$TMP/st" || true
	grep -q 'partial assembly' "$TMP/st"
	# exporting the partial tree would drop patch 3: refused, nothing written
	sha1sum "$TMP"/repo/patches/* >"$TMP/sum1"
	must_fail "$TMP/ex" "partial tree exported" tree_sh export
	grep -q 'partial assembly' "$TMP/ex"
	sha1sum "$TMP"/repo/patches/* | cmp -s - "$TMP/sum1" || { echo "patches written"; return 1; }
	# Once the patch is fixed, the next assembly recovers.
	sed -i 's/^ int B;$/ int b;/' "$TMP"/repo/patches/0003-*.patch
	tree_sh assemble >/dev/null
	[ "$(fg log -1 --format=%s)" = "iommu: rename c" ]
}

t_tree_export_moved() {
	set -e
	fake_setup
	tree_sh assemble >/dev/null
	# the tree changes the owned file; meanwhile the repo's copy changes
	# too: export would overwrite it, so it refuses and writes nothing
	sed -i 's/new_owned;/new_owned_tree;/' "$TMP/repo/build/linux/drivers/iommu/new-owned.c"
	fg commit -qam "edit owned in tree"
	sed -i 's/new_owned;/new_owned_repo;/' "$TMP/repo/drivers/iommu/new-owned.c"
	sha1sum "$TMP"/repo/patches/* >"$TMP/sum1"
	must_fail "$TMP/ex" "export overwrote a repo change" tree_sh export
	grep -q 'changed in the repo since.*drivers/iommu/new-owned.c' "$TMP/ex"
	grep -q new_owned_repo "$TMP/repo/drivers/iommu/new-owned.c"
	sha1sum "$TMP"/repo/patches/* | cmp -s - "$TMP/sum1" || { echo "patches written"; return 1; }
	# a series changed both in the repo and in the tree: refused too
	(cd "$TMP/repo" && git checkout -q drivers/iommu/new-owned.c)
	sed -i 's/^Subject: .*/Subject: [PATCH] iommu: add the new owned file/' "$TMP"/repo/patches/0001-*.patch
	must_fail "$TMP/ex" "export overwrote a repo series change" tree_sh export
	grep -q 'changed in the repo since.*patches/' "$TMP/ex"
	# with the repo back as it was, the export goes through
	(cd "$TMP/repo" && git checkout -q patches)
	tree_sh export >/dev/null
	grep -q new_owned_tree "$TMP/repo/drivers/iommu/new-owned.c"
	tree_sh verify >/dev/null
	(cd "$TMP/repo" && git add drivers patches && git -c user.name=t -c user.email=t@t commit -qm exported)
	# a repo edit already there at assembly: the tree is assembled, the
	# mismatch named, and a later export still refuses to overwrite it
	sed -i 's/new_owned_tree;/new_owned_repo2;/' "$TMP/repo/drivers/iommu/new-owned.c"
	must_fail "$TMP/as" "mismatch accepted" tree_sh assemble
	fake_commit 'int f;' "iommu: add f"
	must_fail "$TMP/ex" "export overwrote a repo edit made before the assembly" tree_sh export
	grep -q 'changed in the repo since.*drivers/iommu/new-owned.c' "$TMP/ex"
	grep -q new_owned_repo2 "$TMP/repo/drivers/iommu/new-owned.c"
	# a patch file the series does not name is not deleted by export
	(cd "$TMP/repo" && git checkout -q drivers/iommu/new-owned.c)
	echo 'not a patch of the series' >"$TMP/repo/patches/wip-idea.patch"
	tree_sh export >/dev/null
	[ -f "$TMP/repo/patches/wip-idea.patch" ] || { echo "export deleted an unlisted patch"; return 1; }
}

# bisect.sh on the fake kernel, with a stand-in for the build: patch 2
# breaks it, patch 3 mends it.  The first patch that breaks is named and
# build/linux is left as it was.
t_bisect_names_patch() {
	set -e
	fake_setup
	tree_sh assemble >/dev/null
	fake_commit 'int d;' "iommu: add d"
	fake_commit 'broken' "iommu: break the build"
	sed -i '/^broken$/d' "$TMP/repo/build/linux/drivers/iommu/iommu.c"
	fg commit -qam "iommu: mend the build"
	local head
	head=$(fg rev-parse HEAD)
	if TOP=$TMP/repo BUILD=$TMP/repo/build LOGDIR=$TMP/logs \
		BISECT_CMD="! grep -q broken drivers/iommu/iommu.c" \
		bash "$HARNESS/bisect.sh" >"$TMP/bs" 2>&1; then
		echo "bisect passed a series with a patch that does not build"
		return 1
	fi
	grep -q 'patch 3/4 does not build for test: .* iommu: break the build' "$TMP/bs"
	[ "$(fg rev-parse HEAD)" = "$head" ] && [ -z "$(fg status --porcelain)" ] ||
		{ echo "build/linux not left as it was"; return 1; }
	[ ! -e "$TMP/repo/build/bisect-tree" ] || { echo "worktree left behind"; return 1; }
	# without the broken patch every patch builds, and the result is kept
	GIT_SEQUENCE_EDITOR="sed -i '/break the build/d; /mend the build/d'" fg rebase -q -i harness/base
	TOP=$TMP/repo BUILD=$TMP/repo/build LOGDIR=$TMP/logs \
		BISECT_CMD="! grep -q broken drivers/iommu/iommu.c" \
		bash "$HARNESS/bisect.sh" >"$TMP/bs" 2>&1
	grep -q 'all 2 patches build' "$TMP/bs"
	[ "$(head -1 "$TMP/repo/build/results/bisect.txt")" = "$(fg rev-parse HEAD)" ]
}

series_sh() {
	TOP=$TMP/repo BUILD=$TMP/repo/build KSRC=$TMP/k LOGDIR=$TMP/logs \
		COVER_TEMPLATE=$TMP/cover.txt bash "$HARNESS/series.sh" "$@"
}

# series.sh on the fake kernel: the letter, the mbox, the git am check; a
# refusal while build/linux holds un-exported work; a failing am check.
t_series_write_and_am() {
	set -e
	fake_setup
	printf 'fake: a subject\n\n@NPATCHES@ patches, @NFIXES@ fixes.\n' >"$TMP/cover.txt"
	tree_sh assemble >/dev/null
	series_sh write >"$TMP/sw"
	grep -q '^Subject: \[PATCH v1 0/1\] fake: a subject' "$TMP"/repo/build/series/0000-cover-letter.patch
	grep -q '^1 patches, 1 fixes.' "$TMP"/repo/build/series/0000-cover-letter.patch
	grep -q "^base-commit: $(fg rev-parse harness/base)" "$TMP"/repo/build/series/0000-cover-letter.patch
	grep -q '^Subject: \[PATCH v1 1/1\] iommu: add new-owned' "$TMP"/repo/build/series/series-v1.mbox
	series_sh am-check >"$TMP/am"
	grep -q '^PASS' "$TMP/am"
	V=2 series_sh write >/dev/null
	grep -q '^Subject: \[PATCH v2 1/1\]' "$TMP"/repo/build/series/series-v2.mbox
	if V=x series_sh write >"$TMP/sw" 2>&1; then echo "V=x accepted"; return 1; fi
	grep -q 'V must be a version number' "$TMP/sw"
	series_sh write >/dev/null
	# a corrupted mbox: the am check fails and says so
	sed -i 's/^+int new_owned;/+int other;/' "$TMP"/repo/build/series/series-v1.mbox
	if series_sh am-check >"$TMP/am"; then echo "am check passed a wrong mbox"; return 1; fi
	grep -q '^FAIL.*git am result differs' "$TMP/am"
	# un-exported work: refused, with the reason
	fake_commit 'int e;' "iommu: add e"
	must_fail "$TMP/sw" "series written from un-exported work" series_sh write
	grep -q "not exported to the repo; 'make export'" "$TMP/sw"
}

# --- bad input to the front ends -----------------------------------------

t_bad_target() {
	local out
	out=$(make -C "$TOP" no-such-target 2>&1) && return 1
	echo "$out" | grep -q "unknown target 'no-such-target'"
}

t_bad_case() {
	local out
	out=$(bash "$HARNESS/boot.sh" no-such-case 2>&1) && return 1
	echo "$out" | grep -q "unknown case 'no-such-case'" || return 1
	out=$(bash "$HARNESS/check.sh" run no-such-case 2>&1) && return 1
	echo "$out" | grep -q "unknown case 'no-such-case'"
}

t_bad_kernel() {
	local out
	out=$(bash "$HARNESS/build.sh" no-such-kernel 2>&1) && return 1
	echo "$out" | grep -q "unknown kernel 'no-such-kernel'" || return 1
	out=$(bash "$HARNESS/check.sh" check sparc 2>&1) && return 1
	echo "$out" | grep -q "unknown ARCH 'sparc'"
}

t_missing_tool() {
	local out
	out=$(bash -c ". '$HARNESS/lib.sh'; need no-such-tool-here" 2>&1) && return 1
	echo "$out" | grep -q "missing tool 'no-such-tool-here'"
}

# A snapshot for iommu_pt_report: DIR, the generic_pt domains' lines
# (domain 7 always; domain 9 when $2 is "more") and the pages report.
pt_snap() {
	mkdir -p "$1"
	{
		echo 'domain 7 iommu smmu0 format armv8 levels 2 va 39 oa 40'
		echo '  level 1 tables 1 bytes 4096'
		echo '  level 0 tables 2 bytes 8192'
		echo '  leaves 4K 3 2M 1'
		echo '  whole_pages 3 frag_bytes 0 table_bytes 12288 mapped 2109440 table/mapped 0.58%'
		if [ "${2:-}" = more ]; then
			echo 'domain 9 iommu smmu0 format amdv1 levels 1 va 32 oa 40'
			echo '  level 0 tables 1 bytes 512'
			echo '  leaves none'
			echo '  whole_pages 0 frag_bytes 512 table_bytes 512 mapped 0 table/mapped 0.00%'
		fi
		echo 'all domains 1 tables 3 whole_pages 3 frag_bytes 0 table_bytes 12288 mapped 2109440 table/mapped 0.58%'
	} >"$1/generic_pt"
	{
		echo 'node  nr_iommu_pages  in_fragments      whole'
		echo "   0              10             ${3:-0}          $((10 - ${3:-0}))"
		echo 'node  zone     size  pages       used       free'
		[ "${3:-0}" = 0 ] || echo '   0  normal    512      1          1          7'
	} >"$1/pages"
}

# pt_refused BIN SED MESSAGE: a planted snapshot edited by SED is refused
# with exit status 2 and MESSAGE.
pt_refused() {
	local out
	pt_snap "$TMP/bad"
	sed -i "$2" "$TMP/bad/generic_pt"
	out=$("$1" -d "$TMP/bad" 2>&1)
	[ $? -eq 2 ] || { echo "exit status not 2 for '$2': $out"; return 1; }
	echo "$out" | grep -qF "$3" || { echo "no '$3' for '$2': $out"; return 1; }
}

t_pt_tool() {
	local bin=$TMP/iommu_pt_report out
	cc -O2 -Wall -Wextra -Werror -o "$bin" "$TREE/tools/iommu/iommu_pt_report.c" || return 1
	pt_snap "$TMP/a"
	pt_snap "$TMP/b" more 1
	out=$("$bin" -d "$TMP/a") || return 1
	echo "$out"
	echo "$out" | grep -q '^of 10 pages: 3 whole-page generic_pt tables, 0 in fragment pools$' || return 1
	echo "$out" | grep -qP '^ +7  smmu0 +armv8 +2 +3 +12\.0 +2060\.0 +0\.58%  4K:3 2M:1$' || return 1
	echo "$out" | grep -q '^(0 bytes of them are generic_pt tables), 7 other whole allocations$' || return 1
	out=$("$bin" -d "$TMP/b" --json) || return 1
	echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
t = j["totals"]
assert len(j["domains"]) == 2, j["domains"]
assert j["domains"][0]["leaves"] == {"4096": 3, "2097152": 1}, j["domains"][0]
assert j["domains"][0]["tables_per_level"] == [2, 1]
assert (t["tables"], t["frag_bytes"], t["nr_iommu_pages"], t["in_fragments"], t["other_whole_pages"]) == (4, 512, 10, 1, 6), t
assert j["pools"] == [{"node": 0, "zone": "normal", "size": 512, "pages": 1, "used": 1, "free": 7}]
' || return 1
	out=$("$bin" --diff "$TMP/a" "$TMP/b") || return 1
	echo "$out"
	echo "$out" | grep -qP '^ +9  smmu0 +new +\+1 +\+0\.5 +\+0\.0$' || return 1
	! echo "$out" | grep -qP '^ +7 ' || return 1
	echo "$out" | grep -q '^nr_iommu_pages +0 (in fragment pools +1, other whole allocations -1); domains +1$' || return 1
	out=$("$bin" --diff "$TMP/b" "$TMP/a" --json) || return 1
	echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["domains"] == [{"id": 9, "iommu": "smmu0", "change": "freed", "tables": -1, "table_bytes": -512, "mapped_bytes": 0}], j
assert j["totals"]["domains"] == -1
' || return 1
	# bad input: named, exit 2, nothing written
	out=$("$bin" -d "$TMP/none" 2>&1); [ $? -eq 2 ] || return 1
	echo "$out" | grep -q "cannot read $TMP/none/generic_pt" || return 1
	pt_refused "$bin" 's/^\(domain 7 .* levels \)2/\1x/' 'generic_pt:1: not a domain line' || return 1
	pt_refused "$bin" 's/leaves 4K 3 2M 1/leaves 3K 3/' 'bad leaves' || return 1
	pt_refused "$bin" '/^all domains/d' 'no "all domains" line' || return 1
	pt_refused "$bin" '/^  whole_pages/d' 'domain 7 has no summary line' || return 1
	pt_refused "$bin" '1i\  level 0 tables 1 bytes 4096' 'generic_pt:1: not inside a domain' || return 1
	out=$("$bin" --diff "$TMP/b" 2>&1); [ $? -eq 2 ] || return 1
	echo "$out" | grep -q 'two snapshot directories' || return 1
	out=$("$bin" --bogus 2>&1); [ $? -eq 2 ] || return 1
	echo "$out" | grep -q '^usage:'
}

t_config_check() {
	# A fragment option that cannot take effect fails the build, named.
	local out
	[ -d "$TREE/.git" ] || { echo "no build/linux"; return 1; }
	mkdir -p "$TMP/top/tests/kernels" "$TMP/top/tests/configs"
	printf 'ARCH=x86_64\nFRAGMENTS="bogus"\n' >"$TMP/top/tests/kernels/bogus"
	printf 'CONFIG_NO_SUCH_OPTION_HERE=y\n' >"$TMP/top/tests/configs/bogus.config"
	out=$(TOP=$TMP/top BUILD=$BUILD LOGDIR=$TMP/logs bash "$HARNESS/build.sh" bogus 2>&1)
	local rc=$?
	rm -rf "$BUILD/out/bogus"
	[ $rc -ne 0 ] && echo "$out" | grep -q 'bogus.config: CONFIG_NO_SUCH_OPTION_HERE=y'
}

t_lint_catches() {
	# An owned file with a style error fails the lint stage, named.
	[ -d "$TREE/.git" ] || { echo "no build/linux"; return 1; }
	mkdir -p "$TMP/lint/drivers/iommu" "$TMP/lint/patches"
	printf '// SPDX-License-Identifier: GPL-2.0\nint bad;  \n' >"$TMP/lint/drivers/iommu/bad.c"
	: >"$TMP/lint/patches/series"
	TOP=$TMP/lint BUILD=$BUILD LOGDIR=$TMP/logs bash "$HARNESS/lint.sh" >"$TMP/lint.rows" 2>&1
	grep -P '^FAIL\tlint/checkpatch/drivers/iommu/bad.c\t.*trailing whitespace' "$TMP/lint.rows" ||
		{ cat "$TMP/lint.rows"; return 1; }
}

# --- source check (srccheck.py) ------------------------------------------

# A fake tree: a clean table driver (comments and strings may name what the
# code must not do), plus DIRTY=1 planted violations, one file per rule.
srctree() {
	local d=$TMP/src/drivers/iommu
	rm -rf "$TMP/src"
	mkdir -p "$d/intel"
	cat >"$d/good.c" <<'EOS'
/* No page->lru here; iommu_free_page(x) and struct page are only words. */
static const char *s = "iommu_alloc_pages(gfp, 1) virt_to_page(p)";
static void *good(struct iommu_pages_list *l, size_t size)
{
	void *p = iommu_alloc_pages_node_sz(NUMA_NO_NODE, GFP_KERNEL,
					    max(size, (size_t)SZ_4K));

	iommu_pages_list_add(l, p);
	iommu_free_pages(foo(p, 1));
	return p;
}
EOS
	[ "${1:-}" = dirty ] || return 0
	printf 'void a(struct page *p) { list_del(&p->lru); }\n' >"$d/lru.c"
	printf 'void *b(void) { return iommu_alloc_page_node(0, GFP_KERNEL); }\n' >"$d/old.c"
	printf 'void c(void *v)\n{\n\tiommu_free_pages(v,\n\t\t\t 2);\n}\n' >"$d/intel/order2.c"
	printf 'void *d(int order) { return iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE << order); }\n' >"$d/order.c"
	printf 'void *e(void) { void *t = iommu_alloc_pages_sz(GFP_KERNEL, SZ_4K);\n\treturn page_address(virt_to_page(t)); }\n' >"$d/page.c"
	printf 'void *f(void) { iommu_alloc_pages_sz(GFP_KERNEL, SZ_4K);\n\treturn kmem_cache_zalloc(l2_cache, GFP_ATOMIC); }\n' >"$d/cache.c"
	mkdir -p "$TMP/src/include/linux"
	printf '#ifdef CONFIG_IOMMU_PAGES_SEPARATE_DESC\n#endif\n' >"$TMP/src/include/linux/sep.h"
}

t_srccheck_clean() {
	srctree
	: >"$TMP/allow"
	python3 "$HARNESS/srccheck.py" "$TMP/src" "$TMP/allow" >"$TMP/src.rows" ||
		{ cat "$TMP/src.rows"; return 1; }
	! grep -q '^FAIL' "$TMP/src.rows"
}

t_srccheck_catches() {
	srctree dirty
	: >"$TMP/allow"
	! python3 "$HARNESS/srccheck.py" "$TMP/src" "$TMP/allow" >"$TMP/src.rows" 2>/dev/null ||
		{ echo "planted violations passed"; return 1; }
	grep -P '^FAIL\tsource/lru\t.*lru\.c:1:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/old-api\t.*old\.c:1:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/old-api\t.*intel/order2\.c:3:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/order\t.*order\.c:1:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/struct-page\t.*page\.c:2:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/kmem-cache\t.*cache\.c:2:' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/descriptor\t.*include/linux/sep\.h' "$TMP/src.rows" &&
		! grep -q 'good\.c' "$TMP/src.rows" || { cat "$TMP/src.rows"; return 1; }
	# An allowlist entry with a reason clears its hit; a stale one fails.
	printf 'drivers/iommu/page.c\tpage_address(virt_to_page(t))\tfixture\n' >"$TMP/allow"
	printf 'drivers/iommu/gone.c\tnothing\tstale\n' >>"$TMP/allow"
	python3 "$HARNESS/srccheck.py" "$TMP/src" "$TMP/allow" >"$TMP/src.rows" 2>/dev/null
	grep -P '^PASS\tsource/struct-page' "$TMP/src.rows" &&
		grep -P '^FAIL\tsource/allowlist\t.*gone\.c' "$TMP/src.rows" ||
		{ cat "$TMP/src.rows"; return 1; }
}

# --- benchsum.py -------------------------------------------------------

t_benchsum() {
	local out
	printf '%s\n' 'clock: cycle counter' \
		'LPAE  map   1 x 4K   |    150    300 |    200    400 |  75%  75%' \
		'LPAE  unmap 1 x 4K   |    100    200 |    400    400 |  25%  50%' >"$TMP/run1.txt"
	printf '%s\n' \
		'LPAE  map   1 x 4K   |    180    300 |    200    300 |  90% 100%' \
		'LPAE  unmap 1 x 4K   |    100    100 |    200    400 |  50%  25%' >"$TMP/run2.txt"
	printf '%s\n' \
		'LPAE  map   1 x 4K   |    170    300 |    200    600 |  85%  50%' \
		'LPAE  unmap 1 x 4K   |    100    100 |    250    200 |  40%  50%' >"$TMP/run3.txt"
	out=$(python3 "$HARNESS/benchsum.py" "$TMP"/run[123].txt) || return 1
	echo "$out"
	echo "$out" | grep -q 'over 3 runs' || return 1
	echo "$out" | grep -qP '^LPAE  map   1 x 4K   \| 0\.75-0\.90 \(0\.85\) +\| 0\.50-1\.00 \(0\.75\)$' || return 1
	echo "$out" | grep -qP '^LPAE  unmap 1 x 4K   \| 0\.25-0\.50 \(0\.40\) +\| 0\.25-0\.50 \(0\.50\)$' || return 1
	# A run without rows, or with other rows, is an error, not a summary.
	echo 'nothing here' >"$TMP/empty.txt"
	out=$(python3 "$HARNESS/benchsum.py" "$TMP/run1.txt" "$TMP/empty.txt" 2>&1) && return 1
	echo "$out" | grep -q 'no benchmark rows' || return 1
	head -2 "$TMP/run1.txt" >"$TMP/short.txt"
	out=$(python3 "$HARNESS/benchsum.py" "$TMP/run1.txt" "$TMP/short.txt" 2>&1) && return 1
	echo "$out" | grep -q 'rows differ' || return 1
	out=$(RUNS=0 bash "$HARNESS/check.sh" bench pt 2>&1) && return 1
	echo "$out" | grep -q 'RUNS must be a number of boots' || return 1
	# the iommu-pages layout (names with spaces and digits, a header line)
	local h='ns per operation           col1 min  col1 med  col2 min  col2 med   new min   new med new/col1 new/col2'
	printf '%s\n' "$h" \
		'alloc+free 4K              2000      2100      2500      2600      2200      2300    1.10    0.88' \
		'put list of 512 x 4K     100000    110000    200000    210000    150000    160000    1.50    0.75' >"$TMP/p1.txt"
	printf '%s\n' "$h" \
		'alloc+free 4K              2000      2100      2000      2600      2400      2300    1.20    1.20' \
		'put list of 512 x 4K     100000    110000    100000    210000    100000    160000    1.00    1.00' >"$TMP/p2.txt"
	printf '%s\n' "$h" \
		'alloc+free 4K              1000      2100      4000      2600      1000      2300    1.00    0.25' \
		'put list of 512 x 4K     200000    110000    400000    210000    300000    160000    1.50    0.75' >"$TMP/p3.txt"
	out=$(python3 "$HARNESS/benchsum.py" "$TMP"/p[123].txt) || return 1
	echo "$out"
	echo "$out" | grep -q 'ratios of the minimums over 3 runs' || return 1
	echo "$out" | grep -qP '^alloc\+free 4K +\| 1\.00-1\.20 \(1\.10\) +\| 0\.25-1\.20 \(0\.88\)$' || return 1
	echo "$out" | grep -qP '^put list of 512 x 4K +\| 1\.00-1\.50 \(1\.50\) +\| 0\.75-1\.00 \(0\.75\)$' || return 1
	# a pages run mixed with a pt run: rows differ
	out=$(python3 "$HARNESS/benchsum.py" "$TMP/p1.txt" "$TMP/run1.txt" 2>&1) && return 1
	echo "$out" | grep -q 'rows differ' || return 1
	# dma_map_benchmark: one table from the two kernels' console logs, then
	# the spread of new/6.12 over runs
	local d='init| # dmabench threads=1 granule=16 seconds=3'
	printf '%s\n' "x" "$d map_us=3.0 map_sd=0.5 unmap_us=4.0 unmap_sd=1.0" >"$TMP/new1.log"
	printf '%s\n' "$d map_us=4.0 map_sd=0.5 unmap_us=5.0 unmap_sd=1.0" >"$TMP/old1.log"
	printf '%s\n' "$d map_us=4.4 map_sd=0.5 unmap_us=4.0 unmap_sd=1.0" >"$TMP/new2.log"
	python3 "$HARNESS/benchsum.py" --dma "$TMP/new1.log" "$TMP/old1.log" >"$TMP/d1.txt" &&
		python3 "$HARNESS/benchsum.py" --dma "$TMP/new2.log" "$TMP/old1.log" >"$TMP/d2.txt" || return 1
	cat "$TMP/d1.txt"
	grep -qP '^dma map   1t   16p \| new 3\.0 sd 0\.5 \| 6\.12 4\.0 sd 0\.5 \| 0\.75$' "$TMP/d1.txt" || return 1
	out=$(python3 "$HARNESS/benchsum.py" "$TMP/d1.txt" "$TMP/d2.txt") || return 1
	echo "$out"
	echo "$out" | grep -qP '^dma map   1t   16p \| 0\.75-1\.10 \(0\.93\)$' || return 1
	echo "$out" | grep -qP '^dma unmap 1t   16p \| 0\.80-0\.80 \(0\.80\)$' || return 1
	# a log without dmabench lines is an error
	out=$(python3 "$HARNESS/benchsum.py" --dma "$TMP/new1.log" "$TMP/empty.txt" 2>&1) && return 1
	echo "$out" | grep -q 'no dmabench lines'
}

t eval_clean "a clean recorded boot log passes"
t eval_warn "a planted WARN fails the console check"
t eval_kasan "a planted KASAN report fails the console check"
t eval_dmar_fault "a planted DMAR fault fails the console check"
t eval_kmemleak "a planted kmemleak report fails the console check"
t eval_lockdep "a planted lockdep splat fails the console check"
t eval_kunit_fail "a failing KUnit KTAP line fails its suite"
t eval_kunit_crash "KUnit output cut short by a crash fails"
t eval_kunit_interleaved "a kernel message inside the KTAP output does not break parsing"
t eval_init_fail "a failing guest-init KTAP line fails"
t eval_init_cut "a guest init that stops early fails"
t eval_hang "a hung boot (timeout) fails"
t eval_generic_pt "the io-pgtable implementation the boot asked for must be the one whose tables are alive after DMA"
t eval_amd_pt "the AMD v1 table code the boot asked for (amd_iommu=generic_pt or not) must be the one whose domains map after DMA"
t eval_memdesc "the descriptor mode must match the config: separate descriptors need the kernel's line and both KUnit cases passing"
t eval_smmu_stage "a case's SMMU_STAGE must be the one stage arm-smmu-v3 reports: missing line, stage 1 or both stages fail"
t eval_selftest_fail "an io-pgtable selftest FAIL count fails"
t eval_kselftest "kselftest TAP forwarded by the init: a row per test, skips explained; failures, skips beyond KSFT_SKIPS, XPASS, cut-short and missing output fail"
t eval_kunit_off "kunit.enable=0 on the command line: no KTAP expected; without it, missing KTAP fails"
t tree_lifecycle "series-only tree: assemble/status/export/verify keep work, round-trip, name stray owned files"
t tree_bad_patch "a patch that does not apply is named, tree left at last good commit"
t tree_export_moved "export after the repo changed an owned file or the series: refused, nothing written"
t bisect_names_patch "make bisect names the first patch that does not build, leaves build/linux as it was"
t series_write_and_am "make series: cover letter, [PATCH vN m/n], base-commit, mbox; git am check; refusals"
t bad_target "an unknown make target is refused"
t bad_case "an unknown CASE is refused"
t bad_kernel "an unknown kernel or ARCH is refused"
t missing_tool "a missing tool is named"
t pt_tool "tools/iommu/iommu_pt_report: table, JSON and snapshot diff of planted reports; bad files and options refused"
t config_check "a fragment option that does not take effect fails the build"
t lint_catches "a style error in an owned file fails the lint stage"
t srccheck_clean "the source check passes clean table code"
t benchsum "bench RUNS=n: ratio spreads over runs (pt, pages and dma layouts); bad runs and RUNS refused"
t srccheck_catches "the source check fails planted page->lru, old API, order, struct page, kmem_cache and descriptor-option uses"
