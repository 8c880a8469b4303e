#!/usr/bin/env bash
# Stages host files for tests/boot/test_dynamic.c at their own paths under a
# directory that becomes the app's whole rootfs (mkimg --file DIR:/), with
# their timestamps (Python checks a .pyc against its source's mtime).
#
#   stage.sh closure DIR ELF...   each ELF, its interpreter and the libraries
#                                 ldd finds for it (glibc programs; a musl
#                                 program's only library is its loader)
#   stage.sh python DIR WORK ARGS...
#                                 what /usr/bin/python3 loads to run
#                                 WORK/script.py ARGS (a throw-away copy of
#                                 WORK is its cwd): the interpreter, the
#                                 modules' sources and .pyc caches, the
#                                 extension modules and their libraries
# Prints nothing on success.
set -euo pipefail

# put DIR FILE: FILE at its path. A symlink to a name in its own directory
# (python3 -> python3.11) stays one, with its target; any other is copied
# as the file it leads to (/lib64 and /lib lead into /usr/lib on Debian).
put() {
	local dir=$1 file=$2 link
	[[ -e $dir$file || -L $dir$file ]] && return 0
	mkdir -p "$dir$(dirname "$file")"
	link=$(readlink "$file" || true)
	if [[ -n $link && $link != */* ]]; then
		cp -P --preserve=mode,timestamps "$file" "$dir$file"
		put "$dir" "$(dirname "$file")/$link"
	else
		cp -L --preserve=mode,timestamps "$file" "$dir$file"
	fi
}

closure() { # closure DIR ELF...
	local dir=$1 elf lib
	shift
	for elf in "$@"; do
		put "$dir" "$elf"
		# "name => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)"
		while read -r lib; do
			put "$dir" "$lib"
		done < <(ldd "$elf" 2>/dev/null | sed -nE 's@^\s*(\S+ => )?(/\S+) \(0x.*@\2@p')
	done
}

case ${1:-} in
closure)
	[[ $# -ge 3 ]] || { echo "usage: stage.sh closure DIR ELF..." >&2; exit 2; }
	closure "${@:2}"
	;;
python)
	[[ $# -ge 3 ]] || { echo "usage: stage.sh python DIR WORK ARGS..." >&2; exit 2; }
	dir=$2 work=$3
	shift 3
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp -a "$work/." "$tmp/"
	# -v names each source with its cache ("# X.pyc matches X.py") and each
	# extension module ("... loaded from 'X.so'").
	(cd "$tmp" && /usr/bin/python3 -B -v script.py "$@" 2>"$tmp/.v" >/dev/null)
	closure "$dir" /usr/bin/python3
	put "$dir" /usr/bin/python3
	# The landmarks python3 finds its prefix by (os is frozen: never loaded
	# from os.py) and its exec prefix by.
	put "$dir" /usr/lib/python3.11/os.py
	mkdir -p "$dir/usr/lib/python3.11/lib-dynload"
	while read -r file; do
		put "$dir" "$file"
	done < <(sed -nE -e 's@^# (/\S+\.pyc) matches (/\S+\.py)$@\1\n\2@p' \
		-e "s@^# extension module '[^']*' loaded from '(/[^']+)'\$@\1@p" "$tmp/.v")
	closure "$dir" $(sed -nE "s@^# extension module '[^']*' loaded from '(/[^']+)'\$@\1@p" "$tmp/.v")
	;;
*)
	echo "usage: stage.sh closure|python DIR ..." >&2
	exit 2
	;;
esac
