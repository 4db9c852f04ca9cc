#!/bin/sh
# Builds kpx's end-to-end test live patch, kpx_e2e_cmdline.ko, against the Debian
# linux-headers package of one kernel release.
#
#   testdata/livepatch/build.sh RELEASE OUTDIR     e.g. build.sh 6.1.0-57-amd64 /tmp/lp
#
# RELEASE's headers must be installed (/usr/src/linux-headers-RELEASE, from the package
# linux-headers-RELEASE; scripts/e2e-deps installs them). The sources are copied to a
# scratch directory so that the build leaves nothing in the source tree; OUTDIR receives
# kpx_e2e_cmdline.ko only.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 RELEASE OUTDIR" >&2
	exit 2
fi
release=$1 out=$2
src=$(cd "$(dirname "$0")" && pwd)
kdir=/usr/src/linux-headers-$release
if [ ! -f "$kdir/Makefile" ]; then
	echo "$0: $kdir not found: install linux-headers-$release (scripts/e2e-deps)" >&2
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kpx-livepatch-build.XXXXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$src/Kbuild" "$src/kpx_e2e_cmdline.c" "$work/"
make -s -C "$kdir" M="$work" modules >"$work/build.log" 2>&1 || {
	cat "$work/build.log" >&2
	echo "$0: building against $kdir failed" >&2
	exit 1
}
mkdir -p "$out"
cp "$work/kpx_e2e_cmdline.ko" "$out/kpx_e2e_cmdline.ko"
