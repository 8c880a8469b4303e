#!/usr/bin/env bash
# fetch-source.sh - one Debian source package, pinned, unpacked once.
#
#   tools/fetch-source.sh SRC_DIR PKG VERSION DSC_SHA256
#
# Fetches source package PKG at VERSION with `apt-get source`, checks the
# SHA-256 of its .dsc against DSC_SHA256 (the .dsc lists the tarballs'
# checksums, which dpkg-source verifies when it unpacks them, so one hash
# pins the whole tree), unpacks it with Debian's patches applied into
# SRC_DIR/PKG-VERSION and prints that path. SRC_DIR/PKG.dir remembers the
# tree: a second call with the same pin prints it without the network.
#
# A pinned version apt no longer offers (Debian replaced it, e.g. with a
# security update) stops with a message. To move a pin: `apt-cache showsrc
# PKG` prints each offered version; take its Version and, from the same
# stanza's Checksums-Sha256, the hash of the .dsc line.
#
# Needs deb-src apt sources: tools/deps.sh --src.
set -euo pipefail

readonly PROG=fetch-source.sh

die() {
	echo "$PROG: $*" >&2
	exit 1
}

(($# == 4)) || die "usage: tools/fetch-source.sh SRC_DIR PKG VERSION DSC_SHA256"
SRC=$1
pkg=$2
version=$3
sha=$4
mkdir -p "$SRC"
SRC=$(cd "$SRC" && pwd)

# offered_versions: the versions of source package $pkg apt offers, on one line.
offered_versions() {
	apt-cache showsrc "$pkg" 2>/dev/null |
		awk -v pkg="$pkg" '/^Package: / { ours = ($2 == pkg) } ours && /^Version: / { print $2 }' |
		sort -u | tr '\n' ' '
}

stamp="$SRC/$pkg.dir"
have_tree=""
have_version=""
if [[ -f $stamp ]] && read -r have_tree have_version <"$stamp" &&
	[[ $have_version == "$version" && -n $have_tree && -d $SRC/$have_tree ]]; then
	echo "$SRC/$have_tree"
	exit 0
fi

offered=$(offered_versions)
[[ -n $offered ]] ||
	die "apt offers no source package $pkg: is deb-src configured? run tools/deps.sh --src"
if [[ " $offered" != *" $version "* ]]; then
	die "$pkg: the pinned version $version is not offered by apt (apt offers: ${offered% })." \
		"Move the pin to a version 'apt-cache showsrc $pkg' lists, with the sha256 of its .dsc."
fi

echo "$PROG: apt-get source $pkg=$version" >&2
log="$SRC/$pkg.fetch.log"
dl="$SRC/.fetch-$pkg"
# Download only, into a fresh directory: the .dsc is checked before
# dpkg-source unpacks anything.
rm -rf "$dl"
mkdir -p "$dl"
if ! (cd "$dl" && apt-get source --download-only "$pkg=$version") >"$log" 2>&1; then
	cat "$log" >&2
	die "apt-get source $pkg=$version failed: is deb-src configured? run tools/deps.sh --src"
fi
dsc="$dl/${pkg}_${version#*:}.dsc"
[[ -f $dsc ]] || die "apt-get source $pkg=$version: no ${dsc##*/} in $dl"
got=$(sha256sum <"$dsc")
got=${got%% *}
if [[ $got != "$sha" ]]; then
	rm -rf "$dl"
	die "$pkg $version: the .dsc's sha256 is $got but the pin says $sha: the archive's" \
		"package changed under the same version. Check it ('apt-cache showsrc $pkg')" \
		"before moving the pin."
fi
# The tree is named after the full version, so a moved pin never reuses it;
# --no-copy: the tarballs stay in the download directory, removed next.
tree="$pkg-${version//:/_}"
rm -rf "${SRC:?}/$tree"
if ! dpkg-source --no-copy -x "$dsc" "$SRC/$tree" >>"$log" 2>&1; then
	cat "$log" >&2
	die "dpkg-source -x ${dsc##*/} failed (a tarball's checksum does not match the .dsc?)"
fi
# The Makefile reads every file named *.d under build/ as make dependencies
# (find build -name '*.d'), so a tree's own *.d would break every make run.
find "$SRC/$tree" -name '*.d' -prune -printf "$PROG: removed %p\n" -exec rm -rf {} + >>"$log"
rm -rf "$dl"
# The tree of the previous pin, if any, is not needed any more.
if [[ -n $have_tree && $have_tree != "$tree" && $have_tree != */* && $have_tree != .* ]]; then
	rm -rf "${SRC:?}/$have_tree"
fi
echo "$tree $version" >"$stamp"
echo "$SRC/$tree"
