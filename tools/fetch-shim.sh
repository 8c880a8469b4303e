#!/usr/bin/env bash
# fetch-shim.sh - Debian's Microsoft-signed shim and its MokManager, for
# tools/mkimg.sh --shim (PCs that trust only Microsoft's keys).
#
#   tools/fetch-shim.sh [DIR]     DIR defaults to build/shim
#
# Downloads (never installs) shim-signed and shim-helpers-amd64-signed with
# apt-get download, which checks them against the archive's signed
# indexes, and extracts into DIR:
#   shimx64.efi     shim, signed by Microsoft's UEFI CA (boots where only
#                   Microsoft's keys are in db, as on most PCs)
#   mmx64.efi       MokManager, signed by Debian's key that shim carries
#   VERSIONS        the package versions
# Does nothing when DIR has them already. Needs apt and dpkg-deb.
set -euo pipefail

readonly PROG=fetch-shim.sh
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly PACKAGES=(shim-signed shim-helpers-amd64-signed)

die() {
	echo "$PROG: $*" >&2
	exit 1
}

case ${1-} in
-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
dir=${1:-$ROOT/build/shim}
[[ -s $dir/shimx64.efi && -s $dir/mmx64.efi ]] && exit 0
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	die "needs apt-get and dpkg-deb (a Debian or Ubuntu host)"
mkdir -p -- "$dir/debs"
log=$dir/debs/download.log
echo "$PROG: apt-get download ${PACKAGES[*]}" >&2
# apt's sandbox user must be able to write the directory.
chmod 0777 "$dir/debs" 2>/dev/null || true
(cd "$dir/debs" && apt-get download "${PACKAGES[@]}") >"$log" 2>&1 ||
	{ cat "$log" >&2; die "apt-get download failed (is the package list current? apt-get update)"; }
rm -rf -- "$dir/x"
: >"$dir/VERSIONS"
for pkg in "${PACKAGES[@]}"; do
	deb=$(compgen -G "$dir/debs/${pkg}_*.deb" | sort -V | tail -n1 || true)
	[[ -n $deb ]] || die "apt-get download $pkg wrote no ${pkg}_*.deb"
	dpkg-deb -x "$deb" "$dir/x"
	echo "$pkg $(dpkg-deb -f "$deb" Version)" >>"$dir/VERSIONS"
done
for f in shimx64 mmx64; do
	[[ -s $dir/x/usr/lib/shim/$f.efi.signed ]] || die "the packages hold no usr/lib/shim/$f.efi.signed"
	cp -- "$dir/x/usr/lib/shim/$f.efi.signed" "$dir/$f.efi"
done
rm -rf -- "$dir/x"
echo "$PROG: $dir: $(paste -sd, "$dir/VERSIONS")" >&2
