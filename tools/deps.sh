#!/usr/bin/env bash
# Installs the Debian packages Solo needs to build, test and boot, and only
# the ones that are missing: a machine that has everything pays one
# dpkg-query call and prints one line.
#
#   tools/deps.sh            build + test + QEMU packages
#   tools/deps.sh --debug    the same plus gdb (for make debug)
#   tools/deps.sh --src      the same plus what the real-program tests need:
#                            dpkg-dev, tcl, golang-go, curl, deb-src (for make test)
#                            and make bench-net (whose Linux peer's packages
#                            tools/linux-peer.sh downloads, never installs)
#
# Needs apt (Debian/Ubuntu). Uses sudo when not run as root.
#
# --src: `apt-get source` needs deb-src entries and their fetched Sources
# indexes. When /var/lib/apt/lists holds no Sources index of this release
# (VERSION_CODENAME in /etc/os-release), deps.sh adds deb-src twins of the
# distribution's own `deb` entries (those whose suite is CODENAME or
# CODENAME-*, so third-party repositories are left out) unless some deb-src
# entry is configured already, then runs apt-get update. The twins go to
# /etc/apt/sources.list.d/solo-deb-src.sources (from deb822 .sources files)
# and solo-deb-src.list (from one-line .list files); with no such entry,
# deb.debian.org's bookworm is the fallback.
set -euo pipefail

readonly PROG=deps.sh

# Package -> why we need it.
readonly PACKAGES=(
	gcc              # kernel, host tools, tests
	clang            # the host fuzzers (make fuzz, make test-fuzz): Debian's clang 14
	libclang-rt-14-dev # its libFuzzer, ASan and UBSan runtimes (clang only recommends them)
	libc6-dev        # host tools and tests
	binutils         # ld, objcopy, objdump, nm; readelf for mkimg.sh's library closure
	make
	gnu-efi          # the UEFI stub
	musl-tools       # musl-gcc: static apps
	libcriterion-dev # host and boot tests
	qemu-system-x86  # tools/qemu.sh
	ovmf             # UEFI firmware for QEMU
	mtools           # tools/mkimg.sh: FAT without root
	dosfstools       # fsck.fat in the image tests
	fdisk            # sfdisk: GPT on an image file
	tar              # rootfs.tar (ustar)
	perl-base        # mkimg.sh: aligns rootfs.tar's file data to 4 KiB (Essential: always there)
	qemu-utils       # qemu-img: mkimg.sh --format qcow2|vmdk|vhdx|vdi, qemu.sh reads the format
	python3          # tests/boot/test_dynamic.c: Debian's python3 (3.11, _sqlite3 included) as shipped
	sqlite3          # tests/boot/test_dynamic.c: Debian's dynamically linked sqlite3 CLI
	console-setup-linux # Terminus PSF fonts: built into the framebuffer console
	sbsigntool       # sbsign/sbverify: mkimg.sh --sign signs the stub
	efitools         # cert-to-efi-sig-list, sign-efi-sig-list: tools/keys.sh's enrollment files
	openssl          # tools/keys.sh makes the key pair
)
readonly DEBUG_PACKAGES=(gdb)
# What tools/real-programs.sh needs besides the packages above.
readonly SRC_PACKAGES=(
	dpkg-dev  # apt-get source unpacks with dpkg-source
	tcl       # tclsh: sqlite3's build generates its amalgamation (sqlite3.c) with it
	golang-go # the Go test program (Debian's Go toolchain, no module proxy)
	curl      # the network tests' HTTP client (tests/boot/test_net_servers.c)
)

readonly APT_DIR=/etc/apt
readonly APT_LISTS=/var/lib/apt/lists
readonly SOLO_SOURCES=$APT_DIR/sources.list.d/solo-deb-src.sources
readonly SOLO_LIST=$APT_DIR/sources.list.d/solo-deb-src.list

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# Prints the packages among "$@" that are not fully installed, one per line.
# One dpkg-query call; it reports unknown packages on stderr (ignored) and
# leaves them out of its output, so they count as missing too.
list_missing() {
	local -A installed=()
	local name status

	while read -r name status; do
		if [[ $status == installed ]]; then installed[$name]=1; fi
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null || true)
	for name in "$@"; do
		[[ -n ${installed[$name]:-} ]] || echo "$name"
	done
}

# Runs "$@" with its output in a log that is shown only if it fails.
run_quietly() {
	local log status=0

	log=$(mktemp)
	"$@" >"$log" 2>&1 || status=$?
	((status == 0)) || cat "$log" >&2
	rm -f "$log"
	return "$status"
}

# True when apt has fetched a Sources index of this release (deb-src is usable).
have_source_indexes() {
	local code

	code=$(codename)
	compgen -G "$APT_LISTS/*_dists_${code:-*}_*_Sources*" >/dev/null
}

# True when some apt source file has a deb-src entry (fetched or not).
have_deb_src_entry() {
	local f

	for f in "$APT_DIR/sources.list" "$APT_DIR"/sources.list.d/*.list; do
		[[ -f $f ]] && grep -Eqs '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
	done
	for f in "$APT_DIR"/sources.list.d/*.sources; do
		[[ -f $f ]] && grep -Eiqs '^types:(.*[[:space:]])?deb-src([[:space:]]|$)' "$f" && return 0
	done
	return 1
}

# The release codename (bookworm), from /etc/os-release; "" if unknown.
codename() {
	local VERSION_CODENAME=""

	# shellcheck disable=SC1091
	[[ -r /etc/os-release ]] && . /etc/os-release
	echo "${VERSION_CODENAME:-}"
}

# Prints deb822 stanzas: each stanza of the .sources files "$@" whose Types
# has deb and whose Suites has CODE or CODE-*, with Types: deb-src.
deb822_twins() {
	local code=$1
	shift
	awk -v code="$code" '
		function flush() {
			if (n && is_deb && is_ours) {
				if (out++) print ""
				for (i = 1; i <= n; i++) print lines[i]
			}
			n = 0; is_deb = 0; is_ours = 0
		}
		FNR == 1 { flush() }
		/^[[:space:]]*$/ { flush(); next }
		{
			line = $0
			if (tolower($1) == "types:") {
				for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1
				line = "Types: deb-src"
			} else if (tolower($1) == "suites:") {
				for (i = 2; i <= NF; i++)
					if ($i == code || index($i, code "-") == 1) is_ours = 1
			}
			lines[++n] = line
		}
		END { flush() }' "$@"
}

# Prints one-line deb-src entries: each "deb [opts] URI SUITE COMP..." line
# of the .list files "$@" whose SUITE is CODE or CODE-*.
list_twins() {
	local code=$1
	shift
	awk -v code="$code" '
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/ && i < NF) i++
			if ($i ~ /^\[/ || $i ~ /\]$/) i++
			suite = $(i + 1)
			if (suite == code || index(suite, code "-") == 1) {
				sub(/^deb/, "deb-src"); print
			}
		}' "$@"
}

# Writes the solo-deb-src files (see the header) with "$@" as the sudo prefix.
add_deb_src() {
	local code twins lists=() sources=() f written=()

	code=$(codename)
	for f in "$APT_DIR/sources.list" "$APT_DIR"/sources.list.d/*.list; do
		[[ -f $f && $f != "$SOLO_LIST" ]] && lists+=("$f")
	done
	for f in "$APT_DIR"/sources.list.d/*.sources; do
		[[ -f $f && $f != "$SOLO_SOURCES" ]] && sources+=("$f")
	done
	if [[ -n $code ]] && ((${#sources[@]})); then
		twins=$(deb822_twins "$code" "${sources[@]}")
		if [[ -n $twins ]]; then
			printf '# deb-src twins of the deb entries, for apt-get source (added by Solo'"'"'s tools/deps.sh)\n%s\n' \
				"$twins" | "$@" tee "$SOLO_SOURCES" >/dev/null
			written+=("$SOLO_SOURCES")
		fi
	fi
	if [[ -n $code ]] && ((${#lists[@]})); then
		twins=$(list_twins "$code" "${lists[@]}")
		if [[ -n $twins ]]; then
			printf '# deb-src twins of the deb entries, for apt-get source (added by Solo'"'"'s tools/deps.sh)\n%s\n' \
				"$twins" | "$@" tee "$SOLO_LIST" >/dev/null
			written+=("$SOLO_LIST")
		fi
	fi
	if ((${#written[@]} == 0)); then
		"$@" tee "$SOLO_SOURCES" >/dev/null <<-'EOF'
			# deb-src for apt-get source (added by Solo's tools/deps.sh; no deb entry to copy)
			Types: deb-src
			URIs: http://deb.debian.org/debian
			Suites: bookworm bookworm-updates
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

			Types: deb-src
			URIs: http://deb.debian.org/debian-security
			Suites: bookworm-security
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
		written+=("$SOLO_SOURCES")
	fi
	echo "$PROG: added deb-src entries: ${written[*]}"
}

main() {
	local -a wanted=("${PACKAGES[@]}") missing=() sudo=()
	local src=0 arg

	for arg in "$@"; do
		case "$arg" in
		--debug) wanted+=("${DEBUG_PACKAGES[@]}") ;;
		--src) wanted+=("${SRC_PACKAGES[@]}"); src=1 ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown option '$arg' (try --help)" ;;
		esac
	done

	command -v dpkg-query >/dev/null || die "dpkg-query not found: install these by hand: ${wanted[*]}"
	mapfile -t missing < <(list_missing "${wanted[@]}")
	local need_src=0
	((src)) && ! have_source_indexes && need_src=1
	if ((${#missing[@]} == 0 && !need_src)); then
		echo "$PROG: all ${#wanted[@]} packages already installed$( ((src)) && echo ', deb-src ready')"
		return 0
	fi

	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "not root and no sudo: install these as root: ${missing[*]}"
		sudo=(sudo)
	fi
	if ((need_src)) && ! have_deb_src_entry; then
		add_deb_src "${sudo[@]}"
	fi
	# A fresh machine (CI, container) has empty package lists: update once.
	run_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update ||
		die "apt-get update failed"
	if ((need_src)) && ! have_source_indexes; then
		die "apt-get update fetched no Sources index: check the deb-src entries in $APT_DIR"
	fi
	if ((${#missing[@]} == 0)); then
		echo "$PROG: deb-src ready"
		return 0
	fi
	run_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
	echo "$PROG: installed ${missing[*]}"
}

main "$@"
