#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The assembled kernel tree, build/linux: a git repository holding
#   harness/base     the pristine 6.12 source (Debian's linux-source-6.12,
#                    or KSRC=/path/to/a/6.12.y tree)
#   one commit per patch of patches/series on top.
#
# Usage: tree.sh assemble | status | export | verify
#
# The series is the whole change: patches/ alone takes the base to the final
# tree.  Owned files are every file below a top-level directory of this
# repository that is also a top-level directory of the kernel (drivers/,
# include/, Documentation/, ...), and every file the series adds there: the
# repository keeps them as the readable final state, which must be exactly
# what the series gives ("verify" names any that differ).  They are written
# by "export" from build/linux, never read by the assembly: a change to one
# is made in build/linux, in the patch that introduces that part (git rebase
# -i, fixup commits), and exported.
#
# build/linux.state remembers, for the last time the tree and this repo were
# in step (assembly or export), a hash of what the repo held ("repo=") and of
# what the tree would export ("tree="), and the commit assembled or exported
# ("head=").  From these:
#   work in the tree not in the repo  = tree is dirty, or its export changed
#   repo changed since                = the repo's hash changed
. "$(dirname "$0")/lib.sh"

STATE=$BUILD/linux.state
OWNED=$BUILD/linux.owned
PATCHES=$TOP/patches
H_BASE=refs/tags/harness/base
# Fixed identity and dates for the harness' own commits: the same input gives
# the same commit ids.
HGIT="env GIT_AUTHOR_NAME=harness GIT_AUTHOR_EMAIL=harness@localhost
	GIT_COMMITTER_NAME=harness GIT_COMMITTER_EMAIL=harness@localhost
	GIT_AUTHOR_DATE=2000-01-01T00:00:00+0000 GIT_COMMITTER_DATE=2000-01-01T00:00:00+0000 git -C $TREE"

g() { git -C "$TREE" "$@"; }

# The kernel's top-level directories that this repo also has.
overlay_roots() {
	local d
	for d in "$TOP"/*/; do
		d=$(basename "$d")
		case $d in build | patches | tests) continue ;; esac
		[ -d "$TREE/$d" ] && echo "$d"
	done
}

# Owned files in the repo, as paths relative to it, sorted.
owned_files() {
	local r
	for r in $(overlay_roots); do
		(cd "$TOP" && find "$r" -type f ! -name '*~' ! -name '.*.swp')
	done | LC_ALL=C sort
}

# Owned files of the tree at REV (default HEAD): the repo's owned files and
# the files the series adds below the same top-level directories, sorted.
tree_owned() {
	local rev=${1:-HEAD} r roots=()
	for r in $(overlay_roots); do roots+=("$r/"); done
	{
		owned_files
		[ ${#roots[@]} -gt 0 ] &&
			g diff --name-only --no-renames --diff-filter=A "$H_BASE" "$rev" -- "${roots[@]}"
	} | LC_ALL=C sort -u
}

series() {
	[ -f "$PATCHES/series" ] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$PATCHES/series" | grep -v '^$' || true
}

# hash_set DIR LISTFILE: hash of the owned files named in LISTFILE and of the
# series and patches, all read below DIR (a repo checkout or an export dir).
hash_set() {
	local dir=$1 list=$2
	(
		cd "$dir" || exit 1
		while read -r f; do
			if [ -f "$f" ]; then
				printf '%s %s\n' "$(sha1sum <"$f" | cut -c1-40)" "$f"
			else
				printf 'missing %s\n' "$f"
			fi
		done <"$list"
		if [ -f patches/series ]; then
			sha1sum patches/series
			for p in $(PATCHES=$dir/patches series); do
				if [ -f "patches/$p" ]; then
					sha1sum "patches/$p"
				else
					printf 'missing patches/%s\n' "$p"
				fi
			done
		fi
	) | sha1sum | cut -c1-40
}

repo_hash() {
	local l
	l=$(mktemp)
	owned_files >"$l"
	hash_set "$TOP" "$l"
	rm -f "$l"
}

# export_to DIR: write what the tree holds beyond the base into DIR: the
# owned files as HEAD has them (those in $OWNED that HEAD has) and patches/
# with its series.
export_to() {
	local out=$1 f p
	mkdir -p "$out/patches"
	tree_owned >"$OWNED"
	while read -r f; do
		g cat-file -e "HEAD:$f" 2>/dev/null || continue
		mkdir -p "$out/$(dirname "$f")"
		g show "HEAD:$f" >"$out/$f"
		[ "$(g ls-tree HEAD -- "$f" | cut -c1-6)" = 100755 ] && chmod +x "$out/$f"
	done <"$OWNED"
	# the developer's git config (diff.noprefix, format.*) must not
	# change what is written
	git_plain -C "$TREE" format-patch -q --no-signature --zero-commit --no-numbered \
		--no-base --no-cover-letter --no-signoff --no-thread --no-stat \
		--full-index -o "$out/patches" "$H_BASE..HEAD" \
		>/dev/null || die "git format-patch failed in $TREE"
	: >"$out/patches/series"
	for p in "$out"/patches/*.patch; do
		[ -f "$p" ] && basename "$p" >>"$out/patches/series"
	done
	return 0
}

tree_hash() {
	local d h
	d=$(mktemp -d)
	export_to "$d"
	h=$(hash_set "$d" "$OWNED")
	rm -rf "$d"
	echo "$h"
}

state() { sed -n "s/^$1=//p" "$STATE" 2>/dev/null; }

# write_state BASE REPO-HASH TREE-HASH [PARTIAL [PATCHES-HASH]]
write_state() {
	printf 'base=%s\nrepo=%s\ntree=%s\npartial=%s\npatches=%s\nhead=%s\n' "$1" "$2" "$3" \
		"${4:-no}" "${5:-$(patches_hash "$TOP")}" "$(g rev-parse -q --verify HEAD)" >"$STATE"
}

# patches_hash DIR: hash of DIR/patches/series and the patches it names.
patches_hash() {
	local p
	(
		cd "$1" || exit 0
		cat patches/series 2>/dev/null
		for p in $(PATCHES=$1/patches series); do
			cat "patches/$p" 2>/dev/null
		done
	) | sha1sum | cut -c1-40
}

# A patch failed: leave the tree at the last good commit CUR, remember that
# this is a partial assembly (so the next "tree" retries it), and stop.
fail_partial() {
	unset GIT_INDEX_FILE
	g reset -q --hard "$1"
	write_state "$(base_id)" "$(repo_hash)" "$(tree_hash)" yes
	die "$2; build/linux left at the last good commit: $(g log -1 --format='%h %s')"
}

# Uncommitted work: changes to tracked files, and new files, which Debian's
# .gitignore (it ignores every top-level path) would otherwise hide.
untracked() { g ls-files --others --exclude=.git -- . 2>/dev/null; }
is_dirty() {
	[ -n "$(g status --porcelain 2>/dev/null | head -1)" ] || [ -n "$(untracked | head -1)" ]
}

# What is in the tree that the repo does not have?  Prints one line per kind;
# returns 0 when there is such work.
local_work() {
	local found=1 t
	if is_dirty; then
		echo "uncommitted changes in build/linux (a new file needs git add -f):"
		{ g status --porcelain; untracked | sed 's/^/?? /'; } | head -20 | sed 's/^/    /'
		found=0
	fi
	t=$(tree_hash)
	if [ "$t" != "$(state tree)" ]; then
		echo "commits in build/linux not exported to the repo:"
		g log --oneline "$H_BASE..HEAD" | head -20 | sed 's/^/    /'
		found=0
	fi
	return $found
}

# verify: every owned file in the repo is exactly what the series gives,
# and every file the series adds below the repo's top-level directories is
# in the repo.  Names each one that is not; returns 1 if any.
verify_owned() {
	local f bad=0
	while read -r f; do
		if ! g cat-file -e "HEAD:$f" 2>/dev/null; then
			echo "  $f: in the repo, but patches/ does not create it"
			bad=1
		elif [ ! -f "$TOP/$f" ]; then
			echo "  $f: created by patches/, missing from the repo"
			bad=1
		elif ! g show "HEAD:$f" | cmp -s - "$TOP/$f"; then
			echo "  $f: differs from what patches/ gives"
			bad=1
		fi
	done < <(tree_owned)
	return $bad
}

base_id() {
	if [ -n "${KSRC:-}" ]; then
		[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel tree"
		echo "KSRC:$(cd "$KSRC" && pwd):$(make -s -C "$KSRC" kernelversion 2>/dev/null)"
	else
		local v
		v=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
			die "linux-source-6.12 is not installed (run 'make deps')"
		echo "debian:linux-source-6.12:$v"
	fi
}

make_base() {
	local id=$1 tmp
	step "tree: unpacking base ($id)"
	rm -rf "$TREE" "$STATE" "$OWNED"
	mkdir -p "$BUILD"
	if [ -n "${KSRC:-}" ]; then
		mkdir -p "$TREE"
		rsync -a --exclude=.git "$KSRC"/ "$TREE"/ ||
			die "could not copy KSRC=$KSRC"
	else
		tmp=$BUILD/unpack.$$
		rm -rf "$tmp" && mkdir -p "$tmp"
		tar -C "$tmp" -xf /usr/src/linux-source-6.12.tar.xz ||
			die "could not unpack /usr/src/linux-source-6.12.tar.xz"
		mv "$tmp"/linux-source-6.12 "$TREE" && rmdir "$tmp"
	fi
	step "tree: committing base ($(make -s -C "$TREE" kernelversion))"
	g init -q -b main
	g config core.autocrlf false
	g config gc.auto 0
	# Commits made in build/linux carry the repo's git identity.
	g config user.name "$(git -C "$TOP" config user.name || echo "build/linux developer")"
	g config user.email "$(git -C "$TOP" config user.email || echo developer@localhost)"
	g add -A -f
	$HGIT commit -q --no-verify -m "base: Linux $(make -s -C "$TREE" kernelversion) ($id)" ||
		die "could not commit the base tree"
	g tag -f harness/base >/dev/null
}

# Build the patch commits on a private index, then move the tree to the
# result.  Files whose content does not change keep their timestamps, so
# incremental kernel builds stay incremental.
assemble_commits() {
	local idx=$TREE/.git/harness-index tmp cur good p n=0 subj
	tmp=$(mktemp -d)
	export GIT_INDEX_FILE=$idx
	g read-tree "$H_BASE" || die "git read-tree failed"
	cur=$(g rev-parse "$H_BASE")
	for p in $(series); do
		n=$((n + 1))
		good=$cur
		[ -f "$PATCHES/$p" ] ||
			fail_partial "$cur" "patches/series names $p, which does not exist"
		g mailinfo -k "$tmp/msg" "$tmp/diff" <"$PATCHES/$p" >"$tmp/info" ||
			fail_partial "$cur" "patches/$p is not a git format-patch mail"
		if ! g apply --cached --whitespace=nowarn "$tmp/diff" 2>"$tmp/err"; then
			cat "$tmp/err" >&2
			fail_partial "$cur" "patch $n, patches/$p, does not apply"
		fi
		subj=$(sed -n 's/^Subject: //p' "$tmp/info")
		subj=${subj#\[PATCH\] }
		cur=$(GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$tmp/info") \
			GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$tmp/info") \
			GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' "$tmp/info") \
			GIT_COMMITTER_NAME=harness GIT_COMMITTER_EMAIL=harness@localhost \
			GIT_COMMITTER_DATE=2000-01-01T00:00:00+0000 \
			git -C "$TREE" commit-tree "$(g write-tree)" -p "$cur" \
			-F <(printf '%s\n\n' "$subj"; cat "$tmp/msg")) ||
			fail_partial "$good" "patch $n, patches/$p: could not be committed (a From: and Date: header?)"
	done
	unset GIT_INDEX_FILE
	rm -f "$idx"
	rm -rf "$tmp"
	g reset -q --hard "$cur" || die "git reset failed in $TREE"
	step "tree: $(g log -1 --format=%s "$H_BASE" | sed 's/^base: //'), $n patches"
}

# After an assembly: the repo's owned files must be what the series gives.
check_owned() {
	local out
	if ! out=$(verify_owned); then
		printf '%s\n' "$out" >&2
		die "owned files in the repo differ from what patches/ gives (the series is the source: make the change in build/linux, in the patch that introduces that part, then 'make export')"
	fi
}

cmd_assemble() {
	local id r
	need git tar make
	id=$(base_id) || exit 1
	if [ ! -d "$TREE/.git" ] || [ "$(state base)" != "$id" ]; then
		if [ -d "$TREE/.git" ] && [ -f "$STATE" ] && local_work >/dev/null; then
			local_work >&2
			die "the base changed to $id but build/linux has work not in the repo: run 'make export' (or move build/linux away) first"
		fi
		make_base "$id"
	elif [ ! -f "$STATE" ]; then
		die "build/linux exists but build/linux.state does not: move build/linux away to re-assemble"
	else
		r=$(repo_hash)
		if [ "$r" = "$(state repo)" ] && [ "$(state partial)" != yes ] &&
			! is_dirty && [ "$(tree_hash)" = "$(state tree)" ]; then
			step "tree: up to date ($(g log -1 --format='%h %s'))"
			check_owned
			return 0
		fi
		if local_work >"$BUILD/linux.work"; then
			cat "$BUILD/linux.work" >&2
			die "build/linux holds work that is not in the repo; not re-assembling. Run 'make export' and commit, or discard it (git -C build/linux reset --hard; then 'make tree')"
		fi
		step "tree: re-assembling (patches or owned files changed)"
	fi
	r=$(repo_hash)
	# Record the attempt first: a failed patch leaves a partial tree that
	# the next run re-assembles.
	write_state "$id" "$r" "" yes
	assemble_commits
	write_state "$id" "$r" "$(tree_hash)"
	check_owned
}

cmd_status() {
	local rc=0 r
	if [ ! -d "$TREE/.git" ]; then
		echo "build/linux does not exist: 'make tree' assembles it"
		return 0
	fi
	[ -f "$STATE" ] || {
		echo "build/linux has no build/linux.state: not made by this harness?"
		return 1
	}
	echo "base:    $(g log -1 --format=%s "$H_BASE" | sed 's/^base: //')"
	echo "patches: $(g rev-list --count "$H_BASE..HEAD") commits after the base; HEAD $(g log -1 --format='%h %s')"
	if local_work; then
		echo "NOT SAVED: the work above lives only in build/linux."
		echo "  Commit it there, run 'make export', then commit patches/ and the owned files here."
		rc=1
	fi
	r=$(repo_hash)
	if [ "$(state partial)" = yes ]; then
		echo "build/linux is a partial assembly (a patch failed): 'make tree' retries"
	elif [ "$r" != "$(state repo)" ]; then
		echo "the repo's patches or owned files changed since build/linux was assembled: 'make tree' re-assembles"
	fi
	[ $rc -eq 0 ] && echo "no work in build/linux is missing from the repo."
	return $rc
}

cmd_export() {
	local d f n head
	[ -d "$TREE/.git" ] && [ -f "$STATE" ] || die "no assembled tree to export from"
	if is_dirty; then
		g status --porcelain | head -20 >&2
		die "build/linux has uncommitted changes: commit them there first (git -C build/linux commit)"
	fi
	if [ "$(state partial)" = yes ]; then
		die "build/linux is a partial assembly (a patch of patches/series did not apply): exporting it would drop the patches after it. Fix patches/ and run 'make tree' (or apply the rest in build/linux with git am) first"
	fi
	# The repo may have moved on since the assembly.  That is fine unless
	# export would overwrite a change made there: a patch series changed
	# in the repo and in the tree, or an owned file changed (or removed)
	# in the repo since the assembly, which export would overwrite (owned
	# files are written from the series, never read).
	local moved=no conflict=
	[ "$(repo_hash)" != "$(state repo)" ] && moved=yes
	head=$(state head)
	g cat-file -e "$head^{commit}" 2>/dev/null || head=$H_BASE
	d=$(mktemp -d)
	export_to "$d"
	if [ $moved = yes ] && [ "$(patches_hash "$TOP")" != "$(state patches)" ] &&
		[ "$(patches_hash "$d")" != "$(state patches)" ]; then
		conflict="$conflict patches/"
	fi
	while read -r f; do
		# a file export neither writes nor removes is left alone
		[ -f "$d/$f" ] || g cat-file -e "$head:$f" 2>/dev/null || continue
		g show "$head:$f" >"$d/.orig" 2>/dev/null || : >"$d/.orig"
		if [ -f "$TOP/$f" ]; then
			cmp -s "$d/.orig" "$TOP/$f" || cmp -s "$d/$f" "$TOP/$f" ||
				conflict="$conflict $f"
		elif g cat-file -e "$head:$f" 2>/dev/null && [ -f "$d/$f" ]; then
			conflict="$conflict $f(removed)"
		fi
	done <"$OWNED"
	if [ -n "$conflict" ]; then
		rm -rf "$d"
		die "changed in the repo since build/linux was assembled:$conflict; export would overwrite the repo's version. The series is the source: set the repo's change aside (git stash, or git checkout -- FILE), run 'make export', commit, then make the change in build/linux"
	fi
	# Owned files: write those whose content the series changed; remove
	# those the series no longer creates.
	n=0
	while read -r f; do
		if [ -f "$d/$f" ]; then
			cmp -s "$d/$f" "$TOP/$f" && continue
			mkdir -p "$TOP/$(dirname "$f")"
			cp -p "$d/$f" "$TOP/$f"
			echo "owned file written: $f"
			n=$((n + 1))
		elif [ -f "$TOP/$f" ] && g cat-file -e "$head:$f" 2>/dev/null; then
			rm -f "$TOP/$f"
			echo "owned file removed (the series no longer creates it): $f"
			n=$((n + 1))
		fi
	done <"$OWNED"
	rm -f "$d/.orig"
	# Patches: written when the tree changed them (or the repo did not move).
	if [ $moved = no ] || [ "$(patches_hash "$d")" != "$(state patches)" ]; then
		mkdir -p "$PATCHES"
		# only patches the series named are removed; other files stay
		for f in $(series); do
			[ -f "$PATCHES/$f" ] || continue
			[ -f "$d/patches/$f" ] || { rm -f "$PATCHES/$f" && echo "removed: patches/$f"; }
		done
		for f in "$d"/patches/*.patch "$d"/patches/series; do
			[ -f "$f" ] || continue
			cmp -s "$f" "$PATCHES/$(basename "$f")" && continue
			cp "$f" "$PATCHES/" && echo "written: patches/$(basename "$f")"
		done
	fi
	rm -rf "$d"
	# If the repo had moved on, build/linux lacks its changes: mark it stale
	# so that the next "make tree" re-assembles.
	local r=stale
	[ $moved = no ] && r=$(repo_hash)
	write_state "$(state base)" "$r" "$(tree_hash)" no "$(patches_hash "$TOP")"
	[ $moved = yes ] && echo "the repo had changed since the assembly: run 'make tree' to bring them into build/linux"
	echo "exported $(g rev-list --count "$H_BASE..HEAD") commits ($(series | wc -l) patches) and $n owned files; now commit patches/ and the owned files in the repo"
}

cmd_verify() {
	local out
	[ -d "$TREE/.git" ] || die "no assembled tree: run 'make tree'"
	if out=$(verify_owned); then
		echo "owned files: $(tree_owned | wc -l), each exactly what patches/ gives"
	else
		printf '%s\n' "$out"
		return 1
	fi
}

case ${1:-} in
assemble) cmd_assemble ;;
status) cmd_status ;;
export) cmd_export ;;
verify) cmd_verify ;;
*) die "usage: tree.sh assemble|status|export|verify" ;;
esac
