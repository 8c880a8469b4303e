#!/usr/bin/env bash
# Writes the fuzzers' seed corpora (Makefile: make fuzz, make test-fuzz):
#
#   tests/fuzz/seeds.sh BUILD OUT
#
# OUT/<target>/ gets the hand-written seeds of tests/fuzz/corpus/<target>/
# and what is made here from the build and the host's tools: the test apps
# and the kernel as ELF files (whole and cut short), archives written by
# tar, the args= lines of the corpus in fuzz_args' input format, and what
# BUILD/tools/fuzz-gen-seeds writes (minimal ELF files, ACPI tables,
# Ethernet frames).
set -euo pipefail
shopt -s nullglob

readonly PROG=seeds.sh
[[ $# -eq 2 ]] || { echo "usage: $PROG BUILD OUT" >&2; exit 2; }
build=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out"/{elf,exec,args,bootcfg,tarfs,acpi,net,usbdesc}
for d in "$here"/corpus/*/; do
	t=$(basename "$d")
	files=("$d"*)
	[[ ${#files[@]} -eq 0 ]] || cp "${files[@]}" "$out/$t/"
done
"$build/tools/fuzz-gen-seeds" "$out"

# ELF: apps as built (static, static PIE, dynamic with PT_INTERP), and cut
# inside the headers and inside the segments.
for app in hello hello-pie exec-auxv-musl; do
	f=$build/tests/apps/$app.elf
	cp "$f" "$out/elf/app-$app"
	for n in 63 64 120 500 4096; do
		head -c "$n" "$f" > "$out/elf/app-$app-cut$n"
	done
done
head -c 4096 "$build/kernel.elf" > "$out/elf/kernel-cut4096"

# exec: the first lines of the project's own scripts.
for s in "$here/seeds.sh" "$here/../../tools/mkimg.sh" "$here/../../tools/deps.sh"; do
	head -c 300 "$s" > "$out/exec/script-$(basename "$s")"
done

# args: fuzz_args reads a buffer size byte, a word limit byte, then the line.
i=0
while IFS= read -r line; do
	printf '\377\077%s' "$line" > "$out/args/line$i"
	printf '\020\003%s' "$line" > "$out/args/small$i"
	i=$((i + 1))
done < <(grep -h '^args=' "$here"/corpus/bootcfg/* | sed 's/^args=//')

# tarfs: ustar archives as mkimg writes them (and pax, whose headers tarfs
# skips): directories, files, a symlink, a hard link, an empty file.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/etc" "$tmp/root/usr/lib/deep/er"
printf 'root:x:0:0::/:/bin/sh\n' > "$tmp/root/etc/passwd"
printf 'hello\n' > "$tmp/root/usr/lib/deep/er/file"
: > "$tmp/root/empty"
ln -s ../etc/passwd "$tmp/root/usr/link"
ln "$tmp/root/etc/passwd" "$tmp/root/etc/hard"
chmod 0600 "$tmp/root/empty"
for format in ustar pax; do
	tar -b 1 --format=$format --owner=0 --group=0 --mtime=@1700000000 --sort=name \
		-C "$tmp/root" -cf "$out/tarfs/$format.tar" .
done
tar -b 1 --format=ustar --owner=0 --group=0 --mtime=@1700000000 -C "$tmp/root" \
	-cf "$out/tarfs/one-file.tar" etc/passwd
