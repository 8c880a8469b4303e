#!/usr/bin/env bash
# mkimg.sh - package one static app into a bootable Solo disk image.
#
# The image is a GPT disk with a single EFI System Partition that holds the
# stub, the kernel, the app, boot.cfg and (with --file) rootfs.tar. It is
# made without root or loop devices: sfdisk writes the partition table into
# the image file, mtools formats and fills the partition in place at its
# byte offset. The same image boots under QEMU and from a USB stick.
#
# Everything is checked before anything is written, and the image is built
# under a temporary name next to OUT and renamed at the end, so a failure
# never leaves a half image and never touches an existing OUT.
set -euo pipefail

readonly PROG=mkimg.sh
# sfdisk lives in /usr/sbin, which is not on a normal user's PATH on Debian.
PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT

readonly MIB=$((1024 * 1024))
readonly ESP_START_MIB=1          # partition starts at LBA 2048 (1 MiB aligned)
readonly ESP_OFFSET=$((ESP_START_MIB * MIB))
readonly TAIL_MIB=1               # room for the backup GPT at the end
readonly MIN_DEFAULT_MIB=64       # default size never goes below this
readonly MIN_SIZE_MIB=4           # smallest --size accepted
readonly MAX_SIZE_MIB=$((2 * 1024 * 1024)) # 2 TiB
readonly FAT32_MIN_ESP_MIB=34     # FAT32 needs >= 65525 clusters (of 512 B)
readonly ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

usage() {
	cat <<'EOF'
usage: tools/mkimg.sh -o OUT.img [options]

Writes a bootable Solo disk image: GPT with one EFI System Partition (FAT32
from --size 36 up, FAT12/16 below) holding
    EFI/BOOT/BOOTX64.EFI   the UEFI stub
    kernel.elf             the kernel
    app.elf                your app (static x86-64 ELF)
    boot.cfg               name, args, env and kernel settings (see below)
    rootfs.tar             the --file files (only when --file is given)

Options:
  -o, --output OUT.img  the image to write (required). Written atomically:
                        on any error OUT is left as it was.
  --app APP.elf         the app [build/user/demo.elf]. Must be a statically
                        linked ELF64 x86-64 executable (ET_EXEC or static
                        PIE), e.g. built with `musl-gcc -static`.
  --args "ARGS"         the app's command line, after argv[0], stored
                        verbatim; the kernel splits it like a shell does:
                        spaces separate, '...' and "..." quote, \ escapes.
  --env K=V             an environment variable (repeatable, kept in order).
  --file SRC:DEST       put the host file SRC at the absolute path DEST in the
                        app's file system (repeatable). DEST ending in '/' is
                        a directory: the file keeps its name. A directory SRC
                        is copied recursively into DEST (symlinks in it stay
                        symlinks). Parent directories
                        are created. SRC must not contain ':'; DEST must be
                        absolute and must not contain '..'.
  --name NAME           argv[0] [the app's file name without .elf]
  --config KEY=VALUE    a kernel setting written to boot.cfg (repeatable);
                        KEY matches [a-z_][a-z0-9_]*, e.g. on_exit=halt
  --size MiB            the image size in MiB [enough for the contents plus
                        slack, at least 64]; at least 4
  --efi PATH            the UEFI stub [build/BOOTX64.EFI]
  --kernel PATH         the kernel [build/kernel.elf]
  -h, --help            this text
Default paths are relative to the repository root; paths you give are
relative to the current directory. Options also accept --opt=VALUE.

boot.cfg (read by the kernel): one KEY=VALUE per line, the value is the rest
of the line verbatim; lines starting with '#' are comments.
    name=NAME     argv[0]
    args=ARGS     the --args string (split by the kernel)
    env=K=V       one line per --env, in order
    KEY=VALUE     one line per --config. Keys the kernel knows include
                  on_exit=poweroff|reboot|halt (what to do when the app
                  exits) and log=LEVEL (kernel log verbosity, e.g. debug);
                  see the README for the full list. name, args and env are
                  reserved for the options above.
Values cannot contain a newline, a carriage return or a NUL byte.

rootfs.tar is a POSIX ustar archive; member names are the DEST paths without
the leading '/' (directories have their own entries), owner 0:0.

Writing the image to a USB stick (this ERASES the whole stick):
    lsblk                  # find the stick, e.g. /dev/sdX; check its size
                           # and model: dd overwrites whatever you name
    sudo dd if=OUT.img of=/dev/sdX bs=4M conv=fsync status=progress
Use the whole device (/dev/sdX), not a partition (/dev/sdX1). Boot the PC
from the stick in UEFI mode, with Secure Boot turned off in the firmware
setup (the stub is not signed).

Exit status: 0 on success, 1 when an input is refused (message on stderr),
2 on a usage error.
EOF
}

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage_error() {
	echo "$PROG: $*" >&2
	echo "Try '$PROG --help'." >&2
	exit 2
}

# ------------------------------------------------------------ option parsing

out=
app=
efi=
kernel=
name=
args=
size_mib=
name_given=0
declare -a envs=() files=() configs=()

# need_value OPTION "$#": an option that takes a value must have one.
need_value() {
	(($2 >= 2)) || usage_error "option '$1' needs a value"
}

parse_options() {
	local opt value

	while (($# > 0)); do
		opt=$1
		# Accept --opt=VALUE as --opt VALUE.
		if [[ $opt == --*=* ]]; then
			value=${opt#*=}
			opt=${opt%%=*}
			shift
			set -- "$opt" "$value" "$@"
		fi
		case $opt in
		-h | --help) usage; exit 0 ;;
		-o | --output) need_value "$opt" $#; out=$2; shift 2 ;;
		--app) need_value "$opt" $#; app=$2; shift 2 ;;
		--args) need_value "$opt" $#; args=$2; shift 2 ;;
		--env) need_value "$opt" $#; envs+=("$2"); shift 2 ;;
		--file) need_value "$opt" $#; files+=("$2"); shift 2 ;;
		--config) need_value "$opt" $#; configs+=("$2"); shift 2 ;;
		--name) need_value "$opt" $#; name=$2; name_given=1; shift 2 ;;
		--size) need_value "$opt" $#; size_mib=$2; shift 2 ;;
		--efi) need_value "$opt" $#; efi=$2; shift 2 ;;
		--kernel) need_value "$opt" $#; kernel=$2; shift 2 ;;
		-*) usage_error "unknown option '$opt'" ;;
		*) usage_error "unexpected argument '$opt' (options only; the image is -o OUT)" ;;
		esac
	done
	[[ -n $out ]] || usage_error "missing -o OUT.img"
	if [[ -n $size_mib ]]; then
		[[ $size_mib =~ ^[0-9]+$ ]] || usage_error "--size wants a whole number of MiB, not '$size_mib'"
		size_mib=$((10#$size_mib))
		((size_mib >= MIN_SIZE_MIB && size_mib <= MAX_SIZE_MIB)) ||
			usage_error "--size must be between $MIN_SIZE_MIB and $MAX_SIZE_MIB MiB"
	fi
	: "${app:=$ROOT/build/user/demo.elf}"
	: "${efi:=$ROOT/build/BOOTX64.EFI}"
	: "${kernel:=$ROOT/build/kernel.elf}"
	if ((!name_given)); then
		name=$(basename -- "$app")
		name=${name%.elf}
	fi
}

# ------------------------------------------------------------ input checks

# check_text WHAT VALUE: boot.cfg is line based, so no line breaks. (A NUL
# cannot reach us: execve passes a script its arguments as C strings.)
check_text() {
	case $2 in
	*$'\n'*) die "$1 contains a newline: boot.cfg values are single lines" ;;
	*$'\r'*) die "$1 contains a carriage return: boot.cfg values are single lines" ;;
	esac
}

check_readable_file() {
	[[ -e $2 ]] || die "$1 not found: $2"
	[[ -f $2 ]] || die "$1 is not a regular file: $2"
	[[ -r $2 ]] || die "$1 is not readable: $2"
}

# The host build of kernel/elf.c: the same rules the stub and kernel apply.
find_elfcheck() {
	elfcheck=$ROOT/build/tools/elfcheck
	[[ -x $elfcheck ]] && return 0
	echo "$PROG: building build/tools/elfcheck" >&2
	if ! make -s -C "$ROOT" build/tools/elfcheck >&2 || [[ ! -x $elfcheck ]]; then
		die "build/tools/elfcheck is missing and could not be built: run 'make' in $ROOT"
	fi
}

check_elf() {
	local what=$1 target=$2 path=$3 why

	if ! why=$("$elfcheck" "$target" "$path" 2>&1); then
		why=${why#"$path: "}
		die "$what refused: ${why:-elfcheck failed}"
	fi
}

# A UEFI application for x86-64 is a PE32+ file: "MZ", then at the offset in
# bytes 0x3c..0x3f the signature "PE\0\0" followed by machine 0x8664.
check_efi_app() {
	local path=$1 magic pe_off sig machine

	magic=$(od -An -tx1 -N2 -- "$path" | tr -d ' \n')
	[[ $magic == 4d5a ]] || die "EFI stub is not a PE/COFF file (no MZ header): $path"
	pe_off=$(od -An -tu4 -j60 -N4 -- "$path" | tr -d ' \n')
	[[ -n $pe_off ]] || die "EFI stub is truncated: $path"
	sig=$(od -An -tx1 -j"$pe_off" -N6 -- "$path" | tr -d ' \n')
	[[ ${sig:0:8} == 50450000 ]] || die "EFI stub has no PE signature: $path"
	machine=${sig:8:4}
	[[ $machine == 6486 ]] || die "EFI stub is not an x86-64 image (PE machine 0x${machine:2:2}${machine:0:2}): $path"
}

check_inputs() {
	local env cfg key path

	[[ ! -d $out ]] || die "-o $out is a directory"
	check_readable_file "app" "$app"
	check_readable_file "EFI stub" "$efi"
	check_readable_file "kernel" "$kernel"

	check_text "--args" "$args"
	check_text "--name" "$name"
	[[ -n $name ]] || die "--name must not be empty"
	for env in "${envs[@]}"; do
		check_text "--env" "$env"
		[[ $env == *=* ]] || die "--env '$env' has no '=': use --env NAME=VALUE"
		[[ ${env%%=*} != "" ]] || die "--env '$env' has an empty name"
	done
	for cfg in "${configs[@]}"; do
		check_text "--config" "$cfg"
		[[ $cfg == *=* ]] || die "--config '$cfg' has no '=': use --config KEY=VALUE"
		key=${cfg%%=*}
		[[ $key =~ ^[a-z_][a-z0-9_]*$ ]] ||
			die "--config key '$key' is invalid: keys match [a-z_][a-z0-9_]*"
		case $key in
		name | args | env) die "--config $key=... is reserved: use --$key" ;;
		esac
	done
	check_file_specs

	find_elfcheck
	check_elf "app $app" --app "$app"
	check_elf "kernel $kernel" --kernel "$kernel"
	check_efi_app "$efi"

	for path in "$app" "$efi" "$kernel"; do
		[[ ! $out -ef $path ]] || die "-o $out would overwrite an input"
	done
}

# check_dest DEST: an absolute path inside the app's file system.
check_dest() {
	local dest=$1 part
	local -a parts

	check_text "--file DEST" "$dest"
	[[ $dest == /* ]] || die "--file DEST '$dest' is not absolute (it must start with '/')"
	IFS=/ read -r -a parts <<<"$dest"
	for part in "${parts[@]}"; do
		[[ $part != .. ]] || die "--file DEST '$dest' contains '..'"
	done
}

check_file_specs() {
	local spec src dest

	for spec in "${files[@]}"; do
		[[ $spec == *:* ]] || die "--file '$spec' has no ':': use --file SRC:DEST"
		src=${spec%%:*}
		dest=${spec#*:}
		[[ -n $src ]] || die "--file '$spec' has an empty SRC"
		[[ -n $dest ]] || die "--file '$spec' has an empty DEST"
		[[ -e $src ]] || die "--file source not found: $src"
		[[ -r $src ]] || die "--file source not readable: $src"
		[[ -f $src || -d $src ]] || die "--file source is neither a file nor a directory: $src"
		check_dest "$dest"
		if [[ -f $src && $dest == / ]]; then
			die "--file '$spec': DEST '/' needs a file name (or use '/' with a directory SRC)"
		fi
	done
}

# ------------------------------------------------------------ staging

tmpdir=
tmpimg=

cleanup() {
	[[ -z $tmpimg ]] || rm -f -- "$tmpimg"
	[[ -z $tmpdir ]] || rm -rf -- "$tmpdir"
}

write_boot_cfg() {
	local line

	{
		echo "# Solo boot configuration, written by tools/mkimg.sh"
		printf 'name=%s\n' "$name"
		printf 'args=%s\n' "$args"
		for line in "${envs[@]}"; do
			printf 'env=%s\n' "$line"
		done
		for line in "${configs[@]}"; do
			printf '%s\n' "$line"
		done
	} >"$tmpdir/boot.cfg"
}

# Copies the --file sources into a staging tree and packs it as ustar.
make_rootfs() {
	local stage=$tmpdir/rootfs spec src dest target

	mkdir -p "$stage"
	for spec in "${files[@]}"; do
		src=${spec%%:*}
		dest=${spec#*:}
		if [[ -d $src ]]; then
			mkdir -p -- "$stage$dest" 2>/dev/null ||
				die "--file '$spec': cannot make directory $dest (a file is in the way)"
			cp -R --preserve=mode,timestamps -- "$src/." "$stage$dest/" ||
				die "--file '$spec': copying the directory failed"
			continue
		fi
		target=$dest
		[[ $target != */ ]] || target=$target$(basename -- "$src")
		[[ ! -e $stage$target ]] || die "--file '$spec': $target is given twice"
		mkdir -p -- "$(dirname -- "$stage$target")" 2>/dev/null ||
			die "--file '$spec': cannot make the parent directory of $target (a file is in the way)"
		cp -L --preserve=mode,timestamps -- "$src" "$stage$target" ||
			die "--file '$spec': copying failed"
	done

	# Sorted member list, so the archive does not depend on readdir order.
	(cd "$stage" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z) >"$tmpdir/rootfs.list"
	tar --format=ustar --owner=0 --group=0 --numeric-owner --no-recursion \
		-C "$stage" --null -T "$tmpdir/rootfs.list" -cf "$tmpdir/rootfs.tar" 2>"$tmpdir/tar.err" ||
		die "making rootfs.tar failed (ustar names are at most 255 bytes): $(cat "$tmpdir/tar.err")"
}

file_size() {
	stat -c %s -- "$1"
}

# Bytes the ESP needs for the contents: each file rounded up to 4 KiB, plus
# the FAT tables and directories (generously).
content_bytes() {
	local total=0 f size

	for f in "$@"; do
		size=$(file_size "$f")
		total=$((total + (size + 4095) / 4096 * 4096))
	done
	echo $((total + total / 32 + 256 * 1024))
}

# ------------------------------------------------------------ the image

# The mtools image spec for the ESP inside the image file.
esp() {
	echo "$tmpimg@@$ESP_OFFSET"
}

build_image() {
	local esp_mib=$1 esp_sectors fat_opt=() outdir

	esp_sectors=$((esp_mib * MIB / 512))
	outdir=$(dirname -- "$out")
	mkdir -p -- "$outdir" || die "cannot create the directory of $out"
	tmpimg=$(mktemp "$outdir/.$(basename -- "$out").XXXXXX") ||
		die "cannot create a temporary file in $outdir"
	truncate -s "${size_mib}M" -- "$tmpimg" || die "cannot size $tmpimg"

	printf 'label: gpt\nstart=%d, size=%d, type=%s, name="EFI System Partition"\n' \
		$((ESP_OFFSET / 512)) "$esp_sectors" "$ESP_TYPE" |
		sfdisk --quiet --no-reread --no-tell-kernel -- "$tmpimg" >"$tmpdir/sfdisk.log" 2>&1 ||
		die "sfdisk failed: $(cat "$tmpdir/sfdisk.log")"

	((esp_mib < FAT32_MIN_ESP_MIB)) || fat_opt=(-F)
	export MTOOLS_SKIP_CHECK=1
	mformat -i "$(esp)" "${fat_opt[@]}" -T "$esp_sectors" -H $((ESP_OFFSET / 512)) \
		-v SOLO :: >"$tmpdir/mformat.log" 2>&1 ||
		die "mformat failed: $(cat "$tmpdir/mformat.log")"

	mmd -i "$(esp)" ::/EFI ::/EFI/BOOT 2>"$tmpdir/mtools.log" ||
		die "mmd failed: $(cat "$tmpdir/mtools.log")"
	copy_to_esp "$efi" ::/EFI/BOOT/BOOTX64.EFI
	copy_to_esp "$kernel" ::/kernel.elf
	copy_to_esp "$app" ::/app.elf
	copy_to_esp "$tmpdir/boot.cfg" ::/boot.cfg
	if ((${#files[@]} > 0)); then
		copy_to_esp "$tmpdir/rootfs.tar" ::/rootfs.tar
	fi
}

copy_to_esp() {
	if ! mcopy -i "$(esp)" -- "$1" "$2" >"$tmpdir/mtools.log" 2>&1; then
		if grep -qi 'disk full' "$tmpdir/mtools.log"; then
			die "the contents do not fit in the $size_mib MiB image (full while adding ${2#::/}); use a larger --size"
		fi
		die "mcopy $1 failed: $(cat "$tmpdir/mtools.log")"
	fi
}

main() {
	local need esp_mib fat need_mib

	parse_options "$@"
	check_inputs

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/solo-mkimg.XXXXXX")
	write_boot_cfg
	local -a contents=("$efi" "$kernel" "$app" "$tmpdir/boot.cfg")
	if ((${#files[@]} > 0)); then
		make_rootfs
		contents+=("$tmpdir/rootfs.tar")
	fi

	need=$(content_bytes "${contents[@]}")
	need_mib=$(((need + MIB - 1) / MIB))
	if [[ -z $size_mib ]]; then
		# Room for the FAT, the GPT and some slack for later edits.
		size_mib=$((ESP_START_MIB + TAIL_MIB + need_mib + need_mib / 4 + 8))
		((size_mib >= MIN_DEFAULT_MIB)) || size_mib=$MIN_DEFAULT_MIB
	fi
	esp_mib=$((size_mib - ESP_START_MIB - TAIL_MIB))
	if ((need > esp_mib * MIB)); then
		die "the contents do not fit: they need about $need_mib MiB but --size $size_mib MiB" \
			"leaves $esp_mib MiB for the EFI partition; use --size" \
			"$((need_mib + ESP_START_MIB + TAIL_MIB + 1)) or more, or omit --size"
	fi

	build_image "$esp_mib"
	# mktemp made it 0600; give it the mode a plain new file would get.
	chmod "$(printf '%o' $((0666 & ~$(umask))))" -- "$tmpimg"
	mv -f -- "$tmpimg" "$out" || die "cannot move the image to $out"
	tmpimg=

	fat=FAT32
	((esp_mib >= FAT32_MIN_ESP_MIB)) || fat=FAT12/16
	echo "$PROG: wrote $out ($size_mib MiB, $fat ESP; app $(basename -- "$app") as '$name'," \
		"${#envs[@]} env, ${#files[@]} --file)"
}

main "$@"
