#!/usr/bin/env bash
# real-programs.sh - fetch and build the real programs of the boot tests
# (tests/boot/test_real.c): unmodified Debian source packages, built as static
# musl binaries that run both on Solo and natively on the host (the oracle).
#
#   tools/real-programs.sh [OUT_DIR]      default OUT_DIR: build/real
#
# Writes OUT_DIR/lua (lua5.4: the interpreter, src/*.c but luac.c) and
# OUT_DIR/bzip2 (bzip2: the command-line tool and libbz2's sources). The
# sources come from `apt-get source` (whatever version apt offers, with
# Debian's patches applied) into OUT_DIR/src and are never edited: the build
# is our own compiler command, not the packages' build systems (which make
# shared libraries). Work already done is skipped: a package is fetched once
# (OUT_DIR/src/PKG.dir names its unpacked tree) and a program is rebuilt only
# when it is missing or older than its source tree's stamp or this script.
#
# Needs network for the first fetch and deb-src apt sources: tools/deps.sh --src.
set -euo pipefail

readonly PROG=real-programs.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly SELF="$ROOT/tools/real-programs.sh"
MUSLCC=${MUSLCC:-musl-gcc}
# Not our code: its warnings are not ours to fix, so they are not shown.
readonly CFLAGS_COMMON=(-static -O2 -w)

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# fetch PKG: apt-get source PKG into $SRC once; prints the unpacked tree's path.
fetch() {
	local pkg=$1 stamp="$SRC/$1.dir" log tree

	if [[ -f $stamp ]]; then
		tree=$(<"$stamp")
		if [[ -d $SRC/$tree ]]; then
			echo "$SRC/$tree"
			return 0
		fi
	fi
	echo "$PROG: apt-get source $pkg" >&2
	log="$SRC/$pkg.fetch.log"
	# Unpack in a fresh directory so the new tree is the only one there.
	rm -rf "$SRC/.fetch-$pkg"
	mkdir -p "$SRC/.fetch-$pkg"
	if ! (cd "$SRC/.fetch-$pkg" && apt-get source "$pkg") >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get source $pkg failed: is deb-src configured? run tools/deps.sh --src"
	fi
	tree=$(cd "$SRC/.fetch-$pkg" && find . -mindepth 1 -maxdepth 1 -type d -name "*-*" -printf '%f\n')
	[[ -n $tree && $tree != *$'\n'* ]] ||
		die "apt-get source $pkg: expected one unpacked directory in $SRC/.fetch-$pkg, found: ${tree:-none}"
	rm -rf "${SRC:?}/$tree"
	mv "$SRC/.fetch-$pkg/$tree" "$SRC/$tree"
	rm -rf "$SRC/.fetch-$pkg"
	echo "$tree" >"$stamp"
	echo "$SRC/$tree"
}

# fresh OUT STAMP: true when OUT exists and is newer than STAMP and this script.
fresh() {
	[[ -x $1 && $1 -nt $2 && $1 -nt $SELF ]]
}

# compile OUT TREE ARGS...: musl-gcc ... -o OUT, in TREE, atomically.
compile() {
	local out=$1 tree=$2
	shift 2
	echo "$PROG: building $out" >&2
	(cd "$tree" && "$MUSLCC" "${CFLAGS_COMMON[@]}" "$@" -o "$out.tmp") ||
		die "building $out failed (sources in $tree)"
	mv -f "$out.tmp" "$out"
}

build_lua() {
	local tree srcs=() f

	tree=$(fetch lua5.4)
	fresh "$OUT/lua" "$SRC/lua5.4.dir" && return 0
	for f in "$tree"/src/*.c; do
		[[ $f == */luac.c ]] || srcs+=("src/${f##*/}")
	done
	# Debian's luaconf.h includes a header that debian/rules generates at
	# configure time (the module path's multiarch triplet); we generate the
	# same one beside the tree, not in it.
	mkdir -p "$OUT/gen/lua"
	printf '%s\n' '#ifndef _LUA_DEB_MULTIARCH_' '#define _LUA_DEB_MULTIARCH_' \
		'#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"' '#endif' \
		>"$OUT/gen/lua/lua5.4-deb-multiarch.h"
	# upstream's "make linux" flags without dlopen (a static binary has no
	# loader): LUA_USE_POSIX gives mkstemp, popen, ..., the 5.3 compat as usual.
	compile "$OUT/lua" "$tree" -std=gnu99 -DLUA_COMPAT_5_3 -DLUA_USE_POSIX -I"$OUT/gen/lua" \
		"${srcs[@]}" -lm
}

build_bzip2() {
	local tree

	tree=$(fetch bzip2)
	fresh "$OUT/bzip2" "$SRC/bzip2.dir" && return 0
	# The bzip2 program of upstream's Makefile: bzip2.c over libbz2's objects.
	compile "$OUT/bzip2" "$tree" -D_FILE_OFFSET_BITS=64 bzip2.c blocksort.c huffman.c \
		crctable.c randtable.c compress.c decompress.c bzlib.c
}

main() {
	case "${1:-}" in
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option '$1' (try --help)" ;;
	esac
	OUT=${1:-$ROOT/build/real}
	mkdir -p "$OUT/src"
	OUT=$(cd "$OUT" && pwd)
	SRC=$OUT/src
	command -v "$MUSLCC" >/dev/null || die "$MUSLCC not found: run tools/deps.sh"
	command -v apt-get >/dev/null || die "apt-get not found: the real programs come from Debian source packages"
	build_lua
	build_bzip2
}

main "$@"
