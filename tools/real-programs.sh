#!/usr/bin/env bash
# real-programs.sh - fetch and build the real programs of the boot tests
# (tests/boot/test_real.c): unmodified Debian source packages, built as static
# musl binaries that run both on Solo and natively on the host (the oracle).
#
#   tools/real-programs.sh [OUT_DIR]      default OUT_DIR: build/real
#
# Writes OUT_DIR/lua (lua5.4: the interpreter, src/*.c but luac.c),
# OUT_DIR/bzip2 (bzip2: the command-line tool and libbz2's sources),
# OUT_DIR/sqlite3 (sqlite3: the shell over the amalgamation, which the
# package's own configure + make generate out of tree with tclsh),
# OUT_DIR/gotest (tests/real/go/gotest.go, by Debian's Go, CGO_ENABLED=0),
# and the two servers of the network tests and make bench-net:
# OUT_DIR/nginx (nginx: its own configure + make, on a copy of the tree, with
# musl-gcc -static and only the static-file modules) and OUT_DIR/httpd
# (tests/real/go/httpd/, a net/http server, by Debian's Go).
# Each source package is pinned (PINS below) to one Debian version and the
# SHA-256 of its .dsc, fetched by tools/fetch-source.sh (`apt-get source`,
# Debian's patches applied) into OUT_DIR/src and never edited: the build is
# our own compiler command, not the packages' build systems (which make
# shared libraries).
# Work already done is skipped: a package is fetched once (OUT_DIR/src/PKG.dir
# names its unpacked tree and version) and a program is rebuilt only when it
# is missing or older than its sources or this script.
#
# Needs network for the first fetch, deb-src apt sources, tclsh and go:
# tools/deps.sh --src.
set -euo pipefail

readonly PROG=real-programs.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly SELF="$ROOT/tools/real-programs.sh"
MUSLCC=${MUSLCC:-musl-gcc}
# Not our code: its warnings are not ours to fix, so they are not shown.
readonly CFLAGS_COMMON=(-static -O2 -w)

# The source packages, each pinned as PKG -> "VERSION SHA256", SHA256 being
# that of the version's .dsc file. The .dsc lists the checksums of the
# tarballs, which dpkg-source verifies when it unpacks them, so one hash pins
# the whole tree. A pinned version that apt no longer offers (Debian replaced
# it, e.g. with a security update) stops the build with a message. To move a
# pin: `apt-cache showsrc PKG` prints each offered version; take its Version
# and, from the same stanza's Checksums-Sha256, the hash of the .dsc line.
# Prefer the version of the release's main archive (`apt-get source
# --print-uris PKG=VERSION` shows where it is): the security archive drops a
# version as soon as the next update replaces it (nginx: deb12u9, not
# security's deb12u12).
declare -rA PINS=(
	[lua5.4]="5.4.4-3+deb12u1 d47c50154294a68c8a209c5d61bc09e5b22891c01b7c47501ac3f9725eb4a813"
	[bzip2]="1.0.8-5 ed9c40f4de3f9e064535e15eac1c61a0f606763db98f4579dbc04067b94a8944"
	[sqlite3]="3.40.1-2+deb12u2 ee3459ae9d00939741c7708fc1b8ce1bde12d8c3fb1dfa005bbbc8651d884e23"
	[nginx]="1.22.1-9+deb12u9 28baa4abda06503ae8ecde6e9f049905de7c172d6ec767636628bfcd87499cf4"
)

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# fetch PKG: the pinned source of PKG (PINS) unpacked into $SRC once, by
# tools/fetch-source.sh (the one copy of the fetch, also lwIP's); prints the
# tree's path. $SRC/PKG.dir holds "TREE VERSION": a tree of another version
# (the pin moved) is fetched again.
fetch() {
	local pkg=$1 version sha

	[[ -n ${PINS[$pkg]:-} ]] || die "no pin for source package $pkg in PINS"
	read -r version sha <<<"${PINS[$pkg]}"
	"$ROOT/tools/fetch-source.sh" "$SRC" "$pkg" "$version" "$sha" ||
		die "fetching $pkg failed; its pin is PINS[$pkg] in tools/real-programs.sh"
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

# Debian's sqlite3 source is the full tree, not the amalgamation: sqlite3.c
# and shell.c are generated by its Makefile (lemon, mkkeywordhash and friends
# built with the host compiler, then Tcl scripts). We run the package's own
# configure out of tree, in OUT_DIR/gen/sqlite3, and make just those two
# files; the tree stays as unpacked.
build_sqlite3() {
	local tree gen="$OUT/gen/sqlite3" log="$OUT/gen/sqlite3.log"

	tree=$(fetch sqlite3)
	fresh "$OUT/sqlite3" "$SRC/sqlite3.dir" && return 0
	if [[ ! ($gen/sqlite3.c -nt $SRC/sqlite3.dir && $gen/shell.c -nt $SRC/sqlite3.dir) ]]; then
		command -v tclsh >/dev/null || die "tclsh not found: run tools/deps.sh --src (tcl)"
		echo "$PROG: generating the sqlite3 amalgamation in $gen" >&2
		rm -rf "$gen"
		mkdir -p "$gen"
		# Only the generators' options matter here (lemon and mkkeywordhash
		# see them): the same OMIT as the compile below. The outer make's
		# flags (-rR, its jobserver) must not reach sqlite's Makefile.
		if ! (cd "$gen" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
			"$tree/configure" --disable-tcl --disable-readline --disable-load-extension &&
			make sqlite3.c shell.c) >"$log" 2>&1; then
			tail -n 30 "$log" >&2
			rm -f "$gen/sqlite3.c" "$gen/shell.c"
			die "generating the sqlite3 amalgamation failed (log: $log)"
		fi
	fi
	# The sqlite3 shell as upstream builds it from the amalgamation, single-
	# threaded (the tests never share a connection between threads) and
	# without extension loading (no dlopen in a static binary); JSON is
	# built in (3.38+), math functions, FTS5 and R-Tree as in Debian's.
	# HAVE_*: what musl has (there is no config.h from configure here, which
	# probed the host's glibc).
	compile "$OUT/sqlite3" "$gen" -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION=1 \
		-DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE \
		-DSQLITE_ENABLE_DBSTAT_VTAB -DHAVE_USLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 \
		-DHAVE_GMTIME_R=1 -DHAVE_STRCHRNUL=1 -I. shell.c sqlite3.c -lm
}

# The Go programs, by Debian's golang-go. Everything the go command writes
# (build cache, GOPATH, its idea of HOME) stays under OUT_DIR/go, and the
# environment is cleared so the user's GOFLAGS or go env file play no part;
# the programs import only the standard library, so GOPROXY=off.
# go_build OUT SRC.go...: the static program OUT from the files SRC.go (one
# directory, package main), unless OUT is newer than all of them.
go_build() {
	local out=$1 go f stale=0
	shift

	for f in "$@"; do
		fresh "$out" "$f" || stale=1
	done
	((stale)) || return 0
	go=$(command -v go) || die "go not found: run tools/deps.sh --src (golang-go)"
	echo "$PROG: building $out with $("$go" version)" >&2
	mkdir -p "$OUT/go"
	(cd "${1%/*}" && env -i PATH="$PATH" HOME="$OUT/go/home" GOPATH="$OUT/go/path" \
		GOCACHE="$OUT/go/cache" GOENV=off GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
		GOOS=linux GOARCH=amd64 "$go" build -trimpath -buildvcs=false -o "$out.tmp" \
		"${@##*/}") || die "building $out failed"
	mv -f "$out.tmp" "$out"
}

build_gotest() {
	go_build "$OUT/gotest" "$ROOT/tests/real/go/gotest.go"
}

# The net/http server of the network tests (tests/real/go/httpd/).
build_httpd() {
	go_build "$OUT/httpd" "$ROOT"/tests/real/go/httpd/*.go
}

# nginx with its own build system: auto/configure probes the compiler and
# writes objs/ and a Makefile into the current directory, so it runs in a
# copy of the unpacked tree (OUT_DIR/gen/nginx), which the pristine tree in
# OUT_DIR/src never sees. One process (tests/real/nginx/nginx.conf: daemon
# off, master_process off), static files only: no PCRE (so no rewrite), no
# zlib (no gzip), no OpenSSL, no upstream modules; epoll is found by
# configure, select and poll are built in too. Every default path is
# absolute and lands under /etc/nginx or /tmp on Solo's tree; the error log
# goes to stderr from the first line (before the configuration is read).
build_nginx() {
	local tree gen="$OUT/gen/nginx" log="$OUT/gen/nginx.log"

	tree=$(fetch nginx)
	fresh "$OUT/nginx" "$SRC/nginx.dir" && return 0
	echo "$PROG: building $OUT/nginx (configure + make in $gen)" >&2
	rm -rf "$gen"
	mkdir -p "$gen" "$OUT/gen/nginx-include"
	cp -a "$tree/." "$gen/"
	# nginx's Linux configuration includes <crypt.h>, which Debian's musl
	# does not ship; musl declares crypt() in <unistd.h>, and crypt_r is
	# not used (configure finds no GNU crypt_r). The header goes beside the
	# tree, like lua's.
	printf '%s\n' '/* crypt.h for nginx over musl (tools/real-programs.sh) */' \
		'#include <unistd.h>' >"$OUT/gen/nginx-include/crypt.h"
	# The outer make's flags (-rR, its jobserver) must not reach nginx's
	# Makefile; -w: not our code (CFLAGS_COMMON), and -Werror is nginx's
	# default with gcc.
	if ! (cd "$gen" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
		./configure --with-cc="$MUSLCC" --with-cc-opt="-O2 -w -I$OUT/gen/nginx-include" --with-ld-opt=-static \
			--prefix=/ --sbin-path=/nginx --conf-path=/etc/nginx/nginx.conf \
			--error-log-path=stderr --pid-path=/tmp/nginx.pid --lock-path=/tmp/nginx.lock \
			--http-log-path=/dev/null --http-client-body-temp-path=/tmp/nginx-body \
			--user=nobody --group=nogroup \
			--with-select_module --with-poll_module \
			--without-pcre --without-http_rewrite_module --without-http_gzip_module \
			--without-http_proxy_module --without-http_fastcgi_module \
			--without-http_uwsgi_module --without-http_scgi_module \
			--without-http_grpc_module --without-http_memcached_module \
			--without-http_auth_basic_module --without-http-cache &&
		make -j"$(nproc 2>/dev/null || echo 2)" build) >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "building nginx failed (log: $log)"
	fi
	mv -f "$gen/objs/nginx" "$OUT/nginx"
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
	command -v dpkg-source >/dev/null || die "dpkg-source not found: run tools/deps.sh --src (dpkg-dev)"
	build_lua
	build_bzip2
	build_sqlite3
	build_gotest
	build_httpd
	build_nginx
}

main "$@"
