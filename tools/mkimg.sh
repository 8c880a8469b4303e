#!/usr/bin/env bash
# mkimg.sh - package one app into a bootable Solo disk image.
#
# The image is a GPT disk with a single EFI System Partition that holds the
# stub, the kernel, the app, boot.cfg and (with --file, or for a dynamically
# linked app or a script) rootfs.tar. For a dynamically linked app it adds the
# interpreter and the DT_NEEDED closure, found as the host's loader would
# (readelf reads the ELF files; the app is never run), and the closure of
# every other ELF object --file puts in the image (Python's extension
# modules), where a missing library is a warning, not a refusal. It is
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
readonly FORMATS="raw qcow2 vmdk vhdx vdi"
# glibc's built-in search path on Debian x86-64 (ld.so --help), after the cache.
readonly GLIBC_DEFAULT_DIRS=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib)
readonly GLIBC_LIB=lib/x86_64-linux-gnu # what glibc's $LIB expands to on Debian
readonly PLATFORM=x86_64                # $PLATFORM: AT_PLATFORM
readonly MUSL_PATH_FILE=/etc/ld-musl-x86_64.path
readonly MUSL_DEFAULT_PATH=/lib:/usr/local/lib:/usr/lib
# Directories the kernel mounts over: an app put there would be hidden.
readonly MOUNTED_DIRS=(/tmp /dev /proc /sys)

usage() {
	cat <<'EOF'
usage: tools/mkimg.sh -o OUT.img [options]

Writes a bootable Solo disk image: GPT with one EFI System Partition (FAT32
from --size 36 up, FAT12/16 below) holding
    EFI/BOOT/BOOTX64.EFI   the UEFI stub
    kernel.elf             the kernel
    app.elf                your app (an x86-64 ELF, or the text of a script)
    boot.cfg               name, args, env and kernel settings (see below)
    rootfs.tar             the app's file system: the --file files, and what
                           a dynamically linked app or a script needs (only
                           when there is something to put in it)

Options:
  -o, --output OUT.img  the image to write (required). Written atomically:
                        on any error OUT is left as it was.
  --app APP             the app [build/user/demo.elf], one of
                        - a statically linked ELF64 x86-64 executable
                          (ET_EXEC or static PIE), e.g. musl-gcc -static;
                        - a dynamically linked one (it has PT_INTERP), e.g.
                          /usr/bin/python3: mkimg adds its interpreter and
                          libraries to the rootfs (see "Dynamically linked
                          apps" below);
                        - a script starting with #!/ABS/INTERPRETER [ARG]:
                          the interpreter must be in the image (--file, or
                          a --file tree); mkimg warns when it is not.
                        APP may also be an absolute path inside a directory
                        given with --file DIR:DEST (e.g. --file DIR:/ --app
                        /usr/bin/x): it is then taken from that tree.
  --app-path PATH       where the app is in its own file system (absolute):
                        boot.cfg's app_path, which the kernel uses for
                        /proc/self/exe, AT_EXECFN and as the script path it
                        hands a #! interpreter. Default for a dynamically
                        linked app or a script: APP's absolute path
                        (realpath -s), or /app/NAME when that is under
                        /tmp, /dev, /proc or /sys (the kernel mounts over
                        them); an APP inside a --file tree is at its own
                        path. A static app gets app_path (and a copy in
                        the rootfs) only with --app-path.
  --args "ARGS"         the app's command line, after argv[0], stored
                        verbatim; the kernel splits it like a shell does:
                        spaces separate, '...' and "..." quote, \ escapes.
  --env K=V             an environment variable (repeatable, kept in order).
  --file SRC:DEST       put the host file SRC at the absolute path DEST in the
                        app's file system (repeatable). DEST ending in '/' is
                        a directory: the file keeps its name. A directory SRC
                        is copied recursively into DEST (symlinks in it stay
                        symlinks); directories are placed before single
                        files. Parent directories are created; where the
                        host has a symlink to a directory on the way (Debian's
                        /lib -> usr/lib), the image gets the same symlink.
                        Two --file (or a --file and a library mkimg adds)
                        that put the same content at the same path are
                        fine; different contents, or a file where the other
                        has a directory or a symlink, are refused by name.
                        SRC must not contain ':'; DEST must be absolute and
                        must not contain '..'.
  --name NAME           argv[0] [the app's file name without .elf]
  --config KEY=VALUE    a kernel setting written to boot.cfg (repeatable);
                        KEY matches [a-z_][a-z0-9_]*, e.g. on_exit=halt
  --size MiB            the image size in MiB [enough for the contents plus
                        slack, at least 64]; at least 4
  --format FORMAT       the image file's format [raw]: raw (for dd to a USB
                        stick, QEMU, most clouds), qcow2 (QEMU, libvirt),
                        vmdk (VMware), vhdx (Hyper-V Generation 2) or vdi
                        (VirtualBox); converted with qemu-img (qemu-utils)
  --sign KEY --cert CERT
                        sign the stub for Secure Boot with sbsign (sbsigntool),
                        KEY and CERT in PEM (tools/keys.sh makes them). The
                        stub first gets the SHA-256 of kernel.elf, app.elf,
                        boot.cfg and rootfs.tar (build/tools/solo-manifest)
                        and refuses to boot when any of them was changed
                        after signing; the one signature covers them all
  --shim                with --sign: the layout for PCs that trust only
                        Microsoft's keys. EFI/BOOT/BOOTX64.EFI is Debian's
                        Microsoft-signed shim, grubx64.efi beside it the signed
                        stub (shim's second stage), mmx64.efi MokManager, and
                        \solo.cer the certificate (DER) to enroll in MokManager
                        at the first boot (build/shim, from tools/fetch-shim.sh;
                        fetched when missing)
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
    app_path=P    where the app is in the rootfs (see --app-path)
    KEY=VALUE     one line per --config. Keys the kernel knows include
                  on_exit=poweroff|reboot|halt (what to do when the app
                  exits) and log=LEVEL (kernel log verbosity, e.g. debug);
                  see the README for the full list. name, args, env and
                  app_path are reserved for the options above.
Values cannot contain a newline, a carriage return or a NUL byte.

rootfs.tar is a POSIX ustar archive; member names are the paths without
the leading '/' (directories have their own entries), owner 0:0.

Dynamically linked apps: mkimg reads the app's PT_INTERP and DT_NEEDED
entries (with readelf; the app is never run) and adds the interpreter and
every library of the closure, each at the path the loader will open:
  glibc (/lib64/ld-linux-x86-64.so.2): DT_RPATH (of the object that needs
    the library, then of what needed that one, up to the app; only when the
    object has no DT_RUNPATH), then DT_RUNPATH, then the host's ld.so.cache
    (ldconfig -p; x86-64 entries), then /lib/x86_64-linux-gnu,
    /usr/lib/x86_64-linux-gnu, /lib, /usr/lib (not with DF_1_NODEFLIB);
    LD_LIBRARY_PATH is not used. $ORIGIN, $LIB (lib/x86_64-linux-gnu) and
    $PLATFORM (x86_64) are expanded. When a library was found through the
    cache outside those directories, /etc/ld.so.cache is added too.
  musl (/lib/ld-musl-x86_64.so.1): DT_RUNPATH or DT_RPATH of the object and
    of those that needed it, then /etc/ld-musl-x86_64.path (added to the
    image) or /lib:/usr/local/lib:/usr/lib; libc.so, libm.so etc. are the
    interpreter itself.
A library is put at the path it was found by, with the contents of the
file that path names on the host; the interpreter keeps the host's symlinks
to its file (e.g. /lib64/ld-linux-x86-64.so.2). mkimg prints each file it
adds and the total. A library it cannot find is refused by name. For an APP
inside a --file tree, the tree is searched first and the host only for what
the tree lacks.

The same is done for every other ELF executable or shared object that
--file puts in the image (found by its header, whatever its name: e.g. the
C extension modules of --file /usr/lib/python3.11:/usr/lib/python3.11,
whose _sqlite3 module needs libsqlite3.so.0), with the rules of the app's
loader, as if the app dlopen()ed each: libraries the app already has are
not added twice, the others are added and printed with the object that
needs them. Such an object's $ORIGIN is its directory in the image; what
that names is taken from the image, else from beside the object's --file
source on the host. A library only such objects need and that cannot be
found is not refused: a warning names it and the object that needs it
(trees often carry plugins whose libraries nobody uses), and that object
will not load. With a static app (no loader) these objects are left as
they are. Libraries in glibc-hwcaps or legacy hwcap subdirectories are not
considered, nor a library that a program dlopen()s by name at run time and
that is not in the image: add those with --file.

Scripts: the first line names the interpreter by its absolute path (Solo
starts it as execve does, one level deep; there is no PATH search, so
#!/usr/bin/env NAME cannot work and is warned about). When the interpreter
is in the image and dynamically linked, its closure is added as above.

Writing the image to a USB stick (this ERASES the whole stick):
    lsblk                  # find the stick, e.g. /dev/sdX; check its size
                           # and model: dd overwrites whatever you name
    sudo dd if=OUT.img of=/dev/sdX bs=4M conv=fsync status=progress
Use the whole device (/dev/sdX), not a partition (/dev/sdX1), and a raw
image (the default). Boot the PC from the stick in UEFI mode, with
Secure Boot turned off in the firmware setup (the stub is not signed).

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
sign_key=
sign_cert=
shim=0
shim_dir=
sign_note=
manifest_tool=
elfcheck=
name=
args=
size_mib=
name_given=0
app_path=
format=raw
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
		--app-path) need_value "$opt" $#; app_path=$2; shift 2 ;;
		--format) need_value "$opt" $#; format=$2; shift 2 ;;
		--args) need_value "$opt" $#; args=$2; shift 2 ;;
		--env) need_value "$opt" $#; envs+=("$2"); shift 2 ;;
		--file) need_value "$opt" $#; files+=("$2"); shift 2 ;;
		--config) need_value "$opt" $#; configs+=("$2"); shift 2 ;;
		--name) need_value "$opt" $#; name=$2; name_given=1; shift 2 ;;
		--size) need_value "$opt" $#; size_mib=$2; shift 2 ;;
		--efi) need_value "$opt" $#; efi=$2; shift 2 ;;
		--sign) need_value "$opt" $#; sign_key=$2; shift 2 ;;
		--cert) need_value "$opt" $#; sign_cert=$2; shift 2 ;;
		--shim) shim=1; shift ;;
		--kernel) need_value "$opt" $#; kernel=$2; shift 2 ;;
		-*) usage_error "unknown option '$opt'" ;;
		*) usage_error "unexpected argument '$opt' (options only; the image is -o OUT)" ;;
		esac
	done
	[[ -n $out ]] || usage_error "missing -o OUT.img"
	[[ -z $sign_key || -n $sign_cert ]] || usage_error "--sign needs --cert (the certificate of the key)"
	[[ -n $sign_key || -z $sign_cert ]] || usage_error "--cert goes with --sign KEY"
	((!shim)) || [[ -n $sign_key ]] || usage_error "--shim needs --sign KEY --cert CERT (shim boots only signed stubs)"
	if [[ -n $size_mib ]]; then
		[[ $size_mib =~ ^[0-9]+$ ]] || usage_error "--size wants a whole number of MiB, not '$size_mib'"
		size_mib=$((10#$size_mib))
		((size_mib >= MIN_SIZE_MIB && size_mib <= MAX_SIZE_MIB)) ||
			usage_error "--size must be between $MIN_SIZE_MIB and $MAX_SIZE_MIB MiB"
	fi
	[[ " $FORMATS " == *" $format "* ]] ||
		usage_error "--format is one of ${FORMATS// /, }, not '$format'"
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

# find_tool VAR NAME: sets VAR to build/tools/NAME, one of the repository's
# host tools, building it first when it is missing (mkimg may run before make).
find_tool() {
	printf -v "$1" '%s' "$ROOT/build/tools/$2"
	[[ -x ${!1} ]] && return 0
	echo "$PROG: building build/tools/$2" >&2
	if ! make -s -C "$ROOT" "build/tools/$2" >&2 || [[ ! -x ${!1} ]]; then
		die "build/tools/$2 is missing and could not be built: run 'make' in $ROOT"
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

# Is --app an absolute path inside a --file directory tree? The last such
# tree that has it wins, as later --file trees are laid over earlier ones.
find_app_in_tree() {
	local i spec src dest rel

	app_in_tree=0
	[[ $app == /* ]] || return 0
	for ((i = ${#files[@]} - 1; i >= 0; i--)); do
		spec=${files[i]}
		src=${spec%%:*}
		dest=${spec#*:}
		dest=${dest%/}
		[[ -d $src ]] || continue
		if [[ -z $dest ]]; then
			rel=${app#/}
		elif [[ $app == "$dest"/* ]]; then
			rel=${app#"$dest"/}
		else
			continue
		fi
		if [[ -n $rel && (-e $src/$rel || -L $src/$rel) ]]; then
			app_in_tree=1
			return 0
		fi
	done
}

check_inputs() {
	local env cfg key path

	[[ ! -d $out ]] || die "-o $out is a directory"
	find_app_in_tree
	((app_in_tree)) || check_readable_file "app" "$app"
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
		app_path) die "--config app_path=... is reserved: use --app-path" ;;
		esac
	done
	if [[ -n $app_path ]]; then
		check_image_path "--app-path" "$app_path"
		[[ $app_path != */ ]] || die "--app-path '$app_path' names a directory (it ends in '/')"
		for path in "${MOUNTED_DIRS[@]}"; do
			if [[ $app_path == "$path"/* ]]; then
				die "--app-path '$app_path' is under $path, which the kernel mounts over: the app would be hidden"
			fi
		done
	fi
	check_file_specs

	command -v readelf >/dev/null || die "readelf not found: install binutils (tools/deps.sh)"
	if [[ $format != raw ]] && ! command -v qemu-img >/dev/null; then
		die "--format $format needs qemu-img: install qemu-utils (tools/deps.sh)"
	fi
	# The host build of kernel/elf.c: the same rules the stub and kernel apply.
	find_tool elfcheck elfcheck
	check_elf "kernel $kernel" --kernel "$kernel"
	check_efi_app "$efi"

	for path in "$app" "$efi" "$kernel"; do
		[[ ! $out -ef $path ]] || die "-o $out would overwrite an input"
	done
}

# check_image_path WHAT PATH: an absolute path inside the app's file system.
check_image_path() {
	local what=$1 path=$2 part
	local -a parts

	check_text "$what" "$path"
	[[ $path == /* ]] || die "$what '$path' is not absolute (it must start with '/')"
	IFS=/ read -r -a parts <<<"$path"
	for part in "${parts[@]}"; do
		[[ $part != .. ]] || die "$what '$path' contains '..'"
	done
}

# check_dest DEST: an absolute path inside the app's file system.
check_dest() {
	check_image_path "--file DEST" "$1"
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
tmpconv=
stage=          # the rootfs tree being built: $stage/PATH is the image's /PATH
rootfs_used=0   # something was put into the stage

cleanup() {
	[[ -z $tmpimg ]] || rm -f -- "$tmpimg"
	[[ -z $tmpconv ]] || rm -f -- "$tmpconv"
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
		[[ -z $app_path ]] || printf 'app_path=%s\n' "$app_path"
		for line in "${configs[@]}"; do
			printf '%s\n' "$line"
		done
	} >"$tmpdir/boot.cfg"
}

declare -A stage_links=() # a symlink in the stage -> its target (stage_walk)

# stage_walk PATH CREATE FOLLOW: finds the image path PATH (absolute) in the
# stage, one component at a time, following the stage's symlinks inside the
# stage (an absolute target starts again at the image's root, as it will in
# the guest). Where the stage has nothing and CREATE is 1, the host's
# structure is mirrored: a host symlink becomes the same symlink (so that
# Debian's /lib -> usr/lib makes /lib/... and /usr/lib/... the same files),
# anything else a directory. The last component is followed only when FOLLOW
# is 1. Sets walk_dir (the parent's real path in the image, symlink-free, ""
# for the root) and walk_name (the last component; "" for "/"). Returns 1
# when a component is missing (CREATE 0), is not a directory, or symlinks
# nest more than 40 deep.
stage_walk() {
	local create=$2 follow=$3 dir="" c p t links=0
	local -a unwalked more

	IFS=/ read -r -a unwalked <<<"$1"
	while ((${#unwalked[@]} > 0)); do
		c=${unwalked[0]}
		unwalked=("${unwalked[@]:1}")
		[[ -n $c && $c != . ]] || continue
		if [[ $c == .. ]]; then
			dir=${dir%/*}
			continue
		fi
		p=$stage$dir/$c
		if ((${#unwalked[@]} == 0 && !follow)); then
			walk_dir=$dir walk_name=$c
			return 0
		fi
		if [[ -L $p ]]; then
			# The closure walks /lib -> usr/lib once per candidate:
			# remember the stage's symlinks (never changed once made).
			if [[ -z ${stage_links[$p]+set} ]]; then
				stage_links[$p]=$(readlink -- "$p")
			fi
			t=${stage_links[$p]}
		elif [[ -d $p ]]; then
			dir=$dir/$c
			continue
		elif ((${#unwalked[@]} == 0)); then
			# The last component: a file, or nothing yet.
			if [[ ! -e $p ]] && ((create)) && [[ -L $dir/$c ]]; then
				t=$(readlink -- "$dir/$c")
				ln -s -- "$t" "$p"
			else
				walk_dir=$dir walk_name=$c
				return 0
			fi
		elif [[ -e $p ]]; then
			return 1
		elif ((!create)); then
			return 1
		elif [[ -L $dir/$c ]]; then
			t=$(readlink -- "$dir/$c")
			ln -s -- "$t" "$p"
		else
			mkdir -- "$p"
			dir=$dir/$c
			continue
		fi
		((++links <= 40)) || return 1
		IFS=/ read -r -a more <<<"$t"
		[[ $t != /* ]] || dir=
		unwalked=("${more[@]}" "${unwalked[@]}")
	done
	walk_dir=$dir walk_name=
	return 0
}

# stage_dir PATH WHAT: makes the directory PATH in the stage (see stage_walk)
# and prints its real path in the image.
stage_dir() {
	local p

	stage_walk "$1" 1 1 || die "$2: cannot make the directory $1 (a file is in the way)"
	p=$walk_dir${walk_name:+/$walk_name}
	if [[ -n $walk_name && ! -d $stage$p ]]; then
		[[ ! -e $stage$p ]] || die "$2: cannot make the directory $1: $p is a file"
		mkdir -- "$stage$p"
	fi
	echo "$p"
}

# same_file A B: same contents (cmp stops at the first difference).
same_file() {
	cmp -s -- "$1" "$2"
}

# stage_copy SRC PATH WHAT [LATER]: puts the host file SRC (symlinks
# followed) at the image path PATH, through the stage's directories and
# symlinks. Returns 0 when it was copied, 1 when the same contents were there
# already; dies when something else is there. With LATER 1 the copy is only
# queued for flush_added (the closure copies its libraries in one process);
# until then the file is not in the stage.
stage_copy() {
	local src=$1 path=$2 what=$3 dest

	stage_walk "$path" 1 0 || die "$what: cannot make the parent directory of $path (a file is in the way)"
	dest=$stage$walk_dir/$walk_name
	if [[ -L $dest ]]; then
		# A symlink from a --file tree: what it names must be the same file.
		if stage_walk "$path" 0 1 && [[ -f $stage$walk_dir/$walk_name ]] &&
			same_file "$src" "$stage$walk_dir/$walk_name"; then
			return 1
		fi
		die "$what: $path is already in the image as a symlink to a different file"
	fi
	if [[ -d $dest ]]; then
		die "$what: $path is already a directory in the image"
	fi
	if [[ -e $dest ]]; then
		same_file "$src" "$dest" && return 1
		die "$what: a different file is already at $path"
	fi
	if [[ -n ${pend_dst[$dest]:-} ]]; then
		same_file "$src" "${pend_dst[$dest]}" && return 1
		die "$what: a different file is already at $path"
	fi
	rootfs_used=1
	if ((${4:-0})); then
		pend_dst[$dest]=$src
		return 0
	fi
	cp -L --preserve=mode,timestamps -- "$src" "$dest" || die "$what: copying $src failed"
	return 0
}

# stage_tree SRC DEST SPEC: copies the directory SRC into the image directory
# DEST. Entries already there must be the same: a directory where SRC has a
# directory, a symlink with the same target, a file with the same contents.
# One find, one bash pass and two sha256sum runs for all the clashes, so
# trees of thousands of files take seconds (no process per file).
stage_tree() {
	local src=$1 dest=$2 spec=$3 real type rel link t n
	local -a clash_src=() clash_dst=() sum_src=() sum_dst=()

	real=$(stage_dir "$dest" "--file '$spec'")
	tree_dest+=("$real")
	[[ $src == /* ]] || src=$PWD/$src
	tree_src+=("${src%/}")
	while IFS= read -r -d '' type && IFS= read -r -d '' rel && IFS= read -r -d '' link; do
		t=$stage$real/$rel
		if [[ -L $t ]]; then
			[[ $type == l && $(readlink -- "$t") == "$link" ]] ||
				die "--file '$spec': $real/$rel is already in the image as a different symlink"
		elif [[ -d $t ]]; then
			[[ $type == d ]] || die "--file '$spec': $real/$rel is already a directory in the image"
		elif [[ -e $t ]]; then
			[[ $type == f ]] || die "--file '$spec': $real/$rel is already a file in the image"
			clash_src+=("$src/$rel") clash_dst+=("$t")
		fi
	done < <(find "$src" -mindepth 1 \( -type d -o -type f -o -type l \) -printf '%y\0%P\0%l\0')
	if ((${#clash_src[@]} > 0)); then
		mapfile -d '' -t sum_src < <(printf '%s\0' "${clash_src[@]}" | xargs -0 sha256sum -z -- | cut -z -c1-64)
		mapfile -d '' -t sum_dst < <(printf '%s\0' "${clash_dst[@]}" | xargs -0 sha256sum -z -- | cut -z -c1-64)
		((${#sum_src[@]} == ${#clash_src[@]} && ${#sum_dst[@]} == ${#clash_dst[@]})) ||
			die "--file '$spec': reading the files it shares with earlier --file failed"
		for ((n = 0; n < ${#clash_src[@]}; n++)); do
			[[ ${sum_src[n]} == "${sum_dst[n]}" ]] ||
				die "--file '$spec': a different file is already at ${clash_dst[n]#"$stage"}"
		done
	fi
	# -n: never overwrite (what is there is the same, or a directory to merge).
	cp -R -n --preserve=mode,timestamps -- "$src/." "$stage$real/" ||
		die "--file '$spec': copying the directory failed"
	rootfs_used=1
}

# The --file sources into the stage: directory trees first, so that their
# structure (a real /lib, say) wins over what single files would mirror.
stage_files() {
	local spec src dest target

	for spec in "${files[@]}"; do
		src=${spec%%:*}
		dest=${spec#*:}
		[[ -d $src ]] || continue
		stage_tree "$src" "$dest" "$spec"
	done
	for spec in "${files[@]}"; do
		src=${spec%%:*}
		dest=${spec#*:}
		[[ -f $src ]] || continue
		target=$dest
		[[ $target != */ ]] || target=$target$(basename -- "$src")
		stage_copy "$src" "$target" "--file '$spec'" || true
		# Where it came from, for its $ORIGIN (host_dir_of).
		if stage_walk "$target" 0 1 && [[ -z ${file_src[$walk_dir/$walk_name]:-} ]]; then
			[[ $src == /* ]] || src=$PWD/$src
			file_src[$walk_dir/$walk_name]=$src
		fi
	done
}

# Packs the stage as ustar, members sorted so the archive does not depend on
# readdir order, then aligns the file data (align_tar).
make_rootfs() {
	(cd "$stage" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z) >"$tmpdir/rootfs.list"
	tar --format=ustar --owner=0 --group=0 --numeric-owner --no-recursion \
		-C "$stage" --null -T "$tmpdir/rootfs.list" -cf "$tmpdir/rootfs.ustar" 2>"$tmpdir/tar.err" ||
		die "making rootfs.tar failed (ustar names are at most 255 bytes): $(cat "$tmpdir/tar.err")"
	align_tar "$tmpdir/rootfs.ustar" "$tmpdir/rootfs.tar"
}

# align_tar IN OUT: copies the archive IN with every regular file's data at a
# 4 KiB boundary of the archive, so that the kernel, which keeps the archive
# in memory page-aligned, could map a file's pages in place. The padding is
# a pax extended header ('x') holding one "comment" record, which pax
# readers ignore (POSIX.1-2001) and Solo's tarfs skips; it is 2 to 9 blocks
# of 512 bytes before a member, since a pax member is at least a header and
# one data block. Perl (perl-base, Essential in Debian) does the bytes.
align_tar() {
	perl -e '
		use strict;
		my ($in, $out) = @ARGV;
		open(my $i, "<:raw", $in) or die "$in: $!\n";
		open(my $o, ">:raw", $out) or die "$out: $!\n";
		my $off = 0;
		sub pad {
			my ($blocks) = @_;
			my $len = ($blocks - 1) * 512;
			my $head = "$len comment=";
			my $rec = $head . ("x" x ($len - length($head) - 1)) . "\n";
			my $h = pack("a100 a8 a8 a8 a12 a12 a8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12",
				"PaxHeaders/pad", "0000644", "0000000", "0000000",
				sprintf("%011o", $len), "00000000000", " " x 8, "x", "",
				"ustar", "00", "", "", "", "", "", "");
			my $sum = unpack("%32C*", $h);
			substr($h, 148, 8) = sprintf("%06o\0 ", $sum);
			return $h . $rec;
		}
		while (read($i, my $h, 512) == 512) {
			if ($h eq "\0" x 512) {
				local $/;
				my $rest = <$i>;
				print $o $h, (defined $rest ? $rest : "");
				last;
			}
			my $type = substr($h, 156, 1);
			(my $field = substr($h, 124, 12)) =~ s/[\0 ]+$//;
			my $size = oct($field || 0);
			my $n = int(($size + 511) / 512) * 512;
			read($i, my $data, $n) == $n or die "$in: truncated\n";
			if (($type eq "0" || $type eq "\0") && $size > 0) {
				my $k = ((3584 - $off % 4096) % 4096) / 512;
				$k += 8 if $k == 1;
				if ($k) {
					print $o pad($k);
					$off += $k * 512;
				}
			}
			print $o $h, $data;
			$off += 512 + $n;
		}
		close($o) or die "$out: $!\n";
	' "$1" "$2" 2>"$tmpdir/align.err" || die "aligning rootfs.tar failed: $(cat "$tmpdir/align.err")"
}

# ------------------------------------------------------------ the app

app_file=     # the app's bytes: the host file, or its file in the stage
app_kind=     # static, dynamic or script

# human BYTES: 1.9 MiB, 140 KiB, 812 B.
human() {
	human_set "$1"
	echo "$hsize"
}

# human_set BYTES: human's answer in hsize, without a subshell.
human_set() {
	local b=$1

	if ((b >= MIB)); then
		hsize="$((b / MIB)).$((b % MIB * 10 / MIB)) MiB"
	elif ((b >= 1024)); then
		hsize="$(((b + 512) / 1024)) KiB"
	else
		hsize="$b B"
	fi
}

# What readelf says of an ELF file, kept by file so that each is read once:
# the closure reads the same candidates again and again, and a big --file
# tree is read in bulk (elf_read_many) before its objects are looked at.
declare -A ec_ok=() ec_interp=() ec_needed=() ec_rpath=() ec_runpath=() ec_soname=() ec_nodeflib=()

# elf_begin: forget the ei_* of the previous file.
elf_begin() {
	ei_ok=0 ei_interp='' ei_rpath='' ei_runpath='' ei_soname='' ei_nodeflib=0
	ei_needed='' ei_class='' ei_machine=''
}

# elf_line LINE: one line of readelf -W -h -l -d into the ei_* being read.
elf_line() {
	local line=$1

	case $line in
	*"Class:"*) ei_class=${line##* } ;;
	*"Machine:"*) ei_machine=${line#*Machine:} ;;
	*"[Requesting program interpreter: "*)
		ei_interp=${line#*interpreter: }
		ei_interp=${ei_interp%]*}
		;;
	*"(NEEDED)"*"Shared library: ["*)
		line=${line#*Shared library: [}
		ei_needed+=${line%]}$'\n'
		;;
	*"(RPATH)"*"Library rpath: ["*)
		line=${line#*Library rpath: [}
		ei_rpath=${line%]}
		;;
	*"(RUNPATH)"*"Library runpath: ["*)
		line=${line#*Library runpath: [}
		ei_runpath=${line%]}
		;;
	*"(SONAME)"*"Library soname: ["*)
		line=${line#*Library soname: [}
		ei_soname=${line%]}
		;;
	*"(FLAGS_1)"*) [[ " $line " != *" NODEFLIB "* ]] || ei_nodeflib=1 ;;
	esac
}

# elf_end FILE OK: the ei_* just read are FILE's; OK is 1 when the caller
# knows FILE is an ELF64 x86-64 file, else the header lines decide.
elf_end() {
	# RUNPATH makes glibc ignore RPATH (elf/get-dynamic-info.h); musl too.
	[[ -z $ei_runpath ]] || ei_rpath=''
	if [[ $2 == 1 || ($ei_class == ELF64 && $ei_machine == *X86-64*) ]]; then
		ei_ok=1
	fi
	ec_ok[$1]=$ei_ok ec_interp[$1]=$ei_interp ec_needed[$1]=$ei_needed
	ec_rpath[$1]=$ei_rpath ec_runpath[$1]=$ei_runpath ec_soname[$1]=$ei_soname
	ec_nodeflib[$1]=$ei_nodeflib
}

# elf_read FILE: FILE's headers and dynamic section (one readelf, the first
# time). Sets ei_ok (1 for an ELF64 x86-64 file), ei_interp, ei_needed (the
# DT_NEEDED names, each followed by a newline), ei_rpath, ei_runpath,
# ei_soname and ei_nodeflib.
elf_read() {
	local line

	if [[ -n ${ec_ok[$1]:-} ]]; then
		ei_ok=${ec_ok[$1]} ei_interp=${ec_interp[$1]} ei_needed=${ec_needed[$1]}
		ei_rpath=${ec_rpath[$1]} ei_runpath=${ec_runpath[$1]} ei_soname=${ec_soname[$1]}
		ei_nodeflib=${ec_nodeflib[$1]}
		return 0
	fi
	elf_begin
	while IFS= read -r line; do
		elf_line "$line"
	done < <(readelf -W -h -l -d -- "$1" 2>/dev/null || true)
	elf_end "$1" ''
}

# elf_read_many KNOWN FILE...: what elf_read finds in many files (but the
# interpreter: they are libraries), into its memory, with one readelf per
# few thousand files and a grep for the lines that matter. KNOWN is 1 when
# the files are known to be ELF64 x86-64 (elf_files' answer: only the
# dynamic sections are read), else 0. readelf heads each file's part with
# "File: NAME" only when it is given more than one file: /dev/null goes
# first in every batch (it is no ELF file; readelf says so on stderr and
# goes on).
elf_read_many() {
	local known=$1 line cur='' ok='' what=(-h -d)

	shift
	if ((known)); then
		ok=1 what=(-d)
	fi
	elf_begin
	while IFS= read -r line; do
		if [[ $line == "File: "* ]]; then
			[[ -z $cur ]] || elf_end "$cur" "$ok"
			cur=${line#File: }
			elf_begin
		elif [[ -n $cur ]]; then
			elf_line "$line"
		fi
	done < <(printf '%s\0' "$@" | xargs -0 readelf -W "${what[@]}" -- /dev/null 2>/dev/null |
		grep -E '^File: |Class:|Machine:|\((NEEDED|RPATH|RUNPATH|SONAME|FLAGS_1)\)' || true)
	[[ -z $cur ]] || elf_end "$cur" "$ok"
}

# elf_files: the stage's ELF64 x86-64 executables and shared objects (by
# their magic, type and machine, not their names: Python's extension modules
# end in .so, a program in nothing), as paths in the image, sorted, each
# ended by a NUL. One find and one perl for the whole tree.
elf_files() {
	(cd "$stage" && find . -type f -size +63c -printf '%P\0' | LC_ALL=C sort -z |
		perl -0 -ne '
			chomp;
			next if /\n/; # readelf names files one per line
			open(my $f, "<:raw", $_) or next;
			read($f, my $h, 20) == 20 or next;
			my ($magic, $class, $data, $type, $machine) = unpack("a4 C C x10 v v", $h);
			print "/$_\0" if $magic eq "\x7fELF" && $class == 2 && $data == 1 &&
				($type == 2 || $type == 3) && $machine == 62;')
}

# The app's kind and checks: a script, or an ELF that elfcheck accepts
# (kernel/elf.c's rules, PT_INTERP included).
check_app() {
	local head

	if ((app_in_tree)); then
		if ! stage_walk "$app" 0 1 || [[ ! -f $stage$walk_dir/$walk_name ]]; then
			die "app $app: not a regular file in the --file tree"
		fi
		app_file=$stage$walk_dir/$walk_name
	else
		app_file=$app
	fi
	head=$(head -c 2 -- "$app_file" | od -An -c | tr -d ' ')
	if [[ $head == '#!' ]]; then
		app_kind=script
		return 0
	fi
	check_elf "app $app" --app "$app_file"
	elf_read "$app_file"
	app_kind=static
	[[ -z $ei_interp ]] || app_kind=dynamic
}

# Where the app is in its own file system (boot.cfg app_path), and its copy
# there. See --app-path in the help.
place_app() {
	local d

	if [[ -z $app_path ]]; then
		if ((app_in_tree)); then
			app_path=$app
		elif [[ $app_kind == static ]]; then
			return 0
		else
			app_path=$(realpath -s -- "$app")
			for d in "${MOUNTED_DIRS[@]}"; do
				if [[ $app_path == "$d" || $app_path == "$d"/* ]]; then
					app_path=/app/$(basename -- "$app")
					break
				fi
			done
		fi
	fi
	check_text "app_path" "$app_path"
	if ((!app_in_tree)); then
		origin_guest=${app_path%/*}
		origin_host=$(realpath -s -- "$app")
		origin_host=${origin_host%/*}
		[[ $origin_guest != "$origin_host" ]] || origin_guest=''
	fi
	if ((app_in_tree)) && [[ $app_path == "$app" ]]; then
		return 0
	fi
	if stage_copy "$app_file" "$app_path" "--app $app"; then
		echo "$PROG: put the app at $app_path ($(human "$(file_size "$app_file")")) in the rootfs"
	fi
}

# ------------------------------------------------------------ the closure

added_files=0
added_bytes=0
tree_added=0              # of added_files, those only --file objects need
declare -A cache_map=()   # soname -> path, from the host's ld.so.cache
cache_read=0
need_ld_cache=0

# The x86-64 entries of the host's ld.so.cache; the first of a name wins, as
# in glibc's lookup.
read_ld_cache() {
	local line name path

	((cache_read)) && return 0
	cache_read=1
	while IFS= read -r line; do
		[[ $line == *"x86-64"*" => /"* && $line != *hwcap* ]] || continue
		name=${line#"${line%%[![:space:]]*}"}
		name=${name%% *}
		path=${line##* => }
		[[ -n ${cache_map[$name]:-} ]] || cache_map[$name]=$path
	done < <(ldconfig -p 2>/dev/null || true)
}

# What add_file queued and flush_added has not yet copied and printed: the
# sources, the files in the stage, the paths to print and what needed them.
declare -a pend_src=() pend_stage=() pend_path=() pend_for=()
declare -A pend_dst=() # a queued file in the stage -> its source (stage_copy)

# add_file SRC PATH FOR: stage_copy, queued for flush_added. Until then the
# file is not in the stage: the closure finds it on the host at the same
# path (o_by_file keeps it from being added twice).
add_file() {
	local shown=$2

	if stage_copy "$1" "$2" "$2 (needed by $3)" 1; then
		# $ORIGIN/../lib: say where it went.
		[[ $shown != */../* && $shown != */./* ]] || shown=$walk_dir/$walk_name
		pend_src+=("$1") pend_stage+=("$stage$walk_dir/$walk_name")
		pend_path+=("$shown") pend_for+=("$3")
	fi
}

# flush_added: copies what add_file queued, as cp -L --preserve=mode,timestamps
# would, in one perl, which answers each file's size; then the "added" lines.
flush_added() {
	local k
	local -a sizes

	((${#pend_src[@]} > 0)) || return 0
	for ((k = 0; k < ${#pend_src[@]}; k++)); do
		printf '%s\0%s\0' "${pend_src[k]}" "${pend_stage[k]}"
	done >"$tmpdir/copies"
	mapfile -t sizes < <(perl -0 -e '
		use strict;
		while (defined(my $s = <STDIN>)) {
			my $d = <STDIN>;
			chomp($s, $d);
			open(my $i, "<:raw", $s) or die "$s: $!\n";
			open(my $o, ">:raw", $d) or die "$d: $!\n";
			my ($buf, $n);
			while ($n = sysread($i, $buf, 1 << 20)) {
				syswrite($o, $buf) == $n or die "$d: $!\n";
			}
			defined($n) or die "$s: $!\n";
			close($o) or die "$d: $!\n";
			my @st = stat($i);
			chmod($st[2] & 07777, $d) or die "$d: $!\n";
			utime($st[8], $st[9], $d) or die "$d: $!\n";
			print "$st[7]\n";
		}' <"$tmpdir/copies" 2>"$tmpdir/copies.err")
	((${#sizes[@]} == ${#pend_src[@]})) || die "copying the libraries failed: $(cat "$tmpdir/copies.err")"
	for ((k = 0; k < ${#pend_src[@]}; k++)); do
		added_files=$((added_files + 1))
		added_bytes=$((added_bytes + sizes[k]))
		human_set "${sizes[k]}"
		echo "$PROG: added ${pend_path[k]} ($hsize) for ${pend_for[k]}"
	done
	pend_src=() pend_stage=() pend_path=() pend_for=() pend_dst=()
}

# The interpreter keeps the host's symlinks to its file: the program names
# one path (/lib64/ld-linux-x86-64.so.2), tools and the libraries another.
add_interpreter() {
	local path=$1 for=$2 real size

	if ((app_in_tree)) && stage_walk "$path" 0 1 && [[ -f $stage$walk_dir/$walk_name ]]; then
		return 0
	fi
	[[ -f $path ]] || die "the interpreter $path (of $for) is not on this host: give it with --file"
	real=$(readlink -f -- "$path")
	stage_walk "$path" 1 1 || die "the interpreter $path (of $for): a file in the image is in the way"
	if stage_copy "$real" "$walk_dir/$walk_name" "the interpreter $path (of $for)"; then
		size=$(stat -c %s -- "$real")
		added_files=$((added_files + 1))
		added_bytes=$((added_bytes + size))
		if [[ $walk_dir/$walk_name == "$path" ]]; then
			echo "$PROG: added $path ($(human "$size")) for $for"
		else
			echo "$PROG: added $walk_dir/$walk_name ($(human "$size")) for $for," \
				"as $path through the host's symlinks"
		fi
	fi
}

# expand_dst STRING ORIGIN: sets dst to STRING with $ORIGIN, $LIB and
# $PLATFORM (and ${...}) replaced. musl knows $ORIGIN only.
# shellcheck disable=SC2016 # the '$NAME' patterns are literal
expand_dst() {
	local s=$1

	s=${s//'${ORIGIN}'/$2}
	s=${s//'$ORIGIN'/$2}
	if [[ $libc == glibc ]]; then
		s=${s//'${LIB}'/$GLIBC_LIB}
		s=${s//'$LIB'/$GLIBC_LIB}
		s=${s//'${PLATFORM}'/$PLATFORM}
		s=${s//'$PLATFORM'/$PLATFORM}
	fi
	dst=$s
}

# Objects of the closure, by index: 0 is the program. o_rpath and o_runpath
# are the object's lists with $ORIGIN its directory in the image;
# o_rpath_host and o_runpath_host the same lists with $ORIGIN the directory
# it came from on the host (they differ only for an object from a --file).
# o_optional is 1 for a --file object examined for itself and what it brings
# in: a library missing there is warned about, not refused.
declare -a o_path=() o_loader=() o_rpath=() o_runpath=() o_rpath_host=() o_runpath_host=()
declare -a o_nodeflib=() o_needed_list=() o_optional=()
declare -A o_by_name=()  # a DT_NEEDED name or soname -> the object it is
declare -A o_by_file=()  # the file an object was read from -> the object
libc=
closure_interp=
found_path='' found_file=''
origin_guest='' origin_host=''
musl_path=''

# Where the --file sources are, for the $ORIGIN of an object among them:
# each directory's real path in the image ("" for /) and its host path, in
# --file order; each single file's real path in the image -> its host path.
declare -a tree_dest=() tree_src=()
declare -A file_src=()

# host_dir_of PATH: sets hostdir to the host directory that the stage file
# at the real image path PATH came from, when that is not PATH's own
# directory, else "".
host_dir_of() {
	local p=$1 k d

	hostdir=''
	if [[ -n ${file_src[$p]:-} ]]; then
		hostdir=${file_src[$p]%/*}
	else
		for ((k = 0; k < ${#tree_dest[@]}; k++)); do
			d=${tree_dest[k]}
			if [[ -z $d || $p == "$d"/* ]]; then
				hostdir=${tree_src[k]}${p#"$d"}
				hostdir=${hostdir%/*}
				break
			fi
		done
	fi
	[[ $hostdir != "${p%/*}" ]] || hostdir=''
}

# try_candidate PATH [HOST]: PATH is an x86-64 ELF in the image or on the
# host (glibc's open_verify skips files of another class or machine). Sets
# found_path and found_file (where to read it: the stage or the host).
# HOST, when given, is PATH as the host has it (a $ORIGIN of a --file object
# expanded with the directory it came from): the image's file wins and HOST
# is read only when the image has none. Without HOST, a path under the app's
# directory in the image is looked for under its directory on the host
# (origin_guest, origin_host), so that an app moved to /app/NAME or to its
# --app-path keeps the libraries its $ORIGIN names; the image's file wins
# only for an app inside a --file tree or where the host has none.
try_candidate() {
	local path=$1 in_stage='' host prefer_stage=$app_in_tree

	[[ $path == /* ]] || return 1
	if stage_walk "$path" 0 1 && [[ -f $stage$walk_dir/$walk_name ]]; then
		in_stage=$stage$walk_dir/$walk_name
	fi
	if [[ -n ${2:-} ]]; then
		host=$2 prefer_stage=1
	else
		host=$path
		if [[ -n $origin_guest && $path == "$origin_guest"/* ]]; then
			host=$origin_host/${path#"$origin_guest"/}
		fi
	fi
	if [[ -n $in_stage ]] && { ((prefer_stage)) || [[ ! -f $host ]]; }; then
		found_file=$in_stage
	elif [[ -f $host ]]; then
		found_file=$host
	else
		return 1
	fi
	elf_read "$found_file"
	((ei_ok)) || return 1
	found_path=$path
	return 0
}

# search_dirs NAME DIRS [HOSTDIRS]: each directory of the ':' list DIRS in
# turn; HOSTDIRS is the same list as the host has it (o_rpath_host).
search_dirs() {
	local name=$1 k d h
	local -a dirs hosts=()

	IFS=: read -r -a dirs <<<"$2"
	if [[ -n ${3:-} && $3 != "$2" ]]; then
		IFS=: read -r -a hosts <<<"$3"
		((${#hosts[@]} == ${#dirs[@]})) || hosts=()
	fi
	for ((k = 0; k < ${#dirs[@]}; k++)); do
		d=${dirs[k]}
		[[ -n $d ]] || d=.
		h=${hosts[k]:-}
		if [[ -n $h && $h != "$d" ]]; then
			try_candidate "${d%/}/$name" "${h%/}/$name" && return 0
		else
			try_candidate "${d%/}/$name" && return 0
		fi
	done
	return 1
}

# in_default_dir PATH: PATH is in one of glibc's built-in directories.
in_default_dir() {
	local d

	for d in "${GLIBC_DEFAULT_DIRS[@]}"; do
		[[ ${1%/*} == "$d" ]] && return 0
	done
	return 1
}

# find_glibc NAME INDEX: glibc's _dl_map_object for NAME needed by object
# INDEX (elf/dl-load.c), without LD_LIBRARY_PATH.
find_glibc() {
	local name=$1 i=$2 l

	if [[ -z ${o_runpath[i]} ]]; then
		for ((l = i; l >= 0; l = o_loader[l])); do
			if [[ -n ${o_rpath[l]} ]] && search_dirs "$name" "${o_rpath[l]}" "${o_rpath_host[l]}"; then
				return 0
			fi
		done
	fi
	if [[ -n ${o_runpath[i]} ]] && search_dirs "$name" "${o_runpath[i]}" "${o_runpath_host[i]}"; then
		return 0
	fi
	read_ld_cache
	l=${cache_map[$name]:-}
	if [[ -n $l ]] && ! { ((o_nodeflib[i])) && in_default_dir "$l"; } && try_candidate "$l"; then
		in_default_dir "$l" || need_ld_cache=1
		return 0
	fi
	if ((!o_nodeflib[i])); then
		local IFS=:
		search_dirs "$name" "${GLIBC_DEFAULT_DIRS[*]}" && return 0
	fi
	return 1
}

# Sets musl_path to the directories musl searches after the RPATHs: the
# path file, else the built-in list.
musl_sys_path() {
	local line

	[[ -z $musl_path ]] || return 0
	if [[ -r $MUSL_PATH_FILE ]]; then
		while IFS= read -r line || [[ -n $line ]]; do
			musl_path+=${musl_path:+:}${line//[[:space:]]/:}
		done <"$MUSL_PATH_FILE"
	fi
	: "${musl_path:=$MUSL_DEFAULT_PATH}"
}

# find_musl NAME INDEX: musl's load_library (ldso/dynlink.c).
find_musl() {
	local name=$1 i=$2 l

	for ((l = i; l >= 0; l = o_loader[l])); do
		if [[ -n ${o_rpath[l]}${o_runpath[l]} ]] &&
			search_dirs "$name" "${o_runpath[l]:-${o_rpath[l]}}" \
				"${o_runpath_host[l]:-${o_rpath_host[l]}}"; then
			return 0
		fi
	done
	musl_sys_path
	search_dirs "$name" "$musl_path"
}

# add_object PATH FILE LOADER HOSTDIR ROOT: records the object found at PATH
# (read from FILE, which elf_read must have just read) and its dynamic
# entries. HOSTDIR is the host directory its $ORIGIN stands for when that is
# not PATH's own (an object from --file: where it came from), else "".
# ROOT is 1 for a --file object examined for itself: what it needs is
# optional, and its soname does not count as loaded (the app's loader opens
# it only when asked for it by path).
add_object() {
	local n=${#o_path[@]} origin=${1%/*}

	o_path[n]=$1 o_loader[n]=$3 o_nodeflib[n]=$ei_nodeflib o_needed_list[n]=$ei_needed
	o_by_file[$2]=$n
	expand_dst "$ei_rpath" "${origin:-/}"
	o_rpath[n]=$dst o_rpath_host[n]=$dst
	expand_dst "$ei_runpath" "${origin:-/}"
	o_runpath[n]=$dst o_runpath_host[n]=$dst
	if [[ -n $4 ]]; then
		expand_dst "$ei_rpath" "$4"
		o_rpath_host[n]=$dst
		expand_dst "$ei_runpath" "$4"
		o_runpath_host[n]=$dst
	fi
	if (($5)); then
		o_optional[n]=1
	else
		o_optional[n]=0
		(($3 < 0)) || o_optional[n]=${o_optional[$3]}
		[[ -z $ei_soname ]] || o_by_name[$ei_soname]=$n
	fi
}

# is_musl_self NAME: musl answers these names with itself (load_library's
# "reserved" list).
is_musl_self() {
	[[ $1 =~ ^lib(c|pthread|rt|m|dl|util|xnet)\. ]]
}

# Libraries that only --file objects need and that were not found, in the
# order met: the first object that needs each, how many more do, and where
# the first one's loader would look.
declare -a miss_names=()
declare -A miss_by=() miss_more=() miss_where=()

# note_missing NAME INDEX
note_missing() {
	local name=$1 i=$2

	if [[ -z ${miss_by[$name]:-} ]]; then
		miss_names+=("$name")
		miss_by[$name]=${o_path[i]}
		miss_more[$name]=0
		miss_where[$name]=$(search_summary "$i")
	else
		miss_more[$name]=$((miss_more[$name] + 1))
	fi
}

# resolve FROM: the DT_NEEDED libraries of objects FROM, FROM+1, ... and of
# what they bring in, breadth first as both loaders do, each added to the
# image at the path it was found by. A library the app needs that cannot be
# found is refused; one only --file objects need is noted (note_missing).
resolve() {
	local i name n hd ahead=$1
	local -a needed

	for ((i = $1; i < ${#o_path[@]}; i++)); do
		if ((i == ahead)); then
			ahead=${#o_path[@]}
			prefetch "$i" "$ahead"
		fi
		[[ -n ${o_needed_list[i]} ]] || continue
		mapfile -t needed <<<"${o_needed_list[i]%$'\n'}"
		for name in "${needed[@]}"; do
			[[ -n $name ]] || continue
			[[ -z ${o_by_name[$name]:-} ]] || continue
			if [[ $libc == musl ]] && is_musl_self "$name"; then
				continue
			fi
			found_path='' found_file=''
			if [[ $name == */* ]]; then
				try_candidate "$name" || found_path=
			elif [[ $libc == musl ]]; then
				find_musl "$name" "$i" || found_path=
			else
				find_glibc "$name" "$i" || found_path=
			fi
			if [[ -z $found_path ]]; then
				((o_optional[i])) ||
					die "$name (needed by ${o_path[i]}) not found in $(search_summary "$i")"
				note_missing "$name" "$i"
				continue
			fi
			n=${o_by_file[$found_file]:-}
			if [[ -n $n ]]; then
				o_by_name[$name]=$n
				continue
			fi
			o_by_name[$name]=${#o_path[@]}
			if [[ $found_file == "$stage"/* ]]; then
				host_dir_of "${found_file#"$stage"}"
				add_object "$found_path" "$found_file" "$i" "$hostdir" 0
				continue
			fi
			hd=''
			[[ $found_file == "$found_path" ]] || hd=${found_file%/*}
			add_object "$found_path" "$found_file" "$i" "$hd" 0
			add_file "$found_file" "$found_path" "${o_path[i]}"
			((!o_optional[i])) || tree_added=$((tree_added + 1))
		done
	done
}

# prefetch FROM TO: one readelf for the files the ld.so.cache names for what
# objects FROM..TO-1 need (most of what glibc's search will read next), so
# that a breadth of the closure costs one process, not one per library.
prefetch() {
	local i name p
	local -a files=()
	local -A seen=()

	[[ $libc == glibc ]] || return 0
	read_ld_cache
	for ((i = $1; i < $2; i++)); do
		while IFS= read -r name; do
			[[ -n $name && -z ${o_by_name[$name]:-} ]] || continue
			p=${cache_map[$name]:-}
			[[ -n $p && -z ${seen[$p]:-} && -z ${ec_ok[$p]:-} && -f $p ]] || continue
			seen[$p]=1
			files+=("$p")
		done <<<"${o_needed_list[i]}"
	done
	((${#files[@]} == 0)) || elf_read_many 0 "${files[@]}"
}

# closure PATH FILE: the interpreter and the DT_NEEDED closure of the dynamic
# ELF that is at PATH in the image, read from FILE: the app, or the
# interpreter of a script. Sets libc (whose loader's rules apply) and
# closure_interp.
closure() {
	local prog_path=$1 prog_file=$2

	elf_read "$prog_file"
	closure_interp=$ei_interp
	[[ -n $closure_interp ]] || return 0
	case ${closure_interp##*/} in
	ld-musl-*) libc=musl ;;
	*) libc=glibc ;;
	esac
	add_object "$prog_path" "$prog_file" -1 '' 0
	add_interpreter "$closure_interp" "$prog_path"
	# glibc matches the interpreter by its soname: libc.so.6's NEEDED
	# ld-linux-x86-64.so.2 opens no file.
	if try_candidate "$closure_interp"; then
		[[ -z $ei_soname ]] || o_by_name[$ei_soname]=-2
	fi
	if [[ $libc == musl && -r $MUSL_PATH_FILE ]] && { ! stage_walk "$MUSL_PATH_FILE" 0 1 ||
		[[ ! -e $stage$walk_dir/$walk_name ]]; }; then
		add_file "$MUSL_PATH_FILE" "$MUSL_PATH_FILE" "the musl loader"
	fi
	resolve 0
	flush_added
}

# tree_closure: the libraries of every other ELF executable and shared
# object in the image (what --file put there: Python's extension modules,
# a program's plugins), found by the same loader's rules as the app's, as
# if the app dlopen()ed each of them. What only these need and cannot be
# found is warned about, one line per library: a tree often carries plugins
# whose libraries nobody needs. Nothing to do for a static app (no loader).
tree_closure() {
	local i f p name more
	local -a elfs roots=()
	local -A closed=()

	[[ -n $libc ]] || return 0
	for ((i = 0; i < ${#o_path[@]}; i++)); do
		! stage_walk "${o_path[i]}" 0 1 || closed[$walk_dir/$walk_name]=1
	done
	! stage_walk "$closure_interp" 0 1 || closed[$walk_dir/$walk_name]=1
	mapfile -d '' -t elfs < <(elf_files)
	for p in "${elfs[@]}"; do
		[[ -n ${closed[$p]:-} ]] || roots+=("$stage$p")
	done
	((${#roots[@]} > 0)) || return 0
	elf_read_many 1 "${roots[@]}"
	i=${#o_path[@]}
	for f in "${roots[@]}"; do
		elf_read "$f"
		[[ -n $ei_needed ]] || continue
		host_dir_of "${f#"$stage"}"
		add_object "${f#"$stage"}" "$f" 0 "$hostdir" 1
	done
	resolve "$i"
	flush_added
	for name in "${miss_names[@]}"; do
		more=''
		((miss_more[$name] == 0)) || more=" and ${miss_more[$name]} more"
		echo "$PROG: warning: $name (needed by ${miss_by[$name]}$more) not found in" \
			"${miss_where[$name]}: left out, as only --file objects need it;" \
			"${miss_by[$name]} will not load" >&2
	done
}

# /etc/ld.so.cache, when glibc found a library through it outside its
# default directories.
add_ld_cache() {
	if ((need_ld_cache)) && { ! stage_walk /etc/ld.so.cache 0 1 ||
		[[ ! -e $stage$walk_dir/$walk_name ]]; }; then
		add_file /etc/ld.so.cache /etc/ld.so.cache "the glibc loader (libraries outside its default directories)"
	fi
}

# Where find_* looked, for the refusal.
search_summary() {
	local i=$1 l where=''

	if [[ $libc == musl ]]; then
		for ((l = i; l >= 0; l = o_loader[l])); do
			[[ -z ${o_rpath[l]}${o_runpath[l]} ]] || where+="${o_runpath[l]:-${o_rpath[l]}}:"
		done
		musl_sys_path
		echo "$where$musl_path"
		return
	fi
	if [[ -z ${o_runpath[i]} ]]; then
		for ((l = i; l >= 0; l = o_loader[l])); do
			[[ -z ${o_rpath[l]} ]] || where+="${o_rpath[l]}:"
		done
	fi
	[[ -z ${o_runpath[i]} ]] || where+="${o_runpath[i]}:"
	where+="the ld.so.cache"
	if ((!o_nodeflib[i])); then
		local IFS=:
		where+=":${GLIBC_DEFAULT_DIRS[*]}"
	fi
	echo "$where"
}

# A #! script: warn when its interpreter is not in the image; add the
# closure of one that is and is dynamically linked.
check_script() {
	local line interp base

	IFS= read -r line <"$app_file" || true
	line=${line%$'\r'}
	line=${line#\#!}
	line=${line#"${line%%[![:space:]]*}"}
	interp=${line%%[[:space:]]*}
	base=$(basename -- "$app")
	if [[ -z $interp ]]; then
		echo "$PROG: warning: $base starts with #! but names no interpreter" >&2
		return 0
	fi
	if [[ ${interp##*/} == env ]]; then
		echo "$PROG: warning: $base starts with #!$line: Solo has no PATH search at exec" \
			"(and env cannot exec), so start it with the interpreter's absolute path," \
			"e.g. #!/usr/bin/${line##*[[:space:]]}, and put that in the image" >&2
		return 0
	fi
	if [[ $interp != /* ]]; then
		echo "$PROG: warning: $base starts with #!$interp, a relative path: Solo starts" \
			"the interpreter by its absolute path in the image" >&2
		return 0
	fi
	if ! stage_walk "$interp" 0 1 || [[ ! -f $stage$walk_dir/$walk_name ]]; then
		echo "$PROG: warning: $base starts with #!$interp, which is not in the image:" \
			"add it with --file $interp:$interp (its libraries come with it)" >&2
		return 0
	fi
	closure "$interp" "$stage$walk_dir/$walk_name"
}

file_size() {
	stat -L -c %s -- "$1"
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

# ------------------------------------------------------------ signing

# Checked before anything is staged, so a bad key costs nothing.
check_signing() {
	[[ -n $sign_key ]] || return 0
	check_readable_file "--sign key" "$sign_key"
	check_readable_file "--cert certificate" "$sign_cert"
	command -v sbsign >/dev/null && command -v sbverify >/dev/null ||
		die "--sign needs sbsign and sbverify: install sbsigntool (make deps)"
	if ((shim)); then
		shim_dir=$ROOT/build/shim
		"$ROOT/tools/fetch-shim.sh" "$shim_dir" || die "cannot fetch Debian's shim (tools/fetch-shim.sh)"
		command -v openssl >/dev/null || die "--shim needs openssl (for solo.cer): make deps"
	fi
	find_tool manifest_tool solo-manifest
}

# A copy of the stub with every file's SHA-256 in its manifest, signed:
# the firmware checks the signature, the stub checks the files. efi then
# names the signed copy.
sign_stub() {
	local rootfs_entry=rootfs.tar= armed=$tmpdir/BOOTX64.armed.efi signed=$tmpdir/BOOTX64.EFI

	((rootfs_used)) && rootfs_entry=rootfs.tar=$tmpdir/rootfs.tar
	"$manifest_tool" "$efi" "$armed" kernel.elf="$kernel" app.elf="$app_file" \
		boot.cfg="$tmpdir/boot.cfg" "$rootfs_entry" >"$tmpdir/manifest.log" 2>&1 ||
		die "cannot write the stub's manifest: $(cat "$tmpdir/manifest.log")"
	if grep -q ENCRYPTED -- "$sign_key"; then
		# A passphrase-protected key: sbsign asks on the terminal.
		sbsign --key "$sign_key" --cert "$sign_cert" --output "$signed" "$armed" ||
			die "sbsign failed (see above)"
	else
		sbsign --key "$sign_key" --cert "$sign_cert" --output "$signed" "$armed" \
			>"$tmpdir/sbsign.log" 2>&1 </dev/null ||
			die "sbsign failed: $(grep -v '^warning: data remaining' "$tmpdir/sbsign.log")"
	fi
	sbverify --cert "$sign_cert" "$signed" >"$tmpdir/sbverify.log" 2>&1 ||
		die "the signed stub does not verify with $sign_cert (is it KEY's certificate?):" \
			"$(grep -v '^warning: data remaining' "$tmpdir/sbverify.log")"
	efi=$signed
	sign_note=", signed"
	if ((shim)); then
		openssl x509 -in "$sign_cert" -outform DER -out "$tmpdir/solo.cer" 2>"$tmpdir/openssl.log" ||
			die "cannot convert $sign_cert to DER: $(cat "$tmpdir/openssl.log")"
		sign_note=", signed, behind shim ($(paste -sd, "$shim_dir/VERSIONS"))"
	fi
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

	# solo.cer first: MokManager lists the root in directory order, and the
	# README tells the user to pick the first entry.
	((!shim)) || copy_to_esp "$tmpdir/solo.cer" ::/solo.cer
	mmd -i "$(esp)" ::/EFI ::/EFI/BOOT 2>"$tmpdir/mtools.log" ||
		die "mmd failed: $(cat "$tmpdir/mtools.log")"
	if ((shim)); then
		copy_to_esp "$shim_dir/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
		copy_to_esp "$shim_dir/mmx64.efi" ::/EFI/BOOT/mmx64.efi
		copy_to_esp "$efi" ::/EFI/BOOT/grubx64.efi
	else
		copy_to_esp "$efi" ::/EFI/BOOT/BOOTX64.EFI
	fi
	copy_to_esp "$kernel" ::/kernel.elf
	copy_to_esp "$app_file" ::/app.elf
	copy_to_esp "$tmpdir/boot.cfg" ::/boot.cfg
	if ((rootfs_used)); then
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

# The raw image in another format, next to OUT (renamed by main).
convert_image() {
	local outdir

	outdir=$(dirname -- "$out")
	tmpconv=$(mktemp "$outdir/.$(basename -- "$out").XXXXXX") ||
		die "cannot create a temporary file in $outdir"
	qemu-img convert -f raw -O "$format" -- "$tmpimg" "$tmpconv" >"$tmpdir/qemu-img.log" 2>&1 ||
		die "qemu-img convert to $format failed: $(cat "$tmpdir/qemu-img.log")"
	rm -f -- "$tmpimg"
	tmpimg=$tmpconv
	tmpconv=
}

main() {
	local need esp_mib fat need_mib rootfs_note='' tree_note=''

	parse_options "$@"
	check_inputs
	check_signing

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/solo-mkimg.XXXXXX")
	stage=$tmpdir/rootfs
	mkdir -p "$stage"
	stage_files
	check_app
	place_app
	case $app_kind in
	dynamic) closure "$app_path" "$app_file" ;;
	script) check_script ;;
	esac
	tree_closure
	add_ld_cache
	flush_added
	if ((added_files > 0)); then
		((tree_added == 0)) || tree_note=" ($tree_added of them for --file objects)"
		echo "$PROG: added $added_files file(s) for the loader and libraries$tree_note," \
			"$(human "$added_bytes") in all"
	fi
	write_boot_cfg
	local -a contents=("$efi" "$kernel" "$app_file" "$tmpdir/boot.cfg")
	if ((rootfs_used)); then
		make_rootfs
		contents+=("$tmpdir/rootfs.tar")
		rootfs_note=", rootfs $(human "$(file_size "$tmpdir/rootfs.tar")")"
	fi

	if [[ -n $sign_key ]]; then
		sign_stub
		contents[0]=$efi
		((!shim)) || contents+=("$shim_dir/shimx64.efi" "$shim_dir/mmx64.efi" "$tmpdir/solo.cer")
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
	[[ $format == raw ]] || convert_image
	# mktemp made it 0600; give it the mode a plain new file would get.
	chmod "$(printf '%o' $((0666 & ~$(umask))))" -- "$tmpimg"
	mv -f -- "$tmpimg" "$out" || die "cannot move the image to $out"
	tmpimg=

	fat=FAT32
	((esp_mib >= FAT32_MIN_ESP_MIB)) || fat=FAT12/16
	echo "$PROG: wrote $out ($format, $size_mib MiB, $fat ESP; app $(basename -- "$app") as '$name'," \
		"${#envs[@]} env, ${#files[@]} --file$rootfs_note$sign_note)"
}

main "$@"
