#!/usr/bin/env bash
# Stages host files for tests/boot/test_dynamic.c at their own paths under a
# directory that becomes the app's whole rootfs (mkimg --file DIR:/), with
# their timestamps (Python checks a .pyc against its source's mtime).
#
#   stage.sh python DIR WORK ARGS...
#                                 what /usr/bin/python3 loads to run
#                                 WORK/script.py ARGS (a throw-away copy of
#                                 WORK is its cwd): the interpreter, the
#                                 modules' sources and .pyc caches and the
#                                 extension modules. Not their libraries, nor
#                                 python3's: mkimg adds the closure of every
#                                 ELF object in the tree (tools/mkimg.sh).
# Prints nothing on success.
set -euo pipefail

# put DIR FILE: FILE at its path. A symlink to a name in its own directory
# (python3 -> python3.11) stays one, with its target; any other is copied
# as the file it leads to.
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

case ${1:-} in
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
	put "$dir" /usr/bin/python3
	# The landmarks python3 finds its prefix by (os is frozen: never loaded
	# from os.py) and its exec prefix by.
	put "$dir" /usr/lib/python3.11/os.py
	mkdir -p "$dir/usr/lib/python3.11/lib-dynload"
	while read -r file; do
		put "$dir" "$file"
	done < <(sed -nE -e 's@^# (/\S+\.pyc) matches (/\S+\.py)$@\1\n\2@p' \
		-e "s@^# extension module '[^']*' loaded from '(/[^']+)'\$@\1@p" "$tmp/.v")
	;;
*)
	echo "usage: stage.sh python DIR WORK ARGS..." >&2
	exit 2
	;;
esac
