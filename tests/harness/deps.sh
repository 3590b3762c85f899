#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs from Debian's archive, once.
# Usage: deps.sh [x86_64|arm64|all]   (default: all)
#
# Only missing packages are installed; "apt-get update" runs at most once per
# call.  Exits non-zero with a clear message when a package cannot be had.
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

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

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
