#!/usr/bin/env bash
# Installs the Debian packages Solo needs to build, test and boot, and only
# the ones that are missing: a machine that has everything pays one
# dpkg-query call and prints one line.
#
#   tools/deps.sh            build + test + QEMU packages
#   tools/deps.sh --debug    the same plus gdb (for make debug)
#
# Needs apt (Debian/Ubuntu). Uses sudo when not run as root.
set -euo pipefail

readonly PROG=deps.sh

# Package -> why we need it.
readonly PACKAGES=(
	gcc              # kernel, host tools, tests
	libc6-dev        # host tools and tests
	binutils         # ld, objcopy, objdump, nm
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
	console-setup-linux # Terminus PSF fonts: built into the framebuffer console
)
readonly DEBUG_PACKAGES=(gdb)

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
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

main() {
	local -a wanted=("${PACKAGES[@]}") missing=() sudo=()

	case "${1:-}" in
	"") ;;
	--debug) wanted+=("${DEBUG_PACKAGES[@]}") ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option '$1' (try --help)" ;;
	esac

	command -v dpkg-query >/dev/null || die "dpkg-query not found: install these by hand: ${wanted[*]}"
	mapfile -t missing < <(list_missing "${wanted[@]}")
	if ((${#missing[@]} == 0)); then
		echo "$PROG: all ${#wanted[@]} packages already installed"
		return 0
	fi

	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "not root and no sudo: install these as root: ${missing[*]}"
		sudo=(sudo)
	fi
	# A fresh machine (CI, container) has empty package lists: update once.
	run_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update ||
		die "apt-get update failed"
	run_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
	echo "$PROG: installed ${missing[*]}"
}

main "$@"
