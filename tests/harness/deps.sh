#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs from Debian's archive, once.
# Usage: deps.sh [x86_64|arm64|all]   (default: all)
#
# Only missing packages are installed; "apt-get update" runs at most once per
# call.  Exits non-zero with a clear message when a package cannot be had.
#
# arm64 and all also fetch QEMU 10 (qemu-system-arm from bookworm-backports,
# whose SMMUv3 emulates stage 2) into $BUILD/qemu-backports, for the cases
# that set QEMU=backports.  It is unpacked there, not installed: the system's
# QEMU 7.2 stays what every other case boots on, so their recorded times and
# counters keep their meaning.  The backports source is given to apt-get
# through a private state directory; the system's apt sources are not
# changed and no root is needed for it.
. "$(dirname "$0")/lib.sh"

want=${1:-all}
pkgs="linux-source-6.12 xz-utils make gcc libc6-dev flex bison bc libelf-dev
      libssl-dev ccache cpio kmod git python3 perl rsync sparse"
case $want in
x86_64) pkgs="$pkgs qemu-system-x86" ;;
arm64) pkgs="$pkgs qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
all) pkgs="$pkgs qemu-system-x86 qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	gcc-arm-linux-gnueabi gcc-s390x-linux-gnu" ;;
*) die "deps: unknown architecture '$want' (x86_64, arm64 or all)" ;;
esac
[ -n "${DEPS_EXTRA:-}" ] && pkgs="$pkgs $DEPS_EXTRA"

# fetch_backports_qemu: unpack qemu-system-arm and qemu-system-data from
# bookworm-backports into $QEMU_BP (see lib.sh), once.
fetch_backports_qemu() {
	local bin=$QEMU_BP/root/usr/bin/qemu-system-aarch64 st=$QEMU_BP/apt
	[ -x "$bin" ] && "$bin" -device arm-smmuv3,help 2>/dev/null | grep -q 'stage=' && return 0
	need apt-get dpkg-deb
	step "fetching QEMU from bookworm-backports into ${QEMU_BP#$TOP/}"
	rm -rf "$QEMU_BP"
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$QEMU_BP/debs" "$LOGDIR"
	cat >"$st/backports.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	local log=$LOGDIR/apt-backports.log
	local o=(-o "Dir::Etc::SourceList=$st/backports.sources" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$st/lists" -o "Dir::Cache=$st/cache"
		-o APT::Sandbox::User=root)
	apt-get "${o[@]}" update >"$log" 2>&1 ||
		fail_log "apt-get update of bookworm-backports failed" "$log"
	(cd "$QEMU_BP/debs" && apt-get "${o[@]}" download qemu-system-arm qemu-system-data) >>"$log" 2>&1 ||
		fail_log "downloading qemu-system-arm from bookworm-backports failed" "$log"
	local d
	for d in "$QEMU_BP"/debs/*.deb; do
		dpkg-deb -x "$d" "$QEMU_BP/root" >>"$log" 2>&1 || fail_log "unpacking $d failed" "$log"
	done
	"$bin" -device arm-smmuv3,help 2>/dev/null | grep -q 'stage=' ||
		fail_log "the QEMU from bookworm-backports has no arm-smmuv3 stage property" "$log"
	step "$("$bin" --version | head -1) in ${QEMU_BP#$TOP/}"
}

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ "$want" = x86_64 ] || fetch_backports_qemu
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || die "deps: need root to install:$missing"
else
	SUDO=
fi
step "installing:$missing"
log=$LOGDIR/apt.log
mkdir -p "$LOGDIR"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update >"$log" 2>&1 || fail_log "apt-get update failed" "$log"
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $missing >>"$log" 2>&1 ||
	fail_log "apt-get install of:$missing failed (is it in this Debian release?)" "$log"
[ "$want" = x86_64 ] || fetch_backports_qemu
