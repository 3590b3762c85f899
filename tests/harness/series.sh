#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What gets posted.
#   series.sh write     build/series/: git format-patch --cover-letter
#                       --base output of build/linux (subjects
#                       "[PATCH vN m/n]", N from V, default 1), the cover
#                       letter filled in from tests/series/cover.txt and
#                       the project's own results, and one mbox of it all
#   series.sh am-check  git am the mbox (its cover letter dropped as the
#                       empty patch it is) onto a fresh worktree of the
#                       pristine base; the result must be build/linux's
#                       tree exactly.  Prints one results row.
# "write" refuses while build/linux holds work not exported to the repo:
# what is posted must be what the repo holds.
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/series
V=${V:-1}
[[ "$V" =~ ^[1-9][0-9]?$ ]] || die "V must be a version number from 1 to 99, not '$V'"
MBOX=$OUT/series-v$V.mbox
# the cover letter's text; @NPATCHES@, @NFIXES@, @TESTING@, @MEMORY@ and
# @BENCH@ are filled in
TEMPLATE=${COVER_TEMPLATE:-$TOP/tests/series/cover.txt}
g() { git -C "$TREE" "$@"; }

[ -d "$TREE/.git" ] || die "no kernel tree in build/linux: run 'make tree'"
mkdir -p "$LOGDIR"
g rev-parse -q --verify refs/tags/harness/base >/dev/null ||
	die "build/linux has no harness/base tag: run 'make tree'"

# The figures, each from a file the harness wrote, or the recorded ones in
# Documentation/iommu (which say when and how they were measured).
testing() {
	local r=$BUILD/results/check.tsv b=$BUILD/results/bisect.txt
	if [ -s "$b" ] && [ "$(head -1 "$b")" = "$(g rev-parse HEAD)" ]; then
		echo "- make bisect: $(sed -n 2p "$b")"
	else
		echo "- make bisect: not run on this HEAD"
	fi
	if [ -s "$r" ] && [ "$(cat "$r.head" 2>/dev/null)" = "$(g rev-parse HEAD)" ]; then
		{
			printf -- '- make check (%s, this HEAD): %s passed, %s failed: ' \
				"$(date -u -r "$r" +%F)" "$(grep -c '^PASS' "$r")" "$(grep -c '^FAIL' "$r")"
			cut -f2 "$r" | cut -d/ -f1 | sort | uniq -c |
				awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'
		} | tr -d '\n' | fold -s -w 70 | sed -e '2,$s/^/  /' -e 's/ *$//'
		echo
	else
		echo "- make check: not run on this HEAD"
	fi
}

memory() {
	local c f any=
	for c in $(ls "$TOP/tests/cases"); do
		f=$BUILD/cases/$c/memory.txt
		[ -s "$f" ] || continue
		if [ -z "$any" ]; then
			printf '  %-12s %10s %10s %14s %16s\n' case boot "after DMA" "after remove 2" "after lifecycle"
			any=1
		fi
		awk -v c="$c" -F': ' '
			{ k = $1; sub(/^ +/, "", k); v = $2; sub(/.*\(/, "", v); sub(/ kB\).*/, " kB", v); kb[k] = v }
			END { printf "  %-12s %10s %10s %14s %16s\n", c, kb["boot"], kb["after DMA"],
				kb["after remove 2"], kb["after lifecycle"] }' "$f"
	done
	for c in smmuv3 smmuv3-64k; do
		f=$BUILD/cases/$c/console.log
		[ -s "$f" ] || continue
		grep -q 'memory report: LPAE total' "$f" || continue
		printf '  %s, io-pgtable selftest configurations (KUnit memory report):\n' "$c"
		sed -n 's/.*# iommu_pages_test_report: memory report: \(LPAE total.*\|ARMv7s.*\)$/\1/p' "$f" |
			tr -s ' ' | sort -u | sed 's/^/    /'
		any=1
	done
	[ -n "$any" ] || echo "  (no boot results in build/cases)"
	# Always, so that every write reads the block (a renamed paragraph
	# fails here, not only on a machine without boot results).
	echo "  io-pgtable selftest configurations, recorded in"
	echo "  Documentation/iommu/iommu-pages.rst:"
	rst_block Documentation/iommu/iommu-pages.rst 'both kernels (KiB; a few representative rows'
}

# rst_block FILE TEXT: the literal block of FILE after the paragraph whose
# first line holds TEXT, indented for the letter.
rst_block() {
	local out
	out=$(awk -v key="$2" '
		!found && index($0, key) { found = /::$/ ? 2 : 1; next }
		found == 1 && /::$/ { found = 2; next }
		found == 2 && /^$/ && !started { next }
		found == 2 && /^[ \t]/ { started = 1; sub(/^[ \t]+/, "    "); print; next }
		found == 2 && started { exit }' "$TREE/$1")
	[ -n "$out" ] || die "series: no literal block after '$2' in $1"
	printf '%s\n' "$out"
}

bench() {
	local b f
	for b in pages pt pt-smmuv3 pt-amd pt-amd-keep dma-vtd dma-amd dma-smmuv3; do
		f=$BUILD/bench/$b.txt.summary
		if [ -s "$f" ]; then
			printf '  make bench BENCH=%s (%s):\n' "$b" "$(date -u -r "$f" +%F)"
			sed 1d "$f" | sed 's/^/  /'
		fi
	done
	echo "  iommu-pages, recorded in Documentation/iommu/iommu-pages.rst (-O2):"
	rst_block Documentation/iommu/iommu-pages.rst 'with ``-O2``, as distribution kernels are'
	echo "  generic_pt, new/old of the minimums over five boots, recorded in"
	echo "  Documentation/iommu/generic_pt.rst:"
	rst_block Documentation/iommu/generic_pt.rst 'The new/old ratio of the minimums over five boots'
	echo "  generic_pt through SMMUv3 domains against io-pgtable-arm's, recorded"
	echo "  in Documentation/iommu/generic_pt.rst:"
	rst_block Documentation/iommu/generic_pt.rst 'boot and the new/old ratio of the minimums over the five'
	echo "  generic_pt through AMD-Vi v1 domains against the 6.12 code, tables"
	echo "  freed when emptied and kept, recorded in"
	echo "  Documentation/iommu/generic_pt.rst:"
	rst_block Documentation/iommu/generic_pt.rst 'the median boot and the new/old ratio of the minimums over the three'
}

cmd_write() {
	local n nfix tmp cover
	if ! bash "$HARNESS/tree.sh" status >"$LOGDIR/series-status.log" 2>&1; then
		cat "$LOGDIR/series-status.log" >&2
		die "build/linux holds work not exported to the repo; 'make export' (and commit) first, so that what is posted is what the repo holds"
	fi
	n=$(g rev-list --count harness/base..HEAD)
	[ "$n" -gt 0 ] || die "no patches after harness/base in build/linux"
	# the stand-alone fixes: the leading run of patches that touch neither
	# a header under include/ nor iommu-pages
	nfix=0
	for c in $(g rev-list --reverse harness/base..HEAD); do
		g diff --name-only "$c~1" "$c" | grep -qE '^include/|^drivers/iommu/iommu-pages' && break
		nfix=$((nfix + 1))
	done
	rm -rf "$OUT"
	mkdir -p "$OUT"
	local prefix="PATCH v$V"
	git_plain -C "$TREE" format-patch -q --cover-letter --base=harness/base --numbered \
		--no-thread --no-signoff --subject-prefix="$prefix" --no-signature \
		-o "$OUT" harness/base..HEAD ||
		die "git format-patch failed"
	cover=$(ls "$OUT"/0000-*.patch)
	tmp=$(mktemp)
	for f in testing memory bench; do
		: >"$tmp.$f"
		grep -q "@${f^^}@" "$TEMPLATE" || continue
		"$f" >"$tmp.$f" || exit 1
	done
	python3 - "$TEMPLATE" "$cover" "$n" "$nfix" "$tmp" <<'EOF' || die "series: could not fill in the cover letter"
import sys
tpl, cover, n, nfix, tmp = sys.argv[1:]
t = open(tpl).read()
subject, body = t.split('\n', 1)
body = body.lstrip('\n')
for key, val in (('@NPATCHES@', n), ('@NFIXES@', nfix)):
    body = body.replace(key, val)
for key in ('testing', 'memory', 'bench'):
    body = body.replace('@%s@' % key.upper(), open('%s.%s' % (tmp, key)).read().rstrip('\n'))
c = open(cover).read()
assert '*** SUBJECT HERE ***' in c and '*** BLURB HERE ***' in c
import re
left = re.findall(r'@[A-Z]+@', body)
if left:
    sys.exit('unknown placeholder(s) in %s: %s' % (tpl, ' '.join(sorted(set(left)))))
c = c.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body.rstrip('\n'))
open(cover, 'w').write(c)
EOF
	rm -f "$tmp" "$tmp".*
	cat "$OUT"/0*.patch >"$MBOX"
	echo "series: $n patches and a cover letter in ${OUT#"$TOP"/}/, one mbox: ${MBOX#"$TOP"/}"
	echo "  $(grep -m1 '^Subject:' "$cover")"
	echo "  $(grep -m1 '^base-commit:' "$cover")"
}

cmd_am_check() {
	local wt=$BUILD/am-tree got want rc=0
	[ -s "$MBOX" ] || { printf 'FAIL\tseries/git-am\tno mbox: series.sh write failed\n'; return 1; }
	worktree_new "$TREE" "$wt" harness/base >"$LOGDIR/series-am.log" 2>&1 || {
		printf 'FAIL\tseries/git-am\tcould not make a worktree of the base\n'
		return 1
	}
	if ! git_plain -C "$wt" -c user.name=am -c user.email=am@localhost am -q --no-3way --empty=drop "$MBOX" >>"$LOGDIR/series-am.log" 2>&1; then
		printf 'FAIL\tseries/git-am\tgit am of %s failed on the base: %s\n' "${MBOX#"$TOP"/}" \
			"$(grep -m1 -E 'Patch failed|error:' "$LOGDIR/series-am.log")"
		rc=1
	else
		got=$(git -C "$wt" rev-parse 'HEAD^{tree}')
		want=$(g rev-parse 'HEAD^{tree}')
		if [ "$got" = "$want" ]; then
			printf 'PASS\tseries/git-am\t%s patches applied with git am give build/linux exactly\n' \
				"$(git -C "$wt" rev-list --count harness/base..HEAD)"
		else
			printf 'FAIL\tseries/git-am\tgit am result differs from build/linux: %s\n' \
				"$(git -C "$wt" diff --stat HEAD "$(g rev-parse HEAD)" | tail -1)"
			rc=1
		fi
	fi
	worktree_drop "$TREE" "$wt"
	return $rc
}

case ${1:-} in
write) cmd_write ;;
am-check) cmd_am_check ;;
*) die "usage: series.sh write|am-check" ;;
esac
